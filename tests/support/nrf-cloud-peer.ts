/*
 * A scripted nRF Cloud for unit tests of the library under Node: an MQTT peer
 * that answers like AWS IoT and nRF Cloud do (CONNACK, SUBACK, PUBACK, the
 * trimmed shadow on a GET) as far as its policy says, records every packet the
 * device sends, and lets a test publish deltas, c2d messages and jobs.
 */

import { PacketType, type Packet, type PublishPacket } from "../../modules/mqtt/packet.js";
import { MemorySettings } from "../../modules/nrf-cloud/settings.js";
import { NrfCloud, type CloudEvent, type Platform } from "../../modules/nrf-cloud/api.js";
import type { NrfCloudConfig } from "../../modules/nrf-cloud/config.js";
import { nodeSocket } from "../../hosts/node/socket.js";
import { eventName } from "../../modules/nrf-cloud/constants.js";
import { ScriptedBroker, type PeerConnection } from "./scripted-broker.js";
import { until } from "./until.js";
import { V1_CLIENT_ID, V1_IMEI, V3_PREFIX, V3_TENANT } from "./vectors.js";

/** The V1 device, in V3's tenant. */
export const IMEI = V1_IMEI;
export const DEVICE_ID = V1_CLIENT_ID;
export const TENANT = V3_TENANT;
export const PREFIX = V3_PREFIX;
export const D2C = `${PREFIX}m/d/${DEVICE_ID}/d2c`;
export const C2D = `${PREFIX}m/d/${DEVICE_ID}/c2d`;

export function pairedDesired(id = DEVICE_ID): object {
	return { pairing: { state: "paired", topics: { d2c: `${PREFIX}m/d/${id}/d2c`, c2d: `${PREFIX}m/d/${id}/c2d` } }, nrfcloud_mqtt_topic_prefix: PREFIX };
}

export const ASSOCIATED_SHADOW = { desired: pairedDesired(), reported: { connection: { status: "connected" } } };
export const UNASSOCIATED_SHADOW = { desired: { pairing: { state: "not_associated" } } };

export interface PeerPolicy {
	/** "jitp": read CONNECT and close without CONNACK. */
	connack: { returnCode: number; sessionPresent: boolean } | "jitp";
	/** The trimmed document sent on <id>/shadow/get/accepted after a GET; a string is sent as is. */
	shadow: unknown;
	ackPublishes: boolean;
	/**
	 * Answer in flights: collect the answers until the device has been quiet for
	 * 50 ms, then send them at once, CONNACK first and the rest in reverse order
	 * (answers may overtake each other on a real broker).
	 */
	batch?: boolean;
	/**
	 * A GET's answer without a subscription to it is delivered after all, late: as a
	 * broker whose shadow service answered after the SUBSCRIBE came, here just before
	 * the PUBACK of the device's next shadow update.
	 */
	answerUnsubscribedGet?: boolean;
}

export class CloudPeer {
	readonly broker: ScriptedBroker;
	policy: PeerPolicy = { connack: { returnCode: 0, sessionPresent: false }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
	#nextId = 100;
	/** Flights of answers sent in batch mode. */
	flights = 0;
	readonly #pending: Array<{ connection: PeerConnection; packet: Packet }> = [];
	#flushTimer: ReturnType<typeof setTimeout> | undefined = undefined;
	/**
	 * What each connection is subscribed to, as a broker knows it; undefined for a
	 * connection whose CONNACK said the session was present (its subscriptions are kept).
	 */
	readonly #subscriptions = new WeakMap<PeerConnection, Set<string> | undefined>();
	/** Answers held back by answerUnsubscribedGet. */
	readonly #lateAnswers = new WeakMap<PeerConnection, { topic: string; payload: string }>();

	private constructor(broker: ScriptedBroker) {
		this.broker = broker;
	}

	static async start(): Promise<CloudPeer> {
		const broker = await ScriptedBroker.start();
		const peer = new CloudPeer(broker);
		// Answer each packet as it is decoded, before any test code sees the connection.
		broker.onConnection = (connection) => { connection.onPacket = (packet) => peer.#answer(connection, packet); };
		return peer;
	}

	get port(): number {
		return this.broker.port;
	}

	/** The n-th connection; every connection is served by the policy. */
	connection(n: number): Promise<PeerConnection> {
		return this.broker.connection(n);
	}

	/** Every packet sent to a device, with how many of its packets had arrived by then (to check what waited for what). */
	readonly sent: Array<{ connection: PeerConnection; packet: Packet; afterReceived: number }> = [];

	#write(connection: PeerConnection, packet: Packet): void {
		this.sent.push({ connection, packet, afterReceived: connection.received.length });
		connection.send(packet);
	}

	#send(connection: PeerConnection, packet: Packet): void {
		if (!this.policy.batch) {
			this.#write(connection, packet);
			return;
		}
		this.#pending.push({ connection, packet });
		this.#armFlush();
	}

	#armFlush(): void {
		if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
		this.#flushTimer = setTimeout(() => this.#flush(), 50);
	}

	#flush(): void {
		this.#flushTimer = undefined;
		if (this.#pending.length === 0) return;
		const batch = this.#pending.splice(0);
		const first = batch.filter((p) => p.packet.type === PacketType.CONNACK);
		const rest = batch.filter((p) => p.packet.type !== PacketType.CONNACK).reverse();
		for (const { connection, packet } of [...first, ...rest]) this.#write(connection, packet);
		this.flights++;
	}

	#answer(connection: PeerConnection, packet: Packet): void {
		if (this.policy.batch && this.#pending.length > 0) this.#armFlush();
		switch (packet.type) {
			case PacketType.CONNECT: {
				const connack = this.policy.connack;
				if (connack === "jitp") connection.close();
				else {
					this.#subscriptions.set(connection, connack.sessionPresent ? undefined : new Set());
					this.#send(connection, { type: PacketType.CONNACK, returnCode: connack.returnCode, sessionPresent: connack.sessionPresent });
				}
				return;
			}
			case PacketType.SUBSCRIBE:
				for (const { topic } of packet.subscriptions) this.#subscriptions.get(connection)?.add(topic);
				this.#send(connection, { type: PacketType.SUBACK, packetId: packet.packetId, returnCodes: packet.subscriptions.map(() => 1) });
				return;
			case PacketType.UNSUBSCRIBE:
				this.#send(connection, { type: PacketType.UNSUBACK, packetId: packet.packetId });
				return;
			case PacketType.PUBLISH: {
				const late = this.#lateAnswers.get(connection);
				if (late !== undefined && packet.topic.endsWith("/shadow/update")) {
					this.#lateAnswers.delete(connection);
					this.publish(connection, late.topic, late.payload);
				}
				if (packet.qos === 1 && this.policy.ackPublishes) this.#send(connection, { type: PacketType.PUBACK, packetId: packet.packetId });
				if (packet.topic === `$aws/things/${topicDevice(packet.topic)}/shadow/get` && this.policy.shadow !== undefined) {
					const shadow = this.policy.shadow;
					const accepted = `${topicDevice(packet.topic)}/shadow/get/accepted`;
					// A broker delivers the answer only on a subscription: none, none delivered.
					const subscribed = this.#subscriptions.get(connection);
					const payload = typeof shadow === "string" ? shadow : JSON.stringify(shadow);
					if (subscribed === undefined || subscribed.has(accepted)) this.publish(connection, accepted, payload);
					else if (this.policy.answerUnsubscribedGet) this.#lateAnswers.set(connection, { topic: accepted, payload });
				}
				return;
			}
			case PacketType.PINGREQ:
				this.#send(connection, { type: PacketType.PINGRESP });
				return;
			default:
		}
	}

	/** Publishes to the device (QoS 1 by default); returns the packet id (0 for QoS 0). */
	publish(connection: PeerConnection, topic: string, payload: string | Uint8Array, qos: 0 | 1 = 1): number {
		const id = qos === 1 ? this.#nextId++ : 0;
		this.#send(connection, { type: PacketType.PUBLISH, topic, payload: typeof payload === "string" ? Buffer.from(payload) : payload, qos, retain: false, dup: false, packetId: id });
		return id;
	}

	/** No answer is waiting to be sent (in batch mode: the last flight is out). */
	get idle(): boolean {
		return this.#pending.length === 0 && this.#flushTimer === undefined;
	}

	async stop(): Promise<void> {
		if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
		await this.broker.stop();
	}
}

function topicDevice(topic: string): string {
	const match = /^\$aws\/things\/([^/]+)\//.exec(topic);
	return match ? match[1]! : "";
}

/** The device's publishes on a connection, in order. */
export function publishes(connection: PeerConnection): PublishPacket[] {
	return connection.received.filter((p): p is PublishPacket => p.type === PacketType.PUBLISH);
}

export function text(bytes: Uint8Array): string {
	return Buffer.from(bytes).toString("utf8");
}

/** A library instance talking to the peer over plain TCP, with its events recorded. */
export class DeviceUnderTest {
	readonly library: NrfCloud;
	readonly events: CloudEvent[] = [];
	readonly settings: MemorySettings;
	onEvent: ((event: CloudEvent) => void) | undefined = undefined;

	constructor(peer: CloudPeer, config: NrfCloudConfig = {}, platform: Partial<Platform> = {}) {
		this.settings = (platform.settings as MemorySettings | undefined) ?? new MemorySettings();
		this.library = new NrfCloud({
			socket: () => nodeSocket({ host: "127.0.0.1", port: peer.port }),
			settings: this.settings,
			modem: { imei: () => IMEI, deviceUuid: () => "5a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" },
			...platform,
		}, { pollThread: true, ...config });
	}

	init(clientId?: string): number {
		return this.library.init({ clientId, eventHandler: (event) => {
			this.events.push(event);
			this.onEvent?.(event);
		} });
	}

	/** Event type numbers so far. */
	types(): number[] {
		return this.events.map((e) => e.type);
	}

	/** Waits until an event of `type` has been seen `count` times. */
	waitFor(type: number, count = 1, ms = 5000): Promise<CloudEvent> {
		return until(() => this.events.filter((e) => e.type === type)[count - 1], {
			what: `event ${eventName(type)} (#${count})`, timeout: ms, detail: () => `have ${this.types().map(eventName).join(", ")}`,
		});
	}
}
