/*
 * The receive path's bounds: the MQTT decoder refuses a frame whose fixed
 * header announces more than maxPacketSize from the header alone, holding no
 * more than the header's bytes (checked by the decoder's own count and the
 * process's ArrayBuffer figure), and keeps at most one frame of the limit.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import { PacketType, type Packet } from "../modules/mqtt/packet.js";

const LIMIT = 2304;

test("decoder: the header of a 256 MiB publish is refused after its fifth byte, fed one byte at a time, without allocating its body", () => {
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ maxPacketSize: LIMIT, onPacket: (p) => packets.push(p) });
	const header = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];
	const before = process.memoryUsage().arrayBuffers;
	for (let i = 0; i < header.length - 1; i++) {
		decoder.parse(new Uint8Array([header[i]!]));
		assert.ok(decoder.buffered <= i + 1, `holds ${decoder.buffered} bytes after ${i + 1}`);
	}
	assert.throws(() => decoder.parse(new Uint8Array([header.at(-1)!])), (error: unknown) => error instanceof MqttError && error.code === MqttErrorCode.PACKET_TOO_LARGE);
	const grown = process.memoryUsage().arrayBuffers - before;
	assert.ok(grown < 1 << 20, `ArrayBuffers grew by ${grown} bytes`);
	assert.equal(decoder.buffered, 0);
	assert.deepEqual(packets, []);
	assert.throws(() => decoder.parse(new Uint8Array([0xC0, 0])), /exceeds the limit/, "the decoder stays failed until reset");
});

test("decoder: a frame of exactly the limit is taken, split anywhere; one byte more is refused", () => {
	const encoder = new MqttEncoder();
	const frame = (size: number) => {
		const topic = "t";
		// Fixed header 3 bytes (remaining length 128 to 16383), topic 2 + 1.
		return encoder.encode({ type: PacketType.PUBLISH, topic, payload: new Uint8Array(size - 6), qos: 0, retain: false, dup: false, packetId: 0 });
	};
	const exact = frame(LIMIT);
	assert.equal(exact.length, LIMIT);
	for (const split of [1, 2, 3, 100, LIMIT - 1]) {
		const packets: Packet[] = [];
		const decoder = new MqttDecoder({ maxPacketSize: LIMIT, onPacket: (p) => packets.push(p) });
		decoder.parse(exact.subarray(0, split));
		assert.ok(decoder.buffered <= LIMIT);
		decoder.parse(exact.subarray(split));
		assert.equal(packets.length, 1);
	}
	const decoder = new MqttDecoder({ maxPacketSize: LIMIT, onPacket: () => {} });
	assert.throws(() => decoder.parse(frame(LIMIT + 1).subarray(0, 3)), /exceeds the limit of 2304/);
});
