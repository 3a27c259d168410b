/*
 * The dashboard as the window on a fleet: two simulated nRF9160s (the example
 * firmware in XS on the simulator host, tools/device/main.ts runDevice) against
 * the local nRF Cloud, the page in headless Chromium. The devices appear after
 * their JITP connection, are associated with the page's buttons, show their
 * firmware version, position, FLIP state and connection; the map canvas draws a
 * track per device (its points counted, pixels of each device's colour read
 * back); the event log
 * receives live events; the LED button makes the cloud send the LED CFG_SET to
 * that device. A screenshot is kept in build/test-artifacts/dashboard.png.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { runDevice } from "../tools/device/main.js";
import type { Supervision } from "../tools/lib/supervise.js";
import { provisionModemDevice, restClient, type ModemDevice } from "./support/cloud.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const INTERVAL_MS = 500;
let dir: string;
let running: RunningCloud;
let browser: Browser;
const rest = restClient(() => running.endpoints);

interface FleetDevice extends ModemDevice {
	version: string;
	supervision: Supervision;
	output: string;
}

const fleet: FleetDevice[] = [];

function start(name: string, imei: string, version: string): FleetDevice {
	const modem = provisionModemDevice(dir, name, imei);
	const device = { ...modem, version, output: "" } as FleetDevice;
	device.supervision = runDevice({
		modem: modem.modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`,
		interval: INTERVAL_MS, retry: 200, timeout: 120, settings: { appVersion: version },
	}, { onStdout: (text) => { device.output += text; }, log: () => undefined });
	return device;
}

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "dashboard-fleet-"));
	running = await startCloud({ state: join(dir, "cloud") });
	browser = await chromium.launch({
		executablePath: "/usr/bin/chromium",
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
});

after(async () => {
	for (const device of fleet) {
		device.supervision.stop("SIGTERM");
		await device.supervision.done.catch(() => undefined);
	}
	await browser?.close();
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

/** Pixels of the canvas within a small distance of `hex`. */
function countColour(hex: string): string {
	return `(() => {
		const canvas = document.getElementById("map");
		const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
		const want = [${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)}];
		let count = 0;
		for (let i = 0; i < data.length; i += 4)
			if (Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]) < 30) count++;
		return count;
	})()`;
}

test("dashboard fleet: real devices appear, are associated by clicks, and show state, version, tracks, live events; the LED button reaches the device", async (t) => {
	const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
	const errors: string[] = [];
	page.on("pageerror", (error) => errors.push(error.message));
	await page.goto(`http://127.0.0.1:${running.endpoints.httpPort}/#key=${running.endpoints.apiKey}`);
	await page.waitForSelector("#live:text('live')");

	fleet.push(start("a", "352656100000101", "1.4.0+7"), start("b", "352656100000102", "2.0.1+3"));
	const detail = () => fleet.map((d) => `${d.id}:\n${d.output}`).join("\n");
	for (const device of fleet) {
		// after the JITP refusal the device connects again and waits to be associated
		await until(() => /USER_ASSOCIATION_REQUEST/.test(device.output), { what: `${device.id}'s association request`, timeout: 30000, detail });
		const row = page.locator(`tr[data-device="${device.id}"]`);
		await row.locator("[data-field=association]:text-is('waiting for association')").waitFor({ timeout: 10000 });
		await row.locator("button[data-action=associate]").click();
	}

	for (const device of fleet) {
		const row = page.locator(`tr[data-device="${device.id}"]`);
		await row.locator(`[data-field=version]:text-is('${device.version}')`).waitFor({ timeout: 60000 }).catch((error: unknown) => {
			throw new Error(`${device.id} never showed version ${device.version}: ${error instanceof Error ? error.message : String(error)}\n${detail()}`);
		});
		await row.locator("[data-field=position]:text-matches('^-?\\\\d+\\\\.\\\\d{5}, -?\\\\d+\\\\.\\\\d{5}$')").waitFor({ timeout: 20000 });
		await row.locator("[data-field=flip]:text-matches('^(NORMAL|UPSIDE_DOWN)$')").waitFor();
		assert.equal(await row.locator("[data-field=connection]").textContent(), "connected");
		assert.equal(await row.locator("[data-field=association]").textContent(), "associated");
		// the position shown is one of the device's track (it moves on meanwhile)
		const shown = await row.locator("[data-field=position]").textContent();
		const track = (await rest("GET", `/v1/devices/${device.id}/track`)).json.items as { lat: number; lon: number }[];
		assert.ok(track.some((p) => `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}` === shown), `${shown} in ${JSON.stringify(track)}`);
		for (const kind of ["association", "connection"])
			assert.ok(await page.locator(`#event-log li[data-kind=${kind}][data-device="${device.id}"]`).count() > 0, `${kind} events of ${device.id}`);
	}

	// the map draws a track per device, in the colour of the device's swatch
	await page.waitForFunction(() => {
		const map = document.getElementById("map")!;
		return map.dataset.tracks === "2" && Number(map.dataset.points) >= 6;
	}, undefined, { timeout: 20000 });
	let total = 0;
	for (const device of fleet) {
		// read at once: the table is drawn again as live events come
		const colour = await page.evaluate((id) => {
			const [r, g, b] = getComputedStyle(document.querySelector(`tr[data-device="${id}"] .swatch`)!).backgroundColor.match(/\d+/g)!.map(Number);
			return `#${[r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("")}`;
		}, device.id);
		const pixels = await page.evaluate(countColour(colour)) as number;
		t.diagnostic(`${device.id}: ${pixels} pixels of ${colour} on the map`);
		// the label's bar has 36 pixels; the track shows beside any drawn over it (wider lines first)
		assert.ok(pixels >= 60, `${device.id}'s track (${colour}) is drawn: ${pixels} pixels`);
		total += pixels;
		const drawn = JSON.parse((await page.locator("#map").getAttribute("data-track-points"))!) as Record<string, number>;
		assert.ok(drawn[device.id]! >= 2, `${device.id}'s points on the map: ${JSON.stringify(drawn)}`);
	}
	assert.ok(total >= 150, `the tracks' lines and marks: ${total} pixels`);
	const tracks = await Promise.all(fleet.map(async (d) => (await rest("GET", `/v1/devices/${d.id}/track`)).json.total as number));
	assert.ok(tracks.every((n) => n >= 2), `tracks: ${tracks}`);

	// the log keeps receiving: messages logged after this point are live ones
	const logged = await page.locator("#event-log li[data-kind=message]").count();
	await page.waitForFunction((before) => document.querySelectorAll("#event-log li[data-kind=message]").length >= before + 4, logged, { timeout: 10000 });

	// the LED button: the cloud records and sends the CFG_SET to that device only
	const [first, second] = fleet as [FleetDevice, FleetDevice];
	await page.locator(`tr[data-device="${first.id}"] button[data-action=led]`).click();
	const c2d = await until(async () => (await rest("GET", `/v1/messages?direction=c2d&deviceId=${first.id}`)).json.items[0], { what: "the LED c2d message" });
	assert.deepEqual(c2d.message, { appId: "LED", messageType: "CFG_SET", data: { state: 1 } });
	assert.equal(c2d.topic, `${running.endpoints.topicPrefix}m/d/${first.id}/c2d`);
	assert.equal((await rest("GET", `/v1/messages?direction=c2d&deviceId=${second.id}`)).json.total, 0);
	await page.locator(`#event-log li[data-kind=message][data-device="${first.id}"]:has-text("c2d LED CFG_SET")`).waitFor();
	// The device has gone past the request once it has sent messages for a while after it:
	// then an answer (LED DATA) is there or none comes.
	const sentAt = Date.parse(c2d.receivedAt);
	await until(async () => (await rest("GET", `/v1/devices/${first.id}/messages?pageLimit=1`)).json.items.some((m: { direction: string; receivedAt: string }) =>
		m.direction === "d2c" && Date.parse(m.receivedAt) > sentAt + 3 * INTERVAL_MS), { what: `${first.id}'s messages after the LED request`, timeout: 10000 });
	const answers = (await rest("GET", `/v1/devices/${first.id}/messages?pageLimit=200`)).json.items
		.filter((m: { seq: number; direction: string; message: { appId?: string; messageType?: string } }) => m.seq > c2d.seq && m.direction === "d2c" && m.message.appId === "LED" && m.message.messageType === "DATA");
	if (answers.length > 0) {
		await page.locator(`tr[data-device="${first.id}"] [data-field=led]:text-is('${answers[0].message.data.state === 1 ? "on" : "off"}')`).waitFor();
		t.diagnostic(`${first.id} answered the LED request: ${JSON.stringify(answers[0].message)}`);
	}
	else {
		assert.equal(await page.locator(`tr[data-device="${first.id}"] [data-field=led]`).textContent(), "unknown (asked on)");
		t.diagnostic(`${first.id}'s firmware does not answer LED CFG_SET: the LED state shows what was asked`);
	}

	const artifacts = join(root, "build", "test-artifacts");
	mkdirSync(artifacts, { recursive: true });
	const screenshot = join(artifacts, "dashboard.png");
	await page.screenshot({ path: screenshot, fullPage: true });
	t.diagnostic(`screenshot: ${screenshot}`);
	console.log(`dashboard screenshot: ${screenshot}`);
	assert.deepEqual(errors, []);
	await page.close();
});
