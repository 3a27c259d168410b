/*
 * `npm run image -- --app DIR --version 1.2.3+4 --out FILE [--type app|boot|modem]`:
 * makes an update image for the simulator host, ready to upload to the local
 * nRF Cloud (its firmware type is the --type in capitals).
 *
 *   app    (default) an MCUboot image whose payload is the firmware build of the
 *          app: its compiled modules and the library's, as one ustar archive
 *          (tools/lib/firmware-archive.ts). --app is an app source directory with
 *          a manifest.json (compiled by npm run build) or a compiled directory
 *          holding main.js. The host runs it after the update.
 *   boot   an MCUboot image for the S0/S1 bootloader slots; its payload is the
 *          file given with --payload, or a generated test body naming the version.
 *   modem  an emulated modem delta: its first line is the firmware it installs,
 *          mfw_nrf9160_<--version>, then --payload or a generated test body. The
 *          DFU target checks it against its SHA-256, which is printed.
 *
 * Prints one JSON line: type, version, size, sha256 and the output file.
 */

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { option } from "../lib/args.js";
import { firmwareBuild, ustarArchive } from "../lib/firmware-archive.js";
import { formatImageVersion, mcubootImage, parseImageVersion } from "../lib/mcuboot-image.js";

export type UpdateImageType = "app" | "boot" | "modem";

export interface ImageOptions {
	type?: UpdateImageType;
	/** For app images: the app (source directory with manifest.json, or compiled directory). */
	app?: string;
	/** MCUboot version for app and boot ("1.2.3+4"); the modem firmware version for modem ("1.3.1"). */
	version: string;
	/** For boot and modem images: the body; a generated one otherwise. */
	payload?: Uint8Array;
}

export interface UpdateImage {
	type: UpdateImageType;
	version: string;
	image: Buffer;
	sha256: string;
}

const MODEM_VERSION = /^\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function testBody(text: string, size: number): Buffer {
	const body = Buffer.alloc(size);
	for (let i = 0; i < size; i++) body[i] = text.charCodeAt(i % text.length);
	return body;
}

export function makeImage(options: ImageOptions): UpdateImage {
	const type = options.type ?? "app";
	if (type !== "app" && type !== "boot" && type !== "modem") throw new RangeError(`--type must be app, boot or modem, not ${String(type)}`);
	if (typeof options.version !== "string") throw new TypeError("--version is required");
	let image: Buffer;
	let version: string;
	if (type === "modem") {
		if (!MODEM_VERSION.test(options.version)) throw new RangeError(`a modem version is major.minor.patch (the firmware becomes mfw_nrf9160_<version>), got ${JSON.stringify(options.version)}`);
		version = `mfw_nrf9160_${options.version}`;
		image = Buffer.concat([Buffer.from(`${version}\n`), Buffer.from(options.payload ?? testBody(`modem delta to ${version} `, 4096))]);
	}
	else {
		const parsed = parseImageVersion(options.version);
		version = formatImageVersion(parsed);
		let body: Uint8Array;
		if (type === "app") {
			if (options.app === undefined) throw new TypeError("an app image needs --app");
			if (options.payload !== undefined) throw new TypeError("an app image's payload is the firmware build of --app; --payload is for boot and modem images");
			body = ustarArchive(firmwareBuild(options.app));
		}
		else body = options.payload ?? testBody(`bootloader ${version} `, 8192);
		image = mcubootImage(body, parsed);
	}
	return { type, version, image, sha256: createHash("sha256").update(image).digest("hex") };
}

function main(argv: string[]): void {
	const out = option(argv, "--out");
	const version = option(argv, "--version");
	if (out === undefined || version === undefined)
		throw new Error("usage: npm run image -- [--type app|boot|modem] [--app DIR] [--payload FILE] --version 1.2.3+4 --out FILE");
	const payload = option(argv, "--payload");
	const made = makeImage({
		type: (option(argv, "--type") ?? "app") as UpdateImageType,
		app: option(argv, "--app"),
		version,
		payload: payload === undefined ? undefined : readFileSync(payload),
	});
	writeFileSync(out, made.image);
	console.log(JSON.stringify({ type: made.type, version: made.version, size: made.image.length, sha256: made.sha256, out: resolve(out) }));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		main(process.argv.slice(2));
	}
	catch (error) {
		console.error(`image: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 2;
	}
}
