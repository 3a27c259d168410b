/*
 * native/mqtt/mqtt-wire.c is plain C: it builds with the C library alone (no
 * engine headers on the include path) and a C program encodes and decodes
 * with it (tests/c/mqtt-wire-check.c), under AddressSanitizer and UBSan.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { root } from "./support/sim.js";

test("the wire layer includes nothing of the engine", () => {
	for (const file of ["mqtt-wire.c", "mqtt-wire.h"]) {
		const includes = [...readFileSync(join(root, "native", "mqtt", file), "utf8").matchAll(/^#include [<"]([^>"]+)[>"]/gm)].map((m) => m[1]);
		assert.deepEqual(includes.filter((name) => !["mqtt-wire.h", "stdarg.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "string.h"].includes(name!)), [], file);
	}
});

test("a C program encodes and decodes with the wire layer alone", () => {
	const dir = mkdtempSync(join(tmpdir(), "mqtt-wire-"));
	try {
		const program = join(dir, "mqtt-wire-check");
		const built = spawnSync("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
			"-I", join(root, "native", "mqtt"), join(root, "native", "mqtt", "mqtt-wire.c"), join(root, "tests", "c", "mqtt-wire-check.c"), "-o", program], { encoding: "utf8" });
		assert.equal(built.status, 0, built.stderr);
		const run = spawnSync(program, [], { encoding: "utf8", env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1" } });
		assert.equal(run.status, 0, run.stdout + run.stderr);
		const lines = run.stdout.trim().split("\n");
		assert.deepEqual(lines.filter((line) => !line.startsWith("ok - ")), []);
		assert.equal(lines.length, 15);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
