/*
 * The embedded broker's own path for the device messages the cloud keeps
 * (QoS 1 PUBLISH packets taken from the connection before aedes's parser):
 * what it takes keeps the connection alive as any packet does, publishes sent
 * together with the CONNECT are acknowledged after the CONNACK, and what it
 * does not take (a topic of another device, a wildcard in the topic) still
 * closes the connection without storing anything.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { PacketType, type Packet } from "../modules/mqtt/packet.js";
import { connectFleet, fleetCredentials, type FleetCredentials } from "../tools/cloud-sim/fleet.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { until } from "./support/until.js";

let dir: string;
let running: RunningCloud;
let fleet: FleetCredentials;
const encoder = new MqttEncoder();

before(async () => {
	dir = mkdtempSync(join(tmpdir(), "cloud-kept-"));
	// a keepalive of 1 s is taken as asked, so that the broker closes a silent connection within 1.5 s
	running = await startCloud({ state: join(dir, "cloud"), limits: { minKeepalive: 1 } });
	fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, "fleet"), 4, "nrf-kept-");
	await connectFleet(fleet, running.endpoints.mqttPort);	// JITP registers them
	for (const id of fleet.ids) assert.equal(running.cloud.associate(id, id).ok, true);
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

interface RawDevice { socket: tls.TLSSocket; packets: Packet[]; closed: Promise<void>; isClosed: () => boolean }

/** A raw MQTT 3.1.1 connection of fleet device `id`; `after` is sent in the same write as the CONNECT. */
async function rawDevice(id: string, keepalive: number, afterConnect: Uint8Array[] = []): Promise<RawDevice> {
	const socket = tls.connect({ host: "127.0.0.1", port: running.endpoints.mqttPort, ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, servername: "localhost" });
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ onPacket: (packet) => packets.push(packet) });
	socket.on("data", (data: Buffer) => decoder.parse(new Uint8Array(data)));
	socket.on("error", () => undefined);
	let closedNow = false;
	const closed = new Promise<void>((resolve) => socket.once("close", () => { closedNow = true; resolve(); }));
	await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
	const connect = encoder.encode({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId: id, keepalive, clean: true });
	socket.write(Buffer.concat([connect, ...afterConnect]));
	await until(() => packets.some((p) => p.type === PacketType.CONNACK), { what: `${id}'s CONNACK` });
	return { socket, packets, closed, isClosed: () => closedNow };
}

const d2c = (id: string) => `${running.endpoints.topicPrefix}m/d/${id}/d2c`;
const stored = (id: string) => running.cloud.store.messages({ deviceId: id, direction: "d2c", limit: 10000 }).length;
const publish = (topic: string, packetId: number, text = `{"n":${packetId}}`) =>
	encoder.encode({ type: PacketType.PUBLISH, topic, payload: new TextEncoder().encode(text), qos: 1, retain: false, dup: false, packetId });
/** A QoS 1 PUBLISH built byte by byte, for topics the project's encoder refuses to write. */
function rawPublish(topic: string, packetId: number): Buffer {
	const name = Buffer.from(topic);
	const body = Buffer.concat([Buffer.from([name.length >> 8, name.length & 0xFF]), name, Buffer.from([packetId >> 8, packetId & 0xFF]), Buffer.from("{}")]);
	if (body.length > 127) throw new RangeError("a one-byte remaining length only");
	return Buffer.concat([Buffer.from([0x32, body.length]), body]);
}
const pubacks = (packets: Packet[]) => packets.filter((p) => p.type === PacketType.PUBACK).map((p) => (p as { packetId: number }).packetId);

test("a device that only publishes kept messages stays connected past 1.5 keepalive intervals; a silent one is closed", async () => {
	const [busyId, silentId] = fleet.ids as [string, string];
	const busy = await rawDevice(busyId, 1);
	const silent = await rawDevice(silentId, 1);
	let packetId = 0;
	const started = Date.now();
	// 3.5 s of messages every 200 ms, no PINGREQ: more than twice the 1.5 s the broker waits for a packet
	while (Date.now() - started < 3500) {
		busy.socket.write(publish(d2c(busyId), ++packetId));
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	await until(() => pubacks(busy.packets).length === packetId, { what: `${packetId} PUBACKs`, detail: () => String(pubacks(busy.packets).length) });
	assert.equal(silent.isClosed(), true, "the silent device's connection, 1.5 s past its keepalive, should be closed");
	assert.equal(busy.isClosed(), false, "the publishing device's connection was closed");
	assert.deepEqual(pubacks(busy.packets), Array.from({ length: packetId }, (_, i) => i + 1));
	assert.equal(stored(busyId), packetId);
	busy.socket.destroy();
	await busy.closed;
});

test("publishes sent with the CONNECT are acknowledged after the CONNACK, in order, and stored", async () => {
	const id = fleet.ids[2]!;
	const before = stored(id);
	const device = await rawDevice(id, 60, [publish(d2c(id), 1), publish(d2c(id), 2), publish(d2c(id), 3)]);
	await until(() => pubacks(device.packets).length === 3, { what: "3 PUBACKs" });
	assert.equal(device.packets[0]!.type, PacketType.CONNACK);
	assert.deepEqual(pubacks(device.packets), [1, 2, 3]);
	assert.equal(stored(id), before + 3);
	device.socket.destroy();
	await device.closed;
});

test("a message to another device's topic, or with a wildcard in its topic, closes the connection unacknowledged and unstored", async () => {
	const [id, other] = [fleet.ids[3]!, fleet.ids[0]!];
	for (const topic of [d2c(other), `${running.endpoints.topicPrefix}m/d/${id}/+`]) {
		const storedBefore = stored(id) + stored(other);
		const device = await rawDevice(id, 60);
		// a kept message first: the refused one comes after a packet the kept path took
		device.socket.write(publish(d2c(id), 1));
		await until(() => pubacks(device.packets).includes(1), { what: "the first PUBACK" });
		device.socket.write(rawPublish(topic, 2));
		await device.closed;
		assert.deepEqual(pubacks(device.packets), [1], `${topic}: acknowledged`);
		assert.equal(stored(id) + stored(other), storedBefore + 1, `${topic}: stored`);
	}
});
