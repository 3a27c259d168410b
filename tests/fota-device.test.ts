/*
 * FOTA end to end: the example firmware in XS on the simulator host (the
 * library's FOTA room with the real HTTP download client over TLS and the
 * host's DFU target and boot step) against the local nRF Cloud, jobs created
 * through its REST API. The test is the device's supervisor: it starts the
 * host again when it exits with the reboot status 75, and SIGKILLs it where a
 * test says.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { deviceCommand } from "../tools/device/main.js";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { provision } from "../tools/provision/main.js";
import { decodeStoredJob } from "../modules/nrf-cloud/codec.js";
import { restClient } from "./support/cloud.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const REBOOT_STATUS = 75;
let dir: string;
let running: RunningCloud;
const rest = restClient(() => running.endpoints);
let imeiCounter = 352656109000000;

interface Device {
	id: string;
	modem: string;
	pin: string;
}

/** One start of the host. */
class HostRun {
	output = "";
	readonly exited: Promise<number | null>;
	readonly #child: ChildProcess;

	constructor(device: Device, settings: Record<string, unknown>) {
		const command = deviceCommand({
			modem: device.modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`,
			timeout: 120, retry: 200, interval: 600000, settings,
		});
		this.#child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe"] });
		this.#child.stdout!.on("data", (d: Buffer) => { this.output += d.toString(); });
		this.#child.stderr!.on("data", (d: Buffer) => { this.output += d.toString(); });
		this.exited = new Promise((resolve) => this.#child.on("close", (status) => { command.cleanup(); resolve(status); }));
	}

	async waitFor(pattern: RegExp, ms = 60000): Promise<void> {
		await until(() => pattern.test(this.output), { what: String(pattern), timeout: ms, interval: 20, detail: () => `output:\n${this.output}` });
	}

	kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
		this.#child.kill(signal);
		return this.exited;
	}
}

/** Starts of one device: a new start after every exit with status 75, as the device runner's supervisor does. */
class Supervised {
	readonly runs: HostRun[] = [];
	readonly #device: Device;
	readonly #settings: Record<string, unknown>;
	#stopped = false;

	constructor(device: Device, settings: Record<string, unknown> = {}) {
		this.#device = device;
		this.#settings = settings;
		this.#start();
	}

	#start(): void {
		const run = new HostRun(this.#device, this.#settings);
		this.runs.push(run);
		void run.exited.then((status) => {
			if (status === REBOOT_STATUS && !this.#stopped) this.#start();
		});
	}

	get current(): HostRun {
		return this.runs[this.runs.length - 1]!;
	}

	get output(): string {
		return this.runs.map((run, i) => `---- start ${i + 1}\n${run.output}`).join("\n");
	}

	/** Waits for `pattern` in the output of any start from `from` on. */
	async waitFor(pattern: RegExp, ms = 60000, from = 0): Promise<void> {
		await until(() => this.runs.slice(from).some((run) => pattern.test(run.output)), { what: String(pattern), timeout: ms, interval: 20, detail: () => this.output });
	}

	/** SIGKILLs the current start and starts the host again. */
	async killAndRestart(): Promise<void> {
		const run = this.current;
		this.#stopped = true;
		await run.kill();
		this.#stopped = false;
		this.#start();
	}

	async stop(): Promise<void> {
		this.#stopped = true;
		// A reboot may be under way: wait for the start it makes, then end it.
		await new Promise((resolve) => setTimeout(resolve, 50));
		await this.current.kill("SIGTERM");
	}
}

function makeDevice(name: string): Device {
	const imei = String(imeiCounter++);
	const modem = join(dir, name);
	mkdirSync(modem, { recursive: true });
	writeFileSync(join(modem, "imei"), `${imei}\n`);
	const id = `nrf-${imei}`;
	const { pin } = provision({ cloudState: join(dir, "cloud"), modem, deviceId: id });
	return { id, modem, pin };
}

/** Associates a fresh device and lets it report its FOTA types and version once. */
async function enrolled(name: string, settings: Record<string, unknown> = {}): Promise<Device> {
	const device = makeDevice(name);
	const run = new HostRun(device, { ...settings, rounds: 1 });
	await run.waitFor(/USER_ASSOCIATION_REQUEST/);
	assert.equal((await rest("PUT", `/v1/association/${device.id}`, device.pin)).status, 202);
	await run.waitFor(/app: round 1 sent/);
	await until(async () => (await rest("GET", `/v1/devices/${device.id}`)).json?.state?.reported?.device?.serviceInfo?.fota_v2 !== undefined, { what: "fota_v2 in the shadow" });
	await run.kill("SIGTERM");
	return device;
}

/** The compiled example firmware and the library as a firmware archive (ustar, main.js at its root). */
function firmwareArchive(main?: string): Buffer {
	const staging = mkdtempSync(join(tmpdir(), "fota-archive-"));
	try {
		if (main === undefined) cpSync(join(root, "build", "tools", "device", "app", "main.js"), join(staging, "main.js"));
		else writeFileSync(join(staging, "main.js"), main);
		const modules = join(root, "build", "modules");
		const copy = (from: string) => {
			for (const name of readdirSync(from)) {
				const path = join(from, name);
				if (statSync(path).isDirectory()) copy(path);
				else if (name.endsWith(".js")) {
					const target = join(staging, relative(modules, path));
					mkdirSync(dirname(target), { recursive: true });
					cpSync(path, target);
				}
			}
		};
		copy(modules);
		const out = join(staging, "..", `${staging.split("/").pop()}.tar`);
		const entries = readdirSync(staging);
		const tar = spawnSync("tar", ["--format=ustar", "-C", staging, "-cf", out, ...entries]);
		assert.equal(tar.status, 0, tar.stderr.toString());
		const archive = readFileSync(out);
		rmSync(out);
		return archive;
	}
	finally {
		rmSync(staging, { recursive: true, force: true });
	}
}

function appImage(version: [number, number, number, number], main?: string): Buffer {
	return mcubootImage(firmwareArchive(main), { major: version[0], minor: version[1], revision: version[2], build: version[3] });
}

async function upload(type: string, version: string, image: Buffer, extra = ""): Promise<{ id: string }> {
	const answer = await rest("POST", `/v1/firmwares?type=${type}&version=${version}&filename=fw-${version}.bin${extra}`, undefined, { raw: image });
	assert.equal(answer.status, 201, JSON.stringify(answer.json));
	return answer.json;
}

async function createJob(firmwareId: string, deviceId: string): Promise<string> {
	const answer = await rest("POST", "/v1/fota-jobs", { firmwareId, deviceIds: [deviceId] });
	assert.equal(answer.status, 201, JSON.stringify(answer.json));
	return answer.json.jobId;
}

async function execution(jobId: string, deviceId: string): Promise<{ status: string; progress: number; message: string }> {
	return (await rest("GET", `/v1/fota-job-executions/${deviceId}/${jobId}`)).json;
}

async function finalStatus(jobId: string, deviceId: string, expected: string, ms = 60000): Promise<{ status: string; message: string }> {
	let last: { status: string; message: string } | undefined;
	await until(async () => {
		last = await execution(jobId, deviceId);
		return ["SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "CANCELLED"].includes(last.status);
	}, { what: `job ${jobId} to end`, timeout: ms, interval: 100, detail: () => JSON.stringify(last) });
	assert.equal(last!.status, expected, JSON.stringify(last));
	return last!;
}

async function reportedVersion(deviceId: string, version: string): Promise<void> {
	await until(async () => (await rest("GET", `/v1/devices/${deviceId}`)).json?.state?.reported?.device?.deviceInfo?.appVersion === version,
		{ what: `appVersion ${version} in the shadow`, timeout: 30000 });
}

/** The library's stored job record and download record in the emulated device's storage. */
function storedRecords(device: Device): { job: ReturnType<typeof decodeStoredJob>; download: boolean } {
	const storage = join(device.modem, "storage", "nrf_cloud");
	const jobFile = join(storage, "fota.job");
	return {
		job: existsSync(jobFile) ? decodeStoredJob(readFileSync(jobFile)) : undefined,
		download: existsSync(join(storage, "fota.download")),
	};
}

let firmwareV2: Buffer;

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "fota-device-"));
	running = await startCloud({ state: join(dir, "cloud") });
	firmwareV2 = appImage([1, 1, 0, 5]);
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("APP: the job downloads over TLS into the slot, the device reboots into the new image, confirms it, reports SUCCEEDED and its new version in the shadow", async () => {
	const device = await enrolled("app");
	await reportedVersion(device.id, "1.0.0+0");
	const firmware = await upload("APP", "1.1.0", firmwareV2);
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device);
	try {
		await host.waitFor(/FOTA_DONE \(10\)/);
		await finalStatus(jobId, device.id, "SUCCEEDED");
		await reportedVersion(device.id, "1.1.0+5");
		const first = host.runs[0]!.output;
		for (const state of ["received", "downloading", "downloaded", "pending", "rebooting"]) assert.match(first, new RegExp(`FOTA job ${jobId}: ${state}\\n`));
		assert.match(first, /: 100 %\n/);
		assert.equal(await host.runs[0]!.exited, REBOOT_STATUS);
		await host.waitFor(/is confirmed/, 10000, 1);
		assert.equal(host.runs.length, 2, host.output);
		assert.deepEqual(storedRecords(device), { job: { validate: 5, type: 3, id: "" }, download: false });
	}
	finally {
		await host.stop();
	}
});
