/*
 * Job status updates on jobs/update (docs/protocol.md §7.4), one at a time.
 * Every update carries packet id 8768, as in the C library; MQTT forbids two
 * unacknowledged publishes with one id, so the next update waits for the
 * PUBACK of the one before; they go in order, none is dropped (a job makes
 * at most 100 / progressPercentIncrement + 3 of them). An update whose
 * connection ended before its PUBACK is sent again on the next connection.
 */

import { jobUpdate } from "../nrf-cloud/codec.js";
import { FotaStatus } from "../nrf-cloud/constants.js";

interface Update {
	payload: string;
	/** Runs on the update's PUBACK. */
	acknowledged: (() => void) | undefined;
}

/** Publishes on jobs/update with id 8768; false when it could not be queued (no connection, no topics). */
export type UpdatePublisher = (payload: string) => boolean;

export class JobReports {
	readonly #publish: UpdatePublisher;
	readonly #waiting: Update[] = [];
	#inFlight: Update | undefined = undefined;

	constructor(publish: UpdatePublisher) {
		this.#publish = publish;
	}

	/** ["<id>",7,<percent>]. */
	progress(jobId: string, percent: number): void {
		this.send(jobUpdate(jobId, FotaStatus.DOWNLOADING, percent));
	}

	/** ["<id>",<status>,"<message>"]; `acknowledged` runs on its PUBACK. */
	status(jobId: string, status: number, message: string, acknowledged?: () => void): void {
		this.send(jobUpdate(jobId, status, message), acknowledged);
	}

	/** A raw update payload (a stored validation result, §7.4 table). */
	send(payload: string, acknowledged?: () => void): void {
		this.#waiting.push({ payload, acknowledged });
		this.#pump();
	}

	/** The PUBACK of packet id 8768. */
	acknowledged(): void {
		const done = this.#inFlight;
		if (done === undefined) return;
		this.#inFlight = undefined;
		done.acknowledged?.();
		this.#pump();
	}

	/** The FOTA topics are known again: send what waits. */
	resume(): void {
		this.#pump();
	}

	/** The connection ended: an update without its PUBACK goes again first. */
	connectionEnded(): void {
		const lost = this.#inFlight;
		this.#inFlight = undefined;
		if (lost !== undefined) this.#waiting.unshift(lost);
	}

	#pump(): void {
		if (this.#inFlight !== undefined) return;
		const next = this.#waiting[0];
		if (next === undefined || !this.#publish(next.payload)) return;
		this.#waiting.shift();
		this.#inFlight = next;
	}
}
