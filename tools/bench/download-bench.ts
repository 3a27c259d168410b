/*
 * The FOTA download, measured in one run against its peers: the device's
 * client in XS (simulator host, release build, TLS with the modem tag) next
 * to curl fetching the same 1 MB image from the same local firmware server
 * with the same client certificate; the HTTP requests per image; the bytes
 * through a link the fault proxy cuts three times; and the XS heap during a
 * download by fragment size.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../lib/fault-proxy.js";
import { startFirmwareRig, type FirmwareRig } from "../lib/firmware-rig.js";
import { table } from "./harness.js";

const root = process.cwd();
const SIZE = 1024 * 1024;
/** Device-like creation sizes (the root manifest's), so the collector runs as on the device. */
const HEAP_OPTIONS = ["--chunk", "32768", "--slots", "2048"];

interface XsDownload {
	ms?: number;
	received?: number;
	stats?: { requests: number; connections: number; bodyBytes: number };
	chunksUsedPeak: number;
	slotsUsedPeak: number;
	chunksLive: number;
	slotsLive: number;
	slotSize: number;
}

function simProgram(): string {
	const path = join(root, "build", "sim", "release", "sim");
	if (!existsSync(path) && spawnSync("node", [join(root, "tools", "build-sim.mjs"), "release"], { stdio: "inherit" }).status !== 0)
		throw new Error("cannot build the release simulator host");
	return path;
}

/** Runs `command` without blocking this process (which serves the firmware); its status and output. */
function collect(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
		child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
		child.on("error", reject);
		child.on("close", (status) => resolve({ status, stdout, stderr }));
	});
}

/** Runs the XS download program without blocking this process, which serves the firmware. */
async function runXs(rig: FirmwareRig, mode: string, port: number, fragmentSize: number): Promise<XsDownload> {
	const state = mkdtempSync(join(tmpdir(), "download-bench-"));
	const args = [...HEAP_OPTIONS, "--timeout", "300", "--state", state, join(root, "build", "tools", "bench", "xs", "download.js"),
		mode, String(port), rig.host, rig.path, String(SIZE), String(fragmentSize), rig.pem.ca, rig.pem.cert, rig.pem.key];
	const { status, stdout, stderr } = await collect(simProgram(), args);
	rmSync(state, { recursive: true, force: true });
	const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
	if (status !== 0 || !line) throw new Error(`XS download (${mode}) failed with status ${status}: ${stdout}${stderr}`);
	return JSON.parse(line.slice(6)) as XsDownload;
}

/** curl fetching the whole image once: seconds and bytes, from curl's own timer (connect and TLS included). */
async function curl(rig: FirmwareRig): Promise<{ seconds: number; bytes: number }> {
	const url = `https://${rig.host}/${rig.path}`;
	const args = ["-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}",
		"--resolve", `${rig.host}:127.0.0.1`, "--cacert", rig.files.ca, "--cert", rig.files.cert, "--key", rig.files.key, url];
	const { status, stdout, stderr } = await collect("curl", args);
	const [seconds, bytes] = stdout.trim().split(" ").map(Number);
	if (status !== 0 || bytes !== SIZE) throw new Error(`curl failed (${status}): ${stderr}${stdout}`);
	return { seconds: seconds!, bytes: bytes! };
}

/** Node's HTTPS client in the device's request pattern, in its own process: seconds. */
async function nodeRanged(rig: FirmwareRig, fragmentSize: number): Promise<number> {
	const args = [join(root, "build", "tools", "bench", "ranged-client.js"), String(rig.port), rig.path, String(SIZE), String(fragmentSize), rig.files.ca, rig.files.cert, rig.files.key];
	const { status, stdout, stderr } = await collect(process.execPath, args);
	if (status !== 0) throw new Error(`Node ranged client failed (${status}): ${stderr}`);
	return Number(stdout.trim()) / 1000;
}

const mbps = (bytes: number, seconds: number) => `${(bytes / seconds / 1e6).toFixed(2)} MB/s`;

export async function downloadBench(rounds: number): Promise<void> {
	if (spawnSync("sh", ["-c", "command -v curl"]).status !== 0) {
		console.log("\nFOTA download: skipped, curl is not installed (tools/debian-packages.txt lists it)");
		return;
	}
	const rig = await startFirmwareRig(SIZE);
	try {
		let device = Infinity;
		let peer = Infinity;
		let ranged = Infinity;
		let requests = 0;
		for (let round = 0; round < rounds; round++) {
			const xs = await runXs(rig, "download", rig.port, 1700);
			if (xs.received !== SIZE) throw new Error(`the device received ${xs.received} of ${SIZE} bytes`);
			device = Math.min(device, xs.ms! / 1000);
			requests = xs.stats!.requests;
			peer = Math.min(peer, (await curl(rig)).seconds);
			ranged = Math.min(ranged, await nodeRanged(rig, 1700));
		}
		console.log(`\nFOTA download of a 1 MB image from the local firmware server over TLS (client certificate, loopback), best of ${rounds} alternating rounds\n`);
		console.log(table(["client", "time", "throughput", "HTTP requests"], [
			["device client in XS, 1700-byte ranges", `${(device * 1000).toFixed(0)} ms`, mbps(SIZE, device), String(requests)],
			["curl, one GET", `${(peer * 1000).toFixed(0)} ms`, mbps(SIZE, peer), "1"],
			["Node https, the same 1700-byte ranges, kept alive", `${(ranged * 1000).toFixed(0)} ms`, mbps(SIZE, ranged), String(Math.ceil(SIZE / 1700))],
		]));
		console.log(`device / curl throughput: ${(peer / device).toFixed(3)}; device / Node with the same ranges: ${(ranged / device).toFixed(2)}`);
		console.log(`${requests} requests per 1 MB image (${Math.ceil(SIZE / 1700)} ranges of 1700 bytes); compare the Node client with the same ranges for what the round trip per range costs`);

		const proxy = await rig.proxy("reset");
		const cuts = proxy.cutAtRandom(3, SIZE, seededRandom(20261202));
		const cut = await runXs(rig, "download", proxy.port, 1700);
		if (cut.received !== SIZE || proxy.stats.cuts !== 3) throw new Error(`cut download: ${cut.received} bytes, ${proxy.stats.cuts} cuts`);
		console.log(`\nThe same download through the fault proxy breaking the link (RST) three times (at downstream bytes ${cuts.join(", ")})\n`);
		console.log(table(["", "bytes", "of the image"], [
			["image", String(SIZE), "1.000"],
			["body bytes fetched", String(cut.stats!.bodyBytes), (cut.stats!.bodyBytes / SIZE).toFixed(3)],
			["bytes through the link (TLS, heads)", String(proxy.stats.down), (proxy.stats.down / SIZE).toFixed(3)],
			["three full downloads", String(3 * SIZE), "3.000"],
		]));
		console.log(`${cut.stats!.connections} connections, ${cut.stats!.requests} requests`);

		const baseline = await runXs(rig, "baseline", rig.port, 1700);
		const rows: string[][] = [];
		const heap = (f: XsDownload) => f.chunksUsedPeak + f.slotsUsedPeak * f.slotSize;
		const live = (f: XsDownload) => f.chunksLive + f.slotsLive * f.slotSize;
		rows.push(["modules loaded, tag provisioned (baseline)", "-", `${heap(baseline)} B`, "-", `${live(baseline)} B`]);
		for (const fragmentSize of [512, 1700, 4096]) {
			const f = await runXs(rig, "download", rig.port, fragmentSize);
			rows.push([`1 MB download, ${fragmentSize}-byte fragments`, String(fragmentSize), `${heap(f)} B`, `${heap(f) - heap(baseline)} B`, `${live(f)} B`]);
		}
		console.log(`\nXS heap during a 1 MB download by fragment size (64-bit release build, ${baseline.slotSize}-byte slots, device-like creation ${HEAP_OPTIONS.join(" ")};`);
		console.log("peak counts garbage not yet collected, so it moves with the collector's timing; live is after a collection at the end)\n");
		console.log(table(["run", "fragment", "peak (chunks + slots)", "peak over baseline", "live"], rows));
	}
	finally {
		await rig.stop();
	}
}
