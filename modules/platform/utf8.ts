/*
 * Strict UTF-8 in both directions: lone surrogates, overlong forms and code
 * points past U+10FFFF are refused. U+0000 is refused only where the caller
 * says so (MQTT's string fields); payloads and stored values may hold it.
 * Written by hand because TextEncoder is not part of the ECMAScript core that
 * XS provides.
 *
 * XS stores strings as UTF-8 and its charCodeAt() returns whole code points, so
 * a character above U+FFFF arrives either as one value (XS) or as a surrogate
 * pair (engines with UTF-16 strings); both are handled.
 */

/** Text that is not valid UTF-8 (or holds a U+0000 the caller refused). */
export class Utf8Error extends RangeError {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype,
		// and assigning "name" to an instance then fails on the inherited read-only property.
		Object.defineProperty(this.prototype, "name", { value: "Utf8Error", writable: true, configurable: true });
	}

	constructor(message: string) {
		super(message);
	}
}

function invalid(message: string): Utf8Error {
	return new Utf8Error(message);
}

const NUL_REFUSED = "U+0000 is not allowed here";

/** Byte length of `text` in UTF-8; throws Utf8Error on a lone surrogate, and on U+0000 with `refuseNul`. */
export function utf8Length(text: string, refuseNul = false): number {
	const length = text.length;
	let bytes = length;
	for (let i = 0; i < length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x80) {
			if (c === 0 && refuseNul) throw invalid(NUL_REFUSED);
			continue;
		}
		if (c < 0x800) bytes += 1;
		else if (c > 0xFFFF) bytes += 3;
		else if (c >= 0xD800 && c <= 0xDBFF) {
			const next = text.charCodeAt(i + 1);
			if (!(next >= 0xDC00 && next <= 0xDFFF)) throw invalid("lone surrogate in string");
			bytes += 2;	// four bytes for the pair, which counted as two
			i++;
		}
		else if (c >= 0xDC00 && c <= 0xDFFF) throw invalid("lone surrogate in string");
		else bytes += 2;
	}
	return bytes;
}

/** Writes `text` (already checked by utf8Length) at `offset`; returns the offset after it. */
export function writeUtf8(text: string, out: Uint8Array, offset: number): number {
	const length = text.length;
	for (let i = 0; i < length; i++) {
		let c = text.charCodeAt(i);
		if (c < 0x80) {
			out[offset++] = c;
		}
		else if (c < 0x800) {
			out[offset++] = 0xC0 | (c >> 6);
			out[offset++] = 0x80 | (c & 0x3F);
		}
		else if (c > 0xFFFF || (c >= 0xD800 && c <= 0xDBFF)) {
			if (c <= 0xFFFF) c = 0x10000 + ((c - 0xD800) << 10) + (text.charCodeAt(++i) - 0xDC00);
			out[offset++] = 0xF0 | (c >> 18);
			out[offset++] = 0x80 | ((c >> 12) & 0x3F);
			out[offset++] = 0x80 | ((c >> 6) & 0x3F);
			out[offset++] = 0x80 | (c & 0x3F);
		}
		else {
			out[offset++] = 0xE0 | (c >> 12);
			out[offset++] = 0x80 | ((c >> 6) & 0x3F);
			out[offset++] = 0x80 | (c & 0x3F);
		}
	}
	return offset;
}

/** Encodes a string (U+0000 included) to a new byte array. */
export function utf8Encode(text: string): Uint8Array {
	const out = new Uint8Array(utf8Length(text));
	writeUtf8(text, out, 0);
	return out;
}

const APPLY_LIMIT = 4096;

/** Decodes bytes[start, end) as strict UTF-8; throws Utf8Error, also on U+0000 with `refuseNul`. */
export function readUtf8(bytes: Uint8Array, start: number, end: number, refuseNul = false): string {
	let ascii = true;
	for (let i = start; i < end; i++) {
		const b = bytes[i]!;
		if (b >= 0x80 || (b === 0 && refuseNul)) {
			ascii = false;
			break;
		}
	}
	if (ascii) {
		if (end - start <= APPLY_LIMIT)
			return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
		let text = "";
		for (let i = start; i < end; i += APPLY_LIMIT)
			text += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + APPLY_LIMIT)) as unknown as number[]);
		return text;
	}
	return readUtf8Slow(bytes, start, end, refuseNul);
}

function continuation(bytes: Uint8Array, index: number, end: number): number {
	if (index >= end) throw invalid("truncated UTF-8 sequence");
	const b = bytes[index]!;
	if ((b & 0xC0) !== 0x80) throw invalid("bad UTF-8 continuation byte");
	return b & 0x3F;
}

function readUtf8Slow(bytes: Uint8Array, start: number, end: number, refuseNul: boolean): string {
	const codePoints: number[] = [];
	let text = "";
	let i = start;
	while (i < end) {
		const b = bytes[i++]!;
		let c: number;
		if (b < 0x80) {
			if (b === 0 && refuseNul) throw invalid(NUL_REFUSED);
			c = b;
		}
		else if (b >= 0xC2 && b <= 0xDF) {
			c = ((b & 0x1F) << 6) | continuation(bytes, i++, end);
		}
		else if (b >= 0xE0 && b <= 0xEF) {
			c = ((b & 0x0F) << 12) | (continuation(bytes, i, end) << 6) | continuation(bytes, i + 1, end);
			i += 2;
			if (c < 0x800) throw invalid("overlong UTF-8 sequence");
			if (c >= 0xD800 && c <= 0xDFFF) throw invalid("surrogate code point in UTF-8");
		}
		else if (b >= 0xF0 && b <= 0xF4) {
			c = ((b & 0x07) << 18) | (continuation(bytes, i, end) << 12) | (continuation(bytes, i + 1, end) << 6) | continuation(bytes, i + 2, end);
			i += 3;
			if (c < 0x10000 || c > 0x10FFFF) throw invalid("UTF-8 sequence out of range");
		}
		else throw invalid("bad UTF-8 lead byte");
		codePoints.push(c);
		if (codePoints.length >= APPLY_LIMIT) {
			text += String.fromCodePoint.apply(null, codePoints);
			codePoints.length = 0;
		}
	}
	return text + String.fromCodePoint.apply(null, codePoints);
}
