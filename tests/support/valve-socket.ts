/*
 * A StreamSocket over a real one whose send path the test blocks: while the
 * valve is shut, write() passes the bytes on but reports that no more may be
 * written once `allowance` bytes went through, as a socket whose peer stopped
 * reading does. Opening the valve reports the inner socket writable again.
 * Engine-neutral, for Node tests and XS suites alike.
 */

import type { SocketCallbacks, SocketFactory, StreamSocket } from "../../modules/platform/socket.js";

export class ValveSocket implements StreamSocket {
	readonly #inner: StreamSocket;
	readonly #callbacks: SocketCallbacks;
	#open = false;
	#allowance: number;
	/** What the inner socket last said may be written. */
	#innerWritable = 0;
	/** Bytes passed to the inner socket. */
	written = 0;
	/** Reads that returned bytes, and the most bytes one of them returned. */
	reads = 0;
	largestRead = 0;

	/** `allowance`: bytes that go through before the valve blocks (the CONNECT, say). */
	constructor(open: SocketFactory, callbacks: SocketCallbacks, allowance: number) {
		this.#callbacks = callbacks;
		this.#allowance = allowance;
		this.#inner = open({
			onReadable: (count) => callbacks.onReadable(count),
			onWritable: (count) => {
				this.#innerWritable = count;
				callbacks.onWritable(this.#reported(count));
			},
			onError: (error) => callbacks.onError(error),
		});
	}

	get isOpen(): boolean {
		return this.#open;
	}

	read(count?: number): ArrayBuffer | undefined {
		const data = this.#inner.read(count);
		if (data !== undefined) {
			this.reads++;
			this.largestRead = Math.max(this.largestRead, data.byteLength);
		}
		return data;
	}

	write(data: Uint8Array): number {
		if (data.length > this.#reported(this.#innerWritable)) throw new RangeError(`write of ${data.length} bytes while the valve allows ${this.#reported(this.#innerWritable)}`);
		this.#innerWritable = this.#inner.write(data);
		this.written += data.length;
		if (!this.#open) this.#allowance -= data.length;
		return this.#reported(this.#innerWritable);
	}

	close(): void {
		this.#inner.close();
	}

	/** Lets everything through from now on, and tells the owner it may write. */
	openValve(): void {
		this.#open = true;
		this.#callbacks.onWritable(this.#innerWritable);
	}

	#reported(count: number): number {
		return this.#open ? count : Math.max(0, Math.min(count, this.#allowance));
	}
}

/** A factory of valve sockets over `open`'s; `sockets` keeps them, newest last. */
export function valveSockets(open: SocketFactory, allowance: number): { factory: SocketFactory; sockets: ValveSocket[] } {
	const sockets: ValveSocket[] = [];
	return {
		factory: (callbacks) => {
			const socket = new ValveSocket(open, callbacks, allowance);
			sockets.push(socket);
			return socket;
		},
		sockets,
	};
}
