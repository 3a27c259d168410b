/* The parts of npm start and the device runner that need no processes: the refusal notice, the keys, the terminal lines, the options. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { RefusalWatch } from "../tools/device/refusal.js";
import { KeyMap } from "../tools/start/keys.js";
import { parseStartOptions } from "../tools/start/options.js";
import { DeviceLines, colourWanted, isStateChange } from "../tools/start/terminal.js";

const describe = () => ({ clientId: "nrf-352656100441776", advice: "Provision it again." });
const closed = "nrf_cloud: TRANSPORT_DISCONNECTED (9) status 2";
const connected = "nrf_cloud: TRANSPORT_CONNECTED (1) status 0";

test("RefusalWatch: JITP's one close before CONNACK is not a refusal; three in a row are, said once with the client id", () => {
	const said: string[] = [];
	const watch = new RefusalWatch(describe, (line) => said.push(line));
	watch.write(`${closed}\n${connected}\n${closed}\n${closed}\n`);
	assert.deepEqual(said, []);
	watch.write(`${closed.slice(0, 20)}`);
	watch.write(`${closed.slice(20)}\n${closed}\n${closed}\n`);
	assert.deepEqual(said, ["device: the cloud refuses client id nrf-352656100441776: the cloud closed 3 connections in a row before CONNACK. Provision it again."]);
	assert.equal(watch.reported, true);
});

test("RefusalWatch: a refusing CONNACK is a refusal at once", () => {
	const said: string[] = [];
	const watch = new RefusalWatch(describe, (line) => said.push(line));
	watch.line("nrf_cloud: connection ended: connection refused (5): not authorized");
	assert.equal(said.length, 1);
	assert.match(said[0]!, /client id nrf-352656100441776: its CONNECT was answered with "connection refused \(5\): not authorized"/);
	assert.throws(() => new RefusalWatch(undefined as never, () => undefined), TypeError);
});

test("KeyMap: b presses button 1 of all devices or the chosen one, f flips each over and back, q and Ctrl-C quit", () => {
	const keys = new KeyMap(3);
	const send = keys.press("b");
	assert.equal(send.kind, "send");
	if (send.kind === "send") assert.deepEqual(send.devices.map(send.line), ["button 1", "button 1", "button 1"]);
	assert.deepEqual(keys.press("2"), { kind: "choose", device: 1 });
	const flip = keys.press("f");
	if (flip.kind !== "send") assert.fail("f sends");
	assert.deepEqual(flip.devices.map(flip.line), ["flip UPSIDE_DOWN"]);
	const back = keys.press("f");
	if (back.kind !== "send") assert.fail("f sends");
	assert.deepEqual(back.devices.map(back.line), ["flip NORMAL"]);
	assert.deepEqual(keys.press("9"), { kind: "none" });
	assert.deepEqual(keys.press("0"), { kind: "choose", device: undefined });
	assert.deepEqual(keys.press("q"), { kind: "quit" });
	assert.deepEqual(keys.press("\u0003"), { kind: "quit" });
	assert.throws(() => new KeyMap(0), RangeError);
});

test("DeviceLines: each line with the short id, colours only when wanted, --quiet keeps state changes", () => {
	const out: string[] = [];
	const lines = new DeviceLines({ write: (line) => out.push(line), colour: false, quiet: true });
	lines.output(0, "nrf-352656100441776", "stdout", "nrf_cloud: SENSOR_DATA_ACK (8) status 0\nnrf_cloud: REA");
	lines.output(0, "nrf-352656100441776", "stdout", "DY (5) status 0\napp: round 1 sent\napp: state READY\n");
	assert.deepEqual(out, ["1776 nrf_cloud: READY (5) status 0", "1776 app: state READY"]);
	const coloured = new DeviceLines({ write: (line) => out.push(line), colour: true, quiet: false });
	assert.equal(coloured.label(1, "nrf-352656100000017"), "\x1b[33m0017\x1b[0m");
	assert.equal(isStateChange("nrf_cloud: USER_ASSOCIATION_REQUEST (3) status 0"), true);
	assert.equal(isStateChange("nrf_cloud: TRANSPORT_CONNECTING (2) status 0"), false);
	assert.equal(colourWanted({ isTTY: false }, {}), false);
	assert.equal(colourWanted({ isTTY: true }, {}), true);
	assert.equal(colourWanted({ isTTY: false }, { FORCE_COLOR: "1" }), true);
	assert.equal(colourWanted({ isTTY: true }, { FORCE_COLOR: "0" }), false);
});

test("parseStartOptions: defaults, the fleet's size, and clear errors", () => {
	const options = parseStartOptions([], "/project");
	assert.equal(options.devices, 1);
	assert.equal(options.state, "/project/.state");
	assert.equal(options.build, true);
	assert.equal(parseStartOptions(["--devices", "5", "--no-build", "--quiet"], "/project").devices, 5);
	assert.throws(() => parseStartOptions(["--devices", "0"], "/p"), /--devices must be from 1 to 50/);
	assert.throws(() => parseStartOptions(["--devices", "51"], "/p"), /--devices must be a whole number from 0 to 50/);
	assert.throws(() => parseStartOptions(["--device", "2"], "/p"), /unknown option --device/);
});
