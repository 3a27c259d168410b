/*
 * `npm run provision -- --cloud-state DIR --modem DIR --device-id ID [--out DIR] [--pin PIN] [--sec-tag N]`:
 * makes a device key and a certificate (CN = device ID) signed by the local
 * nRF Cloud's device CA, and stores the cloud's server CA, the certificate and
 * the key in the emulated modem's security tag (default 16842753) with AT%CMNG
 * through the simulator host. The device's association PIN is recorded with the
 * cloud. With --out it also writes ca.pem, <id>.pem and <id>.key there.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { option, wholeNumber } from "../lib/args.js";
import { issue, writePrivateFile } from "../lib/pki.js";
import { Store } from "../cloud-sim/store.js";

export const DEFAULT_SEC_TAG = 16842753;

export interface ProvisionOptions {
	cloudState: string;
	modem: string;
	deviceId: string;
	out?: string;
	pin?: string;
	secTag?: number;
}

export interface Provisioned {
	deviceId: string;
	pin: string;
	listing: string[];
}

const root = resolve(new URL(".", import.meta.url).pathname, "..", "..", "..");

export function provision(options: ProvisionOptions): Provisioned {
	const { deviceId } = options;
	if (!/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) throw new RangeError("device ID must be 1 to 64 characters of letters, digits, - and _");
	const pin = options.pin ?? randomBytes(3).toString("hex");
	if (!/^[0-9a-zA-Z]{4,16}$/.test(pin)) throw new RangeError("PIN must be 4 to 16 letters or digits");
	const secTag = options.secTag ?? DEFAULT_SEC_TAG;
	const pki = join(resolve(options.cloudState), "pki");
	if (!existsSync(join(pki, "device-ca.key"))) throw new Error(`${options.cloudState} holds no local nRF Cloud (start it once with npm run cloud-sim)`);
	const work = mkdtempSync(join(tmpdir(), "provision-"));
	try {
		copyFileSync(join(pki, "device-ca.pem"), join(work, "device-ca.pem"));
		writePrivateFile(join(work, "device-ca.key"), readFileSync(join(pki, "device-ca.key")));
		issue(work, "device", `/CN=${deviceId}`, "device-ca", "extendedKeyUsage=clientAuth\n", 3650);
		const ca = readFileSync(join(pki, "server-ca.pem"), "utf8");
		const certificate = readFileSync(join(work, "device.pem"), "utf8");
		const key = readFileSync(join(work, "device.key"), "utf8");
		const host = join(root, "build", "sim", "release", "sim");
		if (!existsSync(host)) throw new Error("no simulator host; run npm run build");
		mkdirSync(options.modem, { recursive: true });
		const result = spawnSync(host, ["--state", resolve(options.modem), join(root, "build", "tools", "provision", "at-runner.js"), String(secTag), ca, certificate, key], { encoding: "utf8" });
		if (result.status !== 0) throw new Error(`storing the credentials with AT%CMNG failed: ${result.stderr}`);
		const store = new Store(resolve(options.cloudState));
		try {
			store.provision(deviceId, pin);
		}
		finally {
			void store.close();	// no message was kept: the database closes at once
		}
		if (options.out) {
			mkdirSync(options.out, { recursive: true });
			copyFileSync(join(pki, "server-ca.pem"), join(options.out, "ca.pem"));
			copyFileSync(join(work, "device.pem"), join(options.out, `${deviceId}.pem`));
			writePrivateFile(join(options.out, `${deviceId}.key`), readFileSync(join(work, "device.key")));
		}
		return { deviceId, pin, listing: result.stdout.trim().split("\n") };
	}
	finally {
		rmSync(work, { recursive: true, force: true });
	}
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
	try {
		const argv = process.argv.slice(2);
		const cloudState = option(argv, "--cloud-state");
		const modem = option(argv, "--modem");
		const deviceId = option(argv, "--device-id");
		if (!cloudState || !modem || !deviceId) throw new Error("usage: provision --cloud-state DIR --modem DIR --device-id ID [--out DIR] [--pin PIN] [--sec-tag N]");
		const result = provision({ cloudState, modem, deviceId, out: option(argv, "--out"), pin: option(argv, "--pin"), secTag: wholeNumber(argv, "--sec-tag") });
		console.log(`provisioned ${result.deviceId} (PIN ${result.pin}) in ${modem}:`);
		for (const line of result.listing) console.log(`  ${line}`);
	}
	catch (error) {
		console.error(`provision: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	}
}
