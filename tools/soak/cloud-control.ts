/*
 * The local nRF Cloud of a soak, run as a process of its own
 * (tools/cloud-sim/process.ts) so that it can be killed with SIGKILL and
 * started again on the same state directory and the same ports, as a
 * crashed and restarted service looks to its devices.
 */

import { spawnCloud, type CloudProcess } from "../cloud-sim/process.js";
import type { Endpoints } from "../cloud-sim/main.js";

export class RestartableCloud {
	readonly #state: string;
	readonly #args: string[];
	#process: CloudProcess;
	/** SIGKILLs followed by a restart so far. */
	restarts = 0;

	private constructor(state: string, args: string[], first: CloudProcess) {
		this.#state = state;
		this.#args = args;
		this.#process = first;
	}

	/** Starts the cloud on `state` with free ports; `args` are more cloud-sim options. */
	static async start(state: string, args: string[] = []): Promise<RestartableCloud> {
		return new RestartableCloud(state, args, await spawnCloud(state, args));
	}

	get endpoints(): Endpoints {
		return this.#process.endpoints;
	}

	/** The current process's ID. */
	get pid(): number | undefined {
		return this.#process.child.pid;
	}

	/** Resolves when the current process ends. */
	get exited(): Promise<NodeJS.Signals | null> {
		return this.#process.exited;
	}

	/** SIGKILL, then a new process on the same state and ports; resolves once it is ready. */
	async killAndRestart(downMs = 0): Promise<void> {
		const { mqttPort, httpPort, firmwarePort } = this.#process.endpoints;
		this.#process.child.kill("SIGKILL");
		const signal = await this.#process.exited;
		if (signal !== "SIGKILL") throw new Error(`the cloud process ended by ${signal ?? "itself"} before the SIGKILL`);
		if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
		this.#process = await spawnCloud(this.#state, [
			...this.#args, "--mqtt-port", String(mqttPort), "--http-port", String(httpPort), "--firmware-port", String(firmwarePort),
		]);
		this.restarts++;
	}

	async stop(): Promise<void> {
		await this.#process.stop();
	}

	/** For a harness that fails: ends the process at once. */
	kill(): void {
		this.#process.child.kill("SIGKILL");
	}
}
