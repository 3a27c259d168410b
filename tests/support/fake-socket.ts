/*
 * A StreamSocket the test drives by hand: it records what is written (as
 * decoded MQTT packets too), and the test decides when the connection is up,
 * what arrives and how it ends.
 */

import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import type { Packet } from "../../modules/mqtt/packet.js";
import type { SocketCallbacks, SocketError, SocketFactory, StreamSocket } from "../../modules/platform/socket.js";

export class FakeSocket implements StreamSocket {
	readonly callbacks: SocketCallbacks;
	readonly written: Uint8Array[] = [];
	readonly sent: Packet[] = [];
	readonly #incoming: Uint8Array[] = [];
	readonly #decoder = new MqttDecoder({ onPacket: (packet) => this.sent.push(packet) });
	readonly #encoder = new MqttEncoder();
	closed = false;

	constructor(callbacks: SocketCallbacks) {
		this.callbacks = callbacks;
	}

	read(count?: number): ArrayBuffer | undefined {
		const next = this.#incoming[0];
		if (next === undefined) return undefined;
		if (count === undefined || count >= next.length) {
			this.#incoming.shift();
			return next.slice().buffer;
		}
		this.#incoming[0] = next.subarray(count);
		return next.slice(0, count).buffer;
	}

	write(data: Uint8Array): number {
		if (this.closed) throw new Error("write after close");
		this.written.push(data.slice());
		this.#decoder.parse(data);
		return 1 << 16;
	}

	close(): void {
		this.closed = true;
	}

	/** The connection is up: the owner may write. */
	open(): void {
		this.callbacks.onWritable(1 << 16);
	}

	/** The peer sends `packet`. */
	receive(packet: Packet): void {
		this.#incoming.push(this.#encoder.encode(packet));
		this.callbacks.onReadable(1);
	}

	/** The peer sends raw bytes (part of a packet, or a header alone). */
	receiveBytes(bytes: Uint8Array): void {
		this.#incoming.push(bytes.slice());
		this.callbacks.onReadable(1);
	}

	/** The connection fails (or, without an error, the peer closes it). */
	fail(error?: SocketError): void {
		this.callbacks.onError(error);
	}
}

/** A factory of `make`'s sockets that keeps every socket it opened, newest last. */
export function keptSockets<T extends StreamSocket>(make: (callbacks: SocketCallbacks) => T): { factory: SocketFactory; sockets: T[]; last(): T } {
	const sockets: T[] = [];
	return {
		factory: (callbacks) => {
			const socket = make(callbacks);
			sockets.push(socket);
			return socket;
		},
		sockets,
		last: () => {
			const socket = sockets.at(-1);
			if (socket === undefined) throw new Error("no socket was opened");
			return socket;
		},
	};
}

/** A factory that keeps every socket it opened, newest last. */
export function fakeSockets(): { factory: SocketFactory; sockets: FakeSocket[]; last(): FakeSocket } {
	return keptSockets((callbacks) => new FakeSocket(callbacks));
}
