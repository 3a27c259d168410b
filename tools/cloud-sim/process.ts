/*
 * The local nRF Cloud as a process of its own (`npm run cloud-sim`), for the
 * benchmark (so that it has a process to itself, as Mosquitto has) and for
 * tests that kill it. Ready once it has written endpoints.json.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Endpoints } from "./main.js";

const MAIN = new URL("main.js", import.meta.url).pathname;

export interface CloudProcess {
	child: ChildProcess;
	endpoints: Endpoints;
	/** Resolves with the signal that ended the process (null after a normal exit). */
	exited: Promise<NodeJS.Signals | null>;
	/** SIGTERM, then waits for the exit. */
	stop(): Promise<void>;
}

export interface SpawnOptions {
	/** Default 30 s. */
	timeoutMs?: number;
	/** Options for Node itself (before the script), e.g. --cpu-prof. */
	nodeOptions?: string[];
}

/** Starts the cloud on `state` (a new or an existing state directory) with more of its options in `args`, and waits until it is ready. */
export async function spawnCloud(state: string, args: string[] = [], options: SpawnOptions = {}): Promise<CloudProcess> {
	const timeoutMs = options.timeoutMs ?? 30_000;
	const ready = join(state, "endpoints.json");
	rmSync(ready, { force: true });
	// a young generation of 32 MB: every device message leaves short-lived objects (packet, row, record), and
	// with the default the collector scavenges several times per group commit under load
	const child = spawn(process.execPath, [...(options.nodeOptions ?? []), "--max-semi-space-size=32", MAIN, "--state", state, ...args], { stdio: ["ignore", "ignore", "inherit"] });
	const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
	let ended = false;
	void exited.then(() => { ended = true; });
	const deadline = Date.now() + timeoutMs;
	while (!existsSync(ready)) {
		if (ended) throw new Error("the cloud process ended before it was ready");
		if (Date.now() > deadline) {
			child.kill("SIGKILL");
			throw new Error(`the cloud process was not ready after ${timeoutMs} ms`);
		}
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	return {
		child, exited,
		endpoints: JSON.parse(readFileSync(ready, "utf8")) as Endpoints,
		stop: async () => {
			if (!ended) child.kill("SIGTERM");
			await exited;
		},
	};
}
