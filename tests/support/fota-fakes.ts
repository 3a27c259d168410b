/*
 * Stand-ins for the FOTA room's collaborators in Node unit tests, behaving as
 * the contracts of modules/fota/collaborators.ts say: a DFU target with a
 * flash slot, MCUboot's test swap and the S0/S1 slot, a download client that
 * serves files fragment by fragment from memory (asynchronously, as the real
 * one does from the network), and a key-value store that counts its writes.
 */

import { createHash } from "node:crypto";
import type {
	DfuSlot, DfuTargetClass, DownloadFactory, DownloadFailure, DownloadHandle, DownloadRequest, FotaPlatform, ImageType, UpdateResult,
} from "../../modules/fota/collaborators.js";

/** The device's flash and boot state, shared by the fake target's instances and statics. */
export interface FakeFlash {
	slot: Uint8Array | undefined;
	slotType: ImageType | undefined;
	written: number;
	scheduled: { type: ImageType; size: number; version: string } | undefined;
	last: UpdateResult | undefined;
	running: { version: string; confirmed: boolean };
	/** The app version before the running one, restored by a revert. */
	previous: string;
	activeBootSlot: 0 | 1;
	reboots: number;
	confirms: number;
	/** Largest single write into the slot. */
	largestWrite: number;
}

export function fakeFlash(version = "1.0.0+0"): FakeFlash {
	return {
		slot: undefined, slotType: undefined, written: 0, scheduled: undefined, last: undefined,
		running: { version, confirmed: true }, previous: version, activeBootSlot: 0, reboots: 0, confirms: 0, largestWrite: 0,
	};
}

const MAGIC = 0x96f3b83d;

/** The version of a whole MCUboot image whose SHA-256 TLV matches; throws as verify() does otherwise. */
export function checkMcuboot(image: Uint8Array): string {
	const view = new DataView(image.buffer, image.byteOffset, image.length);
	if (image.length < 32 || view.getUint32(0, true) !== MAGIC) throw new Error("not an MCUboot image (bad header magic)");
	const hashed = view.getUint16(8, true) + view.getUint32(12, true) + view.getUint16(10, true);
	if (hashed + 40 > image.length) throw new Error("MCUboot header sizes exceed the image");
	const digest = createHash("sha256").update(image.subarray(0, hashed)).digest();
	if (!digest.equals(Buffer.from(image.subarray(hashed + 8, hashed + 40)))) throw new Error("SHA-256 of the image does not match its TLV");
	return `${image[20]}.${image[21]}.${view.getUint16(22, true)}+${view.getUint32(24, true)}`;
}

/** A DFU target class over `flash`. */
export function fakeTarget(flash: FakeFlash): DfuTargetClass {
	class FakeSlot implements DfuSlot {
		readonly #type: ImageType;
		readonly #size: number;
		#erased = false;
		#closed = false;

		constructor(options: { type: ImageType; size: number; resume?: boolean }) {
			this.#type = options.type;
			this.#size = options.size;
			// Resuming keeps what the slot holds of an image of this type and size.
			if (options.resume === true && flash.slot !== undefined && flash.slotType === options.type && flash.slot.length === options.size) this.#erased = true;
		}

		get written(): number {
			return this.#erased ? flash.written : 0;
		}

		erase(): void {
			flash.slot = new Uint8Array(this.#size).fill(0xFF);
			flash.slotType = this.#type;
			flash.written = 0;
			this.#erased = true;
		}

		write(bytes: Uint8Array): number {
			if (this.#closed || !this.#erased) throw new Error("erase the slot before writing");
			if (flash.written + bytes.length > this.#size) throw new RangeError("more bytes than the announced image size");
			flash.slot!.set(bytes, flash.written);
			flash.written += bytes.length;
			flash.largestWrite = Math.max(flash.largestWrite, bytes.length);
			return flash.written;
		}

		verify(): string {
			if (flash.written !== this.#size) throw new Error(`${flash.written} of ${this.#size} bytes written`);
			return this.#type === "modem" ? "mfw_nrf9160_1.3.1" : checkMcuboot(flash.slot!);
		}

		schedule(): void {
			flash.scheduled = { type: this.#type, size: this.#size, version: this.verify() };
		}

		cancel(): void {
			flash.scheduled = undefined;
			flash.slot = undefined;
			flash.written = 0;
		}

		close(): void {
			this.#closed = true;
		}

		static reboot(): void {
			flash.reboots++;
		}

		static lastUpdate(): UpdateResult | undefined {
			return flash.last;
		}

		static clearLastUpdate(): void {
			flash.last = undefined;
		}

		static confirm(): void {
			flash.running.confirmed = true;
			flash.confirms++;
			if (flash.last !== undefined) flash.last.confirmed = true;
		}

		static runningImage(): { version: string; confirmed: boolean } {
			return { ...flash.running };
		}

		static activeBootSlot(): 0 | 1 {
			return flash.activeBootSlot;
		}
	}
	return FakeSlot;
}

/** What the bootloader does at a start: a scheduled image runs (unconfirmed), an unconfirmed one is reverted. */
export function fakeStart(flash: FakeFlash): void {
	if (!flash.running.confirmed) {
		flash.last = { type: "app", size: 0, version: flash.running.version, status: "reverted", confirmed: false };
		flash.running = { version: flash.previous, confirmed: true };
		return;
	}
	const scheduled = flash.scheduled;
	if (scheduled === undefined) return;
	flash.scheduled = undefined;
	flash.last = { type: scheduled.type, size: scheduled.size, version: scheduled.version, status: "applied", confirmed: false };
	if (scheduled.type === "app") {
		flash.previous = flash.running.version;
		flash.running = { version: scheduled.version, confirmed: false };
	}
	if (scheduled.type === "boot") flash.activeBootSlot = flash.activeBootSlot === 0 ? 1 : 0;
}

class FakeDownloadError extends Error implements DownloadFailure {
	readonly reason: string;
	readonly offset: number;

	constructor(reason: string, offset: number, message: string) {
		super(message);
		this.reason = reason;
		this.offset = offset;
	}
}

export interface FakeServer {
	files: Map<string, Uint8Array>;
	requests: DownloadRequest[];
	/** Give up with reason "link" once this many bytes are delivered (the client's retries spent). */
	failAt: number | undefined;
	/** Stop delivering (as a dropped host would) once this many bytes are delivered. */
	stallAt: number | undefined;
	/** The open downloads. */
	open: number;
}

export function fakeServer(): FakeServer {
	return { files: new Map(), requests: [], failAt: undefined, stallAt: undefined, open: 0 };
}

/** A download factory serving `server.files` by path, one fragment per turn of the event loop. */
export function fakeDownload(server: FakeServer): DownloadFactory {
	return (request: DownloadRequest): DownloadHandle => {
		server.requests.push(request);
		server.open++;
		let offset = request.offset;
		let closed = false;
		const finish = () => {
			if (!closed) server.open--;
			closed = true;
		};
		const step = () => {
			if (closed) return;
			const file = server.files.get(request.path.replace(/^\/+/, ""));
			if (file === undefined) {
				finish();
				request.onError(new FakeDownloadError("http", offset, "HTTP 404"));
				return;
			}
			if (file.length !== request.size) {
				finish();
				request.onError(new FakeDownloadError("size", offset, `the server has ${file.length} bytes, the job says ${request.size}`));
				return;
			}
			if (server.stallAt !== undefined && offset >= server.stallAt) return;
			if (server.failAt !== undefined && offset >= server.failAt) {
				finish();
				request.onError(new FakeDownloadError("link", offset, "connection reset"));
				return;
			}
			if (offset >= file.length) {
				finish();
				request.onDone(file.length);
				return;
			}
			const fragment = file.slice(offset, Math.min(offset + request.fragmentSize, file.length));
			try {
				request.onFragment(fragment, offset);
			}
			catch (error) {
				finish();
				request.onError(new FakeDownloadError("consumer", offset, error instanceof Error ? error.message : String(error)));
				return;
			}
			offset += fragment.length;
			setImmediate(step);
		};
		setImmediate(step);
		return {
			get offset() { return offset; },
			close: finish,
		};
	};
}

export function fakeFotaPlatform(flash: FakeFlash, server: FakeServer): FotaPlatform {
	return { download: fakeDownload(server), target: fakeTarget(flash) };
}
