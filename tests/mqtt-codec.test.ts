/* The codec on hand-checked vectors, edge lengths, UTF-8 and argument checks. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { MqttError, MqttErrorCode } from "../modules/mqtt/errors.js";
import type { Packet, PublishPacket } from "../modules/mqtt/packet.js";
import { checkTopicFilter, topicMatches } from "../modules/mqtt/topic.js";
import { utf8Encode, utf8Length } from "../modules/platform/utf8.js";
import { comparable } from "./support/mqtt-packet-bridge.js";
import { concat, decodeAll, hex, toHex } from "./support/decode.js";

const encoder = new MqttEncoder();
const ascii = (s: string) => toHex(new Uint8Array(Buffer.from(s, "latin1")));

function code(expected: string) {
	return (error: unknown) => error instanceof MqttError && error.code === expected;
}

const vectors: Array<[string, Packet, string]> = [
	["CONNECT of an nRF Cloud device", { type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "nrf-352656100441776", keepalive: 60, clean: true },
		"101f" + "00044d515454" + "04" + "02" + "003c" + "0013" + ascii("nrf-352656100441776")],
	["CONNECT with will, user and password", {
		type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "c", keepalive: 10, clean: false,
		will: { topic: "w", payload: hex("0102"), qos: 1, retain: true }, username: "u", password: hex("ff"),
	}, "101a" + "00044d515454" + "04" + "ec" + "000a" + "000163" + "000177" + "00020102" + "000175" + "0001ff"],
	["CONNACK session present", { type: 2, sessionPresent: true, returnCode: 0 }, "20020100"],
	["CONNACK not authorized", { type: 2, sessionPresent: false, returnCode: 5 }, "20020005"],
	["shadow GET: QoS 1 PUBLISH id 5678, empty payload", {
		type: 3, topic: "$aws/things/nrf-1/shadow/get", payload: new Uint8Array(0), qos: 1, retain: false, dup: false, packetId: 5678,
	}, "3220" + "001c" + ascii("$aws/things/nrf-1/shadow/get") + "162e"],
	["QoS 0 PUBLISH with retain", { type: 3, topic: "a/b", payload: hex("68690a"), qos: 0, retain: true, dup: false, packetId: 0 },
		"3108" + "0003612f62" + "68690a"],
	["QoS 1 PUBLISH resent with DUP", { type: 3, topic: "t", payload: hex("00"), qos: 1, retain: false, dup: true, packetId: 1 },
		"3a06" + "000174" + "0001" + "00"],
	["PUBACK 8767", { type: 4, packetId: 8767 }, "4002223f"],
	["PUBREC", { type: 5, packetId: 1 }, "50020001"],
	["PUBREL", { type: 6, packetId: 2 }, "62020002"],
	["PUBCOMP", { type: 7, packetId: 3 }, "70020003"],
	["SUBSCRIBE id 1234 with the three shadow filters", {
		type: 8, packetId: 1234, subscriptions: [
			{ topic: "nrf-1/shadow/get/accepted", qos: 1 },
			{ topic: "$aws/things/nrf-1/shadow/get/rejected", qos: 1 },
			{ topic: "$aws/things/nrf-1/shadow/update/delta", qos: 1 },
		],
	}, "826e" + "04d2" + "0019" + ascii("nrf-1/shadow/get/accepted") + "01" + "0025" + ascii("$aws/things/nrf-1/shadow/get/rejected") + "01"
		+ "0025" + ascii("$aws/things/nrf-1/shadow/update/delta") + "01"],
	["SUBACK with a refused filter", { type: 9, packetId: 8765, returnCodes: [1, 0x80, 0] }, "9005223d018000"],
	["UNSUBSCRIBE", { type: 10, packetId: 7, topics: ["a/+", "#"] }, "a20a" + "0007" + "0003612f2b" + "000123"],
	["UNSUBACK", { type: 11, packetId: 7 }, "b0020007"],
	["PINGREQ", { type: 12 }, "c000"],
	["PINGRESP", { type: 13 }, "d000"],
	["DISCONNECT", { type: 14 }, "e000"],
];

for (const [name, packet, frame] of vectors) {
	test(`vector: ${name}`, () => {
		assert.equal(toHex(encoder.encode(packet)), frame);
		assert.equal(encoder.length(packet), frame.length / 2);
		assert.deepEqual(decodeAll(hex(frame)).map(comparable), [comparable(packet)]);
	});
}

test("remaining length uses 1 to 4 bytes at the boundaries", () => {
	for (const [remaining, headerBytes] of [[127, 2], [128, 3], [16383, 3], [16384, 4], [2097151, 4], [2097152, 5]] as const) {
		const packet: PublishPacket = { type: 3, topic: "t", payload: new Uint8Array(remaining - 3), qos: 0, retain: false, dup: false, packetId: 0 };
		const frame = encoder.encode(packet);
		assert.equal(frame.length, headerBytes + remaining, `remaining ${remaining}`);
		const [decoded] = decodeAll(frame) as PublishPacket[];
		assert.equal(decoded!.payload.length, remaining - 3);
	}
	assert.equal(toHex(encoder.encode({ type: 3, topic: "t", payload: new Uint8Array(124), qos: 0, retain: false, dup: false, packetId: 0 }).subarray(0, 2)), "307f");
	assert.equal(toHex(encoder.encode({ type: 3, topic: "t", payload: new Uint8Array(125), qos: 0, retain: false, dup: false, packetId: 0 }).subarray(0, 3)), "308001");
});

test("string lengths on the wire are UTF-8 byte counts", () => {
	const topic = "ü/€/😀";
	assert.equal(topic.length, 6);
	assert.equal(utf8Length(topic), 11);
	const frame = encoder.encode({ type: 3, topic, payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0 });
	assert.equal(toHex(frame), "300d000b" + "c3bc2fe282ac2ff09f9880");
	assert.equal((decodeAll(frame)[0] as PublishPacket).topic, topic);
	assert.equal(toHex(utf8Encode("aé")), "61c3a9");
});

test("encoding rejects bad fields with typed errors and writes nothing", () => {
	const publish = (fields: Partial<PublishPacket>): Packet => ({ type: 3, topic: "t", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, packetId: 0, ...fields });
	assert.throws(() => encoder.encode(publish({ topic: "a/+" })), code(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => encoder.encode(publish({ topic: "a/#" })), code(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => encoder.encode(publish({ topic: "" })), code(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => encoder.encode(publish({ topic: "a\u0000b" })), code(MqttErrorCode.INVALID_UTF8));
	assert.throws(() => encoder.encode(publish({ topic: "a\uD800b" })), code(MqttErrorCode.INVALID_UTF8));
	assert.throws(() => encoder.encode(publish({ topic: "x".repeat(65536) })), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode(publish({ qos: 1, packetId: 0 })), code(MqttErrorCode.INVALID_PACKET_ID));
	assert.throws(() => encoder.encode(publish({ qos: 1, packetId: 65536 })), code(MqttErrorCode.INVALID_PACKET_ID));
	assert.throws(() => encoder.encode(publish({ qos: 3 as 0 })), code(MqttErrorCode.INVALID_QOS));
	assert.throws(() => encoder.encode(publish({ dup: true })), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode(publish({ payload: "text" as unknown as Uint8Array })), TypeError);
	assert.throws(() => encoder.encode({ type: 8, packetId: 1, subscriptions: [] }), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode({ type: 8, packetId: 1, subscriptions: [{ topic: "a/#/b", qos: 0 }] }), code(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => encoder.encode({ type: 8, packetId: 1, subscriptions: [{ topic: "a+", qos: 0 }] }), code(MqttErrorCode.INVALID_TOPIC));
	assert.throws(() => encoder.encode({ type: 9, packetId: 1, returnCodes: [3] }), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode({ type: 1, protocolName: "MQTT", protocolLevel: 5, clientId: "c", keepalive: 0, clean: true }), code(MqttErrorCode.UNSUPPORTED_PROTOCOL));
	assert.throws(() => encoder.encode({ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "", keepalive: 0, clean: false }), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode({ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "c", keepalive: 70000, clean: true }), RangeError);
	assert.throws(() => encoder.encode({ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: "c", keepalive: 1, clean: true, password: hex("00") }), code(MqttErrorCode.MALFORMED_PACKET));
	assert.throws(() => encoder.encode({ type: 0 } as unknown as Packet), TypeError);
	const out = new Uint8Array(4).fill(0xAA);
	assert.throws(() => encoder.encodeInto({ type: 4, packetId: 1 }, out, 1), RangeError);
	assert.equal(toHex(out), "aaaaaaaa");
	assert.equal(encoder.encodeInto({ type: 4, packetId: 1 }, out, 0), 4);
	assert.equal(toHex(out), "40020001");
});

test("a frame split at every byte decodes the same", () => {
	const stream = concat(vectors.map(([, packet]) => encoder.encode(packet)));
	const expected = vectors.map(([, packet]) => comparable(packet));
	for (let cut = 1; cut < stream.length; cut++) {
		const packets: Packet[] = [];
		const decoder = new MqttDecoder({ onPacket: (p) => packets.push(p) });
		decoder.parse(stream.slice(0, cut));
		decoder.parse(stream.slice(cut));
		assert.deepEqual(packets.map(comparable), expected, `cut at ${cut}`);
		assert.equal(decoder.buffered, 0);
	}
	assert.deepEqual(decodeAll(stream, [1]).map(comparable), expected);
	assert.deepEqual(decodeAll(stream).map(comparable), expected);
});

test("payloads of reassembled frames are not overwritten by later frames", () => {
	const a = encoder.encode({ type: 3, topic: "t", payload: hex("11111111"), qos: 0, retain: false, dup: false, packetId: 0 });
	const b = encoder.encode({ type: 3, topic: "t", payload: hex("22222222"), qos: 0, retain: false, dup: false, packetId: 0 });
	const packets = decodeAll(concat([a, b]), [3]) as PublishPacket[];
	assert.deepEqual(packets.map((p) => toHex(p.payload)), ["11111111", "22222222"]);
});

test("the maximum incoming packet size is enforced from the header alone", () => {
	const frame = encoder.encode({ type: 3, topic: "t", payload: new Uint8Array(2046), qos: 0, retain: false, dup: false, packetId: 0 });
	assert.equal(frame.length, 2052);
	assert.equal(decodeAll(frame, undefined, 2052).length, 1);
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ maxPacketSize: 2051, onPacket: (p) => packets.push(p) });
	assert.throws(() => decoder.parse(frame.slice(0, 3)), code(MqttErrorCode.PACKET_TOO_LARGE));
	assert.equal(decoder.buffered, 0);
	assert.throws(() => decoder.parse(hex("c000")), code(MqttErrorCode.PACKET_TOO_LARGE), "a failed decoder stays failed");
	decoder.reset();
	decoder.parse(hex("d000"));
	assert.deepEqual(packets, [{ type: 13 }]);
	assert.throws(() => new MqttDecoder({ maxPacketSize: 1, onPacket: () => undefined }), RangeError);
	assert.throws(() => new MqttDecoder({} as never), TypeError);
});

test("a callback may reset the decoder in the middle of a chunk", () => {
	const seen: number[] = [];
	const decoder: MqttDecoder = new MqttDecoder({ onPacket: (p) => { seen.push(p.type); decoder.reset(); } });
	decoder.parse(hex("c000d000e000"));
	assert.deepEqual(seen, [12]);
});

test("topic filters and matching follow MQTT 3.1.1 section 4.7", () => {
	for (const good of ["#", "+", "a/+/c", "a/#", "+/+", "/", "$aws/things/+/shadow/#"]) checkTopicFilter(good);
	for (const bad of ["", "a#", "a/#/b", "a+", "+a", "a/b+"]) assert.throws(() => checkTopicFilter(bad), code(MqttErrorCode.INVALID_TOPIC), bad);
	const cases: Array<[string, string, boolean]> = [
		["a/b", "a/b", true], ["a/+", "a/b", true], ["a/+", "a/b/c", false], ["a/#", "a", true], ["a/#", "a/b/c", true],
		["#", "a/b", true], ["+/b", "a/b", true], ["#", "$aws/x", false], ["+/x", "$aws/x", false], ["$aws/#", "$aws/x", true],
		["a/b", "a/bc", false], ["a/+", "a/", true], ["a/+/c", "a//c", true], ["a", "a/b", false],
	];
	for (const [filter, topic, expected] of cases) assert.equal(topicMatches(filter, topic), expected, `${filter} vs ${topic}`);
});
