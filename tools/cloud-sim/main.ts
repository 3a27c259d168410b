/*
 * `npm run cloud-sim -- --state DIR [--mqtt-port N] [--http-port N] [--firmware-port N] [--broker embedded|mosquitto] [--fota-timeout SECONDS] [--publish-limit N] [--commit-delay MS]`:
 * runs the local nRF Cloud. When it is ready it writes DIR/endpoints.json
 * (mqttHost, mqttPort, httpPort, firmwarePort, apiKey, caCert, deviceCa, tenantId,
 * topicPrefix) for devices, tools and tests. Stops on SIGINT or SIGTERM.
 * --publish-limit: PUBLISH packets per second per connection (default 100, AWS
 * IoT's; 0 for none, as the benchmark runs it).
 * --commit-delay: milliseconds the message writer waits before each group
 * commit, a slow disk for tests that kill the cloud while commits are pending.
 */

import { renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { option, wholeNumber } from "../lib/args.js";
import { LocalCloud } from "./cloud.js";
import { serveDashboard } from "./dashboard-files.js";
import type { BrokerLimits } from "./limits.js";
import type { AddressLookup } from "../lib/listen.js";
import { RestApi } from "./rest.js";

export interface Endpoints {
	mqttHost: string;
	mqttPort: number;
	httpPort: number;
	firmwarePort: number;
	apiKey: string;
	caCert: string;
	deviceCa: string;
	tenantId: string;
	topicPrefix: string;
}

export interface RunningCloud {
	cloud: LocalCloud;
	rest: RestApi;
	endpoints: Endpoints;
	stop(): Promise<void>;
}

export interface StartOptions {
	state: string;
	mqttPort?: number;
	httpPort?: number;
	firmwarePort?: number;
	broker?: "embedded" | "mosquitto";
	/** How `localhost` resolves to the listen addresses; default: the system's resolver. */
	lookup?: AddressLookup;
	/** Default FOTA execution timeout in milliseconds (0: none). */
	fotaExecutionTimeoutMs?: number;
	limits?: Partial<BrokerLimits>;
	/** Milliseconds the message writer waits before each group commit (a slow disk); default 0. */
	commitDelayMs?: number;
	log?: (line: string) => void;
}

export async function startCloud(options: StartOptions): Promise<RunningCloud> {
	const state = resolve(options.state);
	const cloud = new LocalCloud({
		stateDirectory: state, mqttPort: options.mqttPort ?? 0, firmwarePort: options.firmwarePort ?? 0,
		broker: options.broker, lookup: options.lookup, fotaExecutionTimeoutMs: options.fotaExecutionTimeoutMs, limits: options.limits, commitDelayMs: options.commitDelayMs, log: options.log,
	});
	await cloud.start();
	const rest = new RestApi(cloud, serveDashboard);
	await rest.listen(options.httpPort ?? 0, cloud.listenAddresses);
	const endpoints: Endpoints = {
		mqttHost: cloud.hostname,
		mqttPort: cloud.mqttPort,
		httpPort: rest.port,
		firmwarePort: cloud.firmwarePort,
		apiKey: cloud.store.apiKey,
		caCert: join(cloud.pkiDirectory, "server-ca.pem"),
		deviceCa: join(cloud.pkiDirectory, "device-ca.pem"),
		tenantId: cloud.store.tenant,
		topicPrefix: cloud.topicPrefix,
	};
	const temporary = join(state, "endpoints.json.tmp");
	writeFileSync(temporary, JSON.stringify(endpoints, null, 2) + "\n");
	renameSync(temporary, join(state, "endpoints.json"));
	return {
		cloud, rest, endpoints,
		stop: async () => {
			await rest.close();
			await cloud.stop();
		},
	};
}

function port(argv: string[], name: string): number | undefined {
	return wholeNumber(argv, name, 65535);
}

async function main(argv: string[]): Promise<void> {
	const state = option(argv, "--state");
	if (!state) throw new Error("usage: cloud-sim --state DIR [--mqtt-port N] [--http-port N] [--firmware-port N] [--broker embedded|mosquitto] [--fota-timeout SECONDS] [--publish-limit N] [--commit-delay MS]");
	const broker = option(argv, "--broker") ?? "embedded";
	if (broker !== "embedded" && broker !== "mosquitto") throw new Error('--broker is "embedded" or "mosquitto"');
	const timeout = wholeNumber(argv, "--fota-timeout", 366 * 24 * 3600);
	const publishLimit = wholeNumber(argv, "--publish-limit", 1_000_000);
	const commitDelayMs = wholeNumber(argv, "--commit-delay", 10_000);
	const running = await startCloud({
		commitDelayMs,
		fotaExecutionTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
		state, mqttPort: port(argv, "--mqtt-port"), httpPort: port(argv, "--http-port"), firmwarePort: port(argv, "--firmware-port"), broker,
		limits: publishLimit === undefined ? undefined : { publishesPerSecond: publishLimit },
		log: (line) => console.log(`[cloud-sim] ${line}`),
	});
	const { endpoints } = running;
	console.log(`[cloud-sim] MQTT on ${endpoints.mqttHost}:${endpoints.mqttPort}, REST on http://localhost:${endpoints.httpPort}/v1/, firmware on https://${endpoints.mqttHost}:${endpoints.firmwarePort}/`);
	console.log(`[cloud-sim] dashboard: http://localhost:${endpoints.httpPort}/#key=${endpoints.apiKey}`);
	console.log(`[cloud-sim] endpoints in ${join(resolve(state), "endpoints.json")}`);
	const stop = () => {
		running.stop().then(() => process.exit(0), () => process.exit(1));
	};
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
	main(process.argv.slice(2)).catch((error: unknown) => {
		console.error(`cloud-sim: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	});
}
