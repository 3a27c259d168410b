/*
 * The nRF9160's C compiles for its Cortex-M33 (arm-none-eabi-gcc, newlib) with
 * -Wall -Wextra -Werror against native/nrf9160/ncs.h, without an SDK: every
 * nRF9160 binding, the shared C, the MQTT codec and the XS engine's sources;
 * the bindings define every native function the modules call; and a warning
 * fails the build.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { COMPILER, bindingArguments, bindingSources, compileAll, compilerAvailable, engineArguments, engineSources } from "../tools/lib/cortex-m33.js";
import { root } from "./support/sim.js";

const scratch = mkdtempSync(join(tmpdir(), "nrf9160-cross-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function requireCompiler(): void {
	assert.ok(compilerAvailable(), `${COMPILER} is missing: install gcc-arm-none-eabi and libnewlib-arm-none-eabi (tools/debian-packages.txt)`);
}

function failures(results: Array<{ source: string; status: number | null; stderr: string }>): string[] {
	return results.filter((r) => r.status !== 0).map((r) => `${relative(root, r.source)}:\n${r.stderr}`);
}

function javascriptFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		return entry.isDirectory() ? javascriptFiles(path) : entry.name.endsWith(".js") ? [path] : [];
	});
}

test("the nRF9160 bindings include the SDK only through ncs.h", () => {
	for (const source of bindingSources(root).filter((path) => path.includes("/nrf9160/"))) {
		const includes = [...readFileSync(source, "utf8").matchAll(/^#include [<"]([^>"]+)[>"]/gm)].map((m) => m[1]!);
		const direct = includes.filter((header) => /^(zephyr|modem|dfu|net)\/|^nrf_/.test(header));
		assert.deepEqual(direct, [], relative(root, source));
	}
});

test("every nRF9160 binding, the shared C and the MQTT codec compile for Cortex-M33 with -Wall -Wextra -Werror, defining every native the modules call", async () => {
	requireCompiler();
	const results = await compileAll(bindingSources(root), join(scratch, "bindings"), (source, object) => bindingArguments(root, source, object));
	assert.deepEqual(failures(results), []);
	const header = spawnSync("arm-none-eabi-readelf", ["-h", "-A", results[0]!.object], { encoding: "utf8" }).stdout;
	assert.match(header, /Machine:\s+ARM/);
	assert.match(header, /Tag_CPU_arch: v8-M\.mainline/);
	assert.match(header, /Tag_ABI_VFP_args: VFP registers/);
	const symbols = spawnSync("arm-none-eabi-nm", ["--defined-only", ...results.map((r) => r.object)], { encoding: "utf8" }).stdout;
	const defined = new Set([...symbols.matchAll(/ T (xs_\w+)$/gm)].map((m) => m[1]!));
	const called = new Set(javascriptFiles(join(root, "build", "modules")).flatMap((file) =>
		[...readFileSync(file, "utf8").matchAll(/\bNative\("(xs_\w+)"\)|\bnative\("(xs_\w+)"\)/g)].map((m) => (m[1] ?? m[2])!)));
	assert.ok(called.size > 20, `only ${called.size} native names found in build/modules`);
	assert.deepEqual([...called].filter((name) => !defined.has(name)).sort(), [], "natives the modules call that no nRF9160 object defines");
});

test("the XS engine's sources compile for Cortex-M33 with the project's platform header", async () => {
	requireCompiler();
	const sources = engineSources(root);
	assert.ok(sources.length > 40, `only ${sources.length} engine sources in build/xs/sources`);
	const results = await compileAll(sources, join(scratch, "engine"), (source, object) => engineArguments(root, source, object));
	assert.deepEqual(failures(results), []);
});

test("a warning in an nRF9160 binding fails the cross-compile", async () => {
	requireCompiler();
	const copy = join(scratch, "copy");
	cpSync(join(root, "native"), join(copy, "native"), { recursive: true });
	const file = join(copy, "native", "storage", "nrf9160", "storage.c");
	const compile = () => spawnSync(COMPILER, bindingArguments(root, file, join(scratch, "storage-copy.o")), { encoding: "utf8" });
	const clean = compile();
	assert.equal(clean.status, 0, clean.stderr);
	appendFileSync(file, "\nstatic int unusedHelper(int value)\n{\n\tint unused;\n\treturn value;\n}\n");
	const broken = compile();
	assert.notEqual(broken.status, 0, "a binding with warnings compiled");
	assert.match(broken.stderr, /-Werror=unused-(function|variable)/);
});

test("the Thingy:91's orientation (the accelerometer, CONFIG_ADXL362) compiles too, where the DK build takes Switch 1", () => {
	requireCompiler();
	const source = join(root, "native", "ui", "nrf9160", "ui.c");
	const object = join(scratch, "ui-thingy91.o");
	const result = spawnSync(COMPILER, ["-DCONFIG_ADXL362=1", ...bindingArguments(root, source, object)], { encoding: "utf8" });
	assert.equal(result.status, 0, result.stderr);
	const symbols = spawnSync("arm-none-eabi-nm", ["--undefined-only", object], { encoding: "utf8" }).stdout;
	assert.match(symbols, /\bsensor_channel_get\b/);
	assert.match(symbols, /\bk_work_schedule\b/);
	assert.doesNotMatch(symbols, /\bdk_read_buttons\b/);
});
