/*
 * What the cloud stored of a soak, read back through its REST API
 * (GET /v1/messages, page by page after the last sequence number seen): each
 * d2c message of the device whose data is a sequence number of the soak.
 * Counts every copy, so duplicates (resends of a message whose PUBACK was cut)
 * show, and names the numbers missing.
 */

import type { Endpoints } from "../cloud-sim/main.js";

interface MessageItem {
	seq: number;
	message: unknown;
}

export interface StoredCount {
	/** Distinct sequence numbers stored. */
	stored: number;
	/** Sequence numbers 0 to sent - 1 not stored. */
	lost: number;
	/** Copies beyond the first. */
	duplicates: number;
	/** The first missing numbers (up to 20). */
	missing: number[];
	/** Messages of the device that carry no sequence number of the soak. */
	foreign: number;
}

export class StoredSequences {
	readonly #endpoints: () => Endpoints;
	readonly #deviceId: string;
	readonly #copies = new Map<number, number>();
	#after = 0;
	#foreign = 0;

	constructor(endpoints: () => Endpoints, deviceId: string) {
		this.#endpoints = endpoints;
		this.#deviceId = deviceId;
	}

	/** Distinct sequence numbers seen so far. */
	get distinct(): number {
		return this.#copies.size;
	}

	/** Reads the messages stored since the last read. */
	async read(): Promise<void> {
		for (;;) {
			const { httpPort, apiKey } = this.#endpoints();
			const url = `http://127.0.0.1:${httpPort}/v1/messages?deviceId=${encodeURIComponent(this.#deviceId)}&direction=d2c&pageLimit=1000&after=${this.#after}`;
			// Bounded: a cloud that stops answering fails the count instead of holding it forever.
			const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(30_000) });
			if (response.status !== 200) throw new Error(`GET /v1/messages answered ${response.status}: ${await response.text()}`);
			const items = ((await response.json()) as { items: MessageItem[] }).items;
			if (items.length === 0) return;
			for (const item of items) {
				const data = (item.message as { data?: unknown } | null)?.data;
				const seq = typeof data === "string" && /^\d+$/.test(data) ? Number(data) : NaN;
				if (Number.isSafeInteger(seq)) this.#copies.set(seq, (this.#copies.get(seq) ?? 0) + 1);
				else this.#foreign++;
			}
			this.#after = items.at(-1)!.seq;
		}
	}

	/** The count against the `sent` numbers 0 to sent - 1. */
	count(sent: number): StoredCount {
		let stored = 0;
		let duplicates = 0;
		const missing: number[] = [];
		let lost = 0;
		for (let seq = 0; seq < sent; seq++) {
			const copies = this.#copies.get(seq) ?? 0;
			if (copies === 0) {
				lost++;
				if (missing.length < 20) missing.push(seq);
				continue;
			}
			stored++;
			duplicates += copies - 1;
		}
		let foreign = this.#foreign;
		for (const [seq, copies] of this.#copies) if (seq >= sent) foreign += copies;
		return { stored, lost, duplicates, missing, foreign };
	}
}

/**
 * Reads the stores until each holds all `sent` numbers, or until none has
 * grown for `settleMs` (what is missing then is lost). `check` may throw to
 * stop (a device that ended). Resolves with the time the stores last grew.
 */
export async function readUntilSettled(stores: readonly StoredSequences[], sent: number, settleMs: number, check: () => void = () => {}): Promise<number> {
	let last = -1;
	let lastChange = Date.now();
	for (;;) {
		for (const store of stores) if (store.distinct < sent) await store.read();
		const distinct = stores.reduce((sum, store) => sum + store.distinct, 0);
		if (distinct !== last) {
			last = distinct;
			lastChange = Date.now();
		}
		if (stores.every((store) => store.distinct >= sent) || Date.now() - lastChange > settleMs) return lastChange;
		check();
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
}
