/*
 * The local nRF Cloud with Debian's Mosquitto as its device-facing broker: the
 * per-device policy as an ACL file reloaded on association, the shadow,
 * association and message services attached as a privileged client, third-party
 * device tools on the other side.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { mosquittoPubAs, mosquittoRequest, mosquittoSubAs, stopTools, type ToolCredentials } from "../tools/lib/mosquitto.js";
import { provision } from "../tools/provision/main.js";
import { deviceCredentials, restClient } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100000041";
const OTHER = "nrf-352656100000058";
let dir: string;
let running: RunningCloud;

const credentials = (id: string): ToolCredentials => deviceCredentials(dir, running.endpoints, id);

const rest = restClient(() => running.endpoints);

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-external-"));
	running = await startCloud({ state: join(dir, "cloud"), broker: "mosquitto" });
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, clientIdSource: "compile-time", out: join(dir, "out") });
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem-other"), deviceId: OTHER, clientIdSource: "compile-time", out: join(dir, "out") });
});

after(async () => {
	stopTools();
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("on Mosquitto: a device registers with its first message and gets its trimmed shadow", async () => {
	const answer = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/get`, `${DEVICE}/shadow/get/accepted`, ""));
	assert.deepEqual(answer.desired, { pairing: { state: "not_associated" } });
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}`)).json.associated, false);
});

test("on Mosquitto: the ACL keeps a device to its own topics", async () => {
	// Mosquitto grants a denied SUBSCRIBE and then delivers nothing on it (AWS answers 0x80 instead)
	await mosquittoRequest(credentials(OTHER), `$aws/things/${OTHER}/shadow/get`, `${OTHER}/shadow/get/accepted`, "");
	const foreignTopic = `$aws/things/${OTHER}/shadow/update/delta`;
	const ownTopic = `$aws/things/${DEVICE}/shadow/update/delta`;
	// DEVICE listens on OTHER's delta (denied) and on its own, whose delta the cloud publishes second:
	// Mosquitto delivers to a subscriber in order, so DEVICE's first message shows whether OTHER's got through.
	const foreign = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", foreignTopic, "-t", ownTopic, "-C", "1", "-W", "10"]);
	const own = await mosquittoSubAs(credentials(OTHER), ["-q", "1", "-t", foreignTopic, "-C", "1", "-W", "10"]);
	assert.equal((await rest("PATCH", `/v1/devices/${OTHER}/state`, { desired: { config: { GPS: { enable: true } } } })).status, 202);
	assert.equal((await own.wait(1)).length, 1, "the device itself gets its delta");
	assert.equal((await rest("PATCH", `/v1/devices/${DEVICE}/state`, { desired: { config: { FLIP: { enable: true } } } })).status, 202);
	const [first] = await foreign.wait(1);
	assert.equal(first!.slice(0, first!.indexOf(" ")), ownTopic, "another device gets nothing: the first delta DEVICE sees is its own");
	const prefix = running.endpoints.topicPrefix;
	await mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `${prefix}m/d/${DEVICE}/d2c`, "-m", '{"before":"association"}']);
	// A shadow update sent after the d2c message reaches the cloud after it would have: once the shadow
	// shows it, the d2c message had its chance to be stored.
	await mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `$aws/things/${DEVICE}/shadow/update`, "-m", '{"state":{"reported":{"probe":"after-d2c"}}}']);
	await until(async () => (await rest("GET", `/v1/devices/${DEVICE}`)).json.state.reported.probe === "after-d2c", { what: "the shadow update sent after the d2c message", timeout: 10000 });
	assert.equal((await rest("GET", `/v1/messages?deviceId=${DEVICE}`)).json.total, 0, "d2c before association is dropped by the ACL");
});

test("on Mosquitto: association reloads the ACL; then d2c is stored and c2d delivered", async () => {
	const delta = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", `$aws/things/${DEVICE}/shadow/update/delta`, "-C", "1", "-W", "20"]);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, DEVICE)).status, 202);
	const [line] = await delta.wait(1);
	assert.equal(JSON.parse(line!.slice(line!.indexOf(" ") + 1)).state.pairing.state, "paired");
	// Mosquitto's log says when the ACL is reloaded; what is sent after that meets the new policy.
	await running.cloud.policyApplied();
	const prefix = running.endpoints.topicPrefix;
	await mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `${prefix}m/d/${DEVICE}/d2c`, "-m", '{"appId":"FLIP","messageType":"DATA","data":"NORMAL"}']);
	const stored = await until(async () => {
		const messages = (await rest("GET", `/v1/messages?deviceId=${DEVICE}&direction=d2c`)).json;
		return messages.total > 0 ? messages : undefined;
	}, { what: "the stored d2c message", timeout: 10000, interval: 50 });
	assert.equal(stored.total, 1);
	const c2d = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", `${prefix}m/d/${DEVICE}/c2d`, "-C", "1", "-W", "20"]);
	assert.deepEqual(c2d.granted, [1]);
	assert.equal((await rest("POST", `/v1/devices/${DEVICE}/messages`, '{"appId":"LED","data":"ON"}')).status, 201);
	assert.deepEqual(await c2d.wait(1), [`${prefix}m/d/${DEVICE}/c2d {"appId":"LED","data":"ON"}`]);
});
