/*
 * The soak firmware (tools/soak/app) in the XS simulator host, with its
 * emulated modem state in one directory, as the harness drives it: started,
 * killed with SIGKILL (the power cut) and started again on the same state.
 * It follows the firmware's lines: how far it got, what it dropped, the
 * library's events.
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runDevice } from "../device/main.js";
import type { Supervision } from "../lib/supervise.js";
import { SoakProgress } from "./progress.js";

const APP = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..", "tools", "soak", "app");

export interface XsDeviceOptions {
	modem: string;
	/** HOST:PORT of the MQTT endpoint (the fault proxy). */
	endpoint: string;
	/** TLS name of the cloud. */
	hostname: string;
	messages: number;
	intervalMs: number;
	queue: boolean;
	/** The library's diagnostic lines in the output too. */
	libraryLog?: boolean;
	/** Called with each complete line of output. */
	onLine?: (line: string) => void;
}

export class XsDevice {
	readonly #options: XsDeviceOptions;
	#running: Supervision | undefined = undefined;
	#partial = "";
	readonly progress = new SoakProgress();
	/** Starts after the first. */
	restarts = 0;
	/** The last lines, for a report when something goes wrong. */
	readonly tail: string[] = [];
	/** Set when a start ended without the harness ending it. */
	failure: string | undefined = undefined;

	constructor(options: XsDeviceOptions) {
		this.#options = options;
	}

	/** The running host's process ID (undefined while it is off). */
	get pid(): number | undefined {
		return this.#running?.child.pid;
	}

	get modem(): string {
		return this.#options.modem;
	}

	start(): void {
		const o = this.#options;
		const running = runDevice({
			modem: o.modem, endpoint: o.endpoint, hostname: o.hostname, app: APP,
			settings: { messages: o.messages, intervalMs: o.intervalMs, queue: o.queue, libraryLog: o.libraryLog === true },
			// The runner's notice of a refused client ID: the proxy's cuts before CONNACK look the same, so it goes with the host's lines.
			log: (line) => this.#keep(line),
		}, { maxRestarts: 0, onStdout: (text) => this.#output(text) });
		this.#running = running;
		void running.done.then((run) => {
			if (this.#running !== running) return;
			this.#running = undefined;
			const last = run.starts.at(-1);
			this.failure = `the soak firmware ended (status ${run.status}, signal ${run.signal}): ${last?.stderr.trim().split("\n").slice(-5).join(" | ") ?? ""}`;
		}, (error: unknown) => {
			this.failure = `the soak firmware could not run: ${error instanceof Error ? error.message : String(error)}`;
		});
	}

	/** SIGKILL; resolves once the host is gone. */
	async kill(): Promise<void> {
		const running = this.#running;
		if (running === undefined) return;
		this.#running = undefined;
		running.stop("SIGKILL");
		await running.done.catch(() => undefined);
		this.#partial = "";
	}

	/** SIGKILL, a pause with the power off, and a new start on the same modem state. */
	async killAndRestart(offMs: number): Promise<void> {
		await this.kill();
		await new Promise((resolve) => setTimeout(resolve, offMs));
		this.restarts++;
		this.start();
	}

	#keep(line: string): void {
		this.tail.push(line);
		if (this.tail.length > 40) this.tail.shift();
	}

	#output(text: string): void {
		const lines = (this.#partial + text).split("\n");
		this.#partial = lines.pop()!;
		for (const line of lines) {
			this.#keep(line);
			this.progress.line(line);
			this.#options.onLine?.(line);
		}
	}
}
