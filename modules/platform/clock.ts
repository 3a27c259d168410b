/*
 * Time and timers as a value the caller passes in (as coreMQTT's
 * getTimeFunction), so protocol timers run on a virtual clock in tests and on
 * whatever tick source a host has. The system clock uses the host's Date and
 * timer globals.
 */

export type TimerHandle = unknown;

export interface Clock {
	/** Milliseconds on a monotonic-enough scale; only differences matter. */
	now(): number;
	setTimeout(callback: () => void, milliseconds: number): TimerHandle;
	clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = Object.freeze({
	now: () => Date.now(),
	setTimeout: (callback: () => void, milliseconds: number) => setTimeout(callback, milliseconds),
	clearTimeout: (handle: TimerHandle) => clearTimeout(handle),
});

/** Throws TypeError unless `clock` has the three functions. */
export function checkClock(clock: unknown): Clock {
	const c = clock as Partial<Clock> | null;
	if (c === null || typeof c !== "object" || typeof c.now !== "function" || typeof c.setTimeout !== "function" || typeof c.clearTimeout !== "function")
		throw new TypeError("clock must provide now(), setTimeout() and clearTimeout()");
	return c as Clock;
}

/** One timer on a clock at a time: start() replaces a waiting one, cancel() may be called at any time. */
export class OneShotTimer {
	readonly #clock: Clock;
	readonly #fire: () => void;
	#handle: TimerHandle | undefined = undefined;

	constructor(clock: Clock, callback: () => void) {
		this.#clock = clock;
		this.#fire = () => {
			this.#handle = undefined;
			callback();
		};
	}

	/** The timer is waiting to fire. */
	get pending(): boolean {
		return this.#handle !== undefined;
	}

	start(milliseconds: number): void {
		this.cancel();
		this.#handle = this.#clock.setTimeout(this.#fire, milliseconds);
	}

	cancel(): void {
		if (this.#handle === undefined) return;
		this.#clock.clearTimeout(this.#handle);
		this.#handle = undefined;
	}
}
