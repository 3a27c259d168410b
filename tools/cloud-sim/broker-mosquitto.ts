/*
 * Debian's Mosquitto as the device-facing broker. The per-device policy becomes an
 * ACL file, rewritten and reloaded when an association changes; the cloud's
 * services reach the devices as one privileged MQTT client that subscribes to
 * every topic a device may publish to. Mosquitto does not let that client see
 * CONNECTs, refuse them or close other connections, so those abilities are absent.
 */

import { EventEmitter } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nodeSocket } from "../../hosts/node/socket.js";
import { MqttClient } from "../../modules/mqtt/client.js";
import { startTlsMosquitto, type Mosquitto } from "../lib/mosquitto.js";
import { issue } from "../lib/pki.js";
import type { Broker, BrokerAbilities, BrokerEvents, BrokerOptions } from "./broker.js";
import { policyTopics, publishingDevice } from "./policy.js";

export class MosquittoBroker extends EventEmitter<BrokerEvents> implements Broker {
	/** Client ID and certificate CN of the services' connection; the ACL lets it read and write everything. */
	static readonly SERVICES_ID = "nrfcloud-services";

	readonly abilities: BrokerAbilities = {
		admitsConnections: false,
		reportsConnections: false,
		refusesForbiddenSubscriptions: false,
		disconnectsForbiddenPublishers: false,
		closesConnections: false,
		acknowledgesKeptMessages: false,
	};

	readonly #options: BrokerOptions;
	#mosquitto: Mosquitto | undefined = undefined;
	#services: MqttClient | undefined = undefined;
	#applied: Promise<void> = Promise.resolve();

	constructor(options: BrokerOptions) {
		super();
		this.#options = options;
	}

	get #aclFile(): string {
		return join(this.#options.stateDirectory, "mosquitto.acl");
	}

	get port(): number {
		if (!this.#mosquitto) throw new Error("Mosquitto has not started");
		return this.#mosquitto.port;
	}

	async start(): Promise<void> {
		const { pkiDirectory: pki, stateDirectory } = this.#options;
		const id = MosquittoBroker.SERVICES_ID;
		if (!existsSync(join(pki, `${id}.pem`)))
			issue(pki, id, `/CN=${id}`, "device-ca", "extendedKeyUsage=clientAuth\n", 3650);
		this.#writeAcl();
		this.#mosquitto = await startTlsMosquitto(stateDirectory,
			{ ca: join(pki, "device-ca.pem"), cert: join(pki, "server.pem"), key: join(pki, "server.key") },
			{ port: this.#options.port, addresses: this.#options.addresses, listenerExtra: ["tls_version tlsv1.2"], extra: [`acl_file ${this.#aclFile}`] });
		await this.#connectServices(this.#mosquitto);
	}

	async stop(): Promise<void> {
		const services = this.#services;
		this.#services = undefined;
		services?.close();
		await this.#mosquitto?.stop();
	}

	publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): void {
		this.#services?.publish(topic, typeof payload === "string" ? payload : new Uint8Array(payload), { qos });
	}

	policyChanged(): void {
		const mosquitto = this.#mosquitto;
		if (!mosquitto) return;
		this.#writeAcl();
		const reloaded = mosquitto.reload();
		// A failed reload is logged here and reported to whoever waits for it in policyApplied().
		reloaded.catch((error: unknown) => this.#options.log(`ACL reload: ${error instanceof Error ? error.message : String(error)}`));
		this.#applied = reloaded;
	}

	/** Rejects when Mosquitto's log never showed the last reload. */
	policyApplied(): Promise<void> {
		return this.#applied;
	}

	disconnect(): void {
		// The services client has no say over other clients' connections.
	}

	isConnected(): boolean {
		return false;
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
			`user ${MosquittoBroker.SERVICES_ID}`,
			"topic readwrite #",
			"topic readwrite $aws/#",
		];
		const prefix = this.#options.topicPrefix;
		for (const id of this.#options.associatedDevices()) {
			const unassociated = policyTopics(id, null);
			const associated = policyTopics(id, prefix);
			lines.push("", `user ${id}`,
				...associated.publish.filter((t) => !unassociated.publish.includes(t)).map((topic) => `topic write ${topic}`),
				...associated.subscribe.filter((f) => !unassociated.subscribe.includes(f)).map((filter) => `topic read ${filter}`),
				// an ACL cannot leave c2d out of a wildcard, so the message rule narrows to d2c here
				`topic write ${associated.messagePrefix}d2c`);
		}
		writeFileSync(this.#aclFile, `${lines.join("\n")}\n`);
	}

	/** Connects the services client and subscribes it to what devices may publish; resolves on the SUBACK. */
	#connectServices(mosquitto: Mosquitto): Promise<void> {
		const pki = this.#options.pkiDirectory;
		const id = MosquittoBroker.SERVICES_ID;
		const everyDevice = policyTopics("+", this.#options.topicPrefix);
		const filters = [...everyDevice.publish, `${everyDevice.messagePrefix}#`];
		return new Promise<void>((resolve, reject) => {
			const services: MqttClient = new MqttClient({
				clientId: id,
				keepalive: 60,
				maxInflight: 1024,
				// The cloud's own connection, not a device's: a burst to a whole fleet may wait for the socket.
				maxQueuedBytes: 1 << 28, maxQueuedFrames: 1 << 20,
				onConnect: () => services.subscribe(filters.map((topic) => ({ topic, qos: 1 as const }))),
				onSubscribe: () => resolve(),
				onMessage: (message) => this.#heard(message.topic, Buffer.from(message.payload)),
				onClose: (error) => {
					reject(error ?? new Error("the services connection closed"));
					if (this.#services === services) this.#options.log(`services: connection to Mosquitto ended: ${String(error)}`);
				},
			});
			this.#services = services;
			services.connect(nodeSocket({
				host: mosquitto.addresses[0]!, port: mosquitto.port,
				tls: {
					ca: readFileSync(join(pki, "server-ca.pem")),
					cert: readFileSync(join(pki, `${id}.pem`)),
					key: readFileSync(join(pki, `${id}.key`)),
					servername: this.#options.hostname,
				},
			}));
		});
	}

	/** A message the services client received; the ACL bound the topic to the sender's CN, so the topic names the device. */
	#heard(topic: string, payload: Buffer): void {
		// the message filter also returns the cloud's own cloud-to-device messages
		if (topic.endsWith("/c2d")) return;
		const id = publishingDevice(topic, this.#options.topicPrefix);
		if (!id || id === MosquittoBroker.SERVICES_ID) return;
		this.emit("publish", id, topic, payload);
	}
}
