/*
 * The memory of the example firmware, the way the device sees it: the XS
 * machine's chunk heap, slot heap, keys and stack, now and at their peak, at
 * READY (an associated device, from boot) and after 100 sensor messages (25
 * rounds of GPS and FLIP, send and stream), against the local nRF Cloud over
 * mutual TLS. The same run on the xsnap build of the host and, when $MODDABLE
 * is set, on the Moddable SDK's build (instrument variant, for the stack peak).
 * The figures come from the host's --memory-at marks (hosts/sim/host.c).
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud, type RunningCloud } from "../cloud-sim/main.js";
import { deviceCommand } from "../device/main.js";
import { provision } from "../provision/main.js";
import { table } from "./harness.js";

const root = process.cwd();
const READY = "nrf_cloud: READY (";
const ROUNDS = 25;
const AFTER = `app: round ${ROUNDS} sent`;
const IMEI = "352656103000009";
/** The goal for the whole machine, on the 32-bit layout (16-byte slots). */
const GOAL = 64 * 1024;

type Figures = Record<string, number>;

interface Run {
	output: string;
	status: number | null;
	marks: Map<string, Figures>;
}

function runDevice(running: RunningCloud, modem: string, options: { moddable: boolean; rounds: number; marks?: boolean; variant?: string }, onOutput?: (output: string) => void): Promise<Run> {
	const command = deviceCommand({
		modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`, rounds: options.rounds, interval: 20, timeout: 120,
		moddable: options.moddable, variant: options.variant,
		hostOptions: options.marks ? ["--memory-at", READY, "--memory-at", AFTER] : [],
	});
	return new Promise((resolve, reject) => {
		const child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		const take = (chunk: Buffer) => {
			output += chunk.toString();
			onOutput?.(output);
		};
		child.stdout.on("data", take);
		child.stderr.on("data", take);
		child.on("error", reject);
		child.on("close", (status) => {
			command.cleanup();
			const marks = new Map<string, Figures>();
			for (const match of output.matchAll(/^\w+: memory at "(.*)": (\{.*\})$/gm)) marks.set(match[1]!, JSON.parse(match[2]!) as Figures);
			resolve({ output, status, marks });
		});
	});
}

/** The first run of a new device: JITP, then association through the REST API, then READY. */
async function associate(running: RunningCloud, modem: string, id: string, pin: string): Promise<void> {
	let asked = false;
	const run = await runDevice(running, modem, { moddable: false, rounds: 1 }, (output) => {
		if (asked || !output.includes("USER_ASSOCIATION_REQUEST")) return;
		asked = true;
		void fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/association/${id}`, {
			method: "PUT", headers: { authorization: `Bearer ${running.endpoints.apiKey}` }, body: pin,
		});
	});
	if (run.status !== 0) throw new Error(`the association run failed (${run.status}):\n${run.output}`);
}

function kb(bytes: number): string {
	return `${(bytes / 1024).toFixed(1)} KB`;
}

/** Rows of the table, from one mark's figures. */
const ROWS: Array<[string, (f: Figures) => string]> = [
	["chunks used now / live (bytes)", (f) => `${f.chunksUsed} / ${f.chunksLive}`],
	["chunks used peak (bytes)", (f) => String(f.chunksUsedPeak)],
	["chunk heap allocated (bytes)", (f) => String(f.chunkBytes)],
	["slots used now / live", (f) => `${f.slotsUsed} / ${f.slotsLive}`],
	["slots used peak", (f) => String(f.slotsUsedPeak)],
	["slot heap allocated (bytes)", (f) => String(f.slotBytes)],
	["keys made at run time", (f) => String(f.keysUsed)],
	["stack now / peak (slots)", (f) => `${f.stackUsed} / ${f.stackPeak! < 0 ? "n/a" : f.stackPeak}`],
	["live machine at 16-byte slots (estimate)", (f) => kb(machine32(f))],
];

/**
 * What the whole machine needs on the 32-bit layout, estimated from a 64-bit
 * run: XS collects only when a heap is full, so the peaks above follow the heap
 * sizes; what a fixed heap must hold is what is live after a collection. Live
 * chunks as measured (on 32 bits they are somewhat smaller), live slots and the
 * stack peak at 16 bytes a slot, and a 4-byte key table entry per key made at
 * run time.
 */
function machine32(f: Figures): number {
	return f.chunksLive! + f.slotsLive! * 16 + Math.max(f.stackPeak!, f.stackUsed!) * 16 + f.keysUsed! * 4;
}

function ensureModdableInstrument(): string | undefined {
	const result = spawnSync("node", [join(root, "tools", "build-moddable.mjs"), "instrument"], { encoding: "utf8" });
	if (result.status !== 0) return `${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`;
	return undefined;
}

export async function firmwareMemoryBench(): Promise<void> {
	console.log(`\nThe example firmware's XS machine: at READY (an associated device, from boot) and after ${ROUNDS * 4} sensor messages, against the local nRF Cloud over mutual TLS; both hosts are 64-bit builds (32-byte slots)\n`);
	const moddableSkip = process.env.MODDABLE ? undefined : "skipped: MODDABLE not set";
	const buildProblem = moddableSkip ? undefined : ensureModdableInstrument();
	const dir = mkdtempSync(join(tmpdir(), "firmware-memory-"));
	// rounds 20 ms apart publish faster than AWS IoT's 100 a second allows one connection
	const running = await startCloud({ state: join(dir, "cloud"), limits: { publishesPerSecond: 0 } });
	try {
		const modem = join(dir, "modem");
		mkdirSync(modem, { recursive: true });
		writeFileSync(join(modem, "imei"), `${IMEI}\n`);
		const id = `nrf-${IMEI}`;
		const { pin } = provision({ cloudState: join(dir, "cloud"), modem, deviceId: id });
		await associate(running, modem, id, pin);
		const columns: Array<{ name: string; ready: Figures; after: Figures }> = [];
		const engines = [{ name: "xsnap build", moddable: false, variant: "release" }];
		if (!moddableSkip && !buildProblem) engines.push({ name: "Moddable build", moddable: true, variant: "instrument" });
		for (const engine of engines) {
			const run = await runDevice(running, modem, { moddable: engine.moddable, variant: engine.variant, rounds: ROUNDS, marks: true });
			const ready = run.marks.get(READY);
			const after = run.marks.get(AFTER);
			if (run.status !== 0 || !ready || !after) throw new Error(`${engine.name}: the measured run failed (${run.status}):\n${run.output.slice(-3000)}`);
			columns.push({ name: engine.name, ready, after });
		}
		const header = ["", ...columns.flatMap((c) => [`${c.name}: READY`, `${c.name}: ${ROUNDS * 4} messages`])];
		console.log(table(header, ROWS.map(([label, cell]) => [label, ...columns.flatMap((c) => [cell(c.ready), cell(c.after)])])));
		if (moddableSkip) console.log(`\nModdable build: ${moddableSkip}`);
		else if (buildProblem) console.log(`\nModdable build: not measured, npm run build:moddable -- instrument failed:\n${buildProblem}`);
		for (const column of columns) {
			const estimate = Math.max(machine32(column.ready), machine32(column.after));
			console.log(estimate <= GOAL
				? `\n${column.name}: goal met, the live machine within ${kb(GOAL)} on the 32-bit layout (estimate ${kb(estimate)})`
				: `\n${column.name}: goal (${kb(GOAL)} on the 32-bit layout) missed, live machine estimate ${kb(estimate)}`);
		}
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
