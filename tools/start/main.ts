/*
 * `npm start`: the product's front door. It brings the build up to date (the
 * prestart setup, or the setup itself when run directly; --no-build skips it),
 * starts the local nRF Cloud with its state in DIR/cloud, offers an APP update
 * of the example firmware one minor version up for FOTA, provisions the
 * simulated devices (tools/provision reads each ID from its emulated modem in
 * DIR/devices/<n>), starts them (the example firmware in the simulator host,
 * tools/device runDevice) and prints the dashboard's address on a line that
 * starts with `dashboard: http://`. Each device goes through JITP and asks to be
 * associated; the dashboard (or --auto-associate, through the REST API) brings
 * it to READY. The terminal shows each device's lines with its short ID and
 * colour (tools/start/terminal.ts) and takes keys (tools/start/keys.ts).
 *
 * Ctrl-C, `q` or SIGTERM stop everything: each device is asked to stop (its
 * host turns SIGTERM into a DISCONNECT and ends), the cloud writes its store,
 * and nothing is left running. A second start resumes with the same devices,
 * already associated; --fresh starts from zero. Options: tools/start/options.ts.
 */

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StepLine as StepLineClass } from "../progress.mjs";
import { startCloud, type RunningCloud } from "../cloud-sim/main.js";
import { runDevice } from "../device/main.js";
import type { Supervision } from "../lib/supervise.js";
import { fleetDevice, type FleetDevice } from "./fleet.js";
import { KEY_HELP, KeyMap } from "./keys.js";
import { USAGE, parseStartOptions, type StartOptions } from "./options.js";
import { DeviceLines, colourWanted } from "./terminal.js";
import { offerUpdate, updateVersions } from "./update-image.js";

const root = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..");
/** The NMEA log the simulator host replays as each device's GNSS receiver. */
const GNSS_LOG = join(root, "hosts", "sim", "gnss", "drive.nmea");
/** Fixes between two devices' places on the track, so a fleet does not drive in one spot. */
const GNSS_SPACING = 30;
/** How long a device has to say goodbye before its host is killed. */
const STOP_GRACE_MS = 10_000;

type StepLineConstructor = new (prefix: string, label: string) => StepLineClass;

interface RunningDevice {
	device: FleetDevice;
	index: number;
	supervision: Supervision;
	ready: boolean;
	waiting: boolean;
	ended: boolean;
}

function say(line: string): void {
	process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${line}\n` : `${line}\n`);
}

/** The setup (tools/setup.mjs) when npm did not run it as prestart; it prints its own steps. */
function build(): Promise<void> {
	return new Promise((resolvePromise, reject) => {
		const child = spawn(process.execPath, [join(root, "tools", "setup.mjs")], { cwd: root, stdio: "inherit" });
		child.on("error", reject);
		child.on("close", (status) => status === 0 ? resolvePromise() : reject(new Error(`the setup failed (status ${String(status)})`)));
	});
}

async function associate(cloud: RunningCloud, device: FleetDevice): Promise<void> {
	const { endpoints } = cloud;
	const response = await fetch(`http://127.0.0.1:${endpoints.httpPort}/v1/association/${encodeURIComponent(device.deviceId)}`, {
		method: "PUT", headers: { authorization: `Bearer ${endpoints.apiKey}` }, body: device.pin,
	});
	if (!response.ok && response.status !== 409) throw new Error(`PUT /v1/association/${device.deviceId}: ${response.status} ${await response.text()}`);
}

export async function start(options: StartOptions): Promise<void> {
	const { StepLine } = await import(pathToFileURL(join(root, "tools", "progress.mjs")).href) as { StepLine: StepLineConstructor };
	if (options.build && process.env.npm_lifecycle_event !== "start") await build();
	const cloudState = join(options.state, "cloud");
	if (options.fresh) {
		const step = new StepLine("start: ", `removing the state in ${options.state}`);
		rmSync(cloudState, { recursive: true, force: true });
		rmSync(join(options.state, "devices"), { recursive: true, force: true });
		step.done();
	}
	const lines = new DeviceLines({ write: say, colour: colourWanted(process.stdout), quiet: options.quiet });

	let step = new StepLine("start: ", `local nRF Cloud (state in ${cloudState})`);
	const cloud = await startCloud({
		state: cloudState, httpPort: options.httpPort, mqttPort: options.mqttPort, firmwarePort: options.firmwarePort,
		log: (line) => { if (!options.quiet) say(`cloud: ${line}`); },
	});
	const { endpoints } = cloud;
	step.done(`MQTT on ${endpoints.mqttHost}:${endpoints.mqttPort}, REST on port ${endpoints.httpPort}`);
	say(`dashboard: http://localhost:${endpoints.httpPort}/#key=${endpoints.apiKey}`);

	const devices: RunningDevice[] = [];
	let stopping: Promise<void> | undefined;
	const stopAll = (why: string): Promise<void> => {
		stopping ??= (async () => {
			say(`start: stopping (${why})`);
			if (process.stdin.isTTY) process.stdin.setRawMode(false);
			process.stdin.pause();
			await Promise.all(devices.map(async (running) => {
				if (running.ended) return;
				running.supervision.stop("SIGTERM");
				const kill = setTimeout(() => running.supervision.child.kill("SIGKILL"), STOP_GRACE_MS);
				await running.supervision.done.catch(() => undefined);
				clearTimeout(kill);
			}));
			await cloud.stop();
			say("start: stopped; the state is kept for the next start (--fresh starts from zero)");
		})();
		return stopping;
	};
	// Repeated signals (npm passes the terminal's on too) change nothing: the stop is under way.
	process.on("SIGINT", () => void stopAll("SIGINT"));
	process.on("SIGTERM", () => void stopAll("SIGTERM"));
	// The hosts have process groups of their own: whatever ends this process ends them too.
	process.on("exit", () => {
		for (const running of devices) if (!running.ended) running.supervision.child.kill("SIGKILL");
	});

	try {
		step = new StepLine("start: ", "update image for FOTA");
		const versions = updateVersions();
		const update = await offerUpdate(endpoints);
		step.done(`APP ${update.version} (devices run ${versions.running}) ${update.uploaded ? "uploaded" : "already uploaded"}, firmware id ${update.firmwareId}`);

		step = new StepLine("start: ", `provisioning ${options.devices} device${options.devices === 1 ? "" : "s"}`);
		const fleet: FleetDevice[] = [];
		for (let number = 1; number <= options.devices; number++) {
			fleet.push(fleetDevice(options.state, cloudState, number, (id) => cloud.cloud.store.provisionedPin(id) !== undefined));
			step.update(`${number}/${options.devices}`, number / options.devices);
		}
		const fresh = fleet.filter((device) => device.fresh).length;
		step.done(`${fresh} new, ${fleet.length - fresh} resumed`);
		for (const [index, device] of fleet.entries())
			say(`${lines.label(index, device.deviceId)} device ${device.number}: ${device.deviceId} (PIN ${device.pin}), modem ${device.modem}`);
		if (stopping) return;

		step = new StepLine("start: ", "devices connecting");
		const progress = () => {
			const ready = devices.filter((d) => d.ready).length;
			const waiting = devices.filter((d) => d.waiting && !d.ready).length;
			step.update(`${ready}/${devices.length} READY${waiting ? `, ${waiting} waiting for association` : ""}`, ready / devices.length);
			if (devices.every((d) => d.ready || d.waiting || d.ended)) step.done(`${ready}/${devices.length} READY${waiting ? `, ${waiting} waiting for association` : ""}`);
		};
		for (const [index, device] of fleet.entries()) {
			const running: RunningDevice = { device, index, ready: false, waiting: false, ended: false, supervision: undefined as unknown as Supervision };
			const watch = (text: string) => {
				if (/^nrf_cloud: READY \(/m.test(text)) { running.ready = true; running.waiting = false; progress(); }
				if (/^nrf_cloud: TRANSPORT_DISCONNECTED \(/m.test(text)) running.ready = false;
				if (/^nrf_cloud: USER_ASSOCIATION_REQUEST \(/m.test(text)) {
					running.waiting = true;
					progress();
					if (options.autoAssociate) {
						say(`${lines.label(index, device.deviceId)} associating ${device.deviceId} through the REST API`);
						associate(cloud, device).catch((error: unknown) => say(`${lines.label(index, device.deviceId)} association failed: ${error instanceof Error ? error.message : String(error)}`));
					}
					else say(`${lines.label(index, device.deviceId)} waiting for association: add ${device.deviceId} on the dashboard (PIN ${device.pin})`);
				}
			};
			running.supervision = runDevice({
				modem: device.modem, endpoint: `${endpoints.mqttHost}:${endpoints.mqttPort}`, control: true,
				gnss: GNSS_LOG, gnssOffset: index * GNSS_SPACING,
				log: (line) => lines.line(index, device.deviceId, line),
			}, {
				keepOutput: false, detached: true,
				log: (line) => lines.line(index, device.deviceId, line),
				onStdout: (text) => { lines.output(index, device.deviceId, "stdout", text); watch(text); },
				onStderr: (text) => lines.output(index, device.deviceId, "stderr", text),
			});
			devices.push(running);
			running.supervision.done.then((run) => {
				running.ended = true;
				if (!stopping) {
					lines.line(index, device.deviceId, `device: ended (${run.signal ?? `status ${String(run.status)}`})`);
					progress();
					if (devices.every((d) => d.ended)) void stopAll("every device ended");
				}
			}, (error: unknown) => {
				running.ended = true;
				lines.line(index, device.deviceId, `device: could not run: ${error instanceof Error ? error.message : String(error)}`);
			});
		}
		progress();
		if (process.stdin.isTTY) listenToKeys(devices, stopAll, lines);
	}
	catch (error) {
		await stopAll(`failed: ${error instanceof Error ? error.message : String(error)}`);
		throw error;
	}
	await new Promise<void>((resolvePromise) => {
		const wait = () => stopping ? stopping.then(resolvePromise) : setTimeout(wait, 100);
		wait();
	});
}

function listenToKeys(devices: RunningDevice[], stopAll: (why: string) => Promise<void>, lines: DeviceLines): void {
	const keys = new KeyMap(devices.length);
	say(KEY_HELP);
	process.stdin.setRawMode(true);
	process.stdin.setEncoding("utf8");
	process.stdin.on("data", (chunk: string) => {
		for (const key of chunk) {
			const action = keys.press(key);
			switch (action.kind) {
				case "quit":
					void stopAll(key === "q" ? "q" : "Ctrl-C");
					return;
				case "help":
					say(KEY_HELP);
					break;
				case "choose":
					say(action.device === undefined ? "keys: all devices" : `keys: device ${action.device + 1} (${devices[action.device]!.device.deviceId})`);
					break;
				case "send":
					for (const index of action.devices) {
						const running = devices[index]!;
						if (running.ended) continue;
						const line = action.line(index);
						running.supervision.send(line);
						lines.line(index, running.device.deviceId, `key: ${line}`);
					}
					break;
				default:
			}
		}
	});
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const argv = process.argv.slice(2);
	if (argv.includes("--help")) console.log(USAGE);
	else {
		try {
			await start(parseStartOptions(argv, root));
		}
		catch (error) {
			console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
			process.exitCode = 1;
		}
	}
}
