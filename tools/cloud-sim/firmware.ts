/*
 * The firmware catalog: uploaded images, kept as files in the state directory and
 * described in the store, and the download path of each, <tenant>/<id>/<filename>,
 * under which FOTA job documents name it and the firmware server serves it.
 */

import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FirmwareRecord, Store } from "./store.js";

/** Firmware types in nRF Cloud's order: a job document carries the index. */
export const FIRMWARE_TYPES = ["APP", "MODEM", "BOOT"] as const;

export class FirmwareCatalog {
	readonly #store: Store;
	readonly #directory: string;

	constructor(store: Store, stateDirectory: string) {
		this.#store = store;
		this.#directory = join(stateDirectory, "firmware");
		mkdirSync(this.#directory, { recursive: true });
	}

	add(type: string, version: string, filename: string, image: Buffer): FirmwareRecord {
		if (!(FIRMWARE_TYPES as readonly string[]).includes(type)) throw new RangeError(`firmware type must be one of ${FIRMWARE_TYPES.join(", ")}`);
		if (!/^[\w.+-]{1,64}$/.test(version)) throw new RangeError("version must be 1 to 64 characters of letters, digits, . + - _");
		if (!/^[\w.+-]{1,128}$/.test(filename)) throw new RangeError("filename must be 1 to 128 characters of letters, digits, . + - _");
		if (image.length === 0) throw new RangeError("the firmware image is empty");
		const id = randomUUID();
		const record: FirmwareRecord = {
			id, type: type as FirmwareRecord["type"], version, filename, size: image.length,
			sha256: createHash("sha256").update(image).digest("hex"), created: Date.now(),
		};
		writeFileSync(join(this.#directory, id), image);
		this.#store.addFirmware(record);
		return record;
	}

	path(record: FirmwareRecord): string {
		return `${this.#store.tenant}/${record.id}/${record.filename}`;
	}

	/** The firmware a download path names, or undefined. */
	find(path: string): FirmwareRecord | undefined {
		const [tenant, id, filename] = path.split("/");
		const record = id ? this.#store.firmware(id) : undefined;
		return record && tenant === this.#store.tenant && filename === record.filename ? record : undefined;
	}

	image(record: FirmwareRecord): Buffer {
		return readFileSync(join(this.#directory, record.id));
	}
}
