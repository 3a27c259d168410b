/* Records client callbacks as events and waits for them. */

import type { MqttClientOptions } from "../../modules/mqtt/client.js";
import type { MqttError } from "../../modules/mqtt/errors.js";
import type { PublishPacket } from "../../modules/mqtt/packet.js";
import { until } from "./until.js";

export type ClientEvent =
	| { kind: "connect"; sessionPresent: boolean }
	| { kind: "message"; message: PublishPacket; payload: string }
	| { kind: "subscribe"; packetId: number; returnCodes: number[] }
	| { kind: "unsubscribe"; packetId: number }
	| { kind: "publish"; packetId: number }
	| { kind: "discard"; packetId: number }
	| { kind: "close"; error: MqttError | undefined };

export class Recorder {
	readonly events: ClientEvent[] = [];

	callbacks(): Pick<MqttClientOptions, "onConnect" | "onMessage" | "onSubscribe" | "onUnsubscribe" | "onPublish" | "onDiscard" | "onClose"> {
		return {
			onConnect: (sessionPresent) => this.#push({ kind: "connect", sessionPresent }),
			onMessage: (message) => this.#push({ kind: "message", message, payload: Buffer.from(message.payload).toString("utf8") }),
			onSubscribe: (packetId, returnCodes) => this.#push({ kind: "subscribe", packetId, returnCodes }),
			onUnsubscribe: (packetId) => this.#push({ kind: "unsubscribe", packetId }),
			onPublish: (packetId) => this.#push({ kind: "publish", packetId }),
			onDiscard: (packetId) => this.#push({ kind: "discard", packetId }),
			onClose: (error) => this.#push({ kind: "close", error }),
		};
	}

	#push(event: ClientEvent): void {
		this.events.push(event);
	}

	of<K extends ClientEvent["kind"]>(kind: K): Array<Extract<ClientEvent, { kind: K }>> {
		return this.events.filter((e): e is Extract<ClientEvent, { kind: K }> => e.kind === kind);
	}

	/** Waits until `count` events of `kind` were recorded; returns them. */
	async wait<K extends ClientEvent["kind"]>(kind: K, count = 1, ms = 10000): Promise<Array<Extract<ClientEvent, { kind: K }>>> {
		await until(() => this.of(kind).length >= count, {
			what: `${count} "${kind}" events`, timeout: ms, detail: () => `have ${JSON.stringify(this.events.map((e) => e.kind))}`,
		});
		return this.of(kind);
	}
}
