/*
 * A group of device messages as one buffer, for the store's message writer:
 * the cloud's thread writes the rows into it and transfers it to the writer
 * thread (no copy and no structured clone of one object per message); the
 * writer reads the rows back. Each row: device, topic, direction and payload
 * as a 32-bit byte length and UTF-8, then the received time as a float64.
 */

/** One message of a group: device, topic, direction, payload, received (ms). */
export type MessageRow = [string, string, string, string, number];

export class MessageGroupWriter {
	#buffer: Buffer;
	#length = 0;
	#rows = 0;

	constructor(capacity = 64 * 1024) {
		this.#buffer = Buffer.allocUnsafeSlow(capacity);
	}

	get rows(): number {
		return this.#rows;
	}

	add(deviceId: string, topic: string, direction: string, payload: string, received: number): void {
		// UTF-8 takes at most 3 bytes for each UTF-16 unit
		this.#reserve(4 * 4 + 3 * (deviceId.length + topic.length + direction.length + payload.length) + 8);
		this.#text(deviceId);
		this.#text(topic);
		this.#text(direction);
		this.#text(payload);
		this.#buffer.writeDoubleLE(received, this.#length);
		this.#length += 8;
		this.#rows++;
	}

	/** The written rows, in an ArrayBuffer of their own that can be transferred. */
	finish(): ArrayBuffer {
		// allocUnsafeSlow: a buffer of its own, never a SharedArrayBuffer or the shared pool
		const bytes = (this.#buffer.buffer as ArrayBuffer).slice(this.#buffer.byteOffset, this.#buffer.byteOffset + this.#length);
		this.#length = 0;
		this.#rows = 0;
		return bytes;
	}

	#text(value: string): void {
		const written = this.#buffer.write(value, this.#length + 4, "utf8");
		this.#buffer.writeUInt32LE(written, this.#length);
		this.#length += 4 + written;
	}

	#reserve(bytes: number): void {
		if (this.#length + bytes <= this.#buffer.length) return;
		const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.#buffer.length, this.#length + bytes));
		this.#buffer.copy(grown, 0, 0, this.#length);
		this.#buffer = grown;
	}
}

/** The rows of a group that MessageGroupWriter wrote; throws a RangeError on a truncated group. */
export function readMessageGroup(bytes: ArrayBuffer): MessageRow[] {
	const buffer = Buffer.from(bytes);
	const rows: MessageRow[] = [];
	let offset = 0;
	const text = (): string => {
		if (offset + 4 > buffer.length) throw new RangeError("truncated message group");
		const length = buffer.readUInt32LE(offset);
		const end = offset + 4 + length;
		if (end > buffer.length) throw new RangeError("truncated message group");
		const value = buffer.toString("utf8", offset + 4, end);
		offset = end;
		return value;
	};
	while (offset < buffer.length) {
		const row: MessageRow = [text(), text(), text(), text(), 0];
		if (offset + 8 > buffer.length) throw new RangeError("truncated message group");
		row[4] = buffer.readDoubleLE(offset);
		offset += 8;
		rows.push(row);
	}
	return rows;
}
