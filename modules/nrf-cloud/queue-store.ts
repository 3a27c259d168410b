/*
 * The offline queue's records in the settings store (docs/protocol.md §12.4).
 * Write order keeps what the application was told: a message's record is
 * written before the position that counts it, so a kill between the two loses
 * only a message whose send had not returned yet; a record is deleted before the
 * position moves past it, so a kill in between leaves a gap that loading skips.
 * Two position slots are written in turn: a torn position write leaves the
 * other slot, one generation older, intact.
 */

import type { SettingsStore } from "./settings.js";
import { decodeMessage, decodePosition, encodeMessage, encodePosition, MESSAGE_OVERHEAD, type QueuePosition, type StoredMessage } from "./queue-record.js";

/** The largest value the key-value stores take (native/storage: MAX_VALUE). */
export const MAX_RECORD = 4096;
/** The largest payload one persisted message may carry. */
export const MAX_PERSISTED_PAYLOAD = MAX_RECORD - MESSAGE_OVERHEAD;
const POSITION_KEYS = ["queue/pos0", "queue/pos1"] as const;

export function messageKey(seq: number): string {
	return `queue/m${seq >>> 0}`;
}

export interface QueueLoad {
	messages: StoredMessage[];
	/** Records that failed their check and were dropped. */
	corrupt: number;
	/** The sequence number the next message gets. */
	next: number;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class QueueStore {
	readonly #store: SettingsStore;
	readonly #log: (line: string) => void;
	#generation = 0;
	#slot = 0;
	#first = 0;
	#next = 0;

	constructor(store: SettingsStore, log: (line: string) => void) {
		this.#store = store;
		this.#log = log;
	}

	#read(key: string): Uint8Array | undefined {
		try {
			const value = this.#store.read(key);
			return value === undefined ? undefined : new Uint8Array(value);
		}
		catch (error) {
			this.#log(`offline queue: reading ${key} failed: ${describe(error)}`);
			return undefined;
		}
	}

	#delete(key: string): void {
		try {
			this.#store.delete(key);
		}
		catch (error) {
			this.#log(`offline queue: deleting ${key} failed: ${describe(error)}`);
		}
	}

	/** Reads the queue back; damaged records are reported, deleted and skipped. */
	load(): QueueLoad {
		let corrupt = 0;
		let best: QueuePosition | undefined;
		let bestSlot = 0;
		for (let slot = 0; slot < POSITION_KEYS.length; slot++) {
			const bytes = this.#read(POSITION_KEYS[slot]!);
			if (bytes === undefined) continue;
			const position = decodePosition(bytes);
			if (position === undefined) {
				corrupt++;
				this.#log(`offline queue: ${POSITION_KEYS[slot]} is damaged (${bytes.length} bytes); the other slot is used`);
				continue;
			}
			if (best === undefined || position.generation > best.generation) {
				best = position;
				bestSlot = slot;
			}
		}
		const messages: StoredMessage[] = [];
		if (best === undefined) {
			if (corrupt > 0) this.#log("offline queue: no intact position record; the stored queue cannot be found and starts empty");
			return { messages, corrupt, next: 0 };
		}
		this.#generation = best.generation;
		this.#slot = bestSlot ^ 1;
		this.#first = best.first;
		this.#next = best.next;
		for (let seq = best.first; seq !== best.next; seq = (seq + 1) >>> 0) {
			const key = messageKey(seq);
			const bytes = this.#read(key);
			// Absent: acknowledged and deleted before the position moved past it.
			if (bytes === undefined) continue;
			const message = decodeMessage(bytes);
			if (message === undefined || message.seq !== seq) {
				corrupt++;
				this.#log(`offline queue: record ${key} is damaged (${bytes.length} bytes) and dropped`);
				this.#delete(key);
				continue;
			}
			messages.push(message);
		}
		return { messages, corrupt, next: best.next };
	}

	#writePosition(first: number, next: number): void {
		const generation = (this.#generation + 1) >>> 0;
		this.#store.write(POSITION_KEYS[this.#slot]!, encodePosition({ generation, first, next }));
		this.#generation = generation;
		this.#slot ^= 1;
		this.#first = first;
		this.#next = next;
	}

	/** Stores `message` (its seq is the window's next); false (logged) when the store refused it. */
	append(message: StoredMessage, first: number): boolean {
		try {
			this.#store.write(messageKey(message.seq), encodeMessage(message));
			this.#writePosition(first, (message.seq + 1) >>> 0);
			return true;
		}
		catch (error) {
			this.#log(`offline queue: storing message ${message.seq} failed: ${describe(error)}`);
			this.#delete(messageKey(message.seq));
			return false;
		}
	}

	/** The message was acknowledged; `first` is the oldest sequence number still queued (or next). */
	remove(seq: number, first: number): void {
		this.#delete(messageKey(seq));
		if (first === this.#first) return;
		try {
			this.#writePosition(first, this.#next);
		}
		catch (error) {
			this.#log(`offline queue: moving the queue position failed: ${describe(error)}`);
		}
	}
}
