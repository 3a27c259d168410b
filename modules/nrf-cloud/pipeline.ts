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

/** What becomes of the paired report the state machine sends, given the one sent ahead (pairedReportAhead). */
export const ReportClaim = Object.freeze({
	/** None went ahead, or it was acknowledged and said something else: send this one. */
	SEND: 0,
	/** The same report went ahead; its PUBACK is still to come. */
	SENT: 1,
	/** The same report went ahead and its PUBACK is already here. */
	ACKNOWLEDGED: 2,
	/** Another report went ahead and waits for its PUBACK: this one follows it with the same packet id. */
	AFTER_AHEAD: 3,
} as const);
export type ReportClaimValue = typeof ReportClaim[keyof typeof ReportClaim];

/** What a PUBACK of the paired report's id answers. */
export const ReportAck = Object.freeze({
	/** The report the state machine sent: pass it on. */
	PASS: 0,
	/** The report sent ahead: the state machine has not claimed it yet (kept until it does) or no longer wants it. */
	AHEAD: 1,
	/** The report sent ahead, which the state machine's corrected report replaces: send that now. */
	REPLACE: 2,
} as const);
export type ReportAckValue = typeof ReportAck[keyof typeof ReportAck];

/** The life of a paired report sent ahead, from its sending to its PUBACK. */
const Ahead = Object.freeze({
	NONE: 0,
	/** Sent; the state machine has not got to its report yet. */
	UNCLAIMED: 1,
	/** The state machine's report is this one; the PUBACK is for it. */
	CLAIMED: 2,
	/** The shadow said the device is not associated: the PUBACK means nothing. */
	DROPPED: 3,
	/** The state machine's report differs and goes out on this one's PUBACK, with the same packet id. */
	REPLACED: 4,
} as const);
type AheadValue = typeof Ahead[keyof typeof Ahead];

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
	/** The paired report sent ahead (pairedReportAhead) and what became of it. */
	#report: AheadValue = Ahead.NONE;
	#aheadPayload = "";
	/** Its PUBACK came while it was UNCLAIMED. */
	#aheadAcknowledged = false;
	/** The state machine's paired report, waiting for the PUBACK of the one sent ahead (REPLACED). */
	#replacement = "";

	clear(): void {
		this.#report = Ahead.NONE;
		this.#aheadAcknowledged = false;
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

	/** The paired report `payload` went out ahead of the shadow's answer. */
	reportSentAhead(payload: string): void {
		this.#report = Ahead.UNCLAIMED;
		this.#aheadPayload = payload;
		this.#aheadAcknowledged = false;
	}

	/** The state machine sends the paired report `payload`. */
	claimReport(payload: string): ReportClaimValue {
		switch (this.#report) {
			case Ahead.UNCLAIMED: {
				const acknowledged = this.#aheadAcknowledged;
				this.#aheadAcknowledged = false;
				if (payload === this.#aheadPayload) {
					this.#report = acknowledged ? Ahead.NONE : Ahead.CLAIMED;
					return acknowledged ? ReportClaim.ACKNOWLEDGED : ReportClaim.SENT;
				}
				if (acknowledged) {
					this.#report = Ahead.NONE;
					return ReportClaim.SEND;
				}
				return this.#replaceWith(payload);
			}
			// Its packet id is taken until that PUBACK, and only that id moves the state machine on.
			case Ahead.DROPPED:
			case Ahead.REPLACED:
				return this.#replaceWith(payload);
			default:
				return ReportClaim.SEND;
		}
	}

	#replaceWith(payload: string): ReportClaimValue {
		this.#report = Ahead.REPLACED;
		this.#replacement = payload;
		return ReportClaim.AFTER_AHEAD;
	}

	/** The shadow says the device is not associated: a report sent ahead is no longer the state machine's. */
	dropReportAhead(): void {
		if (this.#report !== Ahead.UNCLAIMED) return;
		this.#report = this.#aheadAcknowledged ? Ahead.NONE : Ahead.DROPPED;
		this.#aheadAcknowledged = false;
	}

	/** A PUBACK of the paired report's packet id arrived. */
	reportAcknowledged(): ReportAckValue {
		switch (this.#report) {
			case Ahead.UNCLAIMED:
				this.#aheadAcknowledged = true;
				return ReportAck.AHEAD;
			case Ahead.DROPPED:
				this.#report = Ahead.NONE;
				return ReportAck.AHEAD;
			case Ahead.REPLACED:
				this.#report = Ahead.NONE;
				return ReportAck.REPLACE;
			case Ahead.CLAIMED:
				this.#report = Ahead.NONE;
				return ReportAck.PASS;
			default:
				return ReportAck.PASS;
		}
	}

	/** The corrected report to send after ReportAck.REPLACE. */
	get replacement(): string {
		return this.#replacement;
	}
}
