/*
 * native/common is plain C shared by the simulator host's and the nRF9160's
 * bindings: a C program (tests/c/native-common-check.c) checks it with the C
 * library and pthreads alone, under AddressSanitizer with UBSan, and under
 * ThreadSanitizer for the lock-free event set and ring its threads hammer.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { root } from "./support/sim.js";

const common = join(root, "native", "common");
const sources = readdirSync(common).filter((name) => name.endsWith(".c")).map((name) => join(common, name));
const CHECKS = 38;

function buildAndRun(sanitizers: string[]): string[] {
	const dir = mkdtempSync(join(tmpdir(), "native-common-"));
	try {
		const program = join(dir, "check");
		const built = spawnSync("cc", ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", ...sanitizers, "-pthread", "-I", common,
			...sources, join(root, "tests", "c", "native-common-check.c"), "-o", program], { encoding: "utf8" });
		assert.equal(built.status, 0, built.stderr);
		const run = spawnSync(program, [], { encoding: "utf8", env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1", TSAN_OPTIONS: "halt_on_error=1" } });
		assert.equal(run.status, 0, run.stdout + run.stderr);
		return run.stdout.trim().split("\n");
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

test("native/common includes nothing of the engine, the SDK or the host", () => {
	for (const name of readdirSync(common).filter((n) => /\.[ch]$/.test(n))) {
		const includes = [...readFileSync(join(common, name), "utf8").matchAll(/^#include [<"]([^>"]+)[>"]/gm)].map((m) => m[1]!);
		const foreign = includes.filter((header) => !/^[a-z0-9-]+\.h$/.test(header) || ["xsmc.h", "xs.h", "sim.h", "ncs.h"].includes(header));
		assert.deepEqual(foreign, [], name);
	}
});

test("the portable logic passes its checks under AddressSanitizer and UBSan", () => {
	const lines = buildAndRun(["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]);
	assert.deepEqual(lines.filter((line) => !line.startsWith("ok - ")), []);
	assert.equal(lines.length, CHECKS);
});

test("the event set and the notification ring are free of data races under ThreadSanitizer", () => {
	const lines = buildAndRun(["-fsanitize=thread"]);
	assert.deepEqual(lines.filter((line) => !line.startsWith("ok - ")), []);
	assert.equal(lines.length, CHECKS);
});
