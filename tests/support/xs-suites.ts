/*
 * The XS suites and the tests each is expected to report, written out here
 * rather than read from the suites, so that a test dropped from a suite (or
 * one that stops registering) fails its wrapper instead of shrinking the
 * count. Every way the release build runs a suite is listed in suiteRuns(),
 * which the debug-build comparison in sim-host.test.ts runs as well.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REBOOT_STATUS } from "../../tools/lib/supervise.js";
import { runSim } from "./sim.js";
import { assertSuite, suiteFile, type SuiteReport } from "./xs-suite.js";

export const HOST_TESTS = [
	"ES modules load through relative specifiers, with their own imports",
	"dynamic import resolves and caches modules",
	"a missing module is a clear error",
	"timers fire in deadline order, after promise jobs",
	"setInterval repeats until cleared; Timer.repeat, schedule and clear",
	"Timer.set passes the timer to its callback; Timer.delay blocks",
	"async functions and promise chains run to completion",
	"native() finds host functions and rejects unknown names",
	"Native() classes are host objects that subclass normally",
	"the host reports memory figures",
	"console and trace write lines",
] as const;

/** What the host suite's "console and trace write lines" prints, line by line. */
export const HOST_CONSOLE_LINES = ['console line 1 {"a":[1,2]}', "trace line", "second trace line"] as const;

export const CODEC_TESTS = [
	"mqtt-packet's frames: both codecs decode them to its packet and encode the packet to its bytes",
	"random packets: same bytes, same decoded packets",
	"a stream split at every byte decodes the same in C",
	"the malformed corpus gives the same error codes in C",
	"random bytes: both decoders agree on packets, errors and waiting",
	"the decoders enforce the size limit, stay failed and reset alike",
	"encoding errors carry the same codes",
] as const;

export const MODEM_TESTS = [
	"AT+CGSN gives a 15-digit IMEI with a valid Luhn digit, stable across calls",
	"AT+CGMR, AT+CGMI, AT+CGMM and AT%XMODEMUUID",
	"AT%ATTESTTOKEN: a stable device UUID, the firmware UUID of %XMODEMUUID, a new nonce each time",
	"unknown and malformed commands give ERROR, or +CME ERROR with AT+CMEE=1",
	"AT%CMNG refuses writes while the modem is online",
	"AT%CMNG writes, lists, reads and deletes credentials by security tag",
	"key management: exists and compare by security tag",
	"LTE: connect reports the latest registration after the call, notifications each line, offline takes the link down",
] as const;

/** With the argument "old-firmware" the modem suite has one test more. */
export const MODEM_OLD_FIRMWARE_TESTS = [...MODEM_TESTS.filter((name) => !name.startsWith("AT%ATTESTTOKEN")), "AT%XMODEMUUID and AT%ATTESTTOKEN on modem firmware before 1.3.0 are clear errors"] as const;

export const NRF_CLOUD_TESTS = [
	"encoders give the C library's bytes (V6, V7, V8, V9, V10, V16, V18)",
	"decoders on UTF-8 payloads, job documents and the stored job record",
	"random and malformed shadow data in every state: no exception, valid states, only allowed events",
	"the device binding: client ID from the emulated modem, or a clear error on old modem firmware",
] as const;

export interface DevicePhase {
	/** The device suite's argument for this start. */
	phase: string;
	expected: readonly string[];
	/** 75 when the start ends in DfuTarget.reboot(). */
	status: number;
}

export const JSON_FUZZ_TESTS = [
	"shadow and delta documents: never an exception, only objects accepted",
	"pairing states: never an exception, endpoints only from a complete paired document",
	"job documents: never an exception, accepted exactly when valid",
	"stored job records: never an exception, accepted only with a known validation and a terminated printable ID",
] as const;

/** The starts of the device suite on one state directory, in order (tests/xs/device.suite.ts says what each does). */
export const DEVICE_PHASES: readonly DevicePhase[] = [
	{ phase: "first", status: REBOOT_STATUS, expected: [
		"key-value: write, read, list and delete; integers as 4 bytes",
		"DFU: the app on the command line runs confirmed, from no slot, with S0 active",
		"DFU: bad options are TypeError and RangeError",
		"DFU: a damaged, incomplete or unbootable image fails the integrity check",
		"DFU: a modem image is checked against its SHA-256 and names its firmware",
		"DFU: resume keeps a partial image of the same type and size and restores written",
		"DFU: an application image is written with progress, verified, scheduled, and the device reboots",
	] },
	{ phase: "second", status: REBOOT_STATUS, expected: [
		"key-value values survived the restart",
		"the app image scheduled before the reboot runs, unconfirmed",
	] },
	{ phase: "third", status: REBOOT_STATUS, expected: [
		"the image that was not confirmed is reverted: the app on the command line runs again",
		"the app image is scheduled again",
	] },
	{ phase: "fourth", status: REBOOT_STATUS, expected: [
		"confirm() keeps the running image; twice is the same",
		"a BOOT image is written for the inactive slot and scheduled",
	] },
	{ phase: "fifth", status: REBOOT_STATUS, expected: [
		"the BOOT update made S1 active; the confirmed app image still runs",
		"a MODEM update applied without a reboot changes AT+CGMR at once",
		"a MODEM update is scheduled for the next start",
	] },
	{ phase: "sixth", status: REBOOT_STATUS, expected: [
		"the MODEM update scheduled before the reboot is in AT+CGMR",
		"a BOOT image is scheduled once more",
	] },
	{ phase: "seventh", status: 0, expected: [
		"an update damaged in the slot after it was scheduled fails at the start; the old images stay",
	] },
];

/** Between the sixth and seventh starts: one byte of the scheduled image in the slot flipped, as a flash fault would. */
export function damageScheduledImage(state: string): void {
	const slot = join(state, "dfu", "secondary.bin");
	const bytes = readFileSync(slot);
	bytes[200] = bytes[200]! ^ 0x01;
	writeFileSync(slot, bytes);
}

export const TLS_TESTS = [
	"credentials go into the modem's security tags with AT%CMNG",
	"MQTT over TLS with the TypeScript codec: connect, subscribe, QoS 0 and 1 round trip, disconnect",
	"MQTT over TLS with the C codec: connect, subscribe, QoS 0 and 1 round trip, disconnect",
	"a client certificate from an untrusted CA is refused by the broker in the handshake",
	"the server certificate is verified against the tag's CA and the SNI name",
	"a tag without a client certificate connects TLS but the broker refuses it",
	"bad arguments throw synchronously; a refused TCP connection reports through onError",
	"TLS sessions: a connection resumes the tag's last session; after the tag's credentials are written it is not offered",
] as const;

export const CONNECT_FAILURE_TESTS = [
	"security tags for each failure go into the modem",
	"a host name that does not resolve: the socket reports EHOSTUNREACH, the library -3",
	"a tag with a client certificate but no private key: the socket reports EINVAL, the library -7",
	"a tag whose private key does not parse: the socket reports EINVAL, the library -7",
	"a tag without a CA certificate: the socket reports EOPNOTSUPP, the library -8",
	"a tag whose CA certificate does not parse: the socket reports EOPNOTSUPP, the library -8",
	"a server certificate the tag's CA did not sign: the socket reports EOPNOTSUPP, the library -8",
	"a client certificate the broker refuses in the handshake: the socket reports ECONNREFUSED, the library -9",
	"a port nobody listens on: the socket reports ECONNREFUSED, the library -9",
	"the working tag connects, and the library reports SUCCESS",
	"several addresses: refused ones are skipped until one connects, over TLS",
	"the host name localhost connects whichever of its addresses comes first",
	"several addresses that all refuse: the last one's error is reported",
	"bad address lists are refused before anything is opened",
] as const;

/** The exit status of a device suite start that ends in the reboot it asks for. */
export { REBOOT_STATUS };

export interface SuiteRun {
	/** Names this run in messages and in the debug comparison. */
	label: string;
	suite: string;
	/** Host options (before the suite) and the suite's own arguments (after it). */
	options: string[];
	args: string[];
	expected: readonly string[];
	status: number;
	/** Done to the state before the run. */
	prepare?: () => void;
}

/** Modem firmware 1.2.3 in a fresh state directory, for the old-firmware runs. */
export function oldFirmwareState(directory: string): string {
	mkdirSync(directory, { recursive: true });
	writeFileSync(join(directory, "firmware"), "mfw_nrf9160_1.2.3\n");
	return directory;
}

/**
 * Every run of an XS suite the release wrappers make, in an order that works
 * (the device suite's second run needs the first's state), each with its own
 * state under `scratch`. The TLS run needs startTlsFixture() and the device
 * runs writeDeviceFixture() (xs-fixtures.ts); the codec run writeMqttPacketVectors().
 */
export function suiteRuns(scratch: string): SuiteRun[] {
	const state = (name: string) => join(scratch, name);
	return [
		{ label: "host", suite: "host", options: [], args: [], expected: HOST_TESTS, status: 0 },
		{ label: "codec", suite: "codec", options: ["--timeout", "300"], args: [], expected: CODEC_TESTS, status: 0 },
		{ label: "modem", suite: "modem", options: ["--state", state("modem")], args: [], expected: MODEM_TESTS, status: 0 },
		{ label: "modem on old firmware", suite: "modem", options: ["--state", oldFirmwareState(state("modem-old"))], args: ["old-firmware"], expected: MODEM_OLD_FIRMWARE_TESTS, status: 0 },
		{ label: "nrf-cloud", suite: "nrf-cloud", options: ["--state", state("nrf-cloud")], args: [], expected: NRF_CLOUD_TESTS, status: 0 },
		{ label: "nrf-cloud on old firmware", suite: "nrf-cloud", options: ["--state", oldFirmwareState(state("nrf-cloud-old"))], args: ["old-firmware"], expected: NRF_CLOUD_TESTS, status: 0 },
		...DEVICE_PHASES.map((phase): SuiteRun => ({
			label: `device, ${phase.phase} start`, suite: "device", options: ["--state", state("device")], args: [phase.phase], expected: phase.expected, status: phase.status,
			prepare: phase.phase === "seventh" ? () => damageScheduledImage(state("device")) : undefined,
		})),
		{ label: "tls", suite: "tls", options: ["--timeout", "120", "--state", state("tls")], args: [], expected: TLS_TESTS, status: 0 },
	];
}

/** Runs one suite run on a host variant and asserts its report. */
export async function runSuite(run: SuiteRun, variant = "release", env: NodeJS.ProcessEnv = {}): Promise<SuiteReport> {
	run.prepare?.();
	const result = await runSim([...run.options, suiteFile(run.suite), ...run.args], { variant, env });
	return assertSuite(result, run.expected, { status: run.status, label: `${run.label} (${variant})` });
}

/** The download suite (tests/sim-download.test.ts writes its fixture and runs it). */
export const MQTT_FLOOD_TESTS = [
	"a QoS 1 flood on a blocked send path with the TypeScript codec: the queue stays within 8192 bytes and 64 frames, reading pauses, then every message is taken in order",
	"a QoS 1 flood on a blocked send path with the C codec: the queue stays within 8192 bytes and 64 frames, reading pauses, then every message is taken in order",
] as const;

export const DOWNLOAD_TESTS = [
	"the cloud's CA and the device's certificate go into the modem's security tag",
	"an image over TLS in 1700-byte ranges on one kept-alive connection; the DFU target's SHA-256 check passes",
	"through a link cut three times: resumed each time, the same SHA-256, fewer bytes than three downloads",
	"the server's name is verified: another host name fails to connect",
	"a path the server does not have: reason http, status 404",
] as const;
