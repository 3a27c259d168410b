/*
 * `npm run device -- --modem DIR --endpoint HOST:PORT [--app DIR|FILE] [options]`:
 * runs one simulated nRF9160 — the XS simulator host with its emulated modem
 * state in DIR (credentials only from the modem's security tag, written by
 * `npm run provision`) — running a firmware app, by default the example in
 * examples/tracker. The app's manifest "config" becomes its "mc/config"
 * module, as mcconfig makes it, with the endpoint and options below on top.
 * Several devices run at once with different modem directories.
 *
 *   --hostname NAME          TLS host name (SNI and certificate check); default: the endpoint host
 *   --sec-tag N              security tag of the credentials
 *   --client-id-source S     imei (default), internal-uuid, compile-time, runtime
 *   --client-id ID           for compile-time and runtime
 *   --rounds N               stop after N rounds of sensor data (default 0: run until stopped)
 *   --interval MS            between GPS messages (0: every fix of the receiver)
 *   --retry MS               first reconnect delay, doubled after each failure
 *   --variant NAME           simulator host build (release, debug, asan; with --moddable:
 *                            release, instrument, debug)
 *   --timeout SECONDS        wall-clock limit of the host
 *   --moddable               run the Moddable SDK's build of the host and the example firmware
 *                            (npm run build:moddable) instead of the xsnap build
 *   --max-restarts N         restarts after reboot requests before giving up (default: no limit)
 *   --gnss FILE              the NMEA log the GNSS receiver replays (default for the example
 *                            firmware: hosts/sim/gnss/drive.nmea)
 *   --gnss-offset N          start the replay at fix N
 *   --control                control lines on standard input: button N, flip NORMAL|UPSIDE_DOWN
 *
 * When the cloud refuses the device's client ID (connections closed before
 * CONNACK again and again, or a refusing CONNACK) the runner says so in one
 * line naming the ID and what to do (tools/device/refusal.ts).
 *
 * The runner is the device's supervisor (tools/lib/supervise.ts): when the host
 * exits with the reboot status 75 (DfuTarget.reboot()) it starts it again on
 * the same modem directory, so a scheduled update is applied; any other status
 * ends it, and is the runner's own.
 *
 * The one difference between the two builds here is how the app gets its
 * mc/config (configArguments): the xsnap build loads a generated mc/config.js
 * module per run; the Moddable build has the manifest's "config" compiled in and
 * takes the runner's settings on top as JSON with --config.
 */

import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { option, wholeNumber } from "../lib/args.js";
import { supervise, type SuperviseOptions, type Supervision } from "../lib/supervise.js";
import { creationOptions } from "../sim.js";
import { RefusalWatch, type RefusalDescription } from "./refusal.js";

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
	/** Run the Moddable build (build/moddable) instead of the xsnap simulator host. */
	moddable?: boolean;
	/** More options for the host (e.g. --memory-at TEXT), before the app. */
	hostOptions?: string[];
	/** More settings of the app's mc/config (appVersion, modemFotaWithoutReboot, ...). */
	settings?: Record<string, unknown>;
	/** Arguments for the app, after it (test firmwares read them). */
	appArgs?: string[];
	/** The NMEA log the GNSS receiver replays; default hosts/sim/gnss/drive.nmea for the example firmware, none for other apps. */
	gnss?: string;
	/** The fix of the log the replay starts at. */
	gnssOffset?: number;
	/** The host reads control lines on standard input (--control stdin); runDevice pipes it for Supervision.send(). */
	control?: boolean;
	/** Where the runner's own lines go (the refusal notice); default standard error. */
	log?: (line: string) => void;
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

/** The example firmware, the default app. */
export const EXAMPLE_APP = join(root, "examples", "tracker");
const EXAMPLE_GNSS = join(root, "hosts", "sim", "gnss", "drive.nmea");

/** The host's options for the device's inputs: the GNSS log and offset, the control channel. */
function inputArguments(options: DeviceOptions, example: boolean): string[] {
	const gnss = options.gnss ?? (example ? EXAMPLE_GNSS : undefined);
	if (options.gnssOffset !== undefined && (!Number.isInteger(options.gnssOffset) || options.gnssOffset < 0)) throw new RangeError("gnssOffset must be a whole number");
	if (options.gnssOffset !== undefined && gnss === undefined) throw new TypeError("gnssOffset needs a GNSS log (gnss)");
	if (gnss !== undefined && !existsSync(gnss)) throw new Error(`no NMEA log ${gnss}`);
	return [
		...(gnss !== undefined ? ["--gnss", resolve(gnss)] : []),
		...(options.gnssOffset !== undefined ? ["--gnss-offset", String(options.gnssOffset)] : []),
		...(options.control === true ? ["--control", "stdin"] : []),
	];
}
const MODDABLE_VARIANTS = ["release", "instrument", "debug"];

/** The Moddable build's program for the example firmware (tools/build-moddable.mjs makes it). */
export function moddableProgram(variant = "release"): string {
	if (!MODDABLE_VARIANTS.includes(variant)) throw new Error(`--variant for --moddable is one of ${MODDABLE_VARIANTS.join(", ")}, not ${variant}`);
	const manifest = JSON.parse(readFileSync(join(EXAMPLE_APP, "manifest.json"), "utf8")) as { build?: { NAME?: string } };
	return join(root, "build", "moddable", "bin", "lin", variant, manifest.build?.NAME ?? "app");
}

/**
 * How the app gets its mc/config, the one thing the two builds do differently:
 * `defaults` is the manifest's "config", `settings` the runner's on top.
 */
function configArguments(defaults: Record<string, unknown> | undefined, settings: Record<string, unknown>, moddable: boolean): { args: string[]; cleanup(): void } {
	if (moddable) return { args: ["--config", JSON.stringify(settings)], cleanup: () => {} };
	const generated = mkdtempSync(join(tmpdir(), "device-config-"));
	mkdirSync(join(generated, "mc"));
	writeFileSync(join(generated, "mc", "config.js"), `export default Object.freeze(${JSON.stringify({ ...defaults, ...settings })});\n`);
	return { args: ["--modules", generated], cleanup: () => rmSync(generated, { recursive: true, force: true }) };
}

/** The host program deviceCommand runs for these options. */
export function hostProgram(options: Pick<DeviceOptions, "moddable" | "variant">): string {
	const variant = options.variant ?? "release";
	return options.moddable === true ? moddableProgram(variant) : join(root, "build", "sim", variant, "sim");
}

export function deviceCommand(options: DeviceOptions): DeviceCommand {
	const { host, port } = parseEndpoint(options.endpoint);
	const moddable = options.moddable === true;
	if (moddable && options.app !== undefined && resolve(options.app) !== EXAMPLE_APP)
		throw new Error(`the Moddable build holds the example firmware (${relative(root, EXAMPLE_APP)}) only; --app cannot choose another with --moddable`);
	const app = moddable ? { main: undefined, manifest: join(EXAMPLE_APP, "manifest.json") } : locateApp(options.app ?? EXAMPLE_APP);
	const manifest = app.manifest ? JSON.parse(readFileSync(app.manifest, "utf8")) as { config?: Record<string, unknown> } : {};
	const settings: Record<string, unknown> = { ...options.settings, host, port };
	if (options.hostname !== undefined) settings.hostname = options.hostname;
	if (options.secTag !== undefined) settings.secTag = options.secTag;
	if (options.clientIdSource !== undefined) settings.clientIdSource = options.clientIdSource;
	if (options.clientId !== undefined) settings.clientId = options.clientId;
	if (options.rounds !== undefined) settings.rounds = options.rounds;
	if (options.interval !== undefined) settings.sendIntervalMs = options.interval;
	if (options.retry !== undefined) settings.retryMs = options.retry;
	const variant = options.variant ?? "release";
	const program = hostProgram(options);
	if (!existsSync(program)) throw new Error(moddable ? `no ${variant} Moddable build; run npm run build:moddable${variant === "release" ? "" : ` -- ${variant}`}` : `no ${variant} simulator host; run npm run build`);
	mkdirSync(options.modem, { recursive: true });
	const config = configArguments(manifest.config, settings, moddable);
	const args = [
		// The Moddable build has the manifest's creation (x-cli-lin) compiled in.
		...(app.manifest && !moddable ? creationOptions(app.manifest, "lin", 32) : []),
		...(options.timeout !== undefined ? ["--timeout", String(options.timeout)] : []),
		"--state", resolve(options.modem),
		...(moddable ? [] : ["--modules", join(root, "build", "modules")]),
		...config.args,
		...inputArguments(options, moddable || resolve(options.app ?? EXAMPLE_APP) === EXAMPLE_APP),
		...(options.hostOptions ?? []),
		...(app.main !== undefined ? [app.main] : []),
		...(options.appArgs ?? []),
	];
	return { command: program, args, cleanup: config.cleanup };
}

/**
 * Runs one device under supervision: the host, started again after every
 * reboot request with the same state. Tests use it to reboot and to kill the
 * host (`child`) and start it again.
 */
export function runDevice(options: DeviceOptions, supervision: SuperviseOptions = {}): Supervision {
	const command = deviceCommand(options);
	if (supervision.stdio !== "inherit") {
		const refusal = new RefusalWatch(() => refusalDescription(options), options.log ?? ((line) => console.error(line)));
		const onStdout = supervision.onStdout;
		supervision = { ...supervision, onStdout: (text, start) => { refusal.write(text); onStdout?.(text, start); } };
	}
	const running = supervise(command.command, command.args, { ...supervision, control: supervision.control ?? options.control === true });
	running.done.then(command.cleanup, command.cleanup);
	return running;
}

/** The common name of the client certificate in the modem's security tag, if there is one. */
function certificateName(modem: string, secTag: number): string | undefined {
	try {
		const subject = new X509Certificate(readFileSync(join(modem, "sectag", String(secTag), "1.pem"))).subject;
		return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
	}
	catch {
		return undefined;
	}
}

/** The client ID the device connects with (for the modem sources, from the modem's state) and what to do when it is refused. */
function refusalDescription(options: DeviceOptions): RefusalDescription {
	const source = options.clientIdSource ?? "imei";
	const read = (name: string) => {
		try { return readFileSync(join(options.modem, name), "utf8").trim(); } catch { return undefined; }
	};
	const imei = read("imei");
	const clientId = source === "imei" ? (imei === undefined ? undefined : `nrf-${imei}`) : source === "internal-uuid" ? undefined : options.clientId;
	const secTag = options.secTag ?? 16842753;
	const named = certificateName(options.modem, secTag);
	const provision = `npm run provision -- --cloud-state CLOUD_DIR --modem ${options.modem}`;
	if (named === undefined) return { clientId, advice: `The modem has no client certificate in security tag ${secTag}: provision it with ${provision}` };
	if (clientId !== undefined && named !== clientId)
		return { clientId, advice: `Its certificate (security tag ${secTag}) is for ${named}: provision the modem again with ${provision} (the ID is read from the modem)` };
	return { clientId: clientId ?? named, advice: `This cloud does not know the device's certificate: provision it with this cloud's state directory, ${provision}` };
}

function main(argv: string[]): void {
	const modem = option(argv, "--modem");
	const endpoint = option(argv, "--endpoint");
	if (modem === undefined || endpoint === undefined) throw new Error("usage: npm run device -- --modem DIR --endpoint HOST:PORT [--app DIR|FILE] [--moddable] [--max-restarts N] [--gnss FILE] [--gnss-offset N] [--control] [options]");
	const running = runDevice({
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
		moddable: argv.includes("--moddable"),
		gnss: option(argv, "--gnss"),
		gnssOffset: wholeNumber(argv, "--gnss-offset"),
		control: argv.includes("--control"),
	}, {
		// Piped and passed on, so the runner can notice a refused client ID.
		maxRestarts: wholeNumber(argv, "--max-restarts"), keepOutput: false,
		onStdout: (text) => process.stdout.write(text),
		onStderr: (text) => process.stderr.write(text),
	});
	const stop = (signal: NodeJS.Signals) => running.stop(signal);
	process.on("SIGINT", stop);
	process.on("SIGTERM", stop);
	running.done.then((run) => {
		process.exitCode = run.status ?? (run.signal ? 1 : 0);
	}, (error: unknown) => {
		console.error(`device: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 2;
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
