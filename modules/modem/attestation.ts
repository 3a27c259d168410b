/*
 * The modem's attestation token (AT%ATTESTTOKEN, modem firmware 1.3.0 and
 * later), parsed strictly: the device UUID nRF Cloud knows the device by, the
 * modem firmware UUID, the device type and the nonce. The token is two
 * base64url strings joined by a dot: a CBOR identity message, then a COSE_Sign1
 * structure that signs it (docs/protocol.md §1.4 gives the byte layout). The
 * signature is not verified here, as NCS does not verify it either: only nRF
 * Cloud holds the key to check it.
 */

export class AttestationError extends Error {
	static {
		// On the prototype: xsl freezes Error.prototype in the Moddable build (see AtError).
		Object.defineProperty(this.prototype, "name", { value: "AttestationError", writable: true, configurable: true });
	}
}

/** Message types of the identity service; the token carries the device identity message. */
export const MESSAGE_TYPE_DEVICE_IDENTITY = 1;

/** Device types of the identity message (enum nrf_device_type). */
export const DeviceType = Object.freeze({
	NRF9160_SIAA: 1,
	NRF9160_SIBA: 2,
	NRF9160_SICA: 3,
} as const);

export interface AttestationToken {
	/** The device UUID, 8-4-4-4-12 lower-case hex. */
	deviceUuid: string;
	/** The UUID of the modem firmware, 8-4-4-4-12 lower-case hex. */
	firmwareUuid: string;
	deviceType: number;
	/** 32 lower-case hex digits. */
	nonce: string;
}

const UUID_BYTES = 16;
const NONCE_BYTES = 16;
/** CBOR tag 55799, "self-described CBOR", which opens the identity message. */
const SELF_DESCRIBED_TAG = 55799;
/** CBOR tag of COSE_Sign1. */
const COSE_SIGN1_TAG = 18;
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url (RFC 4648 §5) to bytes; anything else is an AttestationError naming `part`. */
export function decodeBase64url(text: string, part: string): Uint8Array {
	if (text.length === 0) throw new AttestationError(`the ${part} is empty`);
	if (text.length % 4 === 1) throw new AttestationError(`the ${part} has ${text.length} base64url characters, which no byte count gives`);
	const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
	let bits = 0;
	let count = 0;
	let out = 0;
	for (let i = 0; i < text.length; i++) {
		const value = BASE64URL.indexOf(text[i]!);
		if (value < 0) throw new AttestationError(`the ${part} has ${JSON.stringify(text[i])} at ${i}, which is not base64url (unpadded, A-Z a-z 0-9 - _)`);
		bits = (bits << 6) | value;
		count += 6;
		if (count >= 8) {
			count -= 8;
			bytes[out++] = (bits >> count) & 0xFF;
		}
	}
	if ((bits & ((1 << count) - 1)) !== 0) throw new AttestationError(`the ${part} ends in bits that belong to no byte`);
	return bytes;
}

/** A strict reader of definite-length CBOR items (RFC 8949), as much as the two structures use. */
class CborReader {
	#bytes: Uint8Array;
	#offset = 0;
	#part: string;

	constructor(bytes: Uint8Array, part: string) {
		this.#bytes = bytes;
		this.#part = part;
	}

	#fail(what: string): never {
		throw new AttestationError(`the ${this.#part} is not the expected CBOR: ${what} at byte ${this.#offset}`);
	}

	/** Major type and argument of the next item header. */
	#header(): { major: number; value: number } {
		if (this.#offset >= this.#bytes.length) this.#fail("it ends early");
		const initial = this.#bytes[this.#offset++]!;
		const major = initial >> 5;
		const info = initial & 0x1F;
		if (info < 24) return { major, value: info };
		const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
		if (size === 0) this.#fail(info === 31 ? "an indefinite length" : `reserved additional information ${info}`);
		if (this.#offset + size > this.#bytes.length) this.#fail("it ends early");
		let value = 0;
		for (let i = 0; i < size; i++) value = value * 256 + this.#bytes[this.#offset++]!;
		return { major, value };
	}

	#expect(major: number, name: string): number {
		const start = this.#offset;
		const header = this.#header();
		if (header.major !== major) {
			this.#offset = start;
			this.#fail(`major type ${header.major} where ${name} (major type ${major}) belongs`);
		}
		return header.value;
	}

	tag(expected: number): void {
		const tag = this.#expect(6, `tag ${expected}`);
		if (tag !== expected) this.#fail(`tag ${tag} instead of ${expected}`);
	}

	array(expected: number): void {
		const length = this.#expect(4, "an array");
		if (length !== expected) this.#fail(`an array of ${length} items instead of ${expected}`);
	}

	unsigned(name: string): number {
		return this.#expect(0, name);
	}

	bytes(name: string, length?: number): Uint8Array {
		const start = this.#offset;
		const size = this.#expect(2, name);
		if (length !== undefined && size !== length) {
			this.#offset = start;
			this.#fail(`${name} of ${size} bytes instead of ${length}`);
		}
		if (this.#offset + size > this.#bytes.length) this.#fail(`${name} longer than the data`);
		const value = this.#bytes.subarray(this.#offset, this.#offset + size);
		this.#offset += size;
		return value;
	}

	map(name: string): number {
		return this.#expect(5, name);
	}

	/** Skips one item of any type but tags and floats (which the COSE header values are not). */
	skip(): void {
		const { major, value } = this.#header();
		if (major === 2 || major === 3) {
			if (this.#offset + value > this.#bytes.length) this.#fail("a string longer than the data");
			this.#offset += value;
		}
		else if (major === 4) for (let i = 0; i < value; i++) this.skip();
		else if (major === 5) for (let i = 0; i < value * 2; i++) this.skip();
		else if (major === 6) this.skip();
		else if (major === 7 && value > 23) this.#fail("a floating-point value");
	}

	/** null (the detached payload of a COSE_Sign1) or a byte string. */
	nullOrBytes(name: string): void {
		if (this.#bytes[this.#offset] === 0xF6) this.#offset++;
		else this.bytes(name);
	}

	end(): void {
		if (this.#offset !== this.#bytes.length) this.#fail(`${this.#bytes.length - this.#offset} bytes after the end`);
	}
}

function hex(bytes: Uint8Array): string {
	let text = "";
	for (const byte of bytes) text += (byte < 16 ? "0" : "") + byte.toString(16);
	return text;
}

/** 16 bytes as a UUID string, 8-4-4-4-12 lower-case hex digits. */
export function formatUuid(bytes: Uint8Array): string {
	if (bytes.length !== UUID_BYTES) throw new RangeError(`a UUID is ${UUID_BYTES} bytes, not ${bytes.length}`);
	const digits = hex(bytes);
	return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

/** Checks the COSE_Sign1 structure: tag 18, [protected header bstr, unprotected map, payload, signature bstr]. */
function checkCose(bytes: Uint8Array): void {
	const reader = new CborReader(bytes, "COSE part");
	reader.tag(COSE_SIGN1_TAG);
	reader.array(4);
	reader.bytes("the protected header");
	const entries = reader.map("the unprotected header");
	for (let i = 0; i < entries * 2; i++) reader.skip();
	reader.nullOrBytes("the payload");
	if (reader.bytes("the signature").length === 0) throw new AttestationError("the COSE part has an empty signature");
	reader.end();
}

/** Parses a token, "<identity message>.<COSE_Sign1>" in base64url. */
export function parseAttestationToken(token: string): AttestationToken {
	if (typeof token !== "string") throw new TypeError("an attestation token is a string");
	const parts = token.split(".");
	if (parts.length !== 2) throw new AttestationError(`an attestation token is two base64url strings joined by one ".", not ${parts.length} part${parts.length === 1 ? "" : "s"}`);
	const reader = new CborReader(decodeBase64url(parts[0]!, "identity message"), "identity message");
	reader.tag(SELF_DESCRIBED_TAG);
	reader.array(5);
	const messageType = reader.unsigned("the message type");
	if (messageType !== MESSAGE_TYPE_DEVICE_IDENTITY) throw new AttestationError(`the identity message has message type ${messageType}, not ${MESSAGE_TYPE_DEVICE_IDENTITY} (device identity)`);
	const deviceUuid = formatUuid(reader.bytes("the device UUID", UUID_BYTES));
	const deviceType = reader.unsigned("the device type");
	const firmwareUuid = formatUuid(reader.bytes("the firmware UUID", UUID_BYTES));
	const nonce = hex(reader.bytes("the nonce", NONCE_BYTES));
	reader.end();
	checkCose(decodeBase64url(parts[1]!, "COSE part"));
	return { deviceUuid, firmwareUuid, deviceType, nonce };
}

/** The token of the modem's answer line `%ATTESTTOKEN: "<token>"`. */
export function tokenOfResponse(line: string | undefined): string {
	const match = /^%ATTESTTOKEN: "([^"]*)"$/.exec(line ?? "");
	if (!match) throw new AttestationError(`unexpected AT%ATTESTTOKEN answer: ${String(line)}`);
	return match[1]!;
}
