/*
 * The FOTA image download: HTTP/1.1 GET of one byte range per fragment over a
 * connection kept alive from fragment to fragment, as NCS's download client
 * fetches an image for nrf_cloud_fota. Each fragment goes to the consumer as
 * it completes, from one buffer reused for the whole download, so memory does
 * not grow with the image. A dropped link is reconnected after an exponential
 * back-off and the download resumes at the first byte not yet delivered;
 * attempts that make no progress are bounded. The caller builds the socket
 * (TLS with the device's security tag on the device), so this layer knows
 * nothing of TLS, MQTT or nRF Cloud.
 */

import { checkClock, systemClock, type Clock, type TimerHandle } from "../platform/clock.js";
import { Errno } from "../platform/errno.js";
import { SocketError, type SocketCallbacks, type SocketFactory, type StreamSocket } from "../platform/socket.js";
import { contentLength, DEFAULT_HEAD_LIMIT, keepsAlive, parseContentRange, ResponseError, ResponseHeadParser, unsatisfiedRangeTotal, type ResponseHead } from "./response.js";

export interface DownloadOptions {
	/**
	 * Opens one connection to the server (TLS with the device's sec tag and
	 * hostname verification on the device; the caller builds it). Called again
	 * to reconnect.
	 */
	connect: SocketFactory;
	/** For the Host header: the job document's host, no scheme (a ":port" may follow). */
	host: string;
	/** The job document's path; a leading "/" is added when missing. */
	path: string;
	/** Bytes per Range request, default 1700 (CONFIG_NRF_CLOUD_FOTA_DOWNLOAD_FRAGMENT_SIZE). */
	fragmentSize?: number;
	/** First byte to fetch (resume), default 0. */
	offset?: number;
	/** Expected image size; a server total that differs is an error. */
	size?: number;
	/** Reconnects allowed without progress before giving up, default 5. */
	retries?: number;
	/** Wait between reconnects, doubling from minMs up to maxMs; default 500 to 8000. */
	backoff?: { minMs: number; maxMs: number };
	/** A connection that brings no byte for this long counts as dropped; default 30000. */
	timeoutMs?: number;
	/** Longest response head accepted, default 2048 bytes. */
	headLimit?: number;
	clock?: Clock;
	/**
	 * One fragment, in order, `offset` = its first byte. Synchronous; `bytes`
	 * is valid only during the call (the client reuses one fragment buffer).
	 * Throwing aborts the download with reason "consumer".
	 */
	onFragment(bytes: Uint8Array, offset: number): void;
	onDone(size: number): void;
	onError(error: DownloadError): void;
}

/**
 * connect: no connection came up; link: it dropped or stalled; http: a status
 * other than 200/206; size: the server's size differs from the expected one;
 * protocol: a malformed or contradicting response; consumer: onFragment threw.
 */
export type DownloadFailure = "connect" | "link" | "http" | "size" | "protocol" | "consumer";

export class DownloadError extends Error {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype.
		Object.defineProperty(this.prototype, "name", { value: "DownloadError", writable: true, configurable: true });
	}

	readonly reason: DownloadFailure;
	/** The socket's errno when reason is connect or link (undefined when the peer just closed). */
	readonly errno: number | undefined;
	/** The HTTP status when reason is http. */
	readonly status: number | undefined;
	/** Bytes delivered before the failure (the start offset included). */
	readonly offset: number;

	constructor(reason: DownloadFailure, message: string, details: { offset: number; errno?: number | undefined; status?: number | undefined; cause?: unknown }) {
		super(message);
		this.reason = reason;
		this.errno = details.errno;
		this.status = details.status;
		this.offset = details.offset;
		if (details.cause !== undefined) Object.defineProperty(this, "cause", { value: details.cause, writable: true, configurable: true });
	}
}

export interface DownloadStats {
	/** GET requests sent. */
	requests: number;
	/** Connections opened (each call of `connect` that returned a socket). */
	connections: number;
	/** Response body bytes received, including any the client had to skip. */
	bodyBytes: number;
}

export const DEFAULT_FRAGMENT_SIZE = 1700;
const DEFAULT_RETRIES = 5;
const DEFAULT_BACKOFF = Object.freeze({ minMs: 500, maxMs: 8000 });
const DEFAULT_TIMEOUT_MS = 30000;
const MAX_FRAGMENT_SIZE = 65536;

type Phase = "connecting" | "head" | "body" | "waiting" | "finished";

/** Printable ASCII without space: what may stand in a request line or a Host field unescaped. */
function isVisibleAscii(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c <= 0x20 || c >= 0x7F) return false;
	}
	return true;
}

function asciiBytes(text: string): Uint8Array {
	const bytes = new Uint8Array(text.length);
	for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
	return bytes;
}

function checkCount(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
	if (typeof value !== "number") throw new TypeError(`${name} must be a number`);
	if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
	return value;
}

export class Download {
	readonly #connect: SocketFactory;
	readonly #host: string;
	readonly #path: string;
	readonly #fragmentSize: number;
	readonly #retries: number;
	readonly #backoff: { minMs: number; maxMs: number };
	readonly #timeoutMs: number;
	readonly #clock: Clock;
	readonly #onFragment: (bytes: Uint8Array, offset: number) => void;
	readonly #onDone: (size: number) => void;
	readonly #onError: (error: DownloadError) => void;
	readonly #parser: ResponseHeadParser;
	/** The one fragment buffer, reused for every fragment. */
	readonly #fragment: Uint8Array;
	readonly #stats: DownloadStats = { requests: 0, connections: 0, bodyBytes: 0 };

	#phase: Phase = "connecting";
	/** Inside the constructor: failures are reported from a timer, never before the caller has the object. */
	#starting = true;
	#offset: number;
	#size: number | undefined;
	/** Failed connections since the last delivered fragment. */
	#attempts = 0;
	#retryTimer: TimerHandle | undefined;
	#idleTimer: TimerHandle | undefined;

	// The current connection.
	#socket: StreamSocket | undefined;
	/** Tells the callbacks of an abandoned connection from the current one. */
	#connection = 0;
	#connected = false;
	#writable = 0;
	#request: Uint8Array | undefined;
	#requestSent = 0;
	/** Responses completed on this connection. */
	#responses = 0;

	// The current response.
	#requestEnd = 0;
	#bodyLeft = 0;
	/** Body bytes to discard first (a 200 answer to a resumed download). */
	#skip = 0;
	#fill = 0;
	#fragmentTarget = 0;
	#keepAlive = true;
	#finalResponse = false;
	/** The body of the current response has been read whole. */
	#complete = false;

	constructor(options: DownloadOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		const { connect, host, path, onFragment, onDone, onError } = options;
		if (typeof connect !== "function") throw new TypeError("connect must be a socket factory");
		if (typeof host !== "string" || host.length === 0 || !isVisibleAscii(host) || host.includes("/"))
			throw new TypeError("host must be a host name (printable ASCII, no scheme or path)");
		if (typeof path !== "string" || path.length === 0 || !isVisibleAscii(path))
			throw new TypeError("path must be non-empty printable ASCII without spaces");
		if (typeof onFragment !== "function" || typeof onDone !== "function" || typeof onError !== "function")
			throw new TypeError("onFragment, onDone and onError must be functions");
		this.#fragmentSize = options.fragmentSize === undefined ? DEFAULT_FRAGMENT_SIZE : checkCount(options.fragmentSize, "fragmentSize", 1, MAX_FRAGMENT_SIZE);
		this.#offset = options.offset === undefined ? 0 : checkCount(options.offset, "offset", 0);
		this.#size = options.size === undefined ? undefined : checkCount(options.size, "size", 0);
		if (this.#size !== undefined && this.#offset > this.#size) throw new RangeError(`offset ${this.#offset} is past the size ${this.#size}`);
		this.#retries = options.retries === undefined ? DEFAULT_RETRIES : checkCount(options.retries, "retries", 0, 1000);
		const backoff = options.backoff ?? DEFAULT_BACKOFF;
		if (backoff === null || typeof backoff !== "object") throw new TypeError("backoff must be { minMs, maxMs }");
		const minMs = checkCount(backoff.minMs, "backoff.minMs", 0, 3600000);
		const maxMs = checkCount(backoff.maxMs, "backoff.maxMs", minMs, 3600000);
		this.#backoff = { minMs, maxMs };
		this.#timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkCount(options.timeoutMs, "timeoutMs", 1, 3600000);
		this.#clock = options.clock === undefined ? systemClock : checkClock(options.clock);
		this.#parser = new ResponseHeadParser(options.headLimit === undefined ? DEFAULT_HEAD_LIMIT : checkCount(options.headLimit, "headLimit", 16, 65536));
		this.#connect = connect;
		this.#host = host;
		this.#path = path.startsWith("/") ? path : `/${path}`;
		this.#onFragment = onFragment;
		this.#onDone = onDone;
		this.#onError = onError;
		this.#fragment = new Uint8Array(this.#fragmentSize);
		if (this.#size !== undefined && this.#offset === this.#size) {
			// Nothing left to fetch (a download resumed after its last fragment).
			this.#phase = "waiting";
			this.#retryTimer = this.#clock.setTimeout(() => this.#finish(), 0);
		}
		else this.#open();
		this.#starting = false;
	}

	/** Bytes delivered to onFragment so far, plus the start offset. */
	get offset(): number {
		return this.#offset;
	}

	/** The image size: the expected one, or the server's once a response gave it. */
	get size(): number | undefined {
		return this.#size;
	}

	get stats(): DownloadStats {
		return { ...this.#stats };
	}

	/** Stops the download; idempotent, no callbacks after it. */
	close(): void {
		this.#phase = "finished";
		this.#release();
	}

	#release(): void {
		if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
		this.#retryTimer = undefined;
		this.#disconnect();
	}

	#disconnect(): void {
		if (this.#idleTimer !== undefined) this.#clock.clearTimeout(this.#idleTimer);
		this.#idleTimer = undefined;
		const socket = this.#socket;
		this.#socket = undefined;
		this.#connection++;
		this.#request = undefined;
		if (socket !== undefined) socket.close();
	}

	#open(): void {
		this.#retryTimer = undefined;
		this.#phase = "connecting";
		this.#connected = false;
		this.#writable = 0;
		this.#responses = 0;
		const connection = ++this.#connection;
		const callbacks: SocketCallbacks = {
			onWritable: (count) => {
				if (connection === this.#connection) this.#writableNow(count);
			},
			onReadable: () => {
				if (connection === this.#connection) this.#readable();
			},
			onError: (error) => {
				if (connection === this.#connection) this.#dropped(error);
			},
		};
		this.#watch();
		let socket: StreamSocket;
		try {
			socket = this.#connect(callbacks);
		}
		catch (error) {
			if (connection !== this.#connection) return;
			this.#linkFailed("connect", error instanceof SocketError ? error.errno : undefined, `could not open a connection: ${error instanceof Error ? error.message : String(error)}`);
			return;
		}
		if (connection !== this.#connection) {
			// Failed or closed inside the factory's own callbacks.
			socket.close();
			return;
		}
		this.#socket = socket;
		this.#stats.connections++;
		this.#sendRequest();
	}

	/** The connection stalls when nothing arrives for timeoutMs. */
	#watch(): void {
		if (this.#idleTimer !== undefined) this.#clock.clearTimeout(this.#idleTimer);
		const connection = this.#connection;
		this.#idleTimer = this.#clock.setTimeout(() => {
			if (connection !== this.#connection) return;
			this.#idleTimer = undefined;
			this.#linkFailed(this.#connected ? "link" : "connect", Errno.ETIMEDOUT, `no data from the server for ${this.#timeoutMs} ms`);
		}, this.#timeoutMs);
	}

	#sendRequest(): void {
		const first = this.#offset;
		let last = first + this.#fragmentSize - 1;
		if (this.#size !== undefined && last > this.#size - 1) last = this.#size - 1;
		this.#requestEnd = last;
		this.#request = asciiBytes(`GET ${this.#path} HTTP/1.1\r\nHost: ${this.#host}\r\nRange: bytes=${first}-${last}\r\nConnection: keep-alive\r\n\r\n`);
		this.#requestSent = 0;
		this.#stats.requests++;
		this.#parser.reset();
		this.#complete = false;
		this.#phase = "head";
		this.#flush();
	}

	#writableNow(count: number): void {
		if (!this.#connected) {
			this.#connected = true;
			this.#watch();
		}
		this.#writable = count;
		this.#flush();
	}

	#flush(): void {
		const socket = this.#socket;
		const request = this.#request;
		if (socket === undefined || request === undefined || !this.#connected) return;
		const count = Math.min(this.#writable, request.length - this.#requestSent);
		if (count <= 0) return;
		try {
			this.#writable = socket.write(request.subarray(this.#requestSent, this.#requestSent + count));
		}
		catch (error) {
			this.#linkFailed("link", error instanceof SocketError ? error.errno : undefined, `could not send the request: ${error instanceof Error ? error.message : String(error)}`);
			return;
		}
		this.#requestSent += count;
		if (this.#requestSent === request.length) this.#request = undefined;
	}

	#readable(): void {
		const socket = this.#socket;
		if (socket === undefined) return;
		this.#watch();
		const connection = this.#connection;
		// Bounded reads: at most the rest of the head buffer, or of the fragment, at a time.
		while (connection === this.#connection && (this.#phase === "head" || this.#phase === "body")) {
			let wanted: number;
			if (this.#phase === "head") wanted = this.#parser.room;
			else if (this.#skip > 0) wanted = Math.min(this.#skip, this.#fragmentSize);
			else wanted = Math.min(this.#bodyLeft, this.#fragmentTarget - this.#fill);
			const buffer = socket.read(Math.max(1, wanted));
			if (buffer === undefined) return;
			this.#received(new Uint8Array(buffer));
		}
	}

	#received(bytes: Uint8Array): void {
		let at = 0;
		const connection = this.#connection;
		try {
			while (at < bytes.length) {
				if (this.#phase === "head") {
					const end = this.#parser.push(bytes, at);
					if (end < 0) return;
					at = end;
					this.#startBody(this.#parser.head!);
				}
				else if (this.#phase === "body") at = this.#takeBody(bytes, at);
				if (connection !== this.#connection || (this.#phase !== "head" && this.#phase !== "body")) return;
				if (this.#complete) {
					// Nothing was asked for beyond this response (requests are not pipelined).
					if (at < bytes.length) throw new ResponseError(`${bytes.length - at} bytes after the end of the response`);
					this.#responseDone();
					return;
				}
			}
		}
		catch (error) {
			if (!(error instanceof ResponseError)) throw error;
			if (connection === this.#connection) this.#protocolError(error.message);
		}
	}

	#startBody(head: ResponseHead): void {
		if (head.status >= 100 && head.status < 200 && head.status !== 101) {
			// An interim response: the real one follows.
			this.#parser.reset();
			return;
		}
		this.#keepAlive = keepsAlive(head);
		const encoding = head.headers.get("transfer-encoding");
		if (encoding !== undefined && (head.status === 200 || head.status === 206))
			throw new ResponseError(`Transfer-Encoding "${encoding}" is not supported (a ranged response has a length)`);
		if (head.status === 206) this.#startPartial(head);
		else if (head.status === 200) this.#startWhole(head);
		else if (head.status === 416 && unsatisfiedRangeTotal(head.headers.get("content-range")) === this.#offset && this.#sizeAgrees(this.#offset)) {
			// The range starts at the end: everything was fetched before (a resume without a size).
			this.#size = this.#offset;
			this.#finish();
		}
		else this.#fail(new DownloadError("http", `HTTP ${head.status}${head.reason ? " " + head.reason : ""} for ${this.#path}`, { offset: this.#offset, status: head.status }));
	}

	/** Whether a server total agrees with the expected size; a size failure otherwise. */
	#sizeAgrees(total: number): boolean {
		if (this.#size === undefined || this.#size === total) return true;
		this.#fail(new DownloadError("size", `the server has ${total} bytes, ${this.#size} were expected`, { offset: this.#offset }));
		return false;
	}

	#startPartial(head: ResponseHead): void {
		const value = head.headers.get("content-range");
		if (value === undefined) throw new ResponseError("206 response without Content-Range");
		const range = parseContentRange(value);
		if (range.first !== this.#offset) throw new ResponseError(`Content-Range ${value} does not start at the requested byte ${this.#offset}`);
		if (range.last > this.#requestEnd) throw new ResponseError(`Content-Range ${value} goes past the requested byte ${this.#requestEnd}`);
		const length = range.last - range.first + 1;
		const declared = contentLength(head);
		if (declared !== undefined && declared !== length) throw new ResponseError(`Content-Length ${declared} differs from the ${length} bytes of Content-Range ${value}`);
		if (!this.#sizeAgrees(range.total)) return;
		this.#size = range.total;
		this.#startReading(length, 0, range.last === range.total - 1);
	}

	#startWhole(head: ResponseHead): void {
		const total = contentLength(head);
		if (total === undefined) throw new ResponseError("200 response without Content-Length");
		if (!this.#sizeAgrees(total)) return;
		if (this.#offset > total) {
			this.#fail(new DownloadError("size", `the server has ${total} bytes, the download resumes at ${this.#offset}`, { offset: this.#offset }));
			return;
		}
		this.#size = total;
		// The server ignored the range and sends the whole image: skip what was delivered before.
		this.#startReading(total - this.#offset, this.#offset, true);
	}

	#startReading(length: number, skip: number, last: boolean): void {
		this.#bodyLeft = length;
		this.#skip = skip;
		this.#fill = 0;
		this.#fragmentTarget = Math.min(this.#fragmentSize, length);
		this.#finalResponse = last;
		this.#phase = "body";
		this.#complete = length + skip === 0;
	}

	/** Takes body bytes from `at`; returns the index after the last one taken. */
	#takeBody(bytes: Uint8Array, at: number): number {
		const connection = this.#connection;
		while (at < bytes.length && connection === this.#connection && this.#phase === "body") {
			const available = bytes.length - at;
			if (this.#skip > 0) {
				const count = Math.min(this.#skip, available);
				this.#skip -= count;
				this.#stats.bodyBytes += count;
				at += count;
			}
			else {
				const count = Math.min(this.#fragmentTarget - this.#fill, available);
				this.#fragment.set(bytes.subarray(at, at + count), this.#fill);
				this.#fill += count;
				this.#bodyLeft -= count;
				this.#stats.bodyBytes += count;
				at += count;
				if (this.#fill === this.#fragmentTarget && !this.#deliver()) return at;
			}
			if (this.#skip === 0 && this.#bodyLeft === 0) {
				this.#complete = true;
				break;
			}
		}
		return at;
	}

	/** Hands the full fragment to the consumer; false when that ended the download. */
	#deliver(): boolean {
		const offset = this.#offset;
		const connection = this.#connection;
		try {
			this.#onFragment(this.#fragment.subarray(0, this.#fill), offset);
		}
		catch (error) {
			if (this.#phase !== "finished")
				this.#fail(new DownloadError("consumer", `the fragment at ${offset} was refused: ${error instanceof Error ? error.message : String(error)}`, { offset, cause: error }));
			return false;
		}
		if (connection !== this.#connection || this.#phase === "finished") return false;
		this.#offset += this.#fill;
		this.#fill = 0;
		this.#attempts = 0;
		this.#fragmentTarget = Math.min(this.#fragmentSize, this.#bodyLeft);
		return true;
	}

	#responseDone(): void {
		this.#responses++;
		if (this.#size !== undefined && this.#offset >= this.#size) this.#finish();
		else if (this.#finalResponse) throw new ResponseError(`the response ended at byte ${this.#offset} of ${this.#size}`);
		else if (this.#keepAlive) this.#sendRequest();
		else {
			// The server closes after this response: a new connection, at once, as no attempt failed.
			this.#disconnect();
			this.#open();
		}
	}

	#dropped(error: SocketError | undefined): void {
		const phase = this.#phase;
		if (phase === "head" && this.#responses > 0 && this.#parser.pending === 0 && error === undefined) {
			// A kept-alive connection the server closed before answering the next request: that is
			// its idle policy, not a failure (RFC 9112 9.3.1); ask again on a new connection.
			this.#disconnect();
			this.#open();
			return;
		}
		let what: string;
		if (!this.#connected) what = "the connection failed";
		else if (phase === "body") what = `the connection was lost inside the body, ${this.#bodyLeft} of its bytes missing`;
		else if (this.#parser.pending > 0) what = "the connection was lost inside the response head";
		else what = "the connection was lost before a response";
		this.#linkFailed(this.#connected ? "link" : "connect", error?.errno, error === undefined ? `${what}: closed by the server` : `${what}: ${error.message}`);
	}

	/** A connection failed: reconnect after the back-off, or give up after `retries` attempts without progress. */
	#linkFailed(reason: "connect" | "link", errno: number | undefined, message: string): void {
		this.#disconnect();
		this.#fill = 0;
		this.#attempts++;
		if (this.#attempts > this.#retries) {
			const tries = this.#attempts === 1 ? "" : ` (${this.#attempts} attempts without progress)`;
			this.#fail(new DownloadError(reason, `${message}${tries}`, { offset: this.#offset, errno }));
			return;
		}
		const delay = Math.min(this.#backoff.maxMs, this.#backoff.minMs * 2 ** (this.#attempts - 1));
		this.#phase = "waiting";
		this.#retryTimer = this.#clock.setTimeout(() => this.#open(), delay);
	}

	#protocolError(message: string): void {
		this.#fail(new DownloadError("protocol", message, { offset: this.#offset }));
	}

	#fail(error: DownloadError): void {
		if (this.#phase === "finished") return;
		this.#phase = "finished";
		this.#release();
		if (this.#starting) this.#retryTimer = this.#clock.setTimeout(() => { this.#retryTimer = undefined; this.#onError(error); }, 0);
		else this.#onError(error);
	}

	#finish(): void {
		if (this.#phase === "finished") return;
		this.#phase = "finished";
		this.#release();
		this.#onDone(this.#size!);
	}
}
