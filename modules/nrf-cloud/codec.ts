/*
 * JSON codecs of the v1.5/v1.6 protocol. Encoders produce the exact bytes of
 * the C library's cJSON output (keys in insertion order, compact printing),
 * which JSON.stringify gives for the same key order. Decoders never throw: bad
 * input yields undefined or a result saying why it was refused, because cloud
 * data must never take the library down.
 */

import { readUtf8, utf8Encode } from "../platform/utf8.js";
import { FotaStatus, FotaType, FotaValidate } from "./constants.js";

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses a UTF-8 JSON payload; undefined for bytes that are not UTF-8 JSON. */
export function parseJson(payload: Uint8Array): unknown {
	try {
		return JSON.parse(readUtf8(payload, 0, payload.length));
	}
	catch {
		return undefined;
	}
}

// ---- Association and shadow reports (device to cloud) ----

/** Reported when the shadow says the device is not associated (NCS v1.5/v1.6). */
export function notAssociatedReport(): string {
	return JSON.stringify({ state: { reported: {
		stage: null, nrfcloud_mqtt_topic_prefix: null,
		pairing: { state: "not_associated", topics: null, config: null },
		connection: { keepalive: null },
	} } });
}

export interface Endpoints {
	prefix: string;
	d2c: string;
	c2d: string;
}

/** Reported once the shadow gave the device its endpoints. */
export function pairedReport(endpoints: Endpoints, keepalive: number): string {
	return JSON.stringify({ state: { reported: {
		nrfcloud_mqtt_topic_prefix: endpoints.prefix,
		pairingStatus: null,
		pairing: { state: "paired", config: null, topics: { d2c: endpoints.d2c, c2d: endpoints.c2d } },
		connection: { keepalive },
	} } });
}

/** The endpoints as kept in settings (nrf_cloud/paired): their JSON. */
export function encodeStoredEndpoints(endpoints: Endpoints): Uint8Array {
	return utf8Encode(JSON.stringify({ prefix: endpoints.prefix, d2c: endpoints.d2c, c2d: endpoints.c2d }));
}

/** Kept endpoints; undefined when absent or damaged, so that nothing is reported from a bad record. */
export function decodeStoredEndpoints(bytes: ArrayBuffer | Uint8Array | undefined): Endpoints | undefined {
	if (bytes === undefined) return undefined;
	const value = parseJson(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
	if (!isObject(value)) return undefined;
	const { prefix, d2c, c2d } = value;
	if (typeof prefix !== "string" || typeof d2c !== "string" || typeof c2d !== "string" || d2c.length === 0 || c2d.length === 0) return undefined;
	return { prefix, d2c, c2d };
}

/** Moves a config delta from desired to reported. */
export function configEcho(config: unknown): string {
	return JSON.stringify({ state: { reported: { config }, desired: { config: null } } });
}

/** Sensor data for the d2c topic. */
export function sensorMessage(appId: string, data: string): string {
	return JSON.stringify({ appId, data, messageType: "DATA" });
}

/** nrf_cloud_shadow_update: one sensor key under state.reported. */
export function shadowSensorReport(key: string, value: unknown): string {
	const reported: JsonObject = {};
	reported[key] = value;
	return JSON.stringify({ state: { reported } });
}

export interface AgpsRequest {
	mcc: number;
	mnc: number;
	tac: number;
	eci: number;
	/** A-GPS element types, 1 (UTC) to 9 (integrity). */
	types: readonly number[];
}

/** The v1.6 A-GPS request (nrf_cloud_agps_request), for the d2c topic. */
export function agpsRequest(request: AgpsRequest): string {
	return JSON.stringify({ appId: "AGPS", messageType: "DATA", data: {
		mcc: request.mcc, mnc: request.mnc, tac: request.tac, eci: request.eci, phycid: 0, types: request.types.slice(),
	} });
}

// ---- Shadow documents (cloud to device) ----

export interface ShadowMessage {
	/** The document came on update/delta: its `state` is the desired object. */
	delta: boolean;
	desired: JsonObject | undefined;
	config: JsonObject | undefined;
}

/**
 * The parts of a shadow message the library acts on: a delta's `state` stands
 * for the desired object (the initial pairing delta has no `desired` key); the
 * trimmed accepted document has `desired` and `config` at the top.
 */
export function decodeShadow(payload: Uint8Array): ShadowMessage | undefined {
	const root = parseJson(payload);
	if (!isObject(root)) return undefined;
	const delta = "state" in root;
	const desired = delta ? root.state : root.desired;
	const holder = delta ? root.state : root;
	const config = isObject(holder) ? holder.config : undefined;
	return { delta, desired: isObject(desired) ? desired : undefined, config: isObject(config) ? config : undefined };
}

export const PairingKind = Object.freeze({
	/** Nothing about pairing in the document. */
	NONE: 0,
	NOT_ASSOCIATED: 1,
	PAIRED: 2,
	/** A pairing state this protocol version does not know ("Deprecated state"). */
	UNSUPPORTED: 3,
	/** The prefix is there but the endpoints are incomplete or mistyped. */
	INVALID: 4,
	/** The input-sequence association states (NCS 1.1 and earlier). */
	INITIATE: 5,
	PATTERN_WAIT: 6,
	PATTERN_MISMATCH: 7,
	TIMEOUT: 8,
	/** "paired" without a prefix: the input-sequence association completed. */
	PAIRED_LEGACY: 9,
} as const);
export type PairingKindValue = typeof PairingKind[keyof typeof PairingKind];

export interface Pairing {
	kind: PairingKindValue;
	endpoints?: Endpoints;
	/** Presses asked for by pattern_wait / pattern_mismatch. */
	sequenceLength?: number;
	state?: string;
}

const LEGACY_STATES: Readonly<Record<string, PairingKindValue>> = Object.freeze({
	initiate: PairingKind.INITIATE,
	pattern_wait: PairingKind.PATTERN_WAIT,
	pattern_mismatch: PairingKind.PATTERN_MISMATCH,
	timeout: PairingKind.TIMEOUT,
	paired: PairingKind.PAIRED_LEGACY,
});

/** The default number of presses the input-sequence association asks for. */
export const DEFAULT_SEQUENCE_LENGTH = 6;

/** What the desired object says about association (the "requested state"). */
export function decodePairing(desired: JsonObject | undefined, legacy = false): Pairing {
	if (desired === undefined) return { kind: PairingKind.NONE };
	const pairing = desired.pairing;
	const state = isObject(pairing) && typeof pairing.state === "string" ? pairing.state : undefined;
	const prefix = desired.nrfcloud_mqtt_topic_prefix;
	if (prefix !== undefined && prefix !== null) {
		const topics = isObject(pairing) ? pairing.topics : undefined;
		if (typeof prefix !== "string" || state === undefined || !state.startsWith("paired") || !isObject(topics)
			|| typeof topics.d2c !== "string" || typeof topics.c2d !== "string") return { kind: PairingKind.INVALID };
		return { kind: PairingKind.PAIRED, endpoints: { prefix, d2c: topics.d2c, c2d: topics.c2d } };
	}
	if (state === undefined) return { kind: PairingKind.NONE };
	if (state.startsWith("not_associated")) return { kind: PairingKind.NOT_ASSOCIATED };
	const kind = legacy ? LEGACY_STATES[state] : undefined;
	if (kind === undefined) return { kind: PairingKind.UNSUPPORTED, state };
	const result: Pairing = { kind, state };
	if (kind === PairingKind.PAIRED_LEGACY) {
		const topics = isObject(pairing) ? pairing.topics : undefined;
		if (!isObject(topics) || typeof topics.d2c !== "string" || typeof topics.c2d !== "string") return { kind: PairingKind.INVALID };
		result.endpoints = { prefix: "", d2c: topics.d2c, c2d: topics.c2d };
	}
	if (kind === PairingKind.PATTERN_WAIT || kind === PairingKind.PATTERN_MISMATCH) {
		const config = isObject(pairing) ? pairing.config : undefined;
		const length = isObject(config) ? config.length : undefined;
		result.sequenceLength = typeof length === "number" && Number.isInteger(length) && length >= 1 && length <= 16 ? length : DEFAULT_SEQUENCE_LENGTH;
	}
	return result;
}

// ---- Input-sequence association (opt-in, NCS 1.1 protocol) ----

/** Two button presses per byte, the first in the high nibble; an odd last press fills a high nibble alone. */
export function packSequence(presses: readonly number[]): number[] {
	const bytes: number[] = [];
	for (let i = 0; i < presses.length; i += 2) {
		const high = presses[i]! << 4;
		bytes.push(i + 1 < presses.length ? high | (presses[i + 1]! & 0x0F) : high);
	}
	return bytes;
}

function buttonsConfig(length: number): JsonObject {
	return { iteration: 1, method: "buttons", length };
}

export function initiateReport(): string {
	return JSON.stringify({ state: { reported: { stage: "prod", pairing: { state: "initiate", config: null, topics: null } } } });
}

export function patternWaitReport(length: number): string {
	return JSON.stringify({ state: { reported: { pairing: { state: "pattern_wait", config: buttonsConfig(length) } } } });
}

export function patternMismatchReport(): string {
	return JSON.stringify({ state: { reported: { pairing: { state: "pattern_mismatch" } } } });
}

/** The pattern the user entered, as nrf_cloud_user_associate published it. */
export function sequenceReport(presses: readonly number[]): string {
	const pattern = packSequence(presses);
	return JSON.stringify({ state: { reported: {
		pairing: { state: "pattern_wait", config: buttonsConfig(pattern.length) },
		pairingStatus: { method: "buttons", pattern },
	} } });
}

/** The paired report of the input-sequence association, which had no topic prefix. */
export function legacyPairedReport(endpoints: Endpoints): string {
	return JSON.stringify({ state: { reported: {
		pairingStatus: null,
		pairing: { state: "paired", config: null, topics: { d2c: endpoints.d2c, c2d: endpoints.c2d } },
	} } });
}

// ---- FOTA jobs ----

/** "Request the latest queued job" on jobs/req. */
export const JOB_REQUEST = '[""]';

/** NRF_CLOUD_FOTA_JOB_ID_SIZE - 1: a job ID is a UUID. */
export const JOB_ID_MAX_LENGTH = 36;

export interface FotaJob {
	id: string;
	type: number;
	size: number;
	host: string;
	path: string;
	/** The BLE device address, for jobs on jobs/ble/rcv. */
	bleAddress?: string;
}

/**
 * A job document: ["<jobId>", type, size, "<host>", "<path>"], with the BLE
 * address first on jobs/ble/rcv. Undefined when it is not one.
 */
export function decodeJob(payload: Uint8Array, ble = false): FotaJob | undefined {
	const root = parseJson(payload);
	if (!Array.isArray(root)) return undefined;
	const at = ble ? 1 : 0;
	if (root.length < at + 5) return undefined;
	const [id, type, size, host, path] = root.slice(at, at + 5) as unknown[];
	if (typeof id !== "string" || id.length === 0 || id.length > JOB_ID_MAX_LENGTH) return undefined;
	if (typeof type !== "number" || !Number.isInteger(type) || type < FotaType.APPLICATION || type >= FotaType.INVALID) return undefined;
	if (typeof size !== "number" || !Number.isFinite(size) || size < 0) return undefined;
	if (typeof host !== "string" || host.length === 0 || typeof path !== "string" || path.length === 0) return undefined;
	const job: FotaJob = { id, type, size, host, path };
	if (ble) {
		if (typeof root[0] !== "string" || root[0].length === 0) return undefined;
		job.bleAddress = root[0];
	}
	return job;
}

/** FOTA error texts reported with FAILED, by nrf_cloud_fota_error. */
export const FOTA_ERROR_TEXT: readonly string[] = Object.freeze([
	"",
	"Failed to start download",
	"Error during download",
	"FOTA update not validated",
	"Error applying update",
	"FW file does not match specified FOTA type",
]);

/** A job status update: progress while DOWNLOADING, a message otherwise. */
export function jobUpdate(jobId: string, status: number, detail: number | string): string {
	if (status === FotaStatus.DOWNLOADING) return JSON.stringify([jobId, status, typeof detail === "number" ? detail : 0]);
	return JSON.stringify([jobId, status, typeof detail === "string" ? detail : ""]);
}

/** The job kept across reboots under nrf_cloud/fota/job. */
export interface StoredJob {
	validate: number;
	type: number;
	id: string;
}

/** sizeof the C struct: two ints and a 37-byte ID, padded to 4. */
export const STORED_JOB_SIZE = 48;
const STORED_ID_SIZE = 37;

export function encodeStoredJob(job: StoredJob): Uint8Array {
	const bytes = new Uint8Array(STORED_JOB_SIZE);
	const view = new DataView(bytes.buffer);
	view.setInt32(0, job.validate, true);
	view.setInt32(4, job.type, true);
	for (let i = 0; i < job.id.length && i < STORED_ID_SIZE - 1; i++) bytes[8 + i] = job.id.charCodeAt(i) & 0x7F;
	return bytes;
}

export function decodeStoredJob(bytes: ArrayBuffer | Uint8Array | undefined): StoredJob | undefined {
	if (bytes === undefined) return undefined;
	const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
	if (data.length !== STORED_JOB_SIZE) return undefined;
	const view = new DataView(data.buffer, data.byteOffset, data.length);
	const validate = view.getInt32(0, true);
	const type = view.getInt32(4, true);
	if (validate < FotaValidate.NONE || validate > FotaValidate.DONE) return undefined;
	let id = "";
	let i = 8;
	for (; i < 8 + STORED_ID_SIZE && data[i] !== 0; i++) {
		const c = data[i]!;
		if (c < 0x20 || c > 0x7E) return undefined;
		id += String.fromCharCode(c);
	}
	// the C string must end inside its 37 bytes: an ID without its NUL is a damaged record
	if (i === 8 + STORED_ID_SIZE) return undefined;
	return { validate, type, id };
}

/** The job update that reports a validation result after reboot, if one is stored. */
export function validationReport(job: StoredJob): string | undefined {
	switch (job.validate) {
		case FotaValidate.PASS: return jobUpdate(job.id, FotaStatus.SUCCEEDED, "");
		case FotaValidate.UNKNOWN: return jobUpdate(job.id, FotaStatus.SUCCEEDED, FOTA_ERROR_TEXT[3]!);
		case FotaValidate.FAIL: return jobUpdate(job.id, FotaStatus.FAILED, "");
		default: return undefined;
	}
}
