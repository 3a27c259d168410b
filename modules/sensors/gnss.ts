/*
 * The GNSS receiver: one callback per fix with its NMEA sentences (GGA and
 * RMC). On the nRF9160 the modem's GNSS (nrf_modem_gnss, NMEA mask GGA|RMC,
 * one fix a second); in the simulator host the NMEA log of --gnss FILE,
 * replayed at one fix a second from fix --gnss-offset N, looping.
 */

import { gnssFix, type GnssFix } from "./nmea.js";

export type { GnssFix } from "./nmea.js";

export interface GnssOptions {
	/** Called with each fix that has a GGA sentence with a valid checksum. */
	onFix(fix: GnssFix): void;
	/** Called when the receiver stops for good (the log could not be read, the modem refused); no fixes follow. */
	onError?(error: Error): void;
}

/** The C binding alone: each member is exactly one native call. */
class NativeGnss extends Native("xs_gnss_destructor") {
	constructor(onSentences: (text: string) => void, onError: (message: string) => void) {
		super();
		native("xs_gnss_constructor").call(this, onSentences, onError);
	}

	close(): void {
		native("xs_gnss_close").call(this);
	}
}

/** Bad options throw a TypeError; a receiver that cannot start at all throws an Error with an errno. */
export class GnssReceiver extends NativeGnss {
	#closed = false;

	constructor(options: GnssOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		const { onFix, onError } = options;
		if (typeof onFix !== "function") throw new TypeError("onFix must be a function");
		if (onError !== undefined && typeof onError !== "function") throw new TypeError("onError must be a function");
		super((text: string) => {
			const fix = gnssFix(text);
			if (fix !== undefined) onFix.call(options, fix);
		}, (message: string) => {
			onError?.call(options, new Error(message));
		});
	}

	/** Stops the receiver. Idempotent; no callbacks follow. */
	override close(): void {
		if (this.#closed) return;
		this.#closed = true;
		super.close();
	}
}
