/*
 * The local nRF Cloud under load, next to Mosquitto with the same TLS setup and
 * the same clients in the same run: TLS+MQTT connections per second, and
 * QoS 1 device-to-cloud messages per second. The cloud acknowledges a message
 * only once it is committed to its SQLite store (durable); Mosquitto, without
 * persistence, acknowledges and delivers from memory. Each runs in a process
 * of its own, the clients in this one (publish-load.ts, lean so that they are
 * not what limits either broker: the client CPU time per message is printed
 * too). Both fleets stay connected and the message rounds alternate between
 * the two brokers, so that a burst of load from elsewhere on the machine does
 * not fall on one of them only. After a warm-up round each (printed, not
 * counted), every round is printed for both; the goal is judged on the median
 * of the ratios of neighbouring rounds, the best rounds' ratio is printed
 * beside it. CPU time per message (from /proc) is a figure other load
 * disturbs less.
 */

import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connectFleet, fleetCredentials, type FleetCredentials } from "../cloud-sim/fleet.js";
import type { Endpoints } from "../cloud-sim/main.js";
import { spawnCloud } from "../cloud-sim/process.js";
import { startTlsMosquitto } from "../lib/mosquitto.js";
import { table } from "./harness.js";
import { connectLoad, disconnectLoad, publishAll, type LoadDevice } from "./publish-load.js";

/** QoS 1 publishes each device keeps unacknowledged. */
const WINDOW = 8;
/** Counted rounds per broker, after one warm-up round each. */
const ROUNDS = 5;

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

async function connectAll(fleet: FleetCredentials, port: number): Promise<{ devices: LoadDevice[]; connectionsPerSecond: number }> {
	const started = Date.now();
	const devices = await connectLoad(fleet, port);
	return { devices, connectionsPerSecond: devices.length / ((Date.now() - started) / 1000) };
}

interface Round { messagesPerSecond: number; cpuSeconds: number; clientCpuSeconds: number }

/** Ten payloads as the example firmware's temperature messages, encoded once. */
const PAYLOADS = Array.from({ length: 10 }, (_, i) => Buffer.from(`{"appId":"TEMP","messageType":"DATA","data":"${20 + i}"}`));

/** One round: every device sends `messages`; messages/s over the round, and the broker's and this process's CPU time in it. */
async function sendRound(devices: LoadDevice[], topic: (id: string) => string, messages: number, pid: number): Promise<Round> {
	const cpuBefore = cpuSeconds(pid);
	const clientBefore = process.cpuUsage();
	const started = process.hrtime.bigint();
	await Promise.all(devices.map((d) => publishAll(d, topic(d.id), messages, WINDOW, (i) => PAYLOADS[i % 10]!)));
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	const client = process.cpuUsage(clientBefore);
	return { messagesPerSecond: (devices.length * messages) / seconds, cpuSeconds: cpuSeconds(pid) - cpuBefore, clientCpuSeconds: (client.user + client.system) / 1e6 };
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
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

/** `profileDirectory`: where the cloud process writes a V8 CPU profile (node --cpu-prof) when it stops. */
export async function cloudBench(devices = 200, messages = 100, profileDirectory?: string): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "cloud-bench-"));
	// without the per-connection publish limit of AWS IoT (100/s), which these clients exceed
	const running = await spawnCloud(join(dir, "cloud"), ["--publish-limit", "0"], { nodeOptions: profileDirectory ? ["--cpu-prof", `--cpu-prof-dir=${profileDirectory}`] : [] });
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
		let warmUp: [Round, Round];
		try {
			cloudFleet = await connectAll(fleet, endpoints.mqttPort);
			mosquittoFleet = await connectAll(fleet, broker.port);
			warmUp = [await sendRound(cloudFleet.devices, topic, messages, running.child.pid!), await sendRound(mosquittoFleet.devices, topic, messages, broker.pid)];
			for (let round = 0; round < ROUNDS; round++) {
				cloudRounds.push(await sendRound(cloudFleet.devices, topic, messages, running.child.pid!));
				mosquittoRounds.push(await sendRound(mosquittoFleet.devices, topic, messages, broker.pid));
			}
			await disconnectLoad([...cloudFleet.devices, ...mosquittoFleet.devices]);
		}
		finally {
			await broker.stop();
		}
		const stored = await storedMessages(endpoints);
		if (stored !== (ROUNDS + 1) * devices * messages) throw new Error(`the cloud stored ${stored} of ${(ROUNDS + 1) * devices * messages} messages`);
		const best = (rounds: Round[]) => Math.max(...rounds.map((r) => r.messagesPerSecond));
		const perThousand = (rounds: Round[], cpu: (r: Round) => number) => (1e6 * rounds.reduce((sum, r) => sum + cpu(r), 0)) / (rounds.length * devices * messages);
		const ratios = cloudRounds.map((r, i) => r.messagesPerSecond / mosquittoRounds[i]!.messagesPerSecond);
		const typical = median(ratios);
		const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
		const rate = (r: Round) => r.messagesPerSecond.toFixed(0);
		console.log(`\nLocal nRF Cloud (aedes, TLS, JITP/policy/shadow services, SQLite storage) next to Mosquitto, same TLS setup and clients, ${devices} devices, ` +
			`${ROUNDS} alternating rounds of ${messages} QoS 1 messages each after a warm-up round (${WINDOW} unacknowledged per device)\n`);
		console.log(table(["measure", "local nRF Cloud", "Mosquitto", "ratio"], [
			["TLS + MQTT connections/s", cloudFleet.connectionsPerSecond.toFixed(0), mosquittoFleet.connectionsPerSecond.toFixed(0), ratio(cloudFleet.connectionsPerSecond, mosquittoFleet.connectionsPerSecond)],
			["d2c messages/s, warm-up round (not counted)", rate(warmUp[0]), rate(warmUp[1]), ratio(warmUp[0].messagesPerSecond, warmUp[1].messagesPerSecond)],
			...cloudRounds.map((r, i) => [`d2c messages/s, round ${i + 1} (QoS 1; the cloud: PUBACK after a durable commit)`, rate(r), rate(mosquittoRounds[i]!), `${ratios[i]!.toFixed(2)}x`]),
			["d2c messages/s, median round / ratio: median of the rounds' ratios", median(cloudRounds.map((r) => r.messagesPerSecond)).toFixed(0), median(mosquittoRounds.map((r) => r.messagesPerSecond)).toFixed(0), `${typical.toFixed(2)}x`],
			["d2c messages/s, best round", best(cloudRounds).toFixed(0), best(mosquittoRounds).toFixed(0), ratio(best(cloudRounds), best(mosquittoRounds))],
			["broker CPU ms per 1000 d2c messages (all threads)", perThousand(cloudRounds, (r) => r.cpuSeconds).toFixed(1), perThousand(mosquittoRounds, (r) => r.cpuSeconds).toFixed(1),
				ratio(perThousand(cloudRounds, (r) => r.cpuSeconds), perThousand(mosquittoRounds, (r) => r.cpuSeconds))],
			["client CPU ms per 1000 d2c messages (the load generator, this process)", perThousand(cloudRounds, (r) => r.clientCpuSeconds).toFixed(1), perThousand(mosquittoRounds, (r) => r.clientCpuSeconds).toFixed(1), ""],
		]));
		console.log(`d2c goal: the cloud at 0.50x Mosquitto's messages/s or more (median of the rounds' ratios): ${typical >= 0.5 ? "met" : "NOT met"} (${typical.toFixed(2)}x; ` +
			`rounds ${ratios.map((r) => r.toFixed(2)).join(" ")})`);
		console.log("(the cloud and Mosquitto each in a process of their own; the clients for both are this Node process)");
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
