/*
 * tools/provision over a serial port, for real: the tool opens one end of a
 * pseudo-terminal pair made by socat, an AT responder answers on the other end
 * as the modem does; the credentials arrive whole, the modem is taken offline
 * for them and brought back, IMEI and device UUID are read back, and every
 * error answer (ERROR, +CME ERROR, silence, old firmware, not a terminal) stops
 * it with a clear message and nothing recorded. The emulated modem's path gives
 * a device UUID that stays with its state directory.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cloudPki } from "../tools/cloud-sim/cloud-pki.js";
import { Store } from "../tools/cloud-sim/store.js";
import { DEFAULT_SEC_TAG, provision, provisionSerial } from "../tools/provision/main.js";
import { SerialAtError } from "../tools/provision/serial.js";
import { AtResponder, notATerminal, ptyPair, type ResponderOptions } from "./support/at-responder.js";

const IMEI = "352656100441776";
const UUID = "50363154-3931-4d10-8028-0b1c3d4e5f60";
let dir: string;
let cloud: string;

before(() => {
	dir = mkdtempSync(join(tmpdir(), "provision-serial-"));
	cloud = join(dir, "cloud");
	cloudPki(cloud, "localhost");
});

after(() => rmSync(dir, { recursive: true, force: true }));

async function withModem<T>(options: ResponderOptions, body: (device: string, modem: AtResponder) => Promise<T>): Promise<T> {
	const pty = await ptyPair(mkdtempSync(join(dir, "pty-")));
	const modem = new AtResponder(pty.modem, options);
	try {
		return await body(pty.device, modem);
	}
	finally {
		modem.close();
		pty.stop();
	}
}

function recorded(id: string): boolean {
	const store = new Store(cloud);
	try {
		return store.provisionedPin(id) !== undefined;
	}
	finally {
		store.close();
	}
}

test("over a pseudo-terminal: offline, credentials written whole, IMEI and device UUID read back, online again", async () => {
	const out = join(dir, "out");
	await withModem({}, async (device, modem) => {
		const result = await provisionSerial({ cloudState: cloud, serial: device, out, pin: "123456" });
		assert.equal(result.deviceId, `nrf-${IMEI}`);
		assert.equal(result.imei, IMEI);
		assert.equal(result.deviceUuid, UUID);
		const tag = DEFAULT_SEC_TAG;
		assert.equal(modem.credentials.get(`${tag},0`), readFileSync(join(out, "ca.pem"), "utf8"));
		assert.equal(modem.credentials.get(`${tag},1`), readFileSync(join(out, `nrf-${IMEI}.pem`), "utf8"));
		assert.equal(modem.credentials.get(`${tag},2`), readFileSync(join(out, `nrf-${IMEI}.key`), "utf8"));
		assert.match(modem.credentials.get(`${tag},2`)!, /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z ]*PRIVATE KEY-----\n$/);
		assert.deepEqual(result.listing.map((line) => line.replace(/"[0-9A-F]{64}"$/, "<sha256>")), [0, 1, 2].map((type) => `%CMNG: ${tag},${type},<sha256>`));
		assert.deepEqual(modem.commands.map((command) => command.replace(/,"[\s\S]*"$/, ',"<pem>"')), [
			"AT+CMEE=1", "AT+CFUN?", "AT+CFUN=4", "AT+CGSN", "AT%ATTESTTOKEN",
			`AT%CMNG=3,${tag},0`, `AT%CMNG=0,${tag},0,"<pem>"`,
			`AT%CMNG=3,${tag},1`, `AT%CMNG=0,${tag},1,"<pem>"`,
			`AT%CMNG=3,${tag},2`, `AT%CMNG=0,${tag},2,"<pem>"`,
			`AT%CMNG=1,${tag}`, "AT+CFUN=1",
		]);
		assert.equal(modem.cfun, 1);
	});
	assert.ok(recorded(`nrf-${IMEI}`));
});

test("an AT host that echoes commands, a chosen device ID and tag; the modem stays offline if it was", async () => {
	await withModem({ echo: true, imei: "352656100000005" }, async (device, modem) => {
		modem.cfun = 4;
		const result = await provisionSerial({ cloudState: cloud, serial: device, deviceId: "echo-device", clientIdSource: "compile-time", secTag: 42 });
		assert.equal(result.deviceId, "echo-device");
		assert.equal(result.imei, "352656100000005");
		assert.equal(result.listing.length, 3);
		assert.equal(modem.cfun, 4);
		assert.ok(modem.credentials.has("42,2"));
	});
});

test("error answers stop provisioning with a clear message, and nothing is recorded", async () => {
	await withModem({ override: { "AT%CMNG=0,16842753,2,": "+CME ERROR: 515" } }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "full-modem", clientIdSource: "compile-time" }), (error: unknown) => {
			assert.ok(error instanceof SerialAtError);
			assert.equal(error.code, 515);
			assert.equal(error.message, 'AT%CMNG=0,16842753,2,"...": +CME ERROR: 515');
			return true;
		});
	});
	assert.equal(recorded("full-modem"), false);
	await withModem({ override: { "AT+CFUN=4": "ERROR" } }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "stays-online", clientIdSource: "compile-time" }), /^SerialAtError: AT\+CFUN=4: ERROR$/);
	});
	await withModem({ firmware: "mfw_nrf9160_1.2.3" }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "old-firmware", clientIdSource: "compile-time" }),
			/AT%ATTESTTOKEN: ERROR: the device UUID needs modem firmware 1\.3\.0 or later \(mfw_nrf9160_1\.2\.3\)/);
	});
	await withModem({ override: { "AT+CGSN": "" } }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "silent", clientIdSource: "compile-time", timeout: 300 }), /AT\+CGSN: no final answer within 300 ms/);
	});
	await withModem({ override: { "AT+CGSN": "+CGSN: 12\r\nOK" } }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "bad-imei", clientIdSource: "compile-time" }), /unexpected AT\+CGSN answer: \+CGSN: 12/);
	});
	await withModem({ override: { "AT%ATTESTTOKEN": '%ATTESTTOKEN: "2dn3hQ.0oRD"\r\nOK' } }, async (device) => {
		await assert.rejects(provisionSerial({ cloudState: cloud, serial: device, deviceId: "bad-token", clientIdSource: "compile-time" }), /identity message is not the expected CBOR/);
	});
	for (const id of ["stays-online", "old-firmware", "silent", "bad-imei", "bad-token"]) assert.equal(recorded(id), false, id);
	await assert.rejects(provisionSerial({ cloudState: cloud, serial: notATerminal(join(dir, "plain-file")) }), /is not a terminal \(serial port\)/);
	await assert.rejects(provisionSerial({ cloudState: cloud, serial: join(dir, "no-such-tty") }), /ENOENT/);
});

test("the command line: --serial or --modem, not both, and the IMEI and device UUID it read", async () => {
	const tool = join(process.cwd(), "build", "tools", "provision", "main.js");
	const both = spawnSync("node", [tool, "--cloud-state", cloud, "--serial", "/dev/null", "--modem", dir], { encoding: "utf8" });
	assert.equal(both.status, 1);
	assert.match(both.stderr, /^provision: usage: provision --cloud-state DIR \(--modem DIR \| --serial/);
	await withModem({}, async (device) => {
		const { spawn } = await import("node:child_process");
		const child = spawn("node", [tool, "--cloud-state", cloud, "--serial", device, "--device-id", "cli-device", "--client-id-source", "compile-time"], { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
		const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
		assert.equal(status, 0, stdout);
		assert.match(stdout, new RegExp(`^provisioned cli-device \\(PIN [0-9a-f]{6}\\) in ${device}: IMEI ${IMEI}, device UUID ${UUID}\\n`));
	});
});

test("the emulated modem: the device UUID read back stays with its state directory", () => {
	const first = provision({ cloudState: cloud, modem: join(dir, "modem-a") });
	const again = provision({ cloudState: cloud, modem: join(dir, "modem-a") });
	const other = provision({ cloudState: cloud, modem: join(dir, "modem-b") });
	assert.match(first.deviceUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
	assert.equal(again.deviceUuid, first.deviceUuid);
	assert.notEqual(other.deviceUuid, first.deviceUuid);
	assert.equal(again.imei, readFileSync(join(dir, "modem-a", "imei"), "utf8").trim());
	assert.equal(first.listing.length, 3);
});
