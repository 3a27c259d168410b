/*
 * A small nRF9160 AT responder on one end of a pseudo-terminal pair (socat),
 * for testing the serial provisioning path: the commands provisioning uses,
 * answered as the modem's AT command reference gives them. A command ends at
 * CR or LF outside double quotes; credentials can be written and deleted only
 * offline (+CME ERROR: 518 online), deleting a missing one is 513; errors are
 * ERROR, or +CME ERROR: <n> after AT+CMEE=1. Answers can be replaced to test
 * error paths, and the host can echo commands as some AT hosts do.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { ReadStream } from "node:tty";

export interface ResponderOptions {
	imei?: string;
	firmware?: string;
	/** 16 bytes, hex. */
	deviceUuid?: string;
	echo?: boolean;
	/** Answers that replace the modem's for commands starting with the key ("ERROR", "+CME ERROR: 515", or "" for no answer). */
	override?: Record<string, string>;
}

export class AtResponder {
	readonly commands: string[] = [];
	readonly credentials = new Map<string, string>();
	cfun = 1;
	#cmee = 0;
	#options: ResponderOptions;
	#fd: number;
	#input: ReadStream;
	#pending = "";

	constructor(path: string, options: ResponderOptions = {}) {
		this.#options = options;
		this.#fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
		this.#input = new ReadStream(this.#fd);
		this.#input.setRawMode(true);
		this.#input.setEncoding("latin1");
		this.#input.on("data", (chunk: string) => this.#receive(chunk));
		this.#input.on("error", () => undefined);
	}

	#receive(chunk: string): void {
		for (const character of chunk) {
			const quotes = (this.#pending.match(/"/g) ?? []).length;
			if ((character === "\r" || character === "\n") && quotes % 2 === 0) {
				if (this.#pending.length > 0) this.#answer(this.#pending);
				this.#pending = "";
			}
			else this.#pending += character;
		}
	}

	#send(text: string): void {
		writeSync(this.#fd, text);
	}

	#error(cme: number): string {
		return this.#cmee ? `+CME ERROR: ${cme}\r\n` : "ERROR\r\n";
	}

	#answer(command: string): void {
		this.commands.push(command);
		if (this.#options.echo) this.#send(`${command}\r\n`);
		for (const [prefix, answer] of Object.entries(this.#options.override ?? {})) {
			if (command.startsWith(prefix)) {
				if (answer) this.#send(`${answer}\r\n`);
				return;
			}
		}
		this.#send(this.#respond(command));
	}

	#respond(command: string): string {
		const firmware = this.#options.firmware ?? "mfw_nrf9160_1.3.0";
		let match: RegExpExecArray | null;
		if (command === "AT") return "OK\r\n";
		if ((match = /^AT\+CMEE=([01])$/.exec(command))) {
			this.#cmee = Number(match[1]);
			return "OK\r\n";
		}
		if (command === "AT+CFUN?") return `+CFUN: ${this.cfun}\r\nOK\r\n`;
		if ((match = /^AT\+CFUN=(0|1|4)$/.exec(command))) {
			this.cfun = Number(match[1]);
			return "OK\r\n";
		}
		if (command === "AT+CGSN") return `${this.#options.imei ?? "352656100441776"}\r\nOK\r\n`;
		if (command === "AT+CGMR") return `${firmware}\r\nOK\r\n`;
		if (command === "AT%ATTESTTOKEN") {
			const [major, minor] = firmware.replace(/^.*_/, "").split(".").map(Number);
			if (major! < 1 || (major === 1 && minor! < 3)) return "ERROR\r\n";
			return `%ATTESTTOKEN: "${this.#token(firmware)}"\r\nOK\r\n`;
		}
		if ((match = /^AT%CMNG=0,(\d+),([0-6]),"([^"]+)"$/s.exec(command))) {
			if (this.cfun === 1) return this.#error(518);
			this.credentials.set(`${match[1]},${match[2]}`, match[3]!);
			return "OK\r\n";
		}
		if ((match = /^AT%CMNG=3,(\d+),([0-6])$/.exec(command))) {
			if (this.cfun === 1) return this.#error(518);
			return this.credentials.delete(`${match[1]},${match[2]}`) ? "OK\r\n" : this.#error(513);
		}
		if ((match = /^AT%CMNG=1(?:,(\d+))?$/.exec(command))) {
			const lines = [...this.credentials].filter(([key]) => match![1] === undefined || key.startsWith(`${match![1]},`))
				.map(([key, pem]) => `%CMNG: ${key},"${createHash("sha256").update(pem).digest("hex").toUpperCase()}"\r\n`);
			return `${lines.join("")}OK\r\n`;
		}
		return "ERROR\r\n";
	}

	#token(firmware: string): string {
		const device = Buffer.from(this.#options.deviceUuid ?? "5036315439314d1080280b1c3d4e5f60", "hex");
		const firmwareUuid = createHash("sha256").update(firmware).digest().subarray(0, 16);
		const message = Buffer.concat([Buffer.from("d9d9f78501", "hex"), Buffer.from([0x50]), device, Buffer.from([0x03, 0x50]), firmwareUuid, Buffer.from([0x50]), Buffer.alloc(16, 7)]);
		const cose = Buffer.concat([Buffer.from("d28443a10126a1044121f65840", "hex"), createHash("sha512").update(message).digest()]);
		return `${message.toString("base64url")}.${cose.toString("base64url")}`;
	}

	close(): void {
		this.#input.destroy();
	}
}

/** A pseudo-terminal pair from socat: `device` for the tool under test, `modem` for the responder. */
export async function ptyPair(dir: string): Promise<{ device: string; modem: string; stop: () => void }> {
	const device = join(dir, "ttyDEVICE");
	const modem = join(dir, "ttyMODEM");
	const socat: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${modem}`], { stdio: ["ignore", "ignore", "pipe"] });
	let stderr = "";
	socat.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
	const started = Date.now();
	while (!(existsSync(device) && existsSync(modem))) {
		if (socat.exitCode !== null || Date.now() - started > 5000) {
			socat.kill();
			throw new Error(`socat made no pseudo-terminals: ${stderr || `exit ${String(socat.exitCode)}`}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	return { device, modem, stop: () => { socat.kill(); } };
}

/** A path that is not a terminal, for the refusal test. */
export function notATerminal(path: string): string {
	closeSync(openSync(path, "w"));
	return path;
}
