/*
 * The JSON decoders fuzzed inside XS (tests/xs/json-fuzz.suite.ts): random and
 * mutated shadow, delta, job and stored-job documents, in the simulator host's
 * release build and under AddressSanitizer, LeakSanitizer and UBSan.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { runSim, sanitizerFindings } from "./support/sim.js";
import { assertSuite, suiteFile } from "./support/xs-suite.js";
import { JSON_FUZZ_TESTS } from "./support/xs-suites.js";

const suite = suiteFile("json-fuzz");

test("XS suite: random and mutated documents never throw and are never accepted when invalid", async () => {
	assertSuite(await runSim(["--timeout", "300", suite]), JSON_FUZZ_TESTS);
});

test("XS suite under AddressSanitizer, LeakSanitizer and UBSan", async () => {
	const result = await runSim(["--timeout", "300", suite], { variant: "asan", env: { ASAN_OPTIONS: "detect_leaks=1" } });
	assert.deepEqual(sanitizerFindings(result.stderr), [], result.stderr);
	assertSuite(result, JSON_FUZZ_TESTS, { label: "json-fuzz (asan)" });
});
