/*
 * Library-managed reconnects (NrfCloudConfig.reconnect, docs/protocol.md §13):
 * exponential backoff with full jitter. The n-th attempt in a row waits a
 * random time in [0, min(maxMs, minMs·2^n)]; a READY that lasted stableMs
 * starts the count again. Once stopped (the application's disconnect()) it
 * schedules nothing until started again (its connect()).
 */

import type { Clock, TimerHandle } from "../platform/clock.js";
import type { ResolvedReconnect } from "./config.js";

/** Exponents above this already exceed any maxMs the configuration allows. */
const MAX_EXPONENT = 40;

/** The full-jitter delay of attempt `attempt` (0 first): an integer in [0, min(maxMs, minMs·2^attempt)]. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
	const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, MAX_EXPONENT));
	const r = random();
	const unit = typeof r === "number" && r >= 0 && r < 1 ? r : 0;
	return Math.floor(unit * (cap + 1));
}

export class Reconnector {
	readonly #options: ResolvedReconnect;
	readonly #clock: Clock;
	readonly #random: () => number;
	readonly #connect: () => void;
	#attempt = 0;
	#readyAt: number | undefined = undefined;
	#timer: TimerHandle | undefined = undefined;
	#stopped = false;
	#lastDelay: number | undefined = undefined;
	readonly #onTimer = (): void => {
		this.#timer = undefined;
		if (!this.#stopped) this.#connect();
	};

	constructor(options: ResolvedReconnect, clock: Clock, random: () => number, connect: () => void) {
		this.#options = options;
		this.#clock = clock;
		this.#random = random;
		this.#connect = connect;
	}

	/** Attempts in a row since the last reset. */
	get attempt(): number {
		return this.#attempt;
	}

	/** A reconnect is waiting for its timer. */
	get scheduled(): boolean {
		return this.#timer !== undefined;
	}

	/** The delay chosen for the last scheduled reconnect, ms. */
	get lastDelay(): number | undefined {
		return this.#lastDelay;
	}

	/** The application connects: reconnects are allowed again; a waiting one is no longer needed. */
	start(): void {
		this.#stopped = false;
		this.#cancel();
	}

	/** The application disconnects: never reconnect until start(). */
	stop(): void {
		this.#stopped = true;
		this.#cancel();
	}

	ready(): void {
		this.#readyAt = this.#clock.now();
	}

	/** The library cycles the connection on purpose (after an association): no backoff for it. */
	cycle(): void {
		this.#attempt = 0;
		this.#readyAt = undefined;
	}

	/** A connection ended or a connect failed: schedule the next attempt. */
	lost(): void {
		if (this.#readyAt !== undefined && this.#clock.now() - this.#readyAt >= this.#options.stableMs) this.#attempt = 0;
		this.#readyAt = undefined;
		if (this.#stopped || this.#timer !== undefined) return;
		const delay = backoffDelay(this.#attempt, this.#options.minMs, this.#options.maxMs, this.#random);
		this.#attempt = Math.min(this.#attempt + 1, MAX_EXPONENT);
		this.#lastDelay = delay;
		this.#timer = this.#clock.setTimeout(this.#onTimer, delay);
	}

	#cancel(): void {
		if (this.#timer === undefined) return;
		this.#clock.clearTimeout(this.#timer);
		this.#timer = undefined;
	}
}
