/*
 * The persisted form of the offline queue (docs/protocol.md §12.4): one record
 * per message and a position record kept in two slots. Every record starts with
 * a format version byte and ends with a CRC-32 of everything before it, so a
 * torn, truncated or damaged record decodes to undefined instead of a wrong
 * message.
 */

import { crc32 } from "../platform/crc32.js";

export const QUEUE_RECORD_VERSION = 1;
/** Version, kind, sequence number, tag and payload length. */
const MESSAGE_HEADER = 12;
const CHECK = 4;
export const MESSAGE_OVERHEAD = MESSAGE_HEADER + CHECK;
export const POSITION_LENGTH = 13 + CHECK;

/** Where a queued message goes once the connection is READY. */
export const QueueTopic = Object.freeze({
	/** The d2c topic the shadow names (sensorDataSend, send with TopicType.MESSAGE). */
	D2C: 0,
	/** The shadow update topic (send with TopicType.STATE). */
	STATE: 1,
} as const);
export type QueueTopicValue = typeof QueueTopic[keyof typeof QueueTopic];

export interface StoredMessage {
	/** Sequence number, unsigned 32-bit, in enqueue order. */
	seq: number;
	topic: QueueTopicValue;
	/** The application's tag (SENSOR_DATA_ACK), 0 for none. */
	tag: number;
	payload: Uint8Array;
}

/** The window of sequence numbers that may hold records: [first, next). */
export interface QueuePosition {
	/** Bumped by every write; the slot with the higher valid generation wins. */
	generation: number;
	first: number;
	next: number;
}

function seal(bytes: Uint8Array): Uint8Array {
	const end = bytes.length - CHECK;
	new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(end, crc32(bytes, 0, end), true);
	return bytes;
}

function sealed(bytes: Uint8Array): DataView | undefined {
	if (bytes.length < 1 + CHECK || bytes[0] !== QUEUE_RECORD_VERSION) return undefined;
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const end = bytes.length - CHECK;
	return view.getUint32(end, true) === crc32(bytes, 0, end) ? view : undefined;
}

export function encodeMessage(message: StoredMessage): Uint8Array {
	const bytes = new Uint8Array(MESSAGE_OVERHEAD + message.payload.length);
	const view = new DataView(bytes.buffer);
	bytes[0] = QUEUE_RECORD_VERSION;
	bytes[1] = message.topic;
	view.setUint32(2, message.seq >>> 0, true);
	view.setUint16(6, message.tag & 0xFFFF, true);
	view.setUint32(8, message.payload.length, true);
	bytes.set(message.payload, MESSAGE_HEADER);
	return seal(bytes);
}

/** The message, or undefined when the record is not an intact version-1 message record. */
export function decodeMessage(bytes: Uint8Array): StoredMessage | undefined {
	if (bytes.length < MESSAGE_OVERHEAD) return undefined;
	const view = sealed(bytes);
	if (view === undefined) return undefined;
	const topic = bytes[1]!;
	const length = view.getUint32(8, true);
	if ((topic !== QueueTopic.D2C && topic !== QueueTopic.STATE) || length !== bytes.length - MESSAGE_OVERHEAD) return undefined;
	return {
		seq: view.getUint32(2, true),
		topic: topic as QueueTopicValue,
		tag: view.getUint16(6, true),
		payload: bytes.slice(MESSAGE_HEADER, MESSAGE_HEADER + length),
	};
}

export function encodePosition(position: QueuePosition): Uint8Array {
	const bytes = new Uint8Array(POSITION_LENGTH);
	const view = new DataView(bytes.buffer);
	bytes[0] = QUEUE_RECORD_VERSION;
	view.setUint32(1, position.generation >>> 0, true);
	view.setUint32(5, position.first >>> 0, true);
	view.setUint32(9, position.next >>> 0, true);
	return seal(bytes);
}

export function decodePosition(bytes: Uint8Array): QueuePosition | undefined {
	if (bytes.length !== POSITION_LENGTH) return undefined;
	const view = sealed(bytes);
	if (view === undefined) return undefined;
	return { generation: view.getUint32(1, true), first: view.getUint32(5, true), next: view.getUint32(9, true) };
}
