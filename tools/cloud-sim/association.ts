/*
 * Association of a device with the tenant: with the device's PIN or hardware ID
 * (REST), or the legacy input sequence (nrf_cloud_user_associate, NCS 1.1 and
 * earlier), where the cloud asks for a pattern of button presses (1 to 4) and
 * compares the one the device reports, packed two presses per byte, high nibble
 * first. Association changes the device's policy and its desired pairing state.
 */

import { isObject } from "./shadow.js";
import { noDevice, refused, type Outcome, type ServiceContext } from "./service-types.js";
import type { ShadowService } from "./shadow-service.js";

/** Wrong patterns a device may report before the sequence times out. */
const SEQUENCE_ATTEMPTS = 3;

/** Wrong PINs for one device before its PIN association is locked, and for how long. */
export const PIN_ATTEMPTS = 5;
export const PIN_LOCK_MS = 15 * 60 * 1000;

/**
 * Wrong codes per device: after PIN_ATTEMPTS in a row the device takes no code
 * (not even the right one) for PIN_LOCK_MS, so a six-character PIN cannot be
 * found by trying; a right code clears the count.
 */
export class AttemptLimiter {
	readonly #now: () => number;
	readonly #failures = new Map<string, { count: number; lockedUntil: number }>();

	constructor(now: () => number = Date.now) {
		this.#now = now;
	}

	/** Milliseconds until `id` takes a code again; 0 when it does now. */
	lockedFor(id: string): number {
		const entry = this.#failures.get(id);
		if (!entry || entry.count < PIN_ATTEMPTS) return 0;
		const left = entry.lockedUntil - this.#now();
		if (left > 0) return left;
		this.#failures.delete(id);
		return 0;
	}

	failed(id: string): void {
		const entry = this.#failures.get(id) ?? { count: 0, lockedUntil: 0 };
		entry.count++;
		if (entry.count >= PIN_ATTEMPTS) entry.lockedUntil = this.#now() + PIN_LOCK_MS;
		this.#failures.set(id, entry);
	}

	succeeded(id: string): void {
		this.#failures.delete(id);
	}
}

export class Association {
	readonly #context: ServiceContext;
	readonly #shadow: ShadowService;
	/** Input-sequence associations waiting for the device's pattern: the expected presses and the attempts so far. */
	readonly #sequences = new Map<string, { presses: number[]; attempts: number }>();
	readonly #attempts: AttemptLimiter;

	constructor(context: ServiceContext, shadow: ShadowService, attempts = new AttemptLimiter()) {
		this.#context = context;
		this.#shadow = shadow;
		this.#attempts = attempts;
		shadow.on("deviceUpdate", (id, request) => this.#checkSequence(id, request));
	}

	/** Association with the device's PIN, or its hardware ID (the device ID). */
	associate(id: string, code: string): Outcome {
		const { broker, store, topicPrefix: prefix, announce } = this.#context;
		const device = store.device(id);
		if (!device) return noDevice(id);
		const locked = this.#attempts.lockedFor(id);
		if (locked > 0) return refused(429, `too many wrong codes for ${id}; try again in ${Math.ceil(locked / 60000)} minutes`);
		if (code !== id && (device.pin === null || code !== device.pin)) {
			this.#attempts.failed(id);
			return refused(400, "the PIN or hardware ID does not match");
		}
		this.#attempts.succeeded(id);
		if (device.tenant !== null) return refused(409, `${id} is already associated`);
		store.setTenant(id, store.tenant);
		this.#sequences.delete(id);
		broker.policyChanged(id);
		const result = this.#shadow.update(id, { state: { desired: {
			pairing: { state: "paired", config: null, topics: { d2c: `${prefix}m/d/${id}/d2c`, c2d: `${prefix}m/d/${id}/c2d` } },
			nrfcloud_mqtt_topic_prefix: prefix,
		} } });
		announce("association", id, true);
		announce("device", id);
		return result;
	}

	/** Starts an input-sequence association: the device is asked for `presses`. */
	associateWithSequence(id: string, presses: unknown): Outcome {
		const device = this.#context.store.device(id);
		if (!device) return noDevice(id);
		if (!Array.isArray(presses) || presses.length < 1 || presses.length > 16 || !presses.every((p) => Number.isInteger(p) && p >= 1 && p <= 4))
			return refused(400, "pattern must be 1 to 16 button numbers from 1 to 4");
		if (device.tenant !== null) return refused(409, `${id} is already associated`);
		this.#sequences.set(id, { presses: presses as number[], attempts: 0 });
		return this.#shadow.update(id, { state: { desired: { pairing: { state: "pattern_wait", topics: null, config: { iteration: 1, method: "buttons", length: presses.length } } } } });
	}

	disassociate(id: string): Outcome {
		const { broker, store, announce } = this.#context;
		const device = store.device(id);
		if (!device) return noDevice(id);
		if (device.tenant === null) return refused(409, `${id} is not associated`);
		store.setTenant(id, null);
		broker.policyChanged(id);
		const result = this.#shadow.update(id, { state: { desired: { pairing: { state: "not_associated", topics: null }, nrfcloud_mqtt_topic_prefix: null } } });
		announce("association", id, false);
		announce("device", id);
		return result;
	}

	/** The pattern a device reported in `state.reported.pairingStatus`, as presses, or undefined when the update carries none. */
	#reportedPresses(request: unknown, expectedLength: number): number[] | undefined {
		if (!isObject(request) || !isObject(request.state) || !isObject(request.state.reported)) return undefined;
		const status = request.state.reported.pairingStatus;
		if (!isObject(status) || status.method !== "buttons" || !Array.isArray(status.pattern)) return undefined;
		const presses: number[] = [];
		for (const byte of status.pattern) {
			if (typeof byte !== "number" || !Number.isInteger(byte) || byte < 0 || byte > 255) return undefined;
			presses.push(byte >> 4, byte & 0x0F);
		}
		// an odd number of presses leaves the last low nibble 0
		if (presses.length === expectedLength + 1 && presses[presses.length - 1] === 0) presses.pop();
		return presses;
	}

	#checkSequence(id: string, request: unknown): void {
		const pending = this.#sequences.get(id);
		if (!pending) return;
		const presses = this.#reportedPresses(request, pending.presses.length);
		if (!presses) return;
		pending.attempts++;
		if (presses.length === pending.presses.length && presses.every((p, i) => p === pending.presses[i])) {
			this.#sequences.delete(id);
			this.#context.log(`association: ${id} entered the right sequence`);
			this.associate(id, id);
			return;
		}
		if (pending.attempts >= SEQUENCE_ATTEMPTS) {
			this.#sequences.delete(id);
			this.#shadow.update(id, { state: { desired: { pairing: { state: "timeout", config: null } } } });
			return;
		}
		this.#shadow.update(id, { state: { desired: { pairing: { state: "pattern_mismatch", config: { iteration: pending.attempts + 1, method: "buttons", length: pending.presses.length } } } } });
	}
}
