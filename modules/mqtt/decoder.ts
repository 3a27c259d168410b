/*
 * Incremental MQTT 3.1.1 parser. parse() takes bytes as they arrive (a frame may
 * be split at any byte; a chunk may hold many frames) and hands each complete
 * packet to onPacket. Memory is bounded: only one incomplete frame is kept, and a
 * frame whose header announces more than maxPacketSize bytes is refused before
 * its body is read. After a decoding error the stream cannot be resynchronised,
 * so the decoder stays failed (every parse() throws the same error) until reset().
 *
 * PUBLISH payloads are views into the chunk passed to parse() when the frame lies
 * inside it, and copies when the frame was reassembled; callers must not reuse a
 * chunk after passing it in.
 */

import { MqttError, MqttErrorCode, malformed } from "./errors.js";
import {
	MAX_REMAINING_LENGTH,
	PacketType,
	type ConnectPacket,
	type Packet,
	type PublishPacket,
	type QoS,
	type Subscription,
	type Will,
} from "./packet.js";
import { checkTopicFilter } from "./topic.js";
import type { DecoderOptions, PacketDecoder } from "./codec.js";
import { readMqttString } from "./strings.js";



export const MAX_FRAME_SIZE = MAX_REMAINING_LENGTH + 5;

/** Required fixed-header flags per type; -1: PUBLISH, checked separately. */
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];
const EMPTY_PENDING_LIMIT = 4096;
const MIN_PENDING = 8;

function invalidFlags(type: number, flags: number): MqttError {
	return new MqttError(MqttErrorCode.INVALID_FLAGS, `reserved flags 0x${flags.toString(16)} in packet type ${type}`);
}

function packetIdError(): MqttError {
	return new MqttError(MqttErrorCode.INVALID_PACKET_ID, "packet id 0 is not allowed");
}

function truncated(what: string): MqttError {
	return malformed(`${what} runs past the end of the packet`);
}

/** Reads a two-byte length-prefixed field's length, checking that it fits before `end`. */
function fieldLength(bytes: Uint8Array, pos: number, end: number, what: string): number {
	if (pos + 2 > end) throw truncated(what);
	const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
	if (pos + 2 + length > end) throw truncated(what);
	return length;
}

function readPacketId(bytes: Uint8Array, pos: number, end: number): number {
	if (pos + 2 > end) throw truncated("packet id");
	const id = (bytes[pos]! << 8) | bytes[pos + 1]!;
	if (id === 0) throw packetIdError();
	return id;
}

function hasWildcard(bytes: Uint8Array, start: number, end: number): boolean {
	for (let i = start; i < end; i++) {
		const b = bytes[i]!;
		if (b === 0x2B || b === 0x23) return true;
	}
	return false;
}

export class MqttDecoder implements PacketDecoder {
	readonly #maxPacketSize: number;
	readonly #onPacket: (packet: Packet) => void;
	#pending: Uint8Array | undefined = undefined;
	#pendingLength = 0;
	/** Total length of the frame in #pending; 0 while its header is incomplete. */
	#frameLength = 0;
	#error: MqttError | undefined = undefined;
	/** Bumped by reset() so a parse() interrupted by its own callback stops. */
	#generation = 0;
	/** Last inbound topic, to skip re-decoding a repeated topic. */
	#topicBytes = new Uint8Array(0);
	#topic = "";

	constructor(options: DecoderOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.onPacket !== "function") throw new TypeError("onPacket must be a function");
		const max = options.maxPacketSize ?? MAX_FRAME_SIZE;
		if (typeof max !== "number" || !(max >= 2 && max <= MAX_FRAME_SIZE) || Math.floor(max) !== max)
			throw new RangeError(`maxPacketSize must be an integer from 2 to ${MAX_FRAME_SIZE}`);
		this.#maxPacketSize = max;
		this.#onPacket = options.onPacket;
	}

	get buffered(): number {
		return this.#pendingLength;
	}

	get maxPacketSize(): number {
		return this.#maxPacketSize;
	}

	reset(): void {
		this.#pending = undefined;
		this.#pendingLength = 0;
		this.#frameLength = 0;
		this.#error = undefined;
		this.#generation++;
	}

	parse(chunk: Uint8Array): void {
		if (this.#error !== undefined) throw this.#error;
		if (!(chunk instanceof Uint8Array)) throw new TypeError("chunk must be a Uint8Array");
		const generation = this.#generation;
		const end = chunk.length;
		let pos = 0;
		if (this.#pendingLength > 0) {
			pos = this.#fill(chunk);
			if (this.#pendingLength > 0 || generation !== this.#generation) return;
		}
		while (pos < end) {
			const total = this.#frameTotal(chunk, pos, end);
			if (total < 0 || pos + total > end) {
				this.#stash(chunk, pos, end, total);
				return;
			}
			this.#deliver(chunk, pos, total, false);
			if (generation !== this.#generation) return;
			pos += total;
		}
	}

	#fail(error: unknown): never {
		if (error instanceof MqttError) {
			this.#error = error;
			this.#pending = undefined;
			this.#pendingLength = 0;
			this.#frameLength = 0;
		}
		throw error;
	}

	/** Frame length from the fixed header at `pos`, or -1 if the header is incomplete. */
	#frameTotal(bytes: Uint8Array, pos: number, end: number): number {
		const first = bytes[pos]!;
		const type = first >> 4;
		const flags = first & 0x0F;
		if (type === 0 || type === 15)
			this.#fail(new MqttError(MqttErrorCode.UNKNOWN_PACKET_TYPE, `unknown packet type ${type}`));
		const required = REQUIRED_FLAGS[type]!;
		if (required >= 0) {
			if (flags !== required) this.#fail(invalidFlags(type, flags));
		}
		else {
			const qos = (flags >> 1) & 3;
			if (qos === 3) this.#fail(new MqttError(MqttErrorCode.INVALID_QOS, "PUBLISH with QoS 3"));
			if (qos === 0 && (flags & 0x08) !== 0) this.#fail(invalidFlags(type, flags));
		}
		let remaining = 0;
		let shift = 0;
		let i = pos + 1;
		for (;;) {
			if (i >= end) return -1;
			const digit = bytes[i++]!;
			remaining += (digit & 0x7F) * 2 ** shift;
			if ((digit & 0x80) === 0) break;
			shift += 7;
			if (shift === 28)
				this.#fail(new MqttError(MqttErrorCode.MALFORMED_REMAINING_LENGTH, "remaining length longer than four bytes"));
		}
		const total = i - pos + remaining;
		if (total > this.#maxPacketSize)
			this.#fail(new MqttError(MqttErrorCode.PACKET_TOO_LARGE,
				`incoming packet of ${total} bytes exceeds the limit of ${this.#maxPacketSize}`));
		return total;
	}

	#stash(chunk: Uint8Array, pos: number, end: number, total: number): void {
		const length = end - pos;
		const capacity = Math.max(total, length, MIN_PENDING);
		let pending = this.#pending;
		if (pending === undefined || pending.length < capacity) pending = this.#pending = new Uint8Array(capacity);
		pending.set(chunk.subarray(pos, end), 0);
		this.#pendingLength = length;
		this.#frameLength = total < 0 ? 0 : total;
	}

	/** Completes the held-back frame from `chunk`; returns the bytes taken. */
	#fill(chunk: Uint8Array): number {
		const end = chunk.length;
		let pos = 0;
		let pending = this.#pending!;
		if (this.#frameLength === 0) {
			while (pos < end) {
				pending[this.#pendingLength++] = chunk[pos++]!;
				const total = this.#frameTotal(pending, 0, this.#pendingLength);
				if (total >= 0) {
					this.#frameLength = total;
					if (pending.length < total) {
						const larger = new Uint8Array(total);
						larger.set(pending.subarray(0, this.#pendingLength), 0);
						pending = this.#pending = larger;
					}
					break;
				}
			}
			if (this.#frameLength === 0) return pos;
		}
		const total = this.#frameLength;
		const take = Math.min(total - this.#pendingLength, end - pos);
		pending.set(chunk.subarray(pos, pos + take), this.#pendingLength);
		this.#pendingLength += take;
		pos += take;
		if (this.#pendingLength === total) {
			this.#pendingLength = 0;
			this.#frameLength = 0;
			if (pending.length > EMPTY_PENDING_LIMIT) this.#pending = undefined;
			this.#deliver(pending, 0, total, true);
		}
		return pos;
	}

	#deliver(bytes: Uint8Array, pos: number, total: number, copy: boolean): void {
		let packet: Packet;
		try {
			packet = this.#decode(bytes, pos, pos + total, copy);
		}
		catch (error) {
			this.#fail(error);
		}
		this.#onPacket(packet);
	}

	#decode(bytes: Uint8Array, start: number, end: number, copy: boolean): Packet {
		const first = bytes[start]!;
		let pos = start + 1;
		while (bytes[pos++]! & 0x80);
		const type = first >> 4;
		switch (type) {
			case PacketType.PUBLISH:
				return this.#decodePublish(bytes, pos, end, first, copy);
			case PacketType.PUBACK:
			case PacketType.PUBREC:
			case PacketType.PUBREL:
			case PacketType.PUBCOMP:
			case PacketType.UNSUBACK:
				if (end - pos !== 2) throw malformed(`packet type ${type} must have a remaining length of 2`);
				return { type, packetId: readPacketId(bytes, pos, end) };
			case PacketType.PINGREQ:
			case PacketType.PINGRESP:
			case PacketType.DISCONNECT:
				if (end !== pos) throw malformed(`packet type ${type} must have a remaining length of 0`);
				return { type };
			case PacketType.CONNACK: {
				if (end - pos !== 2) throw malformed("CONNACK must have a remaining length of 2");
				const ackFlags = bytes[pos]!;
				const returnCode = bytes[pos + 1]!;
				if ((ackFlags & 0xFE) !== 0) throw malformed("CONNACK flags bits 7 to 1 must be 0");
				if (returnCode > 5) throw malformed(`CONNACK return code ${returnCode} is reserved`);
				if (returnCode !== 0 && ackFlags !== 0) throw malformed("CONNACK refusing a connection must not set session present");
				return { type: PacketType.CONNACK, sessionPresent: ackFlags === 1, returnCode };
			}
			case PacketType.SUBSCRIBE: {
				const packetId = readPacketId(bytes, pos, end);
				pos += 2;
				if (pos === end) throw malformed("SUBSCRIBE without topic filters");
				const subscriptions: Subscription[] = [];
				while (pos < end) {
					const length = fieldLength(bytes, pos, end, "topic filter");
					const topic = readMqttString(bytes, pos + 2, pos + 2 + length);
					pos += 2 + length;
					if (pos >= end) throw truncated("requested QoS");
					const options = bytes[pos++]!;
					if (options > 2) throw new MqttError(MqttErrorCode.INVALID_QOS, `requested QoS byte 0x${options.toString(16)}`);
					checkTopicFilter(topic);
					subscriptions.push({ topic, qos: options as QoS });
				}
				return { type: PacketType.SUBSCRIBE, packetId, subscriptions };
			}
			case PacketType.SUBACK: {
				const packetId = readPacketId(bytes, pos, end);
				pos += 2;
				if (pos === end) throw malformed("SUBACK without return codes");
				const returnCodes: number[] = [];
				while (pos < end) {
					const code = bytes[pos++]!;
					if (code > 2 && code !== 0x80) throw malformed(`SUBACK return code 0x${code.toString(16)} is not allowed`);
					returnCodes.push(code);
				}
				return { type: PacketType.SUBACK, packetId, returnCodes };
			}
			case PacketType.UNSUBSCRIBE: {
				const packetId = readPacketId(bytes, pos, end);
				pos += 2;
				if (pos === end) throw malformed("UNSUBSCRIBE without topic filters");
				const topics: string[] = [];
				while (pos < end) {
					const length = fieldLength(bytes, pos, end, "topic filter");
					const topic = readMqttString(bytes, pos + 2, pos + 2 + length);
					checkTopicFilter(topic);
					topics.push(topic);
					pos += 2 + length;
				}
				return { type: PacketType.UNSUBSCRIBE, packetId, topics };
			}
			default:
				return decodeConnect(bytes, pos, end, copy);
		}
	}

	#decodePublish(bytes: Uint8Array, pos: number, end: number, first: number, copy: boolean): PublishPacket {
		const qos = ((first >> 1) & 3) as QoS;
		const topicLength = fieldLength(bytes, pos, end, "topic");
		pos += 2;
		const topicEnd = pos + topicLength;
		if (topicLength === 0) throw new MqttError(MqttErrorCode.INVALID_TOPIC, "PUBLISH with an empty topic");
		const topic = this.#readTopic(bytes, pos, topicEnd);
		pos = topicEnd;
		let packetId = 0;
		if (qos > 0) {
			packetId = readPacketId(bytes, pos, end);
			pos += 2;
		}
		return {
			type: PacketType.PUBLISH,
			topic,
			payload: copy ? bytes.slice(pos, end) : bytes.subarray(pos, end),
			qos,
			retain: (first & 1) !== 0,
			dup: (first & 8) !== 0,
			packetId,
		};
	}

	#readTopic(bytes: Uint8Array, start: number, end: number): string {
		const last = this.#topicBytes;
		const length = end - start;
		if (last.length === length) {
			let i = 0;
			while (i < length && last[i] === bytes[start + i]) i++;
			if (i === length) return this.#topic;
		}
		const topic = readMqttString(bytes, start, end);
		if (hasWildcard(bytes, start, end))
			throw new MqttError(MqttErrorCode.INVALID_TOPIC, `wildcard in PUBLISH topic "${topic}"`);
		this.#topicBytes = bytes.slice(start, end);
		this.#topic = topic;
		return topic;
	}
}

function decodeConnect(bytes: Uint8Array, pos: number, end: number, copy: boolean): ConnectPacket {
	const nameLength = fieldLength(bytes, pos, end, "protocol name");
	const protocolName = readMqttString(bytes, pos + 2, pos + 2 + nameLength);
	pos += 2 + nameLength;
	if (pos + 4 > end) throw truncated("CONNECT variable header");
	const protocolLevel = bytes[pos]!;
	const flags = bytes[pos + 1]!;
	const keepalive = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
	pos += 4;
	if (!((protocolName === "MQTT" && protocolLevel === 4) || (protocolName === "MQIsdp" && protocolLevel === 3)))
		throw new MqttError(MqttErrorCode.UNSUPPORTED_PROTOCOL, `protocol "${protocolName}" level ${protocolLevel} is not MQTT 3.1 or 3.1.1`);
	if ((flags & 0x01) !== 0) throw malformed("CONNECT reserved flag must be 0");
	const hasWill = (flags & 0x04) !== 0;
	const willQoS = (flags >> 3) & 3;
	const willRetain = (flags & 0x20) !== 0;
	const hasPassword = (flags & 0x40) !== 0;
	const hasUsername = (flags & 0x80) !== 0;
	if (!hasWill && (willQoS !== 0 || willRetain)) throw malformed("will QoS and retain must be 0 without a will");
	if (willQoS === 3) throw new MqttError(MqttErrorCode.INVALID_QOS, "will QoS 3");
	if (hasPassword && !hasUsername && protocolLevel === 4) throw malformed("password flag without user name flag");

	let length = fieldLength(bytes, pos, end, "client id");
	const clientId = readMqttString(bytes, pos + 2, pos + 2 + length);
	pos += 2 + length;
	let will: Will | undefined;
	if (hasWill) {
		length = fieldLength(bytes, pos, end, "will topic");
		const topic = readMqttString(bytes, pos + 2, pos + 2 + length);
		if (length === 0 || hasWildcard(bytes, pos + 2, pos + 2 + length))
			throw new MqttError(MqttErrorCode.INVALID_TOPIC, "will topic must be a topic name");
		pos += 2 + length;
		length = fieldLength(bytes, pos, end, "will message");
		const payload = copy ? bytes.slice(pos + 2, pos + 2 + length) : bytes.subarray(pos + 2, pos + 2 + length);
		pos += 2 + length;
		will = { topic, payload, qos: willQoS as QoS, retain: willRetain };
	}
	let username: string | undefined;
	if (hasUsername) {
		length = fieldLength(bytes, pos, end, "user name");
		username = readMqttString(bytes, pos + 2, pos + 2 + length);
		pos += 2 + length;
	}
	let password: Uint8Array | undefined;
	if (hasPassword) {
		length = fieldLength(bytes, pos, end, "password");
		password = bytes.slice(pos + 2, pos + 2 + length);
		pos += 2 + length;
	}
	if (pos !== end) throw malformed(`${end - pos} unexpected bytes after the CONNECT payload`);
	const packet: ConnectPacket = { type: PacketType.CONNECT, protocolName, protocolLevel, clientId, keepalive, clean: (flags & 0x02) !== 0 };
	if (will !== undefined) packet.will = will;
	if (username !== undefined) packet.username = username;
	if (password !== undefined) packet.password = password;
	return packet;
}
