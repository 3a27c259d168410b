/*
 * Fleets of simulated devices for load tests and benchmarks: certificates for
 * many device IDs (one shared key, each certificate signed by the local cloud's
 * device CA) and MQTT clients that connect them all over TLS.
 */

import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MqttClient } from "../../modules/mqtt/client.js";
import type { MqttError } from "../../modules/mqtt/errors.js";
import { nodeSocket } from "../../hosts/node/socket.js";
import { privateKey, writePrivateFile } from "../lib/pki.js";

export interface FleetCredentials {
	ids: string[];
	ca: Buffer;
	key: Buffer;
	certificates: Map<string, Buffer>;
	directory: string;
}

function run(args: string[], cwd: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
		let errors = "";
		child.stderr.on("data", (d: Buffer) => { errors += d.toString(); });
		child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`openssl ${args[0]} failed: ${errors}`))));
	});
}

/** Certificates for `count` devices named `<prefix>0000…`, signed by the device CA in `pkiDirectory`. */
export async function fleetCredentials(pkiDirectory: string, directory: string, count: number, prefix = "nrf-fleet-"): Promise<FleetCredentials> {
	mkdirSync(directory, { recursive: true });
	copyFileSync(join(pkiDirectory, "device-ca.pem"), join(directory, "device-ca.pem"));
	writePrivateFile(join(directory, "device-ca.key"), readFileSync(join(pkiDirectory, "device-ca.key")));
	privateKey(directory, "fleet");
	const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, "0")}`);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < ids.length) {
			const id = ids[next++]!;
			await run(["req", "-x509", "-new", "-key", "fleet.key", "-subj", `/CN=${id}`, "-CA", "device-ca.pem", "-CAkey", "device-ca.key",
				"-days", "2", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=clientAuth", "-out", `${id}.pem`], directory);
		}
	};
	await Promise.all([worker(), worker(), worker(), worker()]);
	const certificates = new Map(ids.map((id) => [id, readFileSync(join(directory, `${id}.pem`))]));
	return { ids, ca: readFileSync(join(pkiDirectory, "server-ca.pem")), key: readFileSync(join(directory, "fleet.key")), certificates, directory };
}

export interface FleetDevice {
	id: string;
	client: MqttClient;
	/** Topics of the messages received so far. */
	received: string[];
	/** Called with the packet id of each QoS 1 publish the broker acknowledges. */
	onAcknowledged: ((packetId: number) => void) | undefined;
	/** Resolves true on CONNACK, false when the connection ended first. */
	connected: Promise<boolean>;
	closed: Promise<MqttError | undefined>;
}

/** Connects every device once (keepalive 300 s); resolves when each has connected or failed. */
export async function connectFleet(credentials: FleetCredentials, port: number, ids = credentials.ids): Promise<FleetDevice[]> {
	const devices = ids.map((id) => {
		let onConnected!: (ok: boolean) => void;
		let onClosed!: (error: MqttError | undefined) => void;
		const connected = new Promise<boolean>((resolve) => { onConnected = resolve; });
		const closed = new Promise<MqttError | undefined>((resolve) => { onClosed = resolve; });
		const received: string[] = [];
		const client = new MqttClient({
			clientId: id, keepalive: 300, connectTimeout: 60000,
			onConnect: () => onConnected(true),
			onMessage: (message) => { received.push(message.topic); },
			onPublish: (packetId) => device.onAcknowledged?.(packetId),
			onClose: (error) => { onConnected(false); onClosed(error); },
		});
		const device: FleetDevice = { id, client, received, onAcknowledged: undefined, connected, closed };
		client.connect(nodeSocket({ host: "127.0.0.1", port, tls: { ca: credentials.ca, cert: credentials.certificates.get(id)!, key: credentials.key, servername: "localhost" } }));
		return device;
	});
	await Promise.all(devices.map((d) => d.connected));
	return devices;
}
