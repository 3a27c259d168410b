/*
 * The attestation token parser (modules/modem/attestation.ts): a token built
 * byte by byte from the documented layout (docs/protocol.md §1.4, vector V29)
 * gives its UUIDs; every kind of malformed token (base64url, CBOR structure,
 * lengths, types, trailing bytes, the COSE part) gives an AttestationError that
 * says what is wrong.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { AttestationError, decodeBase64url, formatUuid, parseAttestationToken, tokenOfResponse } from "../modules/modem/attestation.js";

const DEVICE = "50363154-3931-4d10-8028-0b1c3d4e5f60";
const FIRMWARE = "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9";
const NONCE = "00112233445566778899aabbccddeeff";

function hex(text: string): Buffer {
	return Buffer.from(text.replace(/[-\s]/g, ""), "hex");
}

/** The identity message: tag 55799, [1, device UUID, 3, firmware UUID, nonce]. */
function identity(overrides: { head?: string; type?: string; device?: string; deviceType?: string; firmware?: string; nonce?: string; tail?: string } = {}): Buffer {
	return Buffer.concat([
		hex(overrides.head ?? "d9d9f7 85"),
		hex(overrides.type ?? "01"),
		hex(overrides.device ?? `50 ${DEVICE}`),
		hex(overrides.deviceType ?? "03"),
		hex(overrides.firmware ?? `50 ${FIRMWARE}`),
		hex(overrides.nonce ?? `50 ${NONCE}`),
		hex(overrides.tail ?? ""),
	]);
}

/** COSE_Sign1: tag 18, [<<{1: -7}>>, {4: <<-2>>}, nil, 64-byte signature]. */
const COSE = hex(`d2 84 43a10126 a1044121 f6 5840 ${"ab".repeat(64)}`);

function token(message: Buffer, cose: Buffer = COSE): string {
	return `${message.toString("base64url")}.${cose.toString("base64url")}`;
}

function rejects(text: string, pattern: RegExp): void {
	assert.throws(() => parseAttestationToken(text), (error: unknown) => {
		assert.ok(error instanceof AttestationError, `not an AttestationError: ${String(error)}`);
		assert.match(error.message, pattern);
		return true;
	});
}

test("V29: a token of the documented layout gives the device UUID 8-4-4-4-12, the firmware UUID, type and nonce", () => {
	const text = token(identity());
	// The vector as docs/protocol.md §1.4 prints it.
	assert.equal(text, "2dn3hQFQUDYxVDkxTRCAKAscPU5fYANQChssPU5fQGGCc4SVprfI2VAAESIzRFVmd4iZqrvM3e7_.0oRDoQEmoQRBIfZYQKurq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s");
	assert.deepEqual(parseAttestationToken(text), { deviceUuid: DEVICE, firmwareUuid: FIRMWARE, deviceType: 3, nonce: NONCE });
	assert.equal(tokenOfResponse(`%ATTESTTOKEN: "${text}"`), text);
	// A payload carried in the COSE part instead of nil is accepted too.
	assert.equal(parseAttestationToken(token(identity(), hex(`d2 84 43a10126 a0 4401020304 5840 ${"00".repeat(64)}`))).deviceUuid, DEVICE);
	assert.equal(formatUuid(new Uint8Array(16).fill(0xAB)), "abababab-abab-abab-abab-abababababab");
	assert.throws(() => formatUuid(new Uint8Array(15)), RangeError);
});

test("malformed base64url: padding, other alphabets, impossible lengths, stray bits, missing or extra parts", () => {
	const good = token(identity());
	const [message, cose] = good.split(".") as [string, string];
	rejects(`${message}==.${cose}`, /"=" at \d+, which is not base64url/);
	rejects(`${message.replace("_", "/")}.${cose}`, /"\/" at \d+, which is not base64url/);
	rejects(`${message}A.${cose}`, /77 base64url characters, which no byte count gives/);
	// 77 bytes are 103 characters: the last one carries 2 bits that must be zero.
	rejects(`${message}.${cose.slice(0, -1)}t`, /the COSE part ends in bits that belong to no byte/);
	rejects(message, /two base64url strings joined by one "\.", not 1 part$/);
	rejects(`${good}.${cose}`, /not 3 parts/);
	rejects(`.${cose}`, /the identity message is empty/);
	rejects(`${message}.`, /the COSE part is empty/);
	assert.deepEqual([...decodeBase64url("AAEC_w", "x")], [0, 1, 2, 255]);
	assert.throws(() => parseAttestationToken(42 as never), TypeError);
});

test("wrong CBOR in the identity message: tag, array, types, lengths, indefinite lengths, trailing bytes", () => {
	rejects(token(identity({ head: "85" })), /major type 4 where tag 55799 \(major type 6\) belongs at byte 0/);
	rejects(token(identity({ head: "d818 85" })), /tag 24 instead of 55799/);
	rejects(token(identity({ head: "d9d9f7 84" })), /an array of 4 items instead of 5/);
	rejects(token(identity({ head: "d9d9f7 86", tail: "00" })), /an array of 6 items instead of 5/);
	rejects(token(identity({ head: "d9d9f7 9f" })), /an indefinite length/);
	rejects(token(identity({ type: "02" })), /message type 2, not 1 \(device identity\)/);
	rejects(token(identity({ type: "20" })), /major type 1 where the message type \(major type 0\) belongs/);
	rejects(token(identity({ device: `4f ${DEVICE.replace(/-/g, "").slice(0, 30)}` })), /the device UUID of 15 bytes instead of 16/);
	rejects(token(identity({ device: `51 ${DEVICE.replace(/-/g, "")}00` })), /the device UUID of 17 bytes instead of 16/);
	rejects(token(identity({ device: `70 ${DEVICE.replace(/-/g, "")}` })), /major type 3 where the device UUID \(major type 2\) belongs/);
	rejects(token(identity({ firmware: `5f ${FIRMWARE.replace(/-/g, "")} ff` })), /an indefinite length/);
	rejects(token(identity({ deviceType: "f6" })), /major type 7 where the device type/);
	rejects(token(identity({ nonce: "50 0011" })), /the nonce longer than the data/);
	rejects(token(identity({ nonce: "" })), /ends early/);
	rejects(token(identity({ tail: "00" })), /1 bytes after the end/);
	rejects(token(identity({ deviceType: "1c" })), /reserved additional information 28/);
});

test("a COSE part that is not a COSE_Sign1 is refused", () => {
	rejects(token(identity(), hex("d1 84 43a10126 a0 f6 5840" + "00".repeat(64))), /COSE part .*tag 17 instead of 18/);
	rejects(token(identity(), hex("d2 83 43a10126 a0 f6")), /COSE part .*an array of 3 items instead of 4/);
	rejects(token(identity(), hex("d2 84 43a10126 a0 f6 40")), /empty signature/);
	rejects(token(identity(), hex("d2 84 43a10126 a0 f6 5840" + "00".repeat(64) + "00")), /COSE part .*1 bytes after the end/);
	rejects(token(identity(), hex("d2 84 43a10126 a1 04 fb 400921fb54442d18 f6 5840" + "00".repeat(64))), /a floating-point value/);
});

test("the answer line must be %ATTESTTOKEN: with the token in quotes", () => {
	for (const line of [undefined, "", "%ATTESTTOKEN: abc", "%XMODEMUUID: \"abc\"", "%ATTESTTOKEN: \"a\"b\""])
		assert.throws(() => tokenOfResponse(line), (e: unknown) => e instanceof AttestationError && /unexpected AT%ATTESTTOKEN answer/.test((e as Error).message));
});
