/*
 * pairedReportAhead (docs/protocol.md §1.7.4): on a connection that asks to
 * resume, the paired report of the last confirmed pairing goes with CONNECT
 * and the GET. Against the scripted nRF Cloud answering in flights: READY
 * after one flight instead of two, the same events, one paired report; a
 * pairing that changed while the device was away is corrected with the same
 * packet id; a disassociated device ends with the not-associated report and
 * keeps no pairing; bad options and damaged records.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PacketType, type PublishPacket } from "../modules/mqtt/packet.js";
import { decodeStoredEndpoints, encodeStoredEndpoints, type Endpoints } from "../modules/nrf-cloud/codec.js";
import { resolveConfig, type NrfCloudConfig } from "../modules/nrf-cloud/config.js";
import { EventType, MessageId } from "../modules/nrf-cloud/constants.js";
import { Pipeline, ReportAck, ReportClaim } from "../modules/nrf-cloud/pipeline.js";
import {
	ASSOCIATED_SHADOW, C2D, CloudPeer, D2C, DEVICE_ID, DeviceUnderTest, PREFIX, UNASSOCIATED_SHADOW, publishes, text,
} from "./support/nrf-cloud-peer.js";
import { until } from "./support/until.js";
import { V6_NOT_ASSOCIATED_REPORT, v7PairedReport } from "./support/vectors.js";

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

const KEEPALIVE = 60;
const CONFIRMED: Endpoints = { prefix: PREFIX, d2c: D2C, c2d: C2D };
const UPDATE = `$aws/things/${DEVICE_ID}/shadow/update`;

interface Run {
	flights: number;
	events: number[];
	/** The device's packets up to its DISCONNECT: type and packet id. */
	kinds: string[];
	reports: PublishPacket[];
	device: DeviceUnderTest;
}

/** One connection that asks to resume (p_sesh 1), answered in flights; `kept`: the endpoints in nrf_cloud/paired. */
async function connectOnce(config: NrfCloudConfig, kept: Endpoints | undefined, options: { shadow?: unknown; sessionPresent?: boolean; waitFor?: number } = {}): Promise<Run> {
	peer.policy = { connack: { returnCode: 0, sessionPresent: options.sessionPresent ?? true }, shadow: options.shadow ?? ASSOCIATED_SHADOW, ackPublishes: true, batch: true };
	peer.flights = 0;
	const device = new DeviceUnderTest(peer, { keepalive: KEEPALIVE, ...config });
	device.settings.write("p_sesh", new Uint8Array([1, 0, 0, 0]));
	if (kept !== undefined) device.settings.write("paired", encodeStoredEndpoints(kept));
	device.init();
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(options.waitFor ?? EventType.READY);
	const flights = peer.flights;
	await until(() => peer.idle, { what: "the peer's last flight" });
	// A probe's PUBACK shows the device has read and handled everything before it.
	const probe = peer.publish(connection, `$aws/things/${DEVICE_ID}/shadow/get/rejected`, '{"code":404,"message":"probe"}');
	await until(() => connection.received.some((p) => p.type === PacketType.PUBACK && p.packetId === probe), { what: "the PUBACK for the probe" });
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
	await until(() => connection.received.some((p) => p.type === PacketType.DISCONNECT), { what: "DISCONNECT" });
	peer.policy.batch = false;
	const received = connection.received.filter((p) => p.type !== PacketType.PUBACK);
	return {
		flights,
		events: device.types(),
		kinds: received.map((p) => p.type === PacketType.PUBLISH ? `PUBLISH ${(p as PublishPacket).packetId}` : String(p.type)),
		reports: publishes(connection).filter((p) => p.topic === UPDATE),
		device,
	};
}

const READY_EVENTS = [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATED, EventType.READY, EventType.TRANSPORT_DISCONNECTED];

test("a resumed reconnect with the report ahead: READY after 1 flight instead of 2, the same events, one paired report sent with CONNECT", async () => {
	const pipelined = await connectOnce({}, CONFIRMED);
	const ahead = await connectOnce({ pairedReportAhead: true }, CONFIRMED);
	assert.deepEqual([pipelined.flights, ahead.flights], [2, 1]);
	assert.deepEqual(ahead.events, pipelined.events);
	assert.deepEqual(ahead.events, READY_EVENTS);
	// CONNECT, GET and the report in the first flight; the job request once the shadow gave the endpoints.
	assert.deepEqual(ahead.kinds, [String(PacketType.CONNECT), `PUBLISH ${MessageId.CLOUD_STATE_REQUEST}`, `PUBLISH ${MessageId.PAIRING_STATUS_REPORT}`, `PUBLISH ${MessageId.FOTA_REQUEST}`, String(PacketType.DISCONNECT)]);
	assert.deepEqual(ahead.reports.map((p) => text(p.payload)), [v7PairedReport(PREFIX, D2C, C2D, KEEPALIVE)]);
	assert.deepEqual(pipelined.reports.map((p) => text(p.payload)), [v7PairedReport(PREFIX, D2C, C2D, KEEPALIVE)]);
});

test("a broker that kept no session: the subscriptions follow as without the option, one paired report, the same events", async () => {
	const pipelined = await connectOnce({}, CONFIRMED, { sessionPresent: false });
	const ahead = await connectOnce({ pairedReportAhead: true }, CONFIRMED, { sessionPresent: false });
	// The c2d SUBACK is what READY waits for then, and its SUBSCRIBE needs the shadow's endpoints.
	assert.deepEqual([pipelined.flights, ahead.flights], [3, 3]);
	assert.deepEqual(ahead.events, pipelined.events);
	assert.equal(ahead.reports.length, 1);
	assert.ok(ahead.kinds.filter((k) => k === String(PacketType.SUBSCRIBE)).length >= 2, ahead.kinds.join(", "));
});

test("no pairing kept: nothing goes ahead; READY's pairing is kept, and the next reconnect sends it ahead", async () => {
	const first = await connectOnce({ pairedReportAhead: true }, undefined);
	assert.equal(first.flights, 2);
	assert.deepEqual(first.kinds.slice(0, 3), [String(PacketType.CONNECT), `PUBLISH ${MessageId.CLOUD_STATE_REQUEST}`, `PUBLISH ${MessageId.FOTA_REQUEST}`]);
	assert.deepEqual(decodeStoredEndpoints(first.device.settings.read("paired")), CONFIRMED);
	// Without the option the library keeps nothing.
	const plain = await connectOnce({}, undefined);
	assert.equal(plain.device.settings.read("paired"), undefined);
});

test("a pairing that changed while away: the stale report, then the corrected one with the same packet id, then READY", async () => {
	const stale: Endpoints = { prefix: PREFIX, d2c: `${PREFIX}m/d/old/d2c`, c2d: `${PREFIX}m/d/old/c2d` };
	const run = await connectOnce({ pairedReportAhead: true }, stale);
	assert.deepEqual(run.events, READY_EVENTS);
	assert.deepEqual(run.reports.map((p) => [p.packetId, text(p.payload)]), [
		[MessageId.PAIRING_STATUS_REPORT, v7PairedReport(PREFIX, stale.d2c, stale.c2d, KEEPALIVE)],
		[MessageId.PAIRING_STATUS_REPORT, v7PairedReport(PREFIX, D2C, C2D, KEEPALIVE)],
	]);
	assert.equal(run.flights, 2);
	assert.deepEqual(decodeStoredEndpoints(run.device.settings.read("paired")), CONFIRMED);
});

test("disassociated while away: the paired report ahead is followed by the not-associated report, and no pairing is kept", async () => {
	const run = await connectOnce({ pairedReportAhead: true }, CONFIRMED, { shadow: UNASSOCIATED_SHADOW, waitFor: EventType.USER_ASSOCIATION_REQUEST });
	assert.deepEqual(run.events, [EventType.TRANSPORT_CONNECTING, EventType.TRANSPORT_CONNECTED, EventType.USER_ASSOCIATION_REQUEST, EventType.TRANSPORT_DISCONNECTED]);
	// The shadow's last reported pairing is the not-associated one: it was written after.
	assert.deepEqual(run.reports.map((p) => text(p.payload)), [v7PairedReport(PREFIX, D2C, C2D, KEEPALIVE), V6_NOT_ASSOCIATED_REPORT]);
	assert.equal(run.device.settings.read("paired"), undefined);
});

test("the pipeline's book-keeping: a dropped report's PUBACK is not the state machine's, and a report after it waits for it", () => {
	const p = new Pipeline();
	p.reportSentAhead("A");
	p.dropReportAhead();
	assert.equal(p.claimReport("B"), ReportClaim.AFTER_AHEAD);
	assert.equal(p.reportAcknowledged(), ReportAck.REPLACE);
	assert.equal(p.replacement, "B");
	assert.equal(p.reportAcknowledged(), ReportAck.PASS);
	p.reportSentAhead("A");
	assert.equal(p.reportAcknowledged(), ReportAck.AHEAD);
	assert.equal(p.claimReport("A"), ReportClaim.ACKNOWLEDGED);
	assert.equal(p.claimReport("A"), ReportClaim.SEND);
	p.reportSentAhead("A");
	assert.equal(p.reportAcknowledged(), ReportAck.AHEAD);
	assert.equal(p.claimReport("B"), ReportClaim.SEND);
	p.reportSentAhead("A");
	p.clear();
	assert.equal(p.claimReport("A"), ReportClaim.SEND);
});

test("options and records: pairedReportAhead needs pipeline, not with legacyAssociation, a boolean; damaged records are no pairing", () => {
	assert.equal(resolveConfig({}).pairedReportAhead, false);
	assert.throws(() => resolveConfig({ pairedReportAhead: true, pipeline: false }), /pairedReportAhead needs pipeline/);
	assert.throws(() => resolveConfig({ pairedReportAhead: true, legacyAssociation: true }), /legacyAssociation/);
	assert.throws(() => resolveConfig({ pairedReportAhead: "yes" as unknown as boolean }), /pairedReportAhead must be a boolean/);
	for (const bad of ["", "{", "[]", '{"prefix":1,"d2c":"a","c2d":"b"}', '{"prefix":"p","d2c":"","c2d":"b"}', '{"prefix":"p","d2c":"a"}', "\u00ff\u00fe"]) {
		assert.equal(decodeStoredEndpoints(Buffer.from(bad, "latin1")), undefined, bad);
	}
	assert.deepEqual(decodeStoredEndpoints(encodeStoredEndpoints(CONFIRMED)), CONFIRMED);
});

test("a damaged pairing record sends nothing ahead and is rewritten at READY", async () => {
	peer.policy = { connack: { returnCode: 0, sessionPresent: true }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
	const device = new DeviceUnderTest(peer, { keepalive: KEEPALIVE, pairedReportAhead: true });
	device.settings.write("p_sesh", new Uint8Array([1, 0, 0, 0]));
	device.settings.write("paired", Buffer.from('{"prefix":"x"'));
	device.init();
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(EventType.READY);
	assert.equal(publishes(connection).filter((p) => p.topic === UPDATE).length, 1);
	assert.deepEqual(decodeStoredEndpoints(device.settings.read("paired")), CONFIRMED);
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});
