/*
 * The nRF9160's C compiled for its Cortex-M33 with Debian's arm-none-eabi-gcc
 * and newlib, without an SDK: every nRF9160 binding, the portable C they share
 * and the MQTT codec, against native/nrf9160/ncs.h with -Wall -Wextra -Werror,
 * and the XS engine's sources (those the simulator host builds, from
 * @agoric/xsnap via tools/fetch-xs.mjs) with the project's platform header
 * native/nrf9160/xs-platform.h. Used by the cross-compile test and by the
 * footprint in npm run bench.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

export const COMPILER = "arm-none-eabi-gcc";
/** The nRF9160's core: Cortex-M33 with its single-precision FPU, hard-float calling convention. */
export const TARGET = ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16", "-Os"];
/** As Moddable's Zephyr port compiles the project's sources (CMakeLists.txt.prefix: -fshort-enums). */
const SECTIONS = ["-fshort-enums", "-ffunction-sections", "-fdata-sections"];
export const WARNINGS = ["-Wall", "-Wextra", "-Werror"];

export interface Compiled {
	source: string;
	object: string;
	status: number | null;
	stderr: string;
}

export function compilerAvailable(): boolean {
	return spawnSync(COMPILER, ["--version"]).status === 0;
}

function cFiles(dir: string): string[] {
	return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".c")).sort().map((name) => join(dir, name)) : [];
}

/** The nRF9160 bindings and everything of native/ they link with. */
export function bindingSources(root: string): string[] {
	const native = join(root, "native");
	const bindings = readdirSync(native).sort().flatMap((binding) => cFiles(join(native, binding, "nrf9160")));
	return [...bindings, ...cFiles(join(native, "common")), ...cFiles(join(native, "mqtt"))];
}

/** The engine's sources as the simulator host takes them (xsSnapshot.c is xsnap's own, not the engine's). */
export function engineSources(root: string): string[] {
	return cFiles(join(root, "build", "xs", "sources")).filter((path) => !path.endsWith("/xsSnapshot.c"));
}

export function bindingArguments(root: string, source: string, object: string): string[] {
	return [...TARGET, ...SECTIONS, ...WARNINGS, "-std=gnu11", "-I", join(root, "build", "xs", "includes"), "-c", source, "-o", object];
}

export function engineArguments(root: string, source: string, object: string): string[] {
	const xs = join(root, "build", "xs");
	return [...TARGET, ...SECTIONS, "-w", "-DINCLUDE_XSPLATFORM", '-DXSPLATFORM="xs-platform.h"', "-DmxRun=1",
		"-I", join(root, "native", "nrf9160"), "-I", join(xs, "includes"), "-I", join(xs, "sources"), "-I", join(xs, "platforms"), "-c", source, "-o", object];
}

/** Compiles `sources` into `outDir`, two at a time; resolves with every result. */
export async function compileAll(sources: string[], outDir: string, argumentsFor: (source: string, object: string) => string[]): Promise<Compiled[]> {
	mkdirSync(outDir, { recursive: true });
	const results: Compiled[] = [];
	let next = 0;
	const worker = async () => {
		while (next < sources.length) {
			const index = next++;
			const source = sources[index]!;
			const object = join(outDir, `${index}-${basename(source, ".c")}.o`);
			results.push(await new Promise<Compiled>((resolve) => {
				const child = spawn(COMPILER, argumentsFor(source, object), { stdio: ["ignore", "ignore", "pipe"] });
				let stderr = "";
				child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
				child.on("close", (status) => resolve({ source, object, status, stderr }));
				child.on("error", (error) => resolve({ source, object, status: -1, stderr: String(error) }));
			}));
		}
	};
	await Promise.all([worker(), worker()]);
	return results;
}

export interface Sections {
	text: number;
	data: number;
	bss: number;
}

/** text, data and bss of objects (arm-none-eabi-size, Berkeley format: read-only data counts as text). */
export function sectionSizes(objects: string[]): Sections {
	const total: Sections = { text: 0, data: 0, bss: 0 };
	if (objects.length === 0) return total;
	const result = spawnSync("arm-none-eabi-size", objects, { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`arm-none-eabi-size failed: ${result.stderr}`);
	for (const line of result.stdout.trim().split("\n").slice(1)) {
		const [text, data, bss] = line.trim().split(/\s+/).map(Number);
		total.text += text!;
		total.data += data!;
		total.bss += bss!;
	}
	return total;
}
