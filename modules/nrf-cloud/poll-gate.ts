/*
 * Without the poll thread, the C library reads its socket only inside
 * nrf_cloud_process(). The gate gives the same timing: socket readable and
 * error callbacks wait here until process(); with the poll thread they pass
 * straight through.
 */

import type { SocketCallbacks, SocketError } from "../platform/socket.js";

export class PollGate {
	readonly #holds: boolean;
	#target: SocketCallbacks | undefined = undefined;
	#readPending = false;
	#errorPending = false;
	#error: SocketError | undefined = undefined;

	/** `holds`: no poll thread, so events wait for process(). */
	constructor(holds: boolean) {
		this.#holds = holds;
	}

	/** Socket events are waiting for process(). */
	get pending(): boolean {
		return this.#readPending || this.#errorPending;
	}

	readable(target: SocketCallbacks, count: number): void {
		if (!this.#holds) {
			target.onReadable(count);
			return;
		}
		this.#readPending = true;
		this.#target = target;
	}

	error(target: SocketCallbacks, error: SocketError | undefined): void {
		if (!this.#holds) {
			target.onError(error);
			return;
		}
		this.#errorPending = true;
		this.#error = error;
		this.#target = target;
	}

	/** Delivers what waits: the read first, then the end of the connection. */
	process(): void {
		const target = this.#target;
		if (target === undefined) return;
		if (this.#readPending) {
			this.#readPending = false;
			target.onReadable(1);
		}
		if (this.#errorPending) {
			this.#errorPending = false;
			const error = this.#error;
			this.#error = undefined;
			target.onError(error);
		}
	}

	/** Forgets what waits (a new connection, or the old one is gone). */
	clear(): void {
		this.#target = undefined;
		this.#readPending = false;
		this.#errorPending = false;
		this.#error = undefined;
	}
}
