/*
 * The local nRF Cloud under load, next to Mosquitto with the same TLS setup and
 * the same clients in the same run: TLS+MQTT connections per second, and
 * QoS 1 device-to-cloud messages per second. The cloud acknowledges a message
 * only once it is committed to its SQLite store (durable); Mosquitto, without
 * persistence, acknowledges and delivers from memory. Each runs in a process
 * of its own, the clients in this one. Both fleets stay connected and the
 * message rounds alternate between the two brokers, so that a burst of load
 * from elsewhere on the machine does not fall on one of them only; each
 * broker's best round counts, and its CPU time per message over all rounds
 * (from /proc) is printed next to it, a figure that other load disturbs less.
 */

import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectFleet, fleetCredentials, type FleetCredentials, type FleetDevice } from "../cloud-sim/fleet.js";
import type { Endpoints } from "../cloud-sim/main.js";
import { spawnCloud } from "../cloud-sim/process.js";
import { startTlsMosquitto } from "../lib/mosquitto.js";
import { table } from "./harness.js";

/** QoS 1 publishes each device keeps unacknowledged. */
const WINDOW = 8;
const ROUNDS = 3;

/** CPU seconds (user + system, all threads) a process has used so far; NaN where /proc is missing. */
function cpuSeconds(pid: number): number {
	try {
		// the fields after the command name (which is in parentheses and may hold spaces): utime is the 12th, stime the 13th
		const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
		return (Number(fields[11]) + Number(fields[12])) / 100;
	}
	catch {
		return NaN;
	}
}

async function connectAll(fleet: FleetCredentials, port: number): Promise<{ devices: FleetDevice[]; connectionsPerSecond: number }> {
	const started = Date.now();
	const devices = await connectFleet(fleet, port);
	const connectedIn = (Date.now() - started) / 1000;
	const failed = devices.filter((d) => !d.client.connected);
	if (failed.length > 0) throw new Error(`${failed.length} devices did not connect`);
	return { devices, connectionsPerSecond: devices.length / connectedIn };
}

interface Round { messagesPerSecond: number; cpuSeconds: number }

/** One round: every device sends `messages`; messages/s over the round, and the broker's CPU time in it. */
async function sendRound(devices: FleetDevice[], topic: (id: string) => string, messages: number, pid: number): Promise<Round> {
	const cpuBefore = cpuSeconds(pid);
	const started = process.hrtime.bigint();
	await Promise.all(devices.map((d) => sendAll(d, topic(d.id), messages)));
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	return { messagesPerSecond: (devices.length * messages) / seconds, cpuSeconds: cpuSeconds(pid) - cpuBefore };
}

/**
 * Publishes `count` QoS 1 messages, keeping WINDOW of them unacknowledged: each
 * PUBACK sends the next at once. Resolves when all are acknowledged.
 */
function sendAll(device: FleetDevice, topic: string, count: number): Promise<void> {
	return new Promise((resolve) => {
		let sent = 0;
		let acknowledged = 0;
		const send = (): void => {
			while (sent < count && device.client.inflight < WINDOW) {
				device.client.publish(topic, `{"appId":"TEMP","messageType":"DATA","data":"${20 + (sent % 10)}"}`, { qos: 1 });
				sent++;
			}
		};
		device.onAcknowledged = () => {
			if (++acknowledged === count) {
				device.onAcknowledged = undefined;
				resolve();
			}
			else send();
		};
		send();
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

export async function cloudBench(devices = 200, messages = 100): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "cloud-bench-"));
	// without the per-connection publish limit of AWS IoT (100/s), which these clients exceed
	const running = await spawnCloud(join(dir, "cloud"), ["--publish-limit", "0"]);
	try {
		const { endpoints } = running;
		const pki = dirname(endpoints.deviceCa);
		const fleet = await fleetCredentials(pki, join(dir, "fleet"), devices);
		await connectFleet(fleet, endpoints.mqttPort);	// JITP registration, not measured
		for (const id of fleet.ids) await rest(endpoints, "PUT", `association/${id}`, id);
		const topic = (id: string) => `${endpoints.topicPrefix}m/d/${id}/d2c`;
		const broker = await startTlsMosquitto(dir, { ca: join(pki, "device-ca.pem"), cert: join(pki, "server.pem"), key: join(pki, "server.key") },
			{ extra: ["max_inflight_messages 100", "max_queued_messages 10000"] });
		const cloudRounds: Round[] = [];
		const mosquittoRounds: Round[] = [];
		let cloudFleet: Awaited<ReturnType<typeof connectAll>>;
		let mosquittoFleet: Awaited<ReturnType<typeof connectAll>>;
		try {
			cloudFleet = await connectAll(fleet, endpoints.mqttPort);
			mosquittoFleet = await connectAll(fleet, broker.port);
			for (let round = 0; round < ROUNDS; round++) {
				cloudRounds.push(await sendRound(cloudFleet.devices, topic, messages, running.child.pid!));
				mosquittoRounds.push(await sendRound(mosquittoFleet.devices, topic, messages, broker.pid));
			}
			for (const d of [...cloudFleet.devices, ...mosquittoFleet.devices]) d.client.disconnect();
			await Promise.all([...cloudFleet.devices, ...mosquittoFleet.devices].map((d) => d.closed));
		}
		finally {
			await broker.stop();
		}
		const stored = await storedMessages(endpoints);
		if (stored !== ROUNDS * devices * messages) throw new Error(`the cloud stored ${stored} of ${ROUNDS * devices * messages} messages`);
		const best = (rounds: Round[]) => Math.max(...rounds.map((r) => r.messagesPerSecond));
		const cpuPerThousand = (rounds: Round[]) => (1e6 * rounds.reduce((sum, r) => sum + r.cpuSeconds, 0)) / (rounds.length * devices * messages);
		const cloudRate = best(cloudRounds);
		const mosquittoRate = best(mosquittoRounds);
		console.log(`\nLocal nRF Cloud (aedes, TLS, JITP/policy/shadow services, SQLite storage) next to Mosquitto, same TLS setup and clients, ${devices} devices, ` +
			`${ROUNDS} alternating rounds of ${messages} QoS 1 messages each (${WINDOW} unacknowledged per device)\n`);
		const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
		console.log(table(["measure", "local nRF Cloud", "Mosquitto", "ratio"], [
			["TLS + MQTT connections/s", cloudFleet.connectionsPerSecond.toFixed(0), mosquittoFleet.connectionsPerSecond.toFixed(0), ratio(cloudFleet.connectionsPerSecond, mosquittoFleet.connectionsPerSecond)],
			["d2c messages/s, best round (QoS 1; the cloud: PUBACK after a durable commit)", cloudRate.toFixed(0), mosquittoRate.toFixed(0), ratio(cloudRate, mosquittoRate)],
			["  every round", cloudRounds.map((r) => r.messagesPerSecond.toFixed(0)).join(" "), mosquittoRounds.map((r) => r.messagesPerSecond.toFixed(0)).join(" "), ""],
			["broker CPU ms per 1000 d2c messages (all threads)", cpuPerThousand(cloudRounds).toFixed(0), cpuPerThousand(mosquittoRounds).toFixed(0), ratio(cpuPerThousand(cloudRounds), cpuPerThousand(mosquittoRounds))],
		]));
		console.log(`d2c goal: the cloud at 0.50x Mosquitto's messages/s or more: ${cloudRate / mosquittoRate >= 0.5 ? "met" : "NOT met"} (${ratio(cloudRate, mosquittoRate)})`);
		console.log("(the cloud and Mosquitto each in a process of their own; the clients for both are this Node process)");
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
