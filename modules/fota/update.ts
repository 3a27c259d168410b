/*
 * One FOTA job on the device, from the job document to the reboot
 * (docs/protocol.md §7.4): each fragment of the download goes straight into
 * the DFU target (never more than one fragment in RAM), the download record
 * follows the offset so that a reboot resumes, the image is checked before it
 * is scheduled, and the stored job (validation PENDING) is written before the
 * schedule so that whatever start comes next knows an update was under way.
 * Failures end the job with FAILED and the slot forgotten; nothing reboots.
 */

import type { SocketFactory } from "../platform/socket.js";
import { systemClock } from "../platform/clock.js";
import { FOTA_ERROR_TEXT, type FotaJob } from "../nrf-cloud/codec.js";
import { FotaStatus, FotaType, FotaValidate } from "../nrf-cloud/constants.js";
import type { CloudSettings } from "../nrf-cloud/settings.js";
import type { DfuSlot, DownloadFailure, DownloadHandle, FotaPlatform, ImageType } from "./collaborators.js";
import { DOWNLOAD_KEY, encodeDownloadRecord, type DownloadRecord } from "./records.js";
import type { JobReports } from "./reports.js";

export type FotaState = "received" | "downloading" | "downloaded" | "pending" | "rebooting" | "validating" | "reporting" | "cleared";

/** The DFU image type of each FOTA type. */
export const IMAGE_TYPES: readonly ImageType[] = Object.freeze(["app", "modem", "boot"] as ImageType[]);

/** The first four bytes of an MCUboot image (IMAGE_MAGIC, little-endian). */
const MCUBOOT_MAGIC = [0x3d, 0xb8, 0xf3, 0x96];

export const FotaError = Object.freeze({
	DOWNLOAD_START: FOTA_ERROR_TEXT[1]!,
	DOWNLOAD: FOTA_ERROR_TEXT[2]!,
	APPLY_FAIL: FOTA_ERROR_TEXT[4]!,
	MISMATCH: FOTA_ERROR_TEXT[5]!,
});

export interface UpdateOptions {
	/** The job, its path already the one file to fetch. */
	job: FotaJob;
	/** The stored download of this job, to go on from. */
	resume: DownloadRecord | undefined;
	platform: FotaPlatform;
	settings: CloudSettings;
	reports: JobReports;
	/** A TLS connection factory to host:port with the device's credentials. */
	socket: (host: string, port: number) => SocketFactory;
	fragmentSize: number;
	/** Percent steps between progress reports; 0: only the first and 100. */
	progressIncrement: number;
	/** Every state change of the job. */
	enter: (state: FotaState) => void;
	/** IN_PROGRESS was acknowledged: FOTA_DONE, the application reboots. */
	done: (type: number) => void;
	/** The job ended here (failed); the room may take another. */
	ended: () => void;
	log: (line: string) => void;
}

/** "host", "host:port" or "[v6]:port" of a job document, HTTPS by default. */
export function splitHost(host: string): { name: string; port: number } {
	const bare = host.replace(/^https:\/\//i, "").replace(/\/+$/, "");
	const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(bare) ?? /^([^:]+):(\d{1,5})$/.exec(bare);
	if (match === null) return { name: bare.replace(/^\[(.*)\]$/, "$1"), port: 443 };
	return { name: match[1]!, port: Number(match[2]) };
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class FotaUpdate {
	readonly #options: UpdateOptions;
	readonly #job: FotaJob;
	#slot: DfuSlot | undefined = undefined;
	#download: DownloadHandle | undefined = undefined;
	#record: DownloadRecord;
	#lastPercent = -1;
	/** The first fragment showed a file of another kind than the job's type. */
	#mismatch = false;
	#closed = false;

	constructor(options: UpdateOptions) {
		this.#options = options;
		this.#job = options.job;
		const { id, type, size, host, path } = options.job;
		this.#record = { id, type, size, host, path, offset: 0 };
	}

	get id(): string {
		return this.#job.id;
	}

	start(): void {
		const o = this.#options;
		const job = this.#job;
		o.enter("received");
		try {
			const Target = o.platform.target;
			const resume = o.resume !== undefined;
			const slot = new Target({ type: IMAGE_TYPES[job.type]!, size: job.size, resume });
			this.#slot = slot;
			if (resume && slot.written > 0) {
				this.#record.offset = slot.written;
				if (slot.written !== o.resume!.offset) o.log(`FOTA job ${job.id}: the slot holds ${slot.written} bytes, the record said ${o.resume!.offset}`);
			}
			else slot.erase();
		}
		catch (error) {
			this.#fail(FotaError.DOWNLOAD_START, `cannot open the DFU target: ${describe(error)}`);
			return;
		}
		this.#store();
		o.enter("downloading");
		if (this.#record.offset > 0) o.log(`FOTA job ${job.id}: resuming at byte ${this.#record.offset} of ${job.size}`);
		this.#progress(true);
		if (this.#record.offset >= job.size) {
			this.#downloaded();
			return;
		}
		const { name, port } = splitHost(job.host);
		o.log(`FOTA job ${job.id}: fetching ${job.path} from ${job.host}, byte ${this.#record.offset} of ${job.size}`);
		try {
			this.#download = o.platform.download({
				connect: o.socket(name, port),
				host: job.host.replace(/^https:\/\//i, ""),
				path: job.path,
				fragmentSize: o.fragmentSize,
				offset: this.#record.offset,
				size: job.size,
				clock: o.platform.clock ?? systemClock,
				onFragment: (bytes, offset) => this.#fragment(bytes, offset),
				onDone: () => this.#downloaded(),
				onError: (error) => this.#downloadFailed(error),
			});
		}
		catch (error) {
			this.#fail(FotaError.DOWNLOAD_START, `the download did not start: ${describe(error)}`);
		}
	}

	/** Stops the download and releases the slot; no reports follow. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#download?.close();
		this.#download = undefined;
		this.#slot?.close();
		this.#slot = undefined;
	}

	#store(): void {
		this.#options.settings.write(DOWNLOAD_KEY, encodeDownloadRecord(this.#record));
	}

	#fragment(bytes: Uint8Array, offset: number): void {
		if (this.#closed) return;
		const slot = this.#slot!;
		if (offset !== slot.written) throw new RangeError(`fragment at ${offset}, the slot holds ${slot.written} bytes`);
		if (offset === 0 && this.#job.type !== FotaType.MODEM && !MCUBOOT_MAGIC.every((byte, i) => bytes[i] === byte)) {
			this.#mismatch = true;
			throw new TypeError("the file is not an MCUboot image");
		}
		this.#record.offset = slot.write(bytes);
		this.#store();
		this.#progress(false);
	}

	#progress(first: boolean): void {
		const percent = Math.floor(this.#record.offset * 100 / this.#job.size);
		const step = this.#options.progressIncrement;
		const due = first || percent === 100 || (step > 0 && percent >= this.#lastPercent + step);
		if (!due || percent === this.#lastPercent) return;
		this.#lastPercent = percent;
		this.#options.log(`FOTA job ${this.#job.id}: ${percent} %`);
		this.#options.reports.progress(this.#job.id, percent);
	}

	#downloadFailed(error: DownloadFailure): void {
		if (this.#closed) return;
		this.#download = undefined;
		if (this.#mismatch) this.#fail(FotaError.MISMATCH, "the file is not an MCUboot image");
		else this.#fail(FotaError.DOWNLOAD, `download failed (${error.reason}) at byte ${error.offset}: ${error.message}`);
	}

	#downloaded(): void {
		if (this.#closed) return;
		const o = this.#options;
		const job = this.#job;
		this.#download = undefined;
		o.enter("downloaded");
		const slot = this.#slot!;
		let version: string;
		try {
			version = slot.verify();
		}
		catch (error) {
			this.#fail(FotaError.DOWNLOAD, `the image failed its check: ${describe(error)}`);
			return;
		}
		// Stored before the schedule: a start after this point validates, whichever it is.
		o.settings.job = { validate: FotaValidate.PENDING, type: job.type, id: job.id };
		try {
			slot.schedule();
		}
		catch (error) {
			o.settings.job = undefined;
			this.#fail(FotaError.APPLY_FAIL, `the image could not be scheduled: ${describe(error)}`);
			return;
		}
		o.settings.write(DOWNLOAD_KEY, undefined);
		o.log(`FOTA job ${job.id}: image ${version === "" ? "" : `${version} `}verified and scheduled`);
		o.enter("pending");
		o.reports.status(job.id, FotaStatus.IN_PROGRESS, "", () => {
			o.enter("rebooting");
			o.done(job.type);
		});
	}

	#fail(message: string, reason: string): void {
		const o = this.#options;
		const id = this.#job.id;
		o.log(`FOTA job ${id} failed: ${reason}`);
		try {
			this.#slot?.cancel();
		}
		catch (error) {
			o.log(`FOTA job ${id}: cancelling the DFU target failed: ${describe(error)}`);
		}
		this.close();
		o.settings.write(DOWNLOAD_KEY, undefined);
		o.enter("reporting");
		o.reports.status(id, FotaStatus.FAILED, message, () => o.enter("cleared"));
		o.ended();
	}
}
