/*
 * DFU target for FOTA: receives an image into the secondary slot, checks it,
 * and schedules it for the next start. Application and bootloader images are
 * MCUboot images (their SHA-256 TLV is checked); a modem image is checked
 * against the SHA-256 given when the target is opened. On the device this is
 * NCS's dfu_target; in the simulator host a file-backed slot whose reboot makes
 * the host exit with status 75 for its supervisor to restart it.
 */

export type ImageType = "app" | "modem" | "boot";

export interface DfuTargetOptions {
	type: ImageType;
	/** Size of the whole image in bytes. */
	size: number;
	/** Expected SHA-256 (64 hex digits); required for modem images. */
	sha256?: string;
	/** Called after each write with the bytes written and the total. */
	onProgress?: (written: number, size: number) => void;
}

export interface UpdateResult {
	type: ImageType;
	size: number;
	/** MCUboot version "major.minor.revision+build"; empty for modem images. */
	version: string;
	status: "applied" | "failed";
	reason?: string;
}

/**
 * The C binding alone: each member is exactly one native call, in the form
 * mcconfig's xsc turns into the C function itself.
 */
class NativeDfuTarget extends Native("xs_dfu_destructor") {
	constructor(type: ImageType, size: number, sha256: string | undefined) {
		super();
		native("xs_dfu_constructor").call(this, type, size, sha256);
	}

	get written(): number {
		return native("xs_dfu_get_written").call(this);
	}

	/** Erases the secondary slot; required before the first write. */
	erase(): void {
		native("xs_dfu_erase").call(this);
	}

	/** Appends bytes to the image; returns the bytes written so far. */
	write(bytes: Uint8Array | ArrayBuffer): number {
		return native("xs_dfu_write").call(this, bytes);
	}

	/** Checks the complete image; returns its MCUboot version ("" for modem images). Throws when it is damaged. */
	verify(): string {
		return native("xs_dfu_verify").call(this);
	}

	/** Marks the verified image to be applied at the next start. */
	schedule(): void {
		native("xs_dfu_schedule").call(this);
	}

	/** Drops a scheduled update and forgets the slot's content. */
	cancel(): void {
		native("xs_dfu_cancel").call(this);
	}

	close(): void {
		native("xs_dfu_close").call(this);
	}

	/** Restarts the device (the simulator host exits with status 75). */
	static reboot(): void {
		native("xs_dfu_reboot").call(this);
	}

	/** Applies an update scheduled before the reboot and returns the latest result, if any. */
	static lastUpdate(): UpdateResult | undefined {
		return native("xs_dfu_last_update").call(this);
	}

	static clearLastUpdate(): void {
		native("xs_dfu_clear_last_update").call(this);
	}
}

export class DfuTarget extends NativeDfuTarget {
	readonly #size: number;
	readonly #onProgress: ((written: number, size: number) => void) | undefined;

	constructor(options: DfuTargetOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new TypeError("onProgress must be a function");
		if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) throw new RangeError("sha256 must be 64 hex digits");
		super(options.type, options.size, options.sha256);
		this.#size = options.size;
		this.#onProgress = options.onProgress;
	}

	get size(): number {
		return this.#size;
	}

	/** Appends bytes to the image; returns the bytes written so far and reports the progress. */
	override write(bytes: Uint8Array | ArrayBuffer): number {
		const written = super.write(bytes);
		this.#onProgress?.(written, this.#size);
		return written;
	}
}
