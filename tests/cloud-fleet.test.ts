/*
 * A fleet of 1,000 simulated devices against the local nRF Cloud's embedded
 * broker: every first connection is refused by JITP and registers the device,
 * then all 1,000 hold a connection at once and each gets its shadow.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connectFleet, fleetCredentials, type FleetCredentials } from "../tools/cloud-sim/fleet.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { until } from "./support/until.js";

const COUNT = Number(process.env.FLEET_SIZE ?? 1000);
let dir: string;
let running: RunningCloud;
let fleet: FleetCredentials;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), "cloud-fleet-"));
	running = await startCloud({ state: join(dir, "cloud") });
	fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, "fleet"), COUNT);
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test(`${COUNT} devices register through JITP, then hold connections at once`, async (t) => {
	const started = Date.now();
	const first = await connectFleet(fleet, running.endpoints.mqttPort);
	assert.deepEqual((await Promise.all(first.map((d) => d.connected))).filter(Boolean), [], "every first connection is refused");
	assert.equal(running.cloud.store.devices().length, COUNT);
	const registered = Date.now();
	const devices = await connectFleet(fleet, running.endpoints.mqttPort);
	const outcomes = await Promise.all(devices.map((d) => d.connected));
	assert.equal(outcomes.filter(Boolean).length, COUNT, "every second connection is accepted");
	const connectedAt = Date.now();
	let connected = 0;
	for (const d of devices) if (running.cloud.isConnected(d.id)) connected++;
	assert.equal(connected, COUNT, "all connections are held at the same time");
	for (const d of devices) {
		d.client.subscribe([{ topic: `${d.id}/shadow/get/accepted`, qos: 1 }]);
		d.client.publish(`$aws/things/${d.id}/shadow/get`, "", { qos: 1 });
	}
	const answered = () => devices.filter((d) => d.received.includes(`${d.id}/shadow/get/accepted`)).length;
	await until(() => answered() === COUNT, { what: "every device's own trimmed shadow", timeout: 60000, interval: 50, detail: () => `${answered()} of ${COUNT} answered` });
	assert.ok(devices.every((d) => d.received.every((topic) => topic === `${d.id}/shadow/get/accepted`)), "and nobody else's");
	for (const d of devices) d.client.disconnect();
	await Promise.all(devices.map((d) => d.closed));
	t.diagnostic(`JITP for ${COUNT} devices: ${registered - started} ms; ${COUNT} accepted connections: ${connectedAt - registered} ms`);
});
