/*
 * The firmware catalog: uploaded images, kept as files in the state directory and
 * described in the store, and the download path of each, <tenant>/<id>/<filename>,
 * under which FOTA job documents name it and the firmware server serves it. An
 * upload is checked before it is kept: APP and BOOT files must be whole MCUboot
 * images, a MODEM delta comes with the SHA-256 its maker stated. A BOOT update may
 * have two files, one for each bootloader slot (S0, S1); its job document then
 * names both paths separated by a space (docs/protocol.md 7.3).
 */

import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mcubootVersion } from "../lib/mcuboot-image.js";
import type { FirmwareFile, FirmwareRecord, Store } from "./store.js";

/** Firmware types in nRF Cloud's order: a job document carries the index. */
export const FIRMWARE_TYPES = ["APP", "MODEM", "BOOT"] as const;

export interface FirmwareUpload {
	type: string;
	version: string;
	/** One file, or two for BOOT (S0 image first, then S1). */
	files: { filename: string; image: Buffer }[];
	/** Hex SHA-256 of the single file: required for MODEM, checked when given for the others. */
	sha256?: string;
}

function sha256(image: Buffer): string {
	return createHash("sha256").update(image).digest("hex");
}

export class FirmwareCatalog {
	readonly #store: Store;
	readonly #directory: string;

	constructor(store: Store, stateDirectory: string) {
		this.#store = store;
		this.#directory = join(stateDirectory, "firmware");
		mkdirSync(this.#directory, { recursive: true });
	}

	/** Checks and keeps an upload; throws a RangeError saying what is wrong with it. */
	add(upload: FirmwareUpload): FirmwareRecord {
		const { type, version, files } = upload;
		if (!(FIRMWARE_TYPES as readonly string[]).includes(type)) throw new RangeError(`firmware type must be one of ${FIRMWARE_TYPES.join(", ")}`);
		if (!/^[\w.+-]{1,64}$/.test(version)) throw new RangeError("version must be 1 to 64 characters of letters, digits, . + - _");
		if (files.length === 0) throw new RangeError("no firmware file");
		if (files.length > (type === "BOOT" ? 2 : 1)) throw new RangeError(type === "BOOT" ? "a BOOT update has one file, or two (S0 and S1)" : `a ${type} update has one file`);
		const described: FirmwareFile[] = files.map(({ filename, image }) => {
			if (!/^[\w.+-]{1,128}$/.test(filename)) throw new RangeError("filename must be 1 to 128 characters of letters, digits, . + - _");
			if (image.length === 0) throw new RangeError(`the firmware file ${filename} is empty`);
			if (type !== "MODEM") {
				try {
					mcubootVersion(image);
				}
				catch (error) {
					throw new RangeError(`${filename}: ${(error as Error).message}; APP and BOOT updates are MCUboot images`);
				}
			}
			return { filename, size: image.length, sha256: sha256(image) };
		});
		if (new Set(described.map((f) => f.filename)).size !== described.length) throw new RangeError("the two files need different names");
		if (upload.sha256 === undefined && type === "MODEM") throw new RangeError("a MODEM delta needs its sha256 (64 hex digits)");
		if (upload.sha256 !== undefined) {
			if (!/^[0-9a-fA-F]{64}$/.test(upload.sha256)) throw new RangeError("sha256 must be 64 hex digits");
			if (described.length !== 1) throw new RangeError("sha256 is stated for a single file");
			if (upload.sha256.toLowerCase() !== described[0]!.sha256) throw new RangeError(`sha256 does not match the file (its SHA-256 is ${described[0]!.sha256})`);
		}
		const id = randomUUID();
		const record: FirmwareRecord = { id, type: type as FirmwareRecord["type"], version, ...described[0]!, files: described, created: Date.now() };
		files.forEach(({ image }, index) => writeFileSync(this.#file(id, index), image));
		this.#store.addFirmware(record);
		return record;
	}

	#file(id: string, index: number): string {
		return join(this.#directory, index === 0 ? id : `${id}.${index}`);
	}

	/** The job document's path: one path per file, separated by a space. */
	path(record: FirmwareRecord): string {
		return record.files.map((file) => `${this.#store.tenant}/${record.id}/${file.filename}`).join(" ");
	}

	/** The firmware file a download path names, or undefined. */
	find(path: string): { record: FirmwareRecord; index: number } | undefined {
		const parts = path.split("/");
		if (parts.length !== 3 || parts[0] !== this.#store.tenant) return undefined;
		const record = this.#store.firmware(parts[1]!);
		const index = record ? record.files.findIndex((file) => file.filename === parts[2]) : -1;
		return record && index >= 0 ? { record, index } : undefined;
	}

	image(record: FirmwareRecord, index = 0): Buffer {
		return readFileSync(this.#file(record.id, index));
	}
}
