/*
 * Malformed input: a corpus of broken frames, every truncation and many
 * corruptions of valid frames, and random bytes. Each outcome is a packet, a
 * typed MqttError, or waiting for more bytes: never another exception, and never
 * more buffered than one frame within the size limit.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import type { Packet } from "../modules/mqtt/packet.js";
import { anyPacket } from "./support/arbitraries.js";
import { hex } from "./support/decode.js";
import { malformedCorpus as corpus } from "./support/malformed-corpus.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 4000);
const encoder = new MqttEncoder();


type Outcome = { packets: Packet[]; error?: unknown; buffered: number };

function run(data: Uint8Array, chunk = data.length, maxPacketSize?: number): Outcome {
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ maxPacketSize, onPacket: (p) => packets.push(p) });
	try {
		for (let pos = 0; pos < data.length; pos += chunk) decoder.parse(data.subarray(pos, pos + chunk));
	}
	catch (error) {
		return { packets, error, buffered: decoder.buffered };
	}
	return { packets, buffered: decoder.buffered };
}

for (const [name, frame, expected] of corpus) {
	test(`malformed: ${name}`, () => {
		const bytes = hex(frame.length % 2 ? frame + "0" : frame);
		for (const chunk of [bytes.length, 1]) {
			const outcome = run(bytes, chunk);
			assert.ok(outcome.error instanceof MqttError, `${name}: expected an MqttError, got ${String(outcome.error)}`);
			assert.equal(outcome.error.code, expected, `${name} (chunk ${chunk}): ${outcome.error.message}`);
			assert.equal(outcome.packets.length, 0);
		}
	});
}

test("every proper prefix of a valid frame waits for more bytes", () => {
	fc.assert(fc.property(anyPacket, (packet) => {
		const frame = encoder.encode(packet);
		const step = Math.max(1, Math.floor(frame.length / 64));
		for (let cut = 1; cut < frame.length; cut += step) {
			const outcome = run(frame.subarray(0, cut));
			assert.equal(outcome.error, undefined);
			assert.equal(outcome.packets.length, 0);
			assert.equal(outcome.buffered, cut);
		}
	}), { numRuns: Math.ceil(RUNS / 4) });
});

function checkOutcome(outcome: Outcome, maxPacketSize: number): void {
	if (outcome.error !== undefined && !(outcome.error instanceof MqttError)) throw outcome.error;
	assert.ok(outcome.buffered <= maxPacketSize, `buffered ${outcome.buffered} > ${maxPacketSize}`);
}

test("corrupted valid frames give packets or typed errors", () => {
	fc.assert(fc.property(anyPacket, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (packet, edits, shrink) => {
		const frame = encoder.encode(packet).slice();
		for (const [at, value] of edits) frame[at % frame.length] = value;
		checkOutcome(run(frame, frame.length, 4096), 4096);
		// shorten the remaining length so that fields run past the end
		const original = encoder.encode(packet).slice();
		if (original.length > 2 && original[1]! < 0x80) {
			original[1] = shrink % (original[1]! + 1);
			checkOutcome(run(original.subarray(0, 2 + original[1]!)), Number.MAX_SAFE_INTEGER);
		}
	}), { numRuns: RUNS });
});

test("random bytes in random chunks give packets, typed errors or waiting", () => {
	fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (bytes, chunk) => {
		checkOutcome(run(bytes, chunk, 512), 512);
	}), { numRuns: RUNS * 5 });
});

test("random bytes after a valid type byte reach the body decoders", () => {
	fc.assert(fc.property(fc.integer({ min: 1, max: 14 }), fc.uint8Array({ maxLength: 120 }), (type, body) => {
		const flags = type === 6 || type === 8 || type === 10 ? 2 : type === 3 ? (body[0] ?? 0) & 0x07 : 0;
		const frame = new Uint8Array(2 + body.length);
		frame[0] = (type << 4) | (flags === 6 ? 2 : flags);
		frame[1] = body.length;
		frame.set(body, 2);
		const outcome = run(frame);
		checkOutcome(outcome, Number.MAX_SAFE_INTEGER);
		if (outcome.error === undefined) assert.equal(outcome.packets.length, 1);
	}), { numRuns: RUNS * 5 });
});
