/*
 * The tracker's board: the GNSS receiver, the buttons, the FLIP orientation
 * and LED 1, opened once and closed when the firmware stops. Each input goes
 * to the cloud through `Outbox` only while it is connected; LED 1 follows the
 * cloud's LED CFG_SET messages.
 */

import { Buttons } from "sensors/buttons";
import { GnssReceiver, type GnssFix } from "sensors/gnss";
import { Led } from "sensors/leds";
import { Orientation, type FlipState } from "sensors/orientation";

/** Where the board's inputs go: the firmware's side (sends, when connected, and prints). */
export interface BoardEvents {
	fix(fix: GnssFix): void;
	button(button: number): void;
	flip(state: FlipState): void;
	led(state: number): void;
	print(line: string): void;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class Board {
	readonly #events: BoardEvents;
	#gnss: GnssReceiver | undefined;
	#buttons: Buttons | undefined;
	#orientation: Orientation | undefined;
	#led: Led | undefined;

	constructor(events: BoardEvents) {
		this.#events = events;
		try {
			this.#buttons = new Buttons({ onPress: (button) => events.button(button) });
			this.#orientation = new Orientation({ onChange: (state) => events.flip(state) });
			this.#led = new Led({ led: 1 });
		}
		catch (error) {
			events.print(`app: no buttons, orientation or LED: ${describe(error)}`);
		}
	}

	/** Starts the GNSS receiver (once; it keeps running across reconnections). */
	startGnss(): void {
		if (this.#gnss !== undefined) return;
		try {
			this.#gnss = new GnssReceiver({
				onFix: (fix) => this.#events.fix(fix),
				onError: (error) => this.#events.print(`app: GNSS stopped: ${error.message}`),
			});
		}
		catch (error) {
			this.#events.print(`app: no GNSS receiver: ${describe(error)}`);
		}
	}

	orientation(): FlipState {
		return this.#orientation?.read() ?? "NORMAL";
	}

	ledState(): number {
		return this.#led?.read() ?? 0;
	}

	/** Sets LED 1 and reports it; false when the board has no LED. */
	setLed(state: number): boolean {
		if (this.#led === undefined) return false;
		this.#led.write(state);
		this.#events.led(state);
		return true;
	}

	close(): void {
		this.#gnss?.close();
		this.#buttons?.close();
		this.#orientation?.close();
		this.#led?.close();
	}
}
