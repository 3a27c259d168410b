/*
 * The client against a real broker: Debian's Mosquitto with TLS and required
 * client certificates, and mosquitto_pub / mosquitto_sub as independent peers.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MqttClient, type MqttClientOptions } from "../modules/mqtt/client.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import type { SocketFactory } from "../modules/platform/socket.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { mosquittoPub, mosquittoSub, startMosquitto, stopTools, type Mosquitto } from "../tools/lib/mosquitto.js";
import { createPki, type Pki } from "../tools/lib/pki.js";
import { Recorder } from "./support/recorder.js";
import { until } from "./support/until.js";

let pki: Pki;
let broker: Mosquitto;

before(async () => {
	pki = createPki();
	pki.client("device", "nrf-352656100441776");
	pki.client("peer", "peer-tool");
	pki.client("rogue", "nrf-352656100441776", "rogue-ca");
	broker = await startMosquitto(pki, "clientid_prefixes nrf-");
});

after(async () => {
	stopTools();
	await broker?.stop();
	pki?.remove();
});

function tlsSocket(client = "device", options: { ca?: string; servername?: string; noCert?: boolean } = {}): SocketFactory {
	return nodeSocket({
		host: "127.0.0.1",
		port: broker.port,
		tls: {
			ca: pki.read(options.ca ?? "ca.pem"),
			cert: options.noCert ? undefined : pki.read(`${client}.pem`),
			key: options.noCert ? undefined : pki.read(`${client}.key`),
			servername: options.servername ?? "localhost",
		},
	});
}

function device(options: Partial<MqttClientOptions> = {}) {
	const recorder = new Recorder();
	const client = new MqttClient({ clientId: "nrf-352656100441776", keepalive: 60, ...recorder.callbacks(), ...options });
	return { client, recorder };
}

function expectError(error: MqttError | undefined, code: string, pattern?: RegExp): void {
	assert.ok(error instanceof MqttError, `expected an MqttError, got ${String(error)}`);
	assert.equal(error.code, code, error.message);
	if (pattern) assert.match(error.message, pattern);
}

test("connect with mutual TLS, subscribe, and QoS 0 and 1 in both directions", async () => {
	const { client, recorder } = device();
	client.connect(tlsSocket());
	assert.deepEqual((await recorder.wait("connect")).map((e) => e.sessionPresent), [false]);
	const id = client.subscribe([{ topic: "nrf-352656100441776/in/+", qos: 1 }, { topic: "nrf-352656100441776/none", qos: 0 }]);
	const [suback] = await recorder.wait("subscribe");
	assert.equal(suback!.packetId, id);
	assert.deepEqual(suback!.returnCodes, [1, 0]);

	const subscriber = await mosquittoSub(pki, broker.port, "peer", ["-q", "1", "-t", "nrf-352656100441776/out", "-C", "2"]);
	client.publish("nrf-352656100441776/out", "zero", { qos: 0 });
	const packetId = client.publish("nrf-352656100441776/out", "one: ünïcode", { qos: 1, packetId: 5678 });
	assert.equal(packetId, 5678);
	assert.deepEqual((await recorder.wait("publish")).map((e) => e.packetId), [5678]);
	assert.deepEqual(await subscriber.wait(2), ["nrf-352656100441776/out zero", "nrf-352656100441776/out one: ünïcode"]);
	subscriber.stop();

	await mosquittoPub(pki, broker.port, "peer", ["-q", "0", "-t", "nrf-352656100441776/in/a", "-m", "from peer q0"]);
	await mosquittoPub(pki, broker.port, "peer", ["-q", "1", "-t", "nrf-352656100441776/in/b", "-m", "from peer q1"]);
	const messages = await recorder.wait("message", 2);
	assert.deepEqual(messages.map((m) => [m.message.topic, m.message.qos, m.payload]), [
		["nrf-352656100441776/in/a", 0, "from peer q0"],
		["nrf-352656100441776/in/b", 1, "from peer q1"],
	]);

	client.unsubscribe(["nrf-352656100441776/in/+"], 8765);
	assert.deepEqual((await recorder.wait("unsubscribe")).map((e) => e.packetId), [8765]);
	client.disconnect();
	const [closed] = await recorder.wait("close");
	assert.equal(closed!.error, undefined);
});

test("keepalive: PINGREQ every interval, answered by the broker", async () => {
	let pings = 0;
	const base = tlsSocket();
	const counting: SocketFactory = (callbacks) => {
		const socket = base(callbacks);
		return { read: (n) => socket.read(n), close: () => socket.close(), write: (d) => { if (d[0] === 0xC0) pings++; return socket.write(d); } };
	};
	const { client, recorder } = device({ keepalive: 1, pingTimeout: 800 });
	client.connect(counting);
	await recorder.wait("connect");
	// The third PINGREQ goes out a second after the second, past the second's 800 ms answer deadline:
	// by then a missing PINGRESP would have closed the connection.
	await until(() => pings >= 3 || recorder.of("close").length > 0, { what: "the third PINGREQ", timeout: 6000, detail: () => `${pings} sent` });
	assert.equal(recorder.of("close").length, 0, "the broker answered every PINGREQ in time");
	assert.ok(pings >= 3, `${pings} PINGREQ sent`);
	assert.equal(client.connected, true);
	client.disconnect();
	await recorder.wait("close");
});

test("a broker-side disconnect is reported (session taken over by the same client id)", async () => {
	const first = device();
	first.client.connect(tlsSocket());
	await first.recorder.wait("connect");
	const second = device();
	second.client.connect(tlsSocket());
	await second.recorder.wait("connect");
	const [closed] = await first.recorder.wait("close");
	expectError(closed!.error, MqttErrorCode.CONNECTION_CLOSED);
	second.client.disconnect();
	await second.recorder.wait("close");
});

test("a persistent session delivers QoS 1 messages published while the client was away", async () => {
	const session = device({ clean: false });
	session.client.connect(tlsSocket());
	await session.recorder.wait("connect");
	session.client.subscribe([{ topic: "nrf-352656100441776/c2d", qos: 1 }], 8765);
	await session.recorder.wait("subscribe");
	session.client.disconnect();
	await session.recorder.wait("close");

	await mosquittoPub(pki, broker.port, "peer", ["-q", "1", "-t", "nrf-352656100441776/c2d", "-m", "while away 1"]);
	await mosquittoPub(pki, broker.port, "peer", ["-q", "1", "-t", "nrf-352656100441776/c2d", "-m", "while away 2"]);

	session.client.connect(tlsSocket());
	const connects = await session.recorder.wait("connect", 2);
	assert.deepEqual(connects.map((e) => e.sessionPresent), [false, true]);
	const messages = await session.recorder.wait("message", 2);
	assert.deepEqual(messages.map((m) => [m.message.qos, m.payload]), [[1, "while away 1"], [1, "while away 2"]]);
	session.client.disconnect();
	await session.recorder.wait("close", 2);
	// leave no stored session behind
	const cleanup = device({ clean: true });
	cleanup.client.connect(tlsSocket());
	await cleanup.recorder.wait("connect");
	cleanup.client.disconnect();
	await cleanup.recorder.wait("close");
});

test("a certificate from an untrusted CA is refused with a clear error", async () => {
	const { client, recorder } = device();
	client.connect(tlsSocket("rogue"));
	const [closed] = await recorder.wait("close");
	expectError(closed!.error, MqttErrorCode.TRANSPORT_ERROR, /alert|certificate|ca/i);
	assert.equal(recorder.of("connect").length, 0);
});

test("no client certificate is refused", async () => {
	const { client, recorder } = device();
	client.connect(tlsSocket("device", { noCert: true }));
	const [closed] = await recorder.wait("close");
	assert.ok(closed!.error instanceof MqttError);
	assert.ok(([MqttErrorCode.TRANSPORT_ERROR, MqttErrorCode.CONNECTION_CLOSED] as string[]).includes(closed!.error.code), closed!.error.message);
	assert.equal(recorder.of("connect").length, 0);
});

test("the server certificate is verified against the CA and the SNI name", async () => {
	const untrusted = device();
	untrusted.client.connect(tlsSocket("device", { ca: "rogue-ca.pem" }));
	expectError((await untrusted.recorder.wait("close"))[0]!.error, MqttErrorCode.TRANSPORT_ERROR, /certificate|verify/i);
	const wrongName = device();
	wrongName.client.connect(tlsSocket("device", { servername: "mqtt.example.com" }));
	expectError((await wrongName.recorder.wait("close"))[0]!.error, MqttErrorCode.TRANSPORT_ERROR, /mqtt\.example\.com|altnames|host/i);
});

test("the broker refusing a client id arrives as CONNECTION_REFUSED with its return code", async () => {
	const { client, recorder } = device({ clientId: "other-device" });
	client.connect(tlsSocket());
	const [closed] = await recorder.wait("close");
	expectError(closed!.error, MqttErrorCode.CONNECTION_REFUSED);
	assert.ok(closed!.error!.returnCode === 2 || closed!.error!.returnCode === 5, `return code ${closed!.error!.returnCode}`);
});
