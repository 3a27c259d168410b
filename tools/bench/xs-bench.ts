/*
 * Benchmarks that run inside XS on the simulator host: the C codec against the
 * TypeScript codec in the same machine, and the XS heap an MQTT cycle needs in
 * the 32-bit build (device-like 16-byte slots), run under qemu-i386 where the
 * kernel cannot execute 32-bit programs itself.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPlainMosquitto } from "../lib/mosquitto.js";
import { formatRate, table } from "./harness.js";

const root = process.cwd();

function sim(variant: string): string {
	const path = join(root, "build", "sim", variant, "sim");
	if (!existsSync(path)) {
		const built = spawnSync("node", [join(root, "tools", "build-sim.mjs"), variant], { stdio: "inherit" });
		if (built.status !== 0) throw new Error(`cannot build the ${variant} simulator host`);
	}
	return path;
}

function benchLine(stdout: string, stderr: string): unknown {
	const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
	if (!line) throw new Error(`no result from the XS benchmark: ${stdout}${stderr}`);
	return JSON.parse(line.slice(6));
}

function runXs(command: string[], timeoutMs = 120000): unknown {
	const result = spawnSync(command[0]!, command.slice(1), { encoding: "utf8", timeout: timeoutMs });
	if (result.status !== 0) throw new Error(`${command.join(" ")} failed (${result.status}): ${result.stderr}`);
	return benchLine(result.stdout, result.stderr);
}

/** Runs `body` with a fresh state directory for the emulated device, removed afterwards. */
function withState<T>(body: (state: string) => T): T {
	const state = mkdtempSync(join(tmpdir(), "bench-state-"));
	try {
		return body(state);
	}
	finally {
		rmSync(state, { recursive: true, force: true });
	}
}

export function xsCodecBench(seconds: number): boolean {
	// A 1 MB chunk heap and 64 K slots keep collections from dominating both sides.
	const rows = withState((state) => runXs([sim("release"), "--state", state, "--chunk", "1048576", "--slots", "65536", join(root, "build", "tools", "bench", "xs", "codec.js"), String(seconds)])) as Array<{ row: string; ts: number; c: number }>;
	console.log("\nInside XS (simulator host, release build, 1 MB chunk heap): C codec against the TypeScript codec, packets/s, best of 3 alternating rounds\n");
	console.log(table(["packet", "C", "TypeScript", "ratio"], rows.map((r) => [r.row, formatRate(r.c), formatRate(r.ts), `${(r.c / r.ts).toFixed(1)}x`])));
	const behind = rows.filter((r) => r.c / r.ts < 10);
	console.log(behind.length === 0
		? "\ngoal met: C at least 10x the TypeScript codec on every row"
		: `\ngoal (10x) missed on ${behind.length} of ${rows.length} rows: ${behind.map((r) => `${r.row} ${(r.c / r.ts).toFixed(1)}x`).join(", ")}`);
	return behind.length === 0;
}

interface HeapFigures {
	mode: string;
	codec?: string;
	chunksUsedPeak: number;
	slotsUsedPeak: number;
	/** In use after the collection that precedes the report: what stays live. */
	chunksUsed: number;
	slotsUsed: number;
	slotSize: number;
	chunkPeak: number;
	slotPeak: number;
}

export async function xsHeapBench(): Promise<void> {
	const qemu = spawnSync("sh", ["-c", "command -v qemu-i386"], { encoding: "utf8" }).stdout.trim();
	// The kernel may lack 32-bit support (then the file is not even recognised as a program).
	const probe = spawnSync(sim("release32"), ["--help"], { encoding: "utf8" });
	const direct = probe.status === 0 && probe.stderr.includes("usage: sim");
	const launcher = direct ? [] : qemu ? [qemu] : undefined;
	const variant = launcher ? "release32" : "release";
	const dir = mkdtempSync(join(tmpdir(), "heap-bench-"));
	const broker = await startPlainMosquitto(dir);
	try {
		const program = join(root, "build", "tools", "bench", "xs", "mqtt-cycle.js");
		const base = [...(launcher ?? []), sim(variant), "--state", join(dir, "state")];
		const baseline = runXs([...base, program, "baseline"]) as HeapFigures;
		const cycles = ["ts", "c"].map((codec) => runXs([...base, program, "cycle", String(broker.port), codec]) as HeapFigures);
		const slotSize = baseline.slotSize;
		console.log(`\nXS heap of one connect, subscribe, publish (QoS 1, echoed) and disconnect cycle to Mosquitto over TCP`);
		console.log(`(${variant === "release32" ? `32-bit build, ${slotSize}-byte slots${launcher?.length ? ", under qemu-i386" : ""}` : `64-bit build (no 32-bit runner found), ${slotSize}-byte slots`}; peak in use, after module loading for the baseline;`);
		console.log("the peak counts garbage not yet collected, so it moves with the collector's timing; live is after a collection)\n");
		const row = (label: string, f: HeapFigures): string[] => [
			label, `${f.chunksUsedPeak} B`, `${f.slotsUsedPeak} slots (${f.slotsUsedPeak * slotSize} B)`,
			`${f.chunksUsedPeak + f.slotsUsedPeak * slotSize} B`, `${f.chunksUsed + f.slotsUsed * slotSize} B`,
		];
		console.log(table(["run", "chunks peak", "slots peak", "total peak", "live"], [
			row("modules loaded (baseline)", baseline),
			row("cycle, TypeScript codec", cycles[0]!),
			row("cycle, C codec", cycles[1]!),
		]));
		for (const [label, f] of [["TypeScript", cycles[0]!], ["C", cycles[1]!]] as const) {
			const extra = f.chunksUsedPeak - baseline.chunksUsedPeak + (f.slotsUsedPeak - baseline.slotsUsedPeak) * slotSize;
			const live = f.chunksUsed - baseline.chunksUsed + (f.slotsUsed - baseline.slotsUsed) * slotSize;
			console.log(`cycle cost over the baseline with the ${label} codec: ${extra} B at the peak, ${live} B live afterwards`);
		}
	}
	finally {
		await broker.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
