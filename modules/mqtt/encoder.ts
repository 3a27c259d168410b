/*
 * MQTT 3.1.1 serializer. Pure: no I/O, no timers. Every field is checked before
 * a byte is written, so a packet that throws leaves the output untouched.
 * encodeInto() writes into caller memory and allocates nothing for PUBLISH with
 * a topic seen recently; encode() allocates exactly one array per packet.
 */

import { MqttError, MqttErrorCode } from "./errors.js";
import {
	MAX_REMAINING_LENGTH,
	PacketType,
	type ConnackPacket,
	type ConnectPacket,
	type Packet,
	type PublishPacket,
	type SubackPacket,
	type SubscribePacket,
	type UnsubscribePacket,
} from "./packet.js";
import { checkTopicFilter, checkTopicName } from "./topic.js";
import type { PacketEncoder } from "./codec.js";
import { isPacketId } from "./packet-id.js";
import { mqttStringLength, writeUtf8 } from "./strings.js";


const TOPIC_CACHE_SIZE = 16;
const MAX_STRING_BYTES = 0xFFFF;
const EMPTY = new Uint8Array(0);

/** The one-byte packets never change; share them. */
const FIXED_TWO_BYTE: Readonly<Record<number, number>> = { 12: 0xC0, 13: 0xD0, 14: 0xE0 };

function fail(code: typeof MqttErrorCode[keyof typeof MqttErrorCode], message: string): never {
	throw new MqttError(code, message);
}

function checkPacketId(id: unknown): number {
	if (!isPacketId(id))
		fail(MqttErrorCode.INVALID_PACKET_ID, `packet id must be an integer from 1 to 65535, got ${String(id)}`);
	return id;
}

function checkQoS(qos: unknown): 0 | 1 | 2 {
	if (qos === undefined) return 0;
	if (qos !== 0 && qos !== 1 && qos !== 2) fail(MqttErrorCode.INVALID_QOS, `QoS must be 0, 1 or 2, got ${String(qos)}`);
	return qos;
}

function checkBytes(value: unknown, what: string): Uint8Array {
	if (value === undefined) return EMPTY;
	if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
	return value;
}

function stringBytes(text: unknown, what: string): number {
	if (typeof text !== "string") throw new TypeError(`${what} must be a string`);
	const bytes = mqttStringLength(text);
	if (bytes > MAX_STRING_BYTES) fail(MqttErrorCode.MALFORMED_PACKET, `${what} is ${bytes} bytes; the limit is 65535`);
	return bytes;
}

function varintLength(value: number): number {
	return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

function checkRemaining(remaining: number): number {
	if (remaining > MAX_REMAINING_LENGTH)
		fail(MqttErrorCode.PACKET_TOO_LARGE, `packet body of ${remaining} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`);
	return remaining;
}

function room(out: Uint8Array, offset: number, needed: number): void {
	if (!(out instanceof Uint8Array)) throw new TypeError("output must be a Uint8Array");
	if (!(offset >= 0) || offset + needed > out.length)
		throw new RangeError(`output needs ${needed} bytes at offset ${offset}, has ${out.length - offset}`);
}

function writeHeader(out: Uint8Array, offset: number, first: number, remaining: number): number {
	out[offset++] = first;
	do {
		let digit = remaining & 0x7F;
		remaining >>>= 7;
		if (remaining > 0) digit |= 0x80;
		out[offset++] = digit;
	} while (remaining > 0);
	return offset;
}

function writeUint16(out: Uint8Array, offset: number, value: number): number {
	out[offset] = value >> 8;
	out[offset + 1] = value & 0xFF;
	return offset + 2;
}

function writeString(out: Uint8Array, offset: number, text: string, bytes: number): number {
	offset = writeUint16(out, offset, bytes);
	return writeUtf8(text, out, offset);
}

function writeBinary(out: Uint8Array, offset: number, data: Uint8Array): number {
	offset = writeUint16(out, offset, data.length);
	out.set(data, offset);
	return offset + data.length;
}

/** Sizes computed while checking a packet, reused when writing it. */
interface Plan {
	remaining: number;
	/** Byte lengths of the packet's strings in wire order. */
	strings: number[];
}

export interface EncoderOptions {
	/**
	 * encode() carves frames out of shared blocks of this many bytes instead of
	 * allocating each one, which is much faster on engines where every
	 * ArrayBuffer is expensive. A block lives as long as any frame in it, so
	 * memory-tight targets set 0 (one exact allocation per frame). Default 8192.
	 */
	slabSize?: number;
}

const DEFAULT_SLAB_SIZE = 8192;

export class MqttEncoder implements PacketEncoder {
	readonly #slabSize: number;
	#slab: ArrayBuffer | undefined = undefined;
	#slabOffset = 0;
	readonly #topics = new Map<string, Uint8Array>();
	readonly #plan: Plan = { remaining: 0, strings: [] };
	/** Topic bytes of the PUBLISH last measured by length(). */
	#publishTopic: Uint8Array = EMPTY;

	constructor(options?: EncoderOptions) {
		const slabSize = options?.slabSize ?? DEFAULT_SLAB_SIZE;
		if (typeof slabSize !== "number" || !Number.isInteger(slabSize) || slabSize < 0)
			throw new RangeError("slabSize must be a non-negative integer");
		this.#slabSize = slabSize;
	}

	length(packet: Packet): number {
		if (packet === null || typeof packet !== "object") throw new TypeError("packet must be an object");
		if (packet.type === PacketType.PUBLISH) {
			const remaining = this.#publishRemaining(packet);
			return 1 + varintLength(remaining) + remaining;
		}
		const remaining = this.#plan_(packet).remaining;
		return 1 + varintLength(remaining) + remaining;
	}

	encode(packet: Packet): Uint8Array {
		const out = this.#allocate(this.length(packet));
		this.#write(packet, out, 0);
		return out;
	}

	#allocate(length: number): Uint8Array {
		const slabSize = this.#slabSize;
		if (length > slabSize >> 1) return new Uint8Array(length);
		let slab = this.#slab;
		let offset = this.#slabOffset;
		if (slab === undefined || offset + length > slabSize) {
			slab = this.#slab = new ArrayBuffer(slabSize);
			offset = 0;
		}
		// Eight-byte alignment keeps every frame's start aligned for native code that reads it.
		this.#slabOffset = (offset + length + 7) & ~7;
		return new Uint8Array(slab, offset, length);
	}

	encodeInto(packet: Packet, out: Uint8Array, offset = 0): number {
		const total = this.length(packet);
		room(out, offset, total);
		return this.#write(packet, out, offset);
	}

	/** Assumes length() ran last for this packet (it fills the plan and topic cache). */
	#write(packet: Packet, out: Uint8Array, offset: number): number {
		switch (packet.type) {
			case PacketType.PUBLISH: return this.#writePublish(packet, out, offset);
			case PacketType.CONNECT: return this.#writeConnect(packet, out, offset);
			case PacketType.CONNACK: return this.#writeConnack(packet, out, offset);
			case PacketType.SUBSCRIBE: return this.#writeSubscribe(packet, out, offset);
			case PacketType.SUBACK: return this.#writeSuback(packet, out, offset);
			case PacketType.UNSUBSCRIBE: return this.#writeUnsubscribe(packet, out, offset);
			case PacketType.PUBACK:
			case PacketType.PUBREC:
			case PacketType.PUBCOMP:
			case PacketType.UNSUBACK:
				out[offset] = packet.type << 4;
				out[offset + 1] = 2;
				return writeUint16(out, offset + 2, packet.packetId);
			case PacketType.PUBREL:
				out[offset] = 0x62;
				out[offset + 1] = 2;
				return writeUint16(out, offset + 2, packet.packetId);
			default:
				out[offset] = FIXED_TWO_BYTE[packet.type]!;
				out[offset + 1] = 0;
				return offset + 2;
		}
	}

	#topicBytes(topic: string): Uint8Array {
		const cached = this.#topics.get(topic);
		if (cached !== undefined) return cached;
		checkTopicName(topic);
		const bytes = new Uint8Array(stringBytes(topic, "topic"));
		writeUtf8(topic, bytes, 0);
		if (this.#topics.size >= TOPIC_CACHE_SIZE) this.#topics.clear();
		this.#topics.set(topic, bytes);
		return bytes;
	}

	#publishRemaining(packet: PublishPacket): number {
		const qos = checkQoS(packet.qos);
		if (qos > 0) checkPacketId(packet.packetId);
		if (qos === 0 && packet.dup) fail(MqttErrorCode.MALFORMED_PACKET, "DUP must be 0 for a QoS 0 PUBLISH");
		const payload = checkBytes(packet.payload, "payload");
		const topic = this.#publishTopic = this.#topicBytes(packet.topic);
		return checkRemaining(2 + topic.length + (qos > 0 ? 2 : 0) + payload.length);
	}

	#writePublish(packet: PublishPacket, out: Uint8Array, offset: number): number {
		const topic = this.#publishTopic;
		const payload = packet.payload ?? EMPTY;
		const qos = packet.qos ?? 0;
		const first = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 1 : 0);
		offset = writeHeader(out, offset, first, 2 + topic.length + (qos > 0 ? 2 : 0) + payload.length);
		offset = writeBinary(out, offset, topic);
		if (qos > 0) offset = writeUint16(out, offset, packet.packetId);
		out.set(payload, offset);
		return offset + payload.length;
	}

	/** Checks every field of a non-PUBLISH packet and records its sizes. */
	#plan_(packet: Packet): Plan {
		const plan = this.#plan;
		const strings = plan.strings;
		strings.length = 0;
		switch (packet.type) {
			case PacketType.CONNECT: {
				const name = packet.protocolName ?? "MQTT";
				const level = packet.protocolLevel ?? 4;
				if (!((name === "MQTT" && level === 4) || (name === "MQIsdp" && level === 3)))
					fail(MqttErrorCode.UNSUPPORTED_PROTOCOL, `protocol ${String(name)} level ${String(level)} is not MQTT 3.1 or 3.1.1`);
				const keepalive = packet.keepalive ?? 0;
				if (typeof keepalive !== "number" || !(keepalive >= 0 && keepalive <= 0xFFFF) || (keepalive | 0) !== keepalive)
					throw new RangeError(`keepalive must be 0 to 65535 seconds, got ${String(keepalive)}`);
				let remaining = 2 + stringBytes(name, "protocol name") + 1 + 1 + 2;
				const clientIdBytes = stringBytes(packet.clientId, "client id");
				if (clientIdBytes === 0 && !packet.clean)
					fail(MqttErrorCode.MALFORMED_PACKET, "an empty client id requires a clean session (MQTT-3.1.3-7)");
				strings.push(clientIdBytes);
				remaining += 2 + clientIdBytes;
				if (packet.will !== undefined) {
					const will = packet.will;
					if (will === null || typeof will !== "object") throw new TypeError("will must be an object");
					checkTopicName(will.topic);
					checkQoS(will.qos);
					const topicBytes = stringBytes(will.topic, "will topic");
					const payload = checkBytes(will.payload, "will payload");
					if (payload.length > MAX_STRING_BYTES) fail(MqttErrorCode.MALFORMED_PACKET, "will payload exceeds 65535 bytes");
					strings.push(topicBytes);
					remaining += 2 + topicBytes + 2 + payload.length;
				}
				if (packet.username !== undefined) {
					const userBytes = stringBytes(packet.username, "user name");
					strings.push(userBytes);
					remaining += 2 + userBytes;
				}
				if (packet.password !== undefined) {
					if (packet.username === undefined && level === 4)
						fail(MqttErrorCode.MALFORMED_PACKET, "a password requires a user name in MQTT 3.1.1");
					const password = checkBytes(packet.password, "password");
					if (password.length > MAX_STRING_BYTES) fail(MqttErrorCode.MALFORMED_PACKET, "password exceeds 65535 bytes");
					remaining += 2 + password.length;
				}
				plan.remaining = checkRemaining(remaining);
				return plan;
			}
			case PacketType.CONNACK:
				if (typeof packet.returnCode !== "number" || !(packet.returnCode >= 0 && packet.returnCode <= 255))
					throw new RangeError("CONNACK return code must be 0 to 255");
				plan.remaining = 2;
				return plan;
			case PacketType.SUBSCRIBE: {
				checkPacketId(packet.packetId);
				const subscriptions = packet.subscriptions;
				if (!Array.isArray(subscriptions) || subscriptions.length === 0)
					fail(MqttErrorCode.MALFORMED_PACKET, "SUBSCRIBE needs at least one topic filter");
				let remaining = 2;
				for (const subscription of subscriptions) {
					if (subscription === null || typeof subscription !== "object") throw new TypeError("subscription must be an object");
					checkTopicFilter(subscription.topic);
					checkQoS(subscription.qos);
					const bytes = stringBytes(subscription.topic, "topic filter");
					strings.push(bytes);
					remaining += 3 + bytes;
				}
				plan.remaining = checkRemaining(remaining);
				return plan;
			}
			case PacketType.SUBACK: {
				checkPacketId(packet.packetId);
				const codes = packet.returnCodes;
				if (!Array.isArray(codes) || codes.length === 0)
					fail(MqttErrorCode.MALFORMED_PACKET, "SUBACK needs at least one return code");
				for (const code of codes) {
					if (code !== 0 && code !== 1 && code !== 2 && code !== 0x80)
						fail(MqttErrorCode.MALFORMED_PACKET, `SUBACK return code must be 0, 1, 2 or 128, got ${String(code)}`);
				}
				plan.remaining = checkRemaining(2 + codes.length);
				return plan;
			}
			case PacketType.UNSUBSCRIBE: {
				checkPacketId(packet.packetId);
				const topics = packet.topics;
				if (!Array.isArray(topics) || topics.length === 0)
					fail(MqttErrorCode.MALFORMED_PACKET, "UNSUBSCRIBE needs at least one topic filter");
				let remaining = 2;
				for (const topic of topics) {
					checkTopicFilter(topic);
					const bytes = stringBytes(topic, "topic filter");
					strings.push(bytes);
					remaining += 2 + bytes;
				}
				plan.remaining = checkRemaining(remaining);
				return plan;
			}
			case PacketType.PUBACK:
			case PacketType.PUBREC:
			case PacketType.PUBREL:
			case PacketType.PUBCOMP:
			case PacketType.UNSUBACK:
				checkPacketId(packet.packetId);
				plan.remaining = 2;
				return plan;
			case PacketType.PINGREQ:
			case PacketType.PINGRESP:
			case PacketType.DISCONNECT:
				plan.remaining = 0;
				return plan;
			default:
				throw new TypeError(`unknown packet type ${String((packet as { type: unknown }).type)}`);
		}
	}

	#writeConnect(packet: ConnectPacket, out: Uint8Array, offset: number): number {
		const strings = this.#plan.strings;
		const name = packet.protocolName ?? "MQTT";
		const will = packet.will;
		let flags = packet.clean ? 0x02 : 0;
		if (will !== undefined) flags |= 0x04 | ((will.qos ?? 0) << 3) | (will.retain ? 0x20 : 0);
		if (packet.username !== undefined) flags |= 0x80;
		if (packet.password !== undefined) flags |= 0x40;
		offset = writeHeader(out, offset, 0x10, this.#plan.remaining);
		offset = writeString(out, offset, name, name.length);	// both protocol names are ASCII
		out[offset++] = packet.protocolLevel ?? 4;
		out[offset++] = flags;
		offset = writeUint16(out, offset, packet.keepalive ?? 0);
		let s = 0;
		offset = writeString(out, offset, packet.clientId, strings[s++]!);
		if (will !== undefined) {
			offset = writeString(out, offset, will.topic, strings[s++]!);
			offset = writeBinary(out, offset, will.payload ?? EMPTY);
		}
		if (packet.username !== undefined) offset = writeString(out, offset, packet.username, strings[s++]!);
		if (packet.password !== undefined) offset = writeBinary(out, offset, packet.password);
		return offset;
	}

	#writeConnack(packet: ConnackPacket, out: Uint8Array, offset: number): number {
		out[offset] = 0x20;
		out[offset + 1] = 2;
		out[offset + 2] = packet.sessionPresent ? 1 : 0;
		out[offset + 3] = packet.returnCode;
		return offset + 4;
	}

	#writeSubscribe(packet: SubscribePacket, out: Uint8Array, offset: number): number {
		const strings = this.#plan.strings;
		offset = writeHeader(out, offset, 0x82, this.#plan.remaining);
		offset = writeUint16(out, offset, packet.packetId);
		const subscriptions = packet.subscriptions;
		for (let i = 0; i < subscriptions.length; i++) {
			const subscription = subscriptions[i]!;
			offset = writeString(out, offset, subscription.topic, strings[i]!);
			out[offset++] = subscription.qos ?? 0;
		}
		return offset;
	}

	#writeSuback(packet: SubackPacket, out: Uint8Array, offset: number): number {
		offset = writeHeader(out, offset, 0x90, this.#plan.remaining);
		offset = writeUint16(out, offset, packet.packetId);
		const codes = packet.returnCodes;
		for (let i = 0; i < codes.length; i++) out[offset++] = codes[i]!;
		return offset;
	}

	#writeUnsubscribe(packet: UnsubscribePacket, out: Uint8Array, offset: number): number {
		const strings = this.#plan.strings;
		offset = writeHeader(out, offset, 0xA2, this.#plan.remaining);
		offset = writeUint16(out, offset, packet.packetId);
		const topics = packet.topics;
		for (let i = 0; i < topics.length; i++) offset = writeString(out, offset, topics[i]!, strings[i]!);
		return offset;
	}
}
