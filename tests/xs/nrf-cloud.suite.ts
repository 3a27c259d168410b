/*
 * The nRF Cloud library inside XS: the byte-exact encoders and the decoders
 * with XS's own JSON and strings, random and malformed cloud input through
 * the state machine, and the device binding (client ID from the emulated
 * modem, settings in the key-value store). Run with --state DIR; with the
 * argument "old-firmware" the modem runs firmware 1.2.3.
 */

import { deviceUuid, imei } from "../../modules/modem/at.js";
import { NrfCloud } from "../../modules/nrf-cloud/api.js";
import { EventType, State } from "../../modules/nrf-cloud/constants.js";
import {
	configEcho, decodeJob, decodePairing, decodeShadow, decodeStoredJob, encodeStoredJob, jobUpdate, JOB_REQUEST, notAssociatedReport,
	packSequence, pairedReport, PairingKind, sensorMessage,
} from "../../modules/nrf-cloud/codec.js";
import { StateMachine, type CloudEvent, type FsmPort } from "../../modules/nrf-cloud/fsm.js";
import { TransportEvent } from "../../modules/nrf-cloud/transport-events.js";
import { configure, init, nrfCloud } from "../../modules/nrf-cloud/device.js";
import { utf8Encode } from "../../modules/platform/utf8.js";
import {
	V10_GGA, V10_GPS, V16_JOB_REQUEST, V17_BLE_JOB, V17_BLE_JOB_DECODED, V17_JOB, V17_JOB_DECODED, V18_UPDATES, V21_PATTERN, V21_PRESSES,
	V3_C2D, V3_D2C, V3_PREFIX, V6_NOT_ASSOCIATED_REPORT, V8_CONFIG, V8_ECHO, V9_FLIP, v7PairedReport,
} from "../support/vectors.js";
import { assert, run, simArgs, test } from "./harness.js";

const oldFirmware = simArgs().includes("old-firmware");
const enc = (text: string) => utf8Encode(text);

test("encoders give the C library's bytes (V6, V7, V8, V9, V10, V16, V18)", () => {
	assert.equal(notAssociatedReport(), V6_NOT_ASSOCIATED_REPORT);
	assert.equal(pairedReport({ prefix: V3_PREFIX, d2c: V3_D2C, c2d: V3_C2D }, 1200), v7PairedReport(V3_PREFIX, V3_D2C, V3_C2D, 1200));
	assert.equal(configEcho(V8_CONFIG), V8_ECHO);
	assert.equal(sensorMessage("FLIP", "NORMAL"), V9_FLIP);
	assert.equal(sensorMessage("GPS", V10_GGA), V10_GPS);
	// XS's own strings: escapes as cJSON writes them, non-ASCII as it is.
	assert.equal(sensorMessage("TEMP", 'q"\\\n\u0001é'), '{"appId":"TEMP","data":"q\\"\\\\\\n\\u0001é","messageType":"DATA"}');
	assert.equal(JOB_REQUEST, V16_JOB_REQUEST);
	assert.equal(jobUpdate("abcd1234", 7, 10), V18_UPDATES[1]);
	assert.equal(jobUpdate("abcd1234", 2, "Error during download"), V18_UPDATES[8]);
	assert.deepEqual(packSequence([...V21_PRESSES]), [...V21_PATTERN]);
});

test("decoders on UTF-8 payloads, job documents and the stored job record", () => {
	const message = decodeShadow(enc('{"state":{"pairing":{"state":"paired","topics":{"d2c":"p/é/d2c","c2d":"p/😀/c2d"}},"nrfcloud_mqtt_topic_prefix":"p/"}}'))!;
	const pairing = decodePairing(message.desired);
	assert.equal(pairing.kind, PairingKind.PAIRED);
	assert.equal(pairing.endpoints!.c2d, "p/😀/c2d");
	assert.deepEqual(decodeJob(enc(V17_JOB)), V17_JOB_DECODED);
	assert.deepEqual(decodeJob(enc(V17_BLE_JOB), true), V17_BLE_JOB_DECODED);
	assert.equal(decodeJob(enc('["abcd1234",3,1234,"h","p"]')), undefined);
	assert.equal(decodeShadow(new Uint8Array([0x7B, 0xFF, 0x7D])), undefined);
	const record = encodeStoredJob({ validate: 1, type: 1, id: "3fa85f64-5717-4562-b3fc-2c963f66afa6" });
	assert.equal(record.length, 48);
	assert.deepEqual(decodeStoredJob(record), { validate: 1, type: 1, id: "3fa85f64-5717-4562-b3fc-2c963f66afa6" });
});

class Port implements FsmPort {
	events: CloudEvent[] = [];
	reports = 0;
	subscribeShadow(): boolean { return true; }
	requestShadow(): boolean { return true; }
	report(payload: string): boolean { JSON.parse(payload); this.reports++; return true; }
	subscribeData(): boolean { return true; }
	unsubscribeData(): boolean { return true; }
	setEndpoints(): void { /* recorded by the report */ }
	sessionValid(): boolean { return false; }
	keepalive(): number { return 60; }
	emit(event: CloudEvent): void { this.events.push(event); }
	log(): void { /* not needed here */ }
}

test("random and malformed shadow data in every state: no exception, valid states, only allowed events", () => {
	let seed = 0x2545F491;
	const next = () => {
		seed ^= seed << 13; seed >>>= 0;
		seed ^= seed >>> 17;
		seed ^= seed << 5; seed >>>= 0;
		return seed;
	};
	const pieces = ['{"state":', '{"desired":', '{"pairing":', '{"state":"paired"', '"not_associated"', '"topics":{"d2c":"a","c2d":"b"}', '"nrfcloud_mqtt_topic_prefix":"p/"',
		'"config":{"GPS":{"enable":true}}', "}", "}}", ",", "null", "[1,2]", '"pattern_wait"', "\u00e9", "\"", "1e999", "{}"];
	const allowed = [EventType.RX_DATA, EventType.USER_ASSOCIATION_REQUEST, EventType.USER_ASSOCIATED, EventType.ERROR];
	const states = Object.values(State);
	for (let i = 0; i < 3000; i++) {
		const port = new Port();
		const fsm = new StateMachine(port, { legacyAssociation: (i & 1) === 1, state: states[next() % states.length]! });
		let text = "";
		const count = 1 + (next() % 8);
		for (let k = 0; k < count; k++) text += pieces[next() % pieces.length];
		const payload = (i % 5 === 0) ? new Uint8Array(Array.from({ length: next() % 40 }, () => next() & 0xFF)) : enc(text);
		fsm.handle(TransportEvent.CC_RX_DATA, { topic: "t", payload });
		assert.ok(states.includes(fsm.state), `state ${fsm.state}`);
		for (const event of port.events) assert.ok(allowed.includes(event.type as never), `event ${event.type} for ${text}`);
		fsm.handle(TransportEvent.DISCONNECTED, { status: 1 });
	}
});

test("the device binding: client ID from the emulated modem, or a clear error on old modem firmware", () => {
	configure({ clientIdSource: oldFirmware ? "internal-uuid" : "imei" });
	const result = init({ eventHandler: () => undefined });
	if (oldFirmware) {
		assert.ok(result < 0, `init returned ${result}`);
		assert.ok(/1\.3\.0/.test(nrfCloud().lastError ?? ""), nrfCloud().lastError);
		assert.equal(nrfCloud().state, State.IDLE);
		return;
	}
	assert.equal(result, 0);
	assert.equal(nrfCloud().clientId, `nrf-${imei()}`);
	assert.equal(nrfCloud().state, State.INITIALIZED);
	assert.equal(init({ eventHandler: () => undefined }), -13);
	// The internal UUID source: the device UUID of the emulated modem's attestation token.
	const uuid = new NrfCloud({ socket: () => { throw new Error("no network in this test"); }, modem: { imei, deviceUuid } }, { clientIdSource: "internal-uuid" });
	assert.equal(uuid.init({ eventHandler: () => undefined }), 0, uuid.lastError);
	assert.equal(uuid.clientId, deviceUuid());
	assert.ok(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(uuid.clientId ?? ""), uuid.clientId);
});

run("nrf-cloud");
