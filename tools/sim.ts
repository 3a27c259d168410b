/*
 * `npm run sim -- [options] app.js [arguments]`: runs an app in the simulator
 * host with the XS creation sizes of a Moddable manifest (its "creation" and the
 * chosen platform's), the way mcconfig sizes the machine on the device. With
 * fixed sizes (incremental 0), the initial sizes become hard caps.
 *
 *   --manifest FILE   default: ./manifest.json
 *   --platform NAME   default: lin
 *   --variant NAME    release (default), debug, asan, release32
 *   --supervise       restart the host whenever it exits with the reboot status
 *                     (75), as the device restarts after DfuTarget.reboot()
 * Any other option before the app goes to the host and wins over the manifest.
 */

import { spawnSync } from "node:child_process";
import { supervise } from "./lib/supervise.js";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface Creation {
	chunk?: { initial?: number; incremental?: number };
	heap?: { initial?: number; incremental?: number };
	stack?: number;
	keys?: { initial?: number };
}

function merge(base: Creation, over: Creation | undefined): Creation {
	if (!over) return base;
	return {
		chunk: { ...base.chunk, ...over.chunk },
		heap: { ...base.heap, ...over.heap },
		stack: over.stack ?? base.stack,
		keys: { ...base.keys, ...over.keys },
	};
}

/** The host options a manifest's creation section stands for. */
export function creationOptions(manifestPath: string, platform: string, slotSize: number): string[] {
	const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { creation?: Creation; platforms?: Record<string, { creation?: Creation }> };
	const creation = merge(merge({}, manifest.creation), manifest.platforms?.[platform]?.creation);
	const options: string[] = [];
	const check = (value: unknown, name: string): number => {
		if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new Error(`${manifestPath}: creation.${name} must be a non-negative integer`);
		return value;
	};
	if (creation.chunk?.initial !== undefined) {
		const initial = check(creation.chunk.initial, "chunk.initial");
		options.push("--chunk", String(initial));
		if (creation.chunk.incremental === 0) options.push("--chunk-cap", String(initial + 4096));
	}
	if (creation.stack !== undefined) options.push("--stack", String(check(creation.stack, "stack")));
	if (creation.heap?.initial !== undefined) {
		const initial = check(creation.heap.initial, "heap.initial");
		options.push("--slots", String(initial));
		if (creation.heap.incremental === 0) options.push("--slot-cap", String((initial + (creation.stack ?? 4096)) * slotSize));
	}
	if (creation.keys?.initial !== undefined) options.push("--keys", String(check(creation.keys.initial, "keys.initial")));
	return options;
}

async function main(argv: string[]): Promise<number> {
	let manifest = "manifest.json";
	let platform = "lin";
	let variant = "release";
	let restart = false;
	const passThrough: string[] = [];
	let i = 0;
	for (; i < argv.length && argv[i]!.startsWith("--"); i++) {
		const option = argv[i]!;
		if (option === "--manifest") manifest = argv[++i] ?? "";
		else if (option === "--platform") platform = argv[++i] ?? "";
		else if (option === "--variant") variant = argv[++i] ?? "";
		else if (option === "--supervise") restart = true;
		else if (option === "--memory-report" || option === "--help") passThrough.push(option);
		else passThrough.push(option, argv[++i] ?? "");
	}
	const root = resolve(fileURLToPath(import.meta.url), "..", "..", "..");
	const host = join(root, "build", "sim", variant, "sim");
	if (!existsSync(host)) throw new Error(`no ${variant} simulator host; run npm run build`);
	const manifestOptions = creationOptions(manifest, platform, variant === "release32" ? 16 : 32);
	const given = new Set(passThrough.filter((a) => a.startsWith("--")));
	const merged: string[] = [];
	for (let k = 0; k < manifestOptions.length; k += 2) if (!given.has(manifestOptions[k]!)) merged.push(manifestOptions[k]!, manifestOptions[k + 1]!);
	const args = [...merged, ...passThrough, ...argv.slice(i)];
	if (!restart) return spawnSync(host, args, { stdio: "inherit" }).status ?? 1;
	const run = await supervise(host, args, { stdio: "inherit" }).done;
	return run.status ?? 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		main(process.argv.slice(2)).then((status) => { process.exitCode = status; }, (error: unknown) => {
			console.error(`sim: ${error instanceof Error ? error.message : String(error)}`);
			process.exitCode = 2;
		});
	}
	catch (error) {
		console.error(`sim: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 2;
	}
}
