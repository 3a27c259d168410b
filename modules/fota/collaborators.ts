/*
 * What the FOTA room needs from the platform, as shapes rather than imports:
 * the HTTP download client (modules/http/download) and the DFU target
 * (modules/dfu/target) on the device, fakes in Node tests. Keeping them as
 * options lets the job state machine run alone, with any clock.
 */

import type { Clock } from "../platform/clock.js";
import type { SocketFactory } from "../platform/socket.js";

/** Why a download stopped (modules/http/download's DownloadError). */
export interface DownloadFailure extends Error {
	readonly reason: string;
	readonly offset: number;
}

export interface DownloadRequest {
	connect: SocketFactory;
	host: string;
	path: string;
	fragmentSize: number;
	offset: number;
	size: number;
	clock: Clock;
	onFragment(bytes: Uint8Array, offset: number): void;
	onDone(size: number): void;
	onError(error: DownloadFailure): void;
}

export interface DownloadHandle {
	readonly offset: number;
	close(): void;
}

/** Starts a download at once (new Download(options) on the device). */
export type DownloadFactory = (request: DownloadRequest) => DownloadHandle;

export type ImageType = "app" | "modem" | "boot";

export interface UpdateResult {
	type: ImageType;
	size: number;
	version: string;
	status: "applied" | "reverted" | "failed";
	confirmed?: boolean;
	reason?: string;
}

export interface DfuSlot {
	readonly written: number;
	erase(): void;
	write(bytes: Uint8Array): number;
	verify(): string;
	schedule(): void;
	cancel(): void;
	close(): void;
}

/** The DFU target class: instances are the secondary slot, statics the boot-time side. */
export interface DfuTargetClass {
	new(options: { type: ImageType; size: number; resume?: boolean }): DfuSlot;
	reboot(): void;
	lastUpdate(): UpdateResult | undefined;
	clearLastUpdate(): void;
	confirm(): void;
	runningImage(): { version: string; confirmed: boolean };
	activeBootSlot(): 0 | 1;
}

/** Platform.fota: what a device that can update itself provides. */
export interface FotaPlatform {
	download: DownloadFactory;
	target: DfuTargetClass;
	/** Timers of the download client; the system clock by default. */
	clock?: Clock;
}

/** Throws TypeError unless `fota` has the collaborators above. */
export function checkFotaPlatform(fota: unknown): FotaPlatform {
	const f = fota as Partial<FotaPlatform> | null;
	if (f === null || typeof f !== "object" || typeof f.download !== "function" || typeof f.target !== "function")
		throw new TypeError("platform.fota must provide download() and target (a DFU target class)");
	for (const name of ["reboot", "lastUpdate", "clearLastUpdate", "confirm", "runningImage", "activeBootSlot"] as const)
		if (typeof f.target[name] !== "function") throw new TypeError(`platform.fota.target must have a static ${name}()`);
	return f as FotaPlatform;
}
