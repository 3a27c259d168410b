/*
 * Book-keeping of pipelining (NrfCloudConfig.pipeline): which of the library's
 * requests went out ahead of the state machine, and the answers that overtook
 * it and wait until it asks. The transport sends; this only remembers, so the
 * state machine sees the C library's event order.
 */

import type { TransportEventData } from "./transport-events.js";

export class Pipeline {
	/** Requests sent ahead (packet ids); the state machine finds them done when it gets there. */
	readonly #ahead = new Set<number>();
	/** The shadow SUBACK is still due: control data waits for it. */
	#shadowAckDue = false;
	readonly #heldControl: TransportEventData[] = [];
	/** The c2d SUBACK came before the state machine asked for the subscription. */
	#dataAckEarly = false;

	clear(): void {
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

	/** Keeps control data that overtook the shadow SUBACK; false when nothing is held back. */
	holdControl(data: TransportEventData): boolean {
		if (!this.#shadowAckDue) return false;
		this.#heldControl.push(data);
		return true;
	}

	/** The shadow SUBACK arrived: what was held, oldest first. */
	releaseControl(): TransportEventData[] {
		this.#shadowAckDue = false;
		return this.#heldControl.splice(0, this.#heldControl.length);
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
