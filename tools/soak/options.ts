/* The command-line options the single soak and the fleet soak share. */

import { option, wholeNumber } from "../lib/args.js";

export interface CommonOptions {
	/** Run only this mode. */
	only: "queue" | "baseline" | undefined;
	seed: number;
	messages: number;
	intervalMs: number;
	cutMinMs: number;
	cutMaxMs: number;
}

export function commonOptions(argv: string[], defaults: { messages: number; intervalMs: number }): CommonOptions {
	const only = option(argv, "--only");
	if (only !== undefined && only !== "queue" && only !== "baseline") throw new Error('--only is "queue" or "baseline"');
	const options: CommonOptions = {
		only,
		seed: wholeNumber(argv, "--seed", 0xFFFFFFFF) ?? (Date.now() >>> 0),
		messages: wholeNumber(argv, "--messages") ?? defaults.messages,
		intervalMs: wholeNumber(argv, "--interval") ?? defaults.intervalMs,
		cutMinMs: wholeNumber(argv, "--cut-min") ?? 500,
		cutMaxMs: wholeNumber(argv, "--cut-max") ?? 4000,
	};
	if (options.messages < 1) throw new Error("--messages must be at least 1");
	if (options.cutMinMs < 1 || options.cutMaxMs < options.cutMinMs) throw new Error("--cut-min must be at least 1 and --cut-max at least --cut-min");
	return options;
}

/** A log line with the seconds since `begun`. */
export function timedLog(begun: number): (line: string) => void {
	return (line) => console.log(`soak: ${((Date.now() - begun) / 1000).toFixed(2)} ${line}`);
}
