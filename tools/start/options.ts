/* The command line of `npm start`: what to run and where its state lives. */

import { resolve } from "node:path";
import { option, wholeNumber } from "../lib/args.js";

export interface StartOptions {
	/** How many simulated devices (1 to MAX_DEVICES). */
	devices: number;
	/** Associate each device through the REST API when it asks, as a user would on the dashboard. */
	autoAssociate: boolean;
	/** Only state changes in the terminal. */
	quiet: boolean;
	/** Remove the cloud's and the devices' state first. */
	fresh: boolean;
	/** Bring the build up to date first (false: --no-build). */
	build: boolean;
	/** The state directory: cloud/ and devices/<n>/ under it. */
	state: string;
	httpPort?: number;
	mqttPort?: number;
	firmwarePort?: number;
}

export const MAX_DEVICES = 50;

export const USAGE = `usage: npm start -- [--devices N] [--auto-associate] [--quiet] [--fresh] [--no-build] [--state DIR] [--http-port N] [--mqtt-port N] [--firmware-port N]
  --devices N        simulated devices, 1 to ${MAX_DEVICES} (default 1), each with its own modem under DIR/devices/<n>
  --auto-associate   associate each device when it asks, through the REST API (PUT /v1/association/:id)
  --quiet            show only state changes (READY, connections, association, FOTA, app: state)
  --fresh            start from zero: remove DIR/cloud and DIR/devices first
  --no-build         do not bring the build up to date first
  --state DIR        where the state is kept (default .state in the project)
  --http-port N, --mqtt-port N, --firmware-port N   the cloud's ports (default: free ones)`;

const FLAGS = ["--auto-associate", "--quiet", "--fresh", "--no-build", "--help"];
const VALUED = ["--devices", "--state", "--http-port", "--mqtt-port", "--firmware-port"];

export function parseStartOptions(argv: string[], root: string): StartOptions {
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (VALUED.includes(arg)) i++;
		else if (!FLAGS.includes(arg)) throw new Error(`unknown option ${arg}\n${USAGE}`);
	}
	const devices = wholeNumber(argv, "--devices", MAX_DEVICES) ?? 1;
	if (devices < 1) throw new Error(`--devices must be from 1 to ${MAX_DEVICES}`);
	const port = (name: string) => wholeNumber(argv, name, 65535);
	return {
		devices,
		autoAssociate: argv.includes("--auto-associate"),
		quiet: argv.includes("--quiet"),
		fresh: argv.includes("--fresh"),
		build: !argv.includes("--no-build"),
		state: resolve(option(argv, "--state") ?? resolve(root, ".state")),
		httpPort: port("--http-port"),
		mqttPort: port("--mqtt-port"),
		firmwarePort: port("--firmware-port"),
	};
}
