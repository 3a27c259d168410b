/*
 * AT commands to the nRF9160 modem: one function that sends a command and
 * returns the information lines, throwing AtError on ERROR or +CME ERROR, plus
 * typed helpers for what the library needs (IMEI, the device UUID of the
 * attestation token, the modem firmware's UUID and version, credentials in
 * security tags). On the device the binding is the modem
 * library's AT interface; in the simulator host it is the emulated modem.
 */

import { type AttestationToken, parseAttestationToken, tokenOfResponse } from "./attestation.js";

export class AtError extends Error {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype,
		// and assigning "name" to an instance then fails on the inherited read-only property.
		Object.defineProperty(this.prototype, "name", { value: "AtError", writable: true, configurable: true });
	}

	/** The +CME ERROR code, or undefined for a plain ERROR. */
	readonly cme: number | undefined;
	readonly command: string;

	constructor(command: string, cme: number | undefined) {
		super(cme === undefined ? `${command}: ERROR` : `${command}: +CME ERROR: ${cme}`);
		this.command = command;
		this.cme = cme;
	}
}

/** Credential types of AT%CMNG. */
export const CredentialType = Object.freeze({
	CA_CERTIFICATE: 0,
	CLIENT_CERTIFICATE: 1,
	PRIVATE_KEY: 2,
	PSK: 3,
	PSK_IDENTITY: 4,
} as const);

/** The binding: one native call, in the form mcconfig's xsc turns into the C function itself. */
function send(this: unknown, command: string): string {
	return native("xs_modem_at").call(this, command);
}

function keyExists(this: unknown, tag: number, type: number): boolean {
	return native("xs_modem_key_exists").call(this, tag, type);
}

function keyMatches(this: unknown, tag: number, type: number, pem: string): boolean {
	return native("xs_modem_key_matches").call(this, tag, type, pem);
}

function setMonitor(this: unknown, callback: ((line: string, dropped: number) => void) | undefined): void {
	native("xs_modem_monitor").call(this, callback);
}

/** Sends `command` ("AT..."); returns the lines before OK. */
export function at(command: string): string[] {
	if (typeof command !== "string" || !/^AT/i.test(command)) throw new TypeError('an AT command must be a string starting with "AT"');
	if (/[\r\n]/.test(command) && !/^AT%CMNG=0,/i.test(command)) throw new TypeError("an AT command is a single line");
	const lines = send(command).split("\r\n");
	if (lines[lines.length - 1] === "") lines.pop();
	const status = lines.pop();
	if (status === "OK") return lines;
	const cme = status !== undefined && status.startsWith("+CME ERROR: ") ? Number(status.slice(12)) : undefined;
	throw new AtError(command, cme);
}

/** The IMEI: the first 15 characters of the AT+CGSN answer. */
export function imei(): string {
	const [line] = at("AT+CGSN");
	if (line === undefined || !/^\d{15}/.test(line)) throw new Error(`unexpected AT+CGSN answer: ${String(line)}`);
	return line.slice(0, 15);
}

/** Modem firmware name, e.g. "mfw_nrf9160_1.3.0". */
export function firmwareVersion(): string {
	const [line] = at("AT+CGMR");
	if (line === undefined || line.length === 0) throw new Error("empty AT+CGMR answer");
	return line;
}

/** Sends a command that modem firmware before 1.3.0 does not have; says so when it fails. */
function atSince130(command: string): string[] {
	try {
		return at(command);
	}
	catch (error) {
		if (error instanceof AtError) throw new Error(`${command} failed: it needs modem firmware 1.3.0 or later (${firmwareVersion()})`, { cause: error });
		throw error;
	}
}

/** The UUID of the modem firmware (%XMODEMUUID, modem firmware 1.3.0 and later), 8-4-4-4-12 hex. */
export function modemUuid(): string {
	const lines = atSince130("AT%XMODEMUUID");
	const match = /^%XMODEMUUID: ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.exec(lines[0] ?? "");
	if (!match) throw new Error(`unexpected AT%XMODEMUUID answer: ${String(lines[0])}`);
	return match[1]!.toLowerCase();
}

/** The modem's attestation token, parsed (AT%ATTESTTOKEN, modem firmware 1.3.0 and later). */
export function attestationToken(): AttestationToken {
	return parseAttestationToken(tokenOfResponse(atSince130("AT%ATTESTTOKEN")[0]));
}

/** The device UUID from the attestation token, 8-4-4-4-12 lower-case hex: NCS's internal UUID of the device. */
export function deviceUuid(): string {
	return attestationToken().deviceUuid;
}

function checkTag(tag: number): void {
	if (!Number.isInteger(tag) || tag < 0 || tag > 2147483647) throw new RangeError("security tag must be an integer from 0 to 2147483647");
}

function checkType(type: number): void {
	if (!Number.isInteger(type) || type < 0 || type > 6) throw new RangeError("credential type must be 0 to 6");
}

/** Stores a PEM credential in a security tag (the modem must be offline: AT+CFUN=4 or 0). */
export function writeCredential(tag: number, type: number, pem: string): void {
	checkTag(tag);
	checkType(type);
	if (typeof pem !== "string" || pem.length === 0 || pem.includes('"')) throw new TypeError("credential must be non-empty PEM text without quotes");
	at(`AT%CMNG=0,${tag},${type},"${pem}"`);
}

export interface CredentialEntry {
	tag: number;
	type: number;
	sha256: string;
}

export function listCredentials(tag?: number): CredentialEntry[] {
	if (tag !== undefined) checkTag(tag);
	return at(tag === undefined ? "AT%CMNG=1" : `AT%CMNG=1,${tag}`).map((line) => {
		const match = /^%CMNG: (\d+),(\d+),"([0-9A-F]*)"$/.exec(line);
		if (!match) throw new Error(`unexpected AT%CMNG answer: ${line}`);
		return { tag: Number(match[1]), type: Number(match[2]), sha256: match[3]! };
	});
}

/** Key management types (modem_key_mgmt_cred_type): CA, certificate, private key, PSK, PSK identity. */
function checkKeyType(type: number): void {
	if (!Number.isInteger(type) || type < 0 || type > 4) throw new RangeError("credential type must be 0 to 4");
}

/** Whether security tag `tag` holds a credential of `type` (modem key management, without reading it). */
export function hasCredential(tag: number, type: number): boolean {
	checkTag(tag);
	checkKeyType(type);
	return keyExists(tag, type);
}

/** Whether the credential stored in `tag` is exactly `pem` (modem key management's compare), so it need not be written again. */
export function credentialMatches(tag: number, type: number, pem: string): boolean {
	checkTag(tag);
	checkKeyType(type);
	if (typeof pem !== "string" || pem.length === 0) throw new TypeError("credential must be non-empty PEM text");
	return keyMatches(tag, type, pem);
}

/**
 * Calls `onNotification(line, dropped)` for each unsolicited result code of
 * the modem (+CEREG: ..., %CESQ: ...), on the XS thread; `dropped` counts the
 * lines lost before this one because they came faster than they were taken.
 * `undefined` stops it.
 */
export function monitor(onNotification: ((line: string, dropped: number) => void) | undefined): void {
	if (onNotification !== undefined && typeof onNotification !== "function") throw new TypeError("onNotification must be a function or undefined");
	setMonitor(onNotification);
}

export function deleteCredential(tag: number, type: number): void {
	checkTag(tag);
	checkType(type);
	at(`AT%CMNG=3,${tag},${type}`);
}
