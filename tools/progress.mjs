/*
 * One line per step of a long job (npm start, the setup before it): on a
 * terminal a spinner with the elapsed time, a percentage when the step knows
 * how far it is, and a detail (the step's latest output line), redrawn in
 * place and replaced by the result when the step ends; elsewhere (CI, a pipe)
 * one line when the step starts and one when it ends. Plain JavaScript with
 * Node built-ins, because the setup runs it before anything is installed.
 */

const SPINNER = ["|", "/", "-", "\\"];

/** The last non-empty line of `text`, cut to `room` characters. */
export function lastLine(text, room = 60) {
	const lines = String(text).split(/\r?\n|\r/).map((line) => line.trim()).filter(Boolean);
	const line = lines[lines.length - 1] ?? "";
	return line.length > room ? `${line.slice(0, room - 3)}...` : line;
}

export class StepLine {
	#prefix;
	#label;
	#out;
	#tty;
	#started = Date.now();
	#frame = 0;
	#detail = "";
	#fraction = undefined;
	#timer = undefined;
	#ended = false;

	/** `out` is a writable stream (default standard output); `tty` says whether to redraw in place. */
	constructor(prefix, label, { out = process.stdout, tty = out.isTTY === true } = {}) {
		if (typeof prefix !== "string" || typeof label !== "string" || label.length === 0) throw new TypeError("a step needs a prefix and a label");
		this.#prefix = prefix;
		this.#label = label;
		this.#out = out;
		this.#tty = tty;
		if (tty) {
			this.#timer = setInterval(() => this.#draw(), 100);
			this.#timer.unref?.();
			this.#draw();
		}
		else out.write(`${prefix}${label} ...\n`);
	}

	get seconds() {
		return (Date.now() - this.#started) / 1000;
	}

	/** What the step is doing now: a text, and how far it is from 0 to 1 when known. */
	update(detail, fraction) {
		if (typeof detail === "string") this.#detail = lastLine(detail, Math.max(20, (this.#out.columns ?? 100) - this.#label.length - 24));
		if (typeof fraction === "number" && fraction >= 0 && fraction <= 1) this.#fraction = fraction;
		if (this.#tty && !this.#ended) this.#draw();
	}

	/** Ends the step with its result line ("done" by default). */
	done(result = "done") {
		this.#end(`${this.#prefix}${this.#label}: ${result} (${this.seconds.toFixed(1)} s)\n`);
	}

	fail(why) {
		this.#end(`${this.#prefix}${this.#label} failed: ${why}\n`);
	}

	#end(line) {
		if (this.#ended) return;
		this.#ended = true;
		if (this.#timer) clearInterval(this.#timer);
		this.#out.write(this.#tty ? `\r\x1b[2K${line}` : line);
	}

	#draw() {
		const spin = SPINNER[this.#frame++ % SPINNER.length];
		const percent = this.#fraction === undefined ? "" : ` ${Math.round(this.#fraction * 100)}%`;
		this.#out.write(`\r\x1b[2K${this.#prefix}${spin} ${this.#label}${percent} (${this.seconds.toFixed(0)} s)${this.#detail ? `  ${this.#detail}` : ""}`);
	}
}
