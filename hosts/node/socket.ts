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
	/**
	 * Received bytes held for read() before the socket stops taking more from
	 * the network (TCP then holds the peer back), as the device's socket bounds
	 * its receive buffer; it takes more again at half. Default 65536.
	 */
	readLimit?: number;
}

export class NodeStreamSocket implements StreamSocket {
	readonly #socket: net.Socket;
	readonly #callbacks: SocketCallbacks;
	readonly #capacity: number;
	readonly #readLimit: number;
	readonly #received: Buffer[] = [];
	#receivedBytes = 0;
	#paused = false;
	/** The peer ended the connection; that is reported once everything received was read. */
	#ending = false;
	#closed = false;
	/** The connection (with TLS, the handshake) is up: onWritable was called. */
	#up = false;

	constructor(options: NodeSocketOptions, callbacks: SocketCallbacks) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.host !== "string" || options.host.length === 0) throw new TypeError("host required");
		if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError("invalid port");
		this.#callbacks = callbacks;
		this.#capacity = options.writeCapacity ?? 65536;
		this.#readLimit = options.readLimit ?? 65536;
		if (!Number.isInteger(this.#readLimit) || this.#readLimit < 1) throw new RangeError("readLimit must be a positive integer");
		const onConnected = (): void => {
			this.#up = true;
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
			if (this.#receivedBytes >= this.#readLimit && !this.#paused) {
				this.#paused = true;
				this.#socket.pause();
			}
			this.#callbacks.onReadable(this.#receivedBytes);
		});
		this.#socket.on("drain", () => {
			if (!this.#closed) this.#callbacks.onWritable(this.#writable());
		});
		// Before the connection is up an end is a failure whose error (or close) follows; after, the peer closed.
		this.#socket.on("end", () => { if (this.#up) this.#peerEnded(); });
		this.#socket.on("close", () => {
			if (this.#up) this.#peerEnded();
			else this.#fail(new SocketError(Errno.ECONNREFUSED, "connection closed before it was up"));
		});
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
		if (this.#paused && this.#receivedBytes < this.#readLimit / 2) {
			this.#paused = false;
			this.#socket.resume();
		}
		// Reported from the event loop, not from inside the owner's read().
		if (this.#ending && this.#receivedBytes === 0) setImmediate(() => this.#fail(undefined));
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

	/** The peer closed: at once when everything received was read, else after the last read. */
	#peerEnded(): void {
		if (this.#receivedBytes === 0) this.#fail(undefined);
		else this.#ending = true;
	}

	#fail(error: Error | undefined): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#socket.destroy();
		this.#callbacks.onError(error === undefined ? undefined : socketError(error, this.#up));
	}
}

/** Node's error codes as the Zephyr errno a device's socket would report. */
const NODE_ERRNO: Readonly<Record<string, number>> = {
	ENOTFOUND: Errno.EHOSTUNREACH,
	EAI_AGAIN: Errno.EHOSTUNREACH,
	EAI_FAIL: Errno.EHOSTUNREACH,
	EAI_NONAME: Errno.EHOSTUNREACH,
	EHOSTUNREACH: Errno.EHOSTUNREACH,
	EADDRNOTAVAIL: Errno.EHOSTUNREACH,
	ENETUNREACH: Errno.ENETUNREACH,
	ENETDOWN: Errno.ENETDOWN,
	ECONNREFUSED: Errno.ECONNREFUSED,
	ECONNRESET: Errno.ECONNRESET,
	ECONNABORTED: Errno.ECONNABORTED,
	EPIPE: Errno.EPIPE,
	ETIMEDOUT: Errno.ETIMEDOUT,
	ENOMEM: Errno.ENOMEM,
};

/**
 * OpenSSL's verification results as Node reports them in `code`: the server's
 * certificate was not accepted, which the modem reports as EOPNOTSUPP.
 */
const CERTIFICATE_VERIFICATION = new Set([
	"UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
	"UNABLE_TO_DECRYPT_CERT_SIGNATURE", "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "CERT_SIGNATURE_FAILURE",
	"CERT_NOT_YET_VALID", "CERT_HAS_EXPIRED", "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD",
	"DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "CERT_CHAIN_TOO_LONG", "CERT_REVOKED", "INVALID_CA",
	"PATH_LENGTH_EXCEEDED", "INVALID_PURPOSE", "CERT_UNTRUSTED", "CERT_REJECTED", "HOSTNAME_MISMATCH",
	"ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * The SocketError for a Node error. Before the connection is up (`up` false) a
 * reset or broken pipe is the server ending the TLS handshake: ECONNREFUSED,
 * as the modem reports a failed handshake.
 */
export function socketError(error: Error, up = true): SocketError {
	if (error instanceof SocketError) return error;
	const code = (error as NodeJS.ErrnoException).code;
	let errno: number = Errno.EIO;
	if (code !== undefined && NODE_ERRNO[code] !== undefined) errno = NODE_ERRNO[code]!;
	else if (code !== undefined && CERTIFICATE_VERIFICATION.has(code)) errno = Errno.EOPNOTSUPP;
	// Other TLS failures (alerts from the server, for one about our own certificate, and handshake errors): refused.
	else if (code !== undefined && (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS"))) errno = Errno.ECONNREFUSED;
	if (!up && (errno === Errno.ECONNRESET || errno === Errno.EPIPE)) errno = Errno.ECONNREFUSED;
	return new SocketError(errno, error.message);
}

export function nodeSocket(options: NodeSocketOptions): SocketFactory {
	return (callbacks) => new NodeStreamSocket(options, callbacks);
}
