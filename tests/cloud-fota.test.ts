/*
 * The local nRF Cloud's FOTA service through its REST API and real devices (the
 * project's MQTT client over TLS): checked uploads (MCUboot APP, the BOOT S0/S1
 * pair, a MODEM delta with its SHA-256), jobs for a device and for a tag (group),
 * cancelling before and during an execution, the execution time-out, every
 * refused jobs/update (docs/protocol.md 7.4) with its log line, and the firmware
 * server's refusal of paths outside its store, HEAD, Range and keep-alive.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { LocalCloud } from "../tools/cloud-sim/cloud.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { provision } from "../tools/provision/main.js";
import { connectDevice, requestJob, restClient, subscribeDevice, type TestDevice } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICES = ["nrf-352656100000041", "nrf-352656100000042", "nrf-352656100000043"] as const;
const [A, B, C] = DEVICES;
let dir: string;
let running: RunningCloud;
const log: string[] = [];
const rest = restClient(() => running.endpoints);
const devices = new Map<string, TestDevice>();

const appImage = (fill: number, size = 3000) => mcubootImage(Buffer.alloc(size, fill), { major: 1, minor: 2, revision: 3, build: 4 });

async function upload(query: string, image: Buffer): Promise<any> {
	const answer = await rest("POST", `/v1/firmwares?${query}`, undefined, { raw: image });
	assert.equal(answer.status, 201, JSON.stringify(answer.json));
	return answer.json;
}

async function createJob(body: unknown): Promise<string> {
	const answer = await rest("POST", "/v1/fota-jobs", body);
	assert.equal(answer.status, 201, JSON.stringify(answer.json));
	return answer.json.jobId;
}

async function execution(jobId: string, id: string): Promise<any> {
	const answer = await rest("GET", `/v1/fota-job-executions/${id}/${jobId}`);
	assert.equal(answer.status, 200);
	return answer.json;
}

/** Publishes job updates and waits until the cloud has acknowledged them all (so it has read them). */
async function publishUpdates(id: string, updates: string[]): Promise<void> {
	const d = devices.get(id)!;
	for (const update of updates) {
		// the client holds at most 16 unacknowledged publishes
		if (d.client.inflight >= 8) await until(() => d.client.inflight === 0, { what: "PUBACKs" });
		d.client.publish(`${running.endpoints.topicPrefix}${id}/jobs/update`, update, { qos: 1 });
	}
	await until(() => d.client.inflight === 0, { what: `PUBACKs of ${updates.length} updates` });
}

/** Asks for a job and returns the document that answers. */
async function receiveJob(id: string): Promise<unknown[]> {
	const d = devices.get(id)!;
	d.messages.length = 0;
	d.client.publish(`${running.endpoints.topicPrefix}${id}/jobs/req`, '[""]', { qos: 1 });
	const message = await until(() => d.messages.find((m) => m.topic.endsWith("/jobs/rcv")), { what: `a job document for ${id}` });
	return JSON.parse(new TextDecoder().decode(message.payload)) as unknown[];
}

function logSince(mark: number): string[] {
	return log.slice(mark);
}

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-fota-"));
	running = await startCloud({ state: join(dir, "cloud"), log: (line) => log.push(line) });
	for (const id of DEVICES) {
		provision({ cloudState: join(dir, "cloud"), modem: join(dir, `modem-${id}`), deviceId: id, clientIdSource: "compile-time", out: join(dir, "out") });
		await connectDevice({ dir, port: running.endpoints.mqttPort, id }).closed;	// JITP: the first connection is refused
		assert.equal((await rest("PUT", `/v1/association/${id}`, JSON.stringify(id))).status, 202);
		assert.equal((await rest("PATCH", `/v1/devices/${id}/state`, { reported: { device: { serviceInfo: { fota_v2: ["APP", "MODEM", "BOOT"] } } } })).status, 202);
		const d = connectDevice({ dir, port: running.endpoints.mqttPort, id });
		await d.connected;
		await subscribeDevice(d, `${running.endpoints.topicPrefix}${id}/jobs/rcv`);
		await subscribeDevice(d, `${id}/shadow/get/accepted`);
		devices.set(id, d);
	}
});

after(async () => {
	for (const d of devices.values()) {
		d.client.disconnect();
		await d.closed;
	}
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("a bad default execution timeout is refused when the cloud is made", () => {
	for (const bad of [-1, Number.NaN, 400 * 24 * 3600_000])
		assert.throws(() => new LocalCloud({ stateDirectory: join(dir, "never"), mqttPort: 0, firmwarePort: 0, fotaExecutionTimeoutMs: bad }), RangeError, String(bad));
});

test("uploads are checked: MCUboot for APP and BOOT, the BOOT S0/S1 pair, a MODEM delta with its SHA-256", async () => {
	const image = appImage(1);
	const refusals: [string, Buffer, RegExp][] = [
		["type=APP&version=1&filename=a.bin", Buffer.from("not an image"), /not an MCUboot image/],
		["type=APP&version=1&filename=a.bin", image.subarray(0, image.length - 10), /truncated/],
		["type=APP&version=1&filename=a.bin", Buffer.concat([image.subarray(0, 40), Buffer.from([image[40]! ^ 1]), image.subarray(41)]), /SHA-256 TLV does not match/],
		["type=MODEM&version=1&filename=d.bin", Buffer.from("delta"), /needs its sha256/],
		["type=MODEM&version=1&filename=d.bin&sha256=" + "0".repeat(64), Buffer.from("delta"), /does not match the file/],
		["type=MODEM&version=1&filename=d.bin&sha256=xyz", Buffer.from("delta"), /64 hex digits/],
		["type=APP&version=1&filename=../a.bin", image, /filename must be/],
	];
	for (const [query, body, reason] of refusals) {
		const answer = await rest("POST", `/v1/firmwares?${query}`, undefined, { raw: body });
		assert.equal(answer.status, 400, query);
		assert.match(answer.json.message, reason, query);
	}
	const delta = Buffer.from("modem delta bytes");
	const modem = await upload(`type=MODEM&version=mfw_1.3.1-FOTA&filename=delta.bin&sha256=${createHash("sha256").update(delta).digest("hex")}`, delta);
	assert.equal(modem.sha256, createHash("sha256").update(delta).digest("hex"));

	// the dashboard's form: multipart/form-data, two files for a BOOT update
	const form = (type: string, files: [string, Buffer][]) => {
		const data = new FormData();
		data.set("type", type);
		data.set("version", "2.0.0");
		for (const [name, bytes] of files) data.append("file", new Blob([new Uint8Array(bytes)]), name);
		return fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/firmwares`, { method: "POST", headers: { authorization: `Bearer ${running.endpoints.apiKey}` }, body: data });
	};
	const s0 = appImage(2, 2000);
	const s1 = appImage(3, 2100);
	const boot = await form("BOOT", [["s0.bin", s0], ["s1.bin", s1]]);
	assert.equal(boot.status, 201);
	const record = await boot.json();
	assert.deepEqual(record.files.map((f: { filename: string; size: number }) => [f.filename, f.size]), [["s0.bin", s0.length], ["s1.bin", s1.length]]);
	const twoApps = await form("APP", [["a.bin", s0], ["b.bin", s1]]);
	assert.equal(twoApps.status, 400);
	assert.match((await twoApps.json()).message, /APP update has one file/);
	const noBoundary = await rest("POST", "/v1/firmwares", "x", {});
	assert.equal(noBoundary.status, 400, "a raw body without type and filename");
	const broken = await fetch(`http://127.0.0.1:${running.endpoints.httpPort}/v1/firmwares`, {
		method: "POST", headers: { authorization: `Bearer ${running.endpoints.apiKey}`, "content-type": "multipart/form-data; boundary=zz" }, body: "--zz\r\ncontent-disposition: form-data; name=\"type\"\r\n\r\nAPP",
	});
	assert.equal(broken.status, 400);
	assert.match((await broken.json()).message, /cut short/);
	assert.equal((await rest("GET", "/v1/firmwares")).json.total, 2, "only the two good uploads are kept");

	// a BOOT job document names both files, separated by a space; each downloads
	const jobId = await createJob({ bundleId: record.id, deviceIds: [C] });
	const document = await receiveJob(C);
	assert.equal(document[1], 2, "BOOT");
	assert.equal(document[2], s0.length);
	const paths = String(document[4]).split(" ");
	assert.equal(paths.length, 2);
	assert.ok((await download(paths[0]!)).body.equals(s0));
	assert.ok((await download(paths[1]!)).body.equals(s1));
	assert.equal((await rest("PUT", `/v1/fota-jobs/${jobId}/cancel`)).status, 204);
});

test("a job for a tag (group) reaches the tagged devices that report the type", async () => {
	assert.equal((await rest("PUT", `/v1/devices/${A}/tags`, ["field", "north"])).status, 202);
	assert.equal((await rest("PUT", `/v1/devices/${B}/tags`, ["field"])).status, 202);
	assert.equal((await rest("PUT", `/v1/devices/${C}/tags`, ["lab"])).status, 202);
	for (const body of ["{", "\"field\"", [1], ["has space"], ["x".repeat(65)]]) assert.equal((await rest("PUT", `/v1/devices/${A}/tags`, body)).status, 400, JSON.stringify(body));
	assert.equal((await rest("PUT", "/v1/devices/nrf-unknown/tags", ["a"])).status, 404);
	assert.deepEqual((await rest("GET", `/v1/devices/${A}`)).json.tags, ["field", "north"]);

	const firmware = await upload("type=APP&version=1.2.3&filename=app.bin", appImage(4));
	assert.equal((await rest("POST", "/v1/fota-jobs", { bundleId: firmware.id, tags: ["nobody"] })).status, 400);
	const created = await rest("POST", "/v1/fota-jobs", { bundleId: firmware.id, tags: ["field"], name: "field update" });
	assert.equal(created.status, 201);
	assert.deepEqual(created.json.deviceIds, [A, B]);
	const job = (await rest("GET", `/v1/fota-jobs/${created.json.jobId}`)).json;
	assert.equal(job.status, "IN_PROGRESS");
	assert.equal(job.name, "field update");
	assert.deepEqual(job.target, { deviceIds: [], tags: ["field"] });
	assert.equal(job.executionStats.queued, 2);
	assert.equal(job.firmware.firmwareType, "APP");
	assert.deepEqual(job.executions.map((e: { deviceId: string; status: string }) => [e.deviceId, e.status]), [[A, "QUEUED"], [B, "QUEUED"]]);
	assert.equal((await rest("PUT", `/v1/fota-jobs/${created.json.jobId}/cancel`)).status, 204);
	assert.equal((await rest("GET", `/v1/fota-jobs/${created.json.jobId}`)).json.executionStats.canceled, 2);
});

test("cancelled before the device asks: the job request gets no job, a late update is refused", async () => {
	const firmware = await upload("type=APP&version=1.3.0&filename=app.bin", appImage(5));
	const jobId = await createJob({ bundleId: firmware.id, deviceIds: [A] });
	assert.equal((await rest("PUT", `/v1/fota-jobs/${jobId}/cancel`)).status, 204);
	const job = (await rest("GET", `/v1/fota-jobs/${jobId}`)).json;
	assert.equal(job.status, "CANCELLED");
	assert.equal(job.executions[0].status, "CANCELLED");
	assert.equal((await rest("PUT", `/v1/fota-jobs/${jobId}/cancel`)).status, 409);
	assert.equal((await rest("PUT", "/v1/fota-jobs/nope/cancel")).status, 404);
	assert.deepEqual(await requestJob(devices.get(A)!, A, running.endpoints.topicPrefix), [`${A}/shadow/get/accepted`], "no job document for a cancelled job");
	const mark = log.length;
	await publishUpdates(A, [JSON.stringify([jobId, 7, 10])]);
	assert.ok(logSince(mark).some((line) => line.includes(`${A} jobs/update refused: the execution is already CANCELLED`)), logSince(mark).join("\n"));
	assert.equal((await execution(jobId, A)).status, "CANCELLED");
	assert.equal((await rest("DELETE", `/v1/fota-jobs/${jobId}`)).status, 204, "an ended job can be deleted");
	assert.equal((await rest("GET", `/v1/fota-jobs/${jobId}`)).status, 404);
});

test("cancelled while downloading: the progress so far stays, the device gets nothing new", async () => {
	const firmware = await upload("type=APP&version=1.4.0&filename=app.bin", appImage(6));
	const jobId = await createJob({ bundleId: firmware.id, deviceIds: [A] });
	assert.equal((await receiveJob(A))[0], jobId);
	await publishUpdates(A, [JSON.stringify([jobId, 7, 0]), JSON.stringify([jobId, 7, 20])]);
	assert.equal((await execution(jobId, A)).progress, 20);
	assert.equal((await rest("DELETE", `/v1/fota-jobs/${jobId}`)).status, 409, "a job in progress is cancelled, not deleted");
	assert.equal((await rest("GET", `/v1/fota-job-executions/${A}/current`)).json.jobId, jobId);
	assert.equal((await rest("PUT", `/v1/fota-jobs/${jobId}/cancel`)).status, 204);
	assert.equal((await rest("GET", `/v1/fota-job-executions/${A}/current`)).status, 404);
	const mark = log.length;
	await publishUpdates(A, [JSON.stringify([jobId, 7, 30]), JSON.stringify([jobId, 1, ""])]);
	assert.equal(logSince(mark).filter((line) => line.includes("already CANCELLED: late update ignored")).length, 2);
	const state = await execution(jobId, A);
	assert.deepEqual([state.status, state.progress, state.statusDetail], ["CANCELLED", 20, "Job was cancelled"]);
	assert.deepEqual(await requestJob(devices.get(A)!, A, running.endpoints.topicPrefix), [`${A}/shadow/get/accepted`]);
});

test("an execution not finished within the job's timeout becomes TIMED_OUT; a later update is refused", async () => {
	const firmware = await upload("type=APP&version=1.5.0&filename=app.bin", appImage(7));
	for (const bad of [-1, "5", 1e12]) assert.equal((await rest("POST", "/v1/fota-jobs", { bundleId: firmware.id, deviceIds: [B], executionTimeoutSeconds: bad })).status, 400, String(bad));
	const jobId = await createJob({ bundleId: firmware.id, deviceIds: [B], executionTimeoutSeconds: 0.3 });
	assert.equal((await receiveJob(B))[0], jobId, "the timer starts when the device has the job");
	await publishUpdates(B, [JSON.stringify([jobId, 7, 10])]);
	const state = await until(async () => {
		const current = await execution(jobId, B);
		return current.status === "TIMED_OUT" ? current : undefined;
	}, { what: "the execution TIMED_OUT" });
	assert.equal(state.progress, 10);
	assert.match(state.statusDetail, /within 0.3 s/);
	assert.ok(log.some((line) => line.includes(`job ${jobId} on ${B}: DOWNLOADING -> TIMED_OUT`)));
	const mark = log.length;
	await publishUpdates(B, [JSON.stringify([jobId, 3, ""])]);
	assert.ok(logSince(mark).some((line) => line.includes("already TIMED_OUT: late update ignored")));
	assert.equal((await execution(jobId, B)).status, "TIMED_OUT");
	assert.equal((await rest("GET", `/v1/fota-jobs/${jobId}`)).json.status, "COMPLETED");
});

test("every malformed or impossible jobs/update is refused with a log line and changes nothing", async () => {
	const firmware = await upload("type=APP&version=1.6.0&filename=app.bin", appImage(8));
	const jobId = await createJob({ bundleId: firmware.id, deviceIds: [B] });
	assert.equal((await receiveJob(B))[0], jobId);
	await publishUpdates(B, [JSON.stringify([jobId, 7, 40])]);
	const bad: [string, RegExp][] = [
		["not json", /not a JSON array/],
		['{"id":1}', /not a JSON array/],
		[JSON.stringify([jobId, 7]), /3 elements, not 2/],
		[JSON.stringify([jobId, 7, 50, "x"]), /3 elements, not 4/],
		[JSON.stringify([jobId, 7, 101]), /progress must be an integer 0 to 100, not 101/],
		[JSON.stringify([jobId, 7, -1]), /not -1/],
		[JSON.stringify([jobId, 7, 50.5]), /not 50.5/],
		[JSON.stringify([jobId, 7, "50"]), /not "50"/],
		[JSON.stringify([jobId, 8, ""]), /unknown status 8/],
		[JSON.stringify([jobId, "7", 1]), /unknown status "7"/],
		[JSON.stringify([jobId, 4, ""]), /does not report TIMED_OUT/],
		[JSON.stringify([jobId, 5, ""]), /does not report CANCELLED/],
		[JSON.stringify([jobId, 0, ""]), /does not report QUEUED/],
		[JSON.stringify([jobId, 1, 5]), /message of a IN_PROGRESS update must be a string/],
		[JSON.stringify(["", 7, 1]), /job id must be a string/],
		[JSON.stringify(["x".repeat(37), 7, 1]), /job id must be a string/],
		[JSON.stringify(["00000000-0000-0000-0000-000000000000", 7, 1]), /no execution of job/],
	];
	const mark = log.length;
	await publishUpdates(B, [...bad.map(([payload]) => payload), JSON.stringify([jobId, 7, 60])]);
	const refusals = logSince(mark).filter((line) => line.startsWith(`fota: ${B} jobs/update refused:`));
	assert.equal(refusals.length, bad.length, refusals.join("\n"));
	bad.forEach(([, reason], index) => assert.match(refusals[index]!, reason));
	let state = await execution(jobId, B);
	assert.deepEqual([state.status, state.progress], ["DOWNLOADING", 60], "the good update after the bad ones counts");

	await publishUpdates(B, [JSON.stringify([jobId, 1, ""])]);
	assert.equal((await execution(jobId, B)).status, "IN_PROGRESS");
	await publishUpdates(B, [JSON.stringify([jobId, 3, "FOTA update not validated"])]);
	state = await execution(jobId, B);
	assert.deepEqual([state.status, state.progress, state.statusDetail], ["SUCCEEDED", 100, "FOTA update not validated"]);
	const late = log.length;
	await publishUpdates(B, [JSON.stringify([jobId, 7, 10]), JSON.stringify([jobId, 2, ""])]);
	assert.equal(logSince(late).filter((line) => line.includes("already SUCCEEDED: late update ignored")).length, 2, "no way back from a terminal status");
	assert.equal((await execution(jobId, B)).status, "SUCCEEDED");
	assert.equal((await rest("GET", `/v1/fota-jobs/${jobId}`)).json.status, "COMPLETED");
	assert.equal((await rest("GET", `/v1/fota-job-executions/${B}`)).json.items.some((e: { jobId: string }) => e.jobId === jobId), true);
	assert.equal((await rest("GET", "/v1/fota-job-executions/nrf-unknown")).status, 404);
	assert.equal((await rest("GET", `/v1/fota-job-executions/${B}/nope`)).status, 404);
});

function download(path: string, options: { range?: string; method?: string; agent?: Agent } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; reused: boolean }> {
	return new Promise((resolve, reject) => {
		const request = httpsRequest({
			host: "127.0.0.1", port: running.endpoints.firmwarePort, path: path.startsWith("/") ? path : `/${path}`, servername: "localhost", method: options.method ?? "GET",
			ca: readFileSync(running.endpoints.caCert), headers: options.range ? { range: options.range } : {}, agent: options.agent,
		}, (response) => {
			const chunks: Buffer[] = [];
			response.on("data", (c: Buffer) => chunks.push(c));
			response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), reused: request.reusedSocket }));
		});
		request.on("error", reject);
		request.end();
	});
}

/** One raw HTTP/1.1 request over TLS, for request targets an HTTP client would not send. */
function rawRequest(target: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: "127.0.0.1", port: running.endpoints.firmwarePort, servername: "localhost", ca: readFileSync(running.endpoints.caCert) }, () => {
			socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
		});
		let text = "";
		socket.on("data", (chunk: Buffer) => { text += chunk.toString("latin1"); });
		socket.on("end", () => resolve(text.split("\r\n")[0]!));
		socket.on("error", reject);
	});
}

test("the firmware server: nothing outside its store, HEAD and GET with Range, keep-alive", async () => {
	const image = appImage(9, 5000);
	const firmware = await upload("type=APP&version=1.7.0&filename=app.bin", image);
	const path = `${running.endpoints.tenantId}/${firmware.id}/app.bin`;
	const tenant = running.endpoints.tenantId;
	for (const target of [
		"/../cloud.db", "/%2e%2e/cloud.db", `/${tenant}/${firmware.id}/../../cloud.db`, `/${tenant}/%2E%2E/%2e%2e/cloud.db`,
		`/${tenant}%2F${firmware.id}%2Fapp.bin`, `/${tenant}/${firmware.id}/..%5c..%5ccloud.db`, "//etc/passwd", "/%zz", `/${tenant}/./${firmware.id}/app.bin`,
		`/${tenant}/${firmware.id}/app.bin%00`, `https://localhost/${path}`, `/${tenant}//${firmware.id}/app.bin`,
	]) assert.equal(await rawRequest(target), "HTTP/1.1 400 Bad Request", target);
	assert.equal(await rawRequest(`/${tenant}/${firmware.id}/cloud.db`), "HTTP/1.1 404 Not Found");
	assert.equal(await rawRequest(`/${path}`), "HTTP/1.1 200 OK", "still serving");

	const head = await download(path, { method: "HEAD", range: "bytes=100-199" });
	assert.equal(head.status, 206);
	assert.equal(head.headers["content-length"], "100");
	assert.equal(head.headers["content-range"], `bytes 100-199/${image.length}`);
	assert.equal(head.body.length, 0);
	const tail = await download(path, { range: "bytes=-100" });
	assert.ok(tail.body.equals(image.subarray(image.length - 100)));
	const open = await download(path, { range: `bytes=${image.length - 10}-` });
	assert.ok(open.body.equals(image.subarray(image.length - 10)));
	assert.equal((await download(path, { range: "bytes=10-5" })).status, 416);
	assert.equal((await download(path, { method: "POST" })).status, 405);

	const agent = new Agent({ keepAlive: true, maxSockets: 1 });
	try {
		const parts: Buffer[] = [];
		const reused: boolean[] = [];
		for (let start = 0; start < image.length; start += 1700) {
			const part = await download(path, { range: `bytes=${start}-${Math.min(image.length, start + 1700) - 1}`, agent });
			assert.equal(part.status, 206);
			parts.push(part.body);
			reused.push(part.reused);
		}
		assert.ok(Buffer.concat(parts).equals(image));
		assert.deepEqual(reused, [false, true, true], "one connection for every fragment");
	}
	finally {
		agent.destroy();
	}
});
