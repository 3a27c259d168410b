/*
 * The soak's sending pattern, on any instance of the library: `messages` TEMP
 * readings with sensorDataSend (QoS 1), one every `intervalMs`, each carrying
 * its sequence number as its data, whatever the state of the connection.
 * With `queue` the library keeps what cannot go out now in its offline queue
 * and reconnects by itself; without it the pattern does what an application
 * on the C library must: a send refused while the connection is not READY is
 * dropped (and printed, so that refusals can be told from losses in flight),
 * and it reconnects with exponential back-off. Both handle JITP's refusal of
 * a first connection and reconnect after a fresh association.
 *
 * It imports nothing at run time: the soak firmware in XS gives it the device
 * binding, the fleet's Node clients an NrfCloud of their own.
 *
 * Lines it prints: "soak: generating from N" when it starts sending, "soak:
 * generated N" every 100 messages, "soak: generated all N" at the end, "soak:
 * drop SEQ ERRNO" for each refused send.
 */

import type { CloudEvent, SensorData } from "../../../modules/nrf-cloud/api.js";
import type { NrfCloudConfig } from "../../../modules/nrf-cloud/config.js";
import type * as Constants from "../../../modules/nrf-cloud/constants.js";

export interface SoakLibrary {
	connect(): Promise<number>;
	disconnect(): number;
	sensorDataSend(param: SensorData): number;
}

export type SoakConstants = Pick<typeof Constants, "EventType" | "DisconnectStatus" | "Sensor">;

/** Where the next sequence number is kept (storage on the device, so that it outlives a restart). */
export interface SoakCounter {
	read(): number;
	write(next: number): void;
}

export interface PatternSettings {
	/** Messages to send, sequence numbers 0 to messages - 1. */
	messages: number;
	/** Between two sends. */
	intervalMs: number;
	/** The library's offline queue and its own reconnects; false: the C library's behaviour. */
	queue: boolean;
	queueMessages: number;
	queueBytes: number;
	/** First reconnect delay, doubled after each failure up to retryMaxMs (the library's: with jitter). */
	retryMs: number;
	retryMaxMs: number;
	/** Keep the offline queue in the library's settings storage. */
	persist: boolean;
}

/**
 * The library options of the pattern: the offline queue (paced below the
 * cloud's 100 publishes a second, so that a backlog drains while new readings
 * come) and the library's reconnects, or neither.
 */
export function queueOptions(settings: PatternSettings): Pick<NrfCloudConfig, "offlineQueue" | "reconnect"> {
	if (!settings.queue) return {};
	return {
		offlineQueue: { messages: settings.queueMessages, bytes: settings.queueBytes, persist: settings.persist, perSecond: 90 },
		reconnect: { minMs: settings.retryMs, maxMs: settings.retryMaxMs },
	};
}

export class SensorSoak {
	readonly #library: SoakLibrary;
	readonly #c: SoakConstants;
	readonly #settings: PatternSettings;
	readonly #counter: SoakCounter;
	readonly #print: (line: string) => void;
	#next: number;
	#generating = false;
	#associationRequested = false;
	#reconnectSoon = false;
	#failures = 0;
	#stopped = false;

	constructor(library: SoakLibrary, constants: SoakConstants, settings: PatternSettings, counter: SoakCounter, print: (line: string) => void) {
		this.#library = library;
		this.#c = constants;
		this.#settings = settings;
		this.#counter = counter;
		this.#print = print;
		this.#next = counter.read();
	}

	/** Connects; a restarted device sends at once (with the offline queue its sends wait for READY). */
	start(): void {
		if (this.#next > 0) this.#startGenerating();
		this.#scheduleConnect(0);
	}

	/** Ends the pattern: no more sends or reconnects; the connection is closed. */
	stop(): void {
		this.#stopped = true;
		this.#library.disconnect();
	}

	/** The library's event handler (init's eventHandler). */
	onEvent(event: CloudEvent): void {
		const { EventType, DisconnectStatus } = this.#c;
		switch (event.type) {
			case EventType.TRANSPORT_CONNECTING:
				if (event.status < 0) this.#retry();
				break;
			case EventType.USER_ASSOCIATION_REQUEST:
				this.#associationRequested = true;
				break;
			case EventType.USER_ASSOCIATED:
				// With its own reconnects the library cycles the connection after an association itself.
				if (this.#associationRequested && !this.#settings.queue) {
					// The cloud applies the new permissions only to a new connection.
					this.#associationRequested = false;
					this.#reconnectSoon = true;
					this.#library.disconnect();
				}
				break;
			case EventType.READY:
				this.#failures = 0;
				this.#startGenerating();
				break;
			case EventType.TRANSPORT_DISCONNECTED:
				if (this.#reconnectSoon || event.status === DisconnectStatus.INVALID_REQUEST) {
					// After a fresh association, and after the JITP rejection of a first connection.
					this.#reconnectSoon = false;
					if (!this.#settings.queue) this.#scheduleConnect(this.#settings.retryMs);
				}
				else this.#retry();
				break;
			default:
		}
	}

	#startGenerating(): void {
		if (this.#generating) return;
		this.#generating = true;
		this.#print(`soak: generating from ${this.#next}`);
		setTimeout(() => this.#generate(), 0);
	}

	#generate(): void {
		if (this.#stopped) return;
		const { messages, intervalMs } = this.#settings;
		if (this.#next >= messages) {
			this.#print(`soak: generated all ${messages}`);
			return;
		}
		const seq = this.#next;
		const result = this.#library.sensorDataSend({ type: this.#c.Sensor.TEMP, data: String(seq) });
		if (result !== 0) this.#print(`soak: drop ${seq} ${result}`);
		this.#next = seq + 1;
		this.#counter.write(this.#next);
		if (this.#next % 100 === 0 && this.#next < messages) this.#print(`soak: generated ${this.#next}`);
		setTimeout(() => this.#generate(), intervalMs);
	}

	#scheduleConnect(delay: number): void {
		setTimeout(() => {
			if (this.#stopped) return;
			this.#library.connect().then((result) => {
				if (result < 0) {
					this.#print(`soak: connect returned ${result}`);
					this.#retry();
				}
			});
		}, delay);
	}

	/** The pattern's own reconnects (without the library's): exponential back-off, reset by READY. */
	#retry(): void {
		if (this.#settings.queue) return;
		const delay = Math.min(this.#settings.retryMs * 2 ** this.#failures, this.#settings.retryMaxMs);
		this.#failures++;
		this.#scheduleConnect(delay);
	}
}
