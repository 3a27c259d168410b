/*
 * Provisioning reads the device's ID from its modem: the certificate is made
 * for the ID the firmware connects with, so the cloud cannot refuse it. A
 * --device-id that disagrees with the modem is an error that says both IDs.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { deviceIdFor } from "../tools/provision/device-id.js";
import { runDevice } from "../tools/device/main.js";
import { modemIdentity, provision } from "../tools/provision/main.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const IDENTITY = { imei: "352656100441776", deviceUuid: "50503041-3633-4261-803d-1e2b8f70111a" };

test("deviceIdFor: the modem's ID for imei and internal-uuid, --device-id only as a check", () => {
	assert.equal(deviceIdFor({}, IDENTITY), "nrf-352656100441776");
	assert.equal(deviceIdFor({ source: "imei", prefix: "acme-" }, IDENTITY), "acme-352656100441776");
	assert.equal(deviceIdFor({ source: "internal-uuid" }, IDENTITY), IDENTITY.deviceUuid);
	assert.equal(deviceIdFor({ deviceId: "nrf-352656100441776" }, IDENTITY), "nrf-352656100441776");
	assert.throws(() => deviceIdFor({ deviceId: "nrf-352656100000017" }, IDENTITY),
		/--device-id nrf-352656100000017 disagrees with the modem: with the imei client ID it connects as nrf-352656100441776 \(IMEI 352656100441776\)/);
	assert.throws(() => deviceIdFor({ source: "internal-uuid", deviceId: "nrf-352656100441776" }, IDENTITY), /connects as 50503041-3633-4261-803d-1e2b8f70111a/);
});

test("deviceIdFor: the compile-time and runtime IDs are the firmware's, so --device-id is required; bad input is refused", () => {
	assert.equal(deviceIdFor({ source: "compile-time", deviceId: "my-device" }, IDENTITY), "my-device");
	assert.equal(deviceIdFor({ source: "runtime", deviceId: "my-device" }, undefined), "my-device");
	assert.throws(() => deviceIdFor({ source: "compile-time" }, IDENTITY), /give it with --device-id/);
	assert.throws(() => deviceIdFor({ source: "serial-number" }, IDENTITY), /client ID source must be one of imei, internal-uuid, compile-time, runtime/);
	assert.throws(() => deviceIdFor({ deviceId: "has space" }, IDENTITY), /1 to 64 characters/);
	assert.throws(() => deviceIdFor({ source: "imei" }, undefined), /read from the modem/);
	assert.throws(() => deviceIdFor({}, { imei: "35265610044177", deviceUuid: "" }), /the modem's IMEI "35265610044177" is not 15 digits/);
});

let dir: string;
let running: RunningCloud;

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "provision-id-"));
	running = await startCloud({ state: join(dir, "cloud") });
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

const certificateName = (modem: string) => /CN=(.+)/.exec(new X509Certificate(readFileSync(join(modem, "sectag", "16842753", "1.pem"))).subject)?.[1];

test("provision: without --device-id the ID is nrf-<the IMEI the emulated modem made up>, and the certificate is for it", () => {
	const modem = join(dir, "made-up");
	const result = provision({ cloudState: join(dir, "cloud"), modem });
	const imei = readFileSync(join(modem, "imei"), "utf8").trim();
	assert.match(imei, /^\d{15}$/);
	assert.equal(result.deviceId, `nrf-${imei}`);
	assert.equal(result.imei, imei);
	assert.equal(certificateName(modem), result.deviceId);
	assert.equal(running.cloud.store.provisionedPin(result.deviceId), result.pin, "the cloud has the device's PIN");
	assert.deepEqual(modemIdentity(modem), { imei, deviceUuid: result.deviceUuid });
});

test("provision: a --device-id that disagrees with the modem is an error, and nothing is written or recorded", () => {
	const modem = join(dir, "written");
	mkdirSync(modem, { recursive: true });
	writeFileSync(join(modem, "imei"), "352656100000025\n");
	assert.throws(() => provision({ cloudState: join(dir, "cloud"), modem, deviceId: "nrf-352656100000033" }),
		/--device-id nrf-352656100000033 disagrees with the modem: with the imei client ID it connects as nrf-352656100000025/);
	assert.equal(running.cloud.store.provisionedPin("nrf-352656100000033"), undefined);
	assert.throws(() => readFileSync(join(modem, "sectag", "16842753", "1.pem")), /ENOENT/);
	// The agreeing ID is accepted.
	assert.equal(provision({ cloudState: join(dir, "cloud"), modem, deviceId: "nrf-352656100000025" }).deviceId, "nrf-352656100000025");
	assert.equal(certificateName(modem), "nrf-352656100000025");
});

test("provision: internal-uuid names the device by its device UUID", () => {
	const modem = join(dir, "uuid");
	const result = provision({ cloudState: join(dir, "cloud"), modem, clientIdSource: "internal-uuid" });
	assert.match(result.deviceId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
	assert.equal(result.deviceId, result.deviceUuid);
	assert.equal(certificateName(modem), result.deviceId);
});

test("the device runner says plainly when the cloud refuses the client id: a certificate for another ID than the modem's", async () => {
	const modem = join(dir, "mismatched");
	mkdirSync(modem, { recursive: true });
	writeFileSync(join(modem, "imei"), "352656100000041\n");
	// The old mistake, still possible with a compile-time ID: a certificate for an ID the firmware does not use.
	provision({ cloudState: join(dir, "cloud"), modem, deviceId: "nrf-352656100000058", clientIdSource: "compile-time" });
	const said: string[] = [];
	let output = "";
	const device = runDevice({ modem, endpoint: `${running.endpoints.mqttHost}:${running.endpoints.mqttPort}`, retry: 50, timeout: 60, log: (line) => said.push(line) },
		{ onStdout: (text) => { output += text; } });
	try {
		await until(() => said.length > 0, { what: "the refusal line", timeout: 30000, detail: () => output });
	}
	finally {
		device.stop("SIGKILL");
		await device.done;
	}
	assert.equal(said.length, 1);
	assert.match(said[0]!, /^device: the cloud refuses client id nrf-352656100000041: the cloud closed 3 connections in a row before CONNACK\. Its certificate \(security tag 16842753\) is for nrf-352656100000058: provision the modem again with npm run provision -- --cloud-state CLOUD_DIR --modem /);
});
