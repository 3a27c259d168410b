/*
 * The offline queue (NrfCloudConfig.offlineQueue, docs/protocol.md §12): QoS 1
 * messages the application sends wait here, bounded by count and bytes, until
 * the connection is READY, and stay until their PUBACK. Once READY they go out
 * in order, paced: at most `maxInFlight` unacknowledged and at most
 * `perSecond` publishes a second, below the cloud's 100 per connection.
 * A message in flight when the connection ends is sent again on the next one:
 * with the same packet id and DUP when the session was resumed, as a new
 * publish otherwise. With a store the queue is written through to it
 * (queue-store.ts) and read back when the library starts.
 */

import { OneShotTimer, type Clock } from "../platform/clock.js";
import { Errno } from "../platform/errno.js";
import type { QueueTopicValue, StoredMessage } from "./queue-record.js";
import { MAX_PERSISTED_PAYLOAD, type QueueStore } from "./queue-store.js";

export { QueueTopic, type QueueTopicValue } from "./queue-record.js";

export interface OfflineQueueOptions {
	/** Messages the queue holds at most. */
	messages: number;
	/** Payload bytes the queue holds at most. */
	bytes: number;
	/** Unacknowledged queue publishes at once. */
	maxInFlight: number;
	/** Queue publishes per second at most. */
	perSecond: number;
}

export interface QueuePort {
	/**
	 * Publishes at QoS 1; returns the packet id or -errno (-EAGAIN: no room in
	 * the MQTT client now). `dupId` non-zero: resend under that id with DUP set.
	 */
	publish(topic: QueueTopicValue, payload: Uint8Array, tag: number, dupId: number): number;
	log(line: string): void;
}

export interface QueuedMessage {
	readonly seq: number;
	readonly topic: QueueTopicValue;
	readonly tag: number;
	readonly payload: Uint8Array;
}

interface Entry extends QueuedMessage {
	/** Packet id while in flight on the current connection, else 0. */
	packetId: number;
	/** Packet id it had when the previous connection ended unacknowledged, else 0. */
	lastId: number;
}

export interface OfflineQueueStats {
	messages: number;
	bytes: number;
	inFlight: number;
	/** Damaged stored records found (and dropped) when the queue was loaded. */
	corrupt: number;
}

export class OfflineQueue {
	readonly #options: OfflineQueueOptions;
	readonly #port: QueuePort;
	readonly #clock: Clock;
	readonly #timer: OneShotTimer;
	readonly #store: QueueStore | undefined;
	readonly #interval: number;
	readonly #entries: Entry[] = [];
	#bytes = 0;
	#inFlight = 0;
	#next = 0;
	#corrupt = 0;
	#ready = false;
	#resumed = false;
	#earliest = 0;
	/** Counts the connections that ended, so that a publish can tell its connection ended under it. */
	#connection = 0;

	constructor(options: OfflineQueueOptions, port: QueuePort, clock: Clock, store?: QueueStore) {
		this.#options = options;
		this.#port = port;
		this.#clock = clock;
		this.#timer = new OneShotTimer(clock, () => this.#pump());
		this.#store = store;
		this.#interval = Math.ceil(1000 / options.perSecond);
	}

	/** Reads the stored queue back (once, when the library starts). */
	load(): void {
		if (this.#store === undefined) return;
		const loaded = this.#store.load();
		this.#corrupt += loaded.corrupt;
		this.#next = loaded.next;
		for (const message of loaded.messages) {
			this.#entries.push({ ...message, packetId: 0, lastId: 0 });
			this.#bytes += message.payload.length;
		}
		if (loaded.messages.length > 0) this.#port.log(`offline queue: ${loaded.messages.length} stored messages to send`);
	}

	get stats(): OfflineQueueStats {
		return { messages: this.#entries.length, bytes: this.#bytes, inFlight: this.#inFlight, corrupt: this.#corrupt };
	}

	/** The messages queued, oldest first (in flight included). */
	get messages(): readonly QueuedMessage[] {
		return this.#entries.map(({ seq, topic, tag, payload }) => ({ seq, topic, tag, payload }));
	}

	#first(): number {
		return this.#entries.length > 0 ? this.#entries[0]!.seq : this.#next;
	}

	/** Queues a message behind every queued one: 0, -ENOMEM (full), -EMSGSIZE (larger than a record can hold), -EIO (not stored). */
	add(topic: QueueTopicValue, payload: Uint8Array, tag: number): number {
		const o = this.#options;
		if (this.#entries.length >= o.messages || this.#bytes + payload.length > o.bytes) return -Errno.ENOMEM;
		const seq = this.#next;
		if (this.#store !== undefined) {
			if (payload.length > MAX_PERSISTED_PAYLOAD) return -Errno.EMSGSIZE;
			// The stored window [first, next) is read back one key at a time: keep it as short as the queue.
			if (((seq - this.#first()) >>> 0) >= o.messages) return -Errno.ENOMEM;
			const stored: StoredMessage = { seq, topic, tag, payload };
			if (!this.#store.append(stored, this.#entries.length > 0 ? this.#first() : seq)) return -Errno.EIO;
		}
		this.#next = (seq + 1) >>> 0;
		this.#entries.push({ seq, topic, tag, payload: payload.slice(), packetId: 0, lastId: 0 });
		this.#bytes += payload.length;
		this.#pump();
		return 0;
	}

	/** The connection is READY: send what waits. `resumed`: the broker kept the session. */
	start(resumed: boolean): void {
		this.#ready = true;
		this.#resumed = resumed;
		this.#pump();
	}

	/** Still connected but not READY (the device was disassociated): send nothing new. */
	pause(): void {
		this.#ready = false;
		this.#timer.cancel();
	}

	/** The connection ended: what was in flight is sent again on the next one. */
	connectionLost(): void {
		this.#connection++;
		this.#ready = false;
		this.#timer.cancel();
		for (const entry of this.#entries) {
			if (entry.packetId === 0) continue;
			entry.lastId = entry.packetId;
			entry.packetId = 0;
		}
		this.#inFlight = 0;
	}

	/** A PUBACK: the queued message it acknowledges leaves the queue (and is returned), or undefined. */
	acknowledged(packetId: number): QueuedMessage | undefined {
		if (packetId === 0) return undefined;
		const index = this.#entries.findIndex((entry) => entry.packetId === packetId);
		if (index < 0) return undefined;
		const [entry] = this.#entries.splice(index, 1);
		this.#bytes -= entry!.payload.length;
		this.#inFlight--;
		this.#store?.remove(entry!.seq, this.#first());
		this.#pump();
		return { seq: entry!.seq, topic: entry!.topic, tag: entry!.tag, payload: entry!.payload };
	}

	#pump(): void {
		if (!this.#ready || this.#timer.pending) return;
		for (const entry of this.#entries) {
			if (!this.#ready || this.#inFlight >= this.#options.maxInFlight) return;
			if (entry.packetId !== 0) continue;
			const now = this.#clock.now();
			if (now < this.#earliest) {
				this.#timer.start(this.#earliest - now);
				return;
			}
			const dupId = this.#resumed ? entry.lastId : 0;
			const connection = this.#connection;
			const id = this.#port.publish(entry.topic, entry.payload, entry.tag, dupId);
			// A write that fails at once ends the connection inside publish(): the message was
			// not in flight on a connection that lives on, so it goes again on the next one.
			if (connection !== this.#connection) return;
			if (id <= 0) {
				// -EAGAIN: the next PUBACK makes room; with nothing in flight, try again after one interval.
				if (id === -Errno.EAGAIN && this.#inFlight > 0) return;
				this.#port.log(`offline queue: message ${entry.seq} not sent (${id}); trying again`);
				if (this.#ready) this.#timer.start(this.#interval);
				return;
			}
			entry.packetId = id;
			entry.lastId = 0;
			this.#inFlight++;
			this.#earliest = this.#clock.now() + this.#interval;
		}
	}
}
