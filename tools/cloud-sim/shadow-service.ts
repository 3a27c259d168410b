/*
 * The device shadow service: a device's get and update requests on its
 * $aws/things/<id>/shadow/ topics, answered on the accepted/rejected/delta/documents
 * topics as AWS IoT answers them, and updates made by the cloud itself (operator
 * state, association, connection status), which are announced the same way.
 */

import { EventEmitter } from "node:events";
import { applyUpdate, getAccepted, trimmed } from "./shadow.js";
import { now, type Outcome, type ServiceContext } from "./service-types.js";
import type { Store } from "./store.js";

export function shadowTopic(id: string, suffix: string): string {
	return `$aws/things/${id}/shadow/${suffix}`;
}

export interface ShadowEvents {
	/** A device's own update was accepted; `request` is the update it sent. */
	deviceUpdate: [deviceId: string, request: unknown];
}

export class ShadowService extends EventEmitter<ShadowEvents> {
	readonly #context: ServiceContext;

	constructor(context: ServiceContext) {
		super();
		this.#context = context;
	}

	get #store(): Store {
		return this.#context.store;
	}

	#answer(topic: string, body: unknown): void {
		this.#context.broker.publish(topic, JSON.stringify(body));
	}

	/** Handles a device's message if it is a shadow request; false for other topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		if (topic === shadowTopic(id, "get")) this.#get(id);
		else if (topic === shadowTopic(id, "update")) this.#deviceUpdate(id, payload);
		else return false;
		return true;
	}

	#get(id: string): void {
		const document = this.#store.shadow(id);
		if (!document) {
			this.#answer(shadowTopic(id, "get/rejected"), { code: 404, message: `No shadow exists with name: '${id}'`, timestamp: now() });
			return;
		}
		this.#answer(shadowTopic(id, "get/accepted"), getAccepted(document));
		// nRF Cloud's own topic with the trimmed document, which NCS devices subscribe to
		this.#answer(`${id}/shadow/get/accepted`, trimmed(document));
	}

	#deviceUpdate(id: string, payload: Buffer): void {
		let request: unknown;
		try {
			request = JSON.parse(payload.toString("utf8"));
		}
		catch {
			this.#answer(shadowTopic(id, "update/rejected"), { code: 400, message: "Payload contains invalid json", timestamp: now() });
			return;
		}
		if (this.#apply(id, request, true).ok) this.emit("deviceUpdate", id, request);
	}

	/** An update made by the cloud: announced on the accepted, documents and delta topics, never rejected to the device. */
	update(id: string, request: unknown): Outcome {
		return this.#apply(id, request, false);
	}

	/** Applies an update; `answer` also publishes a rejection, as for the device's own request. */
	#apply(id: string, request: unknown, answer: boolean): Outcome {
		const timestamp = now();
		const previous = this.#store.shadow(id);
		const result = applyUpdate(previous, request, timestamp);
		if (!result.ok) {
			if (answer) this.#answer(shadowTopic(id, "update/rejected"), { code: result.code, message: result.message, timestamp });
			return { ok: false, code: result.code, message: result.message };
		}
		this.#store.saveShadow(id, result.document);
		this.#answer(shadowTopic(id, "update/accepted"), result.accepted);
		this.#answer(shadowTopic(id, "update/documents"), {
			previous: previous ? { state: previous.state, metadata: previous.metadata, version: previous.version } : null,
			current: { state: result.document.state, metadata: result.document.metadata, version: result.document.version },
			timestamp,
		});
		if (result.delta) this.#answer(shadowTopic(id, "update/delta"), result.delta);
		return { ok: true };
	}
}
