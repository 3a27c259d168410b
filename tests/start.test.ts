/*
 * `npm start` end to end: the start tool as a child process, non-interactive
 * (--auto-associate --no-build, a temporary state directory, free ports). One
 * device goes through JITP and association to READY, sends GPS and FLIP data,
 * takes the uploaded update through a FOTA job started with the REST API and
 * reports the new version; SIGINT then stops everything: the device says
 * DISCONNECT, no child process is left and no port answers. A second start
 * resumes the same device, already associated. Then a fleet of five, and
 * --fresh.
 */

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { updateVersions } from "../tools/start/update-image.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const dirs: string[] = [];
const started: ChildProcess[] = [];

after(() => {
	for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
	for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Endpoints {
	mqttPort: number;
	httpPort: number;
	firmwarePort: number;
	apiKey: string;
}

/** One run of the start tool. */
class StartRun {
	output = "";
	readonly child: ChildProcess;
	readonly exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
	readonly #state: string;

	constructor(state: string, args: string[]) {
		this.#state = state;
		this.child = spawn(process.execPath, [join(root, "build", "tools", "start", "main.js"), "--auto-associate", "--no-build", "--state", state, ...args], {
			stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" },
		});
		started.push(this.child);
		this.child.stdout!.on("data", (chunk: Buffer) => { this.output += chunk.toString(); });
		this.child.stderr!.on("data", (chunk: Buffer) => { this.output += chunk.toString(); });
		this.exited = new Promise((resolve) => this.child.on("close", (status, signal) => resolve({ status, signal })));
	}

	async waitFor(pattern: RegExp, timeout = 60000): Promise<RegExpMatchArray> {
		return until(() => this.output.match(pattern), { what: String(pattern), timeout, interval: 50, detail: () => `output:\n${this.output}` });
	}

	get endpoints(): Endpoints {
		return JSON.parse(readFileSync(join(this.#state, "cloud", "endpoints.json"), "utf8")) as Endpoints;
	}

	async rest(method: string, path: string, body?: unknown): Promise<any> {
		const { httpPort, apiKey } = this.endpoints;
		const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
			method, headers: { authorization: `Bearer ${apiKey}` }, body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await response.text();
		assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
		return text ? JSON.parse(text) : undefined;
	}
}

/** The processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
	const children: number[] = [];
	for (const name of readdirSync("/proc")) {
		if (!/^\d+$/.test(name)) continue;
		try {
			const stat = readFileSync(`/proc/${name}/stat`, "utf8");
			// pid (comm) state ppid ...: the command may hold spaces and parentheses.
			const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			if (Number(fields[1]) === pid) children.push(Number(name));
		}
		catch {
			// ended meanwhile
		}
	}
	return children;
}

function refused(host: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect({ host, port });
		socket.once("connect", () => { socket.destroy(); resolve(false); });
		socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED" || error.code === "EADDRNOTAVAIL"));
	});
}

/** SIGINT, then: a clean exit, no child process alive, no port answering on either loopback address. */
async function stopAndCheck(run: StartRun): Promise<void> {
	const { mqttPort, httpPort, firmwarePort } = run.endpoints;
	const children = childrenOf(run.child.pid!);
	assert.ok(children.length > 0, "the start tool runs its devices as child processes");
	run.child.kill("SIGINT");
	const exit = await run.exited;
	assert.deepEqual(exit, { status: 0, signal: null }, run.output);
	for (const pid of children) assert.equal(existsSync(`/proc/${pid}`), false, `process ${pid} is left running`);
	for (const port of [mqttPort, httpPort, firmwarePort])
		for (const host of ["127.0.0.1", "::1"]) assert.equal(await refused(host, port), true, `port ${port} on ${host} still answers`);
}

async function messages(run: StartRun, deviceId: string): Promise<Array<{ appId?: string; messageType?: string; data?: unknown }>> {
	const page = await run.rest("GET", `/v1/messages?deviceId=${encodeURIComponent(deviceId)}&direction=d2c&pageLimit=1000`);
	return page.items.map((item: { message: unknown }) => item.message);
}

test("npm start: one device to READY, its data, a FOTA update, a clean stop, and a second start that resumes", { timeout: 150000 }, async () => {
	ensureSim("release");
	const dir = mkdtempSync(join(tmpdir(), "start-"));
	dirs.push(dir);
	const state = join(dir, "state");

	const first = new StartRun(state, []);
	const [, port] = await first.waitFor(/^dashboard: http:\/\/localhost:(\d+)\/#key=[0-9a-f]+$/m, 30000);
	assert.equal(Number(port), first.endpoints.httpPort);
	const [, deviceId] = await first.waitFor(/^\d{4} device 1: (nrf-\d{15}) \(PIN/m);
	// The ID is the modem's: provisioning read the IMEI the emulated modem made up.
	assert.equal(deviceId, `nrf-${readFileSync(join(state, "devices", "1", "imei"), "utf8").trim()}`);
	await first.waitFor(/ nrf_cloud: USER_ASSOCIATION_REQUEST \(3\)/);
	await first.waitFor(/ nrf_cloud: READY \(5\)/);

	await until(async () => {
		const sent = await messages(first, deviceId!);
		return sent.some((m) => m.appId === "GPS" && typeof m.data === "string" && m.data.startsWith("$GPGGA,"))
			&& sent.some((m) => m.appId === "FLIP" && (m.data === "NORMAL" || m.data === "UPSIDE_DOWN"));
	}, { what: "GPS and FLIP data in GET /v1/messages", timeout: 30000, interval: 250 });

	const { update } = updateVersions();
	const firmwares = await first.rest("GET", "/v1/firmwares");
	const image = firmwares.items.find((f: { type: string; version: string }) => f.type === "APP" && f.version === update);
	assert.ok(image, `the start uploaded the APP update ${update}: ${JSON.stringify(firmwares.items)}`);
	await first.rest("POST", "/v1/fota-jobs", { bundleId: image.id, deviceIds: [deviceId] });
	await until(async () => (await first.rest("GET", `/v1/devices/${deviceId}`)).state?.reported?.device?.deviceInfo?.appVersion === update,
		{ what: `appVersion ${update} in the shadow`, timeout: 60000, interval: 250, detail: () => first.output.slice(-3000) });
	// The update ran: downloaded, the host restarted by its supervisor, the new image's app reporting its version.
	assert.match(first.output, / nrf_cloud: FOTA_DONE \(10\)/);
	assert.match(first.output, /device: reboot requested \(exit 75\)/);
	assert.match(first.output, new RegExp(` app: version ${update.replace(/[.+]/g, "\\$&")}`));

	await stopAndCheck(first);
	assert.match(first.output, new RegExp(`^cloud: presence: ${deviceId} disconnected \\(DISCONNECT\\)$`, "m"), "the broker saw a DISCONNECT");

	const second = new StartRun(state, []);
	const [, resumed] = await second.waitFor(/^\d{4} device 1: (nrf-\d{15}) \(PIN/m);
	assert.equal(resumed, deviceId);
	assert.match(second.output, /provisioning 1 device: 0 new, 1 resumed/);
	await second.waitFor(/ nrf_cloud: READY \(5\)/);
	assert.doesNotMatch(second.output, /USER_ASSOCIATION_REQUEST/, "the device is associated already");
	assert.match(second.output, /update image for FOTA: APP \S+ .*already uploaded/);
	await stopAndCheck(second);
});

test("npm start -- --devices 5: five devices, each its own modem and ID, all READY; then --fresh starts from zero", { timeout: 120000 }, async () => {
	ensureSim("release");
	const dir = mkdtempSync(join(tmpdir(), "start-fleet-"));
	dirs.push(dir);
	const run = new StartRun(join(dir, "state"), ["--devices", "5", "--quiet"]);
	await until(() => (run.output.match(/ nrf_cloud: READY \(5\)/g) ?? []).length >= 5, { what: "5 READY lines", timeout: 90000, interval: 100, detail: () => run.output });
	const ids = [...run.output.matchAll(/^\d{4} device \d: (nrf-\d{15})/gm)].map((m) => m[1]);
	assert.equal(new Set(ids).size, 5, `five distinct device IDs: ${ids.join(" ")}`);
	const ready = new Set([...run.output.matchAll(/^(\d{4}) nrf_cloud: READY \(5\)/gm)].map((m) => m[1]));
	assert.deepEqual([...ready].sort(), ids.map((id) => id!.slice(-4)).sort(), "each device reached READY");
	// --quiet: state changes only.
	assert.doesNotMatch(run.output, /SENSOR_DATA_ACK|app: round/);
	await stopAndCheck(run);

	// --fresh: from zero, a new device with a new ID.
	const fresh = new StartRun(join(dir, "state"), ["--fresh", "--quiet"]);
	const [, id] = await fresh.waitFor(/^\d{4} device 1: (nrf-\d{15}) \(PIN/m);
	assert.match(fresh.output, /provisioning 1 device: 1 new, 0 resumed/);
	assert.ok(!ids.includes(id), `${id} is a new device`);
	await fresh.waitFor(/ nrf_cloud: USER_ASSOCIATION_REQUEST \(3\)/);
	await fresh.waitFor(/ nrf_cloud: READY \(5\)/);
	await stopAndCheck(fresh);
});
