/*
 * The local nRF Cloud's dashboard in headless Chromium (Debian's, driven by
 * playwright-core): a device appears after its JITP connection, is associated
 * with a click, its GPS track (from NMEA sentences), FLIP state and FOTA progress
 * show up live. The screenshot is kept in test-artifacts/dashboard.png.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { MqttClient } from "../modules/mqtt/client.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { provision } from "../tools/provision/main.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100000033";
let dir: string;
let running: RunningCloud;
let browser: Browser;

function device(): { client: MqttClient; connected: Promise<boolean>; closed: Promise<unknown> } {
	let onConnected!: (v: boolean) => void;
	let onClosed!: (e: unknown) => void;
	const connected = new Promise<boolean>((resolve) => { onConnected = resolve; });
	const closed = new Promise((resolve) => { onClosed = resolve; });
	const client = new MqttClient({ clientId: DEVICE, keepalive: 60, onConnect: () => onConnected(true), onClose: (e) => { onConnected(false); onClosed(e); } });
	client.connect(nodeSocket({
		host: "127.0.0.1", port: running.endpoints.mqttPort,
		tls: { ca: readFileSync(join(dir, "out", "ca.pem")), cert: readFileSync(join(dir, "out", `${DEVICE}.pem`)), key: readFileSync(join(dir, "out", `${DEVICE}.key`)), servername: "localhost" },
	}));
	return { client, connected, closed };
}

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-dashboard-"));
	running = await startCloud({ state: join(dir, "cloud") });
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, out: join(dir, "out") });
	browser = await chromium.launch({
		executablePath: "/usr/bin/chromium",
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
});

after(async () => {
	await browser?.close();
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("dashboard: a device appears, is associated by a click, and its GPS track, FLIP state and FOTA progress show", async () => {
	const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
	const errors: string[] = [];
	page.on("pageerror", (error) => errors.push(error.message));
	await page.goto(`http://127.0.0.1:${running.endpoints.httpPort}/#key=${running.endpoints.apiKey}`);
	await page.waitForSelector("#live:text('live')");
	assert.equal(await page.locator("#no-devices").isVisible(), true);

	const jitp = device();
	assert.equal(await jitp.connected, false, "the first connection is refused (JITP)");
	const row = page.locator(`tr[data-device="${DEVICE}"]`);
	await row.waitFor();
	assert.equal(await row.locator("[data-field=association]").textContent(), "not associated");

	await row.locator("button[data-action=associate]").click();
	await page.waitForSelector(`tr[data-device="${DEVICE}"] [data-field=association]:text-is("associated")`);
	assert.equal((await (await fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/devices/${DEVICE}`, { headers: { authorization: `Bearer ${running.endpoints.apiKey}` } })).json()).associated, true);

	const live = device();
	assert.equal(await live.connected, true);
	await page.waitForSelector(`tr[data-device="${DEVICE}"] [data-field=connection]:text-is("connected")`);
	const d2c = `${running.endpoints.topicPrefix}m/d/${DEVICE}/d2c`;
	const sentences = [
		"$GPGGA,123519,6325.1230,N,01025.4560,E,1,08,0.9,545.4,M,46.9,M,,*47",
		"$GPGGA,123529,6325.2100,N,01025.6000,E,1,08,0.9,545.4,M,46.9,M,,*47",
		"$GPGGA,123539,6325.3300,N,01025.5200,E,1,08,0.9,545.4,M,46.9,M,,*47",
	];
	for (const data of sentences) live.client.publish(d2c, JSON.stringify({ appId: "GPS", messageType: "DATA", data }), { qos: 1 });
	live.client.publish(d2c, JSON.stringify({ appId: "FLIP", messageType: "DATA", data: "UPSIDE_DOWN" }), { qos: 1 });
	await page.waitForFunction(() => document.querySelectorAll("circle.gps-point").length === 3);
	await page.waitForSelector("#flip:text-is('UPSIDE_DOWN')");
	assert.match((await page.locator("#track-info").textContent()) ?? "", /^3 points; last 63\.42217, 10\.42533$/);

	live.client.publish(`$aws/things/${DEVICE}/shadow/update`, JSON.stringify({ state: { reported: { device: { serviceInfo: { fota_v2: ["APP"] } } } } }), { qos: 1 });
	const headers = { authorization: `Bearer ${running.endpoints.apiKey}` };
	const base = `http://127.0.0.1:${running.endpoints.httpPort}`;
	// A job is only made for a device whose shadow lists the firmware type.
	await until(async () => {
		const shadow = await (await fetch(`${base}/v1/devices/${DEVICE}`, { headers })).json();
		return shadow.state.reported.device?.serviceInfo?.fota_v2?.includes("APP") === true;
	}, { what: "APP in the reported fota_v2" });
	const firmware = await (await fetch(`${base}/v1/firmwares?type=APP&version=1.1.0&filename=app.bin`, { method: "POST", headers, body: new Uint8Array(mcubootImage(Buffer.alloc(100), { major: 1, minor: 1, revision: 0, build: 0 })) })).json();
	const job = await (await fetch(`${base}/v1/fota-jobs`, { method: "POST", headers, body: JSON.stringify({ firmwareId: firmware.id, deviceIds: [DEVICE] }) })).json();
	live.client.publish(`${running.endpoints.topicPrefix}${DEVICE}/jobs/update`, JSON.stringify([job.jobId, 7, 40]), { qos: 1 });
	await page.waitForSelector(`tr[data-job="${job.jobId}"] [data-field=status]:text-is("DOWNLOADING")`);
	assert.equal(await page.locator(`tr[data-job="${job.jobId}"] progress`).getAttribute("value"), "40");

	mkdirSync(join(root, "test-artifacts"), { recursive: true });
	await page.screenshot({ path: join(root, "test-artifacts", "dashboard.png"), fullPage: true });
	assert.deepEqual(errors, []);
	live.client.disconnect();
	await live.closed;
	await page.close();
});

test("the dashboard without its key says how to open it", async () => {
	const page = await browser.newPage();
	await page.goto(`http://127.0.0.1:${running.endpoints.httpPort}/`);
	await page.waitForSelector("text=Cannot reach the API");
	await page.close();
});
