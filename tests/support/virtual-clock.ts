/*
 * A clock for MqttClient's `clock` option whose time moves only when the test
 * says so: timers fire in due order inside advance(), so keepalive and connect
 * timeouts are tested in microseconds of real time.
 */

import type { Clock, TimerHandle } from "../../modules/platform/clock.js";

interface Timer {
	id: number;
	due: number;
	callback: () => void;
}

export class VirtualClock implements Clock {
	#now = 0;
	#nextId = 1;
	readonly #timers = new Map<number, Timer>();

	now(): number {
		return this.#now;
	}

	setTimeout(callback: () => void, milliseconds: number): TimerHandle {
		const timer = { id: this.#nextId++, due: this.#now + Math.max(0, milliseconds), callback };
		this.#timers.set(timer.id, timer);
		return timer.id;
	}

	clearTimeout(handle: TimerHandle): void {
		this.#timers.delete(handle as number);
	}

	/** Timers waiting to fire. */
	get pending(): number {
		return this.#timers.size;
	}

	/** Moves time on by `milliseconds`, firing every timer that falls due, earliest first. */
	advance(milliseconds: number): void {
		const end = this.#now + milliseconds;
		for (;;) {
			let next: Timer | undefined;
			for (const timer of this.#timers.values()) if (timer.due <= end && (next === undefined || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) next = timer;
			if (next === undefined) break;
			this.#timers.delete(next.id);
			this.#now = next.due;
			next.callback();
		}
		this.#now = end;
	}
}
