/*
 * The nRF Cloud library's XS suite (tests/xs/nrf-cloud.suite.ts) in the
 * simulator host: on current and old modem firmware, and under the sanitizers.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { root, runSim, sanitizerFindings } from "./support/sim.js";

let scratch: string;
const suite = join(root, "build", "tests", "xs", "nrf-cloud.suite.js");

before(() => { scratch = mkdtempSync(join(tmpdir(), "nrf-cloud-xs-")); });
after(() => { rmSync(scratch, { recursive: true, force: true }); });

test("XS suite: encoders, decoders, random shadow data and the device binding", async () => {
	const result = await runSim(["--state", join(scratch, "fresh"), suite]);
	assert.equal(result.status, 0, result.stdout + result.stderr);
	assert.match(result.stdout, /\n4 passed, 0 failed\n$/);
});

test("XS suite on modem firmware 1.2.3: the internal UUID client ID fails with a clear error", async () => {
	const old = join(scratch, "old");
	mkdirSync(old, { recursive: true });
	writeFileSync(join(old, "firmware"), "mfw_nrf9160_1.2.3\n");
	const result = await runSim(["--state", old, suite, "old-firmware"]);
	assert.equal(result.status, 0, result.stdout + result.stderr);
	assert.match(result.stdout, /\n4 passed, 0 failed\n$/);
});

test("XS suite under AddressSanitizer, LeakSanitizer and UBSan", async () => {
	const result = await runSim(["--state", join(scratch, "asan"), suite], { variant: "asan", env: { ASAN_OPTIONS: "detect_leaks=1" } });
	assert.deepEqual(sanitizerFindings(result.stderr), [], result.stderr);
	assert.equal(result.status, 0, result.stdout + result.stderr);
	assert.match(result.stdout, /\n4 passed, 0 failed\n$/);
});
