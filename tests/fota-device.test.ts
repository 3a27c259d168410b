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
import { decodeStoredJob } from "../modules/nrf-cloud/codec.js";
import { provisionModemDevice, restClient } from "./support/cloud.js";
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
	return provisionModemDevice(dir, name, String(imeiCounter++));
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
		// The example firmware is several modules: all of them, main.js at the root.
		if (main === undefined) cpSync(join(root, "build", "examples", "tracker"), staging, { recursive: true, filter: (path) => statSync(path).isDirectory() || path.endsWith(".js") });
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

async function execution(jobId: string, deviceId: string): Promise<{ status: string; progress: number; statusDetail: string }> {
	return (await rest("GET", `/v1/fota-job-executions/${deviceId}/${jobId}`)).json;
}

async function finalStatus(jobId: string, deviceId: string, expected: string, ms = 60000): Promise<{ status: string; statusDetail: string }> {
	let last: { status: string; statusDetail: string } | undefined;
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
	// The image was confirmed: another start keeps it (an unconfirmed one would be reverted here).
	const again = new HostRun(device, {});
	try {
		await again.waitFor(/app: version /);
		assert.match(again.output, /app: version 1\.1\.0\+5\n/);
		assert.doesNotMatch(again.output, /reverted/);
	}
	finally {
		await again.kill("SIGTERM");
	}
});

/** A BOOT firmware of two files, one per bootloader slot, uploaded as the dashboard's form does. */
async function uploadBoot(version: string, s0: Buffer, s1: Buffer): Promise<{ id: string }> {
	const boundary = "fota-device-boundary";
	const field = (name: string, value: string) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
	const file = (name: string, data: Buffer) => Buffer.concat([
		Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), data, Buffer.from("\r\n"),
	]);
	const body = Buffer.concat([field("type", "BOOT"), field("version", version), file("s0.bin", s0), file("s1.bin", s1), Buffer.from(`--${boundary}--\r\n`)]);
	const response = await fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/firmwares`, {
		method: "POST", headers: { authorization: `Bearer ${running.endpoints.apiKey}`, "content-type": `multipart/form-data; boundary=${boundary}` }, body: new Uint8Array(body),
	});
	const json = await response.json() as { id: string };
	assert.equal(response.status, 201, JSON.stringify(json));
	return json;
}

test("BOOT: of the two files the one for the inactive slot (S1 while S0 runs) is fetched, installed, and that slot runs after the reboot", async () => {
	const device = await enrolled("boot");
	const s0 = mcubootImage(Buffer.alloc(6000, 0x00), { major: 2, minor: 0, revision: 0, build: 0 });
	const s1 = mcubootImage(Buffer.alloc(6000, 0x11), { major: 2, minor: 0, revision: 0, build: 1 });
	const firmware = await uploadBoot("2.0.0", s0, s1);
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device);
	try {
		await finalStatus(jobId, device.id, "SUCCEEDED");
		assert.match(host.runs[0]!.output, new RegExp(`fetching [^ ]+/${firmware.id}/s1\\.bin from`));
		assert.ok(readFileSync(join(device.modem, "dfu", "s1.bin")).equals(s1), "S1 holds the S1 image");
		assert.equal(readFileSync(join(device.modem, "dfu", "boot-slot"), "utf8").trim(), "1");
		assert.equal(host.runs.length, 2);
	}
	finally {
		await host.stop();
	}
});

test("MODEM with modemFotaWithoutReboot: FOTA_DONE, the modem re-initialised on the new firmware, modemFotaCompleted, SUCCEEDED, no reboot", async () => {
	const device = await enrolled("modem");
	const delta = Buffer.concat([Buffer.from("mfw_nrf9160_1.3.2\n"), Buffer.alloc(20000, 0x77)]);
	const sha256 = createHash("sha256").update(delta).digest("hex");
	const firmware = await upload("MODEM", "1.3.2", delta, `&sha256=${sha256}`);
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device, { modemFotaWithoutReboot: true });
	try {
		await finalStatus(jobId, device.id, "SUCCEEDED");
		await host.waitFor(/app: modem update applied, modem firmware mfw_nrf9160_1\.3\.2/);
		assert.match(readFileSync(join(device.modem, "firmware"), "utf8"), /mfw_nrf9160_1\.3\.2/);
		assert.equal(host.runs.length, 1, "no reboot");
		await until(() => storedRecords(device).job?.validate === 5, { what: "the cleared job record" });
	}
	finally {
		await host.stop();
	}
});

test("a reboot in the middle of the download (SIGKILL at 30 %) resumes from the stored offset", async () => {
	const device = await enrolled("resume");
	const firmware = await upload("APP", "1.1.1", appImage([1, 1, 1, 0]));
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device);
	try {
		await host.waitFor(new RegExp(`FOTA job ${jobId}: 30 %`));
		await host.killAndRestart();
		await finalStatus(jobId, device.id, "SUCCEEDED");
		const resumed = /FOTA job [^:]+: resuming at byte (\d+) of (\d+)/.exec(host.runs[1]!.output);
		assert.ok(resumed, host.output);
		assert.ok(Number(resumed[1]) > 0 && Number(resumed[1]) < Number(resumed[2]), resumed[0]);
		assert.match(host.runs[1]!.output, new RegExp(`fetching \\S+ from \\S+, byte ${resumed[1]} of`));
		await reportedVersion(device.id, "1.1.1+0");
	}
	finally {
		await host.stop();
	}
});

test("damaged images end FAILED and the device keeps running its image: wrong size, wrong hash, not MCUboot", async () => {
	const device = await enrolled("damaged");
	const cases: Array<{ name: string; damage: (image: Buffer) => Buffer; message: string }> = [
		{ name: "wrong-size", damage: (image) => Buffer.concat([image, Buffer.alloc(100)]), message: "Error during download" },
		{ name: "wrong-hash", damage: (image) => { const copy = Buffer.from(image); copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0xFF; return copy; }, message: "Error during download" },
		{ name: "not-mcuboot", damage: (image) => { const copy = Buffer.from(image); copy.fill(0, 0, 4); return copy; }, message: "FW file does not match specified FOTA type" },
	];
	for (const [index, c] of cases.entries()) {
		const firmware = await upload("APP", `1.5.${index}`, firmwareV2);
		// The cloud's stored file is damaged after its upload check.
		const file = join(dir, "cloud", "firmware", firmware.id);
		writeFileSync(file, c.damage(readFileSync(file)));
		const jobId = await createJob(firmware.id, device.id);
		const host = new Supervised(device);
		try {
			const result = await finalStatus(jobId, device.id, "FAILED");
			assert.equal(result.statusDetail, c.message, c.name);
			await host.waitFor(new RegExp(`FOTA job ${jobId}: cleared`));
			assert.equal(host.runs.length, 1, `${c.name}: no reboot`);
			assert.doesNotMatch(host.output, /FOTA_DONE/);
			assert.deepEqual(storedRecords(device).download, false);
		}
		finally {
			await host.stop();
		}
	}
	await reportedVersion(device.id, "1.0.0+0");
});

test("a job of a type the device does not take is REJECTED", async () => {
	const device = await enrolled("reject");
	const firmware = await upload("BOOT", "2.1.0", mcubootImage(Buffer.alloc(500, 1), { major: 2, minor: 1, revision: 0, build: 0 }));
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device, { fotaTypes: ["APP", "MODEM"] });
	try {
		await finalStatus(jobId, device.id, "REJECTED");
		assert.match(host.output, new RegExp(`FOTA job ${jobId} rejected: this device does not take BOOT updates`));
	}
	finally {
		await host.stop();
	}
});

test("an image whose firmware never confirms itself is reverted at the next start and reported FAILED", async () => {
	const device = await enrolled("revert");
	const broken = appImage([6, 6, 6, 0], 'console.log("app: this image never confirms itself");\n');
	const firmware = await upload("APP", "6.6.6", broken);
	const jobId = await createJob(firmware.id, device.id);
	const host = new Supervised(device);
	try {
		await host.waitFor(/app: this image never confirms itself/);
		assert.equal(await host.runs[1]!.exited, 0);
		const again = new Supervised(device);
		try {
			await finalStatus(jobId, device.id, "FAILED");
			await again.waitFor(/the update was reverted/);
			await reportedVersion(device.id, "1.0.0+0");
		}
		finally {
			await again.stop();
		}
	}
	finally {
		await host.stop().catch(() => {});
	}
});

for (const [step, state] of ["received", "downloading", "downloaded", "pending", "rebooting", "validating", "reporting"].entries()) {
	test(`SIGKILL at "${state}": the job ends with one final status, nothing stuck IN_PROGRESS, the device on a bootable image`, async () => {
		const device = await enrolled(`kill-${state}`);
		const version = `1.2.${step}`;
		const firmware = await upload("APP", version, appImage([1, 2, step, 0]));
		const jobId = await createJob(firmware.id, device.id);
		const host = new Supervised(device);
		try {
			await host.waitFor(new RegExp(`FOTA job ${jobId}: ${state}\\n`));
			await host.killAndRestart();
			// Killed before the new image confirmed itself (validating), MCUboot brings the old one back: FAILED.
			const result = await finalStatus(jobId, device.id, state === "validating" ? (await anyFinal(jobId, device.id)) : "SUCCEEDED");
			await reportedVersion(device.id, result.status === "SUCCEEDED" ? `${version}+0` : "1.0.0+0");
			await until(() => { const r = storedRecords(device); return r.job?.validate === 5 && !r.download; }, { what: "the records cleared", detail: () => JSON.stringify(storedRecords(device)) + host.output });
		}
		finally {
			await host.stop();
		}
	});
}

/** The terminal status a job reaches, whichever it is. */
async function anyFinal(jobId: string, deviceId: string): Promise<string> {
	let status = "";
	await until(async () => {
		status = (await execution(jobId, deviceId)).status;
		return ["SUCCEEDED", "FAILED"].includes(status);
	}, { what: "a final status", timeout: 60000, interval: 100 });
	return status;
}
