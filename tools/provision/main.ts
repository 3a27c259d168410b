/*
 * `npm run provision -- --cloud-state DIR (--modem DIR | --serial /dev/ttyACM0) [--device-id ID] [--client-id-source S] [--out DIR] [--pin PIN] [--sec-tag N]`:
 * reads the device's ID from its modem, as a factory line does (the IMEI with
 * AT+CGSN, the device UUID with AT%ATTESTTOKEN; tools/provision/device-id.ts),
 * makes a device key and a certificate (CN = that ID) signed by the local
 * nRF Cloud's device CA, and stores the cloud's server CA, the certificate and
 * the key in a modem security tag (default 16842753) with AT%CMNG, the modem
 * offline (AT+CFUN=4) meanwhile. With --modem the modem is the emulated one of
 * a state directory, driven through the simulator host; with --serial it is a
 * real device's, over its serial AT interface (the device runs an AT host such
 * as NCS's at_client sample). The device's association PIN is recorded with
 * the cloud. With --out it also writes ca.pem, <id>.pem and <id>.key there.
 *
 * The ID is the one the firmware connects with for its client ID source
 * (--client-id-source, default imei: nrf-<IMEI>; internal-uuid: the device
 * UUID). --device-id is then only a check: one that disagrees with the modem is
 * an error, since the cloud would refuse that device for ever. For the
 * compile-time and runtime sources --device-id is the ID, and required.
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
import { checkDeviceIdShape, deviceIdFor, idFromModem, type DeviceIdRequest, type ModemIdentity } from "./device-id.js";

export const DEFAULT_SEC_TAG = 16842753;

interface CommonOptions {
	cloudState: string;
	/** The firmware's client ID source: imei (default), internal-uuid, compile-time, runtime. */
	clientIdSource?: string;
	/** The prefix of the IMEI client ID (default nrf-). */
	clientIdPrefix?: string;
	/** Checked against the modem for imei and internal-uuid; the ID itself for compile-time and runtime. */
	deviceId?: string;
	out?: string;
	pin?: string;
	secTag?: number;
}

export interface ProvisionOptions extends CommonOptions {
	modem: string;
}

export interface SerialProvisionOptions extends CommonOptions {
	serial: string;
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

function idRequest(options: CommonOptions): DeviceIdRequest {
	return { source: options.clientIdSource, prefix: options.clientIdPrefix, deviceId: options.deviceId };
}

function check(options: CommonOptions): Checked {
	if (typeof options !== "object" || options === null) throw new TypeError("provisioning needs its options");
	if (typeof options.cloudState !== "string") throw new TypeError("cloudState must be the local nRF Cloud's state directory");
	// The ID's source and shape, before the modem is asked anything.
	if (!idFromModem(options.clientIdSource)) deviceIdFor(idRequest(options), undefined);
	else if (options.deviceId !== undefined) checkDeviceIdShape(options.deviceId);
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

/** Runs the AT runner in the simulator host on the emulated modem of `modem`; its output lines. */
function atRunner(modem: string, args: string[], what: string): string[] {
	const host = join(root, "build", "sim", "release", "sim");
	if (!existsSync(host)) throw new Error("no simulator host; run npm run build");
	const result = spawnSync(host, ["--state", resolve(modem), join(root, "build", "tools", "provision", "at-runner.js"), ...args], { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`${what} failed: ${result.stderr || `the simulator host exited with ${String(result.status ?? result.signal)}`}`);
	return result.stdout.trim().split("\n");
}

function identityOf(lines: string[]): ModemIdentity {
	const value = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.slice(name.length + 1) ?? "";
	return { imei: value("IMEI"), deviceUuid: value("UUID") };
}

/** The IMEI and device UUID of the emulated modem of the state directory `modem` (made on first use, then kept). */
export function modemIdentity(modem: string): ModemIdentity {
	if (typeof modem !== "string" || modem.length === 0) throw new TypeError("modem must be a state directory");
	mkdirSync(modem, { recursive: true });
	return identityOf(atRunner(modem, ["identity"], "reading the IMEI and device UUID (AT+CGSN, AT%ATTESTTOKEN)"));
}

/** Provisions the emulated modem of the state directory `options.modem`, through the simulator host. */
export function provision(options: ProvisionOptions): Provisioned {
	const { pin, secTag, pki } = check(options);
	if (typeof options.modem !== "string" || options.modem.length === 0) throw new TypeError("modem must be a state directory");
	const identity = modemIdentity(options.modem);
	const deviceId = deviceIdFor(idRequest(options), identity);
	const work = mkdtempSync(join(tmpdir(), "provision-"));
	try {
		const { ca, certificate, key } = issueCredentials(pki, deviceId, work);
		const lines = atRunner(options.modem, [String(secTag), ca, certificate, key], "storing the credentials with AT%CMNG");
		record(options, pki, deviceId, pin, work);
		return { deviceId, pin, listing: lines.filter((line) => line.startsWith("%CMNG: ")), ...identityOf(lines) };
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
	const checked = check(options);
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
		const deviceId = deviceIdFor(idRequest(options), { imei, deviceUuid: token.deviceUuid });
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

const USAGE = "usage: provision --cloud-state DIR (--modem DIR | --serial /dev/ttyACM0) [--device-id ID] [--client-id-source imei|internal-uuid|compile-time|runtime] [--client-id-prefix P] [--out DIR] [--pin PIN] [--sec-tag N]";

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
	try {
		const argv = process.argv.slice(2);
		const cloudState = option(argv, "--cloud-state");
		const modem = option(argv, "--modem");
		const serial = option(argv, "--serial");
		const deviceId = option(argv, "--device-id");
		if (!cloudState || (modem === undefined) === (serial === undefined)) throw new Error(USAGE);
		const common = {
			cloudState, deviceId, out: option(argv, "--out"), pin: option(argv, "--pin"), secTag: wholeNumber(argv, "--sec-tag"),
			clientIdSource: option(argv, "--client-id-source"), clientIdPrefix: option(argv, "--client-id-prefix"),
		};
		const result = serial !== undefined ? await provisionSerial({ ...common, serial }) : provision({ ...common, modem: modem! });
		console.log(`provisioned ${result.deviceId} (PIN ${result.pin}) in ${serial ?? modem}: IMEI ${result.imei}, device UUID ${result.deviceUuid}`);
		for (const line of result.listing) console.log(`  ${line}`);
	}
	catch (error) {
		console.error(`provision: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	}
}
