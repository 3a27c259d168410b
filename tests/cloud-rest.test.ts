/*
 * The local nRF Cloud's REST API resource by resource (authentication, malformed
 * bodies, unknown resources), the FOTA job service end to end with an HTTPS
 * download in ranges, keepalive enforcement, and persistence across a restart.
 * The device here is the project's own MQTT client over TLS.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { provision } from "../tools/provision/main.js";
import { connectDevice, requestJob, restClient, subscribeDevice, type TestDevice } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100000025";
let dir: string;
let running: RunningCloud;
let pin: string;

const rest = restClient(() => running.endpoints);

type Device = TestDevice;

function device(id = DEVICE, keepalive = 60): Device {
	return connectDevice({ dir, port: running.endpoints.mqttPort, id, keepalive });
}

const subscribe = subscribeDevice;

/** Polls the REST API until `check` accepts the answer to GET `path`; returns that answer. */
function restUntil(path: string, check: (json: any) => boolean, what: string): Promise<any> {
	let last: unknown;
	return until(async () => {
		const answer = await rest("GET", path);
		last = answer.json;
		return answer.status === 200 && check(answer.json) ? answer.json : undefined;
	}, { what, timeout: 10000, detail: () => `last answer ${JSON.stringify(last)}` });
}

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-rest-"));
	// a keepalive down to 1 s (AWS IoT raises anything under 30 s to 30) so that the keepalive test waits 1.5 s, not 45
	running = await startCloud({ state: join(dir, "cloud"), limits: { minKeepalive: 1 } });
	pin = provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, clientIdSource: "compile-time", out: join(dir, "out"), pin: "a1b2c3" }).pin;
	const jitp = device();
	await jitp.closed;
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("authentication: a missing or wrong API key is 401 on every resource", async () => {
	for (const path of ["/v1/account", "/v1/devices", `/v1/devices/${DEVICE}`, "/v1/messages", "/v1/firmwares", "/v1/fota-jobs"]) {
		const missing = await rest("GET", path, undefined, { apiKey: null });
		assert.equal(missing.status, 401, path);
		assert.match(missing.json.message, /missing API key/);
		assert.equal((await rest("GET", path, undefined, { apiKey: "wrong" })).status, 401, path);
	}
	assert.equal((await fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/events?apiKey=wrong`)).status, 401, "the event stream too");
});

test("account and devices", async () => {
	const account = (await rest("GET", "/v1/account")).json;
	assert.equal(account.tenantId, running.endpoints.tenantId);
	assert.equal(account.mqttTopicPrefix, running.endpoints.topicPrefix);
	const devices = (await rest("GET", "/v1/devices")).json;
	assert.deepEqual(devices.items.map((d: { id: string }) => d.id), [DEVICE]);
	const one = await rest("GET", `/v1/devices/${DEVICE}`);
	assert.equal(one.status, 200);
	assert.equal(one.json.associated, false);
	assert.equal((await rest("GET", "/v1/devices/nrf-unknown")).status, 404);
	assert.equal((await rest("GET", "/v1/nothing")).status, 404);
	assert.equal((await rest("PUT", "/v1/devices")).status, 405);
});

test("device state: desired updates reach the shadow; malformed bodies are 400", async () => {
	assert.equal((await rest("PATCH", `/v1/devices/${DEVICE}/state`, { desired: { config: { GPS: { enable: true } } } })).status, 202);
	assert.deepEqual((await rest("GET", `/v1/devices/${DEVICE}`)).json.state.desired.config, { GPS: { enable: true } });
	for (const body of ["{broken", "[]", "{}", '{"desired": 5}']) {
		const result = await rest("PATCH", `/v1/devices/${DEVICE}/state`, body);
		assert.equal(result.status, 400, body);
		assert.equal(typeof result.json.message, "string");
	}
	assert.equal((await rest("PATCH", "/v1/devices/nrf-unknown/state", { desired: {} })).status, 404);
	assert.equal((await rest("PATCH", `/v1/devices/${DEVICE}/state`, "x".repeat(70000))).status, 413);
});

test("association: PIN or hardware ID, conflicts, disassociation", async () => {
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, "")).status, 400);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, "ffffff")).status, 400);
	assert.equal((await rest("PUT", "/v1/association/nrf-unknown", "a1b2c3")).status, 404);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, JSON.stringify(DEVICE))).status, 202, "the hardware ID as a JSON string");
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, pin)).status, 409);
	assert.equal((await rest("DELETE", `/v1/association/${DEVICE}`)).status, 202);
	assert.equal((await rest("DELETE", `/v1/association/${DEVICE}`)).status, 409);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, pin)).status, 202);
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}`)).json.associated, true);
});

test("messages: c2d to a connected device, d2c stored, filters and paging checked", async () => {
	const d = device();
	await d.connected;
	const prefix = running.endpoints.topicPrefix;
	await subscribe(d, `${prefix}m/d/${DEVICE}/c2d`);
	assert.equal((await rest("POST", `/v1/devices/${DEVICE}/messages`, { appId: "TEMP", data: 21.5 })).status, 201);
	assert.equal((await rest("POST", `/v1/devices/${DEVICE}/messages`, "{nope")).status, 400);
	await until(() => d.messages.length === 1, { what: "the c2d message" });
	assert.equal(new TextDecoder().decode(d.messages[0]!.payload), '{"appId":"TEMP","data":21.5}');
	for (let i = 0; i < 3; i++) d.client.publish(`${prefix}m/d/${DEVICE}/d2c`, JSON.stringify({ appId: "FLIP", messageType: "DATA", data: i % 2 ? "UPSIDE_DOWN" : "NORMAL" }), { qos: 1 });
	await until(() => d.client.inflight === 0, { what: "PUBACKs" });
	const d2c = (await rest("GET", `/v1/messages?deviceId=${DEVICE}&direction=d2c`)).json;
	assert.equal(d2c.total, 3);
	assert.deepEqual(d2c.items.map((m: { message: { data: string } }) => m.message.data), ["NORMAL", "UPSIDE_DOWN", "NORMAL"]);
	const page = (await rest("GET", `/v1/messages?deviceId=${DEVICE}&after=${d2c.items[0].seq}&pageLimit=1`)).json;
	assert.equal(page.items.length, 1);
	assert.equal(page.items[0].seq, d2c.items[1].seq);
	for (const query of ["pageLimit=0", "pageLimit=x", "after=-1", "direction=up"]) assert.equal((await rest("GET", `/v1/messages?${query}`)).status, 400, query);
	d.client.disconnect();
	await d.closed;
});

function download(path: string, range?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
	return new Promise((resolve, reject) => {
		const request = httpsRequest({
			host: "127.0.0.1", port: running.endpoints.firmwarePort, path: `/${path}`, servername: "localhost",
			ca: readFileSync(running.endpoints.caCert), headers: range ? { range } : {},
		}, (response) => {
			const chunks: Buffer[] = [];
			response.on("data", (c: Buffer) => chunks.push(c));
			response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
		});
		request.on("error", reject);
		request.end();
	});
}

test("FOTA: upload, jobs only for devices reporting the type, jobs/req answered on jobs/rcv, status tracking, HTTPS in ranges", async () => {
	const image = mcubootImage(Buffer.alloc(5000, 7), { major: 2, minor: 0, revision: 1, build: 0 });
	assert.equal((await rest("POST", "/v1/firmwares?type=WIFI&version=1&filename=a.bin", undefined, { raw: image })).status, 400);
	assert.equal((await rest("POST", "/v1/firmwares?type=APP&version=1.0&filename=a.bin", undefined, { raw: Buffer.alloc(0) })).status, 400);
	const upload = await rest("POST", "/v1/firmwares?type=APP&version=2.0.1&filename=app-2.0.1.bin", undefined, { raw: image });
	assert.equal(upload.status, 201);
	const firmware = upload.json;
	assert.equal(firmware.size, image.length);
	assert.equal((await rest("GET", "/v1/firmwares")).json.total, 1);
	const refused = await rest("POST", "/v1/fota-jobs", { firmwareId: firmware.id, deviceIds: [DEVICE] });
	assert.equal(refused.status, 400, "the device does not report APP in fota_v2 yet");
	assert.match(refused.json.message, /fota_v2/);
	for (const body of ["{", { firmwareId: 1 }, { firmwareId: firmware.id, deviceIds: [] }, { firmwareId: "nope", deviceIds: [DEVICE] }])
		assert.ok([400, 404].includes((await rest("POST", "/v1/fota-jobs", body)).status), JSON.stringify(body));

	const d = device();
	await d.connected;
	const prefix = running.endpoints.topicPrefix;
	d.client.publish(`$aws/things/${DEVICE}/shadow/update`, JSON.stringify({ state: { reported: { device: { serviceInfo: { fota_v2: ["APP", "MODEM"] } } } } }), { qos: 1 });
	await restUntil(`/v1/devices/${DEVICE}`, (json) => json.state.reported.device?.serviceInfo?.fota_v2?.includes("APP"), "APP in the reported fota_v2");
	const created = await rest("POST", "/v1/fota-jobs", { firmwareId: firmware.id, deviceIds: [DEVICE, "nrf-unknown"] });
	assert.equal(created.status, 201);
	assert.deepEqual(created.json.deviceIds, [DEVICE]);
	const jobId = created.json.jobId;

	await subscribe(d, `${prefix}${DEVICE}/jobs/rcv`);
	d.client.publish(`${prefix}${DEVICE}/jobs/req`, '[""]', { qos: 1 });
	await until(() => d.messages.some((m) => m.topic.endsWith("/jobs/rcv")), { what: "the job document" });
	const job = JSON.parse(new TextDecoder().decode(d.messages.find((m) => m.topic.endsWith("/jobs/rcv"))!.payload));
	assert.equal(job.length, 5);
	assert.equal(job[0], jobId);
	assert.equal(job[1], 0, "APP");
	assert.equal(job[2], image.length);
	assert.equal(job[3], `localhost:${running.endpoints.firmwarePort}`);

	const whole = await download(job[4]);
	assert.equal(whole.status, 200);
	assert.ok(whole.body.equals(image));
	const parts: Buffer[] = [];
	for (let start = 0; start < image.length; start += 1700) {
		const part = await download(job[4], `bytes=${start}-${Math.min(image.length, start + 1700) - 1}`);
		assert.equal(part.status, 206);
		assert.equal(part.headers["content-range"], `bytes ${start}-${Math.min(image.length, start + 1700) - 1}/${image.length}`);
		parts.push(part.body);
	}
	assert.ok(Buffer.concat(parts).equals(image), "the ranges add up to the image");
	assert.equal((await download(job[4], "bytes=99999-")).status, 416);
	assert.equal((await download(`${running.endpoints.tenantId}/nope/x.bin`)).status, 404);

	for (const update of [[jobId, 7, 0], [jobId, 7, 50], [jobId, 7, 100], [jobId, 1, ""]]) d.client.publish(`${prefix}${DEVICE}/jobs/update`, JSON.stringify(update), { qos: 1 });
	await restUntil(`/v1/fota-jobs/${jobId}`, (json) => json.executions[0].status === "IN_PROGRESS", "the execution IN_PROGRESS");
	d.client.publish(`${prefix}${DEVICE}/jobs/update`, JSON.stringify([jobId, 3, ""]), { qos: 1 });
	d.client.publish(`${prefix}${DEVICE}/jobs/update`, "not json", { qos: 1 });
	// "not json" comes after the SUCCEEDED update: once both are acknowledged, the cloud has read past it unharmed.
	await until(() => d.client.inflight === 0, { what: "the final update's PUBACKs" });
	const state = await restUntil(`/v1/fota-jobs/${jobId}`, (json) => json.executions[0].status === "SUCCEEDED", "the execution SUCCEEDED");
	assert.equal(state.executions[0].progress, 100);
	await subscribe(d, `${DEVICE}/shadow/get/accepted`);
	assert.deepEqual(await requestJob(d, DEVICE, prefix), [`${DEVICE}/shadow/get/accepted`], "no job once it succeeded");
	assert.equal((await rest("GET", "/v1/fota-jobs")).json.total, 1);
	assert.equal((await rest("GET", "/v1/fota-jobs/nope")).status, 404);
	d.client.disconnect();
	await d.closed;
});

test("keepalive: a silent client is dropped after 1.5 times its keepalive and shows as disconnected", async () => {
	const socket = tls.connect({
		host: "127.0.0.1", port: running.endpoints.mqttPort, servername: "localhost",
		ca: readFileSync(join(dir, "out", "ca.pem")), cert: readFileSync(join(dir, "out", `${DEVICE}.pem`)), key: readFileSync(join(dir, "out", `${DEVICE}.key`)),
	});
	socket.on("data", () => undefined);	// read, or "close" waits for the data to be consumed
	socket.on("error", () => undefined);
	await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
	const started = Date.now();
	socket.write(new MqttEncoder().encode({ type: 1, protocolName: "MQTT", protocolLevel: 4, clientId: DEVICE, keepalive: 1, clean: true }));
	await until(() => (running.cloud.isConnected(DEVICE)), { what: "the connection" });
	await new Promise<void>((resolve) => socket.once("close", () => resolve()));
	const elapsed = Date.now() - started;
	assert.ok(elapsed >= 1400 && elapsed < 4000, `closed after ${elapsed} ms`);
	await until(() => !running.cloud.isConnected(DEVICE), { what: "the disconnect" });
	assert.equal((await rest("GET", `/v1/devices/${DEVICE}`)).json.state.reported.connection.status, "disconnected");
});

test("random requests get JSON errors and never take the service down", async () => {
	const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
	// a device that does not exist, so that the random requests change nothing the next test relies on
	const other = "nrf-random";
	const paths = ["/v1/devices", `/v1/devices/${other}`, `/v1/devices/${other}/state`, `/v1/devices/${other}/messages`, `/v1/association/${other}`,
		"/v1/messages", "/v1/firmwares", "/v1/fota-jobs", "/v1/fota-jobs/x", "/v1/%zz", "/v1/devices/%E0%A4%A/state", "/v1//", "/v1/devices/a/b/c/d"];
	const bodies = ["", "{", "[]", "null", '{"desired":null}', '{"deviceIds":"x","firmwareId":[]}', '"\u0000"', "\u00ff".repeat(100), JSON.stringify({ desired: { a: "x".repeat(9000) } })];
	let seed = 7;
	const random = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF; return seed % n; };
	for (let i = 0; i < 300; i++) {
		const method = methods[random(methods.length)]!;
		const path = paths[random(paths.length)]!;
		const body = method === "GET" || method === "DELETE" ? undefined : bodies[random(bodies.length)];
		const response = await fetch(`http://127.0.0.1:${running.endpoints.httpPort}${path}`, { method, headers: { authorization: `Bearer ${running.endpoints.apiKey}` }, body });
		assert.ok(response.status < 500, `${method} ${path} ${String(body).slice(0, 40)}: ${response.status}`);
		const text = await response.text();
		if (response.status >= 400) assert.equal(typeof JSON.parse(text).message, "string");
	}
	assert.equal((await rest("GET", "/v1/account")).status, 200, "still serving");
});

/** The job list without the firmware host: the restarted firmware server listens on a new free port. */
function withoutHost(jobs: { items: { firmware: { host?: string } }[] }): unknown {
	for (const job of jobs.items) delete job.firmware.host;
	return jobs;
}

test("a restart keeps devices, shadows, messages, firmware and jobs", async () => {
	const before = {
		devices: (await rest("GET", "/v1/devices")).json,
		messages: (await rest("GET", "/v1/messages")).json,
		jobs: withoutHost((await rest("GET", "/v1/fota-jobs")).json),
		firmwares: (await rest("GET", "/v1/firmwares")).json,
		apiKey: running.endpoints.apiKey,
	};
	await running.stop();
	running = await startCloud({ state: join(dir, "cloud"), limits: { minKeepalive: 1 } });
	assert.equal(running.endpoints.apiKey, before.apiKey);
	const devices = (await rest("GET", "/v1/devices")).json;
	assert.deepEqual(devices.items.map((d: { state: unknown }) => d.state), before.devices.items.map((d: { state: unknown }) => d.state));
	assert.deepEqual((await rest("GET", "/v1/messages")).json, before.messages);
	assert.deepEqual(withoutHost((await rest("GET", "/v1/fota-jobs")).json), before.jobs);
	assert.deepEqual((await rest("GET", "/v1/firmwares")).json, before.firmwares);
	const d = device();
	await d.connected;
	d.client.disconnect();
	await d.closed;
	assert.equal((await rest("DELETE", `/v1/devices/${DEVICE}`)).status, 204);
	assert.equal((await rest("DELETE", `/v1/devices/${DEVICE}`)).status, 404);
	assert.equal((await rest("GET", "/v1/devices")).json.total, 0);
});
