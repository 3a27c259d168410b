/*
 * Device messages: what an associated device publishes under the tenant's message
 * topics is stored (durably, before the embedded broker acknowledges it) and announced; the operator's cloud-to-device messages go to
 * the device's c2d topic and are stored too.
 */

import { noDevice, refused, type Outcome, type ServiceContext } from "./service-types.js";

export class Messages {
	readonly #context: ServiceContext;

	constructor(context: ServiceContext) {
		this.#context = context;
	}

	/**
	 * Keeps a device's message under the message topics: calls `done` once it is
	 * committed to the store (the broker acknowledges it only then) or could not
	 * be; false, without calling `done`, for other topics.
	 */
	keep(id: string, topic: string, payload: Buffer, done: (error?: Error) => void): boolean {
		const { store, topicPrefix, announce } = this.#context;
		if (!topic.startsWith(`${topicPrefix}m/`)) return false;
		store.keepMessage(id, topic, "d2c", payload.toString("utf8"), (error, record) => {
			if (record) announce("message", record);
			done(error);
		});
		return true;
	}

	/** Keeps a message the broker has already acknowledged; false for topics that are not message topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		return this.keep(id, topic, payload, (error) => {
			if (error) this.#context.log(`messages: ${id}'s message on ${topic} was not stored: ${String(error)}`);
		});
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
