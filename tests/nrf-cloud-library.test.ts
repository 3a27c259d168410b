/*
 * The nRF Cloud library under Node against a scripted nRF Cloud: the packet
 * sequences of docs/protocol.md §1.7 byte for byte, the events and
 * their order, persistent sessions, JITP, deltas, c2d, disassociation,
 * oversize payloads, sensor data, and both connection modes.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { PacketType, type PublishPacket, type SubscribePacket, type UnsubscribePacket } from "../modules/mqtt/packet.js";
import { nodeSocket } from "../hosts/node/socket.js";
import type { SettingsStore } from "../modules/nrf-cloud/settings.js";
import { ConnectResult, DisconnectStatus, Errno, EventType, MessageId, Sensor, State, TopicType } from "../modules/nrf-cloud/constants.js";
import {
	ASSOCIATED_SHADOW, C2D, CloudPeer, D2C, DEVICE_ID, DeviceUnderTest, PREFIX, UNASSOCIATED_SHADOW, pairedDesired, publishes, text,
} from "./support/nrf-cloud-peer.js";
import { until } from "./support/until.js";
import { fakeFlash, fakeFotaPlatform, fakeServer } from "./support/fota-fakes.js";
import { V12_SERVICE_INFO, V13_SERVICE_INFO, V6_NOT_ASSOCIATED_REPORT, v7PairedReport } from "./support/vectors.js";

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

const NOT_ASSOCIATED_REPORT = V6_NOT_ASSOCIATED_REPORT;
const pairedReport = (keepalive: number) => v7PairedReport(PREFIX, D2C, C2D, keepalive);

function reset(): void {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
}

async function connectReady(device: DeviceUnderTest): Promise<number> {
	const index = peer.broker.connections.length;
	assert.equal(await device.library.connect(), ConnectResult.SUCCESS);
	await peer.connection(index);
	await device.waitFor(EventType.READY);
	return index;
}

test("an associated device: the v1.6 connect sequence, byte for byte, and CONNECTED, USER_ASSOCIATED, READY", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { keepalive: 1200 });
	assert.equal(device.init(), 0);
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "job request" });
	const sent = connection.received;
	assert.equal(sent[0]!.type, PacketType.CONNECT);
	const connect = sent[0] as Extract<typeof sent[0], { type: 1 }>;
	assert.equal(connect.clientId, DEVICE_ID);
	assert.equal(connect.clean, true);
	assert.equal(connect.keepalive, 1200);
	assert.equal(connect.username, undefined);
	assert.equal(connect.will, undefined);
	const subscribe = sent[1] as SubscribePacket;
	assert.equal(subscribe.type, PacketType.SUBSCRIBE);
	assert.equal(subscribe.packetId, 1234);
	assert.deepEqual(subscribe.subscriptions, [
		{ topic: `${DEVICE_ID}/shadow/get/accepted`, qos: 1 },
		{ topic: `$aws/things/${DEVICE_ID}/shadow/get/rejected`, qos: 1 },
		{ topic: `$aws/things/${DEVICE_ID}/shadow/update/delta`, qos: 1 },
	]);
	const get = sent[2] as PublishPacket;
	assert.deepEqual([get.type, get.topic, get.payload.length, get.qos, get.packetId], [PacketType.PUBLISH, `$aws/things/${DEVICE_ID}/shadow/get`, 0, 1, 5678]);
	// The PUBACK for the accepted document, then the paired report (V7).
	assert.deepEqual(sent[3], { type: PacketType.PUBACK, packetId: 100 });
	const report = sent[4] as PublishPacket;
	assert.deepEqual([report.topic, report.qos, report.packetId], [`$aws/things/${DEVICE_ID}/shadow/update`, 1, 7890]);
	assert.equal(text(report.payload), pairedReport(1200));
	const c2d = sent[5] as SubscribePacket;
	assert.deepEqual([c2d.type, c2d.packetId, c2d.subscriptions], [PacketType.SUBSCRIBE, 8765, [{ topic: C2D, qos: 1 }]]);
	const jobs = sent[6] as SubscribePacket;
	assert.deepEqual([jobs.type, jobs.packetId, jobs.subscriptions], [PacketType.SUBSCRIBE, 8766, [{ topic: `${PREFIX}${DEVICE_ID}/jobs/rcv`, qos: 1 }]]);
	const request = sent[7] as PublishPacket;
	assert.deepEqual([request.topic, text(request.payload), request.qos, request.packetId], [`${PREFIX}${DEVICE_ID}/jobs/req`, '[""]', 1, 8767]);
	assert.deepEqual(device.types(), [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY]);
	assert.equal(device.events[1]!.status, 0);
	assert.equal(device.library.state, State.DC_CONNECTED);
	assert.deepEqual(device.library.endpoints, { prefix: PREFIX, d2c: D2C, c2d: C2D });
	// c2d SUBACK recorded the persistent session.
	assert.equal(new DataView(device.settings.read("p_sesh")!).getInt32(0, true), 1);
	assert.equal(device.library.disconnect(), 0);
	const down = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(down.status, DisconnectStatus.USER_REQUEST);
	assert.equal(device.library.state, State.INITIALIZED);
	await until(() => connection.received.at(-1)!.type === PacketType.DISCONNECT, { what: "DISCONNECT" });
});

test("an unassociated device: the not-associated report, association by delta, then the reconnect the documentation asks for", async () => {
	reset();
	peer.policy.shadow = UNASSOCIATED_SHADOW;
	const device = new DeviceUnderTest(peer, { keepalive: 60 });
	assert.equal(device.init(), 0);
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(EventType.USER_ASSOCIATION_REQUEST);
	await until(() => publishes(connection).some((p) => p.packetId === 1), { what: "report" });
	const report = publishes(connection).find((p) => p.packetId === 1)!;
	assert.equal(report.topic, `$aws/things/${DEVICE_ID}/shadow/update`);
	assert.equal(text(report.payload), NOT_ASSOCIATED_REPORT);
	assert.equal(device.library.state, State.UA_PIN_WAIT);
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), -Errno.EACCES);
	// The user adds the device: AWS sends a delta whose state is the desired change (docs/protocol.md §4.5).
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, JSON.stringify({ version: 12, timestamp: 1614000000, state: pairedDesired(), metadata: {} }));
	await device.waitFor(EventType.READY);
	await until(() => publishes(connection).some((p) => p.packetId === 7890), { what: "report" });
	assert.equal(text(publishes(connection).find((p) => p.packetId === 7890)!.payload), pairedReport(60));
	assert.deepEqual(device.types(), [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATION_REQUEST, EventType.USER_ASSOCIATED, EventType.READY]);
	assert.equal(device.library.disconnect(), 0);
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	peer.policy.shadow = ASSOCIATED_SHADOW;
	peer.policy.connack = { returnCode: 0, sessionPresent: false };
	assert.equal(await device.library.connect(), 0);
	await device.waitFor(EventType.READY, 2);
	assert.deepEqual(device.types().slice(6), [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY]);
	// p_sesh was set by the first c2d SUBACK, so the second CONNECT asked to resume.
	const second = await peer.connection(index + 1);
	assert.equal((second.received[0] as { clean: boolean }).clean, false);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("a resumed persistent session skips both subscriptions and asks for jobs as soon as the endpoints are known", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	const flag = new Uint8Array([1, 0, 0, 0]);
	device.settings.write("p_sesh", flag);
	device.init();
	peer.policy.connack = { returnCode: 0, sessionPresent: true };
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => connection.received.length >= 5, { what: "packets" });
	const kinds = connection.received.map((p) => p.type === PacketType.PUBLISH ? `PUBLISH ${(p as PublishPacket).packetId}` : String(p.type));
	assert.deepEqual(kinds.slice(0, 5), [String(PacketType.CONNECT), "PUBLISH 5678", String(PacketType.PUBACK), "PUBLISH 8767", "PUBLISH 7890"]);
	assert.equal(connection.received.some((p) => p.type === PacketType.SUBSCRIBE), false);
	assert.equal(device.events.find((e) => e.type === EventType.TRANSPORT_CONNECTED)!.status, 1);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	// The broker lost the session: the flag is cleared and everything is subscribed again.
	peer.policy.connack = { returnCode: 0, sessionPresent: false };
	await device.library.connect();
	await device.waitFor(EventType.READY, 2);
	const again = await peer.connection(index + 1);
	assert.equal(again.received.filter((p) => p.type === PacketType.SUBSCRIBE).length >= 2, true);
	assert.equal(device.events.filter((e) => e.type === EventType.TRANSPORT_CONNECTED)[1]!.status, 0);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("JITP: the first connection closed without CONNACK is TRANSPORT_DISCONNECTED with INVALID_REQUEST (V28), and a retry connects", async () => {
	reset();
	peer.policy.connack = "jitp";
	const device = new DeviceUnderTest(peer);
	device.init();
	assert.equal(await device.library.connect(), 0);
	const down = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(down.status, DisconnectStatus.INVALID_REQUEST);
	assert.deepEqual(device.types(), [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_DISCONNECTED]);
	assert.equal(device.library.state, State.INITIALIZED);
	reset();
	await device.library.connect();
	await device.waitFor(EventType.READY);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("a refused CONNACK gives ERROR with the return code, then TRANSPORT_DISCONNECTED", async () => {
	reset();
	peer.policy.connack = { returnCode: 5, sessionPresent: false };
	const device = new DeviceUnderTest(peer);
	device.init();
	await device.library.connect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.deepEqual(device.events.map((e) => [e.type, e.status]), [[EventType.TRANSPORT_CONNECTING, 0], [EventType.ERROR, 5], [EventType.TRANSPORT_DISCONNECTED, DisconnectStatus.CLOSED_BY_REMOTE]]);
});

test("nothing listening: TRANSPORT_CONNECTING reports the failure in poll mode; connect resolves with it otherwise", async () => {
	const closedPort = await (async () => {
		const other = await CloudPeer.start();
		const port = other.port;
		await other.stop();
		return port;
	})();
	const poll = new DeviceUnderTest(peer, {}, { socket: () => nodeSocket({ host: "127.0.0.1", port: closedPort }) });
	poll.init();
	assert.equal(await poll.library.connect(), 0);
	const failed = await poll.waitFor(EventType.TRANSPORT_CONNECTING, 2);
	assert.ok(failed.status < 0, `status ${failed.status}`);
	assert.equal(poll.library.state, State.INITIALIZED);
	const manual = new DeviceUnderTest(peer, { pollThread: false }, { socket: () => nodeSocket({ host: "127.0.0.1", port: closedPort }) });
	manual.init();
	const result = await manual.library.connect();
	assert.ok(result < 0 && result >= ConnectResult.ERR_ALREADY_CONNECTED, `result ${result}`);
	assert.match(manual.library.lastError ?? "", /connect failed/);
	assert.deepEqual(manual.types(), []);
});

test("without the poll thread nothing is read until process(), as with nrf_cloud_process()", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { pollThread: false });
	device.init();
	const index = peer.broker.connections.length;
	assert.equal(await device.library.connect(), 0);
	await peer.connection(index);
	await until(() => device.library.pending, { what: "pending input" });
	assert.deepEqual(device.types(), []);
	assert.equal(device.library.state, State.INITIALIZED);
	await until(() => {
		device.library.process();
		return device.types().includes(EventType.READY);
	}, { what: "READY through process()" });
	assert.deepEqual(device.types(), [EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY]);
	assert.equal(await device.library.connect(), ConnectResult.ERR_ALREADY_CONNECTED);
	device.library.disconnect();
	await until(() => { device.library.process(); return device.types().includes(EventType.TRANSPORT_DISCONNECTED); }, { what: "disconnect" });
});

test("a config delta is echoed (V8) and given to the application as RX_DATA with the whole delta", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	const delta = JSON.stringify({ version: 3, timestamp: 1614000000, state: { config: { GPS: { enable: true } } }, metadata: { config: { GPS: { enable: { timestamp: 1614000000 } } } } });
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, delta);
	const rx = await device.waitFor(EventType.RX_DATA);
	assert.equal(text(rx.data!), delta);
	assert.equal(rx.topic, `$aws/things/${DEVICE_ID}/shadow/update/delta`);
	await until(() => publishes(connection).some((p) => p.packetId === 1), { what: "echo" });
	const echo = publishes(connection).find((p) => p.packetId === 1)!;
	assert.equal(echo.topic, `$aws/things/${DEVICE_ID}/shadow/update`);
	assert.equal(text(echo.payload), '{"state":{"reported":{"config":{"GPS":{"enable":true}}},"desired":{"config":null}}}');
	// A delta with nothing the library knows is dropped without an event.
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, '{"state":{"something":1}}');
	peer.publish(connection, C2D, '{"appId":"LED","messageType":"CFG_SET","data":{"color":"00ff00"}}');
	const c2d = await device.waitFor(EventType.RX_DATA, 2);
	assert.equal(c2d.topic, C2D);
	assert.equal(text(c2d.data!), '{"appId":"LED","messageType":"CFG_SET","data":{"color":"00ff00"}}');
	// V24: the cloud's disconnect request is plain data in v1.6.
	peer.publish(connection, C2D, '{"appId":"DEVICE","messageType":"DISCON"}');
	assert.equal(text((await device.waitFor(EventType.RX_DATA, 3)).data!), '{"appId":"DEVICE","messageType":"DISCON"}');
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

test("disassociation while connected: c2d and FOTA unsubscribed, the report, USER_ASSOCIATION_REQUEST, sending refused", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "FOTA SUBACK" });
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, '{"version":9,"timestamp":1,"state":{"pairing":{"state":"not_associated"}}}');
	await device.waitFor(EventType.USER_ASSOCIATION_REQUEST);
	await until(() => connection.received.filter((p) => p.type === PacketType.UNSUBSCRIBE).length === 2, { what: "unsubscribes" });
	await until(() => publishes(connection).some((p) => text(p.payload) === NOT_ASSOCIATED_REPORT), { what: "report" });
	const unsubscribes = connection.received.filter((p): p is UnsubscribePacket => p.type === PacketType.UNSUBSCRIBE);
	assert.deepEqual(unsubscribes.map((u) => [u.packetId, u.topics]), [[8765, [C2D]], [8766, [`${PREFIX}${DEVICE_ID}/jobs/rcv`]]]);
	const unsubscribeAt = connection.received.findIndex((p) => p.type === PacketType.UNSUBSCRIBE);
	assert.ok(connection.received.findIndex((p) => p.type === PacketType.PUBLISH && text(p.payload) === NOT_ASSOCIATED_REPORT) > unsubscribeAt);
	assert.equal(device.library.state, State.UA_PIN_WAIT);
	assert.equal(device.library.sensorDataStream({ type: Sensor.GPS, data: "$GPGGA" }), -Errno.EACCES);
	assert.equal(device.library.send({ data: "x", topicType: TopicType.MESSAGE, qos: 0 }), -Errno.EACCES);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

test("an inbound payload larger than the payload buffer ends the connection; the library connects again afterwards", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { payloadBufferLength: 2048 });
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	peer.publish(connection, C2D, "x".repeat(2048));
	await device.waitFor(EventType.RX_DATA);
	peer.publish(connection, C2D, "x".repeat(2049));
	const down = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	// v1.6 calls nrf_cloud_disconnect() itself, so the status is USER_REQUEST.
	assert.equal(down.status, DisconnectStatus.USER_REQUEST);
	assert.equal(device.events.filter((e) => e.type === EventType.RX_DATA).length, 1);
	await device.library.connect();
	await device.waitFor(EventType.READY, 2);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("sensor data: send (QoS 1) and stream (QoS 0) byte-exact on d2c (V9, V10), tags as packet ids with SENSOR_DATA_ACK, attach after READY", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	device.init();
	assert.equal(device.library.sensorAttach({ sensorType: Sensor.GPS }), -Errno.EACCES);
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	assert.equal(device.library.sensorAttach({ sensorType: Sensor.GPS }), 0);
	assert.equal(device.events.at(-1)!.type, EventType.SENSOR_ATTACHED);
	const gga = "$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64";
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), 0);
	assert.equal(device.library.sensorDataStream({ type: Sensor.GPS, data: gga }), 0);
	assert.equal(device.library.sensorDataSend({ type: Sensor.TEMP, data: "24.3", tag: 0x10000 + 4242 }), 0);
	const ack = await device.waitFor(EventType.SENSOR_DATA_ACK);
	assert.deepEqual([...ack.data!], [4242 & 0xFF, 4242 >> 8]);
	await until(() => publishes(connection).filter((p) => p.topic === D2C).length === 3, { what: "d2c" });
	const d2c = publishes(connection).filter((p) => p.topic === D2C);
	assert.deepEqual(d2c.map((p) => [text(p.payload), p.qos]), [
		['{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}', 1],
		[`{"appId":"GPS","data":"${gga}","messageType":"DATA"}`, 0],
		['{"appId":"TEMP","data":"24.3","messageType":"DATA"}', 1],
	]);
	assert.equal(d2c[2]!.packetId, 4242);
	assert.ok(d2c[0]!.packetId > 0 && !Object.values(MessageId).includes(d2c[0]!.packetId as never));
	// shadow_update and raw sends.
	assert.equal(device.library.shadowUpdate({ type: Sensor.DEVICE_INFO, data: { deviceInfo: { imei: "352656100441776" } } }), 0);
	const serviceInfo = V12_SERVICE_INFO;
	assert.equal(device.library.send({ data: serviceInfo, topicType: TopicType.STATE }), 0);
	const spaced = V13_SERVICE_INFO;
	assert.equal(device.library.send({ data: new TextEncoder().encode(spaced), topicType: TopicType.MESSAGE, qos: 1 }), 0);
	assert.equal(device.library.send({ data: "x", topicType: 3 }), -Errno.ENODATA);
	assert.equal(device.library.send({ data: "x", topicType: TopicType.MESSAGE, qos: 2 }), -Errno.EINVAL);
	await until(() => publishes(connection).length >= 8, { what: "updates" });
	const update = publishes(connection).filter((p) => p.topic === `$aws/things/${DEVICE_ID}/shadow/update`).map((p) => text(p.payload));
	assert.ok(update.includes('{"state":{"reported":{"DEVICE":{"deviceInfo":{"imei":"352656100441776"}}}}}'));
	assert.ok(update.includes(serviceInfo));
	assert.equal(text(publishes(connection).at(-1)!.payload), spaced);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), -Errno.EACCES);
});

test("input-sequence association (opt-in): pattern_wait, nrf_cloud_user_associate packing (V21), paired, READY, then the library cycles the connection", async () => {
	reset();
	peer.policy.shadow = UNASSOCIATED_SHADOW;
	const device = new DeviceUnderTest(peer, { legacyAssociation: true });
	device.init();
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(EventType.USER_ASSOCIATION_REQUEST);
	assert.equal(device.library.userAssociate({ type: 0, sequence: [1, 2] }), -Errno.EACCES);
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, '{"state":{"pairing":{"state":"pattern_wait","topics":null,"config":{"iteration":1,"method":"buttons","length":6}}}}');
	const request = await device.waitFor(EventType.USER_ASSOCIATION_REQUEST, 2);
	assert.equal(request.sequenceLength, 6);
	assert.equal(device.library.userAssociate({ type: 0, sequence: [1, 2, 5] }), -Errno.EINVAL);
	assert.equal(device.library.userAssociate({ type: 0, sequence: [1, 2, 3, 4, 1, 2] }), 0);
	await until(() => publishes(connection).some((p) => p.packetId === 9547), { what: "sequence report" });
	assert.equal(text(publishes(connection).find((p) => p.packetId === 9547)!.payload),
		'{"state":{"reported":{"pairing":{"state":"pattern_wait","config":{"iteration":1,"method":"buttons","length":3}},"pairingStatus":{"method":"buttons","pattern":[18,52,18]}}}}');
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, JSON.stringify({ state: pairedDesired() }));
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.deepEqual(device.types().slice(-4), [EventType.USER_ASSOCIATION_REQUEST, EventType.USER_ASSOCIATED, EventType.READY, EventType.TRANSPORT_DISCONNECTED]);
	// A timeout ends in ERROR.
	peer.policy.shadow = { desired: { pairing: { state: "timeout" } } };
	await device.library.connect();
	await device.waitFor(EventType.ERROR);
	assert.equal(device.library.state, State.ERROR);
	assert.equal(device.library.disconnect(), 0);
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("a stored FOTA result is reported when the endpoints are known and cleared on its PUBACK; modem_fota_completed", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	const { encodeStoredJob, decodeStoredJob } = await import("../modules/nrf-cloud/codec.js");
	device.settings.write("fota/job", encodeStoredJob({ validate: 2, type: 0, id: "abcd1234" }));
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === 7890), { what: "paired report" });
	const update = publishes(connection).find((p) => p.packetId === 8768)!;
	assert.equal(update.topic, `${PREFIX}${DEVICE_ID}/jobs/update`);
	assert.equal(text(update.payload), '["abcd1234",3,""]');
	// Step 8b comes before the paired report.
	assert.ok(publishes(connection).indexOf(update) < publishes(connection).findIndex((p) => p.packetId === 7890));
	await until(() => decodeStoredJob(device.settings.read("fota/job"))?.validate === 5, { what: "cleared job" });
	assert.equal(device.library.modemFotaCompleted(true), -Errno.EOPNOTSUPP);
	device.settings.write("fota/job", encodeStoredJob({ validate: 1, type: 1, id: "modem-job" }));
	assert.equal(device.library.modemFotaCompleted(false), 0);
	await until(() => publishes(connection).some((p) => text(p.payload) === '["modem-job",2,""]'), { what: "modem result" });
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

/** `session`: the device asks to resume a session (p_sesh 1), which the broker kept or lost. */
async function flightsToReady(pipeline: boolean, shadow: unknown, session?: "kept" | "lost"): Promise<{ flights: number; sent: string[]; events: number[]; statuses: number[] }> {
	reset();
	peer.policy.batch = true;
	peer.policy.shadow = shadow;
	peer.flights = 0;
	const device = new DeviceUnderTest(peer, { pipeline });
	if (session !== undefined) {
		device.settings.write("p_sesh", new Uint8Array([1, 0, 0, 0]));
		peer.policy.connack = { returnCode: 0, sessionPresent: session === "kept" };
	}
	device.init();
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(shadow === UNASSOCIATED_SHADOW ? EventType.USER_ASSOCIATION_REQUEST : EventType.READY);
	const flights = peer.flights;
	await until(() => connection.received.length >= (shadow === UNASSOCIATED_SHADOW || session === "kept" ? 5 : 8), { what: "all requests" });
	// Whatever the last answers make the device send must be in the comparison: once every answer is out,
	// a QoS 1 publish follows them, and its PUBACK shows the device has read and handled all before it.
	await until(() => peer.idle, { what: "the peer to send its last answers" });
	// On get/rejected it is logged and dropped: no event, no packet but its PUBACK.
	const probe = peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/get/rejected`, '{"code":404,"message":"probe"}');
	await until(() => connection.received.some((p) => p.type === PacketType.PUBACK && p.packetId === probe), { what: "the PUBACK for the probe" });
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	const end = await until(() => connection.received.findIndex((p) => p.type === PacketType.DISCONNECT) + 1, { what: "DISCONNECT" });
	// The PUBACK answers the peer's own packet id, which differs from run to run.
	const sent = connection.received.slice(0, end).map((p) => p.type === PacketType.PUBACK ? "PUBACK" : JSON.stringify(p, (_k, v: unknown) => v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
	return { flights, sent, events: device.types(), statuses: device.events.map((e) => e.status) };
}

test("pipelining: READY after 2 flights of answers instead of 5, with the same packets in the same order, whatever order the answers come in", async () => {
	const lockstep = await flightsToReady(false, ASSOCIATED_SHADOW);
	const pipelined = await flightsToReady(true, ASSOCIATED_SHADOW);
	assert.equal(lockstep.flights, 5);
	assert.equal(pipelined.flights, 2);
	assert.deepEqual(pipelined.sent, lockstep.sent);
	assert.deepEqual(pipelined.events, lockstep.events);
	assert.deepEqual(pipelined.events, [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY, EventType.TRANSPORT_DISCONNECTED]);
	const unassociatedLockstep = await flightsToReady(false, UNASSOCIATED_SHADOW);
	const unassociated = await flightsToReady(true, UNASSOCIATED_SHADOW);
	assert.deepEqual([unassociatedLockstep.flights, unassociated.flights], [3, 1]);
	assert.deepEqual(unassociated.sent, unassociatedLockstep.sent);
	peer.policy.batch = false;
});

test("pipelining a resumed session: the GET goes with CONNECT, READY after 2 flights instead of 3; a lost session costs 3 instead of 5", async () => {
	const lockstep = await flightsToReady(false, ASSOCIATED_SHADOW, "kept");
	const pipelined = await flightsToReady(true, ASSOCIATED_SHADOW, "kept");
	assert.deepEqual([lockstep.flights, pipelined.flights], [3, 2]);
	assert.deepEqual(pipelined.sent, lockstep.sent);
	assert.deepEqual(pipelined.events, lockstep.events);
	assert.equal(pipelined.statuses[1], 1, "TRANSPORT_CONNECTED says the session was resumed");
	const kinds = (sent: string[]) => sent.map((text) => {
		if (text === "PUBACK") return text;
		const packet = JSON.parse(text) as { type: number; packetId?: number };
		return packet.packetId === undefined ? `${packet.type}` : `${packet.type} ${packet.packetId}`;
	});
	// The last PUBACK answers the helper's probe.
	assert.deepEqual(kinds(pipelined.sent), [`${PacketType.CONNECT}`, `${PacketType.PUBLISH} 5678`, "PUBACK", `${PacketType.PUBLISH} 8767`, `${PacketType.PUBLISH} 7890`, "PUBACK", `${PacketType.DISCONNECT}`]);
	// The broker kept nothing: the GET sent ahead is lost, and the SUBSCRIBE and a GET go out at once.
	const lostLockstep = await flightsToReady(false, ASSOCIATED_SHADOW, "lost");
	const lost = await flightsToReady(true, ASSOCIATED_SHADOW, "lost");
	assert.deepEqual([lostLockstep.flights, lost.flights], [5, 3]);
	assert.deepEqual(lost.events, lostLockstep.events);
	assert.equal(lost.statuses[1], 0);
	assert.deepEqual(kinds(lost.sent).slice(0, 3), [`${PacketType.CONNECT}`, `${PacketType.PUBLISH} 5678`, `${PacketType.SUBSCRIBE} 1234`]);
	// The second GET takes another id while 5678 waits for its PUBACK (it came with the CONNACK).
	const again = JSON.parse(lost.sent[3]!) as { type: number; topic: string };
	assert.deepEqual([again.type, again.topic], [PacketType.PUBLISH, `$aws/things/${DEVICE_ID}/shadow/get`]);
	// After those, the packets of a clean session from the PUBACK for the shadow on.
	assert.deepEqual(lost.sent.slice(4), lostLockstep.sent.slice(3));
	peer.policy.batch = false;
});

test("a lost session whose first GET is answered after all: the copy of the answer is dropped, one USER_ASSOCIATED, then READY", async () => {
	reset();
	peer.policy.answerUnsubscribedGet = true;
	try {
		const device = new DeviceUnderTest(peer, { pipeline: true });
		device.settings.write("p_sesh", new Uint8Array([1, 0, 0, 0]));
		peer.policy.connack = { returnCode: 0, sessionPresent: false };
		device.init();
		const index = peer.broker.connections.length;
		await device.library.connect();
		const connection = await peer.connection(index);
		await device.waitFor(EventType.READY);
		// The late copy follows the paired report's PUBACK; a probe's PUBACK shows the device has read it.
		const probe = peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/get/rejected`, '{"code":404,"message":"probe"}');
		await until(() => connection.received.some((p) => p.type === PacketType.PUBACK && p.packetId === probe), { what: "the PUBACK for the probe" });
		const types = device.types();
		assert.equal(types.filter((type) => type === EventType.USER_ASSOCIATED).length, 1, `events ${types.join(",")}`);
		assert.equal(types.filter((type) => type === EventType.READY).length, 1, `events ${types.join(",")}`);
		device.library.disconnect();
		await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	}
	finally {
		peer.policy.answerUnsubscribedGet = false;
	}
});

test("malformed and random shadow documents, deltas, c2d payloads and job documents: ignored or RX_DATA, never an exception; the library stays usable", async () => {
	reset();
	const logs: string[] = [];
	const device = new DeviceUnderTest(peer, { fotaBle: true, log: (line) => logs.push(line) });
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "FOTA SUBACK" });
	const shadowTopic = `${DEVICE_ID}/shadow/get/accepted`;
	const deltaTopic = `$aws/things/${DEVICE_ID}/shadow/update/delta`;
	const jobs = `${PREFIX}${DEVICE_ID}/jobs/rcv`;
	const bleJobs = `${PREFIX}${DEVICE_ID}/jobs/ble/rcv`;
	const handMade = [
		"", "{", "null", "[]", "\"text\"", "{\"state\":5}", "{\"state\":{\"pairing\":7}}", "{\"desired\":[]}", "{\"state\":{\"config\":\"x\"}}",
		"{\"state\":{\"nrfcloud_mqtt_topic_prefix\":{},\"pairing\":{\"state\":\"paired\"}}}", "{\"state\":{\"pairing\":{\"state\":\"paired\",\"topics\":{\"d2c\":1,\"c2d\":2}},\"nrfcloud_mqtt_topic_prefix\":\"p/\"}}",
		"\u0000\u0001", "[\"abcd\",0,1,\"h\"]", "[\"abcd\",9,1,\"h\",\"p\"]", "[null,0,1,\"h\",\"p\"]", "{\"jobId\":\"x\"}", `["${"j".repeat(40)}",0,1,"h","p"]`,
	];
	const random = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "null"))), { numRuns: 150, seed: 7 });
	const topics = [shadowTopic, deltaTopic, C2D, jobs, bleJobs];
	let sent = 0;
	for (const payload of [...handMade.map((t) => new TextEncoder().encode(t)), ...random]) {
		for (const topic of topics) {
			peer.publish(connection, topic, payload);
			sent++;
		}
	}
	// Every publish on c2d is handed over; the rest is dropped (logged) or, with a config inside, handed over too.
	await until(() => device.events.filter((e) => e.type === EventType.RX_DATA && e.topic === C2D).length === sent / topics.length, { what: "c2d deliveries", timeout: 10000 });
	const allowed = new Set<number>([EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY, EventType.RX_DATA, EventType.USER_ASSOCIATION_REQUEST]);
	for (const type of device.types()) assert.ok(allowed.has(type), `event ${type}`);
	assert.ok(logs.some((line) => /FOTA job document that does not parse/.test(line)));
	assert.ok([State.DC_CONNECTED, State.UA_PIN_WAIT].includes(device.library.state as never));
	assert.equal(device.library.disconnect(), 0);
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	await device.library.connect();
	await device.waitFor(EventType.READY, 2);
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), 0);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("FOTA jobs on jobs/rcv are run once each; documents that do not parse never are", async () => {
	reset();
	const server = fakeServer();
	// The large job document below is bound by the packet limit, not by the payload buffer.
	const device = new DeviceUnderTest(peer, { maxIncomingPacket: 4096 }, { fota: fakeFotaPlatform(fakeFlash(), server) });
	device.init();
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "job request" });
	const topic = `${PREFIX}${DEVICE_ID}/jobs/rcv`;
	const paths = () => server.requests.map((r) => r.path);
	peer.publish(connection, topic, '["abcd1234",0,1234,"nrfcloud.com","v1/firmwares/appfw.bin"]');
	peer.publish(connection, topic, '["abcd1234",0,1234,"nrfcloud.com","v1/firmwares/appfw.bin"]');
	peer.publish(connection, topic, '["bad",7,1,"h","p"]');
	// The files are missing here: each job fails. A job that arrives while another runs is ignored.
	peer.publish(connection, topic, '["busy",0,1,"h","p"]');
	await until(() => publishes(connection).some((p) => text(p.payload) === '["abcd1234",2,"Error during download"]'), { what: "FAILED" });
	peer.publish(connection, topic, '["abcd1234",0,1234,"nrfcloud.com","v1/firmwares/appfw.bin"]');
	peer.publish(connection, topic, '["efgh5678",2,99,"nrfcloud.com","v1/boot/s0.bin v1/boot/s1.bin"]');
	// efgh5678 was published last: once it is there, the repeated and the bad document have been handled.
	await until(() => paths().length === 2, { what: "the last job", detail: () => JSON.stringify(paths()) });
	// The BOOT job fetched the file of the inactive slot S1.
	assert.deepEqual(paths(), ["v1/firmwares/appfw.bin", "v1/boot/s1.bin"]);
	await until(() => publishes(connection).some((p) => text(p.payload) === '["efgh5678",2,"Error during download"]'), { what: "FAILED" });
	// FOTA documents are not bound by the payload buffer, only by maxIncomingPacket.
	peer.publish(connection, topic, JSON.stringify(["ijkl9012", 1, 5, "h", "p".repeat(3000)]));
	await until(() => paths().length === 3, { what: "large job" });
	assert.equal(device.library.state, State.DC_CONNECTED);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

test("a settings store that throws on every read, write and delete: the library still connects to READY, logging each failure", async () => {
	reset();
	const logs: string[] = [];
	const calls: string[] = [];
	const failing: SettingsStore = {
		read(key) { calls.push(`read ${key}`); throw new Error(`flash read error at ${key}`); },
		write(key) { calls.push(`write ${key}`); throw new Error(`flash write error at ${key}`); },
		delete(key) { calls.push(`delete ${key}`); throw new Error(`flash erase error at ${key}`); },
	};
	const device = new DeviceUnderTest(peer, { log: (line) => logs.push(line) }, { settings: failing });
	assert.equal(device.init(), 0);
	const index = await connectReady(device);
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "the job request" });
	assert.deepEqual(device.types(), [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY]);
	assert.equal(device.library.state, State.DC_CONNECTED);
	// The store was asked (the session flag before CONNECT, the FOTA job with the endpoints, the flag on the c2d SUBACK) and every failure logged.
	for (const call of ["read p_sesh", "read fota/job", "write p_sesh"]) assert.ok(calls.includes(call), `${call}: ${JSON.stringify(calls)}`);
	for (const line of [
		"settings: reading p_sesh failed: flash read error at p_sesh",
		"settings: reading fota/job failed: flash read error at fota/job",
		"settings: writing p_sesh failed: flash write error at p_sesh",
	]) assert.ok(logs.includes(line), `${line}: ${JSON.stringify(logs)}`);
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), 0);
	await until(() => publishes(connection).some((p) => p.topic === D2C), { what: "the FLIP message" });
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	// Nothing could be stored, so the next connection cannot ask to resume a session; it still reaches READY.
	await device.library.connect();
	await device.waitFor(EventType.READY, 2);
	assert.equal((await peer.connection(index + 1)).received[0]!.type, PacketType.CONNECT);
	assert.equal(((await peer.connection(index + 1)).received[0] as { clean: boolean }).clean, true);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});
