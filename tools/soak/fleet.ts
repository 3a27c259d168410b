/*
 * `npm run soak -- --fleet [options]`: the soak under load. A fleet of
 * simulated devices holds connections to the local nRF Cloud (its own
 * process, up all the time) while some of them run the soak pattern, each
 * through a fault proxy of its own that cuts its link every 0.5 to 4 s: the
 * soak firmware in XS hosts (one process each, started a few at a time), and
 * with --xs-hosts below --soakers the rest as Node clients running the library
 * itself with the same pattern (app/sensor-soak.ts); the others are the
 * fleet's plain MQTT clients (tools/cloud-sim/fleet.ts), connected and idle.
 * Some XS hosts get SIGKILL during the run and start again on their modem
 * state. Afterwards each soak device's messages are counted in the store.
 *
 *   --devices N          devices connected in all (default 1000)
 *   --soakers N          of them running the soak (default 100)
 *   --xs-hosts N         of the soakers, XS hosts (default: all); the rest are Node clients
 *   --device-restarts N  SIGKILLs of XS hosts, each restarted 0.5 s later (default 10)
 *   --stagger MS         between two XS host starts (default 100)
 *   --library-log        the library's diagnostic lines in the XS hosts' output (a host
 *                        that ends early is reported with its last 40 lines)
 *   --messages N         per soaker (default 300)
 *   --interval MS        between two sends of a soaker (default 200)
 *   --only queue|baseline   with the offline queue (default) or without
 *   --seed N, --cut-min MS, --cut-max MS   as for the single soak
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectFleet, fleetCredentials, type FleetDevice } from "../cloud-sim/fleet.js";
import { wholeNumber } from "../lib/args.js";
import { FaultProxy } from "../lib/fault-proxy.js";
import { provision } from "../provision/main.js";
import { RestartableCloud } from "./cloud-control.js";
import { LinkCutter } from "./link-cutter.js";
import { NodeSoakClient } from "./node-client.js";
import { commonOptions, timedLog } from "./options.js";
import type { SoakProgress } from "./progress.js";
import { soakTable } from "./report.js";
import { associate } from "./rest.js";
import type { SoakResult } from "./run.js";
import { describePeaks, ResourceSampler, type ResourcePeaks } from "./resources.js";
import { readUntilSettled, StoredSequences } from "./stored.js";
import { sleep, waitFor } from "./wait.js";
import { XsDevice } from "./xs-device.js";

export interface FleetSoakOptions {
	work: string;
	devices: number;
	soakers: number;
	xsHosts: number;
	/** SIGKILLs of XS hosts during the run, spread over the hosts and the run. */
	deviceRestarts: number;
	/** Between two XS host starts. */
	staggerMs: number;
	/** The library's diagnostic lines in the XS hosts' output. */
	libraryLog?: boolean;
	messages: number;
	intervalMs: number;
	queue: boolean;
	cutMinMs: number;
	cutMaxMs: number;
	seed: number;
	settleMs: number;
	log: (line: string) => void;
}

interface Soaker {
	id: string;
	kind: "xs" | "node";
	progress: SoakProgress;
	proxy: FaultProxy;
	cutter: LinkCutter;
	store: StoredSequences;
	xs?: XsDevice;
	node?: NodeSoakClient;
}

export interface FleetSoakResult {
	xs: SoakResult;
	node: SoakResult;
	all: SoakResult;
	/** Connections held at the peak, and of the idle devices still connected at the end. */
	connected: number;
	idle: number;
	idleConnectedAtEnd: number;
	/** The cloud process never ended. */
	cloudUp: boolean;
	/** XS hosts that exited before the harness ended them. */
	endedEarly: string[];
	/** Load and memory at their highest, from the start of the XS hosts to the count. */
	peaks: ResourcePeaks;
}

function total(soakers: readonly Soaker[], o: FleetSoakOptions, durationMs: number): SoakResult {
	const result: SoakResult = {
		queue: o.queue, sent: 0, stored: 0, lost: 0, duplicates: 0, missing: [], foreign: 0, dropped: 0, cuts: 0,
		cloudRestarts: 0, deviceRestarts: 0, durationMs,
	};
	for (const s of soakers) {
		const count = s.store.count(o.messages);
		result.sent += o.messages;
		result.stored += count.stored;
		result.lost += count.lost;
		result.duplicates += count.duplicates;
		result.foreign += count.foreign;
		result.dropped += s.progress.dropped;
		result.cuts += s.cutter.cuts;
		for (const seq of count.missing) if (result.missing.length < 20) result.missing.push(seq);
		result.deviceRestarts += s.xs?.restarts ?? 0;
	}
	return result;
}

export async function runFleetSoak(o: FleetSoakOptions): Promise<FleetSoakResult> {
	if (!(o.xsHosts <= o.soakers && o.soakers <= o.devices)) throw new RangeError("xs-hosts <= soakers <= devices");
	if (o.deviceRestarts > 0 && o.xsHosts === 0) throw new RangeError("device restarts need XS hosts");
	const cloud = await RestartableCloud.start(join(o.work, "cloud"));
	const soakers: Soaker[] = [];
	let idle: FleetDevice[] = [];
	let cloudEnded = false;
	let sampler: ResourceSampler | undefined;
	// Set once the run ends: no more cuts to start, no more kills.
	let stopping = false;
	try {
		const { endpoints } = cloud;
		const nodeCount = o.soakers - o.xsHosts;
		const fleetSize = o.devices - o.xsHosts;
		o.log(`fleet: certificates for ${fleetSize} fleet devices`);
		const fleet = await fleetCredentials(dirname(endpoints.deviceCa), join(o.work, "fleet"), fleetSize, "nrf-soak-");
		const nodeIds = fleet.ids.slice(0, nodeCount);
		const idleIds = fleet.ids.slice(nodeCount);
		o.log(`fleet: JITP for ${fleetSize} devices`);
		await connectFleet(fleet, endpoints.mqttPort);
		for (const id of nodeIds) await associate(endpoints, id, id);
		idle = await connectFleet(fleet, endpoints.mqttPort, idleIds);
		const idleUp = (await Promise.all(idle.map((d) => d.connected))).filter(Boolean).length;
		if (idleUp !== idleIds.length) throw new Error(`only ${idleUp} of ${idleIds.length} idle devices connected`);
		o.log(`fleet: ${idleUp} idle devices connected`);

		const settings = { messages: o.messages, intervalMs: o.intervalMs, queue: o.queue, queueMessages: o.messages * 2, queueBytes: o.messages * 200, retryMs: 100, retryMaxMs: 2000 };
		const newSoaker = async (id: string, kind: "xs" | "node", index: number): Promise<Omit<Soaker, "progress">> => {
			const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: endpoints.mqttPort } });
			return { id, kind, proxy, cutter: new LinkCutter(proxy, { minMs: o.cutMinMs, maxMs: o.cutMaxMs, seed: (o.seed + index) >>> 0 }), store: new StoredSequences(() => cloud.endpoints, id) };
		};
		const pins = new Map<string, string>();
		for (let i = 0; i < o.xsHosts; i++) {
			const imei = `35265610991${String(i).padStart(4, "0")}`;
			const id = `nrf-${imei}`;
			const modem = join(o.work, `modem-${i}`);
			mkdirSync(modem, { recursive: true });
			writeFileSync(join(modem, "imei"), `${imei}\n`);
			pins.set(id, provision({ cloudState: join(o.work, "cloud"), modem, deviceId: id }).pin);
			const base = await newSoaker(id, "xs", i);
			const xs = new XsDevice({
				modem, endpoint: `127.0.0.1:${base.proxy.port}`, hostname: endpoints.mqttHost, messages: o.messages, intervalMs: o.intervalMs, queue: o.queue, libraryLog: o.libraryLog,
				onLine: (line) => {
					if (line.startsWith("nrf_cloud: USER_ASSOCIATION_REQUEST")) void associate(cloud.endpoints, id, pins.get(id)!).catch((error: unknown) => o.log(`fleet: ${String(error)}`));
				},
			});
			soakers.push({ ...base, xs, progress: xs.progress });
		}
		const xsFailure = () => soakers.map((s) => s.xs?.failure === undefined ? undefined : `${s.id}: ${s.xs.failure}\n${s.xs.tail.join("\n")}`).find((f) => f !== undefined);
		void cloud.exited.then(() => { cloudEnded = true; });
		sampler = new ResourceSampler(() => soakers.map((s) => s.xs?.pid), () => cloud.pid);
		let started: number | undefined;
		// Each soaker's link is cut from its first READY on.
		const cutFromReady = (s: Soaker) => {
			void waitFor(`${s.id} READY`, () => stopping || s.progress.generating, { timeoutMs: 600_000 }).then(() => {
				if (stopping) return;
				started ??= Date.now();
				s.cutter.start();
			}, () => undefined);
		};
		// A few at a time: a hundred TLS handshakes, JITP registrations and associations at once are a start-up storm, not the soak.
		for (const s of soakers) {
			s.xs!.start();
			cutFromReady(s);
			await sleep(o.staggerMs);
		}
		await waitFor(`${o.xsHosts} XS hosts READY`, () => soakers.every((s) => s.progress.generating), { timeoutMs: 120_000, failure: xsFailure });
		o.log(`fleet: ${o.xsHosts} XS hosts sending`);
		for (const [i, id] of nodeIds.entries()) {
			const base = await newSoaker(id, "node", o.xsHosts + i);
			const node = new NodeSoakClient({ id, port: base.proxy.port, hostname: endpoints.mqttHost, ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, settings });
			const soaker = { ...base, node, progress: node.progress };
			soakers.push(soaker);
			node.start();
			cutFromReady(soaker);
		}
		const connected = idleUp + soakers.length;
		o.log(`fleet: ${connected} devices: ${idleUp} idle, ${o.xsHosts} XS hosts and ${nodeCount} Node clients soaking, ${o.messages} messages each every ${o.intervalMs} ms`);
		// The device kills, spread over the XS hosts and over the run's nominal length.
		const xsSoakers = soakers.filter((s) => s.xs !== undefined);
		const killsBegun = Date.now();
		const kills = (async () => {
			for (let k = 0; k < o.deviceRestarts && xsSoakers.length > 0; k++) {
				await sleep(Math.max(0, killsBegun + ((k + 1) * o.messages * o.intervalMs) / (o.deviceRestarts + 1) - Date.now()));
				if (stopping) return;
				const target = xsSoakers[Math.floor((k * xsSoakers.length) / o.deviceRestarts)]!;
				o.log(`fleet: SIGKILL to ${target.id} (about message ${target.progress.generated}); it starts again in 0.5 s`);
				await target.xs!.killAndRestart(500);
			}
		})();
		// A host that ends early is counted, not waited for: what it did not deliver is lost.
		const finished = () => soakers.filter((s) => s.progress.allGenerated || s.xs?.failure !== undefined).length;
		await waitFor("every soaker's last message", () => finished() === soakers.length, {
			timeoutMs: o.messages * o.intervalMs * 4 + 180_000, failure: () => (cloudEnded ? "the cloud process ended" : undefined),
			detail: () => `${finished()} of ${soakers.length} done`,
		});
		stopping = true;
		await kills;
		for (const s of soakers) s.cutter.stop();
		o.log("fleet: all generated; no more cuts or kills; counting the store");
		const durationMs = await readUntilSettled(soakers.map((s) => s.store), o.messages, o.settleMs) - (started ?? killsBegun);
		const peaks = sampler.stop();
		const ended = soakers.filter((s) => s.xs?.failure !== undefined);
		for (const s of soakers) {
			const status = s.node?.status;
			if (status !== undefined && (status.queued ?? 0) > 0) o.log(`fleet: ${s.id} still holds ${status.queued} queued messages in state ${status.state}`);
		}
		for (const s of ended) o.log(`fleet: ${s.id} ended early: ${s.xs!.failure}\n${s.xs!.tail.join("\n")}`);
		const idleConnectedAtEnd = idle.filter((d) => d.client.connected).length;
		return {
			xs: total(soakers.filter((s) => s.kind === "xs"), o, durationMs),
			node: total(soakers.filter((s) => s.kind === "node"), o, durationMs),
			all: total(soakers, o, durationMs),
			connected, idle: idle.length, idleConnectedAtEnd, cloudUp: !cloudEnded, endedEarly: ended.map((s) => s.id), peaks,
		};
	}
	finally {
		sampler?.stop();
		stopping = true;
		for (const s of soakers) {
			s.cutter.stop();
			s.node?.stop();
		}
		await Promise.all(soakers.map((s) => s.xs?.kill()));
		// A proxy whose server still waits for a connection to end must not hold the report back.
		const closed = new Set<Soaker>();
		await Promise.race([Promise.all(soakers.map((s) => s.proxy.close().then(() => { closed.add(s); }))), sleep(5_000)]);
		if (closed.size < soakers.length) o.log(`fleet: ${soakers.length - closed.size} fault proxies had not closed 5 s after the end`);
		for (const d of idle) d.client.disconnect();
		await cloud.stop().catch(() => cloud.kill());
	}
}

export async function fleetMain(argv: string[]): Promise<number> {
	const common = commonOptions(argv, { messages: 300, intervalMs: 200 });
	const soakers = wholeNumber(argv, "--soakers") ?? 100;
	const work = mkdtempSync(join(tmpdir(), "soak-fleet-"));
	const options: FleetSoakOptions = {
		...common, work, queue: common.only !== "baseline",
		devices: wholeNumber(argv, "--devices") ?? 1000,
		soakers,
		xsHosts: wholeNumber(argv, "--xs-hosts") ?? soakers,
		deviceRestarts: wholeNumber(argv, "--device-restarts") ?? 10,
		staggerMs: wholeNumber(argv, "--stagger") ?? 100,
		libraryLog: argv.includes("--library-log"),
		settleMs: common.only === "baseline" ? 5_000 : 30_000,
		log: timedLog(Date.now()),
	};
	console.log(`soak: fleet of ${options.devices}, ${options.soakers} soaking (${options.xsHosts} XS hosts), ${options.queue ? "with" : "without"} the offline queue; cuts every ${options.cutMinMs} to ${options.cutMaxMs} ms (seed ${options.seed})`);
	try {
		const r = await runFleetSoak(options);
		const mode = options.queue ? "queue" : "baseline";
		const nodeCount = options.soakers - options.xsHosts;
		console.log(`\n${soakTable([
			...(options.xsHosts > 0 ? [{ title: `XS hosts (${options.xsHosts}), ${mode}`, result: r.xs }] : []),
			...(nodeCount > 0 ? [{ title: `Node clients (${nodeCount}), ${mode}`, result: r.node }] : []),
			{ title: `all ${options.soakers} soakers`, result: r.all },
		])}\n`);
		console.log(`devices connected at once: ${r.connected} (${r.idle} idle fleet clients + ${options.soakers} soakers); idle still connected at the end: ${r.idleConnectedAtEnd}; cloud process up throughout: ${r.cloudUp ? "yes" : "no"}`);
		console.log(`XS hosts that exited on their own before the end: ${r.endedEarly.length === 0 ? "none" : r.endedEarly.join(", ")}`);
		console.log(describePeaks(r.peaks));
		if (r.all.lost > 0) console.log(`soak: first missing sequence numbers ${r.all.missing.join(", ")}`);
		return options.queue && (r.all.lost > 0 || !r.cloudUp || r.endedEarly.length > 0) ? 1 : 0;
	}
	finally {
		rmSync(work, { recursive: true, force: true });
	}
}
