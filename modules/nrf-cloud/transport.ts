/*
 * The nRF Cloud transport (nrf_cloud_transport.c): one MQTT connection with
 * the library's topics and reserved packet ids, turned into the state machine's
 * transport events. It keeps the persistent-session flag, sorts inbound
 * publishes into control (shadow), data (c2d) and FOTA, and classifies why a
 * connection could not be made or why it ended.
 *
 * With pipelining, requests whose answers nothing else waits for go out
 * together (see NrfCloudConfig.pipeline, and pipeline.ts for what is
 * remembered); without the poll thread socket events wait in a PollGate for
 * process(). Why a connection failed or ended is decided in connect-failure.ts
 * and disconnect-status.ts.
 */

import { MqttClient, type Codec } from "../mqtt/client.js";
import { MqttError, MqttErrorCode } from "../mqtt/errors.js";
import type { PublishPacket } from "../mqtt/packet.js";
import type { SocketCallbacks, SocketFactory } from "../platform/socket.js";
import { ConnectResult, Errno, MessageId } from "./constants.js";
import { classifyConnectFailure, closedBeforeUpErrno, connectFailureErrno, sendErrno } from "./connect-failure.js";
import { disconnectStatus } from "./disconnect-status.js";
import { isReservedPacketId } from "./packet-ids.js";
import { Hold, MAX_HELD_CONTROL, Pipeline, ReportAck, ReportClaim } from "./pipeline.js";
import { PollGate } from "./poll-gate.js";
import { JOB_REQUEST, pairedReport, type Endpoints } from "./codec.js";
import type { ResolvedConfig } from "./config.js";
import { TransportEvent, type TransportEventData, type TransportEventValue } from "./transport-events.js";
import type { CloudSettings } from "./settings.js";
import { Channel, classifyTopic, fotaTopics, shadowTopics, type FotaTopics, type ShadowTopics } from "./topics.js";

export interface SocketOptions {
	host: string;
	port: number;
	secTag: number;
	hostname: string;
}

export interface TransportListener {
	event(type: TransportEventValue, data: TransportEventData): void;
	/** connect(): the TLS connection is up and CONNECT is queued (0), or it failed (a ConnectResult). */
	connectOutcome(result: number, reason: string | undefined): void;
	/** A publish on a FOTA topic (jobs/rcv or jobs/ble/rcv). */
	fotaMessage(payload: Uint8Array, ble: boolean): void;
	/** PUBACK for a FOTA request or update (8767 to 8770). */
	fotaAck(packetId: number): void;
	/** A FOTA SUBACK (8766): time to ask for a job. */
	fotaSubscribed(): void;
	/** An inbound payload larger than the payload buffer. */
	oversize(topic: string, size: number): void;
	/** An inbound packet larger than maxIncomingPacket was refused from its fixed header; the connection ends next. */
	packetTooLarge(reason: string): void;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class CloudTransport {
	readonly clientId: string;
	readonly shadow: ShadowTopics;
	#endpoints: Endpoints | undefined = undefined;
	#fota: FotaTopics | undefined = undefined;
	readonly #config: ResolvedConfig;
	readonly #settings: CloudSettings;
	readonly #openSocket: (options: SocketOptions) => SocketFactory;
	readonly #codec: Codec | undefined;
	readonly #listener: TransportListener;
	#client: MqttClient | undefined = undefined;
	/** The connection attempt the callbacks belong to; older attempts are ignored. */
	#attempt = 0;
	#transportUp = false;
	#connackSeen = false;
	#userDisconnect = false;
	#sessionValid = false;
	readonly #gate: PollGate;
	readonly #pipeline = new Pipeline();

	constructor(config: ResolvedConfig, clientId: string, settings: CloudSettings, openSocket: (options: SocketOptions) => SocketFactory, listener: TransportListener, codec?: Codec) {
		this.#config = config;
		this.clientId = clientId;
		this.shadow = shadowTopics(clientId);
		this.#settings = settings;
		this.#openSocket = openSocket;
		this.#listener = listener;
		this.#codec = codec;
		this.#gate = new PollGate(!config.pollThread);
	}

	get endpoints(): Endpoints | undefined {
		return this.#endpoints;
	}

	get fotaTopics(): FotaTopics | undefined {
		return this.#fota;
	}

	/** The CONNACK resumed the session the flag recorded. */
	get sessionValid(): boolean {
		return this.#sessionValid;
	}

	get open(): boolean {
		return this.#client !== undefined;
	}

	get connected(): boolean {
		return this.#client?.connected === true;
	}

	/** Socket events wait for process() (no poll thread). */
	get pending(): boolean {
		return this.#gate.pending;
	}

	/** Opens TLS and queues CONNECT; the outcome arrives through connectOutcome. */
	connect(): void {
		const attempt = ++this.#attempt;
		this.#transportUp = false;
		this.#connackSeen = false;
		this.#userDisconnect = false;
		this.#sessionValid = false;
		this.#gate.clear();
		this.#pipeline.clear();
		const persistent = this.#config.persistentSession && this.#settings.persistentSession;
		const client = new MqttClient({
			clientId: this.clientId,
			keepalive: this.#config.keepalive,
			clean: !persistent,
			// What the device's buffers hold: a larger packet is refused before its body is read.
			maxPacketSize: this.#config.maxIncomingPacket,
			codec: this.#codec,
			ackFirst: true,
			reservedPacketIds: isReservedPacketId,
			onConnect: (sessionPresent) => this.#connack(attempt, sessionPresent, persistent),
			onMessage: (packet) => this.#message(attempt, packet),
			onSubscribe: (id) => this.#subscribed(attempt, id),
			onUnsubscribe: (id) => { if (attempt === this.#attempt && id === MessageId.CC_SUBSCRIBE) this.#listener.event(TransportEvent.CC_DISCONNECTED, {}); },
			onPublish: (id) => this.#acknowledged(attempt, id),
			onClose: (error) => this.#closed(attempt, error),
		});
		this.#client = client;
		const factory = this.#openSocket({ host: this.#config.host, port: this.#config.port, secTag: this.#config.secTag, hostname: this.#config.hostname });
		const wrapped: SocketFactory = (inner) => factory(this.#socketCallbacks(attempt, inner));
		try {
			client.connect(wrapped);
		}
		catch (error) {
			if (attempt !== this.#attempt) return;
			this.#client = undefined;
			client.close();
			const reason = describe(error);
			this.#listener.connectOutcome(classifyConnectFailure(connectFailureErrno(error)), reason);
			return;
		}
		if (!this.#config.pipeline || attempt !== this.#attempt || this.#client !== client) return;
		// Without a session to resume, the shadow SUBSCRIBE and GET always follow CONNACK: send them with CONNECT.
		if (!persistent) {
			this.#sendShadowAhead();
			return;
		}
		// Asking to resume: the GET follows CONNACK when the broker kept the session (its
		// subscriptions answer it). When it did not, #connack sends the SUBSCRIBE and the
		// GET again at once (docs/protocol.md §1.7.3).
		if (this.#sendShadowRequest()) this.#pipeline.sentAhead(MessageId.CLOUD_STATE_REQUEST);
		this.#sendReportAhead();
	}

	/**
	 * pairedReportAhead: the paired report of the last confirmed pairing goes
	 * with CONNECT and the GET. Its PUBACK waits until the shadow's answer has
	 * brought the state machine to the report (docs/protocol.md §1.7.4).
	 */
	#sendReportAhead(): void {
		if (!this.#config.pairedReportAhead) return;
		const endpoints = this.#settings.pairedEndpoints;
		if (endpoints === undefined) return;
		const payload = pairedReport(endpoints, this.#config.keepalive);
		if (this.publish(this.shadow.update, payload, 1, MessageId.PAIRING_STATUS_REPORT) === MessageId.PAIRING_STATUS_REPORT) this.#pipeline.reportSentAhead(payload);
	}

	/** The shadow SUBSCRIBE and GET ahead of the state machine; shadow data waits for the SUBACK. */
	#sendShadowAhead(): void {
		if (!this.#sendShadowSubscribe()) return;
		this.#pipeline.sentAhead(MessageId.CC_SUBSCRIBE);
		this.#pipeline.awaitShadowAck();
		if (this.#sendShadowRequest()) this.#pipeline.sentAhead(MessageId.CLOUD_STATE_REQUEST);
	}

	#socketCallbacks(attempt: number, inner: SocketCallbacks): SocketCallbacks {
		const current = () => attempt === this.#attempt;
		return {
			onWritable: (count) => {
				if (!current()) return;
				if (!this.#transportUp) {
					this.#transportUp = true;
					this.#listener.connectOutcome(ConnectResult.SUCCESS, undefined);
					if (!current() || this.#client === undefined) return;
				}
				inner.onWritable(count);
			},
			onReadable: (count) => {
				if (current()) this.#gate.readable(inner, count);
			},
			onError: (error) => {
				if (!current()) return;
				if (!this.#transportUp) {
					const reason = error?.message ?? "connection closed during the handshake";
					this.#client = undefined;
					this.#attempt++;
					inner.onError(error);
					this.#listener.connectOutcome(classifyConnectFailure(closedBeforeUpErrno(error)), reason);
					return;
				}
				this.#gate.error(inner, error);
			},
		};
	}

	/** nrf_cloud_process(): reads what the socket holds and reports a closed connection. */
	process(): void {
		this.#gate.process();
	}

	/** Sends DISCONNECT; TRANSPORT_DISCONNECTED follows with USER_REQUEST. */
	disconnect(): number {
		const client = this.#client;
		if (client === undefined) return -Errno.ENOTCONN;
		this.#userDisconnect = true;
		if (!this.#transportUp) {
			// Still opening: abandon the attempt; nothing was connected, so no event follows.
			this.#attempt++;
			this.#client = undefined;
			client.close();
			this.#listener.connectOutcome(ConnectResult.ERR_MISC, "disconnected while connecting");
			return 0;
		}
		client.disconnect();
		return 0;
	}

	/** Drops everything at once (uninit). */
	close(): void {
		this.#attempt++;
		const client = this.#client;
		this.#client = undefined;
		client?.close();
	}

	/**
	 * Publishes; `packetId` 0 lets the MQTT client pick a free id that is not
	 * reserved. Returns the id, or -errno.
	 */
	publish(topic: string, payload: Uint8Array | string, qos: 0 | 1, packetId = 0, dup = false): number {
		const client = this.#client;
		if (client === undefined) return -Errno.ENOTCONN;
		try {
			if (qos === 0) return client.publish(topic, payload, { qos: 0 });
			// A resend of a resumed session keeps its id: no other id may stand in for it.
			if (dup) return client.publish(topic, payload, { qos: 1, packetId, dup: true });
			return this.#withId((id) => client.publish(topic, payload, id === undefined ? { qos: 1 } : { qos: 1, packetId: id }), packetId);
		}
		catch (error) {
			return sendErrno(error);
		}
	}

	/**
	 * Sends with the id asked for (0: any). When one of the library's reserved
	 * ids is still waiting for its acknowledgement (two reports with id 1, an
	 * UNSUBSCRIBE right after its SUBSCRIBE), the client picks another: the C
	 * library's MQTT stack would reuse the id, which MQTT forbids.
	 */
	#withId(send: (packetId: number | undefined) => number, packetId: number): number {
		if (packetId === 0) return send(undefined);
		try {
			return send(packetId);
		}
		catch (error) {
			if (!(error instanceof MqttError) || error.code !== MqttErrorCode.PACKET_ID_IN_USE || !isReservedPacketId(packetId)) throw error;
			return send(undefined);
		}
	}

	/** Sends a SUBSCRIBE or UNSUBSCRIBE with the library's id for it; false (logged) when it cannot be queued. */
	#control(send: (packetId?: number) => number, packetId: number, what: string): boolean {
		try {
			this.#withId(send, packetId);
			return true;
		}
		catch (error) {
			this.#config.log(`${what} ${packetId} failed: ${describe(error)}`);
			return false;
		}
	}

	#subscribe(topics: string[], packetId: number): boolean {
		const filters = topics.map((topic) => ({ topic, qos: 1 as const }));
		return this.#control((id) => this.#client!.subscribe(filters, id), packetId, "subscribe");
	}

	#unsubscribe(topics: string[], packetId: number): boolean {
		return this.#control((id) => this.#client!.unsubscribe(topics, id), packetId, "unsubscribe");
	}

	subscribeShadow(): boolean {
		if (this.#pipeline.claim(MessageId.CC_SUBSCRIBE)) return true;
		return this.#sendShadowSubscribe();
	}

	#sendShadowSubscribe(): boolean {
		if (this.#client === undefined) return false;
		const s = this.shadow;
		return this.#subscribe([s.accepted, s.rejected, s.delta], MessageId.CC_SUBSCRIBE);
	}

	requestShadow(): boolean {
		if (this.#pipeline.claim(MessageId.CLOUD_STATE_REQUEST)) return true;
		this.#pipeline.getSentOnce();
		return this.#sendShadowRequest();
	}

	#sendShadowRequest(): boolean {
		return this.publish(this.shadow.get, "", 1, MessageId.CLOUD_STATE_REQUEST) > 0;
	}

	report(payload: string, packetId: number): boolean {
		if (packetId === MessageId.PAIRING_STATUS_REPORT) {
			switch (this.#pipeline.claimReport(payload)) {
				case ReportClaim.SENT:
					return true;
				case ReportClaim.ACKNOWLEDGED:
					this.#eventSoon(TransportEvent.CC_TX_DATA_ACK, { id: packetId });
					return true;
				case ReportClaim.AFTER_AHEAD:
					return this.#client !== undefined;
				default:
			}
		}
		return this.publish(this.shadow.update, payload, 1, packetId) > 0;
	}

	/** An answer that came early, reported once the running handler has moved the state machine on. */
	#eventSoon(type: TransportEventValue, data: TransportEventData): void {
		const attempt = this.#attempt;
		Promise.resolve().then(() => {
			if (attempt === this.#attempt) this.#listener.event(type, data);
		});
	}

	subscribeData(): boolean {
		if (this.#pipeline.claim(MessageId.DC_SUBSCRIBE)) {
			// Its SUBACK is already here: report it once the state machine has moved on.
			if (this.#pipeline.takeEarlyDataAck()) this.#eventSoon(TransportEvent.DC_CONNECTED, { status: 0 });
			return true;
		}
		return this.#sendDataSubscribe();
	}

	#sendDataSubscribe(): boolean {
		const c2d = this.#endpoints?.c2d;
		if (this.#client === undefined || c2d === undefined) return false;
		return this.#subscribe([c2d], MessageId.DC_SUBSCRIBE);
	}

	/**
	 * With pipelining, right after the paired report: the c2d and FOTA
	 * SUBSCRIBEs and the job request the C library sends one round trip at a time.
	 */
	sendDataAhead(): void {
		if (!this.#config.pipeline || this.#sessionValid || this.#pipeline.isAhead(MessageId.DC_SUBSCRIBE)) return;
		if (!this.#sendDataSubscribe()) return;
		this.#pipeline.sentAhead(MessageId.DC_SUBSCRIBE);
		const fota = this.#fota;
		if (!this.#config.fota || fota === undefined) return;
		if (!this.#subscribe(this.#fotaFilters(fota), MessageId.FOTA_SUBSCRIBE)) return;
		this.#pipeline.sentAhead(MessageId.FOTA_SUBSCRIBE);
		if (this.#sendJobRequest()) this.#pipeline.sentAhead(MessageId.FOTA_REQUEST);
	}

	/** Asks for the latest queued FOTA job. */
	requestJob(): void {
		if (this.#pipeline.claim(MessageId.FOTA_REQUEST)) return;
		this.#sendJobRequest();
	}

	#sendJobRequest(): boolean {
		const fota = this.#fota;
		return fota !== undefined && this.publish(fota.request, JOB_REQUEST, 1, MessageId.FOTA_REQUEST) > 0;
	}

	/** Stops c2d and FOTA delivery (the device was disassociated). */
	unsubscribeData(): boolean {
		const c2d = this.#endpoints?.c2d;
		if (this.#client === undefined || c2d === undefined) return false;
		const ok = this.#unsubscribe([c2d], MessageId.DC_SUBSCRIBE);
		const fota = this.#fota;
		if (fota !== undefined && this.#config.fota) this.#unsubscribe(this.#fotaFilters(fota), MessageId.FOTA_SUBSCRIBE);
		return ok;
	}

	/** The shadow confirmed a pairing with these endpoints. */
	setEndpoints(endpoints: Endpoints): void {
		this.#endpoints = { ...endpoints };
		this.#fota = endpoints.prefix.length > 0 ? fotaTopics(endpoints.prefix, this.clientId) : undefined;
		if (!this.#config.pairedReportAhead) return;
		const kept = this.#settings.pairedEndpoints;
		if (kept?.prefix !== endpoints.prefix || kept.d2c !== endpoints.d2c || kept.c2d !== endpoints.c2d) this.#settings.pairedEndpoints = this.#endpoints;
	}

	/** The shadow says the device is not associated: no paired report goes ahead any more. */
	forgetPairing(): void {
		this.#pipeline.dropReportAhead();
		if (this.#config.pairedReportAhead && this.#settings.pairedEndpoints !== undefined) this.#settings.pairedEndpoints = undefined;
	}

	clearEndpoints(): void {
		this.#endpoints = undefined;
		this.#fota = undefined;
	}

	#fotaFilters(fota: FotaTopics): string[] {
		return this.#config.fotaBle ? [fota.receive, fota.bleReceive] : [fota.receive];
	}

	#connack(attempt: number, sessionPresent: boolean, persistent: boolean): void {
		if (attempt !== this.#attempt) return;
		this.#connackSeen = true;
		if (persistent && !sessionPresent) {
			this.#settings.persistentSession = false;
			// A GET sent ahead reached a session without subscriptions: its answer is lost,
			// unless the broker delivers it after the new SUBSCRIBE (then it is a copy).
			if (this.#pipeline.claim(MessageId.CLOUD_STATE_REQUEST)) {
				this.#sendShadowAhead();
				this.#pipeline.getSentTwice();
			}
		}
		// The SUBSCRIBE and GET sent again just now can end the connection (a write that fails
		// reports the end from inside it): DISCONNECTED has then been reported, and a CONNECTED
		// after it would leave the state machine in CONNECTED with no connection and no reconnect.
		if (attempt !== this.#attempt || this.#client === undefined) return;
		this.#sessionValid = sessionPresent && persistent;
		this.#listener.event(TransportEvent.CONNECTED, { status: 0, session: this.#sessionValid });
	}

	#message(attempt: number, packet: PublishPacket): void {
		if (attempt !== this.#attempt) return;
		const channel = classifyTopic(packet.topic, this.shadow, this.#fota);
		if (channel === Channel.FOTA || channel === Channel.FOTA_BLE) {
			this.#listener.fotaMessage(packet.payload, channel === Channel.FOTA_BLE);
			return;
		}
		if (packet.payload.length > this.#config.payloadBufferLength) {
			this.#listener.oversize(packet.topic, packet.payload.length);
			return;
		}
		if (packet.topic === this.shadow.accepted && !this.#pipeline.takeGetAnswer()) {
			this.#config.log("a second answer to the shadow GET sent twice; dropped");
			return;
		}
		const data: TransportEventData = { topic: packet.topic, payload: packet.payload, id: packet.packetId };
		if (channel === Channel.CONTROL) {
			const hold = this.#pipeline.holdControl(data);
			if (hold === Hold.HELD) return;
			if (hold === Hold.FULL) {
				this.#config.log(`more than ${MAX_HELD_CONTROL} shadow messages before the shadow SUBACK; disconnecting`);
				this.disconnect();
				return;
			}
		}
		this.#listener.event(channel === Channel.CONTROL ? TransportEvent.CC_RX_DATA : TransportEvent.DC_RX_DATA, data);
	}

	#subscribed(attempt: number, id: number): void {
		if (attempt !== this.#attempt) return;
		if (id === MessageId.CC_SUBSCRIBE) {
			const held = this.#pipeline.releaseControl();
			this.#listener.event(TransportEvent.CC_CONNECTED, { status: 0 });
			for (const data of held) {
				if (attempt !== this.#attempt) break;
				this.#listener.event(TransportEvent.CC_RX_DATA, data);
			}
		}
		else if (id === MessageId.DC_SUBSCRIBE) {
			if (this.#config.persistentSession) this.#settings.persistentSession = true;
			const fota = this.#fota;
			if (this.#config.fota && fota !== undefined && !this.#pipeline.claim(MessageId.FOTA_SUBSCRIBE)) this.#subscribe(this.#fotaFilters(fota), MessageId.FOTA_SUBSCRIBE);
			if (this.#pipeline.isAhead(MessageId.DC_SUBSCRIBE)) this.#pipeline.dataAcknowledgedEarly();
			else this.#listener.event(TransportEvent.DC_CONNECTED, { status: 0 });
		}
		else if (id === MessageId.FOTA_SUBSCRIBE) {
			this.#listener.fotaSubscribed();
		}
	}

	#acknowledged(attempt: number, id: number): void {
		if (attempt !== this.#attempt) return;
		if (id >= MessageId.FOTA_REQUEST && id <= MessageId.FOTA_BLE_UPDATE) {
			this.#listener.fotaAck(id);
			return;
		}
		if (id === MessageId.PAIRING_STATUS_REPORT) {
			const answered = this.#pipeline.reportAcknowledged();
			if (answered === ReportAck.AHEAD) return;
			if (answered === ReportAck.REPLACE) {
				if (this.publish(this.shadow.update, this.#pipeline.replacement, 1, id) !== id) this.#config.log("the corrected paired report could not be sent");
				return;
			}
		}
		this.#listener.event(TransportEvent.CC_TX_DATA_ACK, { id });
	}

	#closed(attempt: number, error: MqttError | undefined): void {
		if (attempt !== this.#attempt) return;
		this.#client = undefined;
		this.#gate.clear();
		this.#pipeline.clear();
		if (!this.#transportUp) return;
		// Zephyr reports a refusing CONNACK, then the disconnect.
		if (!this.#userDisconnect && error?.returnCode !== undefined) this.#listener.event(TransportEvent.CONNECTED, { status: error.returnCode });
		const status = disconnectStatus({ userRequested: this.#userDisconnect, connackSeen: this.#connackSeen, error });
		if (error !== undefined) this.#config.log(`connection ended: ${error.message}`);
		if (error?.code === MqttErrorCode.PACKET_TOO_LARGE) {
			// The refused publish was not acknowledged: a resumed session would deliver it again, and again.
			if (this.#config.persistentSession) this.#settings.persistentSession = false;
			this.#listener.packetTooLarge(error.message);
		}
		this.#listener.event(TransportEvent.DISCONNECTED, { status });
	}
}
