/*
 * Device messages: what an associated device publishes under the tenant's message
 * topics is stored and announced; the operator's cloud-to-device messages go to
 * the device's c2d topic and are stored too.
 */

import type { Broker } from "./broker.js";
import { noDevice, refused, type Announce, type Outcome } from "./service-types.js";
import type { Store } from "./store.js";

export class Messages {
	readonly #broker: Broker;
	readonly #store: Store;
	readonly #topicPrefix: string;
	readonly #announce: Announce;

	constructor(broker: Broker, store: Store, topicPrefix: string, announce: Announce) {
		this.#broker = broker;
		this.#store = store;
		this.#topicPrefix = topicPrefix;
		this.#announce = announce;
	}

	/** Stores a device's message if it is under the message topics; false for other topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		if (!topic.startsWith(`${this.#topicPrefix}m/`)) return false;
		this.#announce("message", this.#store.addMessage(id, topic, "d2c", payload.toString("utf8")));
		return true;
	}

	/** Sends a cloud-to-device message to an associated device. */
	sendToDevice(id: string, message: string): Outcome {
		const device = this.#store.device(id);
		if (!device) return noDevice(id);
		if (device.tenant === null) return refused(409, `${id} is not associated`);
		const topic = `${this.#topicPrefix}m/d/${id}/c2d`;
		this.#broker.publish(topic, message);
		this.#announce("message", this.#store.addMessage(id, topic, "c2d", message));
		return { ok: true };
	}
}
