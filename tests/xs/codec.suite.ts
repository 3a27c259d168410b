/*
 * The C codec against the TypeScript reference codec inside XS: mqtt-packet's
 * frames, random packets, frames split at every byte, the malformed corpus and
 * random bytes must give the same packets, bytes and error codes.
 */

import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import { MqttError } from "../../modules/mqtt/errors.js";
import { NativeMqttDecoder, NativeMqttEncoder } from "../../modules/mqtt/native-codec.js";
import type { Packet } from "../../modules/mqtt/packet.js";
import { malformedCorpus } from "../support/malformed-corpus.js";
import { assert, fromHex, hex, run, test } from "./harness.js";
import { Random, randomPacket } from "./random-packets.js";
import { mqttPacketVectors } from "./generated/mqtt-packet-vectors.js";

const ts = new MqttEncoder();
const c = new NativeMqttEncoder();

type Outcome = { packets: Packet[]; code: string | undefined; buffered: number };

function decodeWith(kind: "ts" | "c", data: Uint8Array, chunk = data.length || 1, maxPacketSize?: number): Outcome {
	const packets: Packet[] = [];
	const options = { maxPacketSize, onPacket: (p: Packet) => { packets.push(p); } };
	const decoder = kind === "ts" ? new MqttDecoder(options) : new NativeMqttDecoder(options);
	try {
		for (let pos = 0; pos < data.length; pos += chunk) decoder.parse(data.slice(pos, pos + chunk));
	}
	catch (error) {
		if (!(error instanceof MqttError)) throw error;
		return { packets, code: error.code, buffered: decoder.buffered };
	}
	return { packets, code: undefined, buffered: decoder.buffered };
}

function errorCode(body: () => unknown): string {
	try {
		body();
	}
	catch (error) {
		return error instanceof MqttError ? error.code : (error as Error).name;
	}
	return "none";
}

test("mqtt-packet's frames: both codecs decode them to its packet and encode the packet to its bytes", () => {
	assert.ok(mqttPacketVectors.length >= 500, `only ${mqttPacketVectors.length} vectors`);
	for (const vector of mqttPacketVectors) {
		const frame = fromHex(vector.hex);
		const fromTs = decodeWith("ts", frame);
		const fromC = decodeWith("c", frame);
		assert.deepEqual(fromC.packets, [vector.packet], `C decode of ${vector.hex.slice(0, 40)}`);
		assert.deepEqual(fromTs.packets, [vector.packet], `TS decode of ${vector.hex.slice(0, 40)}`);
		assert.equal(hex(c.encode(vector.packet)), vector.hex, "C encode");
		assert.equal(hex(ts.encode(vector.packet)), vector.hex, "TS encode");
		assert.equal(c.length(vector.packet), frame.length);
	}
});

test("random packets: same bytes, same decoded packets", () => {
	const random = new Random(0xC0DEC);
	for (let i = 0; i < 3000; i++) {
		const packet = randomPacket(random);
		const frame = ts.encode(packet);
		assert.equal(hex(c.encode(packet)), hex(frame), `packet ${i} type ${packet.type}`);
		const out = new Uint8Array(frame.length + 3);
		assert.equal(c.encodeInto(packet, out, 3), frame.length + 3);
		assert.equal(hex(out.subarray(3)), hex(frame));
		assert.deepEqual(decodeWith("c", frame).packets, [packet], `C decode of packet ${i}`);
	}
});

test("a stream split at every byte decodes the same in C", () => {
	const random = new Random(7);
	const packets: Packet[] = [];
	for (let i = 0; i < 12; i++) packets.push(randomPacket(random));
	const frames = packets.map((p) => ts.encode(p));
	const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
	let offset = 0;
	for (const frame of frames) { stream.set(frame, offset); offset += frame.length; }
	for (const chunk of [1, 2, 3, 7, 64, 1000]) {
		const outcome = decodeWith("c", stream, chunk);
		assert.equal(outcome.code, undefined);
		assert.equal(outcome.buffered, 0);
		assert.deepEqual(outcome.packets, packets, `chunks of ${chunk}`);
	}
});

test("the malformed corpus gives the same error codes in C", () => {
	for (const [name, frameHex, code] of malformedCorpus) {
		const frame = fromHex(frameHex.length % 2 ? frameHex + "0" : frameHex);
		for (const chunk of [frame.length, 1]) {
			const outcome = decodeWith("c", frame, chunk);
			assert.equal(outcome.code, code, `${name} in chunks of ${chunk}`);
			assert.equal(outcome.packets.length, 0, name);
		}
	}
});

test("random bytes: both decoders agree on packets, errors and waiting", () => {
	const random = new Random(99);
	for (let i = 0; i < 4000; i++) {
		const bytes = random.bytes(300);
		if (bytes.length === 0) continue;
		if (random.bool()) bytes[0] = (random.int(1, 14) << 4) | (bytes[0]! & 0x0F);
		const chunk = random.int(1, 40);
		const a = decodeWith("ts", bytes, chunk, 256);
		const b = decodeWith("c", bytes, chunk, 256);
		assert.equal(b.code, a.code, `input ${hex(bytes).slice(0, 60)}`);
		assert.deepEqual(b.packets, a.packets, `packets of ${hex(bytes).slice(0, 60)}`);
		assert.equal(b.buffered, a.buffered);
	}
});

test("the decoders enforce the size limit, stay failed and reset alike", () => {
	for (const kind of ["ts", "c"] as const) {
		const seen: Packet[] = [];
		const options = { maxPacketSize: 100, onPacket: (p: Packet) => { seen.push(p); } };
		const decoder = kind === "ts" ? new MqttDecoder(options) : new NativeMqttDecoder(options);
		assert.equal(errorCode(() => decoder.parse(fromHex("30ff01"))), "PACKET_TOO_LARGE", kind);
		assert.equal(errorCode(() => decoder.parse(fromHex("c000"))), "PACKET_TOO_LARGE", `${kind} stays failed`);
		decoder.reset();
		decoder.parse(fromHex("d000c0"));
		assert.equal(decoder.buffered, 1);
		decoder.parse(fromHex("00"));
		assert.deepEqual(seen, [{ type: 13 }, { type: 12 }], kind);
		assert.equal(errorCode(() => decoder.parse("x" as unknown as Uint8Array)), "TypeError");
	}
	assert.equal(errorCode(() => new NativeMqttDecoder({ maxPacketSize: 1, onPacket: () => undefined })), "RangeError");
});

test("encoding errors carry the same codes", () => {
	const bad: Packet[] = [
		{ type: 3, topic: "a/+", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "a\u0000", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "a\ud800", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "x".repeat(65536), payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "t", payload: new Uint8Array(0), qos: 1, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "t", payload: new Uint8Array(0), qos: 3 as 0, retain: false, dup: false, packetId: 0 },
		{ type: 3, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: true, packetId: 0 },
		{ type: 3, topic: "t", payload: "text" as unknown as Uint8Array, qos: 0, retain: false, dup: false, packetId: 0 },
		{ type: 8, packetId: 1, subscriptions: [] },
		{ type: 8, packetId: 1, subscriptions: [{ topic: "a/#/b", qos: 0 }] },
		{ type: 9, packetId: 1, returnCodes: [3] },
		{ type: 10, packetId: 1, topics: ["a+"] },
		{ type: 1, protocolName: "MQTT", protocolLevel: 5, clientId: "c", keepalive: 0, clean: true },
		{ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "", keepalive: 0, clean: false },
		{ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "c", keepalive: 70000, clean: true },
		{ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "c", keepalive: 1, clean: true, password: new Uint8Array(1) },
		{ type: 0 } as unknown as Packet,
	];
	for (const packet of bad) {
		const expected = errorCode(() => ts.encode(packet));
		assert.ok(expected !== "none", `TS accepted ${JSON.stringify(packet).slice(0, 80)}`);
		assert.equal(errorCode(() => c.encode(packet)), expected, JSON.stringify(packet).slice(0, 80));
	}
	assert.equal(errorCode(() => c.encodeInto({ type: 4, packetId: 1 }, new Uint8Array(3), 0)), "RangeError");
});

await run("codec");
