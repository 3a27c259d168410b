/*
 * The XS TLS suite against Debian's Mosquitto: TLS 1.2 with required client
 * certificates, credentials provisioned into the emulated modem with AT%CMNG.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runSim, sanitizerFindings } from "./support/sim.js";
import { startTlsFixture, type TlsFixture } from "./support/xs-fixtures.js";
import { assertSuite, suiteFile } from "./support/xs-suite.js";
import { TLS_TESTS } from "./support/xs-suites.js";

let fixture: TlsFixture;
let state: string;

before(async () => {
	fixture = await startTlsFixture();
	state = mkdtempSync(join(tmpdir(), "sim-tls-state-"));
});

after(async () => {
	await fixture?.stop();
	if (state) rmSync(state, { recursive: true, force: true });
});

test("XS suite: MQTT over the native TLS socket to Mosquitto, credentials from AT%CMNG", async (t) => {
	const result = await runSim(["--timeout", "120", "--state", state, suiteFile("tls")]);
	for (const line of result.stdout.trim().split("\n")) t.diagnostic(line);
	assertSuite(result, TLS_TESTS);
});

test("the same suite under AddressSanitizer, LeakSanitizer and UBSan is clean", async () => {
	const result = await runSim(["--timeout", "120", "--state", state, suiteFile("tls")], { variant: "asan", env: { ASAN_OPTIONS: "detect_leaks=1" } });
	assert.deepEqual(sanitizerFindings(result.stderr), [], result.stderr);
	assertSuite(result, TLS_TESTS, { label: "tls (asan)" });
});
