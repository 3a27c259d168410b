/*
 * The keys of `npm start` (standard input in raw mode on a terminal): a digit
 * chooses a device (0 all of them), `b` presses button 1 and `f` flips the
 * chosen devices over, `q` or Ctrl-C quits. A press becomes a control line for
 * the device's host (Supervision.send: `button 1`, `flip UPSIDE_DOWN`).
 */

export const KEY_HELP = "keys: b button 1, f flip, 1-9 choose a device, 0 all devices, q quit";

export type KeyAction =
	| { kind: "send"; devices: number[]; line: (device: number) => string }
	| { kind: "choose"; device: number | undefined }
	| { kind: "quit" }
	| { kind: "help" }
	| { kind: "none" };

export class KeyMap {
	readonly #count: number;
	/** 0-based; undefined: all. */
	#chosen: number | undefined = undefined;
	readonly #upsideDown: boolean[];

	constructor(count: number) {
		if (!Number.isInteger(count) || count < 1) throw new RangeError("a key map needs at least one device");
		this.#count = count;
		this.#upsideDown = new Array<boolean>(count).fill(false);
	}

	get chosen(): number | undefined {
		return this.#chosen;
	}

	#targets(): number[] {
		return this.#chosen === undefined ? [...Array(this.#count).keys()] : [this.#chosen];
	}

	/** What a key (one character of raw input) does. */
	press(key: string): KeyAction {
		if (key === "q" || key === "\u0003") return { kind: "quit" };
		if (key === "b") return { kind: "send", devices: this.#targets(), line: () => "button 1" };
		if (key === "f") {
			const devices = this.#targets();
			return {
				kind: "send", devices,
				line: (device) => {
					this.#upsideDown[device] = !this.#upsideDown[device];
					return `flip ${this.#upsideDown[device] ? "UPSIDE_DOWN" : "NORMAL"}`;
				},
			};
		}
		if (/^[0-9]$/.test(key)) {
			const number = Number(key);
			if (number > this.#count) return { kind: "none" };
			this.#chosen = number === 0 ? undefined : number - 1;
			return { kind: "choose", device: this.#chosen };
		}
		if (key === "h" || key === "?") return { kind: "help" };
		return { kind: "none" };
	}
}
