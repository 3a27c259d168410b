/*
 * A Node TCP or TLS socket behind the project's ECMA-419-shaped StreamSocket, so
 * the unchanged MQTT client runs under Node for tests, tools and benchmarks.
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { Errno } from "../../modules/platform/errno.js";
import { SocketError, type SocketCallbacks, type SocketFactory, type StreamSocket } from "../../modules/platform/socket.js";

export interface NodeTlsOptions {
	/** PEM text or DER of the CA certificates that may sign the server's certificate. */
	ca: string | Buffer | Array<string | Buffer>;
	/** Client certificate and key for mutual TLS. */
	cert?: string | Buffer;
	key?: string | Buffer;
	/** SNI and certificate host name; defaults to `host`. */
	servername?: string;
}

export interface NodeSocketOptions {
	host: string;
	port: number;
	tls?: NodeTlsOptions;
	/** Bytes the socket accepts before write() reports it is full. Default 65536. */
	writeCapacity?: number;
}

export class NodeStreamSocket implements StreamSocket {
	readonly #socket: net.Socket;
	readonly #callbacks: SocketCallbacks;
	readonly #capacity: number;
	readonly #received: Buffer[] = [];
	#receivedBytes = 0;
	#closed = false;

	constructor(options: NodeSocketOptions, callbacks: SocketCallbacks) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.host !== "string" || options.host.length === 0) throw new TypeError("host required");
		if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError("invalid port");
		this.#callbacks = callbacks;
		this.#capacity = options.writeCapacity ?? 65536;
		const onConnected = (): void => {
			if (!this.#closed) this.#callbacks.onWritable(this.#writable());
		};
		if (options.tls !== undefined) {
			const servername = options.tls.servername ?? options.host;
			this.#socket = tls.connect({
				host: options.host,
				port: options.port,
				ca: options.tls.ca,
				cert: options.tls.cert,
				key: options.tls.key,
				servername: net.isIP(servername) === 0 ? servername : undefined,
				checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(servername, certificate),
				rejectUnauthorized: true,
			}, onConnected);
		}
		else {
			this.#socket = net.connect({ host: options.host, port: options.port }, onConnected);
		}
		this.#socket.setNoDelay(true);
		this.#socket.on("data", (data: Buffer) => {
			if (this.#closed) return;
			this.#received.push(data);
			this.#receivedBytes += data.length;
			this.#callbacks.onReadable(this.#receivedBytes);
		});
		this.#socket.on("drain", () => {
			if (!this.#closed) this.#callbacks.onWritable(this.#writable());
		});
		this.#socket.on("end", () => this.#fail(undefined));
		this.#socket.on("close", () => this.#fail(undefined));
		this.#socket.on("error", (error: Error) => this.#fail(error));
	}

	read(count?: number): ArrayBuffer | undefined {
		if (this.#closed || this.#receivedBytes === 0) return undefined;
		const wanted = count === undefined ? this.#receivedBytes : Math.min(count, this.#receivedBytes);
		const out = new Uint8Array(wanted);
		let filled = 0;
		while (filled < wanted) {
			const head = this.#received[0]!;
			const take = Math.min(head.length, wanted - filled);
			out.set(head.subarray(0, take), filled);
			filled += take;
			if (take === head.length) this.#received.shift();
			else this.#received[0] = head.subarray(take);
		}
		this.#receivedBytes -= wanted;
		return out.buffer;
	}

	write(data: Uint8Array): number {
		if (this.#closed) throw new Error("socket is closed");
		this.#socket.write(data);
		return this.#writable();
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#socket.writableLength > 0) this.#socket.end();
		else this.#socket.destroy();
	}

	#writable(): number {
		return Math.max(0, this.#capacity - this.#socket.writableLength);
	}

	#fail(error: Error | undefined): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#socket.destroy();
		this.#callbacks.onError(error === undefined ? undefined : socketError(error));
	}
}

/** Node's error codes as the Zephyr errno a device's socket would report. */
const NODE_ERRNO: Readonly<Record<string, number>> = {
	ENOTFOUND: Errno.EHOSTUNREACH,
	EAI_AGAIN: Errno.EHOSTUNREACH,
	EHOSTUNREACH: Errno.EHOSTUNREACH,
	ENETUNREACH: Errno.ENETUNREACH,
	ECONNREFUSED: Errno.ECONNREFUSED,
	ECONNRESET: Errno.ECONNRESET,
	EPIPE: Errno.EPIPE,
	ETIMEDOUT: Errno.ETIMEDOUT,
	ENOMEM: Errno.ENOMEM,
};

function socketError(error: Error): SocketError {
	const code = (error as NodeJS.ErrnoException).code;
	let errno: number = Errno.EIO;
	if (code !== undefined && NODE_ERRNO[code] !== undefined) errno = NODE_ERRNO[code]!;
	// TLS failures (certificate checks, alerts) carry OpenSSL codes: the handshake was refused.
	else if (code !== undefined && (code.startsWith("ERR_SSL") || code.includes("CERT") || code.startsWith("ERR_TLS"))) errno = Errno.ECONNREFUSED;
	return new SocketError(errno, error.message);
}

export function nodeSocket(options: NodeSocketOptions): SocketFactory {
	return (callbacks) => new NodeStreamSocket(options, callbacks);
}
