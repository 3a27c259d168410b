/*
 * Library reconnects when the link is cut at every point of the connection
 * sequence (docs/protocol.md §1.7), for an associated and an unassociated
 * device, with and without the poll thread: between two packets of the
 * cloud, and inside the device's answer to one (a socket write that fails
 * reports the end of the connection from inside the write, as the simulator
 * host's and the modem's sockets do). Whatever the point, the library is back
 * in INITIALIZED with TRANSPORT_DISCONNECTED as the connection's last event,
 * and it connects again within maxMs; after disconnect() it never does.
 * Fake sockets and a virtual clock: every step is the test's.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { NrfCloud, type CloudEvent } from "../modules/nrf-cloud/api.js";
import { EventType, MessageId, Sensor, State, eventName } from "../modules/nrf-cloud/constants.js";
import { PacketType, type Packet, type PublishPacket } from "../modules/mqtt/packet.js";
import { Errno } from "../modules/platform/errno.js";
import { SocketError } from "../modules/platform/socket.js";
import { FakeSocket, keptSockets } from "./support/fake-socket.js";
import { VirtualClock } from "./support/virtual-clock.js";

const CLIENT_ID = "nrf-352656100441776";
const PREFIX = "prod/tenant/";
const D2C = `${PREFIX}m/d/${CLIENT_ID}/d2c`;
const PAIRED = { pairing: { state: "paired", topics: { d2c: D2C, c2d: `${PREFIX}m/d/${CLIENT_ID}/c2d` } }, nrfcloud_mqtt_topic_prefix: PREFIX };
const MAX_MS = 400;

/** A fake socket whose next write can fail the way a native one does: onError from inside write(). */
class CuttableSocket extends FakeSocket {
	cutOnWrite = false;

	override write(data: Uint8Array): number {
		if (this.cutOnWrite) {
			this.cutOnWrite = false;
			this.fail(new SocketError(Errno.ECONNRESET, "connection reset by peer"));
			return 0;
		}
		return super.write(data);
	}
}

const publish = (topic: string, document: object): Packet =>
	({ type: PacketType.PUBLISH, topic, payload: new TextEncoder().encode(JSON.stringify(document)), qos: 0, retain: false, dup: false, packetId: 0 });

/** What the cloud sends, in order, for a device whose shadow says associated (to READY) or not (to USER_ASSOCIATED). */
function script(associated: boolean): Packet[] {
	const start: Packet[] = [
		{ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 },
		{ type: PacketType.SUBACK, packetId: MessageId.CC_SUBSCRIBE, returnCodes: [1, 1, 1] },
		{ type: PacketType.PUBACK, packetId: MessageId.CLOUD_STATE_REQUEST },
	];
	if (associated) return [...start,
		publish(`${CLIENT_ID}/shadow/get/accepted`, { desired: PAIRED }),
		{ type: PacketType.PUBACK, packetId: MessageId.PAIRING_STATUS_REPORT },
		{ type: PacketType.SUBACK, packetId: MessageId.DC_SUBSCRIBE, returnCodes: [1] },
	];
	return [...start,
		publish(`${CLIENT_ID}/shadow/get/accepted`, { desired: { pairing: { state: "not_associated" } } }),
		{ type: PacketType.PUBACK, packetId: MessageId.DEFAULT_REPORT },
		publish(`$aws/things/${CLIENT_ID}/shadow/update/delta`, { version: 2, state: PAIRED }),
	];
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

async function rig(pollThread: boolean) {
	const clock = new VirtualClock();
	const sockets = keptSockets((callbacks) => new CuttableSocket(callbacks));
	const seen: CloudEvent[] = [];
	const library = new NrfCloud({ socket: () => sockets.factory, clock, random: () => 0.9999999 }, {
		host: "cloud.test", clientIdSource: "compile-time", clientId: CLIENT_ID, pollThread, log: () => undefined,
		offlineQueue: { messages: 8, bytes: 4096, persist: false },
		reconnect: { minMs: 100, maxMs: MAX_MS, stableMs: 60000 },
	});
	assert.equal(library.init({ eventHandler: (event) => seen.push(event) }), 0);
	assert.equal(library.sensorDataSend({ type: Sensor.FLIP, data: "NORMAL" }), 0, "queued while offline");
	const step = async () => {
		if (!pollThread) library.process();
		await settle();
	};
	void library.connect();
	await settle();
	return { clock, sockets, seen, library, step };
}

type Rig = Awaited<ReturnType<typeof rig>>;

/** Opens the newest socket and plays `packets` into it; false once the connection ended. */
async function play(r: Rig, packets: readonly Packet[]): Promise<boolean> {
	const socket = r.sockets.last();
	if (!socket.closed) socket.open();
	await r.step();
	for (const packet of packets) {
		if (socket.closed) return false;
		socket.receive(packet);
		await r.step();
	}
	return !socket.closed;
}

const names = (events: readonly CloudEvent[]) => events.map((e) => eventName(e.type));

/** After the cut: INITIALIZED, nothing after the connection's end, and a new connection within maxMs. */
async function assertReconnects(r: Rig, where: string): Promise<void> {
	assert.equal(r.library.state, State.INITIALIZED, `${where}: state ${r.library.state}, events ${names(r.seen).join(" ")}`);
	let last = r.seen.length - 1;
	while (last >= 0 && r.seen[last]!.type !== EventType.TRANSPORT_DISCONNECTED && r.seen[last]!.type !== EventType.TRANSPORT_CONNECTING) last--;
	// Without the poll thread a failed connect is connect()'s result, not an event: then no event at all.
	assert.deepEqual(names(r.seen.slice(last + 1)), [], `${where}: events after the connection ended`);
	const opened = r.sockets.sockets.length;
	r.clock.advance(MAX_MS);
	await r.step();
	assert.equal(r.sockets.sockets.length, opened + 1, `${where}: no reconnect within maxMs (events ${names(r.seen).join(" ")})`);
}

for (const pollThread of [true, false]) {
	for (const associated of [true, false]) {
		const kind = `${associated ? "associated" : "unassociated"} device, ${pollThread ? "poll thread" : "process()"}`;
		const packets = script(associated);

		test(`reconnect: ${kind}: a cut between any two packets of the sequence, or before the socket is up, is followed by a reconnect`, async () => {
			for (let k = -1; k <= packets.length; k++) {
				const r = await rig(pollThread);
				const where = k < 0 ? "during the TLS handshake" : `after ${k} packet(s)`;
				if (k < 0) r.sockets.last().fail(new SocketError(Errno.ECONNREFUSED, "refused"));
				else if (await play(r, packets.slice(0, k))) r.sockets.last().fail();
				await r.step();
				await assertReconnects(r, where);
			}
		});

		test(`reconnect: ${kind}: a write that fails inside the answer to any packet of the sequence is followed by a reconnect`, async () => {
			for (let k = -1; k < packets.length; k++) {
				const r = await rig(pollThread);
				const socket = r.sockets.last();
				const where = k < 0 ? "writing CONNECT" : `answering packet ${k} (${packets[k]!.type})`;
				if (k < 0) socket.cutOnWrite = true;
				if (await play(r, packets.slice(0, Math.max(k, 0)))) {
					socket.cutOnWrite = true;
					socket.receive(packets[k]!);
					await r.step();
					// A packet that needs no answer: the cut comes with the next write, or now.
					if (!socket.closed) {
						socket.cutOnWrite = false;
						socket.fail();
						await r.step();
					}
				}
				await assertReconnects(r, where);
			}
		});
	}
}

test("reconnect: after a cut inside the paired report, the next connection gets READY and sends the queued message; after disconnect() no reconnect", async () => {
	const r = await rig(true);
	const packets = script(true);
	assert.equal(await play(r, packets.slice(0, 3)), true);
	const socket = r.sockets.last();
	socket.cutOnWrite = true;
	socket.receive(packets[3]!);
	await r.step();
	assert.equal(r.library.state, State.INITIALIZED, `events ${names(r.seen).join(" ")}`);
	assert.equal(r.seen.some((e) => e.type === EventType.USER_ASSOCIATED), false, "the paired report never went out: no USER_ASSOCIATED");
	await assertReconnects(r, "inside the paired report");
	assert.equal(await play(r, packets), true);
	assert.equal(r.library.state, State.DC_CONNECTED);
	assert.equal(r.seen.at(-1)?.type, EventType.READY);
	const sent = r.sockets.last().sent.filter((p): p is PublishPacket => p.type === PacketType.PUBLISH && p.topic === D2C);
	assert.equal(sent.length, 1, "the message queued while offline went out");
	assert.equal(r.library.disconnect(), 0);
	await r.step();
	assert.equal(r.library.state, State.INITIALIZED);
	const opened = r.sockets.sockets.length;
	r.clock.advance(MAX_MS * 100);
	await r.step();
	assert.equal(r.sockets.sockets.length, opened, "no reconnect after disconnect()");
});
