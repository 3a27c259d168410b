/*
 * Key-value persistence and DFU across a restart of the simulator host: the
 * first run schedules an update and exits with the reboot status 75, the second
 * run on the same state directory finds its values and the applied image.
 * The same two runs on the suite built with the Moddable SDK when $MODDABLE is
 * set (skipped, and saying so, without it).
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ensureModdableSuite, MODDABLE_SKIP } from "./support/moddable.js";
import { runSim, sanitizerFindings } from "./support/sim.js";
import { writeDeviceFixture } from "./support/xs-fixtures.js";
import { assertSuite, suiteFile } from "./support/xs-suite.js";
import { DEVICE_FIRST_TESTS, DEVICE_SECOND_TESTS, REBOOT_STATUS } from "./support/xs-suites.js";

let state: string;
let appImage: Buffer;

before(() => {
	state = mkdtempSync(join(tmpdir(), "sim-device-"));
	appImage = writeDeviceFixture().appImage;
});

after(() => rmSync(state, { recursive: true, force: true }));

test("XS suite: storage and DFU, then a reboot (status 75) and the second start", async (t) => {
	const first = await runSim(["--state", state, suiteFile("device"), "first"]);
	for (const line of first.stdout.trim().split("\n")) t.diagnostic(line);
	// The reboot request is the documented exit status.
	assertSuite(first, DEVICE_FIRST_TESTS, { status: REBOOT_STATUS, label: "device, first start" });
	assert.ok(existsSync(join(state, "dfu", "pending")));
	const second = await runSim(["--state", state, suiteFile("device"), "second"]);
	for (const line of second.stdout.trim().split("\n")) t.diagnostic(line);
	assertSuite(second, DEVICE_SECOND_TESTS, { label: "device, after the reboot" });
	assert.ok(readFileSync(join(state, "dfu", "primary-app.bin")).equals(appImage), "the primary slot holds the new image");
	assert.equal(existsSync(join(state, "dfu", "pending")), false);
});

test("Moddable build: the same suite, built by mcconfig, xsc and xsl, across the reboot", { skip: MODDABLE_SKIP }, async (t) => {
	const program = ensureModdableSuite("device", {
		modules: ["dfu/target", "platform/errno", "platform/utf8", "storage/key-value"],
		bindings: ["dfu/posix/dfu", "storage/posix/storage", "modem/posix/modem"],
		generated: ["device-fixture"],
	});
	const fresh = mkdtempSync(join(tmpdir(), "sim-device-moddable-"));
	try {
		const main = ["--main", "tests/xs/device.suite"];
		const first = await runSim(["--state", fresh, ...main, "first"], { program });
		for (const line of first.stdout.trim().split("\n")) t.diagnostic(line);
		assertSuite(first, DEVICE_FIRST_TESTS, { status: REBOOT_STATUS, label: "device, first start (Moddable)" });
		const second = await runSim(["--state", fresh, ...main, "second"], { program });
		assertSuite(second, DEVICE_SECOND_TESTS, { label: "device, after the reboot (Moddable)" });
		assert.ok(readFileSync(join(fresh, "dfu", "primary-app.bin")).equals(appImage), "the primary slot holds the new image");
	}
	finally {
		rmSync(fresh, { recursive: true, force: true });
	}
});

test("the same two runs under AddressSanitizer, LeakSanitizer and UBSan are clean", async () => {
	const fresh = mkdtempSync(join(tmpdir(), "sim-device-asan-"));
	try {
		const env = { ASAN_OPTIONS: "detect_leaks=1" };
		const first = await runSim(["--state", fresh, suiteFile("device"), "first"], { variant: "asan", env });
		assert.deepEqual(sanitizerFindings(first.stderr), [], first.stderr);
		assertSuite(first, DEVICE_FIRST_TESTS, { status: REBOOT_STATUS, label: "device, first start (asan)" });
		const second = await runSim(["--state", fresh, suiteFile("device"), "second"], { variant: "asan", env });
		assert.deepEqual(sanitizerFindings(second.stderr), [], second.stderr);
		assertSuite(second, DEVICE_SECOND_TESTS, { label: "device, after the reboot (asan)" });
	}
	finally {
		rmSync(fresh, { recursive: true, force: true });
	}
});
