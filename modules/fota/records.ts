/*
 * The download record: what a reboot in the middle of a download needs to go
 * on from where it stopped (job id, FOTA type, image size, host, the path of
 * the file chosen, and the offset written so far). It lives under its own
 * settings key, beside the 48-byte nrf_cloud/fota/job record of the C library
 * that only knows the job once it is downloaded. Stored as compact JSON (the
 * key-value store replaces a value atomically, so a record is whole or absent).
 */

import { parseJson } from "../nrf-cloud/codec.js";
import { FotaType } from "../nrf-cloud/constants.js";
import { JOB_ID_MAX_LENGTH } from "../nrf-cloud/codec.js";
import { utf8Encode } from "../platform/utf8.js";

/** Settings key of the download record, below the "nrf_cloud" domain. */
export const DOWNLOAD_KEY = "fota/download";

export interface DownloadRecord {
	id: string;
	type: number;
	size: number;
	host: string;
	path: string;
	offset: number;
}

function isCount(value: unknown): value is number {
	return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xFFFFFFFF;
}

export function encodeDownloadRecord(record: DownloadRecord): Uint8Array {
	return utf8Encode(JSON.stringify([record.id, record.type, record.size, record.host, record.path, record.offset]));
}

/** The record, or undefined for anything that is not a whole, consistent one. */
export function decodeDownloadRecord(bytes: ArrayBuffer | Uint8Array | undefined): DownloadRecord | undefined {
	if (bytes === undefined) return undefined;
	const root = parseJson(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
	if (!Array.isArray(root) || root.length !== 6) return undefined;
	const [id, type, size, host, path, offset] = root as unknown[];
	if (typeof id !== "string" || id.length === 0 || id.length > JOB_ID_MAX_LENGTH) return undefined;
	if (typeof type !== "number" || !Number.isInteger(type) || type < FotaType.APPLICATION || type >= FotaType.INVALID) return undefined;
	if (!isCount(size) || size === 0 || !isCount(offset) || offset > size) return undefined;
	if (typeof host !== "string" || host.length === 0 || typeof path !== "string" || path.length === 0) return undefined;
	return { id, type, size, host, path, offset };
}
