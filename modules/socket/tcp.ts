/*
 * TCP and TLS client socket in the ECMA-419 shape over the host's native
 * binding (the modem's offloaded TLS sockets on the nRF9160, mbedTLS in the
 * simulator host). TLS takes its CA, certificate and key from a modem security
 * tag, never from JavaScript, and resumes the session of the tag's last
 * connection to the host where the server still knows it (`resumed`). It
 * implements the MQTT client's StreamSocket.
 */

import { errnoName } from "../platform/errno.js";
import { SocketError, type SocketCallbacks, type SocketFactory, type StreamSocket } from "../platform/socket.js";

export interface TcpSocketOptions {
	/** Host name (resolved with DNS; every address it resolves to is tried in turn) or numeric address. */
	host?: string;
	address?: string;
	/**
	 * Simulator host only: numeric addresses tried in this order instead of
	 * resolving `host`, so tests can make the first address one nobody listens
	 * on. `host` still names the server for SNI and verification.
	 */
	addresses?: string[];
	port: number;
	/** TLS with the credentials of this modem security tag; plain TCP without it. */
	secTag?: number;
	/** Name for SNI and for verifying the server certificate; defaults to host. */
	hostname?: string;
	/** Require a server certificate signed by the tag's CA (default true). */
	verify?: boolean;
}

/** What the native socket reports: an errno (Zephyr numbering) and a message for people. */
function socketError(errno: number, message: string | undefined): SocketError {
	return new SocketError(errno, message ?? errnoName(errno));
}

/** What the native constructor takes: the checked options, the three callbacks and the error maker. */
interface NativeTcpOptions {
	address: string;
	addresses: string[] | undefined;
	port: number;
	secTag: number | undefined;
	hostname: string | undefined;
	verify: boolean | undefined;
}

/**
 * The C binding alone: each member is exactly one native call, in the form
 * mcconfig's xsc turns into the C function itself (no JavaScript frame).
 */
class NativeTcpSocket extends Native("xs_tcp_destructor") {
	constructor(options: NativeTcpOptions, onReadable: (count: number) => void, onWritable: (count: number) => void,
		onError: (errno?: number, message?: string) => void, makeError: (errno: number, message: string | undefined) => SocketError) {
		super();
		native("xs_tcp_constructor").call(this, options, onReadable, onWritable, onError, makeError);
	}

	read(count?: number): ArrayBuffer | undefined {
		return native("xs_tcp_read").call(this, count);
	}

	write(data: Uint8Array): number {
		return native("xs_tcp_write").call(this, data);
	}

	close(): void {
		native("xs_tcp_close").call(this);
	}

	/**
	 * Whether the TLS handshake resumed a session of an earlier connection to
	 * the same host name and port with the same security tag (an abbreviated handshake,
	 * one round trip less): false for a full handshake, plain TCP or a socket
	 * not connected yet; undefined where the binding cannot tell (the nRF9160
	 * modem keeps and offers sessions itself but does not say whether the
	 * server took one).
	 */
	get resumed(): boolean | undefined {
		return native("xs_tcp_resumed").call(this);
	}
}

/**
 * Failures while opening (name resolution, the security tag's credentials, a
 * connect that fails at once) throw a SocketError; later ones reach onError.
 * Bad arguments throw a TypeError or RangeError before the binding is called.
 */
export class TcpSocket extends NativeTcpSocket implements StreamSocket {
	constructor(options: TcpSocketOptions, callbacks: SocketCallbacks) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (callbacks === null || typeof callbacks !== "object") throw new TypeError("callbacks must be an object");
		const host = options.address ?? options.host;
		if (typeof host !== "string" || host.length === 0) throw new TypeError("host or address required");
		if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError("invalid port");
		const { addresses } = options;
		if (addresses !== undefined && (!Array.isArray(addresses) || addresses.length === 0 || addresses.some((a) => typeof a !== "string")))
			throw new TypeError("addresses must be a non-empty array of numeric addresses");
		const { onReadable, onWritable, onError } = callbacks;
		if (typeof onReadable !== "function" || typeof onWritable !== "function" || typeof onError !== "function")
			throw new TypeError("onReadable, onWritable and onError must be functions");
		super({ address: host, addresses, port: options.port, secTag: options.secTag, hostname: options.hostname ?? options.host, verify: options.verify },
			(count: number) => onReadable.call(callbacks, count),
			(count: number) => onWritable.call(callbacks, count),
			(errno?: number, message?: string) => onError.call(callbacks, errno === undefined ? undefined : socketError(errno, message)),
			socketError);
	}
}

/** A factory for MqttClient.connect(). */
export function tcpSocket(options: TcpSocketOptions): SocketFactory {
	return (callbacks) => new TcpSocket(options, callbacks);
}
