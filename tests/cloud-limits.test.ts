/*
 * AWS IoT's limits in the local cloud's embedded broker (docs/protocol.md
 * §11.6): 100 publishes per second per connection (more are discarded, a
 * client that keeps on is disconnected), payloads up to 128 KB (a larger one
 * disconnects), the keepalive brought into 30 to 1200 s; an association PIN
 * that cannot be found by trying; private keys written with mode 0600.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { PacketType, type Packet } from "../modules/mqtt/packet.js";
import { AttemptLimiter, PIN_ATTEMPTS, PIN_LOCK_MS } from "../tools/cloud-sim/association.js";
import { connectFleet, fleetCredentials, type FleetCredentials } from "../tools/cloud-sim/fleet.js";
import { AWS_IOT_LIMITS, effectiveKeepalive, PublishThrottle } from "../tools/cloud-sim/limits.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { provision } from "../tools/provision/main.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

let dir: string;
let running: RunningCloud;
let fleet: FleetCredentials;
const encoder = new MqttEncoder();

before(async () => {
	dir = mkdtempSync(join(tmpdir(), "cloud-limits-"));
	running = await startCloud({ state: join(dir, "cloud") });
	fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, "fleet"), 6, "nrf-limits-");
	await connectFleet(fleet, running.endpoints.mqttPort);	// JITP registers them
	for (const id of fleet.ids.slice(0, 4)) assert.equal(running.cloud.associate(id, id).ok, true);
});

after(async () => {
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

/** A raw MQTT connection of fleet device `id`: what it received, and whether it was closed. */
async function rawDevice(id: string, keepalive = 60): Promise<{ socket: tls.TLSSocket; packets: Packet[]; closed: Promise<void> }> {
	const socket = tls.connect({ host: "127.0.0.1", port: running.endpoints.mqttPort, ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, servername: "localhost" });
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ onPacket: (packet) => packets.push(packet) });
	socket.on("data", (data: Buffer) => decoder.parse(new Uint8Array(data)));
	socket.on("error", () => undefined);
	const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
	await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
	socket.write(encoder.encode({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId: id, keepalive, clean: true }));
	await until(() => packets.some((p) => p.type === PacketType.CONNACK), { what: `${id}'s CONNACK` });
	return { socket, packets, closed };
}

const d2c = (id: string) => `${running.endpoints.topicPrefix}m/d/${id}/d2c`;
const stored = (id: string) => running.cloud.store.messages({ deviceId: id, direction: "d2c", limit: 10000 }).length;
const pubacks = (packets: Packet[], packetId: number) => packets.some((p) => p.type === PacketType.PUBACK && p.packetId === packetId);

test("a keepalive under 30 s (and 0) or over 1200 s is brought into AWS IoT's range", async () => {
	assert.deepEqual([0, 1, 29, 30, 600, 1200, 1201, 65535].map((k) => effectiveKeepalive(k, AWS_IOT_LIMITS)), [1200, 30, 30, 30, 600, 1200, 1200, 1200]);
	for (const [requested, applied] of [[5, 30], [0, 1200], [3000, 1200], [45, 45]] as const) {
		const id = fleet.ids[0]!;
		const device = await rawDevice(id, requested);
		await until(() => {
			const connection = running.cloud.store.shadow(id)?.state.reported?.connection as { status?: string; keepalive?: number } | undefined;
			return connection?.status === "connected" && connection.keepalive === applied;
		}, { what: `keepalive ${applied} for a CONNECT with ${requested}`, detail: () => JSON.stringify(running.cloud.store.shadow(id)?.state.reported?.connection) });
		device.socket.end();
		await device.closed;
		await until(() => !running.cloud.isConnected(id), { what: "the disconnect" });
	}
});

test("a payload of 128 KB is taken, one byte more closes the connection and is not stored", async () => {
	const id = fleet.ids[1]!;
	const device = await rawDevice(id);
	device.socket.write(encoder.encode({ type: PacketType.PUBLISH, topic: d2c(id), payload: new Uint8Array(128 * 1024).fill(0x61), qos: 1, retain: false, dup: false, packetId: 1 }));
	await until(() => pubacks(device.packets, 1), { what: "the PUBACK of 128 KB" });
	assert.equal(stored(id), 1);
	device.socket.write(encoder.encode({ type: PacketType.PUBLISH, topic: d2c(id), payload: new Uint8Array(128 * 1024 + 1).fill(0x62), qos: 1, retain: false, dup: false, packetId: 2 }));
	await device.closed;
	assert.equal(pubacks(device.packets, 2), false);
	assert.equal(stored(id), 1);
});

test("over 100 publishes in a second are discarded; a client that keeps on is disconnected", async () => {
	const id = fleet.ids[2]!;
	const device = await rawDevice(id);
	const burst = (count: number, from: number) => Buffer.concat(Array.from({ length: count }, (_, i) =>
		encoder.encode({ type: PacketType.PUBLISH, topic: d2c(id), payload: new TextEncoder().encode(`{"n":${from + i}}`), qos: 1, retain: false, dup: false, packetId: from + i })));
	const started = Date.now();
	device.socket.write(burst(150, 1));
	await until(() => device.packets.filter((p) => p.type === PacketType.PUBACK).length >= 100, { what: "100 PUBACKs" });
	assert.ok(Date.now() - started < 1000, "the burst took more than the one-second window");
	// a second later the connection takes publishes again: the 50 discarded ones got no PUBACK and were not stored
	await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() - started) + 50));
	device.socket.write(burst(1, 1000));
	await until(() => pubacks(device.packets, 1000), { what: "the PUBACK in the next second" });
	assert.equal(device.packets.filter((p) => p.type === PacketType.PUBACK).length, 101);
	assert.equal(stored(id), 101);
	assert.equal(running.cloud.isConnected(id), true);
	// twice the rate: the connection is closed
	device.socket.write(burst(250, 2000));
	await device.closed;
	assert.ok(stored(id) <= 201, `${stored(id)} stored`);
});

test("wrong PINs lock a device's association, then even the right code is refused for a while", async () => {
	const id = fleet.ids[4]!;
	const other = fleet.ids[5]!;
	for (let i = 0; i < PIN_ATTEMPTS; i++) assert.equal(running.cloud.associate(id, `00000${i}`).code, 400);
	const locked = running.cloud.associate(id, id);
	assert.equal(locked.code, 429);
	assert.match(locked.message ?? "", /too many wrong codes/);
	assert.equal(running.cloud.store.device(id)!.tenant, null);
	assert.equal(running.cloud.associate(other, other).ok, true, "another device is not locked");

	let now = 0;
	const limiter = new AttemptLimiter(() => now);
	for (let i = 0; i < PIN_ATTEMPTS - 1; i++) limiter.failed("a");
	assert.equal(limiter.lockedFor("a"), 0);
	limiter.succeeded("a");
	for (let i = 0; i < PIN_ATTEMPTS - 1; i++) limiter.failed("a");
	assert.equal(limiter.lockedFor("a"), 0, "a right code clears the count");
	limiter.failed("a");
	assert.equal(limiter.lockedFor("a"), PIN_LOCK_MS);
	now = PIN_LOCK_MS - 1;
	assert.equal(limiter.lockedFor("a"), 1);
	now = PIN_LOCK_MS;
	assert.equal(limiter.lockedFor("a"), 0);
});

test("the throttle's window, counted with a given clock", () => {
	let now = 0;
	const throttle = new PublishThrottle({ ...AWS_IOT_LIMITS, publishesPerSecond: 3, discardsBeforeDisconnect: 2 }, () => now);
	assert.deepEqual([throttle.next(), throttle.next(), throttle.next(), throttle.next()], ["pass", "pass", "pass", "discard"]);
	now = 999;
	assert.equal(throttle.next(), "disconnect");
	now = 1000;
	assert.equal(throttle.next(), "pass");
	assert.equal(new PublishThrottle({ ...AWS_IOT_LIMITS, publishesPerSecond: 0 }).next(), "pass");
});

test("private keys are written with mode 0600: the cloud's, a fleet's and a provisioned device's", () => {
	ensureSim("release");
	const out = join(dir, "out");
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: "nrf-352656100441776", clientIdSource: "compile-time", out });
	const keys = [
		...readdirSync(running.cloud.pkiDirectory).filter((f) => f.endsWith(".key")).map((f) => join(running.cloud.pkiDirectory, f)),
		join(fleet.directory, "fleet.key"), join(fleet.directory, "device-ca.key"), join(out, "nrf-352656100441776.key"),
	];
	assert.ok(keys.length >= 6);
	for (const key of keys) assert.equal((statSync(key).mode & 0o777).toString(8), "600", key);
});
