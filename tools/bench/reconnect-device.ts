/*
 * Runs the reconnect program (tools/bench/xs/reconnect.ts) in the simulator
 * host on a modem directory, for the connect benchmark and the resumption
 * tests: its READY lines, parsed, and its whole output.
 */

import { spawn } from "node:child_process";
import { join } from "node:path";

/** The connect sequence: the C library's, the pipelined one, and the pipelined one with pairedReportAhead. */
export type ConnectMode = "lockstep" | "pipelined" | "ahead";

export interface ReadyLine {
	connection: number;
	/** connect() to READY on the device's clock. */
	ms: number;
	/** Date.now() at READY. */
	readyAt: number;
	tlsResumed: boolean | null;
	/** TRANSPORT_CONNECTED's status: 1 when the MQTT session was resumed. */
	session: number;
}

export interface ReconnectRun {
	status: number | null;
	output: string;
	connections: ReadyLine[];
}

export interface ReconnectOptions {
	/** The simulator host; build/sim/release/sim by default. */
	sim?: string;
	modem: string;
	port: number;
	mode: ConnectMode;
	connections: number;
	/** How long each connection stays up after READY. */
	stayMs: number;
	/** Sees each line of standard output as it comes. */
	onLine?: (line: string) => void;
}

export function runReconnectDevice(options: ReconnectOptions): Promise<ReconnectRun> {
	const root = process.cwd();
	const sim = options.sim ?? join(root, "build", "sim", "release", "sim");
	const program = join(root, "build", "tools", "bench", "xs", "reconnect.js");
	const child = spawn(sim, ["--timeout", "120", "--state", options.modem, program, "127.0.0.1", String(options.port), options.mode, String(options.connections), String(options.stayMs)],
		{ stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	let pending = "";
	child.stdout.on("data", (data: Buffer) => {
		output += data.toString();
		pending += data.toString();
		const lines = pending.split("\n");
		pending = lines.pop()!;
		for (const line of lines) options.onLine?.(line);
	});
	child.stderr.on("data", (data: Buffer) => { output += data.toString(); });
	return new Promise((resolve) => child.on("close", (status) => resolve({
		status, output,
		connections: [...output.matchAll(/^RECONNECT (.*)$/gm)].map((m) => JSON.parse(m[1]!) as ReadyLine),
	})));
}
