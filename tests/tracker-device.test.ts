/*
 * The example firmware (examples/tracker) at work: in XS on the simulator
 * host, against the local nRF Cloud over mutual TLS, with the drive's NMEA log
 * replayed from a given fix and control lines written to the host's standard
 * input. Through the cloud's REST API: the GPS messages carry the log's GGA
 * sentences from that fix on, in order; `button 2` gives a BUTTON message,
 * `flip UPSIDE_DOWN` a FLIP message; an LED CFG_SET message sent with
 * POST /v1/devices/:id/messages sets LED 1 and gets the LED DATA answer.
 * On the xsnap build, and on the Moddable build when $MODDABLE is set.
 * Also: the replay's offset and looping on a small log, and the host's
 * refusals (no log, an offset past the log, unknown control lines).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { runDevice } from "../tools/device/main.js";
import { supervise } from "../tools/lib/supervise.js";
import { nmeaSentence } from "../modules/sensors/nmea.js";
import { provisionModemDevice, restClient } from "./support/cloud.js";
import { ensureModdable, MODDABLE_SKIP } from "./support/moddable.js";
import { ensureSim, root, sanitizerFindings } from "./support/sim.js";
import { until } from "./support/until.js";

let dir: string;
let running: RunningCloud;
const rest = restClient(() => running.endpoints);
const OFFSET = 120;

/** The GGA sentences of the shipped drive, one per fix. */
const DRIVE_GGA = readFileSync(join(root, "hosts", "sim", "gnss", "drive.nmea"), "utf8").split("\r\n").filter((line) => line.startsWith("$GPGGA,"));

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "tracker-device-"));
	running = await startCloud({ state: join(dir, "cloud") });
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

interface Message { appId?: string; messageType?: string; data?: unknown }

async function d2c(id: string): Promise<Message[]> {
	const answer = await rest("GET", `/v1/messages?deviceId=${id}&direction=d2c&pageLimit=1000`);
	assert.equal(answer.status, 200);
	return (answer.json.items as Array<{ message: Message }>).map((item) => item.message);
}

const ENGINES = [
	{ name: "xsnap build", moddable: false, skip: false as string | false, imei: "352656109900017" },
	{ name: "Moddable build", moddable: true, skip: MODDABLE_SKIP, imei: "352656109900025" },
];

for (const engine of ENGINES) test(`${engine.name}: the tracker streams the replayed drive from the given fix, and reports a button, a flip and the LED set from the cloud`, { skip: engine.skip }, async () => {
	if (engine.moddable) ensureModdable("release");
	const device = provisionModemDevice(dir, `tracker-${engine.imei}`, engine.imei);
	let output = "";
	const supervision = runDevice({
		modem: device.modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`,
		gnssOffset: OFFSET, control: true, interval: 0, retry: 200, timeout: 120, moddable: engine.moddable,
	}, { onStdout: (text) => { output += text; }, log: () => {} });
	const everything = () => output;
	try {
		await until(() => /USER_ASSOCIATION_REQUEST/.test(output), { what: "the association request", timeout: 60000, detail: everything });
		assert.equal((await rest("PUT", `/v1/association/${device.id}`, device.pin)).status, 202);
		await until(() => /^app: state READY$/m.test(output), { what: "app: state READY", timeout: 60000, detail: everything });
		assert.match(output, /^app: state CONNECTING$/m);
		assert.match(output, /^app: state ASSOCIATING$/m);
		assert.match(output, /^nrf_cloud: READY \(\d+\) status 0$/m);

		// GPS: every fix (interval 0) from fix OFFSET on, in the log's order.
		let gps: string[] = [];
		await until(async () => {
			gps = (await d2c(device.id)).filter((m) => m.appId === "GPS").map((m) => String(m.data));
			return gps.length >= 3;
		}, { what: "three GPS messages", timeout: 30000, detail: everything });
		assert.deepEqual(gps.slice(0, 3), DRIVE_GGA.slice(OFFSET, OFFSET + 3));
		const flips = async () => (await d2c(device.id)).filter((m) => m.appId === "FLIP").map((m) => m.data);
		assert.deepEqual(await flips(), ["NORMAL"], "the FLIP state at READY");

		supervision.send("button 2");
		await until(async () => (await d2c(device.id)).some((m) => m.appId === "BUTTON" && m.messageType === "DATA" && m.data === "2"), { what: "the BUTTON message", timeout: 15000, detail: everything });

		supervision.send("wave hello");
		supervision.send("flip UPSIDE_DOWN");
		await until(async () => (await flips()).includes("UPSIDE_DOWN"), { what: "the FLIP message", timeout: 15000, detail: everything });
		assert.deepEqual(await flips(), ["NORMAL", "UPSIDE_DOWN"]);

		const posted = await rest("POST", `/v1/devices/${device.id}/messages`, { appId: "LED", messageType: "CFG_SET", data: { state: 1 } });
		assert.equal(posted.status, 201, JSON.stringify(posted.json));
		await until(async () => (await d2c(device.id)).some((m) => m.appId === "LED" && m.messageType === "DATA" && JSON.stringify(m.data) === '{"state":1}'),
			{ what: "the LED DATA answer", timeout: 15000, detail: everything });
		assert.match(output, /^app: LED 1 on$/m);
		assert.match(output, /^app: button 2$/m);
		assert.match(output, /^app: flip UPSIDE_DOWN$/m);
		// No BUTTON or FLIP message for the line the host refused.
		assert.equal((await d2c(device.id)).filter((m) => m.appId === "BUTTON").length, 1);
	}
	finally {
		supervision.stop();
		const run = await supervision.done;
		const stderr = run.starts.map((start) => start.stderr).join("");
		assert.match(stderr, /control: ignored "wave hello"/);
		assert.match(stderr, /LED 1 on/);
	}
});

/** A log of three fixes (GGA and RMC each), with a line of another kind and a blank line between. */
function smallLog(): string {
	const lines: string[] = [];
	for (const time of ["120000.00", "120001.00", "120002.00"]) {
		lines.push(nmeaSentence(`GPGGA,${time},6325.82954,N,01023.70661,E,1,09,0.91,11.9,M,39.8,M,,`));
		lines.push(nmeaSentence("GPGSA,A,3,01,02,03,04,,,,,,,,,1.5,0.9,1.2"), "");
		lines.push(nmeaSentence(`GPRMC,${time},A,6325.82954,N,01023.70661,E,0.000,0.00,140624,,,A`));
	}
	return lines.join("\r\n");
}

const REPLAY_APP = [
	'import { GnssReceiver } from "sensors/gnss";',
	"let count = 0;",
	"const receiver = new GnssReceiver({ onFix(fix) {",
	"	console.log(`fix ${fix.position.time} ${fix.motion === undefined ? \"-\" : fix.motion.time}`);",
	"	if (++count === 5) receiver.close();",
	"} });",
].join("\n");

function sim(args: string[], input?: string, variant = "release"): { status: number | null; stdout: string; stderr: string } {
	const result = spawnSync(join(root, "build", "sim", variant, "sim"), ["--modules", join(root, "build", "modules"), ...args],
		{ encoding: "utf8", input, timeout: 30000, env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1" } });
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("the simulator host's GNSS replays a log from --gnss-offset, a fix a second, looping; it refuses no log and an offset past the log", () => {
	const log = join(dir, "small.nmea");
	const app = join(dir, "replay.js");
	writeFileSync(log, smallLog());
	writeFileSync(app, REPLAY_APP);
	const started = Date.now();
	const replay = sim(["--gnss", log, "--gnss-offset", "1", app]);
	const elapsed = Date.now() - started;
	assert.equal(replay.status, 0, replay.stderr);
	assert.deepEqual(replay.stdout.trim().split("\n"), ["fix 120001.00 120001.00", "fix 120002.00 120002.00", "fix 120000.00 120000.00", "fix 120001.00 120001.00", "fix 120002.00 120002.00"]);
	// Five fixes, the first at once: four periods of a second.
	assert.ok(elapsed >= 3900, `five fixes took ${elapsed} ms`);

	const none = sim([app]);
	assert.equal(none.status, 1);
	assert.match(none.stderr, /gnss: no receiver: start the host with --gnss FILE/);
	const past = sim(["--gnss", log, "--gnss-offset", "3", app]);
	assert.equal(past.status, 1);
	assert.match(past.stderr, /has 3 fixes, --gnss-offset 3 is past them/);
	const empty = join(dir, "empty.nmea");
	writeFileSync(empty, "$GPGSA,A,3*00\r\nnot NMEA\r\n");
	assert.match(sim(["--gnss", empty, app]).stderr, /holds no GGA or RMC sentence/);
	assert.match(sim(["--gnss", join(dir, "missing.nmea"), app]).stderr, /cannot open .*missing\.nmea/);
	assert.equal(sim(["--control", "serial", app]).status, 2);
});

test("the simulator host's control lines: presses and flips reach the listeners, other lines are named and ignored, the end of input stops reading", () => {
	const app = join(dir, "control.js");
	writeFileSync(app, [
		'import { Buttons } from "sensors/buttons";',
		'import { Orientation } from "sensors/orientation";',
		'import { Led } from "sensors/leds";',
		"const led = new Led({ led: 2 });",
		"new Buttons({ onPress(button) { console.log(`press ${button}`); led.write(led.read() ? 0 : 1); } });",
		"const orientation = new Orientation({ onChange(state) { console.log(`flip ${state} ${orientation.read()}`); } });",
		'for (const bad of [() => new Led({ led: 0 }), () => led.write(2), () => new Buttons(null), () => new Orientation({ onChange: 1 })]) {',
		"	try { bad(); console.log(\"accepted\"); } catch (error) { console.log(`${error.name}`); }",
		"}",
	].join("\n"));
	const result = sim(["--control", "stdin", app], "button 1\nflip UPSIDE_DOWN\nflip UPSIDE_DOWN\nbutton 33\n  button 4  \nflip sideways\nflip NORMAL\nbutton 2");
	// Without a newline at the end, the last line still counts; then the host ends (nothing left to wait for).
	assert.equal(result.status, 0, result.stderr);
	assert.deepEqual(result.stdout.trim().split("\n"), ["RangeError", "RangeError", "TypeError", "TypeError", "press 1", "flip UPSIDE_DOWN UPSIDE_DOWN", "press 4", "flip NORMAL NORMAL", "press 2"]);
	assert.match(result.stderr, /control: ignored "button 33"/);
	assert.match(result.stderr, /control: ignored "flip sideways"/);
	assert.deepEqual(result.stderr.match(/LED 2 (on|off)/g), ["LED 2 on", "LED 2 off", "LED 2 on"]);
	// The same lines, and a replay, under AddressSanitizer, LeakSanitizer and UBSan.
	ensureSim("asan");
	const checked = sim(["--control", "stdin", app], `button 1\n${"x".repeat(300)}\nflip UPSIDE_DOWN\n`, "asan");
	assert.equal(checked.status, 0, checked.stderr);
	assert.deepEqual(sanitizerFindings(checked.stderr), []);
	const log = join(dir, "asan.nmea");
	writeFileSync(log, smallLog());
	const replay = join(dir, "asan-replay.js");
	writeFileSync(replay, REPLAY_APP);
	const replayed = sim(["--gnss", log, "--gnss-offset", "2", replay], undefined, "asan");
	assert.equal(replayed.status, 0, replayed.stderr);
	assert.deepEqual(sanitizerFindings(replayed.stderr), []);
	assert.equal(replayed.stdout.trim().split("\n").length, 5);
});

test("Supervision.send writes a control line to the host running now, also after a restart", async () => {
	// A stand-in host: reads one line, prints it, asks for a reboot the first time.
	const script = join(dir, "host.sh");
	writeFileSync(script, 'read line; echo "got $line"; if [ ! -e "$1" ]; then : > "$1"; exit 75; fi\n');
	const marker = join(dir, "rebooted");
	let output = "";
	let starts = 0;
	const supervision = supervise("sh", [script, marker], { control: true, log: () => {}, onStdout: (text) => { output += text; }, onStart: (_child, start) => { starts = start; } });
	supervision.send("button 1");
	await until(() => output.includes("got button 1"), { what: "the first line" });
	await until(() => starts === 2, { what: "the restart" });
	supervision.send("flip UPSIDE_DOWN");
	const run = await supervision.done;
	assert.equal(run.restarts, 1);
	assert.equal(run.starts[1]!.stdout, "got flip UPSIDE_DOWN\n");
	assert.throws(() => supervision.send("two\nlines"), TypeError);
	const unpiped = supervise("sh", ["-c", "exit 0"], { log: () => {} });
	assert.throws(() => unpiped.send("button 1"), /without control input/);
	await unpiped.done;
});
