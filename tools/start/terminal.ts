/*
 * What `npm start` shows of its devices: each device line with the device's
 * short ID (the last 4 characters of its ID, the IMEI's last digits) and a
 * colour of its own, ANSI colours only on a terminal or with FORCE_COLOR. In
 * quiet mode only state changes: READY, connections, association, FOTA, and the
 * app's `app: state` lines.
 */

/** ANSI foreground colours, one per device in turn. */
const COLOURS = [36, 33, 35, 32, 34, 31, 96, 93, 95, 92];

/** Library events that change the device's state. */
const STATE_EVENTS = /^nrf_cloud: (READY|TRANSPORT_CONNECTED|TRANSPORT_DISCONNECTED|USER_ASSOCIATION_REQUEST|USER_ASSOCIATED|FOTA_DONE|ERROR) \(/;

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
	const force = env.FORCE_COLOR;
	if (force !== undefined) return force !== "0" && force !== "false";
	return stream.isTTY === true;
}

/** Whether a device line is a state change, what --quiet keeps. */
export function isStateChange(line: string): boolean {
	return STATE_EVENTS.test(line) || line.startsWith("app: state ") || /\bfota\b|DFU: |reboot/i.test(line);
}

/** The short ID of a device: the last 4 characters of its ID. */
export function shortId(deviceId: string): string {
	return deviceId.slice(-4);
}

export class DeviceLines {
	readonly #write: (line: string) => void;
	readonly #colour: boolean;
	readonly #quiet: boolean;
	readonly #partial = new Map<string, string>();

	constructor(options: { write: (line: string) => void; colour: boolean; quiet: boolean }) {
		this.#write = options.write;
		this.#colour = options.colour;
		this.#quiet = options.quiet;
	}

	/** The prefix of device `index`'s lines (0-based): its short ID, coloured. */
	label(index: number, deviceId: string): string {
		const id = shortId(deviceId);
		return this.#colour ? `\x1b[${COLOURS[index % COLOURS.length]}m${id}\x1b[0m` : id;
	}

	/** A chunk of a device's output; whole lines are shown (or left out in quiet mode). */
	output(index: number, deviceId: string, stream: string, text: string): void {
		const key = `${index}:${stream}`;
		const lines = ((this.#partial.get(key) ?? "") + text).split("\n");
		this.#partial.set(key, lines.pop() ?? "");
		for (const line of lines) this.line(index, deviceId, line);
	}

	line(index: number, deviceId: string, line: string): void {
		const text = line.trimEnd();
		if (text.length === 0) return;
		if (this.#quiet && !isStateChange(text)) return;
		this.#write(`${this.label(index, deviceId)} ${text}`);
	}
}
