/*
 * AWS IoT device shadow semantics for the local nRF Cloud: merge with null
 * deletes, metadata timestamps, the version counter, the 8 KB state limit,
 * deltas (desired values that differ from reported), and nRF Cloud's trimmed
 * document for <id>/shadow/get/accepted.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ShadowDocument {
	state: { desired?: JsonObject; reported?: JsonObject };
	metadata: { desired?: JsonObject; reported?: JsonObject };
	version: number;
	timestamp: number;
}

export interface Delta {
	version: number;
	timestamp: number;
	state: JsonObject;
	metadata: JsonObject;
}

export type UpdateResult =
	| { ok: true; document: ShadowDocument; accepted: JsonObject; delta: Delta | undefined }
	| { ok: false; code: number; message: string };

export const MAX_STATE_BYTES = 8192;
export const TRIMMED_LIMIT = 2048;

export function isObject(value: unknown): value is JsonObject {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
	return value === undefined ? value : JSON.parse(JSON.stringify(value)) as T;
}

/** Merges `patch` into `target` (null deletes); returns the metadata of what the patch touched. */
function merge(target: JsonObject, patch: JsonObject, metadata: JsonObject, timestamp: number): void {
	for (const [key, value] of Object.entries(patch)) {
		if (value === null) {
			delete target[key];
			delete metadata[key];
		}
		else if (isObject(value)) {
			const child = isObject(target[key]) ? target[key] as JsonObject : {};
			const childMetadata = isObject(metadata[key]) && !("timestamp" in (metadata[key] as JsonObject) && Object.keys(metadata[key] as JsonObject).length === 1)
				? metadata[key] as JsonObject : {};
			merge(child, value, childMetadata, timestamp);
			target[key] = child;
			metadata[key] = childMetadata;
		}
		else {
			target[key] = value;
			metadata[key] = { timestamp };
		}
	}
}

function metadataOf(value: Json, timestamp: number): Json {
	if (!isObject(value)) return { timestamp };
	const out: JsonObject = {};
	for (const [key, child] of Object.entries(value)) out[key] = metadataOf(child, timestamp);
	return out;
}

function equal(a: Json | undefined, b: Json | undefined): boolean {
	return JSON.stringify(a) === JSON.stringify(b);
}

/** Desired values that differ from reported, recursively. */
export function computeDelta(desired: JsonObject | undefined, reported: JsonObject | undefined): JsonObject {
	const delta: JsonObject = {};
	for (const [key, value] of Object.entries(desired ?? {})) {
		const current = reported?.[key];
		if (isObject(value) && isObject(current)) {
			const inner = computeDelta(value, current);
			if (Object.keys(inner).length > 0) delta[key] = inner;
		}
		else if (!equal(value, current)) delta[key] = clone(value);
	}
	return delta;
}

function pickMetadata(metadata: JsonObject | undefined, shape: JsonObject): JsonObject {
	const out: JsonObject = {};
	for (const [key, value] of Object.entries(shape)) {
		const entry = metadata?.[key];
		if (isObject(value) && isObject(entry) && !("timestamp" in entry)) out[key] = pickMetadata(entry, value);
		else if (entry !== undefined) out[key] = clone(entry);
	}
	return out;
}

export function newShadow(desired: JsonObject, timestamp: number): ShadowDocument {
	return {
		state: { desired: clone(desired) },
		metadata: { desired: metadataOf(desired, timestamp) as JsonObject },
		version: 1,
		timestamp,
	};
}

/** Applies an update request (a parsed JSON payload) to a shadow, AWS style. */
export function applyUpdate(current: ShadowDocument | undefined, request: unknown, timestamp: number): UpdateResult {
	if (!isObject(request)) return { ok: false, code: 400, message: "Missing required node: state" };
	const state = request.state;
	if (!isObject(state)) return { ok: false, code: 400, message: "Missing required node: state" };
	for (const key of Object.keys(state)) {
		if (key !== "desired" && key !== "reported") return { ok: false, code: 400, message: `Unexpected field: state.${key}` };
		const section = state[key];
		if (section !== null && !isObject(section)) return { ok: false, code: 400, message: `State node must be an object: ${key}` };
	}
	if (request.version !== undefined && (typeof request.version !== "number" || (current && request.version !== current.version)))
		return { ok: false, code: 409, message: "Version conflict" };
	const document: ShadowDocument = current ? clone(current) : { state: {}, metadata: {}, version: 0, timestamp };
	for (const key of ["desired", "reported"] as const) {
		const section = state[key];
		if (section === undefined) continue;
		if (section === null) {
			delete document.state[key];
			delete document.metadata[key];
			continue;
		}
		const target = document.state[key] ?? {};
		const metadata = document.metadata[key] ?? {};
		merge(target, section as JsonObject, metadata, timestamp);
		document.state[key] = target;
		document.metadata[key] = metadata;
	}
	if (JSON.stringify(document.state).length > MAX_STATE_BYTES)
		return { ok: false, code: 413, message: "The payload exceeds the maximum size allowed" };
	document.version = (current?.version ?? 0) + 1;
	document.timestamp = timestamp;
	const accepted: JsonObject = {
		state: clone(state) as JsonObject,
		metadata: pickMetadata(document.metadata as JsonObject, state as JsonObject),
		version: document.version,
		timestamp,
	};
	if (request.clientToken !== undefined) accepted.clientToken = request.clientToken;
	let delta: Delta | undefined;
	if (state.desired !== undefined) {
		const difference = computeDelta(document.state.desired, document.state.reported);
		if (Object.keys(difference).length > 0)
			delta = { version: document.version, timestamp, state: difference, metadata: pickMetadata(document.metadata.desired, difference) };
	}
	return { ok: true, document, accepted, delta };
}

/** The full AWS get/accepted document. */
export function getAccepted(document: ShadowDocument): JsonObject {
	const state: JsonObject = {};
	if (document.state.desired) state.desired = clone(document.state.desired);
	if (document.state.reported) state.reported = clone(document.state.reported);
	const delta = computeDelta(document.state.desired, document.state.reported);
	if (Object.keys(delta).length > 0) state.delta = delta;
	return { state, metadata: clone(document.metadata) as JsonObject, version: document.version, timestamp: document.timestamp };
}

/**
 * nRF Cloud's trimmed document: desired (and reported when it fits), no state
 * wrapper, no metadata, under 2 KB so the modem's TLS buffer takes it.
 */
export function trimmed(document: ShadowDocument): JsonObject {
	const out: JsonObject = { desired: clone(document.state.desired ?? {}) };
	if (isObject(out.desired) && isObject(out.desired.config)) out.config = clone(out.desired.config);
	if (document.state.reported) {
		const withReported = { ...out, reported: clone(document.state.reported) };
		if (JSON.stringify(withReported).length < TRIMMED_LIMIT) return withReported;
	}
	return out;
}
