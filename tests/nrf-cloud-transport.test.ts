/*
 * CloudTransport alone, on a fake socket, and the library over the same fake
 * socket where the point is a packet id: no network, no timers, every step
 * driven by the test. The transport's contract is what it sends for each call
 * of the state machine and which transport event it turns each answer into.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { NrfCloud, type CloudEvent } from "../modules/nrf-cloud/api.js";
import { ConnectResult, DisconnectStatus, EventType, MessageId, Sensor } from "../modules/nrf-cloud/constants.js";
import { resolveConfig, type NrfCloudConfig } from "../modules/nrf-cloud/config.js";
import { CloudSettings, MemorySettings, type SettingsStore } from "../modules/nrf-cloud/settings.js";
import { TransportEvent, type TransportEventData, type TransportEventValue } from "../modules/nrf-cloud/transport-events.js";
import { CloudTransport, type TransportListener } from "../modules/nrf-cloud/transport.js";
import { MAX_HELD_CONTROL } from "../modules/nrf-cloud/pipeline.js";
import { PacketType, type Packet, type PublishPacket, type SubscribePacket } from "../modules/mqtt/packet.js";
import { Errno } from "../modules/platform/errno.js";
import { SocketError } from "../modules/platform/socket.js";
import { fakeSockets } from "./support/fake-socket.js";

const CLIENT_ID = "nrf-352656100441776";
const PREFIX = "prod/tenant/";
const D2C = `${PREFIX}m/d/${CLIENT_ID}/d2c`;
const C2D = `${PREFIX}m/d/${CLIENT_ID}/c2d`;
const enc = (text: string) => new TextEncoder().encode(text);
const PAIRED = enc(JSON.stringify({ desired: { pairing: { state: "paired", topics: { d2c: D2C, c2d: C2D } }, nrfcloud_mqtt_topic_prefix: PREFIX } }));

type Heard =
	| { kind: "event"; type: TransportEventValue; data: TransportEventData }
	| { kind: "outcome"; result: number }
	| { kind: "fota"; ble: boolean }
	| { kind: "fotaAck"; id: number }
	| { kind: "fotaSubscribed" }
	| { kind: "oversize"; size: number }
	| { kind: "tooLarge"; reason: string };

function transport(config: NrfCloudConfig = {}) {
	const heard: Heard[] = [];
	const listener: TransportListener = {
		event: (type, data) => heard.push({ kind: "event", type, data }),
		connectOutcome: (result) => heard.push({ kind: "outcome", result }),
		fotaMessage: (_payload, ble) => heard.push({ kind: "fota", ble }),
		fotaAck: (id) => heard.push({ kind: "fotaAck", id }),
		fotaSubscribed: () => heard.push({ kind: "fotaSubscribed" }),
		oversize: (_topic, size) => heard.push({ kind: "oversize", size }),
		packetTooLarge: (reason) => heard.push({ kind: "tooLarge", reason }),
	};
	const sockets = fakeSockets();
	const resolved = resolveConfig({ host: "cloud.test", pollThread: true, ...config });
	const settings = new CloudSettings(new MemorySettings(), () => undefined);
	const t = new CloudTransport(resolved, CLIENT_ID, settings, () => sockets.factory, listener);
	return { t, heard, sockets, settings };
}

const events = (heard: Heard[]) => heard.filter((h): h is Extract<Heard, { kind: "event" }> => h.kind === "event").map((h) => h.type);
const kinds = (sent: Packet[]) => sent.map((p) => p.type === PacketType.PUBLISH ? `PUBLISH ${(p as PublishPacket).packetId}` : p.type === PacketType.SUBSCRIBE ? `SUBSCRIBE ${(p as SubscribePacket).packetId}` : String(p.type));

test("transport: CONNECT with the shadow SUBSCRIBE and GET pipelined; CONNACK, SUBACK and PUBACK become transport events", () => {
	const { t, heard, sockets } = transport();
	t.connect();
	const socket = sockets.last();
	assert.deepEqual(heard, [], "nothing before the socket is up");
	socket.open();
	assert.deepEqual(heard, [{ kind: "outcome", result: ConnectResult.SUCCESS }]);
	assert.deepEqual(kinds(socket.sent), ["1", `SUBSCRIBE ${MessageId.CC_SUBSCRIBE}`, `PUBLISH ${MessageId.CLOUD_STATE_REQUEST}`]);
	const subscribe = socket.sent[1] as SubscribePacket;
	assert.deepEqual(subscribe.subscriptions.map((s) => s.topic), [`${CLIENT_ID}/shadow/get/accepted`, `$aws/things/${CLIENT_ID}/shadow/get/rejected`, `$aws/things/${CLIENT_ID}/shadow/update/delta`]);
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	assert.deepEqual(heard.at(-1), { kind: "event", type: TransportEvent.CONNECTED, data: { status: 0, session: false } });
	// The state machine asks for what already went out: nothing new is sent.
	assert.equal(t.subscribeShadow(), true);
	assert.equal(socket.sent.length, 3);
	socket.receive({ type: PacketType.SUBACK, packetId: MessageId.CC_SUBSCRIBE, returnCodes: [1, 1, 1] });
	assert.equal(events(heard).at(-1), TransportEvent.CC_CONNECTED);
	assert.equal(t.requestShadow(), true);
	assert.equal(socket.sent.length, 3);
	socket.receive({ type: PacketType.PUBACK, packetId: MessageId.CLOUD_STATE_REQUEST });
	assert.deepEqual(heard.at(-1), { kind: "event", type: TransportEvent.CC_TX_DATA_ACK, data: { id: MessageId.CLOUD_STATE_REQUEST } });
	t.close();
});

test("transport: a shadow document that overtakes the shadow SUBACK waits for it", () => {
	const { t, heard, sockets } = transport();
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	socket.receive({ type: PacketType.PUBLISH, topic: `${CLIENT_ID}/shadow/get/accepted`, payload: PAIRED, qos: 0, retain: false, dup: false, packetId: 0 });
	assert.deepEqual(events(heard), [TransportEvent.CONNECTED], "held");
	socket.receive({ type: PacketType.SUBACK, packetId: MessageId.CC_SUBSCRIBE, returnCodes: [1, 1, 1] });
	assert.deepEqual(events(heard), [TransportEvent.CONNECTED, TransportEvent.CC_CONNECTED, TransportEvent.CC_RX_DATA]);
	t.close();
});

test("transport: without the poll thread socket events wait for process()", () => {
	const { t, heard, sockets } = transport({ pollThread: false });
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	assert.equal(t.pending, true);
	assert.deepEqual(events(heard), []);
	t.process();
	assert.equal(t.pending, false);
	assert.deepEqual(events(heard), [TransportEvent.CONNECTED]);
	socket.fail();
	assert.deepEqual(events(heard), [TransportEvent.CONNECTED], "the end of the connection waits too");
	t.process();
	assert.deepEqual(heard.at(-1), { kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.CLOSED_BY_REMOTE } });
});

test("transport: a socket that fails before it is up is a connect outcome, not a disconnect", () => {
	const { t, heard, sockets } = transport();
	t.connect();
	sockets.last().fail(new SocketError(Errno.ECONNREFUSED, "refused"));
	assert.deepEqual(heard, [{ kind: "outcome", result: ConnectResult.ERR_CERT_MISC }]);
	assert.equal(t.open, false);
});

test("transport: closed before CONNACK is INVALID_REQUEST (JITP); a refused CONNACK is CONNECTED with the code, then CLOSED_BY_REMOTE", () => {
	const a = transport();
	a.t.connect();
	a.sockets.last().open();
	a.sockets.last().fail();
	assert.deepEqual(a.heard.at(-1), { kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.INVALID_REQUEST } });
	const b = transport();
	b.t.connect();
	b.sockets.last().open();
	b.sockets.last().receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 5 });
	assert.deepEqual(b.heard.slice(-2), [
		{ kind: "event", type: TransportEvent.CONNECTED, data: { status: 5 } },
		{ kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.CLOSED_BY_REMOTE } },
	]);
	const c = transport();
	c.t.connect();
	c.sockets.last().open();
	c.sockets.last().receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	assert.equal(c.t.disconnect(), 0);
	assert.equal(c.sockets.last().sent.at(-1)?.type, PacketType.DISCONNECT);
	assert.deepEqual(c.heard.at(-1), { kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.USER_REQUEST } });
});

test("transport: publishes take free ids that are never reserved; a reserved id in flight is replaced", () => {
	const { t, sockets } = transport({ pipeline: false });
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	assert.equal(t.report("{}", MessageId.DEFAULT_REPORT), true);
	assert.equal(t.report("{}", MessageId.DEFAULT_REPORT), true, "id 1 is in flight: another is used");
	const ids = socket.sent.filter((p): p is PublishPacket => p.type === PacketType.PUBLISH).map((p) => p.packetId);
	assert.equal(ids[0], MessageId.DEFAULT_REPORT);
	assert.notEqual(ids[1], MessageId.DEFAULT_REPORT);
	const reserved = new Set<number>(Object.values(MessageId));
	for (let i = 0; i < 20; i++) {
		const id = t.publish("t", "x", 1);
		assert.ok(id > 0 && !reserved.has(id), `id ${id}`);
		socket.receive({ type: PacketType.PUBACK, packetId: id });
	}
	assert.equal(t.publish("t", "x", 1, 4242), 4242, "a free unreserved id asked for is used as it is");
	assert.equal(t.publish("t", "x", 1, 4242), -Errno.EAGAIN, "a user id in flight is refused, not replaced");
	t.close();
	assert.equal(t.publish("t", "x", 1), -Errno.ENOTCONN);
});

test("transport: FOTA documents and acknowledgements go to the FOTA side, an oversize payload is reported", () => {
	const { t, heard, sockets } = transport({ pipeline: false, payloadBufferLength: 64, maxIncomingPacket: 1024 });
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	t.setEndpoints({ prefix: PREFIX, d2c: D2C, c2d: C2D });
	const fota = t.fotaTopics!;
	socket.receive({ type: PacketType.PUBLISH, topic: fota.receive, payload: new Uint8Array(500), qos: 0, retain: false, dup: false, packetId: 0 });
	assert.deepEqual(heard.at(-1), { kind: "fota", ble: false }, "job documents are not bound by the payload buffer");
	socket.receive({ type: PacketType.PUBLISH, topic: C2D, payload: new Uint8Array(65), qos: 0, retain: false, dup: false, packetId: 0 });
	assert.deepEqual(heard.at(-1), { kind: "oversize", size: 65 });
	t.requestJob();
	const request = socket.sent.at(-1) as PublishPacket;
	assert.deepEqual([request.topic, request.packetId], [fota.request, MessageId.FOTA_REQUEST]);
	socket.receive({ type: PacketType.PUBACK, packetId: MessageId.FOTA_REQUEST });
	assert.deepEqual(heard.at(-1), { kind: "fotaAck", id: MessageId.FOTA_REQUEST });
	t.close();
});

/** The library on a fake socket, brought to READY by answering each packet by hand. */
function readyLibrary(settings?: SettingsStore, log: (line: string) => void = () => undefined) {
	const sockets = fakeSockets();
	const seen: CloudEvent[] = [];
	const library = new NrfCloud({ socket: () => sockets.factory, settings }, { host: "cloud.test", clientIdSource: "compile-time", clientId: CLIENT_ID, pollThread: false, log });
	assert.equal(library.init({ eventHandler: (event) => seen.push(event) }), 0);
	void library.connect();
	const socket = sockets.last();
	const answer = (packet: Packet) => {
		socket.receive(packet);
		library.process();
	};
	socket.open();
	answer({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	answer({ type: PacketType.SUBACK, packetId: MessageId.CC_SUBSCRIBE, returnCodes: [1, 1, 1] });
	answer({ type: PacketType.PUBACK, packetId: MessageId.CLOUD_STATE_REQUEST });
	answer({ type: PacketType.PUBLISH, topic: `${CLIENT_ID}/shadow/get/accepted`, payload: PAIRED, qos: 0, retain: false, dup: false, packetId: 0 });
	answer({ type: PacketType.PUBACK, packetId: MessageId.PAIRING_STATUS_REPORT });
	answer({ type: PacketType.SUBACK, packetId: MessageId.DC_SUBSCRIBE, returnCodes: [1] });
	assert.equal(seen.at(-1)?.type, EventType.READY);
	return { library, socket, seen, answer };
}

test("a user tag equal to a reserved packet id never goes out as that id, and its PUBACK is the tag's SENSOR_DATA_ACK only", () => {
	for (const reserved of Object.values(MessageId)) {
		const { library, socket, seen, answer } = readyLibrary();
		const before = seen.length;
		assert.equal(library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL", tag: reserved }), 0);
		const publish = socket.sent.at(-1) as PublishPacket;
		assert.equal(publish.topic, D2C);
		assert.notEqual(publish.packetId, reserved, `tag ${reserved} went out as the reserved id`);
		assert.ok(!(Object.values(MessageId) as number[]).includes(publish.packetId), `tag ${reserved} went out as reserved id ${publish.packetId}`);
		answer({ type: PacketType.PUBACK, packetId: publish.packetId });
		const after = seen.slice(before);
		assert.deepEqual(after.map((e) => e.type), [EventType.SENSOR_DATA_ACK], `tag ${reserved}: ${JSON.stringify(after.map((e) => e.type))}`);
		assert.deepEqual([...after[0]!.data!], [reserved & 0xFF, reserved >> 8], "the event carries the application's tag");
		// The library's own request with that id still works afterwards.
		assert.equal(library.state, 9);
		library.disconnect();
	}
});

test("a free user tag is the packet id, as in the C library", () => {
	const { library, socket, seen, answer } = readyLibrary();
	assert.equal(library.sensorDataSend({ type: Sensor.TEMP, data: "21.5", tag: 4242 }), 0);
	assert.equal((socket.sent.at(-1) as PublishPacket).packetId, 4242);
	answer({ type: PacketType.PUBACK, packetId: 4242 });
	assert.deepEqual([seen.at(-1)?.type, [...seen.at(-1)!.data!]], [EventType.SENSOR_DATA_ACK, [4242 & 0xFF, 4242 >> 8]]);
	library.disconnect();
});

test("a settings store that throws on every call: the library still gets READY and says why in its log", () => {
	const logs: string[] = [];
	const broken = {
		read(): ArrayBuffer | undefined { throw new Error("flash read failed"); },
		write(): void { throw new Error("flash write failed"); },
		delete(): boolean { throw new Error("flash erase failed"); },
	};
	const { library, seen } = readyLibrary(broken, (line) => logs.push(line));
	assert.deepEqual(seen.map((e) => e.type), [EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY]);
	assert.ok(logs.some((line) => /settings: reading .* failed: flash read failed/.test(line)), logs.join("\n"));
	assert.ok(logs.some((line) => /settings: writing p_sesh failed: flash write failed/.test(line)), logs.join("\n"));
	library.disconnect();
});

test("transport: at most MAX_HELD_CONTROL shadow messages wait for the shadow SUBACK; one more ends the connection", () => {
	const { t, heard, sockets } = transport();
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	for (let i = 0; i < MAX_HELD_CONTROL; i++)
		socket.receive({ type: PacketType.PUBLISH, topic: `${CLIENT_ID}/shadow/get/accepted`, payload: PAIRED, qos: 0, retain: false, dup: false, packetId: 0 });
	assert.deepEqual(events(heard), [TransportEvent.CONNECTED], "all held");
	assert.notEqual(socket.sent.at(-1)?.type, PacketType.DISCONNECT);
	socket.receive({ type: PacketType.PUBLISH, topic: `${CLIENT_ID}/shadow/get/accepted`, payload: PAIRED, qos: 0, retain: false, dup: false, packetId: 0 });
	assert.equal(socket.sent.at(-1)?.type, PacketType.DISCONNECT);
	assert.deepEqual(heard.at(-1), { kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.USER_REQUEST } });
	assert.ok(!events(heard).includes(TransportEvent.CC_RX_DATA), "nothing held is delivered to a connection that ended");
});

test("transport: a packet over maxIncomingPacket is refused from its fixed header (packetTooLarge, then DISCONNECTED MISC); one at the limit is taken", () => {
	const { t, heard, sockets } = transport({ pipeline: false, payloadBufferLength: 64, messageBufferLength: 64 });
	t.connect();
	const socket = sockets.last();
	socket.open();
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	// 128 bytes in all: fixed header 2, topic 2 + 4 ("c/2d"), payload 120 (more than the payload buffer, so reported as oversize).
	socket.receive({ type: PacketType.PUBLISH, topic: "c/2d", payload: new Uint8Array(120), qos: 0, retain: false, dup: false, packetId: 0 });
	assert.deepEqual(heard.at(-1), { kind: "oversize", size: 120 });
	// The header of a 2 MiB publish, without its body.
	socket.receiveBytes(new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x01]));
	assert.deepEqual(heard.slice(-2).map((h) => h.kind), ["tooLarge", "event"]);
	assert.match((heard.at(-2) as { reason: string }).reason, /2097157 bytes exceeds the limit of 128/);
	assert.deepEqual(heard.at(-1), { kind: "event", type: TransportEvent.DISCONNECTED, data: { status: DisconnectStatus.MISC } });
	assert.equal(socket.closed, true);
});

test("transport: a CONNACK without the session asked for, whose SUBSCRIBE sent again ends the connection, is DISCONNECTED and no CONNECTED after it", () => {
	const { t, heard, sockets, settings } = transport({ persistentSession: true });
	settings.persistentSession = true;
	t.connect();
	const socket = sockets.last();
	socket.open();
	assert.deepEqual(kinds(socket.sent), ["1", `PUBLISH ${MessageId.CLOUD_STATE_REQUEST}`], "asking to resume: the GET goes ahead alone");
	// The link is gone: the next write reports the end from inside the write, as the modem's socket does.
	socket.write = () => {
		socket.fail(new SocketError(Errno.ECONNRESET, "TLS write failed"));
		return 0;
	};
	socket.receive({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
	const after = events(heard);
	assert.equal(after.at(-1), TransportEvent.DISCONNECTED, "the end is reported");
	assert.ok(!after.includes(TransportEvent.CONNECTED), "no CONNECTED for a connection already ended: the state machine would wait in CONNECTED for nothing");
	t.close();
});
