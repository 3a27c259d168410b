/*
 * The nRF Cloud library's XS suite (tests/xs/nrf-cloud.suite.ts) in the
 * simulator host: on current and old modem firmware, and under the sanitizers.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runSim, sanitizerFindings } from "./support/sim.js";
import { assertSuite, suiteFile } from "./support/xs-suite.js";
import { NRF_CLOUD_TESTS, oldFirmwareState } from "./support/xs-suites.js";

let scratch: string;
const suite = suiteFile("nrf-cloud");

before(() => { scratch = mkdtempSync(join(tmpdir(), "nrf-cloud-xs-")); });
after(() => { rmSync(scratch, { recursive: true, force: true }); });

test("XS suite: encoders, decoders, random shadow data and the device binding", async () => {
	assertSuite(await runSim(["--state", join(scratch, "fresh"), suite]), NRF_CLOUD_TESTS);
});

test("XS suite on modem firmware 1.2.3: the internal UUID client ID fails with a clear error", async () => {
	const result = await runSim(["--state", oldFirmwareState(join(scratch, "old")), suite, "old-firmware"]);
	assertSuite(result, NRF_CLOUD_TESTS, { label: "nrf-cloud on old firmware" });
});

test("XS suite under AddressSanitizer, LeakSanitizer and UBSan", async () => {
	const result = await runSim(["--state", join(scratch, "asan"), suite], { variant: "asan", env: { ASAN_OPTIONS: "detect_leaks=1" } });
	assert.deepEqual(sanitizerFindings(result.stderr), [], result.stderr);
	assertSuite(result, NRF_CLOUD_TESTS, { label: "nrf-cloud (asan)" });
});
