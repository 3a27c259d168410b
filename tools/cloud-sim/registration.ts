/*
 * Registration of new devices. With a broker that sees CONNECTs this is AWS IoT's
 * just-in-time provisioning: the first connection of a certificate signed by the
 * device CA registers the device and is refused, and later ones must present the
 * same certificate. A broker that cannot refuse connections registers a device
 * with its first message instead.
 */

import { newShadow } from "./shadow.js";
import { now, type ServiceContext } from "./service-types.js";

/** Stands for the fingerprint of a device registered without its certificate being seen. */
const UNSEEN_CERTIFICATE = "external";

export class Registration {
	readonly #context: ServiceContext;

	constructor(context: ServiceContext) {
		this.#context = context;
	}

	/** The broker's question on a CONNECT: accept it? */
	admit(id: string, fingerprint: string): boolean {
		const device = this.#context.store.device(id);
		if (!device) {
			this.#register(id, fingerprint);
			this.#context.log(`jitp: registered ${id}; refusing this first connection`);
			return false;
		}
		if (device.fingerprint !== fingerprint) {
			this.#context.log(`connect: ${id} presented another certificate; closing`);
			return false;
		}
		return true;
	}

	/** For brokers that cannot refuse a first connection: a device's message registers it. */
	registerOnFirstMessage(id: string): void {
		if (this.#context.store.device(id)) return;
		this.#register(id, UNSEEN_CERTIFICATE);
		this.#context.log(`registered ${id} on its first message`);
	}

	#register(id: string, fingerprint: string): void {
		this.#context.store.addDevice(id, fingerprint, newShadow({ pairing: { state: "not_associated" } }, now()));
		this.#context.announce("device", id);
	}
}
