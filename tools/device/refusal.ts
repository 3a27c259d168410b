/*
 * Notices, in a device's output, that the cloud refuses its client ID, and says
 * so once in plain words. The device itself only sees connections end: AWS IoT
 * (and the local nRF Cloud) closes a connection before CONNACK when the client
 * ID is not the certificate's or the certificate is not registered, which is
 * also how it answers the first connection of a JITP certificate. So one close
 * before CONNACK is JITP; several in a row with no accepted connection between
 * them is a refusal. A CONNACK with a refusing return code is one at once.
 */

/** TRANSPORT_CONNECTED: a CONNACK accepted the connection. */
const CONNECTED = /^nrf_cloud: TRANSPORT_CONNECTED \(1\)/;
/** TRANSPORT_DISCONNECTED with INVALID_REQUEST: closed before CONNACK. */
const CLOSED_BEFORE_CONNACK = /^nrf_cloud: TRANSPORT_DISCONNECTED \(9\) status 2\b/;
const REFUSED = /^nrf_cloud: connection ended: (connection refused \(\d+\).*)$/;

/** Closes before CONNACK in a row that make a refusal: JITP's one, then two more. */
export const REFUSAL_CLOSES = 3;

export interface RefusalDescription {
	/** The client ID the device connects with, as far as the runner knows it. */
	clientId: string | undefined;
	/** What to do about it. */
	advice: string;
}

export class RefusalWatch {
	readonly #describe: () => RefusalDescription;
	readonly #report: (line: string) => void;
	#closes = 0;
	#reported = false;
	#partial = "";

	constructor(describe: () => RefusalDescription, report: (line: string) => void) {
		if (typeof describe !== "function" || typeof report !== "function") throw new TypeError("RefusalWatch needs describe and report functions");
		this.#describe = describe;
		this.#report = report;
	}

	get reported(): boolean {
		return this.#reported;
	}

	/** Feeds a chunk of the device's standard output (lines may be split across chunks). */
	write(text: string): void {
		const lines = (this.#partial + text).split("\n");
		this.#partial = lines.pop() ?? "";
		for (const line of lines) this.line(line);
	}

	line(line: string): void {
		if (CONNECTED.test(line)) {
			this.#closes = 0;
			return;
		}
		const refused = REFUSED.exec(line);
		if (refused) {
			this.#say(`its CONNECT was answered with "${refused[1]}"`);
			return;
		}
		if (CLOSED_BEFORE_CONNACK.test(line) && ++this.#closes >= REFUSAL_CLOSES)
			this.#say(`the cloud closed ${this.#closes} connections in a row before CONNACK`);
	}

	#say(what: string): void {
		if (this.#reported) return;
		this.#reported = true;
		const { clientId, advice } = this.#describe();
		this.#report(`device: the cloud refuses client id ${clientId ?? "(unknown)"}: ${what}. ${advice}`);
	}
}
