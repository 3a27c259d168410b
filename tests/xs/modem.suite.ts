/* The emulated modem's AT interface, through modules/modem/at.ts, inside XS. Run with --state DIR. */

import { AtError, CredentialType, at, attestationToken, credentialMatches, deleteCredential, deviceUuid, firmwareVersion, hasCredential, imei, listCredentials, modemUuid, monitor, writeCredential } from "../../modules/modem/at.js";
import { RegistrationStatus, connect as lteConnect, isRegistered, offline as lteOffline, status as lteStatus } from "../../modules/modem/lte.js";
import { assert, run, simArgs, test } from "./harness.js";

const TAG = 16842753;
/** The Node test runs this suite a second time on a state directory whose modem has firmware 1.2.3. */
const oldFirmware = simArgs().includes("old-firmware");
const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n";

function cme(code: number | undefined) {
	return (e: unknown) => e instanceof AtError && e.cme === code;
}

test("AT+CGSN gives a 15-digit IMEI with a valid Luhn digit, stable across calls", () => {
	const value = imei();
	assert.ok(/^\d{15}$/.test(value), value);
	let sum = 0;
	for (let i = 0; i < 15; i++) {
		let digit = Number(value[i]);
		if (i % 2 === 1) { digit *= 2; if (digit > 9) digit -= 9; }
		sum += digit;
	}
	assert.equal(sum % 10, 0, "Luhn");
	assert.equal(imei(), value);
	assert.deepEqual(at("AT+CGSN=1"), [`+CGSN: "${value}"`]);
});

test("AT+CGMR, AT+CGMI, AT+CGMM and AT%XMODEMUUID", () => {
	assert.equal(firmwareVersion(), oldFirmware ? "mfw_nrf9160_1.2.3" : "mfw_nrf9160_1.3.0");
	assert.deepEqual(at("AT+CGMI"), ["Nordic Semiconductor ASA"]);
	assert.deepEqual(at("AT+CGMM"), ["nRF9160-SICA"]);
	if (oldFirmware) return;
	const uuid = modemUuid();
	assert.ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid), uuid);
	assert.equal(modemUuid(), uuid);
});

if (!oldFirmware) test("AT%ATTESTTOKEN: a stable device UUID, the firmware UUID of %XMODEMUUID, a new nonce each time", () => {
	const answer = at("AT%ATTESTTOKEN");
	assert.equal(answer.length, 1);
	assert.ok(/^%ATTESTTOKEN: "[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"$/.test(answer[0]!), answer[0]);
	const first = attestationToken();
	const second = attestationToken();
	assert.ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(first.deviceUuid), first.deviceUuid);
	assert.equal(second.deviceUuid, first.deviceUuid);
	assert.equal(deviceUuid(), first.deviceUuid);
	assert.equal(first.firmwareUuid, modemUuid());
	assert.ok(first.deviceUuid !== first.firmwareUuid, "device and firmware UUIDs differ");
	assert.equal(first.deviceType, 3, "nRF9160 SICA, as AT+CGMM says");
	assert.ok(/^[0-9a-f]{32}$/.test(first.nonce) && first.nonce !== second.nonce, `${first.nonce} ${second.nonce}`);
});

test("unknown and malformed commands give ERROR, or +CME ERROR with AT+CMEE=1", () => {
	assert.throws(() => at("AT+NOPE"), cme(undefined));
	assert.throws(() => at("AT+CFUN=7"), cme(undefined));
	assert.throws(() => at("ATX"), cme(undefined));
	assert.throws(() => at("hello"), (e) => e instanceof TypeError);
	assert.throws(() => at("AT\r\nAT"), (e) => e instanceof TypeError);
	assert.deepEqual(at("AT"), []);
});

test("AT%CMNG refuses writes while the modem is online", () => {
	at("AT+CMEE=1");
	at("AT+CFUN=1");
	assert.deepEqual(at("AT+CFUN?"), ["+CFUN: 1"]);
	assert.throws(() => writeCredential(TAG, CredentialType.CA_CERTIFICATE, PEM), cme(518));
	at("AT+CFUN=4");
	assert.deepEqual(at("AT+CFUN?"), ["+CFUN: 4"]);
});

test("AT%CMNG writes, lists, reads and deletes credentials by security tag", () => {
	writeCredential(TAG, CredentialType.CA_CERTIFICATE, PEM);
	writeCredential(TAG, CredentialType.CLIENT_CERTIFICATE, PEM.replace("QUQ", "XYZ"));
	writeCredential(TAG, CredentialType.PRIVATE_KEY, "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n");
	writeCredential(42, CredentialType.CA_CERTIFICATE, PEM);
	const listed = listCredentials(TAG);
	assert.deepEqual(listed.map((e) => [e.tag, e.type]), [[TAG, 0], [TAG, 1], [TAG, 2]]);
	assert.ok(listed.every((e) => /^[0-9A-F]{64}$/.test(e.sha256)));
	assert.deepEqual(listCredentials().map((e) => e.tag), [42, TAG, TAG, TAG]);
	const read = at(`AT%CMNG=2,${TAG},0`);
	assert.ok(read[0]!.startsWith(`%CMNG: ${TAG},0,"${listed[0]!.sha256}","-----BEGIN CERTIFICATE-----`));
	assert.throws(() => at(`AT%CMNG=2,${TAG},2`), cme(514), "a private key cannot be read back");
	deleteCredential(42, CredentialType.CA_CERTIFICATE);
	assert.throws(() => deleteCredential(42, CredentialType.CA_CERTIFICATE), cme(513));
	assert.throws(() => at(`AT%CMNG=2,42,0`), cme(513));
	assert.throws(() => at("AT%CMNG=0,1,0"), cme(undefined), "write without content");
	assert.throws(() => at("AT%CMNG=9"), cme(undefined));
	assert.throws(() => writeCredential(-1, 0, PEM), (e) => e instanceof RangeError);
	assert.throws(() => writeCredential(1, 9, PEM), (e) => e instanceof RangeError);
	assert.throws(() => writeCredential(1, 0, ""), (e) => e instanceof TypeError);
});

test("key management: exists and compare by security tag", () => {
	at("AT+CFUN=4");
	writeCredential(7, CredentialType.CA_CERTIFICATE, PEM);
	assert.equal(hasCredential(7, CredentialType.CA_CERTIFICATE), true);
	assert.equal(hasCredential(7, CredentialType.PRIVATE_KEY), false);
	assert.equal(credentialMatches(7, CredentialType.CA_CERTIFICATE, PEM), true);
	assert.equal(credentialMatches(7, CredentialType.CA_CERTIFICATE, PEM.replace("MIIB", "MIIC")), false);
	assert.equal(credentialMatches(7, CredentialType.PSK, PEM), false);
	deleteCredential(7, CredentialType.CA_CERTIFICATE);
	assert.equal(hasCredential(7, CredentialType.CA_CERTIFICATE), false);
	assert.throws(() => hasCredential(7, 5), (e) => e instanceof RangeError);
	assert.throws(() => credentialMatches(-1, 0, PEM), (e) => e instanceof RangeError);
	assert.throws(() => monitor(42 as never), (e) => e instanceof TypeError);
});

test("LTE: connect reports the latest registration after the call, notifications each line, offline takes the link down", async () => {
	at("AT+CFUN=4");
	await new Promise<void>((resolve) => setTimeout(resolve, 20));	// what going offline notified is delivered before the monitor starts
	const lines: string[] = [];
	const statuses: number[] = [];
	monitor((line) => lines.push(line));
	assert.throws(() => lteConnect({} as never), (e) => e instanceof TypeError);
	lteConnect({ onStatus: (status) => statuses.push(status) });
	assert.deepEqual(statuses, [], "nothing is delivered inside the call");
	await new Promise<void>((resolve) => setTimeout(resolve, 20));
	assert.deepEqual(lines, ["+CEREG: 2", "+CEREG: 1"]);
	assert.deepEqual(statuses, [RegistrationStatus.REGISTERED_HOME], "searching and home coalesce into the latest status");
	assert.ok(isRegistered(lteStatus()));
	lteOffline();
	await new Promise<void>((resolve) => setTimeout(resolve, 20));
	assert.deepEqual(lines, ["+CEREG: 2", "+CEREG: 1", "+CEREG: 0"]);
	assert.deepEqual(statuses, [RegistrationStatus.REGISTERED_HOME], "no status after offline");
	assert.equal(lteStatus(), RegistrationStatus.NOT_REGISTERED);
	monitor(undefined);
});

// Only on old firmware: on current firmware it would have nothing to check (the UUID test above covers that case).
if (oldFirmware) test("AT%XMODEMUUID and AT%ATTESTTOKEN on modem firmware before 1.3.0 are clear errors", () => {
	assert.throws(() => modemUuid(), (e) => e instanceof Error && /^AT%XMODEMUUID failed: .*1\.3\.0 or later \(mfw_nrf9160_1\.2\.3\)/.test((e as Error).message));
	assert.throws(() => deviceUuid(), (e) => e instanceof Error && /^AT%ATTESTTOKEN failed: .*1\.3\.0 or later \(mfw_nrf9160_1\.2\.3\)/.test((e as Error).message));
});

await run("modem");
