/*
 * One soak: a fresh local nRF Cloud (its own process), one simulated device
 * running the soak firmware in XS, a fault proxy between them cutting the
 * link at random, the cloud killed and restarted and the device killed and
 * restarted at set points of the run; then the cloud's store is counted.
 * `queue` chooses the library's offline queue or the C library's behaviour.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FaultProxy } from "../lib/fault-proxy.js";
import { provision } from "../provision/main.js";
import { RestartableCloud } from "./cloud-control.js";
import { LinkCutter } from "./link-cutter.js";
import { associate } from "./rest.js";
import { readUntilSettled, StoredSequences, type StoredCount } from "./stored.js";
import { sleep, waitFor } from "./wait.js";
import { XsDevice } from "./xs-device.js";

export interface SoakOptions {
	/** A new, empty directory for the cloud's state and the modem's. */
	work: string;
	queue: boolean;
	messages: number;
	intervalMs: number;
	cloudRestarts: number;
	deviceRestarts: number;
	cutMinMs: number;
	cutMaxMs: number;
	seed: number;
	/** 15 digits. */
	imei: string;
	/** How long the store may stay the same, once everything is sent, before the count is final. */
	settleMs: number;
	/** More cloud-sim options. */
	cloudArgs?: string[];
	log?: (line: string) => void;
	/** Every line of the firmware too. */
	verbose?: boolean;
}

export interface SoakResult extends StoredCount {
	queue: boolean;
	sent: number;
	/** Sends the firmware saw refused (and dropped). */
	dropped: number;
	cuts: number;
	cloudRestarts: number;
	deviceRestarts: number;
	/** From the first READY to the last message stored. */
	durationMs: number;
}

type Fault = "cloud" | "device";

/** The faults in the order they happen: cloud and device alternating, the cloud first. */
export function faultPlan(cloudRestarts: number, deviceRestarts: number): Fault[] {
	const plan: Fault[] = [];
	let cloud = cloudRestarts;
	let device = deviceRestarts;
	while (cloud > 0 || device > 0) {
		if (cloud > 0) { plan.push("cloud"); cloud--; }
		if (device > 0) { plan.push("device"); device--; }
	}
	return plan;
}

function checkOptions(o: SoakOptions): void {
	for (const name of ["messages", "intervalMs", "cloudRestarts", "deviceRestarts", "cutMinMs", "cutMaxMs", "settleMs"] as const)
		if (!Number.isInteger(o[name]) || o[name] < 0) throw new RangeError(`${name} must be a whole number`);
	if (o.messages < 1) throw new RangeError("messages must be at least 1");
	if (!/^\d{15}$/.test(o.imei)) throw new RangeError("imei must be 15 digits");
}

/** A wait on the firmware: its end fails the wait, its last lines say what it saw. */
function waitOn(what: string, condition: () => boolean, device: XsDevice, timeoutMs: number): Promise<void> {
	return waitFor(what, condition, {
		timeoutMs,
		failure: () => (device.failure === undefined ? undefined : `${device.failure}\n${device.tail.join("\n")}`),
		detail: () => `the firmware's last lines:\n${device.tail.join("\n")}`,
	});
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
	checkOptions(o);
	const log = o.log ?? (() => {});
	const mode = o.queue ? "queue" : "baseline";
	const cloud = await RestartableCloud.start(join(o.work, "cloud"), o.cloudArgs ?? []);
	let proxy: FaultProxy | undefined;
	let device: XsDevice | undefined;
	let cutter: LinkCutter | undefined;
	try {
		const modem = join(o.work, "modem");
		mkdirSync(modem, { recursive: true });
		writeFileSync(join(modem, "imei"), `${o.imei}\n`);
		const deviceId = `nrf-${o.imei}`;
		const { pin } = provision({ cloudState: join(o.work, "cloud"), modem, deviceId });
		proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: cloud.endpoints.mqttPort } });
		cutter = new LinkCutter(proxy, { minMs: o.cutMinMs, maxMs: o.cutMaxMs, seed: o.seed });
		let associationAsked = false;
		const xs = new XsDevice({
			modem, endpoint: `127.0.0.1:${proxy.port}`, hostname: cloud.endpoints.mqttHost,
			messages: o.messages, intervalMs: o.intervalMs, queue: o.queue, libraryLog: o.verbose,
			onLine: (line) => {
				if (line.startsWith("nrf_cloud: USER_ASSOCIATION_REQUEST")) associationAsked = true;
				if (o.verbose) log(`${mode}: device: ${line}`);
			},
		});
		device = xs;
		xs.start();
		// JITP and association first: the soak starts with the device READY.
		await waitOn("the association request", () => associationAsked || xs.progress.generating, xs, 60_000);
		if (associationAsked) {
			await associate(cloud.endpoints, deviceId, pin);
		}
		await waitOn("the first READY", () => xs.progress.generating, xs, 60_000);
		const started = Date.now();
		log(`${mode}: device ${deviceId} READY, sending ${o.messages} messages every ${o.intervalMs} ms`);
		cutter.start();
		const plan = faultPlan(o.cloudRestarts, o.deviceRestarts);
		for (const [index, fault] of plan.entries()) {
			const at = Math.floor((o.messages * (index + 1)) / (plan.length + 1));
			await waitOn(`message ${at}`, () => xs.progress.generated >= at, xs, o.messages * o.intervalMs * 4 + 120_000);
			if (fault === "cloud") {
				log(`${mode}: at message ${xs.progress.generated}: SIGKILL to the cloud`);
				await cloud.killAndRestart();
				log(`${mode}: the cloud is back (restart ${cloud.restarts})`);
			}
			else {
				log(`${mode}: at message ${xs.progress.generated}: SIGKILL to the device`);
				await xs.killAndRestart(500);
				log(`${mode}: the device is starting again (restart ${xs.restarts})`);
			}
		}
		await waitOn("the last message", () => xs.progress.allGenerated, xs, o.messages * o.intervalMs * 4 + 120_000);
		cutter.stop();
		log(`${mode}: all ${o.messages} generated; no more cuts; waiting for the store`);
		const store = new StoredSequences(() => cloud.endpoints, deviceId);
		const settled = await readUntilSettled([store], o.messages, o.settleMs, () => {
			if (xs.failure !== undefined) throw new Error(`${xs.failure}\n${xs.tail.join("\n")}`);
		});
		const durationMs = settled - started;
		// Copies still arriving (resends) are counted too: one last read after the device is gone.
		await xs.kill();
		await sleep(200);
		await store.read();
		return {
			queue: o.queue, sent: o.messages, ...store.count(o.messages), dropped: xs.progress.dropped,
			cuts: cutter.cuts, cloudRestarts: cloud.restarts, deviceRestarts: xs.restarts, durationMs,
		};
	}
	finally {
		cutter?.stop();
		await device?.kill();
		await proxy?.close();
		await cloud.stop().catch(() => cloud.kill());
	}
}
