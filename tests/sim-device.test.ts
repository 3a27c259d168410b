/*
 * Key-value persistence and DFU across restarts of the simulator host: the
 * device suite's starts on one state directory (DEVICE_PHASES), each but the
 * last ending in the reboot status 75; the APP images it writes carry the
 * suite as their firmware build, so the host runs the suite from the applied
 * image. Between the sixth and the seventh start the scheduled image is damaged
 * in the slot. The same starts on the suite built with the Moddable SDK when
 * $MODDABLE is set (skipped, and saying so, without it), and under the sanitizers.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { ensureModdableSuite, MODDABLE_SKIP } from "./support/moddable.js";
import { runSim, sanitizerFindings, type SimRun } from "./support/sim.js";
import { writeDeviceFixture } from "./support/xs-fixtures.js";
import { assertSuite, suiteFile } from "./support/xs-suite.js";
import { damageScheduledImage, DEVICE_PHASES } from "./support/xs-suites.js";

let scratch: string;
let appImage: Buffer;

before(() => {
	scratch = mkdtempSync(join(tmpdir(), "sim-device-"));
	appImage = writeDeviceFixture().appImage;
});

after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every start of the suite, in order, on a fresh state directory; `check` after each start. */
async function walkPhases(t: TestContext, name: string, start: (state: string, phase: string) => Promise<SimRun>, check?: (state: string, phase: string, run: SimRun) => void): Promise<void> {
	const state = join(scratch, name);
	for (const phase of DEVICE_PHASES) {
		if (phase.phase === "seventh") damageScheduledImage(state);
		const run = await start(state, phase.phase);
		for (const line of run.stdout.trim().split("\n")) t.diagnostic(`${phase.phase}: ${line}`);
		assertSuite(run, phase.expected, { status: phase.status, label: `device, ${phase.phase} start (${name})` });
		check?.(state, phase.phase, run);
	}
}

test("XS suite: storage and DFU over seven starts: resume, test swap and revert, confirm, S0/S1, modem firmware, a damaged slot", async (t) => {
	await walkPhases(t, "release", (state, phase) => runSim(["--state", state, suiteFile("device"), phase]), (state, phase, run) => {
		const dfu = join(state, "dfu");
		if (phase === "first") assert.ok(existsSync(join(dfu, "pending")), "the update is scheduled");
		if (phase === "second") {
			// The host ran the suite from the applied image: extracted beside the copy of the image.
			const images = readdirSync(dfu).filter((n) => /^app-\d+\.bin$/.test(n));
			assert.equal(images.length, 1, String(readdirSync(dfu)));
			assert.ok(readFileSync(join(dfu, images[0]!)).equals(appImage), "the primary slot holds the new image");
			assert.ok(existsSync(join(dfu, images[0]!.replace(".bin", ""), "tests", "xs", "device.suite.js")));
			assert.match(run.stderr, /DFU: app image 1\.2\.3\+45 applied, not confirmed yet/);
			assert.equal(existsSync(join(dfu, "pending")), false);
		}
		if (phase === "third") {
			assert.match(run.stderr, /app image 1\.2\.3\+45 was not confirmed: reverted to the app on the command line/);
			assert.deepEqual(readdirSync(dfu).filter((n) => n.startsWith("app-")), [], "the reverted image is gone");
		}
		if (phase === "sixth") assert.equal(readFileSync(join(state, "firmware"), "utf8"), "mfw_nrf9160_1.3.2\n");
	});
});

test("Moddable build: the same starts, built by mcconfig, xsc and xsl", { skip: MODDABLE_SKIP }, async (t) => {
	const program = ensureModdableSuite("device", {
		modules: ["dfu/target", "modem/at", "modem/attestation", "platform/errno", "platform/utf8", "storage/key-value"],
		bindings: ["dfu/posix/dfu", "storage/posix/storage", "modem/posix/modem"],
		generated: ["device-fixture", "device-app-image"],
	});
	// The Moddable build runs the modules preloaded in its archive, here the same suite, whatever the image holds.
	await walkPhases(t, "moddable", (state, phase) => runSim(["--state", state, "--main", "tests/xs/device.suite", phase], { program }));
});

test("the same starts under AddressSanitizer, LeakSanitizer and UBSan are clean", async (t) => {
	const env = { ASAN_OPTIONS: "detect_leaks=1" };
	await walkPhases(t, "asan", (state, phase) => runSim(["--state", state, suiteFile("device"), phase], { variant: "asan", env }), (_state, phase, run) => {
		assert.deepEqual(sanitizerFindings(run.stderr), [], `${phase}: ${run.stderr}`);
	});
});
