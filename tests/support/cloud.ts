/* Helpers for tests of the local nRF Cloud: its REST API, test devices (the project's MQTT client) and device credentials for the Mosquitto tools. */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nodeSocket } from "../../hosts/node/socket.js";
import { MqttClient } from "../../modules/mqtt/client.js";
import type { PublishPacket } from "../../modules/mqtt/packet.js";
import type { Endpoints } from "../../tools/cloud-sim/main.js";
import type { ToolCredentials } from "../../tools/lib/mosquitto.js";
import { provision } from "../../tools/provision/main.js";
import { until } from "./until.js";

export interface RestResult {
	status: number;
	json: any;
}

export interface RestOptions {
	/** null sends no key; default: the cloud's key. */
	apiKey?: string | null;
	/** A binary body, sent as is. */
	raw?: Buffer;
}

/**
 * A REST caller for the cloud whose endpoints `current` returns (a function, as a
 * test may restart the cloud). String bodies go as they are, others as JSON.
 */
export function restClient(current: () => Endpoints): (method: string, path: string, body?: unknown, options?: RestOptions) => Promise<RestResult> {
	return async (method, path, body, options = {}) => {
		const endpoints = current();
		const headers: Record<string, string> = {};
		const apiKey = options.apiKey === undefined ? endpoints.apiKey : options.apiKey;
		if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
		const response = await fetch(`http://127.0.0.1:${endpoints.httpPort}${path}`, {
			method, headers,
			body: options.raw ? new Uint8Array(options.raw) : body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
		});
		const text = await response.text();
		return { status: response.status, json: text ? JSON.parse(text) : undefined };
	};
}

/** Credentials for the Mosquitto tools of a device provisioned with `--out <dir>/out`. */
export function deviceCredentials(dir: string, endpoints: Endpoints, id: string): ToolCredentials {
	return { port: endpoints.mqttPort, ca: join(dir, "out", "ca.pem"), cert: join(dir, "out", `${id}.pem`), key: join(dir, "out", `${id}.key`), id };
}

/** A device of the tests: the project's MQTT client over TLS with the credentials of `provision --out <dir>/out`. */
export interface TestDevice {
	client: MqttClient;
	messages: PublishPacket[];
	/** Packet ids of the SUBACKs received. */
	subacks: number[];
	closed: Promise<unknown>;
	/** Rejects when the connection ends before CONNACK, so that a test fails instead of hanging. */
	connected: Promise<void>;
}

export function connectDevice(options: { dir: string; port: number; id: string; keepalive?: number }): TestDevice {
	const { dir, port, id } = options;
	const messages: PublishPacket[] = [];
	const subacks: number[] = [];
	let onClosed!: (error: unknown) => void;
	let onConnected!: () => void;
	let onRefused!: (error: unknown) => void;
	const closed = new Promise((resolve) => { onClosed = resolve; });
	const connected = new Promise<void>((resolve, reject) => { onConnected = resolve; onRefused = reject; });
	connected.catch(() => undefined);
	const client = new MqttClient({
		clientId: id, keepalive: options.keepalive ?? 60, onConnect: () => onConnected(), onMessage: (m) => { messages.push(m); }, onSubscribe: (packetId) => { subacks.push(packetId); },
		onClose: (e) => { onRefused(e ?? new Error("closed before CONNACK")); onClosed(e); },
	});
	client.connect(nodeSocket({
		host: "127.0.0.1", port,
		tls: { ca: readFileSync(join(dir, "out", "ca.pem")), cert: readFileSync(join(dir, "out", `${id}.pem`)), key: readFileSync(join(dir, "out", `${id}.key`)), servername: "localhost" },
	}));
	return { client, messages, subacks, closed, connected };
}

/** Subscribes and waits for the SUBACK: a message sent before it would not be routed to the device. */
export async function subscribeDevice(d: TestDevice, topic: string): Promise<void> {
	const id = d.client.subscribe([{ topic, qos: 1 }]);
	await until(() => d.subacks.includes(id), { what: `the SUBACK for ${topic}` });
}

/**
 * Sends a job request and proves that no job document answers it. The broker hands the
 * request to the cloud right after writing its PUBACK; a shadow GET sent once that PUBACK
 * is here goes through the same steps behind it, so its answer comes after any job
 * document the request would have produced: once the answer is here, no job is coming.
 * Returns the topics of the messages that arrived meanwhile (the caller expects none but
 * the shadow answer). The device must be subscribed to jobs/rcv and shadow/get/accepted.
 */
export async function requestJob(d: TestDevice, id: string, prefix: string): Promise<string[]> {
	d.messages.length = 0;
	d.client.publish(`${prefix}${id}/jobs/req`, '[""]', { qos: 1 });
	await until(() => d.client.inflight === 0, { what: "the job request's PUBACK" });
	d.client.publish(`$aws/things/${id}/shadow/get`, "", { qos: 1 });
	await until(() => d.messages.some((m) => m.topic === `${id}/shadow/get/accepted`), { what: "the shadow after the job request" });
	return d.messages.map((m) => m.topic);
}

/** A simulated nRF9160 for the XS host: its modem directory `<dir>/<name>` with an IMEI, provisioned in the cloud state `<dir>/cloud`. */
export interface ModemDevice {
	id: string;
	modem: string;
	pin: string;
}

export function provisionModemDevice(dir: string, name: string, imei: string): ModemDevice {
	const modem = join(dir, name);
	mkdirSync(modem, { recursive: true });
	writeFileSync(join(modem, "imei"), `${imei}\n`);
	const id = `nrf-${imei}`;
	const { pin } = provision({ cloudState: join(dir, "cloud"), modem, deviceId: id });
	return { id, modem, pin };
}
