/*
 * One of the board's LEDs, in the shape of an ECMA-419 digital output: write
 * 1 to light it, 0 to turn it off. On the nRF9160 Zephyr's
 * dk_buttons_and_leds library (LED 1 is DK_LED1); in the simulator host each
 * change is a line "sim: LED n on|off" on standard error.
 */

export interface LedOptions {
	/** 1 to 4 (the nRF9160 DK's LED 1 to LED 4; on the Thingy:91 the RGB LED's red, green, blue). */
	led: number;
}

/** The C binding alone: each member is exactly one native call. */
class NativeLed extends Native("xs_led_destructor") {
	constructor(led: number) {
		super();
		native("xs_led_constructor").call(this, led);
	}

	write(value: number): void {
		native("xs_led_write").call(this, value);
	}

	close(): void {
		native("xs_led_close").call(this);
	}
}

export class Led extends NativeLed {
	#value = 0;
	#closed = false;

	constructor(options: LedOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		const { led } = options;
		if (!Number.isInteger(led) || led < 1 || led > 4) throw new RangeError("led must be 1 to 4");
		super(led);
	}

	/** The value last written (0 after opening). */
	read(): number {
		return this.#value;
	}

	override write(value: number): void {
		if (value !== 0 && value !== 1) throw new RangeError("an LED takes 0 or 1");
		if (this.#closed) throw new Error("the LED is closed");
		super.write(value);
		this.#value = value;
	}

	/** Releases the LED (left as it is). Idempotent. */
	override close(): void {
		if (this.#closed) return;
		this.#closed = true;
		super.close();
	}
}
