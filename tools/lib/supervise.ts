/*
 * The supervisor of a simulated device: what restarts the nRF9160 after
 * DfuTarget.reboot(). It starts the host, and each time the host exits with the
 * reboot status 75 starts it again with the same command (so the same modem
 * directory and state); any other status, or a signal, ends it. Each restart
 * is announced on the log. `maxRestarts` bounds the restarts (a firmware that
 * reboots forever); reaching it ends the supervision with the host's status 75.
 * With `control` the host's standard input is a pipe and `send(line)` writes a
 * control line to whichever start is running (hosts/sim `--control stdin`).
 */

import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";

/** The host's exit status for "reboot" (hosts/sim/sim.h, SIM_EXIT_REBOOT). */
export const REBOOT_STATUS = 75;

export interface SuperviseOptions {
	/** Restarts allowed after reboot requests; default unbounded. */
	maxRestarts?: number;
	/** "inherit" for a terminal; default "pipe", with each start's output in `starts`. */
	stdio?: "inherit" | "pipe";
	env?: NodeJS.ProcessEnv;
	/** Where restarts are announced; default standard error. */
	log?: (line: string) => void;
	/** Called with each new host process (tests kill it to cut the power). */
	onStart?: (child: ChildProcess, start: number) => void;
	/** Called with each chunk of standard output when piped, with the start it came from. */
	onStdout?: (text: string, start: number) => void;
	/** Called with each chunk of standard error when piped, with the start it came from. */
	onStderr?: (text: string, start: number) => void;
	/** Keep each start's output in `starts` (default true); a long run that watches onStdout turns it off. */
	keepOutput?: boolean;
	/** Standard input as a pipe for `send` (with "pipe" stdio). */
	control?: boolean;
	/**
	 * The host in a process group of its own, so that a terminal's Ctrl-C reaches
	 * only the supervisor, which then stops the host with one signal.
	 */
	detached?: boolean;
}

export interface HostStart {
	status: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

export interface SupervisedRun {
	/** The last start's status (null after a signal). */
	status: number | null;
	signal: NodeJS.Signals | null;
	restarts: number;
	starts: HostStart[];
}

export interface Supervision {
	/** The host process running now. */
	readonly child: ChildProcess;
	readonly done: Promise<SupervisedRun>;
	/** Ends the supervision: the running host gets `signal` and is not started again. */
	stop(signal?: NodeJS.Signals): void;
	/** Writes one control line (no line break in it) to the running host's standard input; needs `control`. */
	send(line: string): void;
}

export function supervise(command: string, args: readonly string[], options: SuperviseOptions = {}): Supervision {
	const maxRestarts = options.maxRestarts ?? Infinity;
	if (!(maxRestarts >= 0) || (Number.isFinite(maxRestarts) && !Number.isInteger(maxRestarts))) throw new RangeError("maxRestarts must be a whole number");
	const log = options.log ?? ((line: string) => console.error(line));
	if (options.control && options.stdio === "inherit") throw new TypeError("control needs piped stdio: the terminal is the host's standard input otherwise");
	const stdio: StdioOptions = options.stdio === "inherit" ? "inherit" : [options.control ? "pipe" : "ignore", "pipe", "pipe"];
	const keep = options.keepOutput ?? true;
	const starts: HostStart[] = [];
	let stopped = false;
	let child!: ChildProcess;
	let settle!: (run: SupervisedRun) => void;
	let fail!: (error: Error) => void;
	const done = new Promise<SupervisedRun>((resolve, reject) => { settle = resolve; fail = reject; });
	const start = () => {
		const number = starts.length + 1;
		const record: HostStart = { status: null, signal: null, stdout: "", stderr: "" };
		starts.push(record);
		child = spawn(command, args, { stdio, detached: options.detached === true, env: { ...process.env, ...options.env } });
		child.stdout?.on("data", (chunk: Buffer) => {
			const text = chunk.toString();
			if (keep) record.stdout += text;
			options.onStdout?.(text, number);
		});
		child.stderr?.on("data", (chunk: Buffer) => {
			const text = chunk.toString();
			if (keep) record.stderr += text;
			options.onStderr?.(text, number);
		});
		// A host that ends while a control line is on its way: the line is lost, as a key press on a device that is off.
		child.stdin?.on("error", () => undefined);
		child.on("error", fail);
		child.on("close", (status, signal) => {
			record.status = status;
			record.signal = signal;
			const restarts = starts.length - 1;
			if (status === REBOOT_STATUS && !stopped && restarts < maxRestarts) {
				log(`device: reboot requested (exit ${REBOOT_STATUS}); start ${starts.length + 1}`);
				start();
				return;
			}
			if (status === REBOOT_STATUS && restarts >= maxRestarts) log(`device: reboot requested after ${restarts} restarts, the limit: stopping`);
			settle({ status, signal, restarts, starts });
		});
		options.onStart?.(child, number);
	};
	start();
	return {
		get child() { return child; },
		done,
		stop(signal: NodeJS.Signals = "SIGTERM") {
			stopped = true;
			child.kill(signal);
		},
		send(line: string) {
			if (typeof line !== "string" || /[\r\n]/.test(line) || line.length === 0) throw new TypeError("a control line is a non-empty string without line breaks");
			if (!options.control) throw new Error("this device was started without control input (control: true)");
			const input = child.stdin;
			if (input && !input.destroyed && input.writable) input.write(`${line}\n`);
		},
	};
}
