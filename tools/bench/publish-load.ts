/*
 * The load generator of the cloud benchmark: device connections that do
 * nothing but publish QoS 1 messages, each keeping a window of them
 * unacknowledged, over TLS with the devices' certificates. It is lean on
 * purpose: the benchmark measures the brokers, and with a full MQTT client
 * session per device (MqttClient) this one Node process spent more CPU time
 * per message than Mosquitto did, so Mosquitto's rate was the client's. The
 * frames come from the project's MQTT codec; the PUBLISH packets that the
 * PUBACKs of one read make room for go out as one TLS write, to either broker.
 */

import tls from "node:tls";
import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import { PacketType, type Packet } from "../../modules/mqtt/packet.js";
import type { FleetCredentials } from "../cloud-sim/fleet.js";

const encoder = new MqttEncoder();

export interface LoadDevice {
	id: string;
	socket: tls.TLSSocket;
	/** Called for every packet after the CONNACK. */
	onPacket: (packet: Packet) => void;
	/** Resolves when the socket has closed. */
	closed: Promise<void>;
}

function connectOne(credentials: FleetCredentials, port: number, id: string): Promise<LoadDevice> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: "127.0.0.1", port, ca: credentials.ca, cert: credentials.certificates.get(id)!, key: credentials.key, servername: "localhost" });
		socket.setNoDelay(true);
		const closed = new Promise<void>((done) => socket.once("close", () => done()));
		let connected = false;
		const device: LoadDevice = { id, socket, closed, onPacket: () => undefined };
		const decoder = new MqttDecoder({
			onPacket: (packet) => {
				if (connected) {
					device.onPacket(packet);
					return;
				}
				if (packet.type !== PacketType.CONNACK || packet.returnCode !== 0) {
					socket.destroy();
					reject(new Error(`${id}: no CONNACK (${JSON.stringify(packet)})`));
					return;
				}
				connected = true;
				resolve(device);
			},
		});
		socket.on("data", (data: Buffer) => decoder.parse(data));
		socket.on("error", (error) => { if (!connected) reject(error); });
		void closed.then(() => { if (!connected) reject(new Error(`${id}: the connection closed before the CONNACK`)); });
		socket.write(encoder.encode({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId: id, keepalive: 300, clean: true }));
	});
}

/** Connects every device of `credentials` to `port`, all at once; rejects if one does not get its CONNACK. */
export async function connectLoad(credentials: FleetCredentials, port: number): Promise<LoadDevice[]> {
	const results = await Promise.allSettled(credentials.ids.map((id) => connectOne(credentials, port, id)));
	const failed = results.filter((r) => r.status === "rejected");
	if (failed.length > 0) {
		for (const r of results) if (r.status === "fulfilled") r.value.socket.destroy();
		throw new Error(`${failed.length} of ${results.length} devices did not connect: ${String((failed[0] as PromiseRejectedResult).reason)}`);
	}
	return results.map((r) => (r as PromiseFulfilledResult<LoadDevice>).value);
}

/** Sends DISCONNECT on each connection and waits until all have closed. */
export async function disconnectLoad(devices: LoadDevice[]): Promise<void> {
	const disconnect = encoder.encode({ type: PacketType.DISCONNECT });
	for (const d of devices) d.socket.end(disconnect);
	await Promise.all(devices.map((d) => d.closed));
}

let refills: Array<() => void> = [];

/**
 * Runs `refill` after the current poll phase of the event loop, with every
 * other one queued in it: a broker that sends each PUBACK in a TLS record of
 * its own (Mosquitto does) delivers them in separate reads, and refilling after
 * each read would turn every PUBACK into a TLS write of the client's.
 */
function refillSoon(refill: () => void): void {
	if (refills.length === 0) {
		setImmediate(() => {
			const due = refills;
			refills = [];
			for (const f of due) f();
		});
	}
	refills.push(refill);
}

/**
 * Publishes `count` QoS 1 messages (`payload(i)` for the i-th) to `topic`,
 * `window` of them unacknowledged at a time. Resolves when every one is
 * acknowledged; rejects on a PUBACK for no message in flight, any other
 * packet, or a closed connection.
 */
export function publishAll(device: LoadDevice, topic: string, count: number, window: number, payload: (i: number) => Uint8Array): Promise<void> {
	return new Promise((resolve, reject) => {
		const inflight = new Set<number>();
		let sent = 0;
		let acknowledged = 0;
		let nextId = 1;
		const fail = (error: Error): void => {
			device.onPacket = () => undefined;
			device.socket.off("close", onClose);
			reject(error);
		};
		const onClose = (): void => fail(new Error(`${device.id}: the connection closed after ${acknowledged} of ${count} PUBACKs`));
		device.socket.once("close", onClose);
		const refill = (): void => {
			const frames: Uint8Array[] = [];
			while (sent < count && inflight.size < window) {
				const packetId = nextId;
				nextId = nextId === 0xFFFF ? 1 : nextId + 1;
				inflight.add(packetId);
				frames.push(encoder.encode({ type: PacketType.PUBLISH, topic, payload: payload(sent), qos: 1, retain: false, dup: false, packetId }));
				sent++;
			}
			if (frames.length > 0) device.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
		};
		let refillQueued = false;
		device.onPacket = (packet) => {
			if (packet.type !== PacketType.PUBACK || !inflight.delete(packet.packetId)) {
				fail(new Error(`${device.id}: unexpected ${JSON.stringify(packet)}`));
				return;
			}
			if (++acknowledged === count) {
				device.onPacket = () => undefined;
				device.socket.off("close", onClose);
				resolve();
				return;
			}
			// the PUBACKs of one turn of the event loop make room together: their successors go out in one write
			if (!refillQueued) {
				refillQueued = true;
				refillSoon(() => { refillQueued = false; refill(); });
			}
		};
		refill();
	});
}
