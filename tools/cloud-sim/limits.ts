/*
 * The limits AWS IoT Core's message broker puts on a device connection, which
 * the embedded broker enforces as the service does (docs/protocol.md §11.6):
 * publishes per second per connection, the PUBLISH payload size and the range
 * of the keepalive interval.
 */

export interface BrokerLimits {
	/** PUBLISH packets one connection may send in a second; more are discarded. 0: no limit. */
	publishesPerSecond: number;
	/**
	 * Discarded publishes in one second after which the connection is closed (the
	 * service's THROTTLED disconnect); the service does not publish its figure.
	 */
	discardsBeforeDisconnect: number;
	/** Largest PUBLISH payload in bytes; a larger one closes the connection. */
	maxPayload: number;
	/** Keepalive range in seconds: a CONNECT asking less (0 included) gets the minimum, more gets the maximum. */
	minKeepalive: number;
	maxKeepalive: number;
}

export const AWS_IOT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
	publishesPerSecond: 100,
	discardsBeforeDisconnect: 100,
	maxPayload: 128 * 1024,
	minKeepalive: 30,
	maxKeepalive: 1200,
});

/** The keepalive the broker applies for the one a CONNECT asked for. */
export function effectiveKeepalive(requested: number, limits: BrokerLimits): number {
	if (requested === 0) return limits.maxKeepalive;
	return Math.min(limits.maxKeepalive, Math.max(limits.minKeepalive, requested));
}

export type ThrottleVerdict = "pass" | "discard" | "disconnect";

/** Counts one connection's publishes in one-second windows. */
export class PublishThrottle {
	readonly #limits: BrokerLimits;
	readonly #now: () => number;
	#windowStart = -Infinity;
	#passed = 0;
	#discarded = 0;

	constructor(limits: BrokerLimits, now: () => number = Date.now) {
		this.#limits = limits;
		this.#now = now;
	}

	/** The verdict on the next PUBLISH of the connection. */
	next(): ThrottleVerdict {
		if (this.#limits.publishesPerSecond === 0) return "pass";
		const now = this.#now();
		if (now - this.#windowStart >= 1000) {
			this.#windowStart = now;
			this.#passed = 0;
			this.#discarded = 0;
		}
		if (this.#passed < this.#limits.publishesPerSecond) {
			this.#passed++;
			return "pass";
		}
		this.#discarded++;
		return this.#discarded >= this.#limits.discardsBeforeDisconnect ? "disconnect" : "discard";
	}
}
