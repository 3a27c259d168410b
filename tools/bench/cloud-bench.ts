/*
 * The local nRF Cloud under load, next to Mosquitto with the same TLS setup and
 * the same clients in the same run: TLS+MQTT connections per second, and
 * QoS 1 device-to-cloud messages per second (the cloud also stores each one).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectFleet, fleetCredentials, type FleetCredentials, type FleetDevice } from "../cloud-sim/fleet.js";
import { startCloud } from "../cloud-sim/main.js";
import { startTlsMosquitto } from "../lib/mosquitto.js";
import { table } from "./harness.js";

interface Figures { connectionsPerSecond: number; messagesPerSecond: number }

async function measure(fleet: FleetCredentials, port: number, topic: (id: string) => string, messages: number): Promise<Figures> {
	const started = Date.now();
	const devices = await connectFleet(fleet, port);
	const connectedIn = (Date.now() - started) / 1000;
	const failed = devices.filter((d) => !d.client.connected);
	if (failed.length > 0) throw new Error(`${failed.length} devices did not connect`);
	const sendStart = Date.now();
	const pending = devices.map((d) => sendAll(d, topic(d.id), messages));
	await Promise.all(pending);
	const sentIn = (Date.now() - sendStart) / 1000;
	for (const d of devices) d.client.disconnect();
	await Promise.all(devices.map((d) => d.closed));
	return { connectionsPerSecond: devices.length / connectedIn, messagesPerSecond: (devices.length * messages) / sentIn };
}

/** Publishes `count` QoS 1 messages, keeping the client's in-flight window full; resolves when all are acknowledged. */
function sendAll(device: FleetDevice, topic: string, count: number): Promise<void> {
	return new Promise((resolve) => {
		let sent = 0;
		const pump = (): void => {
			while (sent < count && device.client.inflight < 8) {
				device.client.publish(topic, `{"appId":"TEMP","messageType":"DATA","data":"${20 + (sent % 10)}"}`, { qos: 1 });
				sent++;
			}
			if (sent === count && device.client.inflight === 0) resolve();
			else setTimeout(pump, 1);
		};
		pump();
	});
}

export async function cloudBench(devices = 200, messages = 50): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "cloud-bench-"));
	const running = await startCloud({ state: join(dir, "cloud") });
	try {
		const fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, "fleet"), devices);
		await connectFleet(fleet, running.endpoints.mqttPort);	// JITP registration, not measured
		for (const id of fleet.ids) running.cloud.associate(id, id);
		const prefix = running.endpoints.topicPrefix;
		const cloud = await measure(fleet, running.endpoints.mqttPort, (id) => `${prefix}m/d/${id}/d2c`, messages);
		const stored = running.cloud.store.messages({ limit: devices * messages + 1 }).length;
		if (stored !== devices * messages) throw new Error(`the cloud stored ${stored} of ${devices * messages} messages`);
		const pki = running.cloud.pkiDirectory;
		const broker = await startTlsMosquitto(dir, { ca: join(pki, "device-ca.pem"), cert: join(pki, "server.pem"), key: join(pki, "server.key") },
			{ extra: ["max_inflight_messages 100", "max_queued_messages 10000"] });
		let mosquitto: Figures;
		try {
			mosquitto = await measure(fleet, broker.port, (id) => `${prefix}m/d/${id}/d2c`, messages);
		}
		finally {
			await broker.stop();
		}
		console.log(`\nLocal nRF Cloud (aedes, TLS, JITP/policy/shadow services, SQLite storage) next to Mosquitto, same TLS setup, ${devices} devices, ${messages} QoS 1 messages each\n`);
		const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
		console.log(table(["measure", "local nRF Cloud", "Mosquitto", "ratio"], [
			["TLS + MQTT connections/s", cloud.connectionsPerSecond.toFixed(0), mosquitto.connectionsPerSecond.toFixed(0), ratio(cloud.connectionsPerSecond, mosquitto.connectionsPerSecond)],
			["d2c messages/s (QoS 1, stored by the cloud)", cloud.messagesPerSecond.toFixed(0), mosquitto.messagesPerSecond.toFixed(0), ratio(cloud.messagesPerSecond, mosquitto.messagesPerSecond)],
		]));
		console.log("(the client side is this Node process for both, so both figures include its cost)");
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
