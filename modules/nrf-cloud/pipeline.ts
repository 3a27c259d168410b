/*
 * Book-keeping of pipelining (NrfCloudConfig.pipeline): which of the library's
 * requests went out ahead of the state machine, and the answers that overtook
 * it and wait until it asks. The transport sends; this only remembers, so the
 * state machine sees the C library's event order.
 */

import type { TransportEventData } from "./transport-events.js";

/**
 * Control messages held for the shadow SUBACK at most: a broker sends one
 * accepted document per GET and the odd delta; more means something is wrong,
 * and holding them would let the receive path grow without a bound.
 */
export const MAX_HELD_CONTROL = 8;

export const Hold = Object.freeze({ PASSED: 0, HELD: 1, FULL: 2 } as const);
export type HoldValue = typeof Hold[keyof typeof Hold];

export class Pipeline {
	/** Requests sent ahead (packet ids); the state machine finds them done when it gets there. */
	readonly #ahead = new Set<number>();
	/** The shadow SUBACK is still due: control data waits for it. */
	#shadowAckDue = false;
	readonly #heldControl: TransportEventData[] = [];
	/** The c2d SUBACK came before the state machine asked for the subscription. */
	#dataAckEarly = false;
	/**
	 * The GET went out twice on this connection: its first copy reached a session
	 * without subscriptions, whose answer a broker may still deliver if the
	 * SUBSCRIBE overtook it. Then only the first accepted document is the answer.
	 */
	#getSentTwice = false;
	#getAnswered = false;

	clear(): void {
		this.#getSentTwice = false;
		this.#getAnswered = false;
		this.#ahead.clear();
		this.#shadowAckDue = false;
		this.#heldControl.length = 0;
		this.#dataAckEarly = false;
	}

	sentAhead(packetId: number): void {
		this.#ahead.add(packetId);
	}

	isAhead(packetId: number): boolean {
		return this.#ahead.has(packetId);
	}

	/** The state machine asks for `packetId`: true when it already went out (it is then no longer ahead). */
	claim(packetId: number): boolean {
		return this.#ahead.delete(packetId);
	}

	/** The shadow SUBSCRIBE went out ahead: hold control data until its SUBACK. */
	awaitShadowAck(): void {
		this.#shadowAckDue = true;
	}

	/** Keeps control data that overtook the shadow SUBACK: PASSED when nothing is held back, FULL when no more can be. */
	holdControl(data: TransportEventData): HoldValue {
		if (!this.#shadowAckDue) return Hold.PASSED;
		if (this.#heldControl.length >= MAX_HELD_CONTROL) return Hold.FULL;
		this.#heldControl.push(data);
		return Hold.HELD;
	}

	/** Control messages held now. */
	get held(): number {
		return this.#heldControl.length;
	}

	/** The shadow SUBACK arrived: what was held, oldest first. */
	releaseControl(): TransportEventData[] {
		this.#shadowAckDue = false;
		return this.#heldControl.splice(0, this.#heldControl.length);
	}

	/** The GET is sent again on a session the broker did not keep. */
	getSentTwice(): void {
		this.#getSentTwice = true;
		this.#getAnswered = false;
	}

	/** The state machine sends a GET of its own: its answer is wanted, whatever came before. */
	getSentOnce(): void {
		this.#getSentTwice = false;
	}

	/** A shadow document on get/accepted: false for the second answer to a GET sent twice, which is a copy. */
	takeGetAnswer(): boolean {
		if (!this.#getSentTwice) return true;
		if (!this.#getAnswered) {
			this.#getAnswered = true;
			return true;
		}
		this.#getSentTwice = false;
		return false;
	}

	/** The c2d SUBACK arrived while its SUBSCRIBE was still ahead of the state machine. */
	dataAcknowledgedEarly(): void {
		this.#dataAckEarly = true;
	}

	/** True once when the c2d SUBACK came early. */
	takeEarlyDataAck(): boolean {
		const early = this.#dataAckEarly;
		this.#dataAckEarly = false;
		return early;
	}
}
