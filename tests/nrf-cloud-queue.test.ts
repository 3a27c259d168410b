/*
 * The offline queue, library reconnects and the inbound packet bound through
 * the whole library under Node, against the scripted nRF Cloud over TCP: what
 * goes on the wire, in which order, and which events the application sees.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PacketType, type PublishPacket } from "../modules/mqtt/packet.js";
import { DisconnectStatus, Errno, EventType, Sensor, State, TopicType } from "../modules/nrf-cloud/constants.js";
import { ASSOCIATED_SHADOW, CloudPeer, D2C, DEVICE_ID, DeviceUnderTest, UNASSOCIATED_SHADOW, pairedDesired, publishes, text } from "./support/nrf-cloud-peer.js";
import type { PeerConnection } from "./support/scripted-broker.js";
import { until } from "./support/until.js";

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

function reset(): void {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
}

const QUEUE = { messages: 8, bytes: 4096, persist: false, perSecond: 99 };
const SHADOW_UPDATE = `$aws/things/${DEVICE_ID}/shadow/update`;

function d2c(connection: PeerConnection): PublishPacket[] {
	return publishes(connection).filter((p) => p.topic === D2C);
}

async function ready(device: DeviceUnderTest, count = 1): Promise<PeerConnection> {
	await device.waitFor(EventType.READY, count);
	return peer.connection(peer.broker.connections.length - 1);
}

test("defaults unchanged: without offlineQueue a QoS 1 send while not READY is -EACCES, as in v1.6", () => {
	reset();
	const device = new DeviceUnderTest(peer);
	device.init();
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), -Errno.EACCES);
	assert.equal(device.library.send({ data: "x", topicType: TopicType.MESSAGE, qos: 1 }), -Errno.EACCES);
	assert.equal(device.library.offlineQueue, undefined);
	assert.equal(device.library.config.reconnect, undefined);
});

test("offline queue: sends while disconnected are queued, a full queue gives -ENOMEM and drops nothing, all arrive in order after READY", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { offlineQueue: { ...QUEUE, messages: 4 } });
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), -Errno.EACCES, "before init");
	device.init();
	assert.equal(device.library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL", tag: 4321 }), 0);
	assert.equal(device.library.send({ data: "raw-1", topicType: TopicType.MESSAGE, qos: 1 }), 0);
	assert.equal(device.library.send({ data: '{"state":{"reported":{"x":1}}}', topicType: TopicType.STATE }), 0);
	assert.equal(device.library.send({ data: new Uint8Array([0x7B, 0x7D]), topicType: TopicType.MESSAGE, qos: 1 }), 0);
	assert.equal(device.library.send({ data: "fifth", topicType: TopicType.MESSAGE, qos: 1 }), -Errno.ENOMEM);
	assert.match(device.library.lastError!, /full/);
	assert.equal(device.library.send({ data: "qos0", topicType: TopicType.MESSAGE, qos: 0 }), -Errno.EACCES, "QoS 0 is not queued");
	assert.equal(device.library.sensorDataSend({ type: 99, data: "x" }), -Errno.EINVAL, "arguments are checked first");
	const bytes = ['{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}', "raw-1", '{"state":{"reported":{"x":1}}}', "{}"].join("").length;
	assert.deepEqual(device.library.offlineQueue, { messages: 4, bytes, inFlight: 0, corrupt: 0 });
	await device.library.connect();
	const connection = await ready(device);
	await until(() => device.library.offlineQueue!.messages === 0, { what: "queue drained" });
	const sent = publishes(connection).filter((p) => p.topic === D2C || (p.topic === SHADOW_UPDATE && text(p.payload).includes('"x"')));
	assert.deepEqual(sent.map((p) => text(p.payload)), ['{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}', "raw-1", '{"state":{"reported":{"x":1}}}', "{}"]);
	assert.ok(sent.every((p) => p.qos === 1 && !p.dup));
	assert.equal(sent[0]!.packetId, 4321, "the tag is the packet id");
	const ack = await device.waitFor(EventType.SENSOR_DATA_ACK);
	assert.deepEqual([...ack.data!], [4321 & 0xFF, 4321 >> 8]);
	// Every queue publish went out after the READY of this connection.
	const readyIndex = connection.received.findIndex((p) => p.type === PacketType.SUBSCRIBE && p.packetId === 8765);
	assert.ok(connection.received.indexOf(sent[0]!) > readyIndex);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

test("offline queue: a send while READY stays queued until its PUBACK, in flight at a disconnect is resent with DUP on the resumed session", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { offlineQueue: QUEUE });
	device.init();
	await device.library.connect();
	let connection = await ready(device);
	await until(() => device.library.state === State.DC_CONNECTED, { what: "ready" });
	peer.policy.ackPublishes = false;
	for (const data of ["one", "two", "three"]) assert.equal(device.library.send({ data, topicType: TopicType.MESSAGE, qos: 1 }), 0);
	await until(() => d2c(connection).length === 3, { what: "three publishes" });
	assert.equal(device.library.offlineQueue!.messages, 3, "unacknowledged messages stay queued");
	assert.equal(device.library.offlineQueue!.inFlight, 3);
	const ids = d2c(connection).map((p) => p.packetId);
	// The link drops; the broker kept the session.
	connection.close();
	const down = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(down.status, DisconnectStatus.CLOSED_BY_REMOTE);
	assert.equal(device.library.offlineQueue!.messages, 3);
	assert.equal(device.library.send({ data: "four", topicType: TopicType.MESSAGE, qos: 1 }), 0, "queued while disconnected, behind the others");
	peer.policy = { connack: { returnCode: 0, sessionPresent: true }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
	await device.library.connect();
	connection = await ready(device, 2);
	await until(() => device.library.offlineQueue!.messages === 0, { what: "queue drained" });
	const again = d2c(connection);
	assert.deepEqual(again.map((p) => [text(p.payload), p.dup]), [["one", true], ["two", true], ["three", true], ["four", false]]);
	assert.deepEqual(again.slice(0, 3).map((p) => p.packetId), ids, "a DUP resend keeps its packet id");
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("offline queue: on a new (clean) session the unacknowledged messages are sent again as new publishes", async () => {
	reset();
	const device = new DeviceUnderTest(peer, { offlineQueue: QUEUE, persistentSession: false });
	device.init();
	await device.library.connect();
	let connection = await ready(device);
	peer.policy.ackPublishes = false;
	device.library.send({ data: "lost", topicType: TopicType.MESSAGE, qos: 1 });
	await until(() => d2c(connection).length === 1, { what: "publish" });
	connection.close();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	peer.policy.ackPublishes = true;
	await device.library.connect();
	connection = await ready(device, 2);
	await until(() => device.library.offlineQueue!.messages === 0, { what: "drained" });
	assert.deepEqual(d2c(connection).map((p) => [text(p.payload), p.dup]), [["lost", false]]);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
});

test("reconnect: after the JITP rejection the library connects again by itself; after disconnect() it never does", async () => {
	reset();
	peer.policy.connack = "jitp";
	const device = new DeviceUnderTest(peer, { reconnect: { minMs: 20, maxMs: 40 } });
	device.onEvent = (event) => {
		// The cloud registered the certificate: the next connection is accepted.
		if (event.type === EventType.TRANSPORT_DISCONNECTED && event.status === DisconnectStatus.INVALID_REQUEST) reset();
	};
	device.init();
	const first = peer.broker.connections.length;
	await device.library.connect();
	const rejected = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(rejected.status, DisconnectStatus.INVALID_REQUEST);
	await ready(device);
	assert.equal(peer.broker.connections.length, first + 2);
	assert.equal(device.library.disconnect(), 0);
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
	await new Promise((resolve) => setTimeout(resolve, 300));
	assert.equal(peer.broker.connections.length, first + 2, "no reconnect after disconnect()");
	assert.equal(device.library.state, State.INITIALIZED);
});

test("reconnect: a connection the cloud ends is made again; after a fresh association the library cycles the connection itself", async () => {
	reset();
	peer.policy.shadow = UNASSOCIATED_SHADOW;
	const device = new DeviceUnderTest(peer, { reconnect: { minMs: 10, maxMs: 20 } });
	device.init();
	await device.library.connect();
	await device.waitFor(EventType.USER_ASSOCIATION_REQUEST);
	let connection = await peer.connection(peer.broker.connections.length - 1);
	peer.policy.shadow = ASSOCIATED_SHADOW;
	peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/update/delta`, JSON.stringify({ version: 2, state: pairedDesired() }));
	// nrf_cloud.rst: disconnect and connect again once associated; the library does both, without READY on the old connection.
	const cycled = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(cycled.status, DisconnectStatus.USER_REQUEST);
	assert.deepEqual(device.types().slice(2, 5), [EventType.USER_ASSOCIATION_REQUEST, EventType.USER_ASSOCIATED, EventType.TRANSPORT_DISCONNECTED]);
	connection = await ready(device, 1);
	connection.close();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 2);
	await ready(device, 2);
	assert.equal(device.library.state, State.DC_CONNECTED);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED, 3);
});

test("an inbound packet over maxIncomingPacket is refused from its header: ERROR (-EMSGSIZE), then TRANSPORT_DISCONNECTED", async () => {
	reset();
	const device = new DeviceUnderTest(peer);
	assert.equal(device.library.config.maxIncomingPacket, 2048 + 256, "the device's payload buffer plus its message buffer");
	device.init();
	await device.library.connect();
	const connection = await ready(device);
	// Only the fixed header of a 1 MiB publish is sent: the library must not wait for (or hold) the body.
	connection.socket.write(Buffer.from([0x30, 0x80, 0x80, 0x40]));
	const error = await device.waitFor(EventType.ERROR);
	assert.equal(error.status, -Errno.EMSGSIZE);
	assert.match(device.library.lastError!, /exceeds the limit of 2304/);
	const down = await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	assert.equal(down.status, DisconnectStatus.MISC);
	assert.ok(device.types().indexOf(EventType.ERROR) < device.types().lastIndexOf(EventType.TRANSPORT_DISCONNECTED));
});
