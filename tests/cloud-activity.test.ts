/*
 * What the local nRF Cloud provides for the fleet dashboard: each device's
 * activity (position from checked GGA sentences, FLIP, LED, button, the LED
 * state asked) in its REST view, its track and newest messages, the event
 * stream's connection, association and activity events, and the same activity
 * read back from the store by a cloud started again on the state directory.
 * The device is the project's MQTT client over TLS.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { nmeaChecksum } from "../tools/cloud-sim/gga.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { provision } from "../tools/provision/main.js";
import { connectDevice, restClient, type TestDevice } from "./support/cloud.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100000041";
let dir: string;
let running: RunningCloud;
const rest = restClient(() => running.endpoints);

function gga(fields: string): string {
	const body = `GPGGA,${fields}`;
	return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, "0")}`;
}

/** The event stream's events, as they come. */
function followEvents(): { events: { kind: string; data: any }[]; open: () => boolean; close(): void } {
	const events: { kind: string; data: any }[] = [];
	let open = false;
	let buffer = "";
	const req = request(`http://127.0.0.1:${running.endpoints.httpPort}/v1/events`, { headers: { authorization: `Bearer ${running.endpoints.apiKey}` } }, (response) => {
		response.setEncoding("utf8");
		response.on("data", (chunk: string) => {
			open = true;
			buffer += chunk;
			let end: number;
			while ((end = buffer.indexOf("\n\n")) >= 0) {
				const block = buffer.slice(0, end);
				buffer = buffer.slice(end + 2);
				const kind = /^event: (.*)$/m.exec(block)?.[1];
				const data = /^data: (.*)$/m.exec(block)?.[1];
				if (kind && data) events.push({ kind, data: JSON.parse(data) });
			}
		});
	});
	req.on("error", () => undefined);
	req.end();
	return { events, open: () => open, close: () => req.destroy() };
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), "cloud-activity-"));
	running = await startCloud({ state: join(dir, "cloud") });
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, clientIdSource: "compile-time", out: join(dir, "out") });
	await connectDevice({ dir, port: running.endpoints.mqttPort, id: DEVICE }).closed;	// JITP
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("activity: position, track, FLIP, LED, button and the LED asked, over REST and the event stream", async () => {
	const stream = followEvents();
	await until(stream.open, { what: "the event stream's first bytes" });
	assert.deepEqual((await rest("GET", `/v1/devices/${DEVICE}`)).json.activity, { position: null, flip: null, led: null, button: null, ledRequested: null });
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, DEVICE)).status, 202);
	const d: TestDevice = connectDevice({ dir, port: running.endpoints.mqttPort, id: DEVICE });
	await d.connected;
	const d2c = `${running.endpoints.topicPrefix}m/d/${DEVICE}/d2c`;
	const publish = (message: unknown) => d.client.publish(d2c, typeof message === "string" ? message : JSON.stringify(message), { qos: 1 });
	publish({ appId: "GPS", messageType: "DATA", data: gga("100000,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,") });
	publish({ appId: "GPS", messageType: "DATA", data: gga("100001,6326.28112,N,01028.10450,E,1,09,0.81,34.7,M,39.8,M,,").replace(/\*..$/, "*00") });
	publish({ appId: "GPS", messageType: "DATA", data: gga("100002,3352.10000,S,15112.50000,W,1,09,0.81,34.7,M,39.8,M,,") });
	publish({ appId: "GPS", messageType: "DATA", data: 42 });
	publish("not JSON");
	publish({ appId: "FLIP", messageType: "DATA", data: "UPSIDE_DOWN" });
	publish({ appId: "FLIP", messageType: "DATA", data: ["bad"] });
	publish({ appId: "BUTTON", messageType: "DATA", data: "3" });
	publish({ appId: "LED", messageType: "DATA", data: { state: 2 } });
	publish({ appId: "LED", messageType: "DATA", data: { state: 1 } });
	const activity = await until(async () => {
		const view = (await rest("GET", `/v1/devices/${DEVICE}`)).json;
		return view.activity.led ? view.activity : undefined;
	}, { what: "the LED state in the device view" });
	assert.ok(Math.abs(activity.position.lat + (33 + 52.1 / 60)) < 1e-9 && Math.abs(activity.position.lon + (151 + 12.5 / 60)) < 1e-9, JSON.stringify(activity.position));
	assert.equal(activity.position.time, "100002");
	assert.equal(activity.flip.state, "UPSIDE_DOWN");
	assert.equal(activity.button.button, "3");
	assert.equal(activity.led.state, 1);

	const track = (await rest("GET", `/v1/devices/${DEVICE}/track`)).json;
	assert.deepEqual(track.items.map((p: { time: string }) => p.time), ["100000", "100002"], "the damaged sentence is left out");
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}/track?pageLimit=1`)).json.items[0].time, "100002");
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}/track?pageLimit=0`)).status, 400);
	assert.equal((await rest("GET", "/v1/devices/nrf-0/track")).status, 404);
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}/track`, undefined, { apiKey: "wrong" })).status, 401);

	assert.equal((await rest("POST", `/v1/devices/${DEVICE}/messages`, { appId: "LED", messageType: "CFG_SET", data: { state: 0 } })).status, 201);
	await until(async () => (await rest("GET", `/v1/devices/${DEVICE}`)).json.activity.ledRequested?.state === 0, { what: "the LED state asked" });
	const newest = (await rest("GET", `/v1/devices/${DEVICE}/messages?pageLimit=2`)).json.items;
	assert.deepEqual(newest.map((m: { direction: string }) => m.direction), ["c2d", "d2c"], "newest first");
	assert.deepEqual(newest[1].message, { appId: "LED", messageType: "DATA", data: { state: 1 } });
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}/messages?pageLimit=1001`)).status, 400);
	assert.equal((await rest("GET", "/v1/devices/nrf-0/messages")).status, 404);

	const kinds = (kind: string) => stream.events.filter((e) => e.kind === kind).map((e) => e.data);
	await until(() => kinds("activity").some((c) => c.activity.ledRequested), { what: "the activity event of the LED request" });
	assert.deepEqual(kinds("association"), [{ id: DEVICE, associated: true }]);
	assert.deepEqual(kinds("connection"), [{ id: DEVICE, connected: true }]);
	assert.deepEqual(kinds("activity").filter((c) => c.point).map((c) => c.point.time), ["100000", "100002"]);
	// one activity event per message that changed something: 2 positions, FLIP, button, LED, the LED asked
	assert.equal(kinds("activity").length, 6);
	assert.equal(kinds("message").length, 11);
	assert.equal(kinds("message")[0].message.appId, "GPS", "messages come parsed, as GET /v1/messages lists them");

	d.client.disconnect();
	await d.closed;
	await until(() => kinds("connection").length === 2, { what: "the disconnection event" });
	assert.deepEqual(kinds("connection")[1], { id: DEVICE, connected: false });
	stream.close();
});

test("activity after a restart: read back from the store", async () => {
	const before = (await rest("GET", `/v1/devices/${DEVICE}`)).json.activity;
	await running.stop();
	running = await startCloud({ state: join(dir, "cloud") });
	const again = (await rest("GET", `/v1/devices/${DEVICE}`)).json.activity;
	assert.deepEqual(again, before);
	assert.deepEqual((await rest("GET", `/v1/devices/${DEVICE}/track`)).json.items.map((p: { time: string }) => p.time), ["100000", "100002"]);
});
