/*
 * The library's persistent settings in the "nrf_cloud" domain, as the C
 * library keeps them with Zephyr settings: the persistent-session flag
 * (nrf_cloud/p_sesh, a 4-byte int) and the pending FOTA job (nrf_cloud/fota/job).
 */

import { FOTA_JOB_KEY, SESSION_KEY } from "./constants.js";
import { decodeStoredJob, encodeStoredJob, type StoredJob } from "./codec.js";

/** The part of a key-value store the library uses (modules/storage/key-value on the device). */
export interface SettingsStore {
	read(key: string): ArrayBuffer | undefined;
	write(key: string, value: Uint8Array): void;
	delete(key: string): boolean;
}

/** A store that keeps nothing across restarts, for a device without settings. */
export class MemorySettings implements SettingsStore {
	readonly #values = new Map<string, Uint8Array>();

	read(key: string): ArrayBuffer | undefined {
		const value = this.#values.get(key);
		return value === undefined ? undefined : value.slice().buffer;
	}

	write(key: string, value: Uint8Array): void {
		this.#values.set(key, value.slice());
	}

	delete(key: string): boolean {
		return this.#values.delete(key);
	}
}

export class CloudSettings {
	readonly #store: SettingsStore;

	constructor(store: SettingsStore) {
		this.#store = store;
	}

	/** p_sesh: the broker keeps a session for this client (subscriptions survive a reconnect). */
	get persistentSession(): boolean {
		const bytes = this.#store.read(SESSION_KEY);
		if (bytes === undefined || bytes.byteLength !== 4) return false;
		return new DataView(bytes).getInt32(0, true) === 1;
	}

	set persistentSession(value: boolean) {
		const bytes = new Uint8Array(4);
		new DataView(bytes.buffer).setInt32(0, value ? 1 : 0, true);
		this.#store.write(SESSION_KEY, bytes);
	}

	/** The stored FOTA job; undefined when none is stored or the record is unreadable. */
	get job(): StoredJob | undefined {
		return decodeStoredJob(this.#store.read(FOTA_JOB_KEY));
	}

	set job(job: StoredJob | undefined) {
		if (job === undefined) this.#store.delete(FOTA_JOB_KEY);
		else this.#store.write(FOTA_JOB_KEY, encodeStoredJob(job));
	}
}
