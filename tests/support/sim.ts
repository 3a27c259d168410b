/* Runs the simulator host from Node tests. */

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const root = process.cwd();

export function simPath(variant = "release"): string {
	return join(root, "build", "sim", variant, "sim");
}

/** Builds the host variant if it is missing (npm run build normally has). */
export function ensureSim(variant = "release"): string {
	const path = simPath(variant);
	if (!existsSync(path)) {
		const result = spawnSync("node", [join(root, "tools", "build-sim.mjs"), variant], { stdio: "inherit" });
		if (result.status !== 0) throw new Error(`could not build the ${variant} simulator host`);
	}
	return path;
}

export interface SimRun {
	status: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

/** `program` runs another build of the host (the Moddable one) instead of build/sim/<variant>/sim. */
export function runSim(args: string[], options: { variant?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; wrapper?: string[]; cwd?: string; program?: string } = {}): Promise<SimRun> {
	const path = options.program ?? ensureSim(options.variant);
	const command = options.wrapper ? options.wrapper[0]! : path;
	const commandArgs = options.wrapper ? [...options.wrapper.slice(1), path, ...args] : args;
	return new Promise((resolve, reject) => {
		const child = spawn(command, commandArgs, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
		child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
		const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120000);
		child.on("error", reject);
		child.on("close", (status, signal) => {
			clearTimeout(timer);
			resolve({ status, signal, stdout, stderr });
		});
	});
}

/** The AddressSanitizer build's findings in a run's standard error, if any. */
export function sanitizerFindings(stderr: string): string[] {
	return stderr.split("\n").filter((line) => /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)/.test(line));
}
