/*
 * Persistent key-value storage in the shape of ECMA-419's key-value store: a
 * domain ("path") of keys holding short values, kept across restarts. Zephyr
 * settings on the device, files in the simulator host. Values are bytes; the
 * string and integer helpers cover the library's own settings.
 */

import { utf8Encode } from "../platform/utf8.js";

export interface KeyValueOptions {
	/** The domain, e.g. "nrf_cloud". */
	path: string;
}

/**
 * The C binding alone: each member is exactly one native call, in the form
 * mcconfig's xsc turns into the C function itself.
 */
class NativeKeyValueStore extends Native("xs_kv_destructor") {
	constructor(path: string) {
		super();
		native("xs_kv_constructor").call(this, path);
	}

	/** The stored bytes, or undefined when the key is absent. */
	read(key: string): ArrayBuffer | undefined {
		return native("xs_kv_read").call(this, key);
	}

	write(key: string, value: ArrayBuffer | Uint8Array): void {
		native("xs_kv_write").call(this, key, value);
	}

	delete(key: string): boolean {
		return native("xs_kv_delete").call(this, key);
	}

	keys(): string[] {
		return native("xs_kv_keys").call(this);
	}

	close(): void {
		native("xs_kv_close").call(this);
	}
}

export class KeyValueStore extends NativeKeyValueStore {
	constructor(options: KeyValueOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		super(options.path);
	}

	override write(key: string, value: ArrayBuffer | Uint8Array | string): void {
		const bytes = typeof value === "string" ? utf8Encode(value) : value;
		if (!(bytes instanceof ArrayBuffer) && !(bytes instanceof Uint8Array)) throw new TypeError("value must be bytes or a string");
		super.write(key, bytes);
	}

	/** A 32-bit signed integer stored in 4 bytes, little-endian, as Zephyr settings keep an int. */
	readInteger(key: string): number | undefined {
		const bytes = this.read(key);
		if (bytes === undefined) return undefined;
		if (bytes.byteLength !== 4) throw new RangeError(`key ${key} holds ${bytes.byteLength} bytes, not a 4-byte integer`);
		return new DataView(bytes).getInt32(0, true);
	}

	writeInteger(key: string, value: number): void {
		if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw new RangeError("value must be a 32-bit integer");
		const bytes = new ArrayBuffer(4);
		new DataView(bytes).setInt32(0, value, true);
		this.write(key, bytes);
	}
}
