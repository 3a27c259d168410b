/*
 * MQTT 3.1.1 client session: CONNECT/CONNACK, subscriptions, QoS 0 and 1 in both
 * directions, keepalive, orderly and abrupt disconnects, and the QoS 1 in-flight
 * store that survives reconnects of a persistent session. It owns no socket code:
 * connect() takes a factory for any StreamSocket, and the codec can be swapped for
 * a native one with the same interface.
 *
 * Inbound messages are handed to onMessage before their PUBACK is queued, unless
 * ackFirst asks for the opposite order.
 *
 * Frames the socket cannot take yet wait in a bounded outgoing queue
 * (maxQueuedBytes, maxQueuedFrames). PUBACKs owed to the peer are never
 * refused: the client reads only as many bytes as could owe PUBACKs that fit,
 * and stops reading while the queue is full (the peer's bytes then wait in the
 * socket and in TCP), until it has drained to half of both limits. Application
 * frames that do not fit are refused with QUEUE_FULL.
 *
 * Exceptions thrown by callbacks do not disturb the session: the current read is
 * processed to the end, then the first such exception is rethrown.
 */

import type { Codec, PacketDecoder, PacketEncoder } from "./codec.js";
import { typescriptCodec } from "./typescript-codec.js";
import { PacketIdAllocator, isPacketId } from "./packet-id.js";
import { checkClock, systemClock, type Clock } from "../platform/clock.js";
import { MqttError, MqttErrorCode, type MqttErrorCodeName } from "./errors.js";
import { PacketType, type Packet, type PublishPacket, type QoS, type Subscription, type Will } from "./packet.js";
import type { SocketCallbacks, SocketFactory, StreamSocket } from "../platform/socket.js";
import { checkTopicFilter } from "./topic.js";
import { utf8Encode } from "../platform/utf8.js";

export const ClientState = Object.freeze({
	CLOSED: 0,
	/** Socket opening; CONNECT queued. */
	CONNECTING: 1,
	/** CONNECT written, waiting for CONNACK. */
	AWAITING_CONNACK: 2,
	CONNECTED: 3,
	/** DISCONNECT queued; the socket closes once it is written. */
	DISCONNECTING: 4,
} as const);

export type ClientStateValue = typeof ClientState[keyof typeof ClientState];

export type { Codec } from "./codec.js";

export interface MqttClientOptions {
	clientId: string;
	/** Seconds, 0 to 65535; 0 turns keepalive off. Default 60. */
	keepalive?: number;
	/** Default true. With false, unacknowledged QoS 1 publishes are kept and resent on the next connect. */
	clean?: boolean;
	will?: Will;
	username?: string;
	password?: Uint8Array | string;
	/** Milliseconds from connect() to CONNACK. Default 30000. */
	connectTimeout?: number;
	/** Milliseconds to wait for PINGRESP. Default: the keepalive interval, at most 30000. */
	pingTimeout?: number;
	/** Unacknowledged QoS 1 publishes allowed at once. Default 16. */
	maxInflight?: number;
	/** Largest incoming frame in bytes; a larger one closes the connection. Default 1 MiB. */
	maxPacketSize?: number;
	/**
	 * Bytes of outgoing frames held while the socket cannot take them, 64 or
	 * more. Default 8192. A larger frame is refused with PACKET_TOO_LARGE.
	 */
	maxQueuedBytes?: number;
	/** Outgoing frames held while the socket cannot take them, 1 or more. Default 64. */
	maxQueuedFrames?: number;
	/** Filters per SUBSCRIBE; 0 for no limit (default). AWS IoT allows 8. */
	maxSubscribeFilters?: number;
	codec?: Codec;
	/** Time and timers for the connect timeout and keepalive; the host's by default. */
	clock?: Clock;
	/** Ids the allocator never picks (the owner's fixed request ids); they can still be asked for by number. */
	reservedPacketIds?: (id: number) => boolean;
	/** Queue the PUBACK of an inbound QoS 1 publish before onMessage sees it, as the nRF9160's MQTT library does. Default false. */
	ackFirst?: boolean;
	/** CONNACK accepted. */
	onConnect?: (sessionPresent: boolean) => void;
	onMessage?: (message: PublishPacket) => void;
	/** SUBACK: a granted QoS or 0x80 (refused) per requested filter. */
	onSubscribe?: (packetId: number, returnCodes: number[]) => void;
	onUnsubscribe?: (packetId: number) => void;
	/** PUBACK for a QoS 1 publish. */
	onPublish?: (packetId: number) => void;
	/** A QoS 1 publish dropped unacknowledged because the next connect asked for a clean session. */
	onDiscard?: (packetId: number) => void;
	/** The connection ended: `error` undefined after disconnect(), set otherwise. Not called after close(). */
	onClose?: (error?: MqttError) => void;
}

export interface PublishOptions {
	qos?: QoS;
	retain?: boolean;
	/** Choose the packet id of a QoS 1 publish; by default one is allocated. */
	packetId?: number;
	/** A QoS 1 resend of a message a previous connection of the same session did not see acknowledged (needs packetId). */
	dup?: boolean;
}

const DEFAULT_KEEPALIVE = 60;
const DEFAULT_CONNECT_TIMEOUT = 30000;
const MAX_PING_TIMEOUT = 30000;
const DEFAULT_MAX_INFLIGHT = 16;
const DEFAULT_MAX_PACKET_SIZE = 1 << 20;
/*
 * The outgoing queue's defaults are sized for the nRF9160, whose 256 KiB of
 * RAM the modem library, the XS heap and the application share. 8 KiB is twice
 * the nRF9160 socket binding's 4 KiB send buffer: it holds the opening burst of a
 * connection (CONNECT, the shadow SUBSCRIBE and GET, a report) and one frame
 * of the largest message the offline queue stores (a 4 KiB record). The frame
 * limit bounds what small frames cost beyond their bytes: a queued frame is a
 * Uint8Array and its ArrayBuffer, seven XS slots (112 bytes with the device's
 * 16-byte slots), so 64 PUBACKs take about 7 KiB, not 256 bytes.
 */
const DEFAULT_MAX_QUEUED_BYTES = 8192;
const DEFAULT_MAX_QUEUED_FRAMES = 64;
const MIN_QUEUED_BYTES = 64;
const PUBACK_LENGTH = 4;
/** The smallest inbound frame that owes a PUBACK: a QoS 1 PUBLISH with a one-byte topic (2 + 2 + 1 + 2; both decoders refuse an empty topic). */
const MIN_ACKED_FRAME = 7;
/** Bytes taken from the socket at once at most; more at once gains nothing. */
const MAX_READ = 65536;
const EMPTY = new Uint8Array(0);
const PINGREQ: Packet = Object.freeze({ type: PacketType.PINGREQ });
const DISCONNECT: Packet = Object.freeze({ type: PacketType.DISCONNECT });

function positiveInteger(value: unknown, name: string, fallback: number, min = 1, max = 0x7FFFFFFF): number {
	if (value === undefined) return fallback;
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
		throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
	return value;
}

function toBytes(data: unknown, what: string): Uint8Array {
	if (data === undefined || data === null) return EMPTY;
	if (data instanceof Uint8Array) return data;
	if (data instanceof ArrayBuffer) return new Uint8Array(data);
	if (typeof data === "string") {
		try {
			return utf8Encode(data);
		}
		catch (cause) {
			throw error(MqttErrorCode.INVALID_UTF8, `${what} is not valid UTF-8`, cause);
		}
	}
	throw new TypeError(`${what} must be a Uint8Array, an ArrayBuffer or a string`);
}

function error(code: MqttErrorCodeName, message: string, cause?: unknown): MqttError {
	return new MqttError(code, message, undefined, cause === undefined ? undefined : { cause });
}

export class MqttClient {
	readonly #clientId: string;
	readonly #keepalive: number;
	readonly #clean: boolean;
	readonly #will: Will | undefined;
	readonly #username: string | undefined;
	readonly #password: Uint8Array | undefined;
	readonly #connectTimeout: number;
	readonly #pingTimeout: number;
	readonly #maxInflight: number;
	readonly #maxSubscribeFilters: number;
	readonly #maxQueuedBytes: number;
	readonly #maxQueuedFrames: number;
	readonly #options: MqttClientOptions;
	readonly #encoder: PacketEncoder;
	readonly #decoder: PacketDecoder;
	readonly #callbacks: SocketCallbacks;

	#state: ClientStateValue = ClientState.CLOSED;
	#socket: StreamSocket | undefined = undefined;
	#writable = 0;
	/** Frames waiting for the socket, oldest first; #queueOffset bytes of the first are written. */
	readonly #queue: Uint8Array[] = [];
	#queueOffset = 0;
	/** Bytes of the frames in #queue, the first one whole: it is held until all of it is written. */
	#queuedBytes = 0;
	/** PUBACKs the bytes of the read being parsed may still owe; the queue keeps room for them. */
	#ackRoom = 0;
	/** Reading stopped because the queue could not take another PUBACK; it resumes at half of both limits. */
	#readPaused = false;
	/** In the read loop: a PUBACK sent from it does not start another. */
	#reading = false;
	/** Unacknowledged QoS 1 publishes by packet id, in send order: their frames, for resending. */
	readonly #inflight = new Map<number, Uint8Array>();
	/** SUBSCRIBE and UNSUBSCRIBE waiting for acknowledgement: packet id to filter count (negative for UNSUBSCRIBE). */
	readonly #pendingAcks = new Map<number, number>();
	readonly #packetIds: PacketIdAllocator;
	readonly #inUse: (id: number) => boolean;
	readonly #clock: Clock;
	#timer: unknown = undefined;
	#connectDeadline = 0;
	#lastSent = 0;
	/** 0 when no PINGREQ is outstanding. */
	#pingDeadline = 0;
	#callbackError: unknown = undefined;
	#callbackFailed = false;
	readonly #onTimer: () => void;

	constructor(options: MqttClientOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.clientId !== "string") throw new TypeError("clientId must be a string");
		this.#options = options;
		this.#clientId = options.clientId;
		this.#keepalive = positiveInteger(options.keepalive, "keepalive", DEFAULT_KEEPALIVE, 0, 0xFFFF);
		this.#clean = options.clean ?? true;
		if (typeof this.#clean !== "boolean") throw new TypeError("clean must be a boolean");
		if (!this.#clean && this.#clientId.length === 0) throw new RangeError("a persistent session needs a client id");
		this.#will = options.will;
		this.#username = options.username;
		this.#password = options.password === undefined ? undefined : toBytes(options.password, "password");
		this.#connectTimeout = positiveInteger(options.connectTimeout, "connectTimeout", DEFAULT_CONNECT_TIMEOUT);
		this.#pingTimeout = positiveInteger(options.pingTimeout, "pingTimeout",
			Math.min(MAX_PING_TIMEOUT, Math.max(1000, this.#keepalive * 1000)));
		this.#maxInflight = positiveInteger(options.maxInflight, "maxInflight", DEFAULT_MAX_INFLIGHT, 1, 0xFFFF);
		this.#maxSubscribeFilters = positiveInteger(options.maxSubscribeFilters, "maxSubscribeFilters", 0, 0);
		for (const name of ["onConnect", "onMessage", "onSubscribe", "onUnsubscribe", "onPublish", "onDiscard", "onClose"] as const) {
			if (options[name] !== undefined && typeof options[name] !== "function") throw new TypeError(`${name} must be a function`);
		}
		const codec = options.codec ?? typescriptCodec;
		this.#encoder = codec.createEncoder();
		// The CONNECT is encoded now so that bad options throw here, not on the first connect().
		this.#encoder.length(this.#connectPacket());
		const maxPacketSize = positiveInteger(options.maxPacketSize, "maxPacketSize", DEFAULT_MAX_PACKET_SIZE, 2);
		this.#maxQueuedBytes = positiveInteger(options.maxQueuedBytes, "maxQueuedBytes", DEFAULT_MAX_QUEUED_BYTES, MIN_QUEUED_BYTES);
		this.#maxQueuedFrames = positiveInteger(options.maxQueuedFrames, "maxQueuedFrames", DEFAULT_MAX_QUEUED_FRAMES, 1);
		this.#decoder = codec.createDecoder({ maxPacketSize, onPacket: (packet) => this.#receive(packet) });
		this.#callbacks = {
			onReadable: (count) => this.#readable(count),
			onWritable: (count) => this.#writableNow(count),
			onError: (cause) => this.#socketError(cause),
		};
		this.#onTimer = () => this.#tick();
		this.#clock = options.clock === undefined ? systemClock : checkClock(options.clock);
		if (options.reservedPacketIds !== undefined && typeof options.reservedPacketIds !== "function") throw new TypeError("reservedPacketIds must be a function");
		this.#packetIds = new PacketIdAllocator(options.reservedPacketIds);
		this.#inUse = (id) => this.#inflight.has(id) || this.#pendingAcks.has(id);
	}

	get state(): ClientStateValue {
		return this.#state;
	}

	get connected(): boolean {
		return this.#state === ClientState.CONNECTED;
	}

	/** Unacknowledged QoS 1 publishes. */
	get inflight(): number {
		return this.#inflight.size;
	}

	get clientId(): string {
		return this.#clientId;
	}

	/** Bytes of outgoing frames waiting for the socket (at most maxQueuedBytes, see the class comment). */
	get queuedBytes(): number {
		return this.#queuedBytes;
	}

	/** Outgoing frames waiting for the socket. */
	get queuedFrames(): number {
		return this.#queue.length;
	}

	/** Reading is stopped until the outgoing queue drains (backpressure). */
	get readPaused(): boolean {
		return this.#readPaused;
	}

	/**
	 * Opens a connection through `openSocket` and queues CONNECT. With a
	 * persistent session, unacknowledged QoS 1 publishes follow it at once, with
	 * DUP set and in their original order. Packets may be queued before CONNACK.
	 */
	connect(openSocket: SocketFactory): void {
		if (typeof openSocket !== "function") throw new TypeError("connect needs a socket factory");
		if (this.#state !== ClientState.CLOSED) throw error(MqttErrorCode.PROTOCOL_VIOLATION, "connect() while a connection is open");
		this.#decoder.reset();
		this.#clearQueue();
		this.#writable = 0;
		this.#pendingAcks.clear();
		this.#pingDeadline = 0;
		this.#state = ClientState.CONNECTING;
		this.#enqueue(this.#encoder.encode(this.#connectPacket()));
		if (this.#clean) {
			const dropped = [...this.#inflight.keys()];
			this.#inflight.clear();
			for (const id of dropped) this.#call(this.#options.onDiscard, id);
		}
		else {
			for (const frame of this.#inflight.values()) {
				frame[0] = frame[0]! | 0x08;
				this.#enqueue(frame);
			}
		}
		this.#connectDeadline = this.#clock.now() + this.#connectTimeout;
		this.#schedule(this.#connectTimeout);
		let socket: StreamSocket;
		try {
			socket = openSocket(this.#callbacks);
		}
		catch (cause) {
			this.#teardown();
			throw cause;
		}
		if (this.#state === ClientState.CONNECTING) {
			this.#socket = socket;
			// A socket may report itself writable while the factory is still running.
			if (this.#writable > 0) this.#writableNow(this.#writable);
		}
		this.#rethrowCallbackError();
	}

	/** Publishes at QoS 0 or 1; returns the packet id (0 for QoS 0). */
	publish(topic: string, payload?: Uint8Array | ArrayBuffer | string, options?: PublishOptions): number {
		this.#checkOpen();
		const qos = options?.qos ?? 0;
		if (qos !== 0 && qos !== 1)
			throw new MqttError(MqttErrorCode.INVALID_QOS, `QoS must be 0 or 1, got ${String(qos)}`);
		const packet: PublishPacket = {
			type: PacketType.PUBLISH,
			topic,
			payload: toBytes(payload, "payload"),
			qos,
			retain: options?.retain === true,
			dup: false,
			packetId: 0,
		};
		if (options?.dup === true) {
			if (qos !== 1 || options.packetId === undefined) throw new TypeError("dup needs QoS 1 and the original packetId");
			packet.dup = true;
		}
		if (qos === 1) {
			const requested = options?.packetId;
			if (requested !== undefined) this.#checkPacketId(requested);
			if (this.#inflight.size >= this.#maxInflight)
				throw error(MqttErrorCode.INFLIGHT_FULL, `${this.#inflight.size} QoS 1 publishes are unacknowledged`);
			packet.packetId = requested ?? this.#allocatePacketId();
		}
		const frame = this.#encoder.encode(packet);
		this.#checkRoom(frame);
		if (qos === 1) this.#inflight.set(packet.packetId, frame);
		this.#send(frame);
		return packet.packetId;
	}

	/** Subscribes to one or more filters (QoS 0 or 1); returns the packet id. */
	subscribe(subscriptions: readonly Subscription[], packetId?: number): number {
		this.#checkOpen();
		if (!Array.isArray(subscriptions) || subscriptions.length === 0) throw new TypeError("subscribe needs a non-empty array of subscriptions");
		if (this.#maxSubscribeFilters > 0 && subscriptions.length > this.#maxSubscribeFilters)
			throw new RangeError(`at most ${this.#maxSubscribeFilters} filters per SUBSCRIBE`);
		for (const subscription of subscriptions) {
			if (subscription === null || typeof subscription !== "object") throw new TypeError("subscription must be an object");
			checkTopicFilter(subscription.topic);
			if (subscription.qos !== 0 && subscription.qos !== 1)
				throw new MqttError(MqttErrorCode.INVALID_QOS, `subscription QoS must be 0 or 1, got ${String(subscription.qos)}`);
		}
		const id = this.#takePacketId(packetId);
		this.#sendChecked(this.#encoder.encode({ type: PacketType.SUBSCRIBE, packetId: id, subscriptions: subscriptions.slice() }));
		this.#pendingAcks.set(id, subscriptions.length);
		return id;
	}

	/** Unsubscribes from one or more filters; returns the packet id. */
	unsubscribe(topics: readonly string[], packetId?: number): number {
		this.#checkOpen();
		if (!Array.isArray(topics) || topics.length === 0) throw new TypeError("unsubscribe needs a non-empty array of filters");
		for (const topic of topics) checkTopicFilter(topic);
		const id = this.#takePacketId(packetId);
		this.#sendChecked(this.#encoder.encode({ type: PacketType.UNSUBSCRIBE, packetId: id, topics: topics.slice() }));
		this.#pendingAcks.set(id, -topics.length);
		return id;
	}

	/** Sends DISCONNECT and closes once it is written; onClose() follows without an error. */
	disconnect(): void {
		const state = this.#state;
		if (state === ClientState.CLOSED || state === ClientState.DISCONNECTING) return;
		if (state === ClientState.CONNECTING) {
			this.#finish(undefined);
			return;
		}
		this.#state = ClientState.DISCONNECTING;
		this.#send(this.#encoder.encode(DISCONNECT));
	}

	/** Drops the connection at once, without DISCONNECT or onClose. Idempotent. */
	close(): void {
		if (this.#state === ClientState.CLOSED) return;
		this.#teardown();
	}

	#connectPacket(): Packet {
		return {
			type: PacketType.CONNECT,
			protocolName: "MQTT",
			protocolLevel: 4,
			clientId: this.#clientId,
			keepalive: this.#keepalive,
			clean: this.#clean,
			will: this.#will,
			username: this.#username,
			password: this.#password,
		};
	}

	#checkOpen(): void {
		const state = this.#state;
		if (state === ClientState.CLOSED || state === ClientState.DISCONNECTING)
			throw error(MqttErrorCode.NOT_CONNECTED, "the client is not connected");
	}

	#takePacketId(requested: number | undefined): number {
		if (requested === undefined) return this.#allocatePacketId();
		this.#checkPacketId(requested);
		return requested;
	}

	/** Throws unless `requested` is a valid packet id that is not in flight. */
	#checkPacketId(requested: number): void {
		if (!isPacketId(requested))
			throw new MqttError(MqttErrorCode.INVALID_PACKET_ID, `packet id must be an integer from 1 to 65535, got ${String(requested)}`);
		if (this.#inflight.has(requested) || this.#pendingAcks.has(requested))
			throw error(MqttErrorCode.PACKET_ID_IN_USE, `packet id ${requested} is in flight`);
	}

	#allocatePacketId(): number {
		const id = this.#packetIds.allocate(this.#inUse);
		if (id === 0) throw error(MqttErrorCode.INFLIGHT_FULL, "every packet id is in flight or reserved");
		return id;
	}

	#enqueue(frame: Uint8Array): void {
		this.#queue.push(frame);
		this.#queuedBytes += frame.length;
	}

	#clearQueue(): void {
		this.#queue.length = 0;
		this.#queueOffset = 0;
		this.#queuedBytes = 0;
		this.#ackRoom = 0;
		this.#readPaused = false;
	}

	/** Queues one of the client's own frames (PUBACK, PINGREQ, DISCONNECT): never refused. */
	#send(frame: Uint8Array): void {
		this.#enqueue(frame);
		if (this.#writable > 0) this.#flush();
	}

	/** Queues an application frame, or throws when it does not fit. */
	#sendChecked(frame: Uint8Array): void {
		this.#checkRoom(frame);
		this.#send(frame);
	}

	/**
	 * PUBACKs the client can owe without the queue going over either limit:
	 * those the socket takes at once (while nothing waits before them), then
	 * those the queue has room for.
	 */
	#ackCapacity(bytes = this.#queuedBytes, frames = this.#queue.length, writable = this.#writable): number {
		const direct = frames === 0 && this.#socket !== undefined ? Math.floor(writable / PUBACK_LENGTH) : 0;
		const room = Math.min(Math.floor((this.#maxQueuedBytes - bytes) / PUBACK_LENGTH), this.#maxQueuedFrames - frames);
		return direct + Math.max(room, 0);
	}

	/**
	 * Throws unless the application's `frame` fits: the queue stays within its
	 * limits, and keeps room for the PUBACKs the bytes being parsed may owe.
	 */
	#checkRoom(frame: Uint8Array): void {
		const length = frame.length;
		const maxBytes = this.#maxQueuedBytes;
		if (length > maxBytes)
			throw error(MqttErrorCode.PACKET_TOO_LARGE, `outgoing packet of ${length} bytes exceeds the outgoing queue's ${maxBytes} bytes (maxQueuedBytes)`);
		// Where the queue stands once the frame is in: written at once, or held whole.
		let bytes = this.#queuedBytes;
		let frames = this.#queue.length;
		let writable = this.#writable;
		if (frames === 0 && this.#socket !== undefined && length <= writable) writable -= length;
		else {
			bytes += length;
			frames++;
			writable = 0;
		}
		if (bytes > maxBytes || frames > this.#maxQueuedFrames || this.#ackCapacity(bytes, frames, writable) < this.#ackRoom)
			throw error(MqttErrorCode.QUEUE_FULL, `the outgoing queue holds ${this.#queuedBytes} bytes in ${this.#queue.length} frames `
				+ `(limits ${maxBytes} bytes, ${this.#maxQueuedFrames} frames) and the socket takes no more now`);
	}

	#flush(): void {
		const queue = this.#queue;
		const socket = this.#socket;
		if (socket === undefined) return;
		while (queue.length > 0 && this.#writable > 0) {
			const frame = queue[0]!;
			const offset = this.#queueOffset;
			const count = Math.min(frame.length - offset, this.#writable);
			const chunk = offset === 0 && count === frame.length ? frame : frame.subarray(offset, offset + count);
			this.#writable = socket.write(chunk);
			this.#lastSent = this.#clock.now();
			if (offset + count === frame.length) {
				queue.shift();
				this.#queueOffset = 0;
				this.#queuedBytes -= frame.length;
			}
			else this.#queueOffset = offset + count;
			if (this.#socket !== socket) return;
		}
		if (queue.length === 0 && this.#state === ClientState.DISCONNECTING) this.#finish(undefined);
	}

	#writableNow(count: number): void {
		if (this.#state === ClientState.CLOSED) return;
		this.#writable = count;
		if (this.#socket === undefined) return;
		if (this.#state === ClientState.CONNECTING) this.#state = ClientState.AWAITING_CONNACK;
		this.#flush();
		// Resumed here only, where the socket drained: never inside a publish() of the application.
		if (this.#readPaused && this.#queuedBytes <= this.#maxQueuedBytes / 2 && this.#queue.length <= this.#maxQueuedFrames / 2) {
			this.#readPaused = false;
			this.#readAvailable();
		}
		this.#rethrowCallbackError();
	}

	#readable(count: number): void {
		if (this.#socket === undefined || count <= 0) return;
		this.#readAvailable();
		this.#rethrowCallbackError();
	}

	/**
	 * Reads and parses while the queue can take the PUBACKs the bytes could
	 * owe: a read of n bytes completes at most 1 + (n - 1) / 7 QoS 1 PUBLISHes
	 * (the first may have begun in an earlier read). When not one more fits,
	 * reading stops until the queue drains; what the peer sends meanwhile waits
	 * in the socket, whose receive buffer is bounded too.
	 */
	#readAvailable(): void {
		const socket = this.#socket;
		if (socket === undefined || this.#reading || this.#readPaused) return;
		this.#reading = true;
		try {
			while (this.#socket === socket) {
				const acks = this.#ackCapacity();
				if (acks < 1) {
					this.#readPaused = true;
					break;
				}
				const data = socket.read(Math.min(MAX_READ, 1 + (acks - 1) * MIN_ACKED_FRAME));
				if (data === undefined || data.byteLength === 0) break;
				this.#ackRoom = 1 + Math.floor((data.byteLength - 1) / MIN_ACKED_FRAME);
				try {
					this.#decoder.parse(new Uint8Array(data));
				}
				catch (cause) {
					if (cause instanceof MqttError) this.#finish(cause);
					else this.#finish(error(MqttErrorCode.MALFORMED_PACKET, `decoder failed: ${String(cause)}`, cause));
					break;
				}
				finally {
					this.#ackRoom = 0;
				}
			}
		}
		finally {
			this.#reading = false;
		}
	}

	#socketError(cause?: Error): void {
		if (this.#state === ClientState.CLOSED) return;
		if (this.#state === ClientState.DISCONNECTING) {
			this.#finish(undefined);
		}
		else if (cause === undefined) {
			this.#finish(error(MqttErrorCode.CONNECTION_CLOSED, this.#state === ClientState.CONNECTED
				? "connection closed by the peer" : "connection closed by the peer before CONNACK"));
		}
		else {
			this.#finish(error(MqttErrorCode.TRANSPORT_ERROR, `transport error: ${cause.message ?? String(cause)}`, cause));
		}
		this.#rethrowCallbackError();
	}

	#violation(message: string): void {
		this.#finish(error(MqttErrorCode.PROTOCOL_VIOLATION, message));
	}

	#receive(packet: Packet): void {
		if (this.#state === ClientState.CLOSED) return;
		if (this.#state !== ClientState.CONNECTED && this.#state !== ClientState.DISCONNECTING) {
			if (packet.type !== PacketType.CONNACK) {
				this.#violation(`packet type ${packet.type} before CONNACK`);
				return;
			}
			if (packet.returnCode !== 0) {
				this.#finish(MqttError.refused(packet.returnCode));
				return;
			}
			this.#state = ClientState.CONNECTED;
			this.#connectDeadline = 0;
			this.#schedule(this.#keepalive > 0 ? this.#keepalive * 1000 : -1);
			this.#call(this.#options.onConnect, packet.sessionPresent);
			return;
		}
		switch (packet.type) {
			case PacketType.PUBLISH:
				if (packet.qos === 2) {
					this.#violation("QoS 2 PUBLISH received; the client subscribes with QoS 0 and 1 only");
					return;
				}
				if (this.#options.ackFirst === true) {
					this.#acknowledge(packet);
					this.#call(this.#options.onMessage, packet);
				}
				else {
					this.#call(this.#options.onMessage, packet);
					this.#acknowledge(packet);
				}
				return;
			case PacketType.PUBACK:
				if (this.#inflight.delete(packet.packetId)) this.#call(this.#options.onPublish, packet.packetId);
				return;
			case PacketType.SUBACK: {
				const expected = this.#pendingAcks.get(packet.packetId);
				if (expected === undefined || expected < 0) return;
				if (packet.returnCodes.length !== expected) {
					this.#violation(`SUBACK ${packet.packetId} has ${packet.returnCodes.length} return codes for ${expected} filters`);
					return;
				}
				this.#pendingAcks.delete(packet.packetId);
				this.#call(this.#options.onSubscribe, packet.packetId, packet.returnCodes);
				return;
			}
			case PacketType.UNSUBACK: {
				const expected = this.#pendingAcks.get(packet.packetId);
				if (expected === undefined || expected > 0) return;
				this.#pendingAcks.delete(packet.packetId);
				this.#call(this.#options.onUnsubscribe, packet.packetId);
				return;
			}
			case PacketType.PINGRESP:
				this.#pingDeadline = 0;
				return;
			default:
				this.#violation(`unexpected packet type ${packet.type} from the server`);
		}
	}

	#acknowledge(packet: PublishPacket): void {
		if (packet.qos !== 1 || this.#socket === undefined) return;
		if (this.#ackRoom > 0) this.#ackRoom--;
		this.#send(this.#encoder.encode({ type: PacketType.PUBACK, packetId: packet.packetId }));
	}

	/** Runs a user callback; an exception is kept for later so the session stays consistent. */
	#call<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
		if (callback === undefined) return;
		try {
			callback.apply(this, args);
		}
		catch (cause) {
			if (!this.#callbackFailed) {
				this.#callbackFailed = true;
				this.#callbackError = cause;
			}
		}
	}

	#rethrowCallbackError(): void {
		if (!this.#callbackFailed) return;
		const cause = this.#callbackError;
		this.#callbackFailed = false;
		this.#callbackError = undefined;
		throw cause;
	}

	#schedule(delay: number): void {
		if (this.#timer !== undefined) {
			this.#clock.clearTimeout(this.#timer);
			this.#timer = undefined;
		}
		if (delay >= 0) this.#timer = this.#clock.setTimeout(this.#onTimer, delay);
	}

	#tick(): void {
		this.#timer = undefined;
		const now = this.#clock.now();
		const state = this.#state;
		if (state === ClientState.CLOSED) return;
		if (state !== ClientState.CONNECTED && state !== ClientState.DISCONNECTING) {
			if (now >= this.#connectDeadline) {
				this.#finish(error(MqttErrorCode.CONNECT_TIMEOUT, `no CONNACK within ${this.#connectTimeout} ms`));
				this.#rethrowCallbackError();
			}
			else this.#schedule(this.#connectDeadline - now);
			return;
		}
		if (this.#keepalive === 0) return;
		if (this.#pingDeadline !== 0 && now >= this.#pingDeadline) {
			this.#finish(error(MqttErrorCode.KEEPALIVE_TIMEOUT, `no PINGRESP within ${this.#pingTimeout} ms`));
			this.#rethrowCallbackError();
			return;
		}
		const interval = this.#keepalive * 1000;
		let due = this.#lastSent + interval;
		if (now >= due && this.#pingDeadline === 0) {
			this.#pingDeadline = now + this.#pingTimeout;
			this.#send(this.#encoder.encode(PINGREQ));
			due = now + interval;
		}
		if (this.#state === ClientState.CLOSED) return;
		let next = due - now;
		if (this.#pingDeadline !== 0) next = Math.min(next, this.#pingDeadline - now);
		this.#schedule(Math.max(next, 0));
	}

	/** Ends the connection and reports it once. */
	#finish(reason: MqttError | undefined): void {
		if (this.#state === ClientState.CLOSED) return;
		this.#teardown();
		this.#call(this.#options.onClose, reason);
	}

	#teardown(): void {
		this.#state = ClientState.CLOSED;
		this.#schedule(-1);
		const socket = this.#socket;
		this.#socket = undefined;
		this.#writable = 0;
		this.#clearQueue();
		this.#pendingAcks.clear();
		this.#pingDeadline = 0;
		if (socket !== undefined) {
			try {
				socket.close();
			}
			catch {
				// A socket that fails to close is gone either way.
			}
		}
	}
}
