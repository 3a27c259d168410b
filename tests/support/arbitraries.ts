/* fast-check generators of valid MQTT 3.1.1 packets, for property tests. */

import fc from "fast-check";
import type { Packet, QoS } from "../../modules/mqtt/packet.js";

/** Any code point except U+0000, which MQTT strings may not contain. */
const text = (maxLength: number): fc.Arbitrary<string> =>
	fc.string({ unit: fc.oneof({ weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) }), maxLength })
		.map((s) => s.replace(/\u0000/g, "a"));

const level = text(12).map((s) => s.replace(/[+#/]/g, "x"));

export const topicName: fc.Arbitrary<string> = fc.array(level, { minLength: 1, maxLength: 6 })
	.map((levels) => levels.join("/"))
	.filter((topic) => topic.length > 0);

export const topicFilter: fc.Arbitrary<string> = fc.tuple(
	fc.array(fc.oneof({ weight: 4, arbitrary: level }, { weight: 1, arbitrary: fc.constant("+") }), { minLength: 1, maxLength: 5 }),
	fc.boolean(),
).map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
	.filter((filter) => filter.length > 0);

export const qos: fc.Arbitrary<QoS> = fc.constantFrom(0, 1, 2);
export const packetId = fc.integer({ min: 1, max: 65535 });
const smallBytes = fc.uint8Array({ maxLength: 64 });
export const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
	{ weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
	{ weight: 1, arbitrary: fc.integer({ min: 16000, max: 20000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31) & 0xFF)) },
);

const connect: fc.Arbitrary<Packet> = fc.record({
	v311: fc.boolean(),
	clientId: text(23),
	keepalive: fc.integer({ min: 0, max: 65535 }),
	clean: fc.boolean(),
	will: fc.option(fc.record({ topic: topicName, payload: smallBytes, qos, retain: fc.boolean() }), { nil: undefined }),
	username: fc.option(text(20), { nil: undefined }),
	password: fc.option(smallBytes, { nil: undefined }),
}).map((r) => {
	const packet: Packet = {
		type: 1,
		protocolName: r.v311 ? "MQTT" : "MQIsdp",
		protocolLevel: r.v311 ? 4 : 3,
		clientId: r.v311 ? r.clientId : r.clientId || "c",
		keepalive: r.keepalive,
		clean: r.clean || r.clientId.length === 0,
	};
	if (r.will) packet.will = r.will;
	if (r.username !== undefined) {
		packet.username = r.username;
		if (r.password !== undefined) packet.password = r.password;
	}
	return packet;
});

const publish: fc.Arbitrary<Packet> = fc.record({ topic: topicName, payload, qos, retain: fc.boolean(), dup: fc.boolean(), packetId })
	.map((r) => ({ type: 3, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain, dup: r.qos > 0 && r.dup, packetId: r.qos > 0 ? r.packetId : 0 }));

const ack: fc.Arbitrary<Packet> = fc.record({ type: fc.constantFrom(4, 5, 6, 7, 11), packetId })
	.map((r) => ({ type: r.type as 4 | 5 | 6 | 7 | 11, packetId: r.packetId }));

export const anyPacket: fc.Arbitrary<Packet> = fc.oneof(
	connect,
	fc.record({ sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) })
		.map((r) => ({ type: 2, sessionPresent: r.returnCode === 0 && r.sessionPresent, returnCode: r.returnCode })),
	{ weight: 3, arbitrary: publish },
	ack,
	fc.record({ packetId, subscriptions: fc.array(fc.record({ topic: topicFilter, qos }), { minLength: 1, maxLength: 8 }) })
		.map((r) => ({ type: 8, packetId: r.packetId, subscriptions: r.subscriptions })),
	fc.record({ packetId, returnCodes: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 8 }) })
		.map((r) => ({ type: 9, packetId: r.packetId, returnCodes: r.returnCodes })),
	fc.record({ packetId, topics: fc.array(topicFilter, { minLength: 1, maxLength: 8 }) })
		.map((r) => ({ type: 10, packetId: r.packetId, topics: r.topics })),
	fc.constantFrom(12, 13, 14).map((type) => ({ type: type as 12 | 13 | 14 })),
) as fc.Arbitrary<Packet>;
