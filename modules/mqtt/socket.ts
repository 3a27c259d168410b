/*
 * The byte-stream socket the MQTT client talks to, in the shape of an ECMA-419
 * TCP socket: the owner gets onWritable when the connection is up and whenever
 * it may write again, onReadable when bytes arrived, onError when the connection
 * failed or ended. The nRF9160 modem TLS socket, the simulator host's native
 * socket and the Node socket used by unit tests all implement it.
 */

export interface SocketCallbacks {
	/** `count` bytes can be read. */
	onReadable(count: number): void;
	/** `count` bytes can be written now; the first call means "connected". */
	onWritable(count: number): void;
	/** The connection failed or was closed by the peer (no argument). No callbacks follow. */
	onError(error?: Error): void;
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
