/*
 * The local nRF Cloud's device side: an MQTT broker (aedes) behind TLS with
 * required client certificates, JITP, per-device policies, the shadow service,
 * device messages, association and the FOTA job service. The operator side
 * (REST, dashboard) drives it through the methods of LocalCloud.
 */

import { Aedes, type Client, type PublishPacket } from "aedes";
import { EventEmitter } from "node:events";
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { ConnectGate } from "./connect-gate.js";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { MqttClient } from "../../modules/mqtt/client.js";
import { nodeSocket } from "../../hosts/node/socket.js";
import { startTlsMosquitto, type Mosquitto } from "../lib/mosquitto.js";
import { authority, issue } from "../lib/pki.js";
import { devicePolicy, policyTopics, type DevicePolicy } from "./policy.js";
import { applyUpdate, getAccepted, isObject, newShadow, trimmed, type Json, type JsonObject } from "./shadow.js";
import { Store, type ExecutionRecord, type FirmwareRecord, type MessageRecord } from "./store.js";

export const STAGE = "prod";
const FOTA_TYPES = ["APP", "MODEM", "BOOT"] as const;
const FOTA_STATUS = ["QUEUED", "IN_PROGRESS", "FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED", "DOWNLOADING"];
const TERMINAL = new Set(["FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED"]);

export interface CloudOptions {
	stateDirectory: string;
	mqttPort: number;
	firmwarePort: number;
	/** Host name in the server certificate and in FOTA job documents. */
	hostname?: string;
	/**
	 * "embedded" (default): the built-in broker. "mosquitto": Debian's Mosquitto as the
	 * device-facing broker, with an ACL file for the per-device policy and the cloud's
	 * services attached as a privileged MQTT client.
	 */
	broker?: "embedded" | "mosquitto";
	log?: (line: string) => void;
}

export interface CloudEvents {
	message: [MessageRecord];
	device: [string];
	execution: [ExecutionRecord];
}

interface Session {
	deviceId: string;
	policy: DevicePolicy;
}

/** Certificates of the local cloud, made at first start: its server CA and certificate, and the device CA (JITP). */
export function cloudPki(directory: string, hostname: string): { dir: string } {
	const dir = join(directory, "pki");
	mkdirSync(dir, { recursive: true });
	if (!existsSync(join(dir, "server-ca.pem"))) authority(dir, "server-ca", "Local nRF Cloud Server CA", 3650);
	if (!existsSync(join(dir, "device-ca.pem"))) authority(dir, "device-ca", "Local nRF Cloud Device CA", 3650);
	if (!existsSync(join(dir, "server.pem")))
		issue(dir, "server", `/CN=${hostname}`, "server-ca", `subjectAltName=DNS:${hostname},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`, 3650);
	return { dir };
}

export class LocalCloud extends EventEmitter<CloudEvents> {
	readonly store: Store;
	readonly hostname: string;
	readonly pkiDirectory: string;
	#broker!: Aedes;
	#server!: tls.Server;
	#firmwareServer!: HttpsServer;
	readonly #sessions = new WeakMap<Client, Session>();
	readonly #clients = new Map<string, Client>();
	readonly #options: CloudOptions;
	readonly #log: (line: string) => void;
	/** Input-sequence associations waiting for the device's pattern: the expected presses and the attempts so far. */
	readonly #sequences = new Map<string, { presses: number[]; attempts: number }>();
	#mosquitto: Mosquitto | undefined = undefined;
	#services: MqttClient | undefined = undefined;

	static readonly SERVICES_ID = "nrfcloud-services";

	get external(): boolean {
		return this.#options.broker === "mosquitto";
	}

	constructor(options: CloudOptions) {
		super();
		this.#options = options;
		this.hostname = options.hostname ?? "localhost";
		this.#log = options.log ?? (() => undefined);
		mkdirSync(options.stateDirectory, { recursive: true });
		mkdirSync(join(options.stateDirectory, "firmware"), { recursive: true });
		this.pkiDirectory = cloudPki(options.stateDirectory, this.hostname).dir;
		this.store = new Store(options.stateDirectory);
	}

	get topicPrefix(): string {
		return `${STAGE}/${this.store.tenant}/`;
	}

	get mqttPort(): number {
		return this.#mosquitto ? this.#mosquitto.port : (this.#server.address() as AddressInfo).port;
	}

	get firmwarePort(): number {
		return (this.#firmwareServer.address() as AddressInfo).port;
	}

	async start(): Promise<void> {
		if (this.external) await this.#startExternal();
		else await this.#startEmbedded();
		const pki = this.pkiDirectory;
		this.#firmwareServer = createHttpsServer({
			key: readFileSync(join(pki, "server.key")),
			cert: readFileSync(join(pki, "server.pem")),
		}, (request, response) => this.#serveFirmware(request.url ?? "/", request.headers.range, request.method ?? "GET", response));
		await new Promise<void>((resolve, reject) => {
			this.#firmwareServer.once("error", reject);
			this.#firmwareServer.listen(this.#options.firmwarePort, "127.0.0.1", resolve);
		});
	}

	/**
	 * The per-device policy as a Mosquitto ACL: the rules every device has, as patterns
	 * (%u is the certificate CN), and per associated device the rules association adds.
	 */
	#writeAcl(): void {
		const base = policyTopics("%u", null);
		const lines = [
			...base.publish.map((topic) => `pattern write ${topic}`),
			...base.subscribe.map((filter) => `pattern read ${filter}`),
			"",
			`user ${LocalCloud.SERVICES_ID}`,
			"topic readwrite #",
			"topic readwrite $aws/#",
		];
		const prefix = this.topicPrefix;
		for (const device of this.store.devices()) {
			if (device.tenant === null) continue;
			const unassociated = policyTopics(device.id, null);
			const associated = policyTopics(device.id, prefix);
			lines.push("", `user ${device.id}`,
				...associated.publish.filter((t) => !unassociated.publish.includes(t)).map((topic) => `topic write ${topic}`),
				...associated.subscribe.filter((f) => !unassociated.subscribe.includes(f)).map((filter) => `topic read ${filter}`),
				// an ACL cannot leave c2d out of a wildcard, so the message rule narrows to d2c here
				`topic write ${associated.messagePrefix}d2c`);
		}
		writeFileSync(join(this.#options.stateDirectory, "mosquitto.acl"), `${lines.join("\n")}\n`);
	}

	#policyChanged(): void {
		if (!this.#mosquitto) return;
		this.#writeAcl();
		this.#mosquitto.reload();
	}

	async #startExternal(): Promise<void> {
		const pki = this.pkiDirectory;
		if (!existsSync(join(pki, `${LocalCloud.SERVICES_ID}.pem`)))
			issue(pki, LocalCloud.SERVICES_ID, `/CN=${LocalCloud.SERVICES_ID}`, "device-ca", "extendedKeyUsage=clientAuth\n", 3650);
		this.#writeAcl();
		this.#mosquitto = await startTlsMosquitto(this.#options.stateDirectory,
			{ ca: join(pki, "device-ca.pem"), cert: join(pki, "server.pem"), key: join(pki, "server.key") },
			{ port: this.#options.mqttPort, extra: ["tls_version tlsv1.2", `acl_file ${join(this.#options.stateDirectory, "mosquitto.acl")}`] });
		const port = this.#mosquitto.port;
		const prefix = this.topicPrefix;
		const ready = new Promise<void>((resolve, reject) => {
			const services: MqttClient = new MqttClient({
				clientId: LocalCloud.SERVICES_ID,
				keepalive: 60,
				maxInflight: 1024,
				onConnect: () => {
					services.subscribe([
						{ topic: "$aws/things/+/shadow/get", qos: 1 },
						{ topic: "$aws/things/+/shadow/update", qos: 1 },
						{ topic: `${prefix}m/#`, qos: 1 },
						{ topic: `${prefix}+/jobs/req`, qos: 1 },
						{ topic: `${prefix}+/jobs/update`, qos: 1 },
					]);
				},
				onSubscribe: () => resolve(),
				onMessage: (message) => this.#serviceMessage(message.topic, Buffer.from(message.payload)),
				onClose: (error) => {
					reject(error ?? new Error("the services connection closed"));
					if (this.#services === services) this.#log(`services: connection to Mosquitto ended: ${String(error)}`);
				},
			});
			this.#services = services;
			services.connect(nodeSocket({
				host: "127.0.0.1", port,
				tls: { ca: readFileSync(join(pki, "server-ca.pem")), cert: readFileSync(join(pki, `${LocalCloud.SERVICES_ID}.pem`)), key: readFileSync(join(pki, `${LocalCloud.SERVICES_ID}.key`)), servername: this.hostname },
			}));
		});
		await ready;
	}

	/** A device message seen by the services client; the device ID comes from the topic, as the ACL bound the topic to the CN. */
	#serviceMessage(topic: string, payload: Buffer): void {
		const prefix = this.topicPrefix;
		let id: string | undefined;
		if (topic.startsWith("$aws/things/")) id = topic.split("/")[2];
		else if (topic.startsWith(`${prefix}m/d/`)) {
			if (topic.endsWith("/c2d")) return;
			id = topic.slice(prefix.length + 4).split("/")[0];
		}
		else if (topic.startsWith(prefix)) id = topic.slice(prefix.length).split("/")[0];
		if (!id || id === LocalCloud.SERVICES_ID) return;
		if (!this.store.device(id)) {
			// Mosquitto cannot refuse a first connection: the device registers on its first message.
			this.store.addDevice(id, "external", newShadow({ pairing: { state: "not_associated" } }, Math.floor(Date.now() / 1000)));
			this.#log(`registered ${id} on its first message`);
			this.emit("device", id);
		}
		this.#deviceMessage(id, topic, payload);
	}

	async #startEmbedded(): Promise<void> {
		this.#broker = await Aedes.createBroker({ heartbeatInterval: 3600000, keepaliveLimit: 1200, drainTimeout: 30000 });
		this.#broker.preConnect = (client, packet, callback) => this.#preConnect(client, packet.clientId, callback);
		this.#broker.authorizePublish = (client, packet, callback) => {
			const session = client ? this.#sessions.get(client) : undefined;
			if (!session || !session.policy.canPublish(packet.topic)) {
				this.#log(`policy: ${client?.id ?? "?"} may not publish to ${packet.topic}; disconnecting`);
				callback(new Error(`not authorized to publish to ${packet.topic}`));
				return;
			}
			callback(null);
		};
		this.#broker.authorizeSubscribe = (client, subscription, callback) => {
			const session = this.#sessions.get(client);
			if (!session || !session.policy.canSubscribe(subscription.topic)) {
				this.#log(`policy: ${client.id} may not subscribe to ${subscription.topic}`);
				callback(null, null);
				return;
			}
			callback(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
		};
		this.#broker.on("client", (client) => this.#connected(client));
		this.#broker.on("clientDisconnect", (client) => this.#disconnected(client));
		this.#broker.on("publish", (packet, client) => {
			if (client) this.#devicePublished(client, packet);
		});
		const pki = this.pkiDirectory;
		this.#server = tls.createServer({
			key: readFileSync(join(pki, "server.key")),
			cert: readFileSync(join(pki, "server.pem")),
			ca: readFileSync(join(pki, "device-ca.pem")),
			requestCert: true,
			rejectUnauthorized: true,
			minVersion: "TLSv1.2",
		}, (socket) => this.#broker.handle(new ConnectGate(socket)));
		this.#server.on("tlsClientError", () => undefined);
		await new Promise<void>((resolve, reject) => {
			this.#server.once("error", reject);
			this.#server.listen(this.#options.mqttPort, "127.0.0.1", resolve);
		});
	}

	async stop(): Promise<void> {
		if (this.#mosquitto) {
			const services = this.#services;
			this.#services = undefined;
			services?.close();
			await this.#mosquitto.stop();
		}
		else {
			for (const client of this.#clients.values()) client.close();
			await new Promise<void>((resolve) => this.#server.close(() => resolve()));
			await new Promise<void>((resolve) => this.#broker.close(() => resolve()));
		}
		await new Promise<void>((resolve) => this.#firmwareServer.close(() => resolve()));
		this.#firmwareServer.closeAllConnections();
		this.store.close();
	}

	#preConnect(client: Client, clientId: string, done: (error: Error | null, success: boolean) => void): void {
		const socket = client.conn as unknown as tls.TLSSocket;
		// A refused CONNECT gets no CONNACK: the connection is closed, as AWS IoT closes it.
		const callback = (error: Error | null, success: boolean): void => {
			done(error, success);
			if (!success) socket.destroy();
		};
		const certificate = typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate() : undefined;
		const commonName = certificate?.subject?.CN;
		if (!certificate || typeof commonName !== "string") {
			callback(null, false);
			return;
		}
		if (clientId !== commonName) {
			this.#log(`connect: client id ${clientId} is not the certificate's ${commonName}; closing`);
			callback(null, false);
			return;
		}
		const fingerprint = certificate.fingerprint256;
		const device = this.store.device(commonName);
		if (!device) {
			// Just-in-time provisioning: the first connection registers the device and is refused.
			this.store.addDevice(commonName, fingerprint, newShadow({ pairing: { state: "not_associated" } }, Math.floor(Date.now() / 1000)));
			this.#log(`jitp: registered ${commonName}; refusing this first connection`);
			this.emit("device", commonName);
			callback(null, false);
			return;
		}
		if (device.fingerprint !== fingerprint) {
			this.#log(`connect: ${commonName} presented another certificate; closing`);
			callback(null, false);
			return;
		}
		const session: Session = { deviceId: commonName, policy: devicePolicy(commonName, device.tenant === null ? null : this.topicPrefix) };
		this.#sessions.set(client, session);
		callback(null, true);
	}

	#connected(client: Client): void {
		const session = this.#sessions.get(client);
		if (!session) return;
		this.#clients.get(session.deviceId)?.close();
		this.#clients.set(session.deviceId, client);
		this.store.setConnected(session.deviceId, true);
		this.#updateShadow(session.deviceId, { state: { reported: { connection: { status: "connected", keepalive: (client as unknown as { keepalive?: number }).keepalive ?? null } } } }, false);
		this.emit("device", session.deviceId);
	}

	#disconnected(client: Client): void {
		const session = this.#sessions.get(client);
		if (!session || this.#clients.get(session.deviceId) !== client) return;
		this.#clients.delete(session.deviceId);
		if (!this.store.device(session.deviceId)) return;
		this.store.setConnected(session.deviceId, false);
		this.#updateShadow(session.deviceId, { state: { reported: { connection: { status: "disconnected" } } } }, false);
		this.emit("device", session.deviceId);
	}

	#publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): void {
		if (this.#mosquitto) {
			this.#services?.publish(topic, typeof payload === "string" ? payload : new Uint8Array(payload), { qos });
			return;
		}
		this.#broker.publish({ cmd: "publish", topic, payload: typeof payload === "string" ? Buffer.from(payload) : payload, qos, retain: false, dup: false }, () => undefined);
	}

	#devicePublished(client: Client, packet: PublishPacket): void {
		const session = this.#sessions.get(client);
		if (!session) return;
		this.#deviceMessage(session.deviceId, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
	}

	#deviceMessage(id: string, topic: string, payload: Buffer): void {
		const shadow = `$aws/things/${id}/shadow/`;
		if (topic === `${shadow}get`) this.#shadowGet(id);
		else if (topic === `${shadow}update`) {
			let request: unknown;
			try {
				request = JSON.parse(payload.toString("utf8"));
			}
			catch {
				this.#publish(`${shadow}update/rejected`, JSON.stringify({ code: 400, message: "Payload contains invalid json", timestamp: Math.floor(Date.now() / 1000) }));
				return;
			}
			if (this.#updateShadow(id, request, true).ok) this.#checkSequence(id, request);
		}
		else if (topic.endsWith("/jobs/req")) this.#jobRequest(id, payload);
		else if (topic.endsWith("/jobs/update")) this.#jobUpdate(id, payload);
		else if (topic.startsWith(`${this.topicPrefix}m/`)) {
			const record = this.store.addMessage(id, topic, "d2c", payload.toString("utf8"));
			this.emit("message", record);
		}
	}

	#shadowGet(id: string): void {
		const document = this.store.shadow(id);
		const shadow = `$aws/things/${id}/shadow/`;
		if (!document) {
			this.#publish(`${shadow}get/rejected`, JSON.stringify({ code: 404, message: `No shadow exists with name: '${id}'`, timestamp: Math.floor(Date.now() / 1000) }));
			return;
		}
		this.#publish(`${shadow}get/accepted`, JSON.stringify(getAccepted(document)));
		this.#publish(`${id}/shadow/get/accepted`, JSON.stringify(trimmed(document)));
	}

	/** Applies a shadow update; `answer` publishes accepted/rejected as for a device's own request. */
	#updateShadow(id: string, request: unknown, answer: boolean): { ok: boolean; code?: number; message?: string } {
		const shadow = `$aws/things/${id}/shadow/`;
		const timestamp = Math.floor(Date.now() / 1000);
		const previous = this.store.shadow(id);
		const result = applyUpdate(previous, request, timestamp);
		if (!result.ok) {
			if (answer) this.#publish(`${shadow}update/rejected`, JSON.stringify({ code: result.code, message: result.message, timestamp }));
			return { ok: false, code: result.code, message: result.message };
		}
		this.store.saveShadow(id, result.document);
		this.#publish(`${shadow}update/accepted`, JSON.stringify(result.accepted));
		this.#publish(`${shadow}update/documents`, JSON.stringify({
			previous: previous ? { state: previous.state, metadata: previous.metadata, version: previous.version } : null,
			current: { state: result.document.state, metadata: result.document.metadata, version: result.document.version },
			timestamp,
		}));
		if (result.delta) this.#publish(`${shadow}update/delta`, JSON.stringify(result.delta));
		return { ok: true };
	}

	/** An operator-side shadow update (REST "state"): desired and/or reported. */
	updateState(id: string, state: unknown): { ok: boolean; code?: number; message?: string } {
		if (!this.store.device(id)) return { ok: false, code: 404, message: `no device ${id}` };
		const result = this.#updateShadow(id, { state }, false);
		if (result.ok) this.emit("device", id);
		return result;
	}

	/** Association with the device's PIN, or its hardware ID (the device ID). */
	associate(id: string, code: string): { ok: boolean; code?: number; message?: string } {
		const device = this.store.device(id);
		if (!device) return { ok: false, code: 404, message: `no device ${id}` };
		if (code !== id && (device.pin === null || code !== device.pin)) return { ok: false, code: 400, message: "the PIN or hardware ID does not match" };
		if (device.tenant !== null) return { ok: false, code: 409, message: `${id} is already associated` };
		this.store.setTenant(id, this.store.tenant);
		this.#sequences.delete(id);
		this.#policyChanged();
		const prefix = this.topicPrefix;
		const result = this.#updateShadow(id, { state: { desired: {
			pairing: { state: "paired", config: null, topics: { d2c: `${prefix}m/d/${id}/d2c`, c2d: `${prefix}m/d/${id}/c2d` } },
			nrfcloud_mqtt_topic_prefix: prefix,
		} } }, false);
		this.emit("device", id);
		return result;
	}

	/**
	 * The legacy association by an input sequence (nrf_cloud_user_associate, NCS 1.1 and
	 * earlier): the cloud asks for a pattern of button presses (1 to 4) and compares the
	 * one the device reports, packed two presses per byte, high nibble first.
	 */
	associateWithSequence(id: string, presses: unknown): { ok: boolean; code?: number; message?: string } {
		const device = this.store.device(id);
		if (!device) return { ok: false, code: 404, message: `no device ${id}` };
		if (!Array.isArray(presses) || presses.length < 1 || presses.length > 16 || !presses.every((p) => Number.isInteger(p) && p >= 1 && p <= 4))
			return { ok: false, code: 400, message: "pattern must be 1 to 16 button numbers from 1 to 4" };
		if (device.tenant !== null) return { ok: false, code: 409, message: `${id} is already associated` };
		this.#sequences.set(id, { presses: presses as number[], attempts: 0 });
		return this.#updateShadow(id, { state: { desired: { pairing: { state: "pattern_wait", topics: null, config: { iteration: 1, method: "buttons", length: presses.length } } } } }, false);
	}

	#checkSequence(id: string, request: unknown): void {
		const pending = this.#sequences.get(id);
		if (!pending || !isObject(request) || !isObject(request.state) || !isObject(request.state.reported)) return;
		const status = request.state.reported.pairingStatus;
		if (!isObject(status) || status.method !== "buttons" || !Array.isArray(status.pattern)) return;
		const presses: number[] = [];
		for (const byte of status.pattern) {
			if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) return;
			presses.push(byte >> 4, byte & 0x0F);
		}
		if (presses.length === pending.presses.length + 1 && presses[presses.length - 1] === 0) presses.pop();
		pending.attempts++;
		if (presses.length === pending.presses.length && presses.every((p, i) => p === pending.presses[i])) {
			this.#sequences.delete(id);
			this.#log(`association: ${id} entered the right sequence`);
			this.associate(id, id);
			return;
		}
		if (pending.attempts >= 3) {
			this.#sequences.delete(id);
			this.#updateShadow(id, { state: { desired: { pairing: { state: "timeout", config: null } } } }, false);
			return;
		}
		this.#updateShadow(id, { state: { desired: { pairing: { state: "pattern_mismatch", config: { iteration: pending.attempts + 1, method: "buttons", length: pending.presses.length } } } } }, false);
	}

	disassociate(id: string): { ok: boolean; code?: number; message?: string } {
		const device = this.store.device(id);
		if (!device) return { ok: false, code: 404, message: `no device ${id}` };
		if (device.tenant === null) return { ok: false, code: 409, message: `${id} is not associated` };
		this.store.setTenant(id, null);
		this.#policyChanged();
		const result = this.#updateShadow(id, { state: { desired: { pairing: { state: "not_associated", topics: null }, nrfcloud_mqtt_topic_prefix: null } } }, false);
		this.emit("device", id);
		return result;
	}

	deleteDevice(id: string): boolean {
		this.#clients.get(id)?.close();
		const removed = this.store.deleteDevice(id);
		if (removed) this.emit("device", id);
		return removed;
	}

	/** Sends a cloud-to-device message to an associated device. */
	sendToDevice(id: string, message: string): { ok: boolean; code?: number; message?: string } {
		const device = this.store.device(id);
		if (!device) return { ok: false, code: 404, message: `no device ${id}` };
		if (device.tenant === null) return { ok: false, code: 409, message: `${id} is not associated` };
		const topic = `${this.topicPrefix}m/d/${id}/c2d`;
		this.#publish(topic, message);
		const record = this.store.addMessage(id, topic, "c2d", message);
		this.emit("message", record);
		return { ok: true };
	}

	isConnected(id: string): boolean {
		return this.#clients.has(id);
	}

	/* ---- FOTA ---- */

	addFirmware(type: string, version: string, filename: string, image: Buffer): FirmwareRecord {
		if (!(FOTA_TYPES as readonly string[]).includes(type)) throw new RangeError(`firmware type must be one of ${FOTA_TYPES.join(", ")}`);
		if (!/^[\w.+-]{1,64}$/.test(version)) throw new RangeError("version must be 1 to 64 characters of letters, digits, . + - _");
		if (!/^[\w.+-]{1,128}$/.test(filename)) throw new RangeError("filename must be 1 to 128 characters of letters, digits, . + - _");
		if (image.length === 0) throw new RangeError("the firmware image is empty");
		const id = randomUUID();
		const record: FirmwareRecord = {
			id, type: type as FirmwareRecord["type"], version, filename, size: image.length,
			sha256: createHash("sha256").update(image).digest("hex"), created: Date.now(),
		};
		writeFileSync(join(this.#options.stateDirectory, "firmware", id), image);
		this.store.addFirmware(record);
		return record;
	}

	firmwarePath(record: FirmwareRecord): string {
		return `${this.store.tenant}/${record.id}/${record.filename}`;
	}

	/** Creates a job for the devices whose shadow reports support for the firmware's type. */
	createJob(firmwareId: string, deviceIds: string[]): { ok: true; jobId: string; deviceIds: string[] } | { ok: false; code: number; message: string } {
		const firmware = this.store.firmware(firmwareId);
		if (!firmware) return { ok: false, code: 404, message: `no firmware ${firmwareId}` };
		const eligible = deviceIds.filter((id) => {
			const reported = this.store.shadow(id)?.state.reported;
			const device = isObject(reported?.device) ? reported.device as JsonObject : undefined;
			const serviceInfo = isObject(device?.serviceInfo) ? device.serviceInfo as JsonObject : undefined;
			const types = serviceInfo?.fota_v2;
			return Array.isArray(types) && types.includes(firmware.type);
		});
		if (eligible.length === 0) return { ok: false, code: 400, message: `no listed device reports ${firmware.type} in device.serviceInfo.fota_v2` };
		const jobId = randomUUID();
		this.store.addJob({ id: jobId, firmwareId, created: Date.now() }, eligible);
		return { ok: true, jobId, deviceIds: eligible };
	}

	/** A device's JSON payload, or undefined (logged) when it does not parse. */
	#parseJson(id: string, payload: Buffer, what: string): Json | undefined {
		try {
			return JSON.parse(payload.toString("utf8")) as Json;
		}
		catch {
			this.#log(`fota: ${id} sent a ${what} that is not JSON`);
			return undefined;
		}
	}

	#jobRequest(id: string, payload: Buffer): void {
		const request = this.#parseJson(id, payload, "job request");
		if (!Array.isArray(request)) return;
		const execution = this.store.executions({ deviceId: id }).find((e) => !TERMINAL.has(e.status));
		if (!execution) return;
		const job = this.store.job(execution.jobId)!;
		const firmware = this.store.firmware(job.firmwareId);
		if (!firmware) return;
		const document = [execution.jobId, FOTA_TYPES.indexOf(firmware.type), firmware.size, `${this.hostname}:${this.firmwarePort}`, this.firmwarePath(firmware)];
		this.#publish(`${this.topicPrefix}${id}/jobs/rcv`, JSON.stringify(document));
	}

	#jobUpdate(id: string, payload: Buffer): void {
		const update = this.#parseJson(id, payload, "job update");
		if (!Array.isArray(update) || typeof update[0] !== "string" || typeof update[1] !== "number") return;
		const status = FOTA_STATUS[update[1]];
		if (status === undefined) return;
		const progress = typeof update[2] === "number" ? update[2] : status === "SUCCEEDED" ? 100 : 0;
		const message = typeof update[2] === "string" ? update[2] : "";
		if (this.store.updateExecution(update[0], id, status, progress, message)) {
			const execution = this.store.executions({ jobId: update[0], deviceId: id })[0];
			if (execution) this.emit("execution", execution);
		}
	}

	#serveFirmware(url: string, range: string | undefined, method: string, response: import("node:http").ServerResponse): void {
		const path = decodeURIComponent(url.split("?")[0]!.replace(/^\/+/, ""));
		const [tenant, firmwareId, filename] = path.split("/");
		const record = firmwareId ? this.store.firmware(firmwareId) : undefined;
		if (method !== "GET" && method !== "HEAD") {
			response.writeHead(405, { allow: "GET, HEAD" }).end();
			return;
		}
		if (!record || tenant !== this.store.tenant || filename !== record.filename) {
			response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
			return;
		}
		const image = readFileSync(join(this.#options.stateDirectory, "firmware", record.id));
		let start = 0;
		let end = image.length - 1;
		let status = 200;
		if (range !== undefined) {
			const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
			if (!match || (match[1] === "" && match[2] === "")) {
				response.writeHead(416, { "content-range": `bytes */${image.length}` }).end();
				return;
			}
			if (match[1] === "") start = Math.max(0, image.length - Number(match[2]));
			else {
				start = Number(match[1]);
				if (match[2] !== "") end = Math.min(end, Number(match[2]));
			}
			if (start > end || start >= image.length) {
				response.writeHead(416, { "content-range": `bytes */${image.length}` }).end();
				return;
			}
			status = 206;
		}
		const headers: Record<string, string | number> = {
			"content-type": "application/octet-stream",
			"content-length": end - start + 1,
			"accept-ranges": "bytes",
		};
		if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${image.length}`;
		response.writeHead(status, headers);
		response.end(method === "HEAD" ? undefined : image.subarray(start, end + 1));
	}
}
