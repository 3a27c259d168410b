/*
 * Our codec against mqtt-packet on random valid packets: each decodes what the
 * other encodes to the same packet, and both encode to the same bytes.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { anyPacket } from "./support/arbitraries.js";
import { decodeAll, toHex } from "./support/decode.js";
import { comparable, fromMqttPacket, mqttPacket, parseWithMqttPacket, toMqttPacket } from "./support/mqtt-packet-bridge.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 4000);
const encoder = new MqttEncoder();

test("mqtt-packet's frames decode to the same packet with our codec", () => {
	fc.assert(fc.property(anyPacket, (packet) => {
		const frame = new Uint8Array(mqttPacket.generate(toMqttPacket(packet)));
		const decoded = decodeAll(frame);
		assert.equal(decoded.length, 1);
		assert.deepEqual(comparable(decoded[0]!), comparable(packet));
	}), { numRuns: RUNS });
});

test("our frames decode to the same packet with mqtt-packet", () => {
	fc.assert(fc.property(anyPacket, (packet) => {
		const parsed = parseWithMqttPacket(encoder.encode(packet));
		assert.equal(parsed.length, 1);
		assert.deepEqual(comparable(fromMqttPacket(parsed[0]!)), comparable(packet));
	}), { numRuns: RUNS });
});

test("both codecs encode a packet to the same bytes", () => {
	fc.assert(fc.property(anyPacket, (packet) => {
		assert.equal(toHex(encoder.encode(packet)), mqttPacket.generate(toMqttPacket(packet)).toString("hex"));
	}), { numRuns: RUNS });
});

test("a stream of random packets split at random points decodes in order", () => {
	fc.assert(fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (packets, sizes) => {
		const frames = packets.map((p) => encoder.encode(p));
		const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
		let offset = 0;
		for (const frame of frames) { stream.set(frame, offset); offset += frame.length; }
		const decoded = decodeAll(stream, sizes);
		assert.deepEqual(decoded.map(comparable), packets.map(comparable));
	}), { numRuns: Math.ceil(RUNS / 4) });
});
