/*
 * The short soak (npm run soak, tools/soak): the soak firmware in XS sends
 * 1,000 QoS 1 sensor messages through a fault proxy cutting the link every
 * 0.5 to 4 s, while the local nRF Cloud is killed with SIGKILL and restarted
 * once and the device host once. With the library's offline queue every
 * message is in the cloud's store; without it (the C library's behaviour)
 * messages are lost, so the count can fail either way. The two runs go at
 * once, each with a cloud and a device of its own.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { soakTable } from "../tools/soak/report.js";
import { runSoak, type SoakOptions, type SoakResult } from "../tools/soak/run.js";
import { ensureSim } from "./support/sim.js";

const MESSAGES = Number(process.env.SOAK_MESSAGES ?? 1000);
const seed = Number(process.env.SOAK_SEED ?? (Date.now() >>> 0));
const work = mkdtempSync(join(tmpdir(), "soak-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

function soak(queue: boolean, log: (line: string) => void): Promise<SoakResult> {
	const options: SoakOptions = {
		work: join(work, queue ? "queue" : "baseline"), queue, messages: MESSAGES, intervalMs: 20,
		cloudRestarts: 1, deviceRestarts: 1, cutMinMs: 500, cutMaxMs: 4000, seed,
		imei: queue ? "352656109800001" : "352656109800002", settleMs: queue ? 30_000 : 5_000, log,
	};
	return runSoak(options);
}

test(`soak of ${MESSAGES} messages with cuts, a cloud SIGKILL and a device SIGKILL: none lost with the offline queue, some without`, { timeout: 240_000 }, async (t) => {
	ensureSim("release");
	const log = (line: string) => t.diagnostic(line);
	const [queued, baseline] = await Promise.all([soak(true, log), soak(false, log)]);
	for (const line of soakTable([{ title: "offline queue", result: queued }, { title: "baseline", result: baseline }]).split("\n")) t.diagnostic(line);
	t.diagnostic(`seed ${seed} (SOAK_SEED replays the cut intervals)`);
	for (const result of [queued, baseline]) {
		assert.equal(result.cloudRestarts, 1);
		assert.equal(result.deviceRestarts, 1);
		assert.ok(result.cuts > 0, "the proxy cut the link");
		assert.equal(result.foreign, 0, "every stored message carries a sequence number of the soak");
	}
	assert.equal(queued.lost, 0, `missing with the offline queue: ${queued.missing.join(", ")}`);
	assert.equal(queued.stored, MESSAGES);
	assert.equal(queued.dropped, 0, "the queue took every send");
	assert.ok(baseline.lost > 0, "without the queue the cuts and kills lose messages");
	assert.equal(baseline.stored + baseline.lost, MESSAGES);
});
