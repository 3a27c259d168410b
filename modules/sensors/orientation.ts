/*
 * Which way up the board is, nRF Cloud's FLIP sensor: "NORMAL" or
 * "UPSIDE_DOWN", with a callback on each change. On the Thingy:91 its
 * accelerometer (Zephyr's sensor API, the ADXL362): upside down while gravity
 * points out of the board's top. The nRF9160 DK has no accelerometer: there
 * Switch 1 stands for it (dk_buttons_and_leds' DK_BTN3; on: upside down). In
 * the simulator host the control line "flip NORMAL" or "flip UPSIDE_DOWN" on
 * standard input (--control stdin).
 */

export type FlipState = "NORMAL" | "UPSIDE_DOWN";

export interface OrientationOptions {
	onChange(orientation: FlipState): void;
}

const STATES: readonly FlipState[] = Object.freeze(["NORMAL", "UPSIDE_DOWN"]);

/** The C binding alone: each member is exactly one native call. */
class NativeOrientation extends Native("xs_orientation_destructor") {
	constructor(onChange: (upsideDown: number) => void) {
		super();
		native("xs_orientation_constructor").call(this, onChange);
	}

	/** 1 while upside down. */
	read(): number {
		return native("xs_orientation_read").call(this);
	}

	close(): void {
		native("xs_orientation_close").call(this);
	}
}

export class Orientation {
	readonly #native: NativeOrientation;
	#closed = false;

	constructor(options: OrientationOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		const { onChange } = options;
		if (typeof onChange !== "function") throw new TypeError("onChange must be a function");
		this.#native = new NativeOrientation((upsideDown: number) => onChange.call(options, STATES[upsideDown ? 1 : 0]!));
	}

	/** The orientation now. */
	read(): FlipState {
		if (this.#closed) throw new Error("the orientation sensor is closed");
		return STATES[this.#native.read() ? 1 : 0]!;
	}

	/** Stops reporting changes. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#native.close();
	}
}
