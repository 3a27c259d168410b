/*
 * The link faults of a soak: every `minMs` to `maxMs` (uniformly, from a
 * seeded generator so that a run can be replayed) the fault proxy cuts every
 * connection it carries, as a radio link that drops.
 */

import { seededRandom, type FaultProxy } from "../lib/fault-proxy.js";

export class LinkCutter {
	readonly #proxy: FaultProxy;
	readonly #minMs: number;
	readonly #maxMs: number;
	readonly #random: () => number;
	#timer: ReturnType<typeof setTimeout> | undefined = undefined;
	/** Cuts that found a connection to cut. */
	cuts = 0;

	constructor(proxy: FaultProxy, options: { minMs: number; maxMs: number; seed: number }) {
		const { minMs, maxMs, seed } = options;
		if (!Number.isInteger(minMs) || minMs < 1 || !Number.isInteger(maxMs) || maxMs < minMs) throw new RangeError("the cut interval needs whole milliseconds with 1 <= minMs <= maxMs");
		if (!Number.isInteger(seed)) throw new TypeError("seed must be an integer");
		this.#proxy = proxy;
		this.#minMs = minMs;
		this.#maxMs = maxMs;
		this.#random = seededRandom(seed);
	}

	start(): void {
		if (this.#timer !== undefined) return;
		this.#schedule();
	}

	stop(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#schedule(): void {
		const delay = this.#minMs + Math.floor(this.#random() * (this.#maxMs - this.#minMs + 1));
		this.#timer = setTimeout(() => {
			if (this.#proxy.cutAll() > 0) this.cuts++;
			this.#schedule();
		}, delay);
	}
}
