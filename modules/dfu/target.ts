/*
 * DFU target for FOTA: receives an image into the secondary slot, checks it,
 * and schedules it for the next start. Application and bootloader images are
 * MCUboot images (their SHA-256 TLV is checked); a modem image is checked
 * against a SHA-256 when one is given at opening. On the device this is
 * NCS's dfu_target with MCUboot; in the simulator host a file-backed slot
 * whose reboot makes the host exit with status 75 for its supervisor to
 * restart it.
 *
 * A download that stops half way (a dropped link, a reboot, a killed process)
 * resumes with `resume: true`: the slot keeps a progress record that never
 * claims more bytes than the slot holds.
 *
 * Application updates follow MCUboot's test swap: the new image runs at the
 * next start unconfirmed; unless confirm() is called while it runs, the start
 * after that restores the old image and lastUpdate() says "reverted".
 */

export type ImageType = "app" | "modem" | "boot";

const IMAGE_TYPES: readonly string[] = Object.freeze(["app", "modem", "boot"]);

export interface DfuTargetOptions {
	type: ImageType;
	/** Size of the whole image in bytes. */
	size: number;
	/** Expected SHA-256 (64 hex digits), checked by verify() when given (a FOTA job carries none). */
	sha256?: string;
	/** Called after each write with the bytes written and the total. */
	onProgress?: (written: number, size: number) => void;
	/**
	 * Keep what the slot already holds when it holds the first bytes of an
	 * image of this type and size (and SHA-256, when one was given both times),
	 * after a dropped link or a reboot; `written` then says how far.
	 */
	resume?: boolean;
}

export interface UpdateResult {
	type: ImageType;
	size: number;
	/** MCUboot version "major.minor.revision+build" (app, boot); the modem firmware name for modem images. */
	version: string;
	/**
	 * "applied": the new image runs (app: `confirmed` false until confirm());
	 * "reverted": the new app image ran without being confirmed and the old one is back;
	 * "failed": applying failed (a damaged slot); the old image runs.
	 */
	status: "applied" | "reverted" | "failed";
	confirmed: boolean;
	reason?: string;
}

export interface RunningImage {
	/** MCUboot version of the running app image; "" for the app the host was given on its command line. */
	version: string;
	confirmed: boolean;
}

/**
 * The C binding alone: each member is exactly one native call, in the form
 * mcconfig's xsc turns into the C function itself.
 */
class NativeDfuTarget extends Native("xs_dfu_destructor") {
	constructor(type: ImageType, size: number, sha256: string | undefined, resume: boolean) {
		super();
		native("xs_dfu_constructor").call(this, type, size, sha256, resume);
	}

	get written(): number {
		return native("xs_dfu_get_written").call(this);
	}

	/** Erases the secondary slot; required before the first write of a fresh image. */
	erase(): void {
		native("xs_dfu_erase").call(this);
	}

	/** Appends bytes to the image; returns the bytes written so far. */
	write(bytes: Uint8Array | ArrayBuffer): number {
		return native("xs_dfu_write").call(this, bytes);
	}

	/** Checks the complete image; returns its MCUboot version (the firmware name for modem images). Throws when it is damaged. */
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

	/** What the last start did with a scheduled update, until cleared. */
	static lastUpdate(): UpdateResult | undefined {
		return native("xs_dfu_last_update").call(this);
	}

	static clearLastUpdate(): void {
		native("xs_dfu_clear_last_update").call(this);
	}

	/** boot_write_img_confirmed(): the running app image stays. Idempotent. */
	static confirm(): void {
		native("xs_dfu_confirm").call(this);
	}

	/** The running app image: its version and whether it is confirmed. */
	static runningImage(): RunningImage {
		return native("xs_dfu_running_image").call(this);
	}

	/** The active bootloader slot (S0 = 0, S1 = 1); a BOOT update goes into the other one. */
	static activeBootSlot(): 0 | 1 {
		return native("xs_dfu_active_boot_slot").call(this);
	}

	/** Applies a scheduled MODEM update without a reboot (the modem re-initialised). Throws (EACCES) when none is scheduled. */
	static applyModemUpdate(): UpdateResult {
		return native("xs_dfu_apply_modem_update").call(this);
	}
}

export class DfuTarget extends NativeDfuTarget {
	readonly #size: number;
	readonly #onProgress: ((written: number, size: number) => void) | undefined;

	constructor(options: DfuTargetOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.type !== "string") throw new TypeError('type must be "app", "modem" or "boot"');
		if (!IMAGE_TYPES.includes(options.type)) throw new RangeError('type must be "app", "modem" or "boot"');
		if (typeof options.size !== "number") throw new TypeError("size must be a number");
		if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError("size must be a positive integer");
		if (options.onProgress !== undefined && typeof options.onProgress !== "function") throw new TypeError("onProgress must be a function");
		if (options.sha256 !== undefined && typeof options.sha256 !== "string") throw new TypeError("sha256 must be a string");
		if (options.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.sha256)) throw new RangeError("sha256 must be 64 hex digits");
		if (options.resume !== undefined && typeof options.resume !== "boolean") throw new TypeError("resume must be a boolean");
		super(options.type, options.size, options.sha256?.toLowerCase(), options.resume === true);
		this.#size = options.size;
		this.#onProgress = options.onProgress;
	}

	get size(): number {
		return this.#size;
	}

	/** Appends bytes to the image; returns the bytes written so far and reports the progress. */
	override write(bytes: Uint8Array | ArrayBuffer): number {
		if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) throw new TypeError("bytes must be a Uint8Array or an ArrayBuffer");
		const written = super.write(bytes);
		this.#onProgress?.(written, this.#size);
		return written;
	}
}
