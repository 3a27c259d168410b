/*
 * The byte-stream socket of the platform layer, in the shape of an ECMA-419 TCP
 * socket: the owner gets onWritable when the connection is up and whenever it
 * may write again, onReadable when bytes arrived, onError when the connection
 * failed or ended. MQTT and the HTTP download both stand on it; the nRF9160
 * modem TLS socket, the simulator host's native socket and the Node socket used
 * by unit tests implement it.
 */

/**
 * Why a connection failed or ended: an errno (Zephyr numbering, positive) that
 * callers compare, and a message for people. Callers never match the message.
 */
export class SocketError extends Error {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype,
		// and assigning "name" to an instance then fails on the inherited read-only property.
		Object.defineProperty(this.prototype, "name", { value: "SocketError", writable: true, configurable: true });
	}

	readonly errno: number;

	constructor(errno: number, message: string) {
		super(message);
		this.errno = errno;
	}
}

export interface SocketCallbacks {
	/** `count` bytes can be read. */
	onReadable(count: number): void;
	/** `count` bytes can be written now; the first call means "connected". */
	onWritable(count: number): void;
	/** The connection failed or was closed by the peer (no argument). No callbacks follow. */
	onError(error?: SocketError): void;
}

export interface StreamSocket {
	/** Returns received bytes (all that are available when `count` is omitted), or undefined when none are. */
	read(count?: number): ArrayBuffer | undefined;
	/** Queues bytes for sending, never more than the last writable count; returns the bytes that may still be written. */
	write(data: Uint8Array): number;
	/** Releases the socket. Idempotent; no callbacks follow. */
	close(): void;
}

/** Opens a connection that reports through `callbacks`. */
export type SocketFactory = (callbacks: SocketCallbacks) => StreamSocket;
