/*
 * A byte-stream socket the test drives by hand, for protocols other than MQTT:
 * it records what the owner writes, honours the count of read(count) as the
 * native socket does (what is not read stays queued), and the test decides
 * when the connection is up, which bytes arrive and how it ends.
 */

import type { SocketCallbacks, SocketError, SocketFactory, StreamSocket } from "../../modules/platform/socket.js";
import { keptSockets } from "./fake-socket.js";

export class FakeStream implements StreamSocket {
	readonly callbacks: SocketCallbacks;
	readonly #written: number[] = [];
	#incoming = new Uint8Array(0);
	/** Every count passed to read(), undefined for "all". */
	readonly readCounts: Array<number | undefined> = [];
	/** What write() returns: the bytes that may still be written. */
	writable = 1 << 16;
	closed = false;

	constructor(callbacks: SocketCallbacks) {
		this.callbacks = callbacks;
	}

	/** Everything written so far, as Latin-1 text. */
	get text(): string {
		return Buffer.from(this.#written).toString("latin1");
	}

	/** Bytes received and not read yet. */
	get unread(): number {
		return this.#incoming.length;
	}

	read(count?: number): ArrayBuffer | undefined {
		this.readCounts.push(count);
		if (this.#incoming.length === 0) return undefined;
		const n = count === undefined ? this.#incoming.length : Math.min(count, this.#incoming.length);
		const chunk = this.#incoming.slice(0, n);
		this.#incoming = this.#incoming.slice(n);
		return chunk.buffer;
	}

	write(data: Uint8Array): number {
		if (this.closed) throw new Error("write after close");
		if (data.length > this.writable) throw new RangeError(`write of ${data.length} bytes exceeds the ${this.writable} writable`);
		this.#written.push(...data);
		this.writable -= data.length;
		return this.writable;
	}

	close(): void {
		this.closed = true;
	}

	/** The connection is up (or may take `count` more bytes). */
	open(count = 1 << 16): void {
		this.writable = count;
		this.callbacks.onWritable(count);
	}

	/** The peer sends `data` (Latin-1 text or bytes). */
	receive(data: string | Uint8Array): void {
		const bytes = typeof data === "string" ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : data;
		const joined = new Uint8Array(this.#incoming.length + bytes.length);
		joined.set(this.#incoming);
		joined.set(bytes, this.#incoming.length);
		this.#incoming = joined;
		this.callbacks.onReadable(this.#incoming.length);
	}

	/** The connection fails (or, without an error, the peer closes it). */
	fail(error?: SocketError): void {
		this.callbacks.onError(error);
	}
}

/** A factory that keeps every socket it opened, newest last. */
export function fakeStreams(): { factory: SocketFactory; sockets: FakeStream[]; last(): FakeStream } {
	return keptSockets((callbacks) => new FakeStream(callbacks));
}
