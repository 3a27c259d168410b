/*
 * The board's push buttons: a callback per press with the button's number
 * (1 for Button 1). On the nRF9160 Zephyr's dk_buttons_and_leds library; in
 * the simulator host the control line "button N" on standard input
 * (--control stdin).
 */

export interface ButtonsOptions {
	onPress(button: number): void;
}

/** The C binding alone: each member is exactly one native call. */
class NativeButtons extends Native("xs_buttons_destructor") {
	constructor(onPress: (button: number) => void) {
		super();
		native("xs_buttons_constructor").call(this, onPress);
	}

	close(): void {
		native("xs_buttons_close").call(this);
	}
}

export class Buttons extends NativeButtons {
	#closed = false;

	constructor(options: ButtonsOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		const { onPress } = options;
		if (typeof onPress !== "function") throw new TypeError("onPress must be a function");
		super((button: number) => onPress.call(options, button));
	}

	/** Stops reporting presses. Idempotent. */
	override close(): void {
		if (this.#closed) return;
		this.#closed = true;
		super.close();
	}
}
