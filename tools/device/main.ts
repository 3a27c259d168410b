/*
 * `npm run device -- --modem DIR --endpoint HOST:PORT [--app DIR|FILE] [options]`:
 * runs one simulated nRF9160 — the XS simulator host with its emulated modem
 * state in DIR (credentials only from the modem's security tag, written by
 * `npm run provision`) — running a firmware app, by default the example in
 * tools/device/app. The app's manifest "config" becomes its "mc/config"
 * module, as mcconfig makes it, with the endpoint and options below on top.
 * Several devices run at once with different modem directories.
 *
 *   --hostname NAME          TLS host name (SNI and certificate check); default: the endpoint host
 *   --sec-tag N              security tag of the credentials
 *   --client-id-source S     imei (default), internal-uuid, compile-time, runtime
 *   --client-id ID           for compile-time and runtime
 *   --rounds N               stop after N rounds of sensor data (default 0: run until stopped)
 *   --interval MS            between rounds
 *   --retry MS               first reconnect delay, doubled after each failure
 *   --variant NAME           simulator host build (release, debug, asan)
 *   --timeout SECONDS        wall-clock limit of the host
 */

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { option, wholeNumber } from "../lib/args.js";
import { creationOptions } from "../sim.js";

const root = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..");

export interface DeviceOptions {
	modem: string;
	endpoint: string;
	app?: string;
	hostname?: string;
	secTag?: number;
	clientIdSource?: string;
	clientId?: string;
	rounds?: number;
	interval?: number;
	retry?: number;
	variant?: string;
	timeout?: number;
}

export interface DeviceCommand {
	command: string;
	args: string[];
	/** Removes the generated config module. */
	cleanup(): void;
}

/** The app's compiled entry point and manifest for --app (a source directory, or a compiled .js file). */
function locateApp(app: string): { main: string; manifest: string | undefined } {
	const path = resolve(app);
	if (path.endsWith(".js")) {
		const manifest = join(dirname(path), "manifest.json");
		return { main: path, manifest: existsSync(manifest) ? manifest : undefined };
	}
	const manifest = join(path, "manifest.json");
	if (!existsSync(manifest)) throw new Error(`${app} has no manifest.json`);
	const compiled = [join(path, "main.js"), join(root, "build", relative(root, path), "main.js")].find((candidate) => existsSync(candidate));
	if (compiled === undefined) throw new Error(`no compiled main.js for ${app}; run npm run build`);
	return { main: compiled, manifest };
}

export function parseEndpoint(endpoint: string): { host: string; port: number } {
	const match = /^(.+):(\d{1,5})$/.exec(endpoint);
	const port = match ? Number(match[2]) : NaN;
	if (!match || port < 1 || port > 65535) throw new Error(`--endpoint must be HOST:PORT, got ${endpoint}`);
	return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

export function deviceCommand(options: DeviceOptions): DeviceCommand {
	const { host, port } = parseEndpoint(options.endpoint);
	const app = locateApp(options.app ?? join(root, "tools", "device", "app"));
	const manifest = app.manifest ? JSON.parse(readFileSync(app.manifest, "utf8")) as { config?: Record<string, unknown> } : {};
	const config: Record<string, unknown> = { ...manifest.config, host, port };
	if (options.hostname !== undefined) config.hostname = options.hostname;
	if (options.secTag !== undefined) config.secTag = options.secTag;
	if (options.clientIdSource !== undefined) config.clientIdSource = options.clientIdSource;
	if (options.clientId !== undefined) config.clientId = options.clientId;
	if (options.rounds !== undefined) config.rounds = options.rounds;
	if (options.interval !== undefined) config.sendIntervalMs = options.interval;
	if (options.retry !== undefined) config.retryMs = options.retry;
	const variant = options.variant ?? "release";
	const host_ = join(root, "build", "sim", variant, "sim");
	if (!existsSync(host_)) throw new Error(`no ${variant} simulator host; run npm run build`);
	mkdirSync(options.modem, { recursive: true });
	const generated = mkdtempSync(join(tmpdir(), "device-config-"));
	mkdirSync(join(generated, "mc"));
	writeFileSync(join(generated, "mc", "config.js"), `export default Object.freeze(${JSON.stringify(config)});\n`);
	const args = [
		...(app.manifest ? creationOptions(app.manifest, "lin", 32) : []),
		...(options.timeout !== undefined ? ["--timeout", String(options.timeout)] : []),
		"--state", resolve(options.modem),
		"--modules", join(root, "build", "modules"),
		"--modules", generated,
		app.main,
	];
	return { command: host_, args, cleanup: () => rmSync(generated, { recursive: true, force: true }) };
}

function main(argv: string[]): void {
	const modem = option(argv, "--modem");
	const endpoint = option(argv, "--endpoint");
	if (modem === undefined || endpoint === undefined) throw new Error("usage: npm run device -- --modem DIR --endpoint HOST:PORT [--app DIR|FILE] [options]");
	const command = deviceCommand({
		modem, endpoint,
		app: option(argv, "--app"),
		hostname: option(argv, "--hostname"),
		secTag: wholeNumber(argv, "--sec-tag"),
		clientIdSource: option(argv, "--client-id-source"),
		clientId: option(argv, "--client-id"),
		rounds: wholeNumber(argv, "--rounds"),
		interval: wholeNumber(argv, "--interval"),
		retry: wholeNumber(argv, "--retry"),
		variant: option(argv, "--variant"),
		timeout: wholeNumber(argv, "--timeout"),
	});
	const child = spawn(command.command, command.args, { stdio: "inherit" });
	const stop = (signal: NodeJS.Signals) => child.kill(signal);
	process.on("SIGINT", stop);
	process.on("SIGTERM", stop);
	child.on("close", (status, signal) => {
		command.cleanup();
		process.exitCode = status ?? (signal ? 1 : 0);
	});
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		main(process.argv.slice(2));
	}
	catch (error) {
		console.error(`device: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 2;
	}
}
