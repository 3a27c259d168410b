/*
 * AT commands to a real device over its serial port (the nRF9160 DK's or the
 * Thingy:91's USB serial, /dev/ttyACM0), as the modem answers them through an
 * AT host on the application core (NCS's at_client sample or the Serial LTE
 * Modem): a command ends with CR LF; the answer is information lines and one
 * final line, OK, ERROR, +CME ERROR: <n> or +CMS ERROR: <n>. Line ends inside
 * a quoted argument (the PEM text of AT%CMNG) belong to the argument. An echo
 * of the command, if the host echoes, is skipped.
 */

import { closeSync, constants, openSync, writeSync } from "node:fs";
import { ReadStream, isatty } from "node:tty";

export class SerialAtError extends Error {
	/** The +CME or +CMS ERROR code, or undefined for ERROR and for failures of the port. */
	readonly code: number | undefined;
	readonly command: string;

	constructor(command: string, message: string, code?: number) {
		super(`${summary(command)}: ${message}`);
		this.name = "SerialAtError";
		this.command = command;
		this.code = code;
	}
}

/** The command as error messages show it: a credential's PEM text is left out. */
function summary(command: string): string {
	const quote = command.indexOf('"');
	return quote < 0 ? command : `${command.slice(0, quote)}"..."`;
}

const FINAL = /^(OK|ERROR|\+CME ERROR: (\d+)|\+CMS ERROR: (\d+))$/;

export interface SerialOptions {
	/** Milliseconds to wait for the final line of one command (default 10000: AT%CMNG writes flash). */
	timeout?: number;
}

export class SerialAt {
	#fd: number;
	#input: ReadStream;
	#buffer = "";
	#waiting: ((line: string | Error) => void) | undefined;
	#lines: string[] = [];
	#failure: Error | undefined;
	#timeout: number;
	#closed = false;

	/** Opens `path`, which must be a terminal, in raw mode. */
	constructor(path: string, options: SerialOptions = {}) {
		if (typeof path !== "string" || path.length === 0) throw new TypeError("a serial port is a device path such as /dev/ttyACM0");
		const timeout = options.timeout ?? 10000;
		if (!Number.isInteger(timeout) || timeout <= 0) throw new RangeError("timeout must be a positive number of milliseconds");
		this.#timeout = timeout;
		this.#fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
		if (!isatty(this.#fd)) {
			closeSync(this.#fd);
			throw new TypeError(`${path} is not a terminal (serial port)`);
		}
		this.#input = new ReadStream(this.#fd);
		this.#input.setRawMode(true);
		this.#input.setEncoding("latin1");
		this.#input.on("data", (chunk: string) => this.#receive(chunk));
		this.#input.on("error", (error: Error) => this.#fail(error));
		this.#input.on("close", () => this.#fail(new Error("the serial port closed")));
	}

	#receive(chunk: string): void {
		this.#buffer += chunk;
		for (;;) {
			const end = this.#buffer.search(/[\r\n]/);
			if (end < 0) break;
			const line = this.#buffer.slice(0, end);
			this.#buffer = this.#buffer.slice(end + 1);
			if (line.length > 0) this.#deliver(line);
		}
	}

	#deliver(line: string | Error): void {
		const waiting = this.#waiting;
		if (waiting) {
			this.#waiting = undefined;
			waiting(line);
		}
		else if (typeof line === "string") this.#lines.push(line);
	}

	#fail(error: Error): void {
		if (this.#failure || this.#closed) return;
		this.#failure = error;
		this.#deliver(error);
	}

	#nextLine(command: string, deadline: number): Promise<string> {
		const queued = this.#lines.shift();
		if (queued !== undefined) return Promise.resolve(queued);
		if (this.#failure) return Promise.reject(new SerialAtError(command, this.#failure.message));
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#waiting = undefined;
				reject(new SerialAtError(command, `no final answer within ${this.#timeout} ms`));
			}, Math.max(0, deadline - Date.now()));
			this.#waiting = (line) => {
				clearTimeout(timer);
				if (typeof line === "string") resolve(line);
				else reject(new SerialAtError(command, line.message));
			};
		});
	}

	/** Sends `command`; resolves with the information lines before OK, rejects with SerialAtError on ERROR, +CME/+CMS ERROR or silence. */
	async command(command: string): Promise<string[]> {
		if (this.#closed) throw new Error("the serial port is closed");
		if (typeof command !== "string" || !/^AT/i.test(command)) throw new TypeError('an AT command must be a string starting with "AT"');
		this.#lines = [];
		writeSync(this.#fd, `${command}\r\n`);
		const deadline = Date.now() + this.#timeout;
		const lines: string[] = [];
		const echo = command.split(/[\r\n]+/).filter((line) => line.length > 0);
		let echoed = 0;
		for (;;) {
			const line = await this.#nextLine(command, deadline);
			const final = FINAL.exec(line);
			if (!final) {
				if (lines.length === 0 && echoed < echo.length && line === echo[echoed]) echoed++;
				else lines.push(line);
				continue;
			}
			if (final[1] === "OK") return lines;
			const code = final[2] ?? final[3];
			throw new SerialAtError(command, line, code === undefined ? undefined : Number(code));
		}
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#input.destroy();
	}
}
