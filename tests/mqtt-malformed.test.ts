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

const RUNS = Number(process.env.PROPERTY_RUNS ?? 4000);
const encoder = new MqttEncoder();

const corpus: Array<[string, string, string]> = [
	["type 0", "0000", MqttErrorCode.UNKNOWN_PACKET_TYPE],
	["type 15", "f000", MqttErrorCode.UNKNOWN_PACKET_TYPE],
	["five-byte remaining length", "30ffffffff01", MqttErrorCode.MALFORMED_REMAINING_LENGTH],
	["PUBACK with flags", "41020001", MqttErrorCode.INVALID_FLAGS],
	["PUBREL without its flag", "60020001", MqttErrorCode.INVALID_FLAGS],
	["SUBSCRIBE without its flag", "800600010001610", MqttErrorCode.INVALID_FLAGS],
	["UNSUBSCRIBE with flag 3", "a30500010001610", MqttErrorCode.INVALID_FLAGS],
	["PINGREQ with flags", "c100", MqttErrorCode.INVALID_FLAGS],
	["PUBLISH QoS 3", "3605000174aaaa", MqttErrorCode.INVALID_QOS],
	["PUBLISH QoS 0 with DUP", "3803000174", MqttErrorCode.INVALID_FLAGS],
	["PUBLISH topic longer than the packet", "3003000574", MqttErrorCode.MALFORMED_PACKET],
	["PUBLISH without topic length", "300100", MqttErrorCode.MALFORMED_PACKET],
	["PUBLISH empty topic", "30020000", MqttErrorCode.INVALID_TOPIC],
	["PUBLISH topic with +", "300500032b2f61", MqttErrorCode.INVALID_TOPIC],
	["PUBLISH topic with #", "30050003612f23", MqttErrorCode.INVALID_TOPIC],
	["PUBLISH QoS 1 packet id 0", "320500017400 00".replace(" ", ""), MqttErrorCode.INVALID_PACKET_ID],
	["PUBLISH QoS 1 without packet id", "3203000174", MqttErrorCode.MALFORMED_PACKET],
	["PUBLISH topic with U+0000", "30050003610062", MqttErrorCode.INVALID_UTF8],
	["PUBLISH topic overlong UTF-8", "30040002c0af", MqttErrorCode.INVALID_UTF8],
	["PUBLISH topic UTF-8 surrogate", "30050003eda080", MqttErrorCode.INVALID_UTF8],
	["PUBLISH topic bad lead byte", "30030001ff", MqttErrorCode.INVALID_UTF8],
	["PUBLISH topic cut UTF-8 sequence", "30030001e2", MqttErrorCode.INVALID_UTF8],
	["PUBACK packet id 0", "40020000", MqttErrorCode.INVALID_PACKET_ID],
	["PUBACK too long", "4003000100", MqttErrorCode.MALFORMED_PACKET],
	["PUBACK too short", "400100", MqttErrorCode.MALFORMED_PACKET],
	["UNSUBACK too long", "b003000100", MqttErrorCode.MALFORMED_PACKET],
	["PINGRESP with a body", "d00100", MqttErrorCode.MALFORMED_PACKET],
	["DISCONNECT with a body", "e00100", MqttErrorCode.MALFORMED_PACKET],
	["CONNACK too short", "200100", MqttErrorCode.MALFORMED_PACKET],
	["CONNACK reserved flags", "20020200", MqttErrorCode.MALFORMED_PACKET],
	["CONNACK return code 6", "20020006", MqttErrorCode.MALFORMED_PACKET],
	["CONNACK refusal with session present", "20020105", MqttErrorCode.MALFORMED_PACKET],
	["SUBSCRIBE without filters", "82020001", MqttErrorCode.MALFORMED_PACKET],
	["SUBSCRIBE filter without QoS", "8205000100016", MqttErrorCode.MALFORMED_PACKET],
	["SUBSCRIBE QoS 3", "820600010001 6103".replace(" ", ""), MqttErrorCode.INVALID_QOS],
	["SUBSCRIBE reserved option bits", "82060001000161 04".replace(" ", ""), MqttErrorCode.INVALID_QOS],
	["SUBSCRIBE misplaced #", "820800010003232f6100", MqttErrorCode.INVALID_TOPIC],
	["SUBSCRIBE packet id 0", "8206000000016100", MqttErrorCode.INVALID_PACKET_ID],
	["SUBACK without codes", "90020001", MqttErrorCode.MALFORMED_PACKET],
	["SUBACK code 3", "9003000103", MqttErrorCode.MALFORMED_PACKET],
	["UNSUBSCRIBE without filters", "a2020001", MqttErrorCode.MALFORMED_PACKET],
	["UNSUBSCRIBE truncated filter", "a20500010005 61".replace(" ", ""), MqttErrorCode.MALFORMED_PACKET],
	["CONNECT unknown protocol", "100c00044d5154580402003c0000", MqttErrorCode.UNSUPPORTED_PROTOCOL],
	["CONNECT MQTT 5", "100c00044d5154540502003c0000", MqttErrorCode.UNSUPPORTED_PROTOCOL],
	["CONNECT reserved flag", "100c00044d5154540403003c0000", MqttErrorCode.MALFORMED_PACKET],
	["CONNECT will QoS without will", "100c00044d5154540408003c0000", MqttErrorCode.MALFORMED_PACKET],
	["CONNECT will QoS 3", "101200044d515454041e003c0000000174000161".slice(0, 40), MqttErrorCode.INVALID_QOS],
	["CONNECT password without user", "100f00044d5154540442003c000000017a", MqttErrorCode.MALFORMED_PACKET],
	["CONNECT truncated client id", "100c00044d5154540402003c0005", MqttErrorCode.MALFORMED_PACKET],
	["CONNECT trailing bytes", "100d00044d5154540402003c000000", MqttErrorCode.MALFORMED_PACKET],
	["CONNECT wildcard will topic", "101200044d5154540406003c00000001230001ff", MqttErrorCode.INVALID_TOPIC],
];

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
