/*
 * The library's persistent settings in the "nrf_cloud" domain, as the C
 * library keeps them with Zephyr settings: the persistent-session flag
 * (nrf_cloud/p_sesh, a 4-byte int) and the pending FOTA job (nrf_cloud/fota/job);
 * and, for pairedReportAhead only, the endpoints of the last confirmed pairing
 * (nrf_cloud/paired).
 */

import { FOTA_JOB_KEY, PAIRED_KEY, SESSION_KEY } from "./constants.js";
import { decodeStoredEndpoints, decodeStoredJob, encodeStoredEndpoints, encodeStoredJob, type Endpoints, type StoredJob } from "./codec.js";

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

/**
 * The library's view of its settings. A storage failure never reaches the
 * network code that triggered it: reads give "nothing stored", writes are
 * reported through `log` and otherwise dropped, as a device keeps running
 * with a settings partition it cannot write.
 */
export class CloudSettings {
	readonly #store: SettingsStore;
	readonly #log: (line: string) => void;

	constructor(store: SettingsStore, log: (line: string) => void) {
		this.#store = store;
		this.#log = log;
	}

	/** A value of another module's own (FOTA's download record); undefined when absent or unreadable. */
	read(key: string): ArrayBuffer | undefined {
		return this.#read(key);
	}

	/** Writes or, with undefined, deletes a value; a failure is logged and dropped. */
	write(key: string, value: Uint8Array | undefined): void {
		this.#write(key, value);
	}

	#read(key: string): ArrayBuffer | undefined {
		try {
			return this.#store.read(key);
		}
		catch (error) {
			this.#log(`settings: reading ${key} failed: ${error instanceof Error ? error.message : String(error)}`);
			return undefined;
		}
	}

	#write(key: string, value: Uint8Array | undefined): void {
		try {
			if (value === undefined) this.#store.delete(key);
			else this.#store.write(key, value);
		}
		catch (error) {
			this.#log(`settings: writing ${key} failed: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	/** p_sesh: the broker keeps a session for this client (subscriptions survive a reconnect). */
	get persistentSession(): boolean {
		const bytes = this.#read(SESSION_KEY);
		if (bytes === undefined || bytes.byteLength !== 4) return false;
		return new DataView(bytes).getInt32(0, true) === 1;
	}

	set persistentSession(value: boolean) {
		const bytes = new Uint8Array(4);
		new DataView(bytes.buffer).setInt32(0, value ? 1 : 0, true);
		this.#write(SESSION_KEY, bytes);
	}

	/** The stored FOTA job; undefined when none is stored or the record is unreadable. */
	get job(): StoredJob | undefined {
		return decodeStoredJob(this.#read(FOTA_JOB_KEY));
	}

	set job(job: StoredJob | undefined) {
		this.#write(FOTA_JOB_KEY, job === undefined ? undefined : encodeStoredJob(job));
	}

	/** The endpoints of the last pairing the shadow confirmed; undefined when none is kept or the record is damaged. */
	get pairedEndpoints(): Endpoints | undefined {
		return decodeStoredEndpoints(this.#read(PAIRED_KEY));
	}

	set pairedEndpoints(endpoints: Endpoints | undefined) {
		this.#write(PAIRED_KEY, endpoints === undefined ? undefined : encodeStoredEndpoints(endpoints));
	}
}
