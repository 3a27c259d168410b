/*
 * The JSON decoders of modules/nrf-cloud/codec.ts fuzzed inside XS: random
 * documents and mutations of valid ones (values swapped for others of any
 * type, keys dropped and added, bytes flipped, cut and inserted, invalid
 * UTF-8). The decoders must never throw (they answer undefined, or a pairing
 * kind that says why a document was refused), and what they accept must be a
 * valid document: each result is checked here against the document itself.
 * Cloud-to-device data has no decoder (it reaches the application as bytes),
 * so the shadow, delta, pairing, job and stored-job decoders are what is fuzzed.
 */

import { FotaType, FotaValidate } from "../../modules/nrf-cloud/constants.js";
import {
	decodeJob, decodePairing, decodeShadow, decodeStoredJob, encodeStoredJob, isObject, JOB_ID_MAX_LENGTH, PairingKind, STORED_JOB_SIZE, type JsonObject,
} from "../../modules/nrf-cloud/codec.js";
import { utf8Encode } from "../../modules/platform/utf8.js";
import { V17_BLE_JOB, V17_JOB } from "../support/vectors.js";
import { assert, run, test } from "./harness.js";

const CASES = 1500;
let seed = 0x9E3779B9;
function next(): number {
	seed ^= seed << 13; seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5; seed >>>= 0;
	return seed;
}
const pick = <T>(items: readonly T[]): T => items[next() % items.length]!;

const KEYS = ["state", "desired", "reported", "pairing", "topics", "d2c", "c2d", "config", "nrfcloud_mqtt_topic_prefix", "length", "GPS", "enable", "x", ""];
const STRINGS = ["paired", "not_associated", "pattern_wait", "pattern_mismatch", "initiate", "timeout", "paired_x", "p/", "", "é😀", "a\u0000b", "x".repeat(40)];

function randomValue(depth: number): unknown {
	switch (next() % (depth > 3 ? 6 : 8)) {
		case 0: return null;
		case 1: return (next() & 1) === 1;
		case 2: return pick([0, 1, -1, 2, 3, 16, 17, 1.5, 1e308, -0, 1234, 4294967295]);
		case 3: return pick(STRINGS);
		case 4: return String.fromCharCode(next() % 0x80, 0x20 + next() % 0x5F);
		case 5: return next() % 1000;
		case 6: return Array.from({ length: next() % 7 }, () => randomValue(depth + 1));
		default: {
			const object: JsonObject = {};
			for (let i = next() % 5; i > 0; i--) object[pick(KEYS)] = randomValue(depth + 1);
			return object;
		}
	}
}

/** Replaces, drops or adds one value somewhere in `value` (a copy). */
function mutateValue(value: unknown): unknown {
	if (next() % 4 === 0) return randomValue(2);
	if (Array.isArray(value) && value.length > 0) {
		const copy = value.slice();
		const at = next() % copy.length;
		if (next() % 5 === 0) copy.splice(at, 1);
		else copy[at] = mutateValue(copy[at]);
		return copy;
	}
	if (isObject(value)) {
		const copy: JsonObject = { ...value };
		const keys = Object.keys(copy);
		const choice = next() % 4;
		if (keys.length > 0 && choice === 0) delete copy[pick(keys)];
		else if (keys.length > 0 && choice !== 3) { const key = pick(keys); copy[key] = mutateValue(copy[key]); }
		else copy[pick(KEYS)] = randomValue(2);
		return copy;
	}
	return randomValue(2);
}

/** Byte-level damage: flips, cuts, insertions, invalid UTF-8. */
function mutateBytes(bytes: Uint8Array): Uint8Array {
	const out = Array.from(bytes);
	for (let i = 1 + next() % 3; i > 0; i--) {
		const at = out.length ? next() % out.length : 0;
		switch (next() % 5) {
			case 0: if (out.length) out[at] = out[at]! ^ (1 << (next() % 8)); break;
			case 1: out.length = at; break;
			case 2: out.splice(at, 0, pick([0x7B, 0x7D, 0x5B, 0x5D, 0x22, 0x2C, 0x3A, 0x5C, 0xFF, 0xC0, 0xE2, 0x00])); break;
			case 3: out.splice(at, 1 + next() % 4); break;
			default: out.splice(at, 0, ...utf8Encode(JSON.stringify(randomValue(2)) ?? "null")); break;
		}
	}
	return new Uint8Array(out);
}

/** A document from the seeds: as it is, mutated as JSON, or damaged as bytes. */
function document(seeds: readonly unknown[]): Uint8Array {
	const kind = next() % 4;
	if (kind === 0) return utf8Encode(JSON.stringify(randomValue(0)) ?? "null");
	let value: unknown = pick(seeds);
	for (let i = next() % 3; i >= 0 && kind !== 1; i--) value = mutateValue(value);
	const bytes = utf8Encode(JSON.stringify(value) ?? "null");
	return kind === 3 ? mutateBytes(bytes) : bytes;
}

/** What the payload says as JSON when it is plain ASCII (so the check needs no UTF-8 decoder of its own); undefined otherwise. */
function asciiJson(payload: Uint8Array): { value: unknown } | undefined {
	let text = "";
	for (const byte of payload) {
		if (byte >= 0x80) return undefined;
		text += String.fromCharCode(byte);
	}
	try {
		return { value: JSON.parse(text) };
	}
	catch {
		return { value: undefined };
	}
}

function noThrow<T>(body: () => T, what: string, payload: Uint8Array | JsonObject | undefined): T {
	try {
		return body();
	}
	catch (error) {
		throw new Error(`${what} threw ${String(error)} for ${payload instanceof Uint8Array ? Array.from(payload).join(",") : JSON.stringify(payload)}`);
	}
}

const SHADOW_SEEDS = [
	{ state: { pairing: { state: "paired", topics: { d2c: "p/m/d/x/d2c", c2d: "p/m/d/x/c2d" } }, nrfcloud_mqtt_topic_prefix: "p/" } },
	{ desired: { pairing: { state: "not_associated" } }, config: { GPS: { enable: true } } },
	{ state: { config: { GPS: { enable: false } } } },
	{ desired: { pairing: { state: "pattern_wait", config: { length: 4 } } } },
	{ state: { pairing: { state: "paired", topics: { d2c: "a", c2d: "b" } } } },
];

test("shadow and delta documents: never an exception, only objects accepted", () => {
	let accepted = 0;
	for (let i = 0; i < CASES; i++) {
		const payload = document(SHADOW_SEEDS);
		const message = noThrow(() => decodeShadow(payload), "decodeShadow", payload);
		const parsed = asciiJson(payload);
		if (message === undefined) {
			if (parsed) assert.ok(!isObject(parsed.value), `refused an object: ${JSON.stringify(parsed.value)}`);
			continue;
		}
		accepted++;
		assert.ok(message.desired === undefined || isObject(message.desired));
		assert.ok(message.config === undefined || isObject(message.config));
		if (!parsed) continue;
		assert.ok(isObject(parsed.value), "accepted something that is not an object");
		const root = parsed.value as JsonObject;
		assert.equal(message.delta, "state" in root);
		const holder = message.delta ? root.state : root;
		assert.deepEqual(message.desired, isObject(message.delta ? root.state : root.desired) ? (message.delta ? root.state : root.desired) : undefined);
		assert.deepEqual(message.config, isObject(holder) && isObject(holder.config) ? holder.config : undefined);
	}
	assert.ok(accepted > CASES / 10, `only ${accepted} accepted`);
});

test("pairing states: never an exception, endpoints only from a complete paired document", () => {
	const kinds = new Set<number>();
	for (let i = 0; i < CASES; i++) {
		const message = decodeShadow(document(SHADOW_SEEDS));
		const desired = message?.desired;
		for (const legacy of [false, true]) {
			const pairing = noThrow(() => decodePairing(desired, legacy), "decodePairing", desired);
			kinds.add(pairing.kind);
			assert.ok(Object.values(PairingKind).includes(pairing.kind as never), `kind ${pairing.kind}`);
			if (desired === undefined) {
				assert.equal(pairing.kind, PairingKind.NONE);
				continue;
			}
			const state = isObject(desired.pairing) ? desired.pairing.state : undefined;
			const topics = isObject(desired.pairing) ? desired.pairing.topics : undefined;
			if (pairing.endpoints) {
				assert.ok(pairing.kind === PairingKind.PAIRED || pairing.kind === PairingKind.PAIRED_LEGACY, `endpoints with kind ${pairing.kind}`);
				assert.ok(typeof state === "string" && state.startsWith("paired"), `endpoints for state ${JSON.stringify(state)}`);
				assert.ok(isObject(topics) && pairing.endpoints.d2c === topics.d2c && pairing.endpoints.c2d === topics.c2d, "endpoints that are not the document's topics");
				assert.equal(typeof pairing.endpoints.d2c, "string");
				assert.equal(typeof pairing.endpoints.c2d, "string");
				if (pairing.kind === PairingKind.PAIRED) assert.equal(pairing.endpoints.prefix, desired.nrfcloud_mqtt_topic_prefix);
				else assert.ok(legacy && state === "paired", "a legacy pairing outside legacy mode");
			}
			else assert.ok(pairing.kind !== PairingKind.PAIRED && pairing.kind !== PairingKind.PAIRED_LEGACY, "paired without endpoints");
			if (pairing.sequenceLength !== undefined) assert.ok(Number.isInteger(pairing.sequenceLength) && pairing.sequenceLength >= 1 && pairing.sequenceLength <= 16);
			if (pairing.kind === PairingKind.NOT_ASSOCIATED) assert.ok(typeof state === "string" && state.startsWith("not_associated"));
		}
	}
	for (const kind of [PairingKind.NONE, PairingKind.PAIRED, PairingKind.INVALID, PairingKind.NOT_ASSOCIATED, PairingKind.UNSUPPORTED])
		assert.ok(kinds.has(kind), `kind ${kind} never came out`);
});

/** Whether `root` is a job document by the rules of docs/protocol.md §7.2, checked here independently. */
function validJob(root: unknown, ble: boolean): boolean {
	if (!Array.isArray(root)) return false;
	const at = ble ? 1 : 0;
	if (root.length < at + 5) return false;
	if (ble && (typeof root[0] !== "string" || root[0].length === 0)) return false;
	const [id, type, size, host, path] = root.slice(at) as unknown[];
	return typeof id === "string" && id.length >= 1 && id.length <= JOB_ID_MAX_LENGTH
		&& typeof type === "number" && Number.isInteger(type) && type >= FotaType.APPLICATION && type < FotaType.INVALID
		&& typeof size === "number" && Number.isFinite(size) && size >= 0
		&& typeof host === "string" && host.length > 0 && typeof path === "string" && path.length > 0;
}

test("job documents: never an exception, accepted exactly when valid", () => {
	const seeds = [JSON.parse(V17_JOB) as unknown, JSON.parse(V17_BLE_JOB) as unknown, ["3fa85f64-5717-4562-b3fc-2c963f66afa6", 1, 0, "h", "p"], ["id", 2, 1.5e6, "host", "/p", "extra"]];
	let accepted = 0;
	for (let i = 0; i < CASES; i++) {
		const payload = document(seeds);
		for (const ble of [false, true]) {
			const job = noThrow(() => decodeJob(payload, ble), "decodeJob", payload);
			const parsed = asciiJson(payload);
			if (job === undefined) {
				if (parsed) assert.ok(!validJob(parsed.value, ble), `refused a valid job: ${JSON.stringify(parsed.value)}`);
				continue;
			}
			accepted++;
			assert.ok(job.id.length >= 1 && job.id.length <= JOB_ID_MAX_LENGTH && job.host.length > 0 && job.path.length > 0);
			assert.ok(Number.isInteger(job.type) && job.type >= FotaType.APPLICATION && job.type < FotaType.INVALID);
			assert.ok(Number.isFinite(job.size) && job.size >= 0);
			if (!parsed) continue;
			assert.ok(validJob(parsed.value, ble), `accepted an invalid job: ${JSON.stringify(parsed.value)}`);
			const root = parsed.value as unknown[];
			const at = ble ? 1 : 0;
			assert.deepEqual([job.id, job.type, job.size, job.host, job.path], root.slice(at, at + 5));
			assert.equal(job.bleAddress, ble ? root[0] : undefined);
		}
	}
	assert.ok(accepted > CASES / 20, `only ${accepted} accepted`);
});

test("stored job records: never an exception, accepted only with a known validation and a terminated printable ID", () => {
	const good = encodeStoredJob({ validate: FotaValidate.PENDING, type: FotaType.MODEM, id: "3fa85f64-5717-4562-b3fc-2c963f66afa6" });
	let accepted = 0;
	for (let i = 0; i < CASES; i++) {
		let bytes: Uint8Array;
		const kind = next() % 3;
		if (kind === 0) bytes = new Uint8Array(Array.from({ length: next() % 3 === 0 ? next() % 60 : STORED_JOB_SIZE }, () => next() & 0xFF));
		else {
			bytes = good.slice();
			for (let k = 1 + next() % 4; k > 0; k--) bytes[next() % bytes.length] = kind === 1 ? next() & 0xFF : pick([0, 0x20, 0x7E, 0x7F, 0x41]);
		}
		const record = noThrow(() => decodeStoredJob(bytes), "decodeStoredJob", bytes);
		if (record === undefined) continue;
		accepted++;
		assert.equal(bytes.length, STORED_JOB_SIZE);
		assert.ok(record.validate >= FotaValidate.NONE && record.validate <= FotaValidate.DONE, `validate ${record.validate}`);
		assert.ok(record.id.length <= JOB_ID_MAX_LENGTH, `an ID of ${record.id.length} characters has no terminator in its 37 bytes`);
		assert.equal(bytes[8 + record.id.length], 0, "the ID does not end at a NUL");
		for (let k = 0; k < record.id.length; k++) assert.ok(record.id.charCodeAt(k) >= 0x20 && record.id.charCodeAt(k) <= 0x7E);
		const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
		assert.equal(record.validate, view.getInt32(0, true));
		assert.equal(record.type, view.getInt32(4, true));
	}
	assert.ok(accepted > CASES / 10, `only ${accepted} accepted`);
	assert.equal(decodeStoredJob(undefined), undefined);
});

run("json-fuzz");
