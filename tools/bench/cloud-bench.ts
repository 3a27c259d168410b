/*
 * The local nRF Cloud under load, next to Mosquitto with the same TLS setup and
 * the same clients in the same run: TLS+MQTT connections per second, and
 * QoS 1 device-to-cloud messages per second. The cloud acknowledges a message
 * only once it is committed to its SQLite store (durable); Mosquitto, without
 * persistence, acknowledges and delivers from memory. Each runs in a process
 * of its own, the clients in this one.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectFleet, fleetCredentials, type FleetCredentials, type FleetDevice } from "../cloud-sim/fleet.js";
import type { Endpoints } from "../cloud-sim/main.js";
import { spawnCloud } from "../cloud-sim/process.js";
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

async function rest(endpoints: Endpoints, method: string, path: string, body?: string): Promise<any> {
	const response = await fetch(`http://127.0.0.1:${endpoints.httpPort}/v1/${path}`, { method, body, headers: { authorization: `Bearer ${endpoints.apiKey}` } });
	if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
	const text = await response.text();
	return text ? JSON.parse(text) : undefined;
}

/** The d2c messages the cloud's REST API lists. */
async function storedMessages(endpoints: Endpoints): Promise<number> {
	let count = 0;
	let after = 0;
	for (;;) {
		const page = await rest(endpoints, "GET", `messages?direction=d2c&pageLimit=1000&after=${after}`) as { items: Array<{ seq: number }> };
		if (page.items.length === 0) return count;
		count += page.items.length;
		after = page.items.at(-1)!.seq;
	}
}

export async function cloudBench(devices = 200, messages = 50): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "cloud-bench-"));
	// without the per-connection publish limit of AWS IoT (100/s), which these clients exceed
	const running = await spawnCloud(join(dir, "cloud"), ["--publish-limit", "0"]);
	try {
		const { endpoints } = running;
		const pki = dirname(endpoints.deviceCa);
		const fleet = await fleetCredentials(pki, join(dir, "fleet"), devices);
		await connectFleet(fleet, endpoints.mqttPort);	// JITP registration, not measured
		for (const id of fleet.ids) await rest(endpoints, "PUT", `association/${id}`, id);
		const prefix = endpoints.topicPrefix;
		const cloud = await measure(fleet, endpoints.mqttPort, (id) => `${prefix}m/d/${id}/d2c`, messages);
		const stored = await storedMessages(endpoints);
		if (stored !== devices * messages) throw new Error(`the cloud stored ${stored} of ${devices * messages} messages`);
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
			["d2c messages/s (QoS 1; the cloud: PUBACK after a durable commit)", cloud.messagesPerSecond.toFixed(0), mosquitto.messagesPerSecond.toFixed(0), ratio(cloud.messagesPerSecond, mosquitto.messagesPerSecond)],
		]));
		console.log("(the cloud and Mosquitto each in a process of their own; the clients for both are this Node process)");
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
