/*
 * Firmware builds for the simulator host: the compiled modules of an app as one
 * POSIX ustar archive, main.js at its root and every library module under its
 * bare specifier ("nrf-cloud/device.js"), the payload of an APP MCUboot image.
 * The host's DFU binding checks and extracts it at the start that applies the
 * image (native/dfu/posix/dfu.c; the format in hosts/sim/README.md).
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface ArchiveEntry {
	/** Relative path with "/" separators: letters, digits and . _ - + only. */
	name: string;
	data: Uint8Array;
}

const BLOCK = 512;
const SAFE_NAME = /^(?!\/)[A-Za-z0-9._+\-/]+$/;

function field(header: Buffer, offset: number, length: number, text: string): void {
	header.write(text, offset, length, "ascii");
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
	field(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

/** Splits a path into ustar's prefix (155) and name (100) fields at a "/". */
function splitName(name: string): [string, string] {
	if (Buffer.byteLength(name) <= 100) return ["", name];
	for (let at = name.indexOf("/"); at >= 0; at = name.indexOf("/", at + 1)) {
		const prefix = name.slice(0, at);
		const rest = name.slice(at + 1);
		if (prefix.length <= 155 && rest.length <= 100) return [prefix, rest];
	}
	throw new RangeError(`archive entry name too long for ustar: ${name}`);
}

/** A ustar archive of regular files, in the given order, with fixed owner and time so the same files give the same bytes. */
export function ustarArchive(entries: readonly ArchiveEntry[]): Buffer {
	const parts: Buffer[] = [];
	const seen = new Set<string>();
	for (const entry of entries) {
		if (!SAFE_NAME.test(entry.name) || entry.name.split("/").some((part) => part === "" || part === "." || part === ".."))
			throw new RangeError(`archive entry name must be a plain relative path: ${JSON.stringify(entry.name)}`);
		if (seen.has(entry.name)) throw new RangeError(`archive entry twice: ${entry.name}`);
		seen.add(entry.name);
		const header = Buffer.alloc(BLOCK);
		const [prefix, name] = splitName(entry.name);
		field(header, 0, 100, name);
		octal(header, 100, 8, 0o644);
		octal(header, 108, 8, 0);
		octal(header, 116, 8, 0);
		octal(header, 124, 12, entry.data.length);
		octal(header, 136, 12, 0);
		header.fill(" ", 148, 156);
		header[156] = "0".charCodeAt(0);
		field(header, 257, 6, "ustar\0");
		field(header, 263, 2, "00");
		field(header, 345, 155, prefix);
		let sum = 0;
		for (const byte of header) sum += byte;
		field(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
		parts.push(header, Buffer.from(entry.data), Buffer.alloc((BLOCK - (entry.data.length % BLOCK)) % BLOCK));
	}
	parts.push(Buffer.alloc(BLOCK * 2));
	return Buffer.concat(parts);
}

/** The names and contents of a ustar archive's regular files (for tests and inspection). */
export function readUstar(archive: Uint8Array): ArchiveEntry[] {
	const bytes = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
	const entries: ArchiveEntry[] = [];
	for (let at = 0; at + BLOCK <= bytes.length;) {
		const header = bytes.subarray(at, at + BLOCK);
		if (header.every((byte) => byte === 0)) break;
		const text = (offset: number, length: number) => header.toString("ascii", offset, offset + length).replace(/\0.*$/s, "");
		const size = parseInt(text(124, 12).trim(), 8);
		const prefix = text(345, 155);
		const name = `${prefix}${prefix ? "/" : ""}${text(0, 100)}`;
		if (header[156] === 0x30 || header[156] === 0) entries.push({ name, data: bytes.subarray(at + BLOCK, at + BLOCK + size) });
		at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
	}
	return entries;
}

/** The .js files under `directory`, by their paths there (after `prefix/` when given), in a fixed order. */
export function javaScriptEntries(directory: string, prefix = ""): ArchiveEntry[] {
	const entries: ArchiveEntry[] = [];
	for (const name of readdirSync(directory).sort()) {
		const path = join(directory, name);
		const entryName = prefix ? `${prefix}/${name}` : name;
		if (statSync(path).isDirectory()) entries.push(...javaScriptEntries(path, entryName));
		else if (name.endsWith(".js")) entries.push({ name: entryName, data: readFileSync(path) });
	}
	return entries;
}

const projectRoot = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..");

/**
 * The compiled directory of an app: a source directory with a manifest.json
 * (its build under build/), or a directory that holds a compiled main.js.
 */
export function compiledAppDirectory(app: string): string {
	const path = resolve(app);
	if (!existsSync(path) || !statSync(path).isDirectory()) throw new Error(`${app} is not a directory`);
	if (existsSync(join(path, "main.js"))) return path;
	const built = join(projectRoot, "build", relative(projectRoot, path));
	if (existsSync(join(built, "main.js"))) return built;
	throw new Error(`no compiled main.js for ${app}${existsSync(join(path, "manifest.json")) ? "; run npm run build" : ""}`);
}

/**
 * The firmware build of an app: its compiled modules (main.js and the files
 * beside it, by their paths there) and the library (build/modules, by
 * specifier). Source maps are left out: they point at sources outside the archive.
 */
export function firmwareBuild(app: string, libraryDirectory = join(projectRoot, "build", "modules")): ArchiveEntry[] {
	const appDirectory = compiledAppDirectory(app);
	const entries = new Map<string, ArchiveEntry>();
	const library = appDirectory.startsWith(libraryDirectory + sep) ? [] : javaScriptEntries(libraryDirectory);
	for (const entry of [...javaScriptEntries(appDirectory), ...library]) {
		if (entries.has(entry.name)) throw new Error(`${entry.name} is both in the app and in the library`);
		entries.set(entry.name, entry);
	}
	const main = entries.get("main.js");
	if (main === undefined) throw new Error(`${appDirectory} has no main.js`);
	return [main, ...[...entries.values()].filter((entry) => entry !== main)];
}
