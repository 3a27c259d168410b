/*
 * The device-side test vectors of docs/protocol.md §9, V1 to V28, and its
 * enum tables (§3.2, §3.3, §3.9). Expected values come from
 * tests/support/vectors.ts, written from docs/protocol.md, never from the
 * modules under test. Vectors about what goes on the wire (V5, V7, V12, V13,
 * V16, V20, V27, V28) drive the library against the scripted cloud as V2's
 * device with V3's shadow; V14 and V15 go through the Cloud API in
 * cloud-api.test.ts.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
	CloudConnectResult, CloudDisconnectReason, CloudEndpointType, CloudEventType, CloudQos, cloudConnect, cloudGetBinding, cloudInit,
	type CloudBackend, type CloudEvent as ApiEvent,
} from "../modules/cloud/cloud.js";
import { NRF_CLOUD_BACKEND, defineNrfCloudBackend } from "../modules/cloud/nrf-cloud-backend.js";
import { PacketType, type PublishPacket, type SubscribePacket } from "../modules/mqtt/packet.js";
import {
	ConnectResult, DisconnectStatus, EventType, FotaStatus, FotaType, FotaValidate, FOTA_JOB_KEY, MessageId, SESSION_KEY, SETTINGS_DOMAIN, Sensor, SENSOR_NAMES,
	State, TopicType, Errno,
} from "../modules/nrf-cloud/constants.js";
import {
	agpsRequest, configEcho, decodeJob, decodePairing, decodeShadow, jobUpdate, notAssociatedReport, packSequence,
	pairedReport, PairingKind, sensorMessage, sequenceReport, validationReport, FOTA_ERROR_TEXT,
} from "../modules/nrf-cloud/codec.js";
import { StateMachine } from "../modules/nrf-cloud/fsm.js";
import { TransportEvent } from "../modules/nrf-cloud/transport-events.js";
import { NrfCloud } from "../modules/nrf-cloud/api.js";
import { classifyConnectFailure, closedBeforeUpErrno, connectFailureErrno } from "../modules/nrf-cloud/connect-failure.js";
import { MemorySettings, type SettingsStore } from "../modules/nrf-cloud/settings.js";
import { SocketError } from "../modules/platform/socket.js";
import { fotaTopics, shadowTopics } from "../modules/nrf-cloud/topics.js";
import { nodeSocket } from "../hosts/node/socket.js";
import { RecordingPort } from "./support/fsm-port.js";
import { CloudPeer, DeviceUnderTest, IMEI, UNASSOCIATED_SHADOW, publishes, text } from "./support/nrf-cloud-peer.js";
import type { PeerConnection } from "./support/scripted-broker.js";
import { until } from "./support/until.js";
import {
	SPEC_CLOUD_CONNECT_RESULT, SPEC_CLOUD_DISCONNECT_REASON, SPEC_CLOUD_ENDPOINT_TYPE, SPEC_CLOUD_EVENT_TYPE, SPEC_CLOUD_QOS, SPEC_CONNECT_RESULT,
	SPEC_DISCONNECT_STATUS, SPEC_EVENT_TYPE, SPEC_FOTA_ERROR_TEXT, SPEC_FOTA_STATUS, SPEC_FOTA_TYPE, SPEC_FOTA_VALIDATE, SPEC_MESSAGE_ID, SPEC_NCT_EVT,
	SPEC_NFSM_STATE, SPEC_SENSOR, SPEC_SENSOR_APP_IDS, SPEC_TOPIC_TYPE,
	V10_GGA, V10_GPS, V11_EXAMPLES, V12_SERVICE_INFO, V13_SERVICE_INFO, V16_ID, V16_JOB_REQUEST, V17_BLE_JOB, V17_BLE_JOB_DECODED, V17_JOB,
	V17_JOB_DECODED, V18_UPDATES, V1_CLIENT_ID, V1_IMEI, V20_FOTA_JOB_KEY, V20_SESSION_KEY, V20_SETTINGS_DOMAIN, V21_LENGTH, V21_PATTERN,
	V21_PRESSES, V24_DISCON, V28_STATUS, V2_DEVICE_ID, V2_SHADOW_TOPICS, V3_C2D, V3_D2C, V3_PREFIX, V3_TENANT, V4_FOTA_TOPICS, V5_GET_ID,
	V6_ID, V6_NOT_ASSOCIATED_REPORT, V7_ID, V8_CONFIG, V8_ECHO, V9_FLIP, v7PairedReport,
} from "./support/vectors.js";

const enc = (s: string) => new TextEncoder().encode(s);
const ID = V2_DEVICE_ID;
const PREFIX = V3_PREFIX;

function library(config: ConstructorParameters<typeof NrfCloud>[1] = {}, imei = V1_IMEI): NrfCloud {
	return new NrfCloud({ socket: () => { throw new Error("no network in this test"); }, modem: { imei: () => imei, deviceUuid: () => "5a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" } }, config);
}

const handler = () => undefined;

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

/** V3's shadow for V2's device: paired, with the tenant's topics. */
const V3_DESIRED = { pairing: { state: "paired", topics: { d2c: V3_D2C, c2d: V3_C2D } }, nrfcloud_mqtt_topic_prefix: V3_PREFIX };

/**
 * V2's device (a run-time client ID) connected through the library to the
 * scripted cloud holding V3's shadow, up to READY and the job request.
 */
async function v2Device(config: ConstructorParameters<typeof NrfCloud>[1] = {}, platform: ConstructorParameters<typeof DeviceUnderTest>[2] = {}): Promise<{ device: DeviceUnderTest; connection: PeerConnection }> {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: { desired: V3_DESIRED, reported: {} }, ackPublishes: true };
	const device = new DeviceUnderTest(peer, { clientIdSource: "runtime", keepalive: 1200, ...config }, platform);
	assert.equal(device.init(ID), 0);
	const index = peer.broker.connections.length;
	assert.equal(await device.library.connect(), SPEC_CONNECT_RESULT.SUCCESS);
	const connection = await peer.connection(index);
	await device.waitFor(SPEC_EVENT_TYPE.READY);
	await until(() => publishes(connection).some((p) => p.topic === V4_FOTA_TOPICS[1]), { what: "the job request" });
	return { device, connection };
}

async function disconnect(device: DeviceUnderTest): Promise<void> {
	const before = device.events.filter((e) => e.type === SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED).length;
	assert.equal(device.library.disconnect(), 0);
	await device.waitFor(SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED, before + 1);
}

test("V1: the client ID for IMEI 352656100441776 with the default prefix", () => {
	const cloud = library();
	assert.equal(cloud.init({ eventHandler: handler }), 0);
	assert.equal(cloud.clientId, V1_CLIENT_ID);
});

test("V2: shadow topics of nrf-352656101397613", () => {
	const t = shadowTopics(ID);
	assert.deepEqual([t.accepted, t.rejected, t.delta, t.update, t.get], V2_SHADOW_TOPICS);
});

test("V3: the pairing topics come from the shadow as they are", () => {
	const message = decodeShadow(enc(JSON.stringify({ desired: V3_DESIRED, reported: {} })))!;
	const pairing = decodePairing(message.desired);
	assert.equal(pairing.kind, PairingKind.PAIRED);
	assert.deepEqual(pairing.endpoints, { prefix: V3_PREFIX, d2c: V3_D2C, c2d: V3_C2D });
	assert.ok(V3_PREFIX.includes(V3_TENANT));
});

test("V4: FOTA topics from the V3 prefix", () => {
	const t = fotaTopics(PREFIX, ID);
	assert.deepEqual([t.receive, t.request, t.update], V4_FOTA_TOPICS);
});

test("inbound topics sort into control, FOTA and data channels", async () => {
	const { classifyTopic, Channel } = await import("../modules/nrf-cloud/topics.js");
	const shadow = shadowTopics(ID);
	const fota = fotaTopics(PREFIX, ID);
	assert.equal(classifyTopic(shadow.accepted, shadow, fota), Channel.CONTROL);
	assert.equal(classifyTopic(shadow.rejected, shadow, fota), Channel.CONTROL);
	assert.equal(classifyTopic(shadow.delta, shadow, fota), Channel.CONTROL);
	assert.equal(classifyTopic(fota.receive, shadow, fota), Channel.FOTA);
	assert.equal(classifyTopic(fota.bleReceive, shadow, fota), Channel.FOTA_BLE);
	assert.equal(classifyTopic(`${PREFIX}m/d/${ID}/c2d`, shadow, fota), Channel.DATA);
	assert.equal(classifyTopic(fota.receive, shadow, undefined), Channel.DATA);
	assert.equal(classifyTopic(`${shadow.accepted}/x`, shadow, fota), Channel.DATA);
});

test("V5: the GET request after the shadow SUBACK: V2's get topic, empty payload, QoS 1, id 5678", async () => {
	// Without pipelining the GET waits for the SUBACK, as in the C library.
	const { device, connection } = await v2Device({ pipeline: false });
	const subscribe = connection.received.find((p): p is SubscribePacket => p.type === PacketType.SUBSCRIBE)!;
	assert.deepEqual(subscribe.subscriptions.map((s) => s.topic), V2_SHADOW_TOPICS.slice(0, 3));
	const get = publishes(connection).find((p) => p.topic === V2_SHADOW_TOPICS[4])!;
	assert.deepEqual([get.payload.length, get.qos, get.packetId], [0, 1, V5_GET_ID]);
	const suback = peer.sent.find((s) => s.connection === connection && s.packet.type === PacketType.SUBACK && s.packet.packetId === subscribe.packetId)!;
	assert.ok(connection.received.indexOf(get) >= suback.afterReceived, "the GET came after the SUBACK was sent");
	// The state machine asks for it on the shadow SUBACK (CC_CONNECTED).
	const port = new RecordingPort();
	const fsm = new StateMachine(port, { state: State.CC_CONNECTING });
	fsm.handle(TransportEvent.CC_CONNECTED, { status: 0 });
	assert.deepEqual(port.calls, [{ kind: "requestShadow" }]);
	await disconnect(device);
});

test("V6: the not-associated report, id 1", () => {
	assert.equal(notAssociatedReport(), V6_NOT_ASSOCIATED_REPORT);
	const port = new RecordingPort();
	const fsm = new StateMachine(port, { state: State.CLOUD_STATE_REQUESTED });
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: `${ID}/shadow/get/accepted`, payload: enc('{"desired":{"pairing":{"state":"not_associated"}}}') });
	assert.deepEqual(port.reports(), [{ payload: V6_NOT_ASSOCIATED_REPORT, id: V6_ID }]);
	assert.deepEqual(port.events, [{ type: SPEC_EVENT_TYPE.USER_ASSOCIATION_REQUEST, status: 0 }]);
});

test("V7: the paired report for keepalive 1200, id 7890, on the wire", async () => {
	const expected = v7PairedReport(V3_PREFIX, V3_D2C, V3_C2D, 1200);
	assert.equal(pairedReport({ prefix: V3_PREFIX, d2c: V3_D2C, c2d: V3_C2D }, 1200), expected);
	const { device, connection } = await v2Device();
	const report = publishes(connection).find((p) => p.packetId === V7_ID)!;
	assert.deepEqual([report.topic, text(report.payload), report.qos], [V2_SHADOW_TOPICS[3], expected, 1]);
	await disconnect(device);
});

test("V8: a config delta is echoed with id 1 and given to the application whole", () => {
	const delta = JSON.stringify({ version: 5, timestamp: 1614000000, state: { config: V8_CONFIG }, metadata: {} });
	const port = new RecordingPort();
	const fsm = new StateMachine(port, { state: State.DC_CONNECTED });
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: `$aws/things/${ID}/shadow/update/delta`, payload: enc(delta) });
	assert.deepEqual(port.reports(), [{ payload: V8_ECHO, id: V6_ID }]);
	assert.equal(port.events.length, 1);
	assert.equal(port.events[0]!.type, SPEC_EVENT_TYPE.RX_DATA);
	assert.equal(new TextDecoder().decode(port.events[0]!.data), delta);
	assert.equal(port.events[0]!.topic, `$aws/things/${ID}/shadow/update/delta`);
	assert.equal(configEcho(V8_CONFIG), V8_ECHO);
	// An accepted document with config is passed on without an echo.
	const accepted = new RecordingPort();
	const second = new StateMachine(accepted, { state: State.CLOUD_STATE_REQUESTED });
	second.handle(TransportEvent.CC_RX_DATA, { topic: "t", payload: enc('{"config":{"GPS":{"enable":false}},"desired":{}}') });
	assert.deepEqual([accepted.reports().length, accepted.events.map((e) => e.type)], [0, [SPEC_EVENT_TYPE.RX_DATA]]);
});

test("V9 and V10: sensor messages byte-exact", () => {
	assert.equal(sensorMessage(SENSOR_NAMES[SPEC_SENSOR.FLIP]!, "NORMAL"), V9_FLIP);
	assert.equal(sensorMessage(SENSOR_NAMES[SPEC_SENSOR.GPS]!, V10_GGA), V10_GPS);
	// cJSON escapes quotes, backslashes and control characters the same way.
	assert.equal(sensorMessage("TEMP", 'a"b\\c\n\u0001'), '{"appId":"TEMP","data":"a\\"b\\\\c\\n\\u0001","messageType":"DATA"}');
});

test("V11: the cloud's message examples equal the library's encoding once key order is ignored", () => {
	for (const [appId, data, cloud] of V11_EXAMPLES) {
		const sensor = SPEC_SENSOR_APP_IDS.indexOf(appId as never);
		assert.ok(sensor >= 0, appId);
		assert.deepEqual(JSON.parse(sensorMessage(SENSOR_NAMES[sensor]!, data)), JSON.parse(cloud));
	}
});

test("V12 and V13: application shadow documents are sent unchanged: the bytes the library publishes for send(STATE) and shadowUpdate", async () => {
	const { device, connection } = await v2Device();
	const before = publishes(connection).length;
	// V12 as a string, V13 as bytes: the space after "device": must survive, so nothing may parse and re-encode it.
	assert.equal(device.library.send({ data: V12_SERVICE_INFO, topicType: SPEC_TOPIC_TYPE.STATE }), 0);
	assert.equal(device.library.send({ data: enc(V13_SERVICE_INFO), topicType: SPEC_TOPIC_TYPE.STATE }), 0);
	// shadow_update wraps the data in {"state":{"reported":{"<SENSOR>":…}}} (section 5.5).
	assert.equal(device.library.shadowUpdate({ type: SPEC_SENSOR.DEVICE_INFO, data: { serviceInfo: { ui: ["GPS"] } } }), 0);
	const sent = await until(() => publishes(connection).length >= before + 3 && publishes(connection).slice(before), { what: "the three shadow updates" });
	// The payloads are ASCII: as text they are the bytes, and a difference shows where it is.
	assert.deepEqual(sent.map((p) => [p.topic, p.qos, p.payload.length, text(p.payload)]), [
		[V2_SHADOW_TOPICS[3], 1, V12_SERVICE_INFO.length, V12_SERVICE_INFO],
		[V2_SHADOW_TOPICS[3], 1, V13_SERVICE_INFO.length, V13_SERVICE_INFO],
		[V2_SHADOW_TOPICS[3], 1, 64, '{"state":{"reported":{"DEVICE":{"serviceInfo":{"ui":["GPS"]}}}}}'],
	]);
	await disconnect(device);
});

test("V16: the job request payload is [\"\"] (4 bytes) on V4's jobs/req, QoS 1, id 8767, after the FOTA SUBACK", async () => {
	const { device, connection } = await v2Device();
	const subscribe = connection.received.find((p): p is SubscribePacket => p.type === PacketType.SUBSCRIBE && p.subscriptions[0]!.topic === V4_FOTA_TOPICS[0])!;
	const request = publishes(connection).find((p) => p.topic === V4_FOTA_TOPICS[1])!;
	assert.deepEqual([[...request.payload], request.qos, request.packetId], [[...enc(V16_JOB_REQUEST)], 1, V16_ID]);
	assert.equal(request.payload.length, 4);
	const suback = peer.sent.find((s) => s.connection === connection && s.packet.type === PacketType.SUBACK && s.packet.packetId === subscribe.packetId)!;
	assert.ok(connection.received.indexOf(request) >= suback.afterReceived, "the request came after the FOTA SUBACK was sent");
	await disconnect(device);
});

test("V17: job documents, also the BLE form", () => {
	assert.deepEqual(decodeJob(enc(V17_JOB)), V17_JOB_DECODED);
	assert.deepEqual(decodeJob(enc(V17_BLE_JOB), true), V17_BLE_JOB_DECODED);
	for (const bad of ['["a",3,1,"h","p"]', '["a",0,1,"h"]', '{"id":"a"}', '[1,0,1,"h","p"]', `["${"x".repeat(37)}",0,1,"h","p"]`, '["a","0",1,"h","p"]', "not json", '["a",0,1,"","p"]'])
		assert.equal(decodeJob(enc(bad)), undefined, bad);
});

test("V18: job status updates", () => {
	const id = "abcd1234";
	const S = SPEC_FOTA_STATUS;
	const E = SPEC_FOTA_ERROR_TEXT;
	assert.deepEqual([
		jobUpdate(id, S.DOWNLOADING, 0), jobUpdate(id, S.DOWNLOADING, 10), jobUpdate(id, S.DOWNLOADING, 100),
		jobUpdate(id, S.IN_PROGRESS, ""), jobUpdate(id, S.SUCCEEDED, ""), jobUpdate(id, S.SUCCEEDED, E[3]),
		jobUpdate(id, S.FAILED, ""), jobUpdate(id, S.FAILED, E[1]), jobUpdate(id, S.FAILED, E[2]),
		jobUpdate(id, S.REJECTED, ""), jobUpdate(id, S.FAILED, E[5]),
	], V18_UPDATES);
	// The stored validation result becomes the update the C library sends for it.
	assert.equal(validationReport({ validate: SPEC_FOTA_VALIDATE.UNKNOWN, type: SPEC_FOTA_TYPE.APPLICATION, id }), V18_UPDATES[5]);
	assert.equal(validationReport({ validate: SPEC_FOTA_VALIDATE.FAIL, type: SPEC_FOTA_TYPE.APPLICATION, id }), V18_UPDATES[6]);
	assert.equal(validationReport({ validate: SPEC_FOTA_VALIDATE.PASS, type: SPEC_FOTA_TYPE.APPLICATION, id }), V18_UPDATES[4]);
	assert.equal(validationReport({ validate: SPEC_FOTA_VALIDATE.PENDING, type: SPEC_FOTA_TYPE.APPLICATION, id }), undefined);
});

test("V19: status and firmware type numbers shared with the cloud's job model", () => {
	assert.deepEqual(FotaStatus, SPEC_FOTA_STATUS);
	assert.deepEqual(FotaType, SPEC_FOTA_TYPE);
	// The happy path DOWNLOADING → IN_PROGRESS → SUCCEEDED as the device reports it: 7, 1, 3 on the wire.
	const path = [jobUpdate("j", FotaStatus.DOWNLOADING, 0), jobUpdate("j", FotaStatus.IN_PROGRESS, ""), jobUpdate("j", FotaStatus.SUCCEEDED, "")];
	assert.deepEqual(path.map((u) => JSON.parse(u)[1]), [7, 1, 3]);
});

/** A store that records which keys the library reads and writes. */
class RecordingStore implements SettingsStore {
	readonly inner = new MemorySettings();
	readonly reads: string[] = [];
	readonly writes: string[] = [];
	read(key: string): ArrayBuffer | undefined { this.reads.push(key); return this.inner.read(key); }
	write(key: string, value: Uint8Array): void { this.writes.push(key); this.inner.write(key, value); }
	delete(key: string): boolean { this.writes.push(key); return this.inner.delete(key); }
}

test("V20: settings keys: the library keeps p_sesh and fota/job under the nrf_cloud domain", async () => {
	// The device binding opens its key-value store with this domain (modules/nrf-cloud/device.ts).
	assert.equal(SETTINGS_DOMAIN, V20_SETTINGS_DOMAIN);
	const store = new RecordingStore();
	const { device } = await v2Device({}, { settings: store });
	// The c2d SUBACK records the persistent session; the endpoints make it look for a stored FOTA job.
	assert.deepEqual([...new Set(store.writes)].map((key) => `${SETTINGS_DOMAIN}/${key}`), [V20_SESSION_KEY]);
	assert.ok(store.reads.map((key) => `${SETTINGS_DOMAIN}/${key}`).includes(V20_FOTA_JOB_KEY), JSON.stringify(store.reads));
	assert.equal(`${SETTINGS_DOMAIN}/${SESSION_KEY}`, V20_SESSION_KEY);
	assert.equal(`${SETTINGS_DOMAIN}/${FOTA_JOB_KEY}`, V20_FOTA_JOB_KEY);
	await disconnect(device);
});

test("V21: input sequence 1,2,3,4,1,2 packs to [18,52,18], length 3", () => {
	assert.deepEqual(packSequence([...V21_PRESSES]), V21_PATTERN);
	assert.deepEqual(packSequence([1, 2, 3]), [18, 48]);
	const report = JSON.parse(sequenceReport([...V21_PRESSES]));
	assert.deepEqual([report.state.reported.pairing.config.length, report.state.reported.pairingStatus.pattern], [V21_LENGTH, V21_PATTERN]);
});

test("V22: a v2-era shadow's wildcard c2d is used as given (the v1.6 library does not rewrite it)", () => {
	const c2d = "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/m/d/nrf-test-shadow-device-id/+/r";
	const pairing = decodePairing({ pairing: { state: "paired", topics: { d2c: "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/m/d/nrf-test-shadow-device-id/d2c", c2d } }, nrfcloud_mqtt_topic_prefix: "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/" });
	assert.equal(pairing.endpoints?.c2d, c2d);
	// The reported connection and serviceInfo of V22 are not pairing data: ignored.
	const port = new RecordingPort();
	const fsm = new StateMachine(port, { state: State.DC_CONNECTED });
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: "t", payload: enc('{"state":{"connection":{"status":"disconnected","keepalive":1200,"disconnectReason":"MQTT_KEEP_ALIVE_TIMEOUT","clientInitiatedDisconnect":false}}}') });
	assert.deepEqual([port.calls.length, port.events.length], [0, 0]);
});

test("V23: the job document derived from a REST FOTA record", () => {
	const path = "bbfe6b73-a46a-43ad-94bd-8e4b4a7847ce/APP*1e29dfa3*v2.0.1/hello-nrfcloud-thingy91x-v2.0.1-fwupd.bin";
	assert.deepEqual(decodeJob(enc(JSON.stringify(["2ce6f5cc-1b3e-4ad0-9b3e-51b1d4d0a8e3", 0, 425860, "firmware.nrfcloud.com", path]))),
		{ id: "2ce6f5cc-1b3e-4ad0-9b3e-51b1d4d0a8e3", type: 0, size: 425860, host: "firmware.nrfcloud.com", path });
});

test("V24: the cloud's DISCON request is c2d data for a v1.6 device", () => {
	const port = new RecordingPort();
	const fsm = new StateMachine(port, { state: State.DC_CONNECTED });
	fsm.handle(TransportEvent.DC_RX_DATA, { topic: "c2d", payload: enc(V24_DISCON) });
	assert.deepEqual(port.events.map((e) => e.type), [SPEC_EVENT_TYPE.RX_DATA]);
	assert.equal(fsm.state, State.DC_CONNECTED);
});

test("V25: the v1.6 A-GPS request carries mcc, mnc, tac, eci, phycid and types", () => {
	const request = JSON.parse(agpsRequest({ mcc: 244, mnc: 91, tac: 4099, eci: 36078631, types: [1, 2, 3, 4, 5, 6, 7, 8, 9] }));
	const later = { appId: "AGPS", messageType: "DATA", data: { mcc: 244, mnc: 91, tac: 4099, eci: 36078631, rsrp: -47, types: [1, 2, 3, 4, 5, 6, 7, 8, 9], filtered: true, mask: 20 } };
	assert.deepEqual(Object.keys(request), Object.keys(later));
	assert.deepEqual(request.data, { mcc: 244, mnc: 91, tac: 4099, eci: 36078631, phycid: 0, types: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
	for (const key of ["mcc", "mnc", "tac", "eci", "types"]) assert.deepEqual(request.data[key], (later.data as Record<string, unknown>)[key]);
});

test("V26: init twice is -EACCES, no handler -EINVAL, a missing parameter -EINVAL; nothing works before init", async () => {
	const cloud = library();
	assert.equal(cloud.init(null as never), -Errno.EINVAL);
	assert.equal(cloud.init({} as never), -Errno.EINVAL);
	assert.equal(await cloud.connect(), SPEC_CONNECT_RESULT.ERR_NOT_INITD);
	assert.equal(cloud.disconnect(), -Errno.EACCES);
	assert.equal(cloud.sensorDataSend({ type: 0, data: "x" }), -Errno.EACCES);
	assert.equal(cloud.sensorDataStream({ type: 0, data: "x" }), -Errno.EACCES);
	assert.equal(cloud.sensorAttach({ sensorType: 0 }), -Errno.EACCES);
	assert.equal(cloud.shadowUpdate({ type: 0, data: {} }), -Errno.EACCES);
	assert.equal(cloud.send({ data: "x", topicType: 1 }), -Errno.EACCES);
	assert.equal(cloud.userAssociate({ type: 0, sequence: [1] }), -Errno.EACCES);
	assert.equal(cloud.modemFotaCompleted(true), -Errno.EACCES);
	cloud.process();
	assert.equal(cloud.state, State.IDLE);
	assert.equal(cloud.init({ eventHandler: handler }), 0);
	assert.equal(cloud.state, State.INITIALIZED);
	assert.equal(cloud.init({ eventHandler: handler }), -Errno.EACCES);
});

test("the enum tables are those of docs/protocol.md (§3.2, §3.3, §3.9)", () => {
	const tables: Array<[string, unknown, unknown]> = [
		["nrf_cloud_evt_type", EventType, SPEC_EVENT_TYPE],
		["nrf_cloud_connect_result", ConnectResult, SPEC_CONNECT_RESULT],
		["nrf_cloud_disconnect_status", DisconnectStatus, SPEC_DISCONNECT_STATUS],
		["nrf_cloud_sensor", Sensor, SPEC_SENSOR],
		["sensor appIds", SENSOR_NAMES, SPEC_SENSOR_APP_IDS],
		["nrf_cloud_topic_type", TopicType, SPEC_TOPIC_TYPE],
		["nrf_cloud_fota_type", FotaType, SPEC_FOTA_TYPE],
		["nrf_cloud_fota_status", FotaStatus, SPEC_FOTA_STATUS],
		["FOTA validation state", FotaValidate, SPEC_FOTA_VALIDATE],
		["FOTA error strings", FOTA_ERROR_TEXT, SPEC_FOTA_ERROR_TEXT],
		["nfsm_state", State, SPEC_NFSM_STATE],
		["nct_evt_type", TransportEvent, SPEC_NCT_EVT],
		["packet identifiers", MessageId, SPEC_MESSAGE_ID],
		["cloud_event_type", CloudEventType, SPEC_CLOUD_EVENT_TYPE],
		["cloud_disconnect_reason", CloudDisconnectReason, SPEC_CLOUD_DISCONNECT_REASON],
		["cloud_connect_result", CloudConnectResult, SPEC_CLOUD_CONNECT_RESULT],
		["cloud_qos", CloudQos, SPEC_CLOUD_QOS],
		["cloud_endpoint_type", CloudEndpointType, SPEC_CLOUD_ENDPOINT_TYPE],
	];
	for (const [name, actual, expected] of tables) assert.deepEqual({ ...actual as object }, { ...expected as object }, name);
});

test("V27: the event numbers of v1.5/v1.6, as the library emits them", async () => {
	const E = SPEC_EVENT_TYPE;
	// An unassociated device: CONNECTING, CONNECTED, USER_ASSOCIATION_REQUEST.
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: UNASSOCIATED_SHADOW, ackPublishes: true };
	const device = new DeviceUnderTest(peer, { clientIdSource: "runtime" });
	device.init(ID);
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(E.USER_ASSOCIATION_REQUEST);
	// The user associates it: USER_ASSOCIATED, READY.
	peer.publish(connection, V2_SHADOW_TOPICS[2], JSON.stringify({ version: 2, state: V3_DESIRED }));
	await device.waitFor(E.READY);
	// SENSOR_ATTACHED; RX_DATA for c2d; SENSOR_DATA_ACK for a tagged send; TRANSPORT_DISCONNECTED.
	assert.equal(device.library.sensorAttach({ sensorType: SPEC_SENSOR.GPS }), 0);
	peer.publish(connection, V3_C2D, V24_DISCON);
	await device.waitFor(E.RX_DATA);
	assert.equal(device.library.sensorDataSend({ type: SPEC_SENSOR.FLIP, data: "NORMAL", tag: 4242 }), 0);
	await device.waitFor(E.SENSOR_DATA_ACK);
	await disconnect(device);
	// A refused CONNACK: ERROR with its return code, then TRANSPORT_DISCONNECTED.
	peer.policy.connack = { returnCode: 5, sessionPresent: false };
	await device.library.connect();
	await device.waitFor(E.TRANSPORT_DISCONNECTED, 2);
	assert.deepEqual(device.types(), [
		E.TRANSPORT_CONNECTING, E.TRANSPORT_CONNECTED, E.USER_ASSOCIATION_REQUEST, E.USER_ASSOCIATED, E.READY,
		E.SENSOR_ATTACHED, E.RX_DATA, E.SENSOR_DATA_ACK, E.TRANSPORT_DISCONNECTED,
		E.TRANSPORT_CONNECTING, E.ERROR, E.TRANSPORT_DISCONNECTED,
	]);
	assert.deepEqual(device.types(), [2, 1, 3, 4, 5, 6, 7, 8, 9, 2, 255, 9], "the numbers themselves");
	// FOTA_DONE (10) has no path in this library: FOTA jobs go to the platform's runner (see the enum table test).
});

test("connect results and disconnect statuses: the C enums' numbers, from the library's own failures", async () => {
	const R = SPEC_CONNECT_RESULT;
	// Results of connect itself.
	const idle = library();
	assert.equal(await idle.connect(), R.ERR_NOT_INITD);
	const { device } = await v2Device();
	assert.equal(await device.library.connect(), R.ERR_ALREADY_CONNECTED);
	// Statuses: USER_REQUEST for disconnect(), CLOSED_BY_REMOTE when the cloud closes, MISC for a broken frame.
	const D = SPEC_DISCONNECT_STATUS;
	await disconnect(device);
	assert.equal(device.events.at(-1)!.status, D.USER_REQUEST);
	const closed = await v2Device();
	closed.connection.close();
	assert.equal((await closed.device.waitFor(SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED)).status, D.CLOSED_BY_REMOTE);
	const broken = await v2Device();
	broken.connection.sendRaw(new Uint8Array([0xF0, 0x00]));
	assert.equal((await broken.device.waitFor(SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED)).status, D.MISC);
});

test("a connect failure's errno becomes the connect result of the C library's translation table", () => {
	const table: Readonly<Record<string, number>> = {
		ECHILD: SPEC_CONNECT_RESULT.ERR_NETWORK, EHOSTUNREACH: SPEC_CONNECT_RESULT.ERR_NETWORK, ENETUNREACH: SPEC_CONNECT_RESULT.ERR_NETWORK, ENETDOWN: SPEC_CONNECT_RESULT.ERR_NETWORK,
		EACCES: SPEC_CONNECT_RESULT.ERR_NOT_INITD, ENOEXEC: SPEC_CONNECT_RESULT.ERR_BACKEND, EINVAL: SPEC_CONNECT_RESULT.ERR_PRV_KEY, EOPNOTSUPP: SPEC_CONNECT_RESULT.ERR_CERT,
		ECONNREFUSED: SPEC_CONNECT_RESULT.ERR_CERT_MISC, ETIMEDOUT: SPEC_CONNECT_RESULT.ERR_TIMEOUT_NO_DATA, ENOMEM: SPEC_CONNECT_RESULT.ERR_NO_MEM,
		EINPROGRESS: SPEC_CONNECT_RESULT.ERR_ALREADY_CONNECTED,
	};
	for (const name of Object.keys(table)) assert.ok(name in Errno, `${name} is a Zephyr errno the platform layer knows`);
	// Every errno the platform layer knows: the table's result, ERR_MISC for the rest.
	for (const [name, errno] of Object.entries(Errno)) assert.equal(classifyConnectFailure(errno), table[name] ?? SPEC_CONNECT_RESULT.ERR_MISC, name);
	// Linux's numbers (ECONNREFUSED 111, EHOSTUNREACH 113), negated ones and nonsense are not Zephyr errnos.
	for (const errno of [0, 111, 113, 110, -Errno.ECONNREFUSED, 4096, Number.NaN]) assert.equal(classifyConnectFailure(errno), SPEC_CONNECT_RESULT.ERR_MISC, String(errno));
	// What connect() threw: a SocketError's errno, whatever its message says; EIO for anything else.
	assert.equal(connectFailureErrno(new SocketError(Errno.EINVAL, "connect failed: Connection refused")), Errno.EINVAL);
	assert.equal(connectFailureErrno(new Error("security tag 16842753: the private key does not parse")), Errno.EIO);
	assert.equal(connectFailureErrno("cannot resolve"), Errno.EIO);
	assert.equal(connectFailureErrno({ errno: Errno.EOPNOTSUPP }), Errno.EIO, "only a SocketError carries a socket's errno");
	// A close without an error before the connection was up: the peer hung up during the handshake.
	assert.equal(closedBeforeUpErrno(undefined), Errno.ECONNREFUSED);
	assert.equal(closedBeforeUpErrno(new SocketError(Errno.ETIMEDOUT, "x")), Errno.ETIMEDOUT);
});

test("V28: a connection closed before CONNACK is TRANSPORT_DISCONNECTED with INVALID_REQUEST, and CLOUD_EVT_DISCONNECTED with CLOUD_DISCONNECT_INVALID_REQUEST", async () => {
	// The library itself: the peer reads CONNECT and closes, as AWS IoT does on a JITP first connection.
	peer.policy = { connack: "jitp", shadow: undefined, ackPublishes: true };
	const device = new DeviceUnderTest(peer);
	device.init();
	assert.equal(await device.library.connect(), SPEC_CONNECT_RESULT.SUCCESS);
	const down = await device.waitFor(SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED);
	assert.equal(down.status, V28_STATUS);
	assert.equal(down.status, SPEC_DISCONNECT_STATUS.INVALID_REQUEST);
	assert.deepEqual(device.types(), [SPEC_EVENT_TYPE.TRANSPORT_CONNECTING, SPEC_EVENT_TYPE.TRANSPORT_DISCONNECTED]);
	// Through the Cloud API (modules/cloud), then the reconnect the application makes.
	const events: ApiEvent[] = [];
	const backend: CloudBackend = defineNrfCloudBackend(new NrfCloud({
		socket: () => nodeSocket({ host: "127.0.0.1", port: peer.port }),
		settings: new MemorySettings(),
		modem: { imei: () => IMEI, deviceUuid: () => "00000000-0000-0000-0000-000000000000" },
	}, { pollThread: true }));
	assert.equal(cloudGetBinding(NRF_CLOUD_BACKEND), backend);
	assert.equal(cloudInit(backend, (_backend, event) => { events.push(event); }), 0);
	assert.equal(await cloudConnect(backend), SPEC_CLOUD_CONNECT_RESULT.SUCCESS);
	const C = SPEC_CLOUD_EVENT_TYPE;
	const disconnected = await until(() => events.find((e) => e.type === C.DISCONNECTED), { what: "CLOUD_EVT_DISCONNECTED", detail: () => JSON.stringify(events) });
	assert.equal(disconnected.err, SPEC_CLOUD_DISCONNECT_REASON.INVALID_REQUEST);
	assert.deepEqual(events.map((e) => e.type), [C.CONNECTING, C.DISCONNECTED]);
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: { desired: V3_DESIRED }, ackPublishes: true };
	assert.equal(await cloudConnect(backend), SPEC_CLOUD_CONNECT_RESULT.SUCCESS);
	await until(() => events.some((e) => e.type === C.READY), { what: "CLOUD_EVT_READY after the reconnect", detail: () => JSON.stringify(events) });
	assert.equal((backend.api.disconnect!)(backend), 0);
	await until(() => events.filter((e) => e.type === C.DISCONNECTED).length === 2, { what: "the second CLOUD_EVT_DISCONNECTED" });
	assert.equal(events.at(-1)!.err, SPEC_CLOUD_DISCONNECT_REASON.USER_REQUEST);
});

test("client ID sources: IMEI with a custom prefix, internal UUID, compile time, run time; limits", () => {
	const custom = library({ clientIdPrefix: "acme-" });
	custom.init({ eventHandler: handler });
	assert.equal(custom.clientId, "acme-352656100441776");
	const uuid = library({ clientIdSource: "internal-uuid" });
	assert.equal(uuid.init({ eventHandler: handler }), 0);
	assert.equal(uuid.clientId, "5a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
	const upper = new NrfCloud({ socket: () => { throw new Error("unused"); }, modem: { imei: () => "1", deviceUuid: () => "5A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9" } }, { clientIdSource: "internal-uuid" });
	assert.equal(upper.init({ eventHandler: handler }), -Errno.EIO, "a UUID not in the attestation token's lower-case form");
	const compiled = library({ clientIdSource: "compile-time" });
	compiled.init({ eventHandler: handler });
	assert.equal(compiled.clientId, "my-client-id");
	const runtime = library({ clientIdSource: "runtime" });
	assert.equal(runtime.init({ eventHandler: handler }), -Errno.EINVAL);
	assert.equal(runtime.init({ eventHandler: handler, clientId: "x".repeat(65) }), -Errno.ENOMEM);
	assert.equal(runtime.init({ eventHandler: handler, clientId: "a/b" }), -Errno.EINVAL);
	assert.equal(runtime.init({ eventHandler: handler, clientId: "x".repeat(64) }), 0);
	assert.equal(runtime.clientId, "x".repeat(64));
	// Old modem firmware: a clear error, and init can be tried again.
	const old = new NrfCloud({ socket: () => { throw new Error("unused"); }, modem: { imei: () => "1", deviceUuid: () => { throw new Error("AT%ATTESTTOKEN failed: it needs modem firmware 1.3.0 or later (mfw_nrf9160_1.2.3)"); } } }, { clientIdSource: "internal-uuid" });
	assert.equal(old.init({ eventHandler: handler }), -Errno.EIO);
	assert.match(old.lastError!, /1\.3\.0/);
	assert.equal(old.state, State.IDLE);
	assert.throws(() => library({ clientIdSource: "serial" as never }), RangeError);
	assert.throws(() => library({ port: 0 }), RangeError);
	assert.throws(() => library({ keepalive: -1 }), RangeError);
	assert.throws(() => library({ pollThread: "yes" as never }), TypeError);
});

test("argument checks return -EINVAL and leave the library usable", () => {
	const cloud = library();
	cloud.init({ eventHandler: handler });
	assert.equal(cloud.sensorAttach({ sensorType: 9 }), -Errno.EINVAL);
	assert.equal(cloud.sensorAttach(null as never), -Errno.EINVAL);
	assert.equal(cloud.sensorDataSend({ type: 0, data: "" }), -Errno.EINVAL);
	assert.equal(cloud.sensorDataSend({ type: 0, data: 5 }), -Errno.EINVAL);
	assert.equal(cloud.sensorDataSend({ type: 0, data: "x", tag: -1 }), -Errno.EINVAL);
	assert.equal(cloud.sensorDataStream({ type: -1, data: "x" }), -Errno.EINVAL);
	assert.equal(cloud.send({ data: 5 as never, topicType: 2, qos: 0 }), -Errno.EINVAL);
	assert.equal(cloud.userAssociate({ type: 1, sequence: [1] }), -Errno.EINVAL);
	assert.equal(cloud.modemFotaCompleted("yes" as never), -Errno.EINVAL);
	assert.equal(cloud.modemFotaCompleted(true), -Errno.EOPNOTSUPP);
	assert.equal(cloud.state, State.INITIALIZED);
});
