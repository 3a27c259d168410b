/*
 * The nrf_cloud API (nrf_cloud.c), independent of any device: one library
 * instance per device, created with the platform it runs on (TLS sockets,
 * settings, modem, FOTA runner) and its configuration; device.ts binds one to
 * the device's own bindings. Calls return what the C functions return: 0 or a negative
 * Zephyr errno, and the nrf_cloud_connect_result codes for connect; they never
 * throw for bad arguments or bad state. Events reach the handler given to
 * init() synchronously, from the call or socket event that caused them.
 *
 * State guards follow NCS v1.7, which fixed v1.5/v1.6's permissive checks:
 * connect needs INITIALIZED, disconnect a connection, and the send calls the
 * READY state (DC_CONNECTED).
 */

import type { Codec } from "../mqtt/codec.js";
import type { SocketFactory } from "../platform/socket.js";
import { resolveClientId, type ModemIdentity } from "./client-id.js";
import {
	ConnectResult, Errno, EventType, MessageId, SENSOR_NAMES, State, TopicType, UserAssociation, type StateValue,
} from "./constants.js";
import { sensorMessage, sequenceReport, shadowSensorReport, type Endpoints } from "./codec.js";
import { resolveConfig, type NrfCloudConfig, type ResolvedConfig } from "./config.js";
import { checkFotaPlatform, type FotaPlatform } from "../fota/collaborators.js";
import { FotaJobs } from "../fota/jobs.js";
import { StateMachine, type CloudEvent, type FsmPort } from "./fsm.js";
import { packetIdForTag } from "./packet-ids.js";
import { TransportEvent, type TransportEventData, type TransportEventValue } from "./transport-events.js";
import { CloudSettings, MemorySettings, type SettingsStore } from "./settings.js";
import { CloudTransport, type SocketOptions, type TransportListener } from "./transport.js";
import { OfflineQueue, QueueTopic, type OfflineQueueStats, type QueueTopicValue } from "./offline-queue.js";
import { QueueStore } from "./queue-store.js";
import { Reconnector } from "./reconnect.js";
import { checkClock, systemClock, type Clock } from "../platform/clock.js";
import { utf8Encode } from "../platform/utf8.js";

export type { CloudEvent } from "./fsm.js";
export type { OfflineQueueStats } from "./offline-queue.js";

/** What the library needs from the device. */
export interface Platform {
	/** A TLS socket factory using the credentials of `secTag`. */
	socket(options: SocketOptions): SocketFactory;
	/** Persistent settings; without them nothing survives a restart. */
	settings?: SettingsStore;
	/** For the IMEI and internal-UUID client ID sources. */
	modem?: ModemIdentity;
	/** MQTT codec; the TypeScript one by default. */
	codec?: Codec;
	/** The download client and DFU target FOTA updates use; without them FOTA jobs are REJECTED. */
	fota?: FotaPlatform;
	/** Time and timers of the offline queue's pacing and the reconnect backoff; the host's by default. */
	clock?: Clock;
	/** Uniform in [0, 1), for the reconnect jitter; Math.random by default. */
	random?: () => number;
}

export interface InitParams {
	eventHandler: (event: CloudEvent) => void;
	/** The client ID, for the run-time source. */
	clientId?: string;
}

export interface SensorData {
	/** A Sensor value. */
	type: number;
	/** Sent as the JSON string "data" (for shadowUpdate: any JSON value). */
	data: unknown;
	/** Packet ID for the QoS 1 publish; 0 or absent picks one. */
	tag?: number;
}

export interface TxData {
	data: Uint8Array | string;
	/** TopicType.STATE (shadow update, always QoS 1) or TopicType.MESSAGE (d2c). */
	topicType: number;
	qos?: number;
}

export interface UserAssociationParams {
	/** UserAssociation.BUTTON. */
	type: number;
	/** Button inputs 1 to 4, in the order pressed. */
	sequence: readonly number[];
}

function isNonNegativeInteger(value: unknown, max: number): value is number {
	return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

export class NrfCloud {
	readonly config: ResolvedConfig;
	readonly #platform: Platform;
	readonly #settings: CloudSettings;
	readonly #fsm: StateMachine;
	readonly #fota: FotaJobs;
	#handler: ((event: CloudEvent) => void) | undefined = undefined;
	#transport: CloudTransport | undefined = undefined;
	#clientId: string | undefined = undefined;
	/** A connect is under way or a connection is open. */
	#busy = false;
	#resolveConnect: ((result: number) => void) | undefined = undefined;
	#handlerFailed = false;
	#handlerError: unknown = undefined;
	#lastError: string | undefined = undefined;
	/** Packet ID to tag of sensor_data_send publishes that carried one: their PUBACK is SENSOR_DATA_ACK. */
	readonly #sensorTags = new Map<number, number>();
	readonly #queue: OfflineQueue | undefined;
	readonly #reconnector: Reconnector | undefined;
	/** The application called disconnect(): no reconnect until its next connect(). */
	#stopped = false;
	/** This connection asked the user for an association (with reconnect, USER_ASSOCIATED then cycles it). */
	#associationAsked = false;

	constructor(platform: Platform, config?: NrfCloudConfig) {
		if (platform === null || typeof platform !== "object" || typeof platform.socket !== "function") throw new TypeError("platform must provide socket()");
		this.#platform = platform;
		this.config = resolveConfig(config);
		this.#settings = new CloudSettings(platform.settings ?? new MemorySettings(), this.config.log);
		this.#fsm = new StateMachine(this.#port(), { legacyAssociation: this.config.legacyAssociation });
		const clock = platform.clock === undefined ? systemClock : checkClock(platform.clock);
		if (platform.random !== undefined && typeof platform.random !== "function") throw new TypeError("platform.random must be a function");
		const queue = this.config.offlineQueue;
		if (queue !== undefined) {
			if (queue.persist && platform.settings === undefined) throw new TypeError("offlineQueue.persist needs platform.settings");
			const store = queue.persist ? new QueueStore(platform.settings!, this.config.log) : undefined;
			this.#queue = new OfflineQueue(queue, { publish: (topic, payload, tag, dupId) => this.#publishQueued(topic, payload, tag, dupId), log: this.config.log }, clock, store);
		}
		const reconnect = this.config.reconnect;
		if (reconnect !== undefined) this.#reconnector = new Reconnector(reconnect, clock, platform.random ?? Math.random, () => this.#reconnect());
		this.#fota = new FotaJobs({
			config: this.config,
			settings: this.#settings,
			platform: platform.fota === undefined ? undefined : checkFotaPlatform(platform.fota),
			socket: (host, port) => this.#platform.socket({ host, port, secTag: this.config.secTag, hostname: host }),
			emit: (event) => {
				this.#emit(event);
				this.#rethrow();
			},
		});
	}

	/** The state machine's state (enum nfsm_state). */
	get state(): StateValue {
		return this.#fsm.state;
	}

	get clientId(): string | undefined {
		return this.#clientId;
	}

	/** The FOTA types this device takes, for serviceInfo.fota_v2: empty without FOTA or a DFU target. */
	get fotaTypes(): string[] {
		return this.#fota.types;
	}

	/** The offline queue's figures; undefined without offlineQueue. */
	get offlineQueue(): OfflineQueueStats | undefined {
		return this.#queue?.stats;
	}

	/** Why the last call returned an error, when the code alone does not say. */
	get lastError(): string | undefined {
		return this.#lastError;
	}

	/** Socket events are waiting for process() (without the poll thread). */
	get pending(): boolean {
		return this.#transport?.pending === true;
	}

	/** The endpoints the shadow gave: topic prefix, d2c and c2d. */
	get endpoints(): Endpoints | undefined {
		return this.#transport?.endpoints;
	}

	#fail(code: number, reason: string): number {
		this.#lastError = reason;
		this.config.log(reason);
		return code;
	}

	/** nrf_cloud_init. */
	init(params: InitParams): number {
		if (this.#fsm.state !== State.IDLE) return this.#fail(-Errno.EACCES, "already initialized");
		if (params === null || typeof params !== "object" || typeof params.eventHandler !== "function")
			return this.#fail(-Errno.EINVAL, "init needs an event handler");
		const resolved = resolveClientId(this.config, this.#platform.modem, params.clientId);
		if ("errno" in resolved) return this.#fail(resolved.errno, resolved.reason);
		const id = resolved.id;
		this.#clientId = id;
		this.#handler = params.eventHandler;
		this.#transport = new CloudTransport(this.config, id, this.#settings, (options) => this.#platform.socket(options), this.#listener(), this.#platform.codec);
		this.#fota.attach(this.#transport);
		// nrf_cloud_init validates an update the previous start scheduled.
		this.#fota.startup();
		this.#queue?.load();
		this.#fsm.initialize();
		this.#lastError = undefined;
		return 0;
	}

	/**
	 * nrf_cloud_connect. With the poll thread it resolves at once and
	 * TRANSPORT_CONNECTING reports the outcome; without it, it resolves when the
	 * TLS connection is up and CONNECT is sent (or with the failure), and
	 * process() handles the rest.
	 */
	connect(): Promise<number> {
		const state = this.#fsm.state;
		if (state === State.INITIALIZED && !this.#busy) {
			this.#stopped = false;
			this.#reconnector?.start();
		}
		return this.#connect(state);
	}

	#reconnect(): void {
		if (this.#stopped || this.#fsm.state !== State.INITIALIZED || this.#busy) return;
		this.config.log("reconnecting");
		void this.#connect(this.#fsm.state);
	}

	#connect(state: StateValue): Promise<number> {
		if (state === State.IDLE) return Promise.resolve(this.#fail(ConnectResult.ERR_NOT_INITD, "not initialized"));
		if (state !== State.INITIALIZED || this.#busy) return Promise.resolve(this.#fail(ConnectResult.ERR_ALREADY_CONNECTED, "a connection is open or being made"));
		this.#busy = true;
		if (this.config.pollThread) {
			Promise.resolve().then(() => this.#pollConnect());
			return Promise.resolve(ConnectResult.SUCCESS);
		}
		return new Promise<number>((resolve) => {
			this.#resolveConnect = resolve;
			this.#transport!.connect();
		});
	}

	#pollConnect(): void {
		this.#emit({ type: EventType.TRANSPORT_CONNECTING, status: 0 });
		if (this.#busy && !this.#transport!.open) this.#transport!.connect();
		this.#rethrow();
	}

	/** nrf_cloud_disconnect: TRANSPORT_DISCONNECTED (USER_REQUEST) follows. */
	disconnect(): number {
		if (this.#fsm.state === State.IDLE) return this.#fail(-Errno.EACCES, "not initialized");
		// An explicit disconnect ends library reconnects, also one that is only waiting for its timer.
		this.#stopped = true;
		this.#reconnector?.stop();
		return this.#disconnect();
	}

	/** The library's own disconnects (oversize payload, association cycle): reconnects go on. */
	#disconnect(): number {
		if (!this.#busy || !this.#transport!.open) return this.#fail(-Errno.ENOTCONN, "not connected");
		return this.#transport!.disconnect();
	}

	/** nrf_cloud_process: handles what arrived on the socket (needed without the poll thread). */
	process(): void {
		this.#transport?.process();
		this.#rethrow();
	}

	#ready(): number {
		if (this.#fsm.state !== State.DC_CONNECTED) return this.#fail(-Errno.EACCES, "not ready: wait for the READY event");
		return 0;
	}

	/** nrf_cloud_sensor_attach: SENSOR_ATTACHED follows synchronously. */
	sensorAttach(param: { sensorType: number }): number {
		if (param === null || typeof param !== "object" || !isNonNegativeInteger(param.sensorType, SENSOR_NAMES.length - 1))
			return this.#fail(-Errno.EINVAL, "sensorType must be a Sensor value");
		const ready = this.#ready();
		if (ready !== 0) return ready;
		this.#emit({ type: EventType.SENSOR_ATTACHED, status: 0 });
		this.#rethrow();
		return 0;
	}

	#checkSensorData(param: SensorData, text: boolean): number {
		if (param === null || typeof param !== "object" || !isNonNegativeInteger(param.type, SENSOR_NAMES.length - 1))
			return this.#fail(-Errno.EINVAL, "type must be a Sensor value");
		if (text && (typeof param.data !== "string" || param.data.length === 0)) return this.#fail(-Errno.EINVAL, "data must be a non-empty string");
		if (param.tag !== undefined && !isNonNegativeInteger(param.tag, 0xFFFFFFFF)) return this.#fail(-Errno.EINVAL, "tag must be an unsigned 32-bit integer");
		return 0;
	}

	#d2c(): string | undefined {
		return this.#transport!.endpoints?.d2c;
	}

	#sendSensor(param: SensorData, qos: 0 | 1): number {
		const checked = this.#checkSensorData(param, true);
		if (checked !== 0) return checked;
		const tag = (param.tag ?? 0) & 0xFFFF;
		if (qos === 1 && this.#queue !== undefined) return this.#enqueue(QueueTopic.D2C, sensorMessage(SENSOR_NAMES[param.type]!, param.data as string), tag);
		const ready = this.#ready();
		if (ready !== 0) return ready;
		const d2c = this.#d2c();
		if (d2c === undefined) return this.#fail(-Errno.EACCES, "no d2c topic");
		const id = this.#transport!.publish(d2c, sensorMessage(SENSOR_NAMES[param.type]!, param.data as string), qos, packetIdForTag(tag));
		if (id < 0) return this.#fail(id, "publish failed");
		if (qos === 1 && tag !== 0) this.#sensorTags.set(id, tag);
		return 0;
	}

	/** nrf_cloud_sensor_data_send: QoS 1 on d2c; a non-zero tag is the packet ID and its PUBACK gives SENSOR_DATA_ACK. */
	sensorDataSend(param: SensorData): number {
		return this.#sendSensor(param, 1);
	}

	/** nrf_cloud_sensor_data_stream: QoS 0 on d2c. */
	sensorDataStream(param: SensorData): number {
		return this.#sendSensor(param, 0);
	}

	/** nrf_cloud_shadow_update: {"state":{"reported":{"<SENSOR>":data}}} on the shadow. */
	shadowUpdate(param: SensorData): number {
		const checked = this.#checkSensorData(param, false) || this.#ready();
		if (checked !== 0) return checked;
		let payload: string;
		try {
			if (param.data === undefined || typeof param.data === "function") throw new TypeError("not JSON");
			payload = shadowSensorReport(SENSOR_NAMES[param.type]!, param.data);
		}
		catch {
			return this.#fail(-Errno.EINVAL, "data must be a JSON value");
		}
		const id = this.#transport!.publish(this.#transport!.shadow.update, payload, 1, packetIdForTag((param.tag ?? 0) & 0xFFFF));
		return id < 0 ? this.#fail(id, "publish failed") : 0;
	}

	/** nrf_cloud_send: raw bytes to the shadow (QoS 1) or to d2c (QoS 0 or 1). */
	send(message: TxData): number {
		if (message === null || typeof message !== "object") return this.#fail(-Errno.EINVAL, "send needs a message");
		const data = message.data;
		if (typeof data !== "string" && !(data instanceof Uint8Array)) return this.#fail(-Errno.EINVAL, "data must be a string or a Uint8Array");
		let topic: string | undefined;
		let qos: 0 | 1 = 1;
		if (message.topicType === TopicType.STATE) topic = this.#transport?.shadow.update;
		else if (message.topicType === TopicType.MESSAGE) {
			if (message.qos !== 0 && message.qos !== 1) return this.#fail(-Errno.EINVAL, "qos must be 0 or 1");
			qos = message.qos;
			topic = this.#transport?.endpoints?.d2c;
		}
		else return this.#fail(-Errno.ENODATA, "topicType must be TopicType.STATE or TopicType.MESSAGE");
		if (qos === 1 && this.#queue !== undefined)
			return this.#enqueue(message.topicType === TopicType.STATE ? QueueTopic.STATE : QueueTopic.D2C, typeof data === "string" ? utf8Encode(data) : data, 0);
		const ready = this.#ready();
		if (ready !== 0) return ready;
		if (topic === undefined) return this.#fail(-Errno.EACCES, "no d2c topic");
		const id = this.#transport!.publish(topic, data, qos);
		return id < 0 ? this.#fail(id, "publish failed") : 0;
	}

	#enqueue(topic: QueueTopicValue, payload: Uint8Array | string, tag: number): number {
		if (this.#fsm.state === State.IDLE) return this.#fail(-Errno.EACCES, "not initialized");
		const bytes = typeof payload === "string" ? utf8Encode(payload) : payload;
		const result = this.#queue!.add(topic, bytes, tag);
		if (result === -Errno.ENOMEM) return this.#fail(result, "the offline queue is full");
		if (result === -Errno.EMSGSIZE) return this.#fail(result, "the message is larger than a stored queue record holds");
		if (result !== 0) return this.#fail(result, "the offline queue could not store the message");
		return 0;
	}

	/** The offline queue sends one of its messages (READY). */
	#publishQueued(topic: QueueTopicValue, payload: Uint8Array, tag: number, dupId: number): number {
		const transport = this.#transport;
		if (transport === undefined) return -Errno.ENOTCONN;
		const name = topic === QueueTopic.STATE ? transport.shadow.update : transport.endpoints?.d2c;
		if (name === undefined) return -Errno.EACCES;
		return dupId !== 0 ? transport.publish(name, payload, 1, dupId, true) : transport.publish(name, payload, 1, packetIdForTag(tag));
	}

	/**
	 * nrf_cloud_user_associate (input-sequence association, legacyAssociation
	 * only): answers USER_ASSOCIATION_REQUEST with the buttons the user pressed.
	 */
	userAssociate(param: UserAssociationParams): number {
		if (param === null || typeof param !== "object" || param.type !== UserAssociation.BUTTON || !Array.isArray(param.sequence)
			|| param.sequence.length === 0 || param.sequence.length > 16
			|| !param.sequence.every((p) => p === 1 || p === 2 || p === 3 || p === 4))
			return this.#fail(-Errno.EINVAL, "sequence must be 1 to 16 button inputs from 1 to 4");
		if (!this.config.legacyAssociation || !this.#fsm.sequencePending || this.#fsm.state !== State.UA_PIN_WAIT)
			return this.#fail(-Errno.EACCES, "no input sequence was asked for");
		const id = this.#transport!.publish(this.#transport!.shadow.update, sequenceReport(param.sequence), 1, MessageId.USER_ASSOCIATION_DATA);
		if (id < 0) return this.#fail(id, "publish failed");
		this.#fsm.sequenceSent();
		return 0;
	}

	/**
	 * nrf_cloud_modem_fota_completed: the application re-initialised the modem
	 * after a modem update instead of rebooting; the result is stored and reported.
	 */
	modemFotaCompleted(success: boolean): number {
		if (typeof success !== "boolean") return this.#fail(-Errno.EINVAL, "success must be a boolean");
		if (this.#fsm.state === State.IDLE) return this.#fail(-Errno.EACCES, "not initialized");
		if (!this.#fota.modemUpdateCompleted(success)) return this.#fail(-Errno.EOPNOTSUPP, "no modem update is pending");
		return 0;
	}

	#emit(event: CloudEvent): void {
		if (event.type === EventType.TRANSPORT_DISCONNECTED) this.#disconnected();
		else if (event.type === EventType.USER_ASSOCIATION_REQUEST) {
			this.#associationAsked = true;
			this.#queue?.pause();
		}
		try {
			this.#handler?.(event);
		}
		catch (error) {
			if (!this.#handlerFailed) {
				this.#handlerFailed = true;
				this.#handlerError = error;
			}
		}
		if (event.type === EventType.READY) this.#readyReached();
		else if (event.type === EventType.USER_ASSOCIATED && this.#reconnector !== undefined && this.#associationAsked) {
			// nrf_cloud.rst: the account's permissions apply from the next connection, so connect again now.
			this.#reconnector.cycle();
			this.#disconnect();
		}
		else if (event.type === EventType.TRANSPORT_DISCONNECTED && this.#reconnector !== undefined && !this.#stopped && !this.#busy) this.#reconnector.lost();
	}

	#readyReached(): void {
		// The input-sequence association ends with the library cycling the connection.
		if (this.#fsm.takeReconnectRequest()) {
			this.#reconnector?.cycle();
			this.#disconnect();
			return;
		}
		this.#reconnector?.ready();
		this.#queue?.start(this.#transport!.sessionValid);
	}

	#disconnected(): void {
		this.#busy = false;
		this.#associationAsked = false;
		this.#sensorTags.clear();
		this.#queue?.connectionLost();
		this.#fota.connectionEnded();
		this.#transport!.clearEndpoints();
	}

	/** An exception from the event handler surfaces once the library's own work is done. */
	#rethrow(): void {
		if (!this.#handlerFailed) return;
		const error = this.#handlerError;
		this.#handlerFailed = false;
		this.#handlerError = undefined;
		throw error;
	}

	#port(): FsmPort {
		return {
			subscribeShadow: () => this.#transport!.subscribeShadow(),
			requestShadow: () => this.#transport!.requestShadow(),
			report: (payload, id) => {
				const sent = this.#transport!.report(payload, id);
				if (sent && id === MessageId.PAIRING_STATUS_REPORT) this.#transport!.sendDataAhead();
				return sent;
			},
			subscribeData: () => this.#transport!.subscribeData(),
			unsubscribeData: () => this.#transport!.unsubscribeData(),
			setEndpoints: (endpoints) => {
				this.#transport!.setEndpoints(endpoints);
				this.#fota.endpointsKnown();
			},
			sessionValid: () => this.#transport!.sessionValid,
			keepalive: () => this.config.keepalive,
			emit: (event) => {
				if (event.type === EventType.USER_ASSOCIATION_REQUEST) this.#transport!.forgetPairing();
				this.#emit(event);
			},
			log: (line) => this.config.log(line),
		};
	}

	#listener(): TransportListener {
		return {
			event: (type: TransportEventValue, data: TransportEventData) => {
				const queued = type === TransportEvent.CC_TX_DATA_ACK ? this.#queue?.acknowledged(data.id!) : undefined;
				if (queued !== undefined && queued.tag !== 0) this.#emit({ type: EventType.SENSOR_DATA_ACK, status: 0, data: new Uint8Array([queued.tag & 0xFF, queued.tag >> 8]) });
				const tag = type === TransportEvent.CC_TX_DATA_ACK && queued === undefined ? this.#sensorTags.get(data.id!) : undefined;
				if (tag !== undefined) {
					this.#sensorTags.delete(data.id!);
					// The event carries the application's tag (uint16, little-endian), whichever id went on the wire.
					this.#emit({ type: EventType.SENSOR_DATA_ACK, status: 0, data: new Uint8Array([tag & 0xFF, tag >> 8]) });
				}
				if (!this.#fsm.handle(type, data)) this.config.log(`state ${this.#fsm.state} drops transport event ${type}`);
				this.#rethrow();
			},
			connectOutcome: (result, reason) => {
				const resolve = this.#resolveConnect;
				this.#resolveConnect = undefined;
				if (result !== ConnectResult.SUCCESS) {
					this.#busy = false;
					this.#fail(result, `connect failed: ${reason ?? "unknown reason"}`);
					if (this.config.pollThread) this.#emit({ type: EventType.TRANSPORT_CONNECTING, status: result });
					if (this.#reconnector !== undefined && !this.#stopped) this.#reconnector.lost();
				}
				resolve?.(result);
				this.#rethrow();
			},
			fotaMessage: (payload, ble) => this.#fota.message(payload, ble),
			fotaAck: (id) => this.#fota.acknowledged(id),
			fotaSubscribed: () => this.#fota.subscribed(),
			oversize: (topic, size) => {
				this.config.log(`a ${size}-byte message on ${topic} exceeds the ${this.config.payloadBufferLength}-byte payload buffer; disconnecting`);
				this.#disconnect();
			},
			packetTooLarge: (reason) => {
				this.#lastError = reason;
				this.#emit({ type: EventType.ERROR, status: -Errno.EMSGSIZE });
			},
		};
	}
}
