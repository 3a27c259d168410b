/*
 * The device-side test vectors of the specification (section 9), V1 to V28.
 * Vectors that need a live connection (V5, V12, V13, V16 on the wire, V24,
 * V28) are also checked packet by packet in nrf-cloud-library.test.ts; V14
 * and V15 go through the Cloud API in cloud-api.test.ts.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
	ConnectResult, DisconnectStatus, EventType, FotaStatus, FotaType, FOTA_JOB_KEY, MessageId, SESSION_KEY, SETTINGS_DOMAIN, Sensor, SENSOR_NAMES, State, Errno,
} from "../modules/nrf-cloud/constants.js";
import {
	agpsRequest, configEcho, decodeJob, decodePairing, decodeShadow, JOB_REQUEST, jobUpdate, notAssociatedReport, packSequence,
	pairedReport, PairingKind, sensorMessage, sequenceReport, validationReport, FOTA_ERROR_TEXT,
} from "../modules/nrf-cloud/codec.js";
import { StateMachine } from "../modules/nrf-cloud/fsm.js";
import { TransportEvent } from "../modules/nrf-cloud/transport-events.js";
import { NrfCloud } from "../modules/nrf-cloud/library.js";
import { classifyConnectFailure, closedBeforeUpErrno, connectFailureErrno } from "../modules/nrf-cloud/connect-failure.js";
import { SocketError } from "../modules/platform/socket.js";
import { fotaTopics, shadowTopics } from "../modules/nrf-cloud/topics.js";
import { RecordingPort } from "./support/fsm-port.js";

const enc = (s: string) => new TextEncoder().encode(s);
const ID = "nrf-352656101397613";
const TENANT = "63ae73c3-9918-4b03-a1a8-132174824392";
const PREFIX = `prod/${TENANT}/`;

function library(config: ConstructorParameters<typeof NrfCloud>[1] = {}, imei = "352656100441776"): NrfCloud {
	return new NrfCloud({ socket: () => { throw new Error("no network in this test"); }, modem: { imei: () => imei, modemUuid: () => "5A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9" } }, config);
}

const handler = () => undefined;

test("V1: the client ID for IMEI 352656100441776 with the default prefix", () => {
	const cloud = library();
	assert.equal(cloud.init({ eventHandler: handler }), 0);
	assert.equal(cloud.clientId, "nrf-352656100441776");
});

test("V2: shadow topics of nrf-352656101397613", () => {
	const t = shadowTopics(ID);
	assert.deepEqual([t.accepted, t.rejected, t.delta, t.update, t.get], [
		"nrf-352656101397613/shadow/get/accepted",
		"$aws/things/nrf-352656101397613/shadow/get/rejected",
		"$aws/things/nrf-352656101397613/shadow/update/delta",
		"$aws/things/nrf-352656101397613/shadow/update",
		"$aws/things/nrf-352656101397613/shadow/get",
	]);
});

const IP_SHADOW_DESIRED = {
	pairing: { state: "paired", topics: { d2c: `${PREFIX}m/d/${ID}/d2c`, c2d: `${PREFIX}m/d/${ID}/c2d` } },
	nrfcloud_mqtt_topic_prefix: PREFIX,
};

test("V3: the pairing topics come from the shadow as they are", () => {
	const message = decodeShadow(enc(JSON.stringify({ desired: IP_SHADOW_DESIRED, reported: {} })))!;
	const pairing = decodePairing(message.desired);
	assert.equal(pairing.kind, PairingKind.PAIRED);
	assert.deepEqual(pairing.endpoints, {
		prefix: "prod/63ae73c3-9918-4b03-a1a8-132174824392/",
		d2c: "prod/63ae73c3-9918-4b03-a1a8-132174824392/m/d/nrf-352656101397613/d2c",
		c2d: "prod/63ae73c3-9918-4b03-a1a8-132174824392/m/d/nrf-352656101397613/c2d",
	});
});

test("V4: FOTA topics from the V3 prefix", () => {
	const t = fotaTopics(PREFIX, ID);
	assert.deepEqual([t.receive, t.request, t.update], [
		"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/rcv",
		"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/req",
		"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/update",
	]);
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

test("V5: the GET request after the shadow SUBACK (topic, empty payload, QoS 1, id 5678 in the library test)", () => {
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.CC_CONNECTING;
	fsm.handle(TransportEvent.CC_CONNECTED, { status: 0 });
	assert.deepEqual(port.calls, [{ kind: "requestShadow" }]);
	assert.equal(MessageId.CLOUD_STATE_REQUEST, 5678);
});

test("V6: the not-associated report, id 1", () => {
	assert.equal(notAssociatedReport(), '{"state":{"reported":{"stage":null,"nrfcloud_mqtt_topic_prefix":null,"pairing":{"state":"not_associated","topics":null,"config":null},"connection":{"keepalive":null}}}}');
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.CLOUD_STATE_REQUESTED;
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: `${ID}/shadow/get/accepted`, payload: enc('{"desired":{"pairing":{"state":"not_associated"}}}') });
	assert.deepEqual(port.reports(), [{ payload: notAssociatedReport(), id: 1 }]);
	assert.deepEqual(port.events, [{ type: EventType.USER_ASSOCIATION_REQUEST, status: 0 }]);
});

test("V7: the paired report for keepalive 1200, id 7890", () => {
	const expected = `{"state":{"reported":{"nrfcloud_mqtt_topic_prefix":"${PREFIX}","pairingStatus":null,"pairing":{"state":"paired","config":null,"topics":{"d2c":"${PREFIX}m/d/${ID}/d2c","c2d":"${PREFIX}m/d/${ID}/c2d"}},"connection":{"keepalive":1200}}}}`;
	assert.equal(pairedReport({ prefix: PREFIX, d2c: `${PREFIX}m/d/${ID}/d2c`, c2d: `${PREFIX}m/d/${ID}/c2d` }, 1200), expected);
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.CLOUD_STATE_REQUESTED;
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: `${ID}/shadow/get/accepted`, payload: enc(JSON.stringify({ desired: IP_SHADOW_DESIRED })) });
	assert.deepEqual(port.reports(), [{ payload: expected, id: 7890 }]);
});

test("V8: a config delta is echoed with id 1 and given to the application whole", () => {
	const delta = '{"version":5,"timestamp":1614000000,"state":{"config":{"GPS":{"enable":true}}},"metadata":{}}';
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.DC_CONNECTED;
	fsm.handle(TransportEvent.CC_RX_DATA, { topic: `$aws/things/${ID}/shadow/update/delta`, payload: enc(delta) });
	assert.deepEqual(port.reports(), [{ payload: '{"state":{"reported":{"config":{"GPS":{"enable":true}}},"desired":{"config":null}}}', id: 1 }]);
	assert.equal(port.events.length, 1);
	assert.equal(port.events[0]!.type, EventType.RX_DATA);
	assert.equal(new TextDecoder().decode(port.events[0]!.data), delta);
	assert.equal(port.events[0]!.topic, `$aws/things/${ID}/shadow/update/delta`);
	assert.equal(configEcho({ GPS: { enable: true } }), '{"state":{"reported":{"config":{"GPS":{"enable":true}}},"desired":{"config":null}}}');
	// An accepted document with config is passed on without an echo.
	const accepted = new RecordingPort();
	const second = new StateMachine(accepted);
	second.state = State.CLOUD_STATE_REQUESTED;
	second.handle(TransportEvent.CC_RX_DATA, { topic: "t", payload: enc('{"config":{"GPS":{"enable":false}},"desired":{}}') });
	assert.deepEqual([accepted.reports().length, accepted.events.map((e) => e.type)], [0, [EventType.RX_DATA]]);
});

test("V9 and V10: sensor messages byte-exact", () => {
	assert.equal(sensorMessage(SENSOR_NAMES[Sensor.FLIP]!, "NORMAL"), '{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}');
	assert.equal(sensorMessage(SENSOR_NAMES[Sensor.GPS]!, "$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64"),
		'{"appId":"GPS","data":"$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64","messageType":"DATA"}');
	// cJSON escapes quotes, backslashes and control characters the same way.
	assert.equal(sensorMessage("TEMP", 'a"b\\c\n\u0001'), '{"appId":"TEMP","data":"a\\"b\\\\c\\n\\u0001","messageType":"DATA"}');
});

test("V11: the cloud's message examples equal the library's encoding once key order is ignored", () => {
	const examples: Array<[number, string, string]> = [
		[Sensor.FLIP, "NORMAL", '{"appId":"FLIP","messageType":"DATA","data":"NORMAL"}'],
		[Sensor.FLIP, "UPSIDE_DOWN", '{"appId":"FLIP","messageType":"DATA","data":"UPSIDE_DOWN"}'],
		[Sensor.BUTTON, "1", '{"appId":"BUTTON","messageType":"DATA","data":"1"}'],
		[Sensor.BUTTON, "0", '{"appId":"BUTTON","messageType":"DATA","data":"0"}'],
		[Sensor.TEMP, "215.2", '{"appId":"TEMP","messageType":"DATA","data":"215.2"}'],
		[Sensor.HUMID, "70.0", '{"appId":"HUMID","messageType":"DATA","data":"70.0"}'],
		[Sensor.AIR_PRESS, "110000.0", '{"appId":"AIR_PRESS","messageType":"DATA","data":"110000.0"}'],
		[Sensor.AIR_QUAL, "450", '{"appId":"AIR_QUAL","messageType":"DATA","data":"450"}'],
		[Sensor.LTE_LINK_RSRP, "-30.0", '{"appId":"RSRP","messageType":"DATA","data":"-30.0"}'],
	];
	for (const [sensor, data, cloud] of examples) assert.deepEqual(JSON.parse(sensorMessage(SENSOR_NAMES[sensor]!, data)), JSON.parse(cloud));
});

test("V12 and V13: application shadow documents are sent unchanged (checked on the wire in the library test)", () => {
	// The library adds nothing to nrf_cloud_send payloads; V13's space after "device": survives.
	const v13 = '{"state":{"reported":{"device": {"serviceInfo":{"ui":["GPS"]}}}}}';
	assert.equal(new TextDecoder().decode(enc(v13)), v13);
});

test("V16: the job request payload is [\"\"] (4 bytes), id 8767", () => {
	assert.equal(JOB_REQUEST, '[""]');
	assert.equal(enc(JOB_REQUEST).length, 4);
	assert.equal(MessageId.FOTA_REQUEST, 8767);
});

test("V17: job documents, also the BLE form", () => {
	assert.deepEqual(decodeJob(enc('["abcd1234",0,1234,"nrfcloud.com","v1/firmwares/appfw.bin"]')),
		{ id: "abcd1234", type: FotaType.APPLICATION, size: 1234, host: "nrfcloud.com", path: "v1/firmwares/appfw.bin" });
	assert.deepEqual(decodeJob(enc('["12:AB:34:CD:56:EF","efgh5678",0,321,"nrfcloud.com","v1/firmwares/ble.bin"]'), true),
		{ id: "efgh5678", type: 0, size: 321, host: "nrfcloud.com", path: "v1/firmwares/ble.bin", bleAddress: "12:AB:34:CD:56:EF" });
	for (const bad of ['["a",3,1,"h","p"]', '["a",0,1,"h"]', '{"id":"a"}', '[1,0,1,"h","p"]', `["${"x".repeat(37)}",0,1,"h","p"]`, '["a","0",1,"h","p"]', "not json", '["a",0,1,"","p"]'])
		assert.equal(decodeJob(enc(bad)), undefined, bad);
});

test("V18: job status updates", () => {
	const id = "abcd1234";
	assert.deepEqual([
		jobUpdate(id, FotaStatus.DOWNLOADING, 0), jobUpdate(id, FotaStatus.DOWNLOADING, 10), jobUpdate(id, FotaStatus.DOWNLOADING, 100),
		jobUpdate(id, FotaStatus.IN_PROGRESS, ""), jobUpdate(id, FotaStatus.SUCCEEDED, ""), jobUpdate(id, FotaStatus.SUCCEEDED, FOTA_ERROR_TEXT[3]!),
		jobUpdate(id, FotaStatus.FAILED, ""), jobUpdate(id, FotaStatus.FAILED, FOTA_ERROR_TEXT[1]!), jobUpdate(id, FotaStatus.FAILED, FOTA_ERROR_TEXT[2]!),
		jobUpdate(id, FotaStatus.REJECTED, ""), jobUpdate(id, FotaStatus.FAILED, FOTA_ERROR_TEXT[5]!),
	], [
		'["abcd1234",7,0]', '["abcd1234",7,10]', '["abcd1234",7,100]', '["abcd1234",1,""]', '["abcd1234",3,""]',
		'["abcd1234",3,"FOTA update not validated"]', '["abcd1234",2,""]', '["abcd1234",2,"Failed to start download"]',
		'["abcd1234",2,"Error during download"]', '["abcd1234",6,""]', '["abcd1234",2,"FW file does not match specified FOTA type"]',
	]);
	assert.equal(validationReport({ validate: 4, type: 0, id }), '["abcd1234",3,"FOTA update not validated"]');
	assert.equal(validationReport({ validate: 3, type: 0, id }), '["abcd1234",2,""]');
	assert.equal(validationReport({ validate: 1, type: 0, id }), undefined);
});

test("V19: status and firmware type numbers shared with the cloud's job model", () => {
	assert.deepEqual(Object.values(FotaStatus), [0, 1, 2, 3, 4, 5, 6, 7]);
	assert.deepEqual([FotaType.APPLICATION, FotaType.MODEM, FotaType.BOOTLOADER], [0, 1, 2]);
	// The happy path DOWNLOADING → IN_PROGRESS → SUCCEEDED as the device reports it.
	assert.deepEqual([jobUpdate("j", 7, 0), jobUpdate("j", 1, ""), jobUpdate("j", 3, "")].map((u) => JSON.parse(u)[1]), [7, 1, 3]);
});

test("V20: settings keys", () => {
	assert.equal(`${SETTINGS_DOMAIN}/${FOTA_JOB_KEY}`, "nrf_cloud/fota/job");
	assert.equal(`${SETTINGS_DOMAIN}/${SESSION_KEY}`, "nrf_cloud/p_sesh");
});

test("V21: input sequence 1,2,3,4,1,2 packs to [18,52,18], length 3", () => {
	assert.deepEqual(packSequence([1, 2, 3, 4, 1, 2]), [18, 52, 18]);
	assert.deepEqual(packSequence([1, 2, 3]), [18, 48]);
	assert.match(sequenceReport([1, 2, 3, 4, 1, 2]), /"length":3\}\},"pairingStatus":\{"method":"buttons","pattern":\[18,52,18\]\}/);
});

test("V22: a v2-era shadow's wildcard c2d is used as given (the v1.6 library does not rewrite it)", () => {
	const c2d = "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/m/d/nrf-test-shadow-device-id/+/r";
	const pairing = decodePairing({ pairing: { state: "paired", topics: { d2c: "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/m/d/nrf-test-shadow-device-id/d2c", c2d } }, nrfcloud_mqtt_topic_prefix: "prod/543c2184-c7fe-4ca6-a2a0-c06db425fbbf/" });
	assert.equal(pairing.endpoints?.c2d, c2d);
	// The reported connection and serviceInfo of V22 are not pairing data: ignored.
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.DC_CONNECTED;
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
	const fsm = new StateMachine(port);
	fsm.state = State.DC_CONNECTED;
	fsm.handle(TransportEvent.DC_RX_DATA, { topic: "c2d", payload: enc('{"appId":"DEVICE","messageType":"DISCON"}') });
	assert.deepEqual(port.events.map((e) => e.type), [EventType.RX_DATA]);
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
	assert.equal(await cloud.connect(), -1);
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

test("V27: event numbers of v1.5/v1.6", () => {
	assert.deepEqual(EventType, {
		TRANSPORT_CONNECTED: 1, TRANSPORT_CONNECTING: 2, USER_ASSOCIATION_REQUEST: 3, USER_ASSOCIATED: 4, READY: 5,
		SENSOR_ATTACHED: 6, RX_DATA: 7, SENSOR_DATA_ACK: 8, TRANSPORT_DISCONNECTED: 9, FOTA_DONE: 10, ERROR: 255,
	});
});

test("connect results and disconnect statuses carry the C enums' numbers", () => {
	assert.deepEqual(ConnectResult, {
		SUCCESS: 0, ERR_NOT_INITD: -1, ERR_INVALID_PARAM: -2, ERR_NETWORK: -3, ERR_BACKEND: -4, ERR_MISC: -5, ERR_NO_MEM: -6,
		ERR_PRV_KEY: -7, ERR_CERT: -8, ERR_CERT_MISC: -9, ERR_TIMEOUT_NO_DATA: -10, ERR_ALREADY_CONNECTED: -11,
	});
	assert.deepEqual(DisconnectStatus, { USER_REQUEST: 0, CLOSED_BY_REMOTE: 1, INVALID_REQUEST: 2, MISC: 3, COUNT: 4 });
});

test("a connect failure's errno becomes the connect result of the C library's translation table", () => {
	const table: Readonly<Record<string, number>> = {
		ECHILD: ConnectResult.ERR_NETWORK, EHOSTUNREACH: ConnectResult.ERR_NETWORK, ENETUNREACH: ConnectResult.ERR_NETWORK, ENETDOWN: ConnectResult.ERR_NETWORK,
		EACCES: ConnectResult.ERR_NOT_INITD, ENOEXEC: ConnectResult.ERR_BACKEND, EINVAL: ConnectResult.ERR_PRV_KEY, EOPNOTSUPP: ConnectResult.ERR_CERT,
		ECONNREFUSED: ConnectResult.ERR_CERT_MISC, ETIMEDOUT: ConnectResult.ERR_TIMEOUT_NO_DATA, ENOMEM: ConnectResult.ERR_NO_MEM,
		EINPROGRESS: ConnectResult.ERR_ALREADY_CONNECTED,
	};
	for (const name of Object.keys(table)) assert.ok(name in Errno, `${name} is a Zephyr errno the platform layer knows`);
	// Every errno the platform layer knows: the table's result, ERR_MISC for the rest.
	for (const [name, errno] of Object.entries(Errno)) assert.equal(classifyConnectFailure(errno), table[name] ?? ConnectResult.ERR_MISC, name);
	// Linux's numbers (ECONNREFUSED 111, EHOSTUNREACH 113), negated ones and nonsense are not Zephyr errnos.
	for (const errno of [0, 111, 113, 110, -Errno.ECONNREFUSED, 4096, Number.NaN]) assert.equal(classifyConnectFailure(errno), ConnectResult.ERR_MISC, String(errno));
	// What connect() threw: a SocketError's errno, whatever its message says; EIO for anything else.
	assert.equal(connectFailureErrno(new SocketError(Errno.EINVAL, "connect failed: Connection refused")), Errno.EINVAL);
	assert.equal(connectFailureErrno(new Error("security tag 16842753: the private key does not parse")), Errno.EIO);
	assert.equal(connectFailureErrno("cannot resolve"), Errno.EIO);
	assert.equal(connectFailureErrno({ errno: Errno.EOPNOTSUPP }), Errno.EIO, "only a SocketError carries a socket's errno");
	// A close without an error before the connection was up: the peer hung up during the handshake.
	assert.equal(closedBeforeUpErrno(undefined), Errno.ECONNREFUSED);
	assert.equal(closedBeforeUpErrno(new SocketError(Errno.ETIMEDOUT, "x")), Errno.ETIMEDOUT);
});

test("V28: a connection closed before CONNACK is reported as INVALID_REQUEST (on the wire in the library test)", () => {
	const port = new RecordingPort();
	const fsm = new StateMachine(port);
	fsm.state = State.INITIALIZED;
	fsm.handle(TransportEvent.DISCONNECTED, { status: 2 });
	assert.deepEqual(port.events, [{ type: EventType.TRANSPORT_DISCONNECTED, status: 2 }]);
});

test("client ID sources: IMEI with a custom prefix, internal UUID, compile time, run time; limits", () => {
	const custom = library({ clientIdPrefix: "acme-" });
	custom.init({ eventHandler: handler });
	assert.equal(custom.clientId, "acme-352656100441776");
	const uuid = library({ clientIdSource: "internal-uuid" });
	assert.equal(uuid.init({ eventHandler: handler }), 0);
	assert.equal(uuid.clientId, "5a1b2c3d4e5f60718293a4b5c6d7e8f9");
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
	const old = new NrfCloud({ socket: () => { throw new Error("unused"); }, modem: { imei: () => "1", modemUuid: () => { throw new Error("AT%XMODEMUUID failed: the modem UUID needs modem firmware 1.3.0 or later (mfw_nrf9160_1.2.3)"); } } }, { clientIdSource: "internal-uuid" });
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
