/*
 * Session behaviour against a scripted peer: what a real broker cannot be made
 * to do on demand (refusals with each return code, withheld acknowledgements,
 * silence after PINGREQ, oversized or malformed frames, dropped connections).
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ClientState, MqttClient, type MqttClientOptions } from "../modules/mqtt/client.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import { PacketType, type PublishPacket, type SubscribePacket } from "../modules/mqtt/packet.js";
import type { SocketCallbacks, SocketFactory, StreamSocket } from "../modules/platform/socket.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { Recorder } from "./support/recorder.js";
import { fakeSockets } from "./support/fake-socket.js";
import { VirtualClock } from "./support/virtual-clock.js";
import { ScriptedBroker } from "./support/scripted-broker.js";

let broker: ScriptedBroker;
before(async () => { broker = await ScriptedBroker.start(); });
after(async () => { await broker.stop(); });

function setup(options: Partial<MqttClientOptions> = {}) {
	const recorder = new Recorder();
	const client = new MqttClient({ clientId: "nrf-test", keepalive: 0, ...recorder.callbacks(), ...options });
	const open = nodeSocket({ host: "127.0.0.1", port: broker.port });
	return { recorder, client, open };
}

async function connected(options: Partial<MqttClientOptions> = {}, sessionPresent = false) {
	const s = setup(options);
	const index = broker.connections.length;
	s.client.connect(s.open);
	const peer = await broker.connection(index);
	const connect = await peer.packet(0);
	assert.equal(connect.type, 1);
	peer.send({ type: 2, sessionPresent, returnCode: 0 });
	await s.recorder.wait("connect");
	return { ...s, peer };
}

function isCode(code: string, returnCode?: number) {
	return (e: unknown) => e instanceof MqttError && e.code === code && (returnCode === undefined || e.returnCode === returnCode);
}

test("CONNECT carries the options; CONNACK return codes 1 to 5 are typed errors", async () => {
	for (let returnCode = 1; returnCode <= 5; returnCode++) {
		const s = setup({ keepalive: 1200, clean: false, username: "user", password: "secret" });
		const index = broker.connections.length;
		s.client.connect(s.open);
		const peer = await broker.connection(index);
		const connect = await peer.packet(0);
		assert.deepEqual({ ...connect, password: Buffer.from((connect as { password: Uint8Array }).password).toString() }, {
			type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "nrf-test", keepalive: 1200, clean: false, username: "user", password: "secret",
		});
		peer.send({ type: 2, sessionPresent: false, returnCode });
		const [closed] = await s.recorder.wait("close");
		assert.ok(isCode(MqttErrorCode.CONNECTION_REFUSED, returnCode)(closed!.error), String(closed!.error));
		assert.equal(s.recorder.of("connect").length, 0);
		assert.equal(s.client.state, ClientState.CLOSED);
		await peer.closedByClient();
	}
});

test("packets queued before CONNACK are sent right after CONNECT", async () => {
	const s = setup();
	const index = broker.connections.length;
	s.client.connect(s.open);
	const id = s.client.subscribe([{ topic: "a/b", qos: 1 }, { topic: "c/#", qos: 0 }], 1234);
	s.client.publish("a/b", "early", { qos: 1, packetId: 5678 });
	assert.equal(id, 1234);
	const peer = await broker.connection(index);
	const subscribe = await peer.packet(1) as SubscribePacket;
	assert.equal(subscribe.type, 8);
	assert.equal(subscribe.packetId, 1234);
	const publish = await peer.packet(2) as PublishPacket;
	assert.equal(publish.packetId, 5678);
	assert.equal(s.recorder.of("connect").length, 0, "nothing was acknowledged yet");
	peer.send({ type: 2, sessionPresent: false, returnCode: 0 });
	peer.send({ type: 9, packetId: 1234, returnCodes: [1, 0x80] });
	peer.send({ type: 4, packetId: 5678 });
	const [suback] = await s.recorder.wait("subscribe");
	assert.deepEqual(suback!.returnCodes, [1, 0x80], "a refused filter is reported per filter");
	await s.recorder.wait("publish");
	s.client.close();
});

test("packet ids: caller-chosen ids, no reuse while in flight, a bounded window", async () => {
	const { client, peer, recorder } = await connected({ maxInflight: 3 });
	assert.equal(client.publish("t", "a", { qos: 1, packetId: 1 }), 1);
	assert.throws(() => client.publish("t", "b", { qos: 1, packetId: 1 }), isCode(MqttErrorCode.PACKET_ID_IN_USE));
	assert.throws(() => client.subscribe([{ topic: "x", qos: 0 }], 1), isCode(MqttErrorCode.PACKET_ID_IN_USE));
	assert.equal(client.publish("t", "c", { qos: 1 }), 2, "allocation skips the id in flight");
	assert.equal(client.publish("t", "d", { qos: 1 }), 3);
	assert.throws(() => client.publish("t", "e", { qos: 1 }), isCode(MqttErrorCode.INFLIGHT_FULL));
	assert.equal(client.inflight, 3);
	assert.equal(client.publish("t", "qos0"), 0, "QoS 0 does not use the window");
	peer.send({ type: 4, packetId: 2 });
	await recorder.wait("publish");
	assert.equal(client.publish("t", "f", { qos: 1 }), 4);
	assert.throws(() => client.publish("t", "g", { qos: 1, packetId: 0 }), isCode(MqttErrorCode.INVALID_PACKET_ID));
	assert.throws(() => client.publish("t", "g", { qos: 2 as 1 }), isCode(MqttErrorCode.INVALID_QOS));
	assert.throws(() => client.publish("a/+", "g"), isCode(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => client.subscribe([{ topic: "a", qos: 2 as 1 }]), isCode(MqttErrorCode.INVALID_QOS));
	assert.throws(() => client.subscribe([]), TypeError);
	assert.throws(() => client.publish("t", 42 as unknown as string), TypeError);
	client.close();
	client.close();
	assert.throws(() => client.publish("t", "x"), isCode(MqttErrorCode.NOT_CONNECTED));
});

test("inbound QoS 1 is acknowledged after the message is handed over", async () => {
	const writes: number[] = [];
	let handedOver = -1;
	const recorder = new Recorder();
	const base = nodeSocket({ host: "127.0.0.1", port: broker.port });
	const logging: SocketFactory = (callbacks) => {
		const socket = base(callbacks);
		return { read: (n) => socket.read(n), close: () => socket.close(), write: (data) => { writes.push(data[0]! >> 4); return socket.write(data); } };
	};
	const callbacks = recorder.callbacks();
	const client = new MqttClient({
		clientId: "ack-order", keepalive: 0, ...callbacks,
		onMessage: (message) => { handedOver = writes.filter((t) => t === 4).length; callbacks.onMessage!(message); },
	});
	const index = broker.connections.length;
	client.connect(logging);
	const peer = await broker.connection(index);
	await peer.packet(0);
	peer.send({ type: 2, sessionPresent: false, returnCode: 0 });
	peer.send({ type: 3, topic: "c2d", payload: new Uint8Array([104, 105]), qos: 1, retain: false, dup: false, packetId: 77 });
	peer.send({ type: 3, topic: "c2d", payload: new Uint8Array([48]), qos: 0, retain: false, dup: false, packetId: 0 });
	const messages = await recorder.wait("message", 2);
	assert.equal(handedOver >= 0, true);
	assert.deepEqual(messages.map((m) => [m.message.qos, m.payload]), [[1, "hi"], [0, "0"]]);
	const puback = await peer.packet(1);
	assert.deepEqual(puback, { type: 4, packetId: 77 });
	assert.equal(writes.filter((t) => t === 4).length, 1, "one PUBACK, for the QoS 1 message only");
	client.close();
});

/** A client on a fake socket and a virtual clock, CONNACK received. */
function onVirtualClock(options: Partial<MqttClientOptions> = {}) {
	const clock = new VirtualClock();
	const recorder = new Recorder();
	const sockets = fakeSockets();
	const client = new MqttClient({ clientId: "clocked", keepalive: 0, ...recorder.callbacks(), ...options, clock });
	client.connect(sockets.factory);
	const socket = sockets.last();
	socket.open();
	return { clock, recorder, client, socket };
}

test("keepalive sends PINGREQ after the keepalive interval of silence; a missing PINGRESP closes the connection", () => {
	const { clock, recorder, client, socket } = onVirtualClock({ keepalive: 60, pingTimeout: 5000 });
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	assert.equal(recorder.of("connect").length, 1);
	const pings = () => socket.sent.filter((p) => p.type === PacketType.PINGREQ).length;
	clock.advance(59_999);
	assert.equal(pings(), 0, "nothing before the interval is up");
	clock.advance(1);
	assert.equal(pings(), 1, "PINGREQ at 60 s");
	clock.advance(4_000);
	socket.receive({ type: PacketType.PINGRESP });
	clock.advance(55_999);
	assert.equal(pings(), 1, "the next one counts from the last packet sent");
	clock.advance(1);
	assert.equal(pings(), 2);
	clock.advance(4_999);
	assert.equal(client.state, ClientState.CONNECTED, "the ping timeout has not run out");
	clock.advance(1);
	const [closed] = recorder.of("close");
	assert.ok(isCode(MqttErrorCode.KEEPALIVE_TIMEOUT)(closed!.error), String(closed?.error));
	assert.equal(client.state, ClientState.CLOSED);
	assert.equal(socket.closed, true);
	assert.equal(clock.pending, 0, "no timer is left behind");
});

test("a publish resets the keepalive interval; keepalive 0 never pings", () => {
	const a = onVirtualClock({ keepalive: 10 });
	a.socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	a.clock.advance(9_000);
	a.client.publish("t", "x", { qos: 0 });
	a.clock.advance(9_999);
	assert.equal(a.socket.sent.filter((p) => p.type === PacketType.PINGREQ).length, 0);
	a.clock.advance(1);
	assert.equal(a.socket.sent.filter((p) => p.type === PacketType.PINGREQ).length, 1);
	a.client.close();
	const b = onVirtualClock({ keepalive: 0 });
	b.socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	b.clock.advance(24 * 3600_000);
	assert.equal(b.socket.sent.filter((p) => p.type === PacketType.PINGREQ).length, 0);
	assert.equal(b.client.state, ClientState.CONNECTED);
	b.client.close();
});

test("an incoming packet over the size limit closes the connection with a clear error", async () => {
	const { recorder, peer } = await connected({ maxPacketSize: 2048 });
	peer.send({ type: 3, topic: "big", payload: new Uint8Array(4096), qos: 0, retain: false, dup: false, packetId: 0 });
	const [closed] = await recorder.wait("close");
	assert.ok(isCode(MqttErrorCode.PACKET_TOO_LARGE)(closed!.error));
	assert.match(closed!.error!.message, /exceeds the limit of 2048/);
	await peer.closedByClient();
});

test("malformed and unexpected packets from the server close the connection", async () => {
	const a = await connected();
	a.peer.sendRaw(new Uint8Array([0x40, 0x02, 0x00, 0x00]));
	assert.ok(isCode(MqttErrorCode.INVALID_PACKET_ID)((await a.recorder.wait("close"))[0]!.error));
	const b = await connected();
	b.peer.send({ type: 8, packetId: 3, subscriptions: [{ topic: "x", qos: 0 }] });
	assert.ok(isCode(MqttErrorCode.PROTOCOL_VIOLATION)((await b.recorder.wait("close"))[0]!.error));
	const c = await connected();
	c.peer.send({ type: 3, topic: "x", payload: new Uint8Array(0), qos: 2, retain: false, dup: false, packetId: 9 });
	assert.ok(isCode(MqttErrorCode.PROTOCOL_VIOLATION)((await c.recorder.wait("close"))[0]!.error));
	const d = setup();
	const index = broker.connections.length;
	d.client.connect(d.open);
	const peer = await broker.connection(index);
	await peer.packet(0);
	peer.send({ type: 13 });
	assert.ok(isCode(MqttErrorCode.PROTOCOL_VIOLATION)((await d.recorder.wait("close"))[0]!.error), "the first packet must be CONNACK");
});

test("no CONNACK within the connect timeout closes the connection, not a millisecond earlier", () => {
	const { clock, recorder, client, socket } = onVirtualClock({ connectTimeout: 30_000 });
	assert.equal(socket.sent[0]?.type, PacketType.CONNECT);
	clock.advance(29_999);
	assert.equal(recorder.of("close").length, 0);
	assert.equal(client.state, ClientState.AWAITING_CONNACK);
	clock.advance(1);
	const [closed] = recorder.of("close");
	assert.ok(isCode(MqttErrorCode.CONNECT_TIMEOUT)(closed!.error), String(closed?.error));
	assert.equal(socket.closed, true);
});

test("a bad clock is refused when the client is made", () => {
	assert.throws(() => new MqttClient({ clientId: "c", clock: { now: () => 0 } as never }), TypeError);
});

test("payloads and passwords are binary: U+0000 passes in them, never in topics or the client id", () => {
	const { client, socket } = onVirtualClock({ username: "u", password: "pa\u0000ss" });
	const connect = socket.sent[0] as { password?: Uint8Array };
	assert.deepEqual([...connect.password!], [0x70, 0x61, 0x00, 0x73, 0x73]);
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	client.publish("t", "a\u0000b", { qos: 0 });
	const publish = socket.sent.at(-1) as PublishPacket;
	assert.equal(publish.type, PacketType.PUBLISH);
	assert.deepEqual([...publish.payload], [0x61, 0x00, 0x62]);
	assert.throws(() => client.publish("t\u0000", "x", { qos: 0 }), isCode(MqttErrorCode.INVALID_UTF8));
	assert.throws(() => client.publish("t", "\uD800", { qos: 0 }), isCode(MqttErrorCode.INVALID_UTF8), "a lone surrogate is not UTF-8 anywhere");
	assert.throws(() => new MqttClient({ clientId: "a\u0000b" }), isCode(MqttErrorCode.INVALID_UTF8));
	client.close();
});

test("the allocator skips reserved ids but a reserved id can be asked for by number", () => {
	const reserved = new Set([1, 2, 3, 5]);
	const { client, socket } = onVirtualClock({ reservedPacketIds: (id) => reserved.has(id) });
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	const ids = [client.publish("t", "a", { qos: 1 }), client.subscribe([{ topic: "s", qos: 1 }]), client.publish("t", "b", { qos: 1 })];
	assert.deepEqual(ids, [4, 6, 7]);
	assert.equal(client.publish("t", "c", { qos: 1, packetId: 2 }), 2);
	assert.throws(() => new MqttClient({ clientId: "c", reservedPacketIds: 5 as never }), TypeError);
	client.close();
});

test("the peer closing is reported; disconnect() sends DISCONNECT and reports a clean close", async () => {
	const a = await connected();
	a.peer.close();
	const [closed] = await a.recorder.wait("close");
	assert.ok(isCode(MqttErrorCode.CONNECTION_CLOSED)(closed!.error));
	const b = await connected();
	b.client.disconnect();
	b.client.disconnect();
	assert.deepEqual(await b.peer.packet(1), { type: 14 });
	const [done] = await b.recorder.wait("close");
	assert.equal(done!.error, undefined);
	await b.peer.closedByClient();
	assert.throws(() => b.client.subscribe([{ topic: "x", qos: 0 }]), isCode(MqttErrorCode.NOT_CONNECTED));
});

test("a persistent session resends unacknowledged QoS 1 publishes with DUP, in order", async () => {
	const first = await connected({ clean: false, clientId: "persist" });
	for (const id of [30, 10, 20]) first.client.publish("d2c", `m${id}`, { qos: 1, packetId: id });
	for (let i = 1; i <= 3; i++) await first.peer.packet(i);
	first.peer.send({ type: 4, packetId: 10 });
	await first.recorder.wait("publish");
	first.peer.close();
	await first.recorder.wait("close");
	assert.equal(first.client.inflight, 2);

	const index = broker.connections.length;
	first.client.connect(nodeSocket({ host: "127.0.0.1", port: broker.port }));
	const peer = await broker.connection(index);
	assert.equal((await peer.packet(0)).type, 1);
	const resent = [await peer.packet(1), await peer.packet(2)] as PublishPacket[];
	assert.deepEqual(resent.map((p) => [p.packetId, p.dup, Buffer.from(p.payload).toString()]), [[30, true, "m30"], [20, true, "m20"]]);
	peer.send({ type: 2, sessionPresent: true, returnCode: 0 });
	peer.send({ type: 4, packetId: 30 });
	peer.send({ type: 4, packetId: 20 });
	await first.recorder.wait("publish", 3);
	assert.deepEqual(first.recorder.of("connect").map((e) => e.sessionPresent), [false, true]);
	assert.equal(first.client.inflight, 0);
	first.client.close();
});

test("a clean session discards unacknowledged publishes and says so", async () => {
	const first = await connected({ clean: true, clientId: "clean" });
	first.client.publish("d2c", "lost", { qos: 1, packetId: 99 });
	await first.peer.packet(1);
	first.client.close();
	first.client.connect(nodeSocket({ host: "127.0.0.1", port: broker.port }));
	assert.deepEqual(first.recorder.of("discard").map((e) => e.packetId), [99]);
	assert.equal(first.client.inflight, 0);
	first.client.close();
});

test("options are checked when the client is made", () => {
	assert.throws(() => new MqttClient(undefined as never), TypeError);
	assert.throws(() => new MqttClient({ clientId: 5 as never }), TypeError);
	assert.throws(() => new MqttClient({ clientId: "c", keepalive: -1 }), RangeError);
	assert.throws(() => new MqttClient({ clientId: "c", keepalive: 65536 }), RangeError);
	assert.throws(() => new MqttClient({ clientId: "", clean: false }), RangeError);
	assert.throws(() => new MqttClient({ clientId: "c", maxInflight: 0 }), RangeError);
	assert.throws(() => new MqttClient({ clientId: "c", onMessage: "no" as never }), TypeError);
	assert.throws(() => new MqttClient({ clientId: "c", will: { topic: "a/#", payload: new Uint8Array(0), qos: 0, retain: false } }), isCode(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => new MqttClient({ clientId: "a\u0000" }), isCode(MqttErrorCode.INVALID_UTF8));
	const client = new MqttClient({ clientId: "c", maxSubscribeFilters: 8 });
	assert.throws(() => client.connect(undefined as never), TypeError);
});

/** An in-memory socket whose reads the test drives by hand. */
class ManualSocket implements StreamSocket {
	callbacks!: SocketCallbacks;
	incoming: Uint8Array[] = [];
	written: Uint8Array[] = [];
	read(): ArrayBuffer | undefined {
		const next = this.incoming.shift();
		return next?.slice().buffer;
	}
	write(data: Uint8Array): number { this.written.push(data.slice()); return 1 << 16; }
	close(): void { /* nothing to release */ }
}

test("an exception in a callback loses no packet and is rethrown afterwards", () => {
	const socket = new ManualSocket();
	const seen: string[] = [];
	const client = new MqttClient({
		clientId: "throws", keepalive: 0, maxSubscribeFilters: 8,
		onMessage: (m) => { seen.push(Buffer.from(m.payload).toString()); if (seen.length === 1) throw new Error("app bug"); },
	});
	client.connect((callbacks) => { socket.callbacks = callbacks; return socket; });
	socket.callbacks.onWritable(1 << 16);
	assert.throws(() => client.subscribe([1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ topic: `t${i}`, qos: 0 as const }))), RangeError);
	socket.incoming.push(new Uint8Array([0x20, 2, 0, 0, 0x32, 6, 0, 1, 0x74, 0, 5, 0x61, 0x32, 6, 0, 1, 0x74, 0, 6, 0x62]));
	assert.throws(() => socket.callbacks.onReadable(20), /app bug/);
	assert.deepEqual(seen, ["a", "b"]);
	const acks = socket.written.filter((w) => w[0] === 0x40).map((w) => w[3]);
	assert.deepEqual(acks, [5, 6], "both messages were acknowledged");
	assert.equal(client.connected, true);
	client.close();
});

test("a socket that reports writable during the factory call still gets CONNECT", () => {
	const socket = new ManualSocket();
	const client = new MqttClient({ clientId: "eager", keepalive: 0 });
	client.connect((callbacks) => { socket.callbacks = callbacks; callbacks.onWritable(100); return socket; });
	assert.equal(socket.written[0]?.[0], 0x10);
	assert.equal(client.state, ClientState.AWAITING_CONNACK);
	client.close();
});
