/*
 * The local nRF Cloud's dashboard in headless Chromium (Debian's, driven by
 * playwright-core): a device (an MQTT client here; tests/dashboard-fleet.test.ts
 * runs real devices) appears after its JITP connection, is associated with a
 * click, its position and track (from GGA sentences, bad ones left out), FLIP,
 * LED and button state, the event log and FOTA progress show up live, and the
 * LED button sends the toggle of the reported LED state; firmware is uploaded with the page's form, a job made for a
 * device and for a group, the progress a device reports is pushed to the page,
 * and the job is cancelled with its button. The screenshots are kept in
 * test-artifacts/dashboard.png and test-artifacts/dashboard-fota.png.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { MqttClient } from "../modules/mqtt/client.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { nmeaChecksum } from "../tools/cloud-sim/gga.js";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { provision } from "../tools/provision/main.js";
import { connectDevice, requestJob, restClient, subscribeDevice } from "./support/cloud.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100000033";
let dir: string;
let running: RunningCloud;
let browser: Browser;

/** A GGA sentence with its checksum. */
function gga(fields: string): string {
	const body = `GPGGA,${fields}`;
	return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, "0")}`;
}

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

/** Keeps a screenshot of the page in test-artifacts, checks that the page threw nothing, and closes device and page. */
async function finish(page: Page, screenshot: string, errors: string[], device: { client: MqttClient; closed: Promise<unknown> }): Promise<void> {
	mkdirSync(join(root, "test-artifacts"), { recursive: true });
	await page.screenshot({ path: join(root, "test-artifacts", screenshot), fullPage: true });
	assert.deepEqual(errors, []);
	device.client.disconnect();
	await device.closed;
	await page.close();
}

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-dashboard-"));
	running = await startCloud({ state: join(dir, "cloud") });
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, clientIdSource: "compile-time", out: join(dir, "out") });
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

test("dashboard: a device appears, is associated by a click, and its track, FLIP, LED and button state, events and FOTA progress show", async () => {
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
		gga("123519,6325.1230,N,01025.4560,E,1,08,0.9,545.4,M,46.9,M,,"),
		gga("123529,6325.2100,N,01025.6000,E,1,08,0.9,545.4,M,46.9,M,,"),
		// a damaged checksum and a sentence without a fix are no position
		gga("123534,6325.9000,N,01025.9000,E,1,08,0.9,545.4,M,46.9,M,,").replace(/\*..$/, "*00"),
		gga("123536,6325.9000,N,01025.9000,E,0,00,,,M,,M,,"),
		gga("123539,6325.3300,N,01025.5200,E,1,08,0.9,545.4,M,46.9,M,,"),
	];
	for (const data of sentences) live.client.publish(d2c, JSON.stringify({ appId: "GPS", messageType: "DATA", data }), { qos: 1 });
	live.client.publish(d2c, JSON.stringify({ appId: "FLIP", messageType: "DATA", data: "UPSIDE_DOWN" }), { qos: 1 });
	live.client.publish(d2c, JSON.stringify({ appId: "BUTTON", messageType: "DATA", data: "2" }), { qos: 1 });
	live.client.publish(d2c, JSON.stringify({ appId: "LED", messageType: "DATA", data: { state: 1 } }), { qos: 1 });
	await page.waitForSelector("#map[data-points='3'][data-tracks='1']");
	await row.locator("[data-field=led]:text-is('on')").waitFor();
	assert.equal(await row.locator("[data-field=flip]").textContent(), "UPSIDE_DOWN");
	assert.equal(await row.locator("[data-field=position]").textContent(), "63.42217, 10.42533");
	assert.match((await row.locator("[data-field=button]").textContent()) ?? "", /^2 at \d\d:\d\d:\d\d$/);
	// every message is logged, the bad sentences too
	await page.waitForFunction(() => document.querySelectorAll("#event-log li[data-kind=message]").length === 8);
	assert.equal(await page.locator("#event-log li[data-kind=association]").count(), 1);
	// the LED button sends the toggle of the reported state
	await row.locator("button[data-action=led]:text-is('LED off')").click();
	await row.locator("[data-field=led]:text-is('on (asked off)')").waitFor();
	const c2d = await (await fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/messages?direction=c2d&deviceId=${DEVICE}`, { headers: { authorization: `Bearer ${running.endpoints.apiKey}` } })).json();
	assert.deepEqual(c2d.items.map((m: { message: unknown }) => m.message), [{ appId: "LED", messageType: "CFG_SET", data: { state: 0 } }]);

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

	await finish(page, "dashboard.png", errors, live);
});

test("dashboard FOTA: upload with the form, a job for a device, live progress from the device, cancel, a job for a group", async () => {
	const id = "nrf-352656100000034";
	const rest = restClient(() => running.endpoints);
	const prefix = running.endpoints.topicPrefix;
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem-2"), deviceId: id, clientIdSource: "compile-time", out: join(dir, "out") });
	await connectDevice({ dir, port: running.endpoints.mqttPort, id }).closed;	// JITP
	assert.equal((await rest("PUT", `/v1/association/${id}`, JSON.stringify(id))).status, 202);
	assert.equal((await rest("PATCH", `/v1/devices/${id}/state`, { reported: { device: { serviceInfo: { fota_v2: ["APP", "MODEM"] } } } })).status, 202);
	assert.equal((await rest("PUT", `/v1/devices/${id}/tags`, ["fleet-a"])).status, 202);
	const d = connectDevice({ dir, port: running.endpoints.mqttPort, id });
	await d.connected;
	await subscribeDevice(d, `${prefix}${id}/jobs/rcv`);
	await subscribeDevice(d, `${id}/shadow/get/accepted`);

	const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
	const errors: string[] = [];
	page.on("pageerror", (error) => errors.push(error.message));
	await page.goto(`http://127.0.0.1:${running.endpoints.httpPort}/#key=${running.endpoints.apiKey}`);
	await page.waitForSelector("#live:text('live')");
	await page.waitForSelector(`tr[data-device="${id}"] [data-field=tags]:text-is("fleet-a")`);

	const file = join(dir, "app-3.0.0.bin");
	const image = mcubootImage(Buffer.alloc(4000, 5), { major: 3, minor: 0, revision: 0, build: 0 });
	writeFileSync(file, image);
	// a refused upload says why
	await page.selectOption("#upload-form select[name=type]", "MODEM");
	await page.fill("#upload-form input[name=version]", "mfw-1");
	await page.setInputFiles("#upload-file", file);
	await page.click("#upload-form button[type=submit]");
	await page.waitForSelector("#upload-result:has-text('refused: a MODEM delta needs its sha256')");
	await page.selectOption("#upload-form select[name=type]", "APP");
	await page.fill("#upload-form input[name=version]", "3.0.0");
	await page.setInputFiles("#upload-file", file);
	await page.click("#upload-form button[type=submit]");
	await page.waitForSelector(`#upload-result:has-text('uploaded APP 3.0.0: app-3.0.0.bin (${image.length} bytes)')`);
	const firmware = (await rest("GET", "/v1/firmwares")).json.items.find((f: { version: string }) => f.version === "3.0.0");
	assert.equal(await page.inputValue("#job-firmware"), firmware.id, "the new upload is chosen for the next job");

	await page.selectOption("#job-device", id);
	await page.click("#job-form button[type=submit]");
	await page.waitForSelector(`#job-result:has-text('for ${id}')`);
	const jobId = (await rest("GET", "/v1/fota-jobs")).json.items.find((j: { firmwareId: string }) => j.firmwareId === firmware.id).jobId;
	const row = page.locator(`tr[data-job="${jobId}"][data-execution="${id}"]`);
	await row.locator("[data-field=status]:text-is('QUEUED')").waitFor();

	d.client.publish(`${prefix}${id}/jobs/req`, '[""]', { qos: 1 });
	const document = await until(() => d.messages.find((m) => m.topic.endsWith("/jobs/rcv")), { what: "the job document" });
	assert.equal(JSON.parse(new TextDecoder().decode(document.payload))[0], jobId);
	for (const progress of [0, 30, 60]) d.client.publish(`${prefix}${id}/jobs/update`, JSON.stringify([jobId, 7, progress]), { qos: 1 });
	await row.locator("[data-field=progress]:text-is('60 %')").waitFor();
	assert.equal(await row.locator("[data-field=status]").textContent(), "DOWNLOADING");
	assert.equal(await row.locator("progress").getAttribute("value"), "60");

	await row.locator("button[data-action=cancel]").click();
	await row.locator("[data-field=status]:text-is('CANCELLED')").waitFor();
	assert.equal(await row.locator("[data-field=job-status]").textContent(), "CANCELLED");
	assert.equal(await row.locator("button[data-action=cancel]").count(), 0, "no cancel button on a cancelled job");
	assert.equal(await row.locator("[data-field=progress]").textContent(), "60 %", "the progress reached stays shown");
	assert.deepEqual(await requestJob(d, id, prefix), [`${id}/shadow/get/accepted`], "the cancelled job is not delivered again");

	await page.selectOption("#job-device", "");
	await page.fill("#job-tag", "fleet-a");
	await page.click("#job-form button[type=submit]");
	await page.waitForSelector(`#job-result:has-text('for ${id}')`);
	const groupJob = (await rest("GET", "/v1/fota-jobs")).json.items.find((j: { target: { tags: string[] } }) => j.target.tags.includes("fleet-a"));
	await page.locator(`tr[data-job="${groupJob.jobId}"][data-execution="${id}"] [data-field=status]:text-is('QUEUED')`).waitFor();

	await finish(page, "dashboard-fota.png", errors, d);
});

test("the dashboard without its key says how to open it", async () => {
	const page = await browser.newPage();
	await page.goto(`http://127.0.0.1:${running.endpoints.httpPort}/`);
	await page.waitForSelector("text=Cannot reach the API");
	await page.close();
});
