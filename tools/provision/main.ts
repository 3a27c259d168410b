/*
 * `npm run provision -- --cloud-state DIR (--modem DIR | --serial /dev/ttyACM0) [--device-id ID] [--out DIR] [--pin PIN] [--sec-tag N]`:
 * makes a device key and a certificate (CN = device ID) signed by the local
 * nRF Cloud's device CA, and stores the cloud's server CA, the certificate and
 * the key in a modem security tag (default 16842753) with AT%CMNG, the modem
 * offline (AT+CFUN=4) meanwhile; then reads the IMEI (AT+CGSN) and the device
 * UUID (AT%ATTESTTOKEN) back. With --modem the modem is the emulated one of a
 * state directory, driven through the simulator host; with --serial it is a
 * real device's, over its serial AT interface (the device runs an AT host such
 * as NCS's at_client sample). The device's association PIN is recorded with
 * the cloud. With --out it also writes ca.pem, <id>.pem and <id>.key there.
 * Without --device-id a serial device is named nrf-<IMEI>.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAttestationToken, tokenOfResponse } from "../../modules/modem/attestation.js";
import { CredentialType } from "../../modules/modem/at.js";
import { option, wholeNumber } from "../lib/args.js";
import { issue, writePrivateFile } from "../lib/pki.js";
import { Store } from "../cloud-sim/store.js";
import { SerialAt, SerialAtError } from "./serial.js";

export const DEFAULT_SEC_TAG = 16842753;

interface CommonOptions {
	cloudState: string;
	out?: string;
	pin?: string;
	secTag?: number;
}

export interface ProvisionOptions extends CommonOptions {
	modem: string;
	deviceId: string;
}

export interface SerialProvisionOptions extends CommonOptions {
	serial: string;
	deviceId?: string;
	/** Milliseconds to wait for each answer (default 10000). */
	timeout?: number;
}

export interface Provisioned {
	deviceId: string;
	pin: string;
	/** The %CMNG listing of the security tag. */
	listing: string[];
	imei: string;
	/** The device UUID of the modem's attestation token, 8-4-4-4-12. */
	deviceUuid: string;
}

const root = resolve(new URL(".", import.meta.url).pathname, "..", "..", "..");
/** +CME ERROR 513: not found (AT%CMNG=3 of a credential that is not there). */
const CME_NOT_FOUND = 513;

interface Credentials {
	ca: string;
	certificate: string;
	key: string;
}

interface Checked {
	pin: string;
	secTag: number;
	pki: string;
}

function check(options: CommonOptions, deviceId: string | undefined): Checked {
	if (deviceId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) throw new RangeError("device ID must be 1 to 64 characters of letters, digits, - and _");
	const pin = options.pin ?? randomBytes(3).toString("hex");
	if (!/^[0-9a-zA-Z]{4,16}$/.test(pin)) throw new RangeError("PIN must be 4 to 16 letters or digits");
	const secTag = options.secTag ?? DEFAULT_SEC_TAG;
	if (!Number.isInteger(secTag) || secTag < 0 || secTag > 2147483647) throw new RangeError("security tag must be an integer from 0 to 2147483647");
	const pki = join(resolve(options.cloudState), "pki");
	if (!existsSync(join(pki, "device-ca.key"))) throw new Error(`${options.cloudState} holds no local nRF Cloud (start it once with npm run cloud-sim)`);
	return { pin, secTag, pki };
}

/** Issues the device's key and certificate in `work`; returns them with the server CA. */
function issueCredentials(pki: string, deviceId: string, work: string): Credentials {
	copyFileSync(join(pki, "device-ca.pem"), join(work, "device-ca.pem"));
	writePrivateFile(join(work, "device-ca.key"), readFileSync(join(pki, "device-ca.key")));
	issue(work, "device", `/CN=${deviceId}`, "device-ca", "extendedKeyUsage=clientAuth\n", 3650);
	return {
		ca: readFileSync(join(pki, "server-ca.pem"), "utf8"),
		certificate: readFileSync(join(work, "device.pem"), "utf8"),
		key: readFileSync(join(work, "device.key"), "utf8"),
	};
}

/** Records the device with the cloud and writes the files of --out. */
function record(options: CommonOptions, pki: string, deviceId: string, pin: string, work: string): void {
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
}

/** Provisions the emulated modem of the state directory `options.modem`, through the simulator host. */
export function provision(options: ProvisionOptions): Provisioned {
	const { deviceId } = options;
	if (typeof deviceId !== "string") throw new TypeError("the emulated modem needs a device ID");
	const { pin, secTag, pki } = check(options, deviceId);
	const work = mkdtempSync(join(tmpdir(), "provision-"));
	try {
		const { ca, certificate, key } = issueCredentials(pki, deviceId, work);
		const host = join(root, "build", "sim", "release", "sim");
		if (!existsSync(host)) throw new Error("no simulator host; run npm run build");
		mkdirSync(options.modem, { recursive: true });
		const result = spawnSync(host, ["--state", resolve(options.modem), join(root, "build", "tools", "provision", "at-runner.js"), String(secTag), ca, certificate, key], { encoding: "utf8" });
		if (result.status !== 0) throw new Error(`storing the credentials with AT%CMNG failed: ${result.stderr}`);
		record(options, pki, deviceId, pin, work);
		const lines = result.stdout.trim().split("\n");
		const identity = lines.filter((line) => /^(IMEI|UUID) /.test(line));
		return {
			deviceId,
			pin,
			listing: lines.filter((line) => line.startsWith("%CMNG: ")),
			imei: identity.find((line) => line.startsWith("IMEI "))?.slice(5) ?? "",
			deviceUuid: identity.find((line) => line.startsWith("UUID "))?.slice(5) ?? "",
		};
	}
	finally {
		rmSync(work, { recursive: true, force: true });
	}
}

/** The AT+CGSN answer's IMEI, 15 digits. */
function imeiOf(lines: string[]): string {
	const line = lines[0];
	if (line === undefined || !/^\d{15}$/.test(line)) throw new Error(`unexpected AT+CGSN answer: ${String(line)}`);
	return line;
}

/** Provisions a real device over its serial AT interface. */
export async function provisionSerial(options: SerialProvisionOptions): Promise<Provisioned> {
	const checked = check(options, options.deviceId);
	const port = new SerialAt(options.serial, { timeout: options.timeout });
	const work = mkdtempSync(join(tmpdir(), "provision-"));
	try {
		await port.command("AT+CMEE=1");
		const cfun = await port.command("AT+CFUN?");
		const online = cfun[0] !== undefined && !/^\+CFUN: [04]$/.test(cfun[0]);
		// Credentials can be written only while the modem is offline.
		await port.command("AT+CFUN=4");
		const imei = imeiOf(await port.command("AT+CGSN"));
		let token;
		try {
			token = parseAttestationToken(tokenOfResponse((await port.command("AT%ATTESTTOKEN"))[0]));
		}
		catch (error) {
			if (error instanceof SerialAtError) throw new Error(`${error.message}: the device UUID needs modem firmware 1.3.0 or later (${(await port.command("AT+CGMR"))[0] ?? "unknown"})`, { cause: error });
			throw error;
		}
		const deviceId = options.deviceId ?? `nrf-${imei}`;
		const { ca, certificate, key } = issueCredentials(checked.pki, deviceId, work);
		const tag = checked.secTag;
		for (const [type, pem] of [[CredentialType.CA_CERTIFICATE, ca], [CredentialType.CLIENT_CERTIFICATE, certificate], [CredentialType.PRIVATE_KEY, key]] as const) {
			try {
				await port.command(`AT%CMNG=3,${tag},${type}`);
			}
			catch (error) {
				if (!(error instanceof SerialAtError && error.code === CME_NOT_FOUND)) throw error;
			}
			await port.command(`AT%CMNG=0,${tag},${type},"${pem}"`);
		}
		const listing = await port.command(`AT%CMNG=1,${tag}`);
		const types = listing.map((line) => /^%CMNG: (\d+),(\d+),/.exec(line)).filter((m) => m !== null && Number(m[1]) === tag).map((m) => Number(m![2]));
		for (const type of [0, 1, 2]) if (!types.includes(type)) throw new Error(`security tag ${tag} lacks credential type ${type} after writing it: ${listing.join(" | ")}`);
		if (online) await port.command("AT+CFUN=1");
		record(options, checked.pki, deviceId, checked.pin, work);
		return { deviceId, pin: checked.pin, listing, imei, deviceUuid: token.deviceUuid };
	}
	finally {
		port.close();
		rmSync(work, { recursive: true, force: true });
	}
}

const USAGE = "usage: provision --cloud-state DIR (--modem DIR --device-id ID | --serial /dev/ttyACM0 [--device-id ID]) [--out DIR] [--pin PIN] [--sec-tag N]";

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
	try {
		const argv = process.argv.slice(2);
		const cloudState = option(argv, "--cloud-state");
		const modem = option(argv, "--modem");
		const serial = option(argv, "--serial");
		const deviceId = option(argv, "--device-id");
		if (!cloudState || (modem === undefined) === (serial === undefined) || (modem !== undefined && !deviceId)) throw new Error(USAGE);
		const common = { cloudState, out: option(argv, "--out"), pin: option(argv, "--pin"), secTag: wholeNumber(argv, "--sec-tag") };
		const result = serial !== undefined ? await provisionSerial({ ...common, serial, deviceId }) : provision({ ...common, modem: modem!, deviceId: deviceId! });
		console.log(`provisioned ${result.deviceId} (PIN ${result.pin}) in ${serial ?? modem}: IMEI ${result.imei}, device UUID ${result.deviceUuid}`);
		for (const line of result.listing) console.log(`  ${line}`);
	}
	catch (error) {
		console.error(`provision: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	}
}
