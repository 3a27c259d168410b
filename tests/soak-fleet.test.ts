/*
 * The short fleet soak (npm run soak -- --fleet, tools/soak/fleet.ts): a few
 * soak firmwares in XS hosts, each behind a fault proxy cutting its link every
 * 0.5 to 4 s, two of them killed with SIGKILL and restarted on their modem
 * state, beside idle fleet clients on the same cloud process. With the
 * offline queue every message is in the cloud's store.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runFleetSoak, type FleetSoakOptions } from "../tools/soak/fleet.js";
import { soakTable } from "../tools/soak/report.js";
import { ensureSim } from "./support/sim.js";

const HOSTS = Number(process.env.SOAK_FLEET_HOSTS ?? 8);
const MESSAGES = 100;
const seed = Number(process.env.SOAK_SEED ?? (Date.now() >>> 0));
const work = mkdtempSync(join(tmpdir(), "soak-fleet-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

test(`fleet soak: ${HOSTS} XS hosts with cuts and 2 device SIGKILLs beside idle clients lose nothing with the offline queue`, { timeout: 240_000 }, async (t) => {
	ensureSim("release");
	const options: FleetSoakOptions = {
		work, devices: HOSTS + 20, soakers: HOSTS, xsHosts: HOSTS, deviceRestarts: 2, staggerMs: 100,
		messages: MESSAGES, intervalMs: 100, queue: true, cutMinMs: 500, cutMaxMs: 4000, seed, settleMs: 30_000,
		log: (line) => t.diagnostic(line),
	};
	const r = await runFleetSoak(options);
	for (const line of soakTable([{ title: "XS hosts", result: r.xs }]).split("\n")) t.diagnostic(line);
	t.diagnostic(`seed ${seed} (SOAK_SEED replays the cut intervals)`);
	assert.deepEqual(r.endedEarly, [], "no XS host ended on its own");
	assert.ok(r.cloudUp, "the cloud process stayed up");
	assert.equal(r.connected, HOSTS + 20);
	assert.equal(r.idleConnectedAtEnd, 20, "the idle clients stayed connected");
	assert.equal(r.xs.deviceRestarts, 2);
	assert.ok(r.xs.cuts > 0, "the proxies cut the links");
	assert.equal(r.xs.foreign, 0, "every stored message carries a sequence number of the soak");
	assert.equal(r.xs.sent, HOSTS * MESSAGES);
	assert.equal(r.xs.lost, 0, `missing: ${r.xs.missing.join(", ")}`);
	assert.equal(r.xs.stored, HOSTS * MESSAGES);
	assert.equal(r.node.sent, 0, "no Node clients");
});
