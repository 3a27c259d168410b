/*
 * The device-facing MQTT broker as the cloud's services see it. Two brokers stand
 * behind it: the embedded one (aedes, broker-embedded.ts), which behaves as AWS IoT
 * does, and Debian's Mosquitto (broker-mosquitto.ts), which enforces the policy
 * with an ACL file and lets the services in as one privileged client. What each
 * can do differs; `abilities` says it, and the cloud wires its services after it.
 */

import type { EventEmitter } from "node:events";
import type { BrokerLimits } from "./limits.js";

export interface BrokerAbilities {
	/**
	 * The broker sees every CONNECT with its client certificate and asks `admit`
	 * (BrokerOptions): JITP registers a new device and refuses that first connection.
	 * Mosquitto cannot ask, so there a device registers with its first message.
	 */
	readonly admitsConnections: boolean;
	/**
	 * "connect" and "disconnect" events arrive, so the shadow's connection status and
	 * isConnected follow the device. Mosquitto tells its clients nothing of others.
	 */
	readonly reportsConnections: boolean;
	/**
	 * A SUBSCRIBE the policy forbids is answered with the failure code 0x80, as AWS IoT
	 * does. Mosquitto grants it and then delivers nothing on it.
	 */
	readonly refusesForbiddenSubscriptions: boolean;
	/**
	 * A PUBLISH the policy forbids closes the connection, as AWS IoT does. Mosquitto
	 * drops the message and keeps the connection.
	 */
	readonly disconnectsForbiddenPublishers: boolean;
	/** disconnect(deviceId) closes a device's connection; Mosquitto's services client cannot. */
	readonly closesConnections: boolean;
	/**
	 * A device's message is acknowledged (PUBACK) only once the cloud has committed it
	 * (BrokerOptions.keep). Mosquitto acknowledges on its own, before the cloud hears it.
	 */
	readonly acknowledgesKeptMessages: boolean;
}

export interface BrokerEvents {
	/** A device's connection was accepted; `keepalive` in seconds, null when unknown. */
	connect: [deviceId: string, keepalive: number | null];
	/** The device's current connection ended (not one it replaced). */
	disconnect: [deviceId: string];
	/** A device published a message its policy allows. */
	publish: [deviceId: string, topic: string, payload: Buffer];
}

/** What the cloud tells a broker it creates. */
export interface BrokerOptions {
	stateDirectory: string;
	pkiDirectory: string;
	/** Host name in the server certificate, checked by the clients the broker makes. */
	hostname: string;
	/** Port for every address; 0 lets the first bind choose it. */
	port: number;
	/** Addresses to listen on, all on one port. */
	addresses: string[];
	/** The topic prefix of the tenant, `<stage>/<tenant>/`. */
	topicPrefix: string;
	/** What a device connection may do (the embedded broker enforces them; Mosquitto has its own). */
	limits: BrokerLimits;
	/** Whether the device's policy includes the tenant's topics, i.e. it is associated. */
	isAssociated(deviceId: string): boolean;
	/** Every associated device, for a broker that writes all policies at once. */
	associatedDevices(): string[];
	/**
	 * Asked on every CONNECT whose certificate CN is its client ID (when
	 * admitsConnections): whether to accept it. The certificate's SHA-256 fingerprint
	 * lets the cloud tell the registered certificate from another one.
	 */
	admit(deviceId: string, fingerprint: string): boolean;
	/**
	 * Asked (when acknowledgesKeptMessages) about every PUBLISH a device's policy
	 * allows, before it is acknowledged: true means the cloud keeps the message and
	 * calls `done` once it is committed (or with the error when it could not be),
	 * and the broker acknowledges it only then (and emits no "publish" event for
	 * it); false leaves the message to the "publish" event and `done` uncalled.
	 */
	keep(deviceId: string, topic: string, payload: Buffer, done: (error?: Error) => void): boolean;
	log(line: string): void;
}

export interface Broker extends EventEmitter<BrokerEvents> {
	readonly abilities: BrokerAbilities;
	/** The MQTT port, once started. */
	readonly port: number;
	start(): Promise<void>;
	stop(): Promise<void>;
	/** Publishes to the devices subscribed to `topic`. */
	publish(topic: string, payload: string | Buffer, qos?: 0 | 1): void;
	/**
	 * A device's association changed: the policy of its next connection follows the
	 * new tenant, as AWS IoT attaches the broader policy from then on.
	 */
	policyChanged(deviceId: string): void;
	/** Resolves once every policy change so far is in force for what devices send next. */
	policyApplied(): Promise<void>;
	/** Closes the device's connection where the broker can (abilities.closesConnections). */
	disconnect(deviceId: string): void;
	/** Whether the device has a connection now; always false where the broker does not report connections. */
	isConnected(deviceId: string): boolean;
}
