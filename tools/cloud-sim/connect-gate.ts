/*
 * MQTT lets a client send packets right after CONNECT, before CONNACK. AWS IoT
 * answers them after the CONNACK; aedes starts handling them while the CONNECT
 * is still being authorised and can acknowledge a PUBLISH before it sends
 * CONNACK. The gate hands the broker the CONNECT alone and holds every later
 * byte until the broker has written its first bytes (the CONNACK).
 *
 * With a throttle the gate also counts the connection's PUBLISH packets and
 * discards those over the service's rate (the broker never sees them, so they
 * get no PUBACK), closing the connection when the client keeps on (limits.ts).
 *
 * A taker (`takePublish`) may take PUBLISH packets on the way, which the broker
 * then never sees: the embedded broker's path for the device messages the cloud
 * keeps. It acknowledges them with `acknowledge`, and the PUBACKs of one turn
 * of the event loop (one group commit) go out in one write. A packet is offered
 * only when the broker has read everything before it, so that packets are
 * taken up in the order they came.
 */

import { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { PublishThrottle } from "./limits.js";

/** Length of the first MQTT packet in `bytes`, or undefined while its header is incomplete. */
function firstPacketLength(bytes: Buffer): number | undefined {
	let remaining = 0;
	let multiplier = 1;
	for (let i = 1; i < 5; i++) {
		if (i >= bytes.length) return undefined;
		const byte = bytes[i]!;
		remaining += (byte & 0x7F) * multiplier;
		multiplier *= 128;
		if ((byte & 0x80) === 0) return 1 + i + remaining;
	}
	// A malformed length: let the broker see it and refuse the connection.
	return bytes.length;
}

/** A remaining length that goes on past its four bytes. */
function malformedLength(bytes: Buffer): boolean {
	if (bytes.length < 5) return false;
	for (let i = 1; i < 5; i++) if ((bytes[i]! & 0x80) === 0) return false;
	return true;
}

const PUBLISH = 3;

/** Takes a whole PUBLISH frame: true when it has been taken (and will be acknowledged through the gate). */
export type PublishTaker = (frame: Buffer) => boolean;

export class ConnectGate extends Duplex {
	readonly socket: TLSSocket;
	#head = Buffer.alloc(0);
	/** Bytes of the first packet still to pass; -1 until its length is known. */
	#connectLeft = -1;
	#held: Buffer[] = [];
	#open = false;
	readonly #throttle: PublishThrottle | undefined;
	readonly #onThrottled: (closing: boolean) => void;
	/** The start of a frame that has not fully arrived, while the throttle frames the stream. */
	#partial: Buffer | undefined = undefined;
	/** Set after a malformed length: what follows goes to the broker unframed, and it refuses it. */
	#unframed = false;
	#taker: PublishTaker | undefined = undefined;
	/** Packet ids of taken publishes to acknowledge at the end of this turn of the event loop. */
	#acks: number[] = [];

	constructor(socket: TLSSocket, throttle?: PublishThrottle, onThrottled: (closing: boolean) => void = () => undefined) {
		super();
		this.socket = socket;
		this.#throttle = throttle;
		this.#onThrottled = onThrottled;
		socket.on("data", (data: Buffer) => this.#received(data));
		socket.on("end", () => this.push(null));
		socket.on("error", (error) => this.destroy(error));
		socket.on("close", () => this.destroy());
	}

	#received(data: Buffer): void {
		if (this.#open) {
			this.#pass(data);
			return;
		}
		if (this.#connectLeft < 0) {
			this.#head = Buffer.concat([this.#head, data]);
			const length = firstPacketLength(this.#head);
			if (length === undefined) return;
			const passed = this.#head.subarray(0, length);
			this.#connectLeft = length - passed.length;
			this.push(passed);
			if (this.#head.length > length) this.#held.push(this.#head.subarray(length));
			this.#head = Buffer.alloc(0);
			return;
		}
		if (this.#connectLeft > 0) {
			const passed = data.subarray(0, this.#connectLeft);
			this.#connectLeft -= passed.length;
			this.push(passed);
			data = data.subarray(passed.length);
		}
		if (data.length > 0) this.#held.push(data);
	}

	/** Offers the PUBLISH packets after this call's CONNECT to `taker`. */
	set takePublish(taker: PublishTaker) {
		if (typeof taker !== "function") throw new TypeError("takePublish needs a function");
		this.#taker = taker;
	}

	/**
	 * Sends the PUBACK of a taken publish, with the others of this turn of the
	 * event loop; nothing once the connection is closing (the device sends the
	 * message again on its next connection).
	 */
	acknowledge(packetId: number): void {
		if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xFFFF) throw new RangeError(`not a packet id: ${packetId}`);
		if (this.#acks.push(packetId) === 1) process.nextTick(() => this.#flushAcks());
	}

	#flushAcks(): void {
		const acks = this.#acks;
		this.#acks = [];
		if (this.destroyed || this.writableEnded) return;
		const bytes = Buffer.allocUnsafe(4 * acks.length);
		for (let i = 0; i < acks.length; i++) {
			bytes[4 * i] = 0x40;
			bytes[4 * i + 1] = 2;
			bytes.writeUInt16BE(acks[i]!, 4 * i + 2);
		}
		this.write(bytes);
	}

	/** Hands bytes after the CONNECT to the broker, without the publishes the throttle discards or the taker takes. */
	#pass(data: Buffer): void {
		if ((!this.#throttle && !this.#taker) || this.#unframed) {
			this.push(data);
			return;
		}
		let bytes = this.#partial ? Buffer.concat([this.#partial, data]) : data;
		this.#partial = undefined;
		while (bytes.length > 0) {
			if (malformedLength(bytes)) {
				this.#unframed = true;
				this.push(bytes);
				return;
			}
			const length = firstPacketLength(bytes);
			if (length === undefined || length > bytes.length) {
				this.#partial = bytes;
				return;
			}
			const frame = bytes.subarray(0, length);
			bytes = bytes.subarray(length);
			if (frame[0]! >> 4 !== PUBLISH) {
				this.push(frame);
				continue;
			}
			const verdict = this.#throttle ? this.#throttle.next() : "pass";
			if (verdict === "pass") {
				if (!(this.#taker && this.readableLength === 0 && this.#taker(frame))) this.push(frame);
				continue;
			}
			this.#onThrottled(verdict === "disconnect");
			if (verdict === "disconnect") {
				this.socket.destroy();
				return;
			}
		}
	}

	override _read(): void {
		// Data is pushed as it arrives.
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		this.socket.write(chunk, callback);
		this.#opened();
	}

	/**
	 * What the broker wrote while the stream was corked (mqtt-packet corks each
	 * packet until the next tick; the PUBACKs of one group commit come in one
	 * tick) goes out as one TLS write: one record and one system call, not one
	 * for every piece of every packet.
	 */
	override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
		this.socket.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
		this.#opened();
	}

	/** The broker has written its first bytes (the CONNACK): the held packets go to it now. */
	#opened(): void {
		if (this.#open) return;
		this.#open = true;
		for (const data of this.#held.splice(0)) this.#pass(data);
	}

	override _final(callback: (error?: Error | null) => void): void {
		this.socket.end(callback);
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		this.socket.destroy();
		callback(error);
	}

	getPeerCertificate(): ReturnType<TLSSocket["getPeerCertificate"]> {
		return this.socket.getPeerCertificate();
	}

	/** Whether the TLS handshake resumed an earlier session. */
	isSessionReused(): boolean {
		return this.socket.isSessionReused();
	}
}
