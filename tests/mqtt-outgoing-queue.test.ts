/*
 * The MQTT client's bounded outgoing queue: a peer that floods QoS 1
 * publishes while the device's send path is blocked never makes the queue
 * grow past its limits; reading pauses and resumes, and every PUBACK goes out,
 * in order. Application frames that do not fit are refused synchronously.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MqttClient, type MqttClientOptions } from "../modules/mqtt/client.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import { PacketType, type Packet, type PublishPacket } from "../modules/mqtt/packet.js";
import { sendErrno } from "../modules/nrf-cloud/connect-failure.js";
import { Errno } from "../modules/platform/errno.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { decodeAll } from "./support/decode.js";
import { fakeStreams, type FakeStream } from "./support/fake-stream.js";
import { flood, frames } from "./support/mqtt-flood.js";
import { ScriptedBroker } from "./support/scripted-broker.js";
import { until } from "./support/until.js";
import { valveSockets } from "./support/valve-socket.js";

const encoder = new MqttEncoder();

function isCode(code: string) {
	return (e: unknown) => e instanceof MqttError && e.code === code;
}

/** The packets in what the client wrote to `stream`. */
function written(stream: FakeStream): Packet[] {
	return decodeAll(new Uint8Array(Buffer.from(stream.text, "latin1")));
}

/** Tracks the largest queue seen; every check also asserts the limits. */
class QueueWatch {
	bytes = 0;
	frames = 0;
	constructor(readonly client: MqttClient, readonly maxBytes: number, readonly maxFrames: number) {}
	check(where: string): void {
		const { queuedBytes, queuedFrames } = this.client;
		this.bytes = Math.max(this.bytes, queuedBytes);
		this.frames = Math.max(this.frames, queuedFrames);
		assert.ok(queuedBytes <= this.maxBytes, `${where}: ${queuedBytes} bytes queued, limit ${this.maxBytes}`);
		assert.ok(queuedFrames <= this.maxFrames, `${where}: ${queuedFrames} frames queued, limit ${this.maxFrames}`);
	}
}

/** A client on a fake stream, connected; the stream took `allowance` bytes of CONNECT and takes nothing more. */
function blocked(options: Partial<MqttClientOptions>, allowance = 2) {
	const streams = fakeStreams();
	const messages: PublishPacket[] = [];
	const client = new MqttClient({ clientId: "flooded", keepalive: 0, onMessage: (m) => messages.push(m), ...options });
	client.connect(streams.factory);
	const stream = streams.last();
	stream.open(allowance);
	stream.receive(encoder.encode({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 }));
	assert.equal(client.connected, true);
	return { client, stream, messages };
}

/** Small steps of a pseudo-random size, so frames are written in pieces. */
function* steps(seed: number): Generator<number> {
	let x = seed;
	for (;;) {
		x = (x * 1103515245 + 12345) & 0x7FFFFFFF;
		yield 1 + (x % 41);
	}
}

for (const ackFirst of [false, true]) {
	test(`a QoS 1 flood while the socket takes nothing: the queue stays within its limits, reading pauses and resumes, every PUBACK goes out in order (ackFirst ${ackFirst})`, () => {
		const maxQueuedBytes = 256;
		const maxQueuedFrames = 16;
		let watch!: QueueWatch;
		const { client, stream, messages } = blocked({ maxQueuedBytes, maxQueuedFrames, ackFirst, onMessage: (m) => { messages.push(m); watch.check(`message ${m.packetId}`); } });
		watch = new QueueWatch(client, maxQueuedBytes, maxQueuedFrames);
		const packets = flood(3000);
		const bytes = frames(packets);
		stream.receive(bytes);
		watch.check("after the flood arrived");
		assert.equal(client.readPaused, true, "reading paused");
		assert.ok(stream.unread > bytes.length / 2, `${stream.unread} of ${bytes.length} bytes wait in the socket`);
		assert.ok(messages.length <= maxQueuedFrames, `${messages.length} messages taken while nothing could be written`);
		let resumes = 0;
		let rounds = 0;
		for (const step of steps(7)) {
			if (stream.unread === 0 && client.queuedFrames === 0) break;
			assert.ok(++rounds < 100_000, "the flood drains");
			const paused = client.readPaused;
			const unread = stream.unread;
			stream.open(step);
			// Paused before the socket drained, reading again after it.
			if (paused && stream.unread < unread) resumes++;
			if (paused && stream.unread === unread) assert.equal(client.readPaused, true, "nothing read while paused");
			watch.check(`round ${rounds}`);
		}
		assert.ok(resumes >= 20, `reading resumed ${resumes} times`);
		assert.equal(watch.frames, maxQueuedFrames, "the queue filled up to its frame limit");
		assert.deepEqual(messages.map((m) => m.packetId), packets.map((p) => p.packetId), "every message, in order");
		assert.deepEqual(messages.map((m) => Buffer.from(m.payload).toString()), packets.map((p) => Buffer.from(p.payload).toString()));
		const sent = written(stream);
		assert.equal(sent[0]!.type, PacketType.CONNECT);
		assert.deepEqual(sent.slice(1).map((p) => `${p.type}:${(p as { packetId: number }).packetId}`), packets.map((p) => `${PacketType.PUBACK}:${p.packetId}`),
			"one PUBACK per message, in the order the messages came");
		assert.equal(client.connected, true);
		client.close();
	});
}

test("application publishes from onMessage during a flood: those that would take the PUBACKs' room are refused, the bound holds", () => {
	const maxQueuedBytes = 512;
	const maxQueuedFrames = 24;
	let watch!: QueueWatch;
	const replies: number[] = [];
	let refused = 0;
	const { client, stream, messages } = blocked({
		maxQueuedBytes, maxQueuedFrames,
		onMessage: (m) => {
			messages.push(m);
			try {
				client.publish("reply", `to ${m.packetId}`);
				replies.push(m.packetId);
			}
			catch (error) {
				assert.ok(isCode(MqttErrorCode.QUEUE_FULL)(error), String(error));
				refused++;
			}
			watch.check(`message ${m.packetId}`);
		},
	});
	watch = new QueueWatch(client, maxQueuedBytes, maxQueuedFrames);
	const packets = flood(1000);
	stream.receive(frames(packets));
	for (const step of steps(11)) {
		if (stream.unread === 0 && client.queuedFrames === 0) break;
		stream.open(step);
		watch.check("drain");
	}
	assert.equal(messages.length, packets.length);
	assert.ok(refused > 0 && replies.length > 0, `${replies.length} replies queued, ${refused} refused`);
	const sent = written(stream).slice(1);
	assert.deepEqual(sent.filter((p) => p.type === PacketType.PUBACK).map((p) => (p as { packetId: number }).packetId), packets.map((p) => p.packetId));
	assert.deepEqual(sent.filter((p) => p.type === PacketType.PUBLISH).map((p) => Buffer.from((p as PublishPacket).payload).toString()), replies.map((id) => `to ${id}`));
	client.close();
});

test("an application publish that does not fit is refused synchronously; what was queued goes out unchanged", () => {
	const { client, stream } = blocked({ maxQueuedBytes: 2000, maxQueuedFrames: 10 });
	const payload = new Uint8Array(90).fill(0x41);
	const ids: number[] = [];
	let error: unknown;
	for (let i = 0; i < 50 && error === undefined; i++) {
		try {
			ids.push(client.publish("dev/d2c", payload, { qos: 1 }));
		}
		catch (e) {
			error = e;
		}
	}
	assert.ok(isCode(MqttErrorCode.QUEUE_FULL)(error), String(error));
	assert.match((error as Error).message, /outgoing queue holds \d+ bytes in \d+ frames/);
	// CONNECT's remainder and nine 100-byte publishes: the frame limit of 10 refuses the tenth.
	assert.equal(ids.length, 9);
	assert.equal(client.inflight, 9, "the refused publish is not in flight");
	const before = client.queuedBytes;
	assert.throws(() => client.publish("dev/d2c", "x"), isCode(MqttErrorCode.QUEUE_FULL));
	assert.throws(() => client.subscribe([{ topic: "a/b", qos: 1 }]), isCode(MqttErrorCode.QUEUE_FULL));
	assert.throws(() => client.unsubscribe(["a/b"]), isCode(MqttErrorCode.QUEUE_FULL));
	assert.equal(client.queuedBytes, before, "refusals queue nothing");
	assert.equal(client.queuedFrames, 10);
	stream.open(1 << 16);
	assert.equal(client.queuedFrames, 0);
	const publishes = written(stream).filter((p): p is PublishPacket => p.type === PacketType.PUBLISH);
	assert.deepEqual(publishes.map((p) => p.packetId), ids);
	assert.ok(publishes.every((p) => p.payload.length === 90));
	const next = client.publish("dev/d2c", payload, { qos: 1 });
	assert.ok(next > 0, "with the queue drained, publishing works again");
	client.close();
});

test("a frame larger than the whole queue is refused even with the socket idle; the default limit is 8192 bytes", () => {
	const streams = fakeStreams();
	const client = new MqttClient({ clientId: "big", keepalive: 0 });
	client.connect(streams.factory);
	streams.last().open(1 << 16);
	streams.last().receive(encoder.encode({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 }));
	// A QoS 0 publish on topic "t" of this size: 3 bytes of fixed header, 3 of topic, then the payload.
	assert.throws(() => client.publish("t", new Uint8Array(8192 - 6 + 1)), (e) => isCode(MqttErrorCode.PACKET_TOO_LARGE)(e) && /8193 bytes exceeds the outgoing queue's 8192/.test(String(e)));
	assert.equal(client.publish("t", new Uint8Array(8192 - 6)), 0);
	assert.equal(written(streams.last()).filter((p) => p.type === PacketType.PUBLISH).length, 1);
	assert.equal(client.connected, true);
	client.close();
});

test("maxQueuedBytes and maxQueuedFrames are checked when the client is made", () => {
	for (const bad of [0, 63, -1, 1.5, Number.NaN, 2 ** 31, "8192", null]) {
		assert.throws(() => new MqttClient({ clientId: "c", maxQueuedBytes: bad as never }), (e) => e instanceof RangeError && /maxQueuedBytes must be an integer from 64/.test(e.message), String(bad));
	}
	for (const bad of [0, -3, 2.5, "64", Infinity]) {
		assert.throws(() => new MqttClient({ clientId: "c", maxQueuedFrames: bad as never }), (e) => e instanceof RangeError && /maxQueuedFrames must be an integer from 1/.test(e.message), String(bad));
	}
	assert.equal(new MqttClient({ clientId: "c", maxQueuedBytes: 64, maxQueuedFrames: 1 }).queuedFrames, 0);
});

test("the nRF Cloud send paths report a full queue as -EAGAIN and a frame over the whole queue as -ENOMEM", () => {
	assert.equal(sendErrno(new MqttError(MqttErrorCode.QUEUE_FULL, "full")), -Errno.EAGAIN);
	assert.equal(sendErrno(new MqttError(MqttErrorCode.PACKET_TOO_LARGE, "too large")), -Errno.ENOMEM);
	assert.equal(sendErrno(new MqttError(MqttErrorCode.INFLIGHT_FULL, "in flight")), -Errno.EAGAIN);
});

let broker: ScriptedBroker;
before(async () => { broker = await ScriptedBroker.start(); });
after(async () => { await broker.stop(); });

test("over TCP: a peer floods QoS 1 publishes while the device's send path is blocked; the flood waits in the socket and TCP, then every PUBACK arrives in order", async () => {
	const count = 20000;
	const clientId = "tcp-flooded";
	const connectLength = encoder.length({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId, keepalive: 0, clean: true });
	const readLimit = 16384;
	const valves = valveSockets(nodeSocket({ host: "127.0.0.1", port: broker.port, readLimit }), connectLength);
	const messages: number[] = [];
	let watch!: QueueWatch;
	let closed: MqttError | undefined | null = null;
	const client = new MqttClient({
		clientId, keepalive: 0,
		onMessage: (m) => { messages.push(m.packetId); watch.check(`message ${m.packetId}`); },
		onClose: (error) => { closed = error; },
	});
	watch = new QueueWatch(client, 8192, 64);
	const index = broker.connections.length;
	client.connect(valves.factory);
	const peer = await broker.connection(index);
	assert.equal((await peer.packet(0)).type, PacketType.CONNECT);
	peer.send({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	const packets = flood(count);
	const bytes = frames(packets);
	peer.sendRaw(bytes);
	const valve = valves.sockets[0]!;
	await until(() => client.readPaused, { what: "reading to pause", detail: () => `${messages.length} messages, ${client.queuedFrames} frames queued` });
	watch.check("paused");
	assert.equal(client.queuedFrames, 64, "the queue is full of PUBACKs");
	assert.equal(peer.received.length, 1, "the peer got nothing after CONNECT");
	assert.ok(messages.length <= 64, `${messages.length} messages taken while nothing could be written`);
	assert.ok(valve.largestRead <= 1 + 63 * 7, `reads of at most ${1 + 63 * 7} bytes while the socket takes nothing; the largest was ${valve.largestRead}`);
	valve.openValve();
	await until(() => peer.received.length === 1 + count, { timeout: 20000, what: `${count} PUBACKs`, detail: () => `${peer.received.length - 1} PUBACKs, ${messages.length} messages` });
	assert.deepEqual(peer.received.slice(1).map((p) => `${p.type}:${(p as { packetId: number }).packetId}`), packets.map((p) => `${PacketType.PUBACK}:${p.packetId}`));
	assert.deepEqual(messages, packets.map((p) => p.packetId));
	assert.equal(closed, null, "the connection stayed up");
	client.disconnect();
	await peer.closedByClient();
});
