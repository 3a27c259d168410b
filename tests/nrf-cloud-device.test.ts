/*
 * The library in XS on the simulator host, inside the example firmware run by
 * `npm run device`, against the local nRF Cloud over mutual TLS with
 * credentials from the emulated modem's security tag. It walks the sequence
 * charts of docs/protocol.md §1.8 (§1.8.2, an unassociated device, with the
 * JITP rejection of §1.8.1 before it; §1.8.3, an associated device), sends
 * GPS data (the GGA of the replayed drive's first fix) and the FLIP state, and
 * the cloud must store those messages byte for byte. Two devices run at once in the second part.
 *
 * The charts run on the xsnap build of the host, and again on the Moddable
 * SDK's build (npm run build:moddable, the firmware compiled by mcconfig, xsc
 * and xsl) when $MODDABLE is set; without it those tests are skipped and say so.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { deviceCommand } from "../tools/device/main.js";
import { provisionModemDevice, restClient } from "./support/cloud.js";
import { ensureModdable, MODDABLE_SKIP } from "./support/moddable.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

let dir: string;
let running: RunningCloud;
const rest = restClient(() => running.endpoints);

interface Device {
	id: string;
	modem: string;
	pin: string;
}

/** The two builds of the host the charts run on, each with devices of its own. */
interface Engine {
	name: string;
	moddable: boolean;
	skip: string | false;
	imeis: [string, string];
	devices: Record<string, Device>;
}

const ENGINES: Engine[] = [
	{ name: "xsnap build", moddable: false, skip: false, imeis: ["352656100441776", "352656101397613"], devices: {} },
	{ name: "Moddable build", moddable: true, skip: MODDABLE_SKIP, imeis: ["352656102000018", "352656102000026"], devices: {} },
];

class RunningDevice {
	output = "";
	readonly exited: Promise<number | null>;
	readonly #cleanup: () => void;

	constructor(engine: Engine, device: Device, rounds: number) {
		const command = deviceCommand({ modem: device.modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`, rounds, timeout: 60, moddable: engine.moddable });
		this.#cleanup = command.cleanup;
		const child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe"] });
		child.stdout.on("data", (d: Buffer) => { this.output += d.toString(); });
		child.stderr.on("data", (d: Buffer) => { this.output += d.toString(); });
		this.exited = new Promise((resolve) => child.on("close", (status) => { this.#cleanup(); resolve(status); }));
	}

	/** The library events the app printed, as "NAME status". */
	events(): string[] {
		return [...this.output.matchAll(/^nrf_cloud: ([A-Z_]+) \((\d+)\) status (-?\d+)/gm)].map((m) => `${m[1]} ${m[3]}`);
	}

	async waitForLine(pattern: RegExp, ms = 30000): Promise<void> {
		await until(() => pattern.test(this.output), { what: String(pattern), timeout: ms, interval: 50, detail: () => `output:\n${this.output}` });
	}
}

function makeDevice(name: string, imei: string): Device {
	return provisionModemDevice(dir, name, imei);
}

before(async () => {
	ensureSim("release");
	if (!MODDABLE_SKIP) ensureModdable("release");
	dir = mkdtempSync(join(tmpdir(), "nrf-cloud-device-"));
	running = await startCloud({ state: join(dir, "cloud") });
	for (const engine of ENGINES) {
		if (engine.skip) continue;
		const tag = engine.moddable ? "moddable-" : "";
		engine.devices.a = makeDevice(`${tag}modem-a`, engine.imeis[0]);
		engine.devices.b = makeDevice(`${tag}modem-b`, engine.imeis[1]);
	}
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

/** The GGA sentence of the first fix of the drive the simulator host replays (hosts/sim/gnss/drive.nmea). */
const FIRST_GGA = readFileSync(join(process.cwd(), "hosts", "sim", "gnss", "drive.nmea"), "utf8").split("\r\n").find((line) => line.startsWith("$GPGGA,"))!;

/** The messages of the app's first round, as the C library encodes them: the FLIP state at READY and the GGA of the first fix. */
const FIRST_ROUND = [
	`{"appId":"GPS","data":"${FIRST_GGA}","messageType":"DATA"}`,
	'{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}',
];

function storedPayloads(id: string): string[] {
	return running.cloud.store.messages({ deviceId: id, direction: "d2c", limit: 100 }).map((m) => m.payload);
}

async function associate(device: RunningDevice, id: string, pin: string): Promise<void> {
	await device.waitForLine(/USER_ASSOCIATION_REQUEST/);
	const response = await rest("PUT", `/v1/association/${id}`, pin);
	assert.equal(response.status, 202);
}

for (const engine of ENGINES) {
	test(`${engine.name}: an unassociated device: JITP rejection, then the chart of docs/protocol.md §1.8.2, then GPS and FLIP data stored byte for byte`, { skip: engine.skip }, async () => {
		const { id, pin } = engine.devices.a!;
		const device = new RunningDevice(engine, engine.devices.a!, 1);
		await associate(device, id, pin);
		assert.equal(await device.exited, 0, device.output);
		assert.deepEqual(device.events(), [
			// The first connection of a new certificate is refused by JITP (V28); the app connects again.
			"TRANSPORT_CONNECTING 0", "TRANSPORT_DISCONNECTED 2",
			// docs/protocol.md §1.8.2.
			"TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATION_REQUEST 0", "USER_ASSOCIATED 0", "TRANSPORT_DISCONNECTED 0",
			"TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATED 0", "READY 0",
			"SENSOR_ATTACHED 0", "SENSOR_ATTACHED 0", "SENSOR_DATA_ACK 0", "SENSOR_DATA_ACK 0", "TRANSPORT_DISCONNECTED 0",
		]);
		assert.deepEqual(storedPayloads(id).sort(), [...FIRST_ROUND].sort());
		const shadow = (await rest("GET", `/v1/devices/${id}`)).json;
		assert.deepEqual(shadow.state.reported.device, { serviceInfo: { ui: ["GPS", "FLIP"], fota_v2: ["APP", "MODEM", "BOOT"] }, deviceInfo: { appVersion: "1.0.0+0" } });
		assert.equal(shadow.state.reported.pairing.state, "paired");
		assert.equal(shadow.state.reported.connection.keepalive, 1200);
	});

	test(`${engine.name}: two devices at once: the associated one follows docs/protocol.md §1.8.3, the new one §1.8.2`, { skip: engine.skip }, async () => {
		const a = new RunningDevice(engine, engine.devices.a!, 1);
		const b = new RunningDevice(engine, engine.devices.b!, 1);
		await associate(b, engine.devices.b!.id, engine.devices.b!.pin);
		const [statusA, statusB] = await Promise.all([a.exited, b.exited]);
		assert.equal(statusA, 0, a.output);
		assert.equal(statusB, 0, b.output);
		// docs/protocol.md §1.8.3. The first run recorded p_sesh on a clean session, which the
		// broker dropped at its end: this CONNECT asks to resume, gets no session and subscribes again.
		assert.deepEqual(a.events().slice(0, 4), ["TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATED 0", "READY 0"]);
		assert.deepEqual(b.events().slice(0, 11), [
			"TRANSPORT_CONNECTING 0", "TRANSPORT_DISCONNECTED 2",
			"TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATION_REQUEST 0", "USER_ASSOCIATED 0", "TRANSPORT_DISCONNECTED 0",
			"TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATED 0", "READY 0",
		]);
		assert.deepEqual(storedPayloads(engine.devices.a!.id).sort(), [...FIRST_ROUND, ...FIRST_ROUND].sort());
		assert.deepEqual(storedPayloads(engine.devices.b!.id).sort(), [...FIRST_ROUND].sort());
	});

	test(`${engine.name}: the next connection resumes the persistent session: TRANSPORT_CONNECTED with status 1, then USER_ASSOCIATED and READY`, { skip: engine.skip }, async () => {
		const a = new RunningDevice(engine, engine.devices.a!, 1);
		assert.equal(await a.exited, 0, a.output);
		assert.deepEqual(a.events(), [
			"TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 1", "USER_ASSOCIATED 0", "READY 0",
			"SENSOR_ATTACHED 0", "SENSOR_ATTACHED 0", "SENSOR_DATA_ACK 0", "SENSOR_DATA_ACK 0", "TRANSPORT_DISCONNECTED 0",
		]);
		assert.equal(storedPayloads(engine.devices.a!.id).length, 3 * FIRST_ROUND.length);
	});

	test(`${engine.name}: with nothing listening, the example firmware retries with exponential backoff`, { skip: engine.skip }, async () => {
		const server = net.createServer();
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const port = (server.address() as net.AddressInfo).port;
		await new Promise<void>((resolve) => server.close(() => resolve()));
		const command = deviceCommand({ modem: engine.devices.a!.modem, endpoint: `127.0.0.1:${port}`, hostname: "localhost", retry: 40, timeout: 2, moddable: engine.moddable });
		const result = spawnSync(command.command, command.args, { encoding: "utf8" });
		command.cleanup();
		assert.equal(result.status, 6, "ended by the wall-clock limit");
		const delays = [...result.stdout.matchAll(/^app: connecting in (\d+) ms$/gm)].map((m) => Number(m[1]));
		assert.deepEqual(delays.slice(0, 5), [0, 40, 80, 160, 320]);
		assert.match(result.stdout, /TRANSPORT_CONNECTING \(2\) status -\d+/);
	});
}
