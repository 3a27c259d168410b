/*
 * Inside XS: credentials stored in the emulated modem with AT%CMNG, then the
 * MQTT client over the native TLS socket to Mosquitto (mutual TLS, SNI,
 * verification), with the TypeScript and the C codec, and the socket's TLS
 * session resumption (Mosquitto's OpenSSL issues session tickets).
 */

import { MqttClient, type Codec } from "../../modules/mqtt/client.js";
import { MqttError } from "../../modules/mqtt/errors.js";
import { nativeCodec } from "../../modules/mqtt/native-codec.js";
import type { PublishPacket } from "../../modules/mqtt/packet.js";
import { CredentialType, at, writeCredential } from "../../modules/modem/at.js";
import { Errno } from "../../modules/platform/errno.js";
import { SocketError } from "../../modules/platform/socket.js";
import { TcpSocket, tcpSocket } from "../../modules/socket/tcp.js";
import { until } from "../support/until.js";
import { fixture } from "./generated/tls-fixture.js";
import { assert, run, test } from "./harness.js";

const TAG = 16842753;
const ROGUE_TAG = 1001;
const WRONG_CA_TAG = 1002;
const CA_ONLY_TAG = 1003;

function provision(tag: number, ca: string, cert?: string, key?: string): void {
	writeCredential(tag, CredentialType.CA_CERTIFICATE, ca);
	if (cert) writeCredential(tag, CredentialType.CLIENT_CERTIFICATE, cert);
	if (key) writeCredential(tag, CredentialType.PRIVATE_KEY, key);
}

test("credentials go into the modem's security tags with AT%CMNG", () => {
	at("AT+CFUN=4");
	provision(TAG, fixture.ca, fixture.cert, fixture.key);
	provision(ROGUE_TAG, fixture.ca, fixture.rogueCert, fixture.rogueKey);
	provision(WRONG_CA_TAG, fixture.rogueCa, fixture.cert, fixture.key);
	provision(CA_ONLY_TAG, fixture.ca);
	at("AT+CFUN=1");
	assert.equal(at(`AT%CMNG=1,${TAG}`).length, 3);
});

interface Session {
	client: MqttClient;
	closed: Promise<MqttError | undefined>;
	connected: Promise<boolean>;
	messages: PublishPacket[];
	acks: number[];
}

function session(tag: number, codec?: Codec, hostname = "localhost"): Session {
	let resolveClosed!: (e: MqttError | undefined) => void;
	let resolveConnected!: (present: boolean) => void;
	const messages: PublishPacket[] = [];
	const acks: number[] = [];
	const closed = new Promise<MqttError | undefined>((resolve) => { resolveClosed = resolve; });
	const connected = new Promise<boolean>((resolve) => { resolveConnected = resolve; });
	const client = new MqttClient({
		clientId: fixture.deviceId, keepalive: 30, codec,
		onConnect: (present) => resolveConnected(present),
		onMessage: (message) => { messages.push(message); },
		onPublish: (id) => { acks.push(id); },
		onClose: (error) => resolveClosed(error),
	});
	client.connect(tcpSocket({ address: "127.0.0.1", hostname, port: fixture.port, secTag: tag }));
	return { client, closed, connected, messages, acks };
}

for (const [name, codec] of [["TypeScript", undefined], ["C", nativeCodec]] as const) {
	test(`MQTT over TLS with the ${name} codec: connect, subscribe, QoS 0 and 1 round trip, disconnect`, async () => {
		const s = session(TAG, codec);
		assert.equal(await Promise.race([s.connected, s.closed.then((e) => { throw e ?? new Error("closed"); })]), false);
		const topic = `${fixture.deviceId}/loop/${name}`;
		s.client.subscribe([{ topic, qos: 1 }]);
		s.client.publish(topic, "qos0 from XS");
		const id = s.client.publish(topic, new Uint8Array(3000).fill(0x5A), { qos: 1, packetId: 7890 });
		await until(() => s.messages.length === 2 && s.acks.length === 1, { what: "two messages and a PUBACK", detail: () => `${s.messages.length} messages, PUBACKs ${s.acks.join(",")}` });
		assert.equal(id, 7890);
		assert.deepEqual(s.acks, [7890]);
		const texts = s.messages.map((m) => m.payload.length);
		assert.deepEqual(texts, [12, 3000]);
		assert.equal(s.messages[1]!.qos, 1);
		s.client.disconnect();
		assert.equal(await s.closed, undefined);
	});
}

/** The errno of the socket failure behind a transport error. */
function socketErrno(error: MqttError | undefined): number | undefined {
	return error?.cause instanceof SocketError ? error.cause.errno : undefined;
}

test("a client certificate from an untrusted CA is refused by the broker in the handshake", async () => {
	const s = session(ROGUE_TAG);
	const error = await s.closed;
	assert.ok(error instanceof MqttError, String(error));
	assert.equal(error!.code, "TRANSPORT_ERROR", error!.message);
	assert.equal(socketErrno(error), Errno.ECONNREFUSED, error!.message);
});

test("the server certificate is verified against the tag's CA and the SNI name", async () => {
	const wrongCa = await session(WRONG_CA_TAG).closed;
	assert.equal(wrongCa?.code, "TRANSPORT_ERROR");
	assert.equal(socketErrno(wrongCa), Errno.EOPNOTSUPP, wrongCa!.message);
	const wrongName = await session(TAG, undefined, "mqtt.example.com").closed;
	assert.equal(wrongName?.code, "TRANSPORT_ERROR");
	assert.equal(socketErrno(wrongName), Errno.EOPNOTSUPP, wrongName!.message);
});

test("a tag without a client certificate connects TLS but the broker refuses it", async () => {
	const error = await session(CA_ONLY_TAG).closed;
	assert.ok(error instanceof MqttError);
});

test("bad arguments throw synchronously; a refused TCP connection reports through onError", async () => {
	const noop = { onReadable() {}, onWritable() {}, onError() {} };
	assert.throws(() => new TcpSocket({ port: 1 } as never, noop), (e) => e instanceof TypeError);
	assert.throws(() => new TcpSocket({ host: "127.0.0.1", port: 0 }, noop), (e) => e instanceof RangeError);
	assert.throws(() => new TcpSocket({ host: "127.0.0.1", port: 1 }, {} as never), (e) => e instanceof TypeError);
	// Opening failures are SocketErrors with the errno the modem would give.
	assert.throws(() => new TcpSocket({ host: "127.0.0.1", port: 80, secTag: 777 }, noop), (e) => e instanceof SocketError && e.errno === Errno.EOPNOTSUPP);
	assert.throws(() => new TcpSocket({ host: "no-such-host.invalid", port: 80 }, noop), (e) => e instanceof SocketError && e.errno === Errno.EHOSTUNREACH);
	const failure = await new Promise<SocketError | undefined>((resolve) => {
		const socket = new TcpSocket({ host: "127.0.0.1", port: fixture.closedPort }, { onReadable() {}, onWritable() {}, onError: resolve });
		void socket;
	});
	assert.ok(failure instanceof SocketError, String(failure));
	assert.equal(failure!.errno, Errno.ECONNREFUSED, failure!.message);
	const socket = new TcpSocket({ host: "127.0.0.1", port: fixture.closedPort }, noop);
	socket.close();
	socket.close();
	assert.throws(() => socket.write(new Uint8Array(1)), (e) => /closed/.test(String(e)));
});

/** Opens a TLS connection with `tag` and closes it once it is up; whether its handshake resumed a session. */
function handshakeResumed(tag: number): Promise<boolean | undefined> {
	return new Promise((resolve, reject) => {
		const socket: TcpSocket = new TcpSocket({ address: "127.0.0.1", hostname: "localhost", port: fixture.port, secTag: tag }, {
			onReadable() {},
			onWritable() {
				const resumed = socket.resumed;
				socket.close();
				resolve(resumed);
			},
			onError: (error) => reject(error ?? new Error("closed")),
		});
		assert.equal(socket.resumed, false, "nothing is resumed before the handshake");
	});
}

test("TLS sessions: a connection resumes the tag's last session; after the tag's credentials are written it is not offered", async () => {
	// The MQTT tests above connected with TAG: their session is kept.
	assert.equal(await handshakeResumed(TAG), true);
	assert.equal(await handshakeResumed(TAG), true);
	// The same CA in other bytes: other credentials to the socket, which then offers nothing.
	at("AT+CFUN=4");
	writeCredential(TAG, CredentialType.CA_CERTIFICATE, fixture.ca + "\n");
	at("AT+CFUN=1");
	assert.equal(await handshakeResumed(TAG), false);
	assert.equal(await handshakeResumed(TAG), true);
	// A plain TCP socket resumes nothing.
	const plain = await new Promise<boolean | undefined>((resolve, reject) => {
		const socket: TcpSocket = new TcpSocket({ host: "127.0.0.1", port: fixture.port }, {
			onReadable() {},
			onWritable() { const resumed = socket.resumed; socket.close(); resolve(resumed); },
			onError: (error) => reject(error ?? new Error("closed")),
		});
	});
	assert.equal(plain, false);
});

await run("tls");
