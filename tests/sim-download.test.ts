/*
 * The XS download suite against the local nRF Cloud's firmware server over
 * real TLS, once directly and once through the fault proxy cutting the link
 * at three random offsets (the seed is printed, so a failure can be replayed
 * with DOWNLOAD_SEED).
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { seededRandom, type FaultProxy } from "../tools/lib/fault-proxy.js";
import { startFirmwareRig, type FirmwareRig } from "../tools/lib/firmware-rig.js";
import { runSim } from "./support/sim.js";
import { writeDownloadFixture } from "./support/xs-fixtures.js";
import { assertSuite, outputOf, suiteFile } from "./support/xs-suite.js";
import { DOWNLOAD_TESTS } from "./support/xs-suites.js";

const SIZE = 200 * 1024;
let rig: FirmwareRig;
let proxy: FaultProxy;
let state: string;

before(async () => {
	rig = await startFirmwareRig(SIZE);
	// Cuts as a broken link: a RST, which the device's socket reports as an error.
	proxy = await rig.proxy("reset");
	state = mkdtempSync(join(tmpdir(), "sim-download-state-"));
});

after(async () => {
	await rig?.stop();
	if (state) rmSync(state, { recursive: true, force: true });
});

test("XS suite: the download client over TLS from the firmware server, directly and through a link cut three times", async (t) => {
	const seed = Number(process.env.DOWNLOAD_SEED ?? Math.floor(Math.random() * 0x7FFFFFFF));
	t.diagnostic(`DOWNLOAD_SEED=${seed}`);
	const cuts = proxy.cutAtRandom(3, SIZE, seededRandom(seed));
	t.diagnostic(`cuts at downstream bytes ${cuts.join(", ")}`);
	writeDownloadFixture({ ...rig.pem, port: rig.port, proxyPort: proxy.port, host: rig.host, path: rig.path, size: SIZE, sha256: rig.sha256 });
	const result = await runSim(["--timeout", "120", "--state", state, suiteFile("download")]);
	for (const line of result.stdout.trim().split("\n")) t.diagnostic(line);
	const report = assertSuite(result, DOWNLOAD_TESTS);
	assert.equal(proxy.stats.cuts, 3, "the proxy cut three times");
	assert.equal(proxy.stats.connections, 4);
	assert.ok(proxy.stats.down < 3 * SIZE, `${proxy.stats.down} bytes through the cut link, less than three downloads (${3 * SIZE})`);
	const line = outputOf(report, DOWNLOAD_TESTS[2]).find((l) => l.startsWith("cut "));
	assert.ok(line, "the suite printed its statistics");
	const stats = JSON.parse(line.slice(4)) as { requests: number; bodyBytes: number };
	assert.ok(stats.requests >= Math.ceil(SIZE / 1700) && stats.requests <= Math.ceil(SIZE / 1700) + 3, `requests ${stats.requests}`);
});
