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
