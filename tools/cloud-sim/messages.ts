/*
 * Device messages: what an associated device publishes under the tenant's message
 * topics is stored and announced; the operator's cloud-to-device messages go to
 * the device's c2d topic and are stored too.
 */

import { noDevice, refused, type Outcome, type ServiceContext } from "./service-types.js";

export class Messages {
	readonly #context: ServiceContext;

	constructor(context: ServiceContext) {
		this.#context = context;
	}

	/** Stores a device's message if it is under the message topics; false for other topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		const { store, topicPrefix, announce } = this.#context;
		if (!topic.startsWith(`${topicPrefix}m/`)) return false;
		announce("message", store.addMessage(id, topic, "d2c", payload.toString("utf8")));
		return true;
	}

	/** Sends a cloud-to-device message to an associated device. */
	sendToDevice(id: string, message: string): Outcome {
		const { broker, store, topicPrefix, announce } = this.#context;
		const device = store.device(id);
		if (!device) return noDevice(id);
		if (device.tenant === null) return refused(409, `${id} is not associated`);
		const topic = `${topicPrefix}m/d/${id}/c2d`;
		broker.publish(topic, message);
		announce("message", store.addMessage(id, topic, "c2d", message));
		return { ok: true };
	}
}
