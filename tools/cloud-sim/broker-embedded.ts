/*
 * The embedded broker: aedes behind TLS with required client certificates, which
 * can do what AWS IoT does for nRF Cloud. It asks the cloud about every CONNECT
 * (JITP), enforces the per-device policy on each PUBLISH and SUBSCRIBE, and
 * reports connections. The connect gate keeps pipelined packets behind the CONNACK.
 * Devices resume their TLS sessions (tls-sessions.ts); the log says for each
 * accepted connection whether its handshake was a resumed one.
 * A device message the cloud keeps is acknowledged only after its commit.
 * Such a message, a QoS 1 PUBLISH of an MQTT 3.1.1 connection, is taken
 * straight from the connection (#takeKept) instead of through aedes's packet
 * parser and handlers: it is checked against the same policy and limits, and
 * whatever that path does not take goes through aedes as before.
 */

import { Aedes, type AedesPublishPacket, type Client } from "aedes";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import type { Broker, BrokerAbilities, BrokerEvents, BrokerOptions } from "./broker.js";
import { ConnectGate } from "./connect-gate.js";
import { readQos1Publish, topicLevels } from "./publish-frame.js";
import { listenOnAll, type Listening } from "../lib/listen.js";
import { devicePolicy, type DevicePolicy } from "./policy.js";
import { effectiveKeepalive, PublishThrottle } from "./limits.js";
import { TlsSessions } from "./tls-sessions.js";

/**
 * Marks a publish the cloud has kept before it was acknowledged: no "publish"
 * event for it. A property of the packet, not a WeakSet of packets, which
 * costs the collector an ephemeron for every message.
 */
const KEPT = Symbol("kept by the cloud");
type KeptMark = { [KEPT]?: true };

/** Topic levels aedes accepts in a PUBLISH (its default, set here so that #takeKept checks the same). */
const MAX_TOPIC_LEVELS = 100;

interface Session {
	deviceId: string;
	policy: DevicePolicy;
	/** Seconds, as the broker applies it (limits.ts). */
	keepalive: number;
}

export class EmbeddedBroker extends EventEmitter<BrokerEvents> implements Broker {
	readonly abilities: BrokerAbilities = {
		admitsConnections: true,
		reportsConnections: true,
		refusesForbiddenSubscriptions: true,
		disconnectsForbiddenPublishers: true,
		closesConnections: true,
		acknowledgesKeptMessages: true,
	};

	readonly #options: BrokerOptions;
	#aedes!: Aedes;
	#listening!: Listening<tls.Server>;
	readonly #sessions = new WeakMap<Client, Session>();
	/** The current connection of each device. */
	readonly #clients = new Map<string, Client>();
	readonly #tlsSessions = new TlsSessions();

	constructor(options: BrokerOptions) {
		super();
		this.#options = options;
	}

	get port(): number {
		return this.#listening.port;
	}

	async start(): Promise<void> {
		const log = this.#options.log;
		const limits = this.#options.limits;
		// keepaliveLimit 0: #preConnect brings the keepalive into the service's range instead of refusing it
		this.#aedes = await Aedes.createBroker({ heartbeatInterval: 3600000, keepaliveLimit: 0, drainTimeout: 30000, maxTopicLevels: MAX_TOPIC_LEVELS });
		this.#aedes.preConnect = (client, packet, callback) => {
			packet.keepalive = effectiveKeepalive(packet.keepalive ?? 0, limits);
			this.#preConnect(client, packet.clientId, packet.protocolVersion ?? 4, packet.keepalive, callback);
		};
		this.#aedes.authorizePublish = (client, packet, callback) => {
			const session = client ? this.#sessions.get(client) : undefined;
			if (!session || !session.policy.canPublish(packet.topic)) {
				log(`policy: ${client?.id ?? "?"} may not publish to ${packet.topic}; disconnecting`);
				callback(new Error(`not authorized to publish to ${packet.topic}`));
				return;
			}
			if (!this.#withinPayloadLimit(packet.payload.length)) {
				log(`limits: ${session.deviceId} published ${packet.payload.length} bytes, over ${limits.maxPayload}; disconnecting`);
				callback(new Error(`payload of ${packet.payload.length} bytes is over the limit`));
				return;
			}
			// aedes sends the PUBACK when this callback returns: a message the cloud keeps waits for its commit
			const deviceId = session.deviceId;
			const kept = this.#options.keep(deviceId, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), (error) => {
				if (!error) {
					callback(null);
					return;
				}
				log(`store: ${deviceId}'s message on ${packet.topic} was not committed (${String(error)}); disconnecting without PUBACK`);
				callback(error);
			});
			if (kept) (packet as KeptMark)[KEPT] = true;
			else callback(null);
		};
		// A device's d2c message goes to the cloud's store and nowhere else: no policy lets anyone subscribe
		// to a d2c topic (policy.ts), so once it is kept and acknowledged, aedes's delivery (retained store,
		// offline queues, subscriptions, two topic matches per message) would find no one and is skipped.
		// (aedes's own handlers call publish with the publishing client between the packet and the callback)
		const deliver = this.#aedes.publish.bind(this.#aedes) as unknown as (packet: AedesPublishPacket, client: Client | null, done: (error?: Error) => void) => void;
		this.#aedes.publish = ((packet: AedesPublishPacket, client: Client | null | ((error?: Error) => void), done?: (error?: Error) => void) => {
			if (typeof client === "function") {
				deliver(packet, null, client);
				return;
			}
			if ((packet as KeptMark)[KEPT] && packet.topic.endsWith("/d2c")) {
				done?.();
				return;
			}
			deliver(packet, client, done ?? (() => undefined));
		}) as unknown as Aedes["publish"];
		this.#aedes.authorizeSubscribe = (client, subscription, callback) => {
			const session = this.#sessions.get(client);
			if (!session || !session.policy.canSubscribe(subscription.topic)) {
				log(`policy: ${client.id} may not subscribe to ${subscription.topic}`);
				callback(null, null);
				return;
			}
			callback(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
		};
		this.#aedes.on("client", (client) => this.#connected(client));
		this.#aedes.on("clientDisconnect", (client) => this.#disconnected(client));
		this.#aedes.on("publish", (packet, client) => {
			const session = client ? this.#sessions.get(client) : undefined;
			if (session && !(packet as KeptMark)[KEPT]) this.emit("publish", session.deviceId, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
		});
		const pki = this.#options.pkiDirectory;
		const credentials = {
			key: readFileSync(join(pki, "server.key")),
			cert: readFileSync(join(pki, "server.pem")),
			ca: readFileSync(join(pki, "device-ca.pem")),
		};
		this.#listening = await listenOnAll(() => {
			const server = tls.createServer({ ...credentials, ...this.#tlsSessions.serverOptions(), requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2" },
				(socket) => this.#aedes.handle(new ConnectGate(socket, limits.publishesPerSecond ? new PublishThrottle(limits) : undefined, (closing) => {
					log(`limits: ${socket.getPeerCertificate()?.subject?.CN ?? "?"} publishes more than ${limits.publishesPerSecond}/s: ${closing ? "disconnecting" : "discarded"}`);
				})));
			server.on("tlsClientError", () => undefined);
			this.#tlsSessions.attach(server);
			return server;
		}, this.#options.addresses, this.#options.port);
	}

	async stop(): Promise<void> {
		for (const client of this.#clients.values()) client.close();
		await this.#listening.close();
		await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
	}

	publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): void {
		this.#aedes.publish({ cmd: "publish", topic, payload: typeof payload === "string" ? Buffer.from(payload) : payload, qos, retain: false, dup: false }, () => undefined);
	}

	policyChanged(): void {
		// Sessions keep the policy they connected with; the next CONNECT reads the new one.
	}

	policyApplied(): Promise<void> {
		// Policies are read at each CONNECT and publish: a change is in force at once.
		return Promise.resolve();
	}

	disconnect(deviceId: string): void {
		this.#clients.get(deviceId)?.close();
	}

	isConnected(deviceId: string): boolean {
		return this.#clients.has(deviceId);
	}

	#preConnect(client: Client, clientId: string, protocolVersion: number, keepalive: number, done: (error: Error | null, success: boolean) => void): void {
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
			this.#options.log(`connect: client id ${clientId} is not the certificate's ${commonName}; closing`);
			callback(null, false);
			return;
		}
		if (!this.#options.admit(commonName, certificate.fingerprint256)) {
			callback(null, false);
			return;
		}
		this.#options.log(`connect: ${commonName}, TLS ${socket.isSessionReused() ? "session resumed" : "full handshake"}`);
		const prefix = this.#options.isAssociated(commonName) ? this.#options.topicPrefix : null;
		const session: Session = { deviceId: commonName, policy: devicePolicy(commonName, prefix), keepalive };
		this.#sessions.set(client, session);
		// the PUBLISH layout read there is MQTT 3.1.1's (MQTT 5 adds properties)
		if (socket instanceof ConnectGate && protocolVersion === 4) socket.takePublish = (frame) => this.#takeKept(client, session, socket, frame);
		callback(null, true);
	}

	#withinPayloadLimit(length: number): boolean {
		return length <= this.#options.limits.maxPayload;
	}

	/**
	 * Takes a QoS 1 PUBLISH that the cloud keeps, straight from the connection,
	 * and acknowledges it once it is committed. It takes only what aedes would
	 * pass to the cloud (a valid topic the device's policy allows, a payload
	 * within the limit, a topic the cloud keeps): anything else goes on to aedes,
	 * whose handlers refuse it and disconnect as before.
	 */
	#takeKept(client: Client, session: Session, gate: ConnectGate, frame: Buffer): boolean {
		const publish = readQos1Publish(frame);
		if (!publish) return false;
		const { topic, packetId, payload } = publish;
		if (!session.policy.canPublish(topic) || !this.#withinPayloadLimit(payload.length)) return false;
		if (topic.length >= MAX_TOPIC_LEVELS && topicLevels(topic) > MAX_TOPIC_LEVELS) return false;
		const kept = this.#options.keep(session.deviceId, topic, payload, (error) => {
			if (!error) {
				gate.acknowledge(packetId);
				return;
			}
			this.#options.log(`store: ${session.deviceId}'s message on ${topic} was not committed (${String(error)}); disconnecting without PUBACK`);
			client.close();
		});
		if (!kept) return false;
		// aedes refreshes a connection's keepalive timer on each packet it handles; this one it never sees
		const timers = client as unknown as { _keepaliveInterval: number; _keepaliveTimer: NodeJS.Timeout | null };
		if (timers._keepaliveInterval > 0) timers._keepaliveTimer?.refresh();
		return true;
	}

	#connected(client: Client): void {
		const session = this.#sessions.get(client);
		if (!session) return;
		this.#clients.get(session.deviceId)?.close();
		this.#clients.set(session.deviceId, client);
		this.emit("connect", session.deviceId, session.keepalive);
	}

	#disconnected(client: Client): void {
		const session = this.#sessions.get(client);
		if (!session || this.#clients.get(session.deviceId) !== client) return;
		// aedes marks a client that ended with a DISCONNECT packet (its will is not sent then).
		const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
		this.#options.log(`presence: ${session.deviceId} disconnected (${clean ? "DISCONNECT" : "connection closed without DISCONNECT"})`);
		this.#clients.delete(session.deviceId);
		this.emit("disconnect", session.deviceId);
	}
}
