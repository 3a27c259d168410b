/*
 * Builds MCUboot images (header, body, TLV area with the SHA-256 TLV) for FOTA
 * tests and the local nRF Cloud's firmware store. No signature TLV: the
 * simulator's DFU target checks integrity, not authenticity.
 */

import { createHash } from "node:crypto";

const IMAGE_MAGIC = 0x96f3b83d;
const HEADER_SIZE = 32;
const TLV_INFO_MAGIC = 0x6907;
const TLV_SHA256 = 0x10;

export interface ImageVersion {
	major: number;
	minor: number;
	revision: number;
	build: number;
}

export function mcubootImage(body: Uint8Array, version: ImageVersion, loadAddress = 0): Buffer {
	const header = Buffer.alloc(HEADER_SIZE);
	header.writeUInt32LE(IMAGE_MAGIC, 0);
	header.writeUInt32LE(loadAddress, 4);
	header.writeUInt16LE(HEADER_SIZE, 8);
	header.writeUInt16LE(0, 10);
	header.writeUInt32LE(body.length, 12);
	header.writeUInt32LE(0, 16);
	header.writeUInt8(version.major, 20);
	header.writeUInt8(version.minor, 21);
	header.writeUInt16LE(version.revision, 22);
	header.writeUInt32LE(version.build, 24);
	const hashed = Buffer.concat([header, Buffer.from(body)]);
	const digest = createHash("sha256").update(hashed).digest();
	const tlv = Buffer.alloc(4 + 4 + 32);
	tlv.writeUInt16LE(TLV_INFO_MAGIC, 0);
	tlv.writeUInt16LE(tlv.length, 2);
	tlv.writeUInt16LE(TLV_SHA256, 4);
	tlv.writeUInt16LE(32, 6);
	digest.copy(tlv, 8);
	return Buffer.concat([hashed, tlv]);
}

/**
 * Checks that `image` is a whole MCUboot image as mcubootImage() lays it out
 * (header, body, TLV area whose SHA-256 TLV matches header and body) and
 * returns its version as "major.minor.revision+build". Throws a RangeError
 * saying what is wrong: the cloud refuses such an upload instead of letting a
 * device download it and fail.
 */
export function mcubootVersion(image: Uint8Array): string {
	const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
	if (bytes.length < HEADER_SIZE || bytes.readUInt32LE(0) !== IMAGE_MAGIC) throw new RangeError("not an MCUboot image (no image magic)");
	const headerSize = bytes.readUInt16LE(8);
	const bodySize = bytes.readUInt32LE(12);
	const protectedSize = bytes.readUInt16LE(10);
	const tlvStart = headerSize + bodySize + protectedSize;
	if (headerSize < HEADER_SIZE || tlvStart + 4 > bytes.length) throw new RangeError("MCUboot image truncated: header and body sizes exceed the file");
	if (bytes.readUInt16LE(tlvStart) !== TLV_INFO_MAGIC) throw new RangeError("MCUboot image has no TLV area after its body");
	const tlvEnd = tlvStart + bytes.readUInt16LE(tlvStart + 2);
	if (tlvEnd > bytes.length) throw new RangeError("MCUboot image truncated in its TLV area");
	for (let at = tlvStart + 4; at + 4 <= tlvEnd; at += 4 + bytes.readUInt16LE(at + 2)) {
		if (bytes.readUInt16LE(at) !== TLV_SHA256) continue;
		const expected = createHash("sha256").update(bytes.subarray(0, headerSize + bodySize + protectedSize)).digest();
		if (bytes.readUInt16LE(at + 2) !== 32 || !expected.equals(bytes.subarray(at + 4, at + 36))) throw new RangeError("MCUboot image SHA-256 TLV does not match its header and body");
		return `${bytes.readUInt8(20)}.${bytes.readUInt8(21)}.${bytes.readUInt16LE(22)}+${bytes.readUInt32LE(24)}`;
	}
	throw new RangeError("MCUboot image has no SHA-256 TLV");
}

/** "1.2.3+4" (the build number optional) as an MCUboot version: major and minor 0-255, revision 0-65535, build 0-2^32-1. */
export function parseImageVersion(text: string): ImageVersion {
	const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})(?:\+(\d{1,10}))?$/.exec(text);
	const version = match ? { major: Number(match[1]), minor: Number(match[2]), revision: Number(match[3]), build: Number(match[4] ?? 0) } : undefined;
	if (!version || version.major > 255 || version.minor > 255 || version.revision > 65535 || version.build > 0xFFFFFFFF)
		throw new RangeError(`version must be major.minor.revision[+build] (0-255.0-255.0-65535+0-4294967295), got ${JSON.stringify(text)}`);
	return version;
}

export function formatImageVersion(version: ImageVersion): string {
	return `${version.major}.${version.minor}.${version.revision}+${version.build}`;
}
