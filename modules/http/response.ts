/*
 * An HTTP/1.1 response head read incrementally from a byte stream: bytes are
 * pushed as they arrive, split anywhere, and the parser says where the head
 * ended so the caller reads the body from there. The head is kept in one
 * buffer of a fixed size, so a server (or anything between) that never ends
 * its head costs no more memory than that; an oversized head is an error.
 */

/** What is wrong with a response; the download client reports it as reason "protocol". */
export class ResponseError extends Error {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype.
		Object.defineProperty(this.prototype, "name", { value: "ResponseError", writable: true, configurable: true });
	}

	constructor(message: string) {
		super(message);
	}
}

export interface ResponseHead {
	/** 0 for HTTP/1.0, 1 for HTTP/1.1. */
	minorVersion: number;
	status: number;
	reason: string;
	/** Field names in lower case; repeated fields joined with ", " (RFC 9110 5.3). */
	headers: Map<string, string>;
}

/** Bytes of a head the parser keeps at most by default: status line and fields. */
export const DEFAULT_HEAD_LIMIT = 2048;

const CR = 13;
const LF = 10;

/** RFC 9110 token characters, for field names. */
function isTokenCharacter(c: number): boolean {
	if (c >= 0x30 && c <= 0x39) return true;	// 0-9
	if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) return true;	// A-Z a-z
	return "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) >= 0;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
	let text = "";
	for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
	return text;
}

function parseStatusLine(bytes: Uint8Array, start: number, end: number): { minorVersion: number; status: number; reason: string } {
	const line = ascii(bytes, start, end);
	const match = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/.exec(line);
	if (match === null) throw new ResponseError(`bad status line ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + "..." : line)}`);
	const reason = match[3] ?? "";
	for (let i = 0; i < reason.length; i++) {
		const c = reason.charCodeAt(i);
		if ((c < 0x20 && c !== 9) || c === 0x7F) throw new ResponseError("bad status line: control character in the reason phrase");
	}
	return { minorVersion: Number(match[1]), status: Number(match[2]), reason };
}

function parseField(bytes: Uint8Array, start: number, end: number, headers: Map<string, string>): void {
	let colon = start;
	while (colon < end && bytes[colon] !== 0x3A) {
		if (!isTokenCharacter(bytes[colon]!)) {
			const c = bytes[colon]!;
			throw new ResponseError(c === 0x20 || c === 9
				? (colon === start ? "obsolete line folding in a header field" : "white space before the colon of a header field")
				: `bad character 0x${c.toString(16)} in a header field name`);
		}
		colon++;
	}
	if (colon === end) throw new ResponseError(`header field without a colon: ${JSON.stringify(ascii(bytes, start, Math.min(end, start + 40)))}`);
	if (colon === start) throw new ResponseError("header field with an empty name");
	let valueStart = colon + 1;
	let valueEnd = end;
	while (valueStart < valueEnd && (bytes[valueStart] === 0x20 || bytes[valueStart] === 9)) valueStart++;
	while (valueEnd > valueStart && (bytes[valueEnd - 1] === 0x20 || bytes[valueEnd - 1] === 9)) valueEnd--;
	for (let i = valueStart; i < valueEnd; i++) {
		const c = bytes[i]!;
		if ((c < 0x20 && c !== 9) || c === 0x7F) throw new ResponseError(`control character 0x${c.toString(16)} in a header field value`);
	}
	const name = ascii(bytes, start, colon).toLowerCase();
	const value = ascii(bytes, valueStart, valueEnd);
	const earlier = headers.get(name);
	headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
}

export class ResponseHeadParser {
	readonly #buffer: Uint8Array;
	#length = 0;
	#head: ResponseHead | undefined;

	/** `limit`: the most bytes a head may have, its blank line included. */
	constructor(limit = DEFAULT_HEAD_LIMIT) {
		if (!Number.isInteger(limit) || limit < 16 || limit > 65536) throw new RangeError("head limit must be an integer from 16 to 65536");
		this.#buffer = new Uint8Array(limit);
	}

	/** The head, once push() has returned a position. */
	get head(): ResponseHead | undefined {
		return this.#head;
	}

	/** Bytes of an unfinished head held so far. */
	get pending(): number {
		return this.#length;
	}

	/** Bytes the head may still take before it is too long. */
	get room(): number {
		return this.#buffer.length - this.#length;
	}

	/** Forgets the head (and any partial one) to read the next response. */
	reset(): void {
		this.#length = 0;
		this.#head = undefined;
	}

	/**
	 * Takes the bytes of `bytes` from `start` on. Returns the index in `bytes`
	 * just after the head when it is complete (the body starts there), or -1
	 * when the head needs more bytes. Throws ResponseError on a malformed or
	 * oversized head. Lines end with CRLF; a bare LF is accepted as well
	 * (RFC 9112 2.2).
	 */
	push(bytes: Uint8Array, start = 0): number {
		if (this.#head !== undefined) throw new ResponseError("the head is complete; reset() before the next response");
		const buffer = this.#buffer;
		for (let i = start; i < bytes.length; i++) {
			const c = bytes[i]!;
			if (this.#length === buffer.length) throw new ResponseError(`response head longer than ${buffer.length} bytes`);
			buffer[this.#length++] = c;
			if (c !== LF) continue;
			// A line ended; the head ends with an empty line.
			const end = this.#length;
			if (end === 1 || (end === 2 && buffer[0] === CR)) throw new ResponseError("bad status line: the response starts with an empty line");
			if ((end >= 2 && buffer[end - 2] === LF) || (end >= 3 && buffer[end - 2] === CR && buffer[end - 3] === LF)) {
				this.#head = this.#parse();
				return i + 1;
			}
		}
		return -1;
	}

	#parse(): ResponseHead {
		const buffer = this.#buffer;
		const headers = new Map<string, string>();
		let line = 0;
		let status: ReturnType<typeof parseStatusLine> | undefined;
		for (let i = 0; i < this.#length; i++) {
			if (buffer[i] !== LF) continue;
			const end = i > line && buffer[i - 1] === CR ? i - 1 : i;
			for (let j = line; j < end; j++) if (buffer[j] === CR) throw new ResponseError("bare CR in the response head");
			if (status === undefined) status = parseStatusLine(buffer, line, end);
			else if (end > line) parseField(buffer, line, end, headers);
			line = i + 1;
		}
		return { ...status!, headers };
	}
}

/** A Content-Range of a 206 response (RFC 9110 14.4): inclusive first and last byte, and the total. */
export interface ContentRange {
	first: number;
	last: number;
	total: number;
}

const DIGITS = /^[0-9]{1,15}$/;

/** `bytes <first>-<last>/<total>`; throws ResponseError on anything else, an unknown total included. */
export function parseContentRange(value: string): ContentRange {
	const match = /^bytes ([0-9]{1,15})-([0-9]{1,15})\/([0-9]{1,15}|\*)$/.exec(value.trim());
	if (match === null) throw new ResponseError(`malformed Content-Range ${JSON.stringify(value)}`);
	if (match[3] === "*") throw new ResponseError(`Content-Range without the total size: ${JSON.stringify(value)}`);
	const range = { first: Number(match[1]), last: Number(match[2]), total: Number(match[3]) };
	if (range.first > range.last || range.last >= range.total) throw new ResponseError(`Content-Range ${JSON.stringify(value)} contradicts itself`);
	return range;
}

/** The total size of a 416 response's `bytes * /<total>`, or undefined. */
export function unsatisfiedRangeTotal(value: string | undefined): number | undefined {
	const match = value === undefined ? null : /^bytes \*\/([0-9]{1,15})$/.exec(value.trim());
	return match === null ? undefined : Number(match[1]);
}

/** Content-Length as a number, undefined when absent; repeated equal values are one (RFC 9110 8.6). */
export function contentLength(head: ResponseHead): number | undefined {
	const value = head.headers.get("content-length");
	if (value === undefined) return undefined;
	const values = value.split(",").map((v) => v.trim());
	if (!values.every((v) => DIGITS.test(v))) throw new ResponseError(`malformed Content-Length ${JSON.stringify(value)}`);
	if (values.some((v) => Number(v) !== Number(values[0]))) throw new ResponseError(`contradicting Content-Length values ${JSON.stringify(value)}`);
	return Number(values[0]);
}

/** Whether the server keeps the connection open after this response (RFC 9112 9.3). */
export function keepsAlive(head: ResponseHead): boolean {
	const options = (head.headers.get("connection") ?? "").toLowerCase().split(",").map((o) => o.trim());
	if (options.includes("close")) return false;
	return head.minorVersion >= 1 || options.includes("keep-alive");
}
