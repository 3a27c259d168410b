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
