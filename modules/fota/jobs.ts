/*
 * The FOTA room (nrf_cloud_fota.c): asks for the queued job once the FOTA
 * topics are subscribed (or on a resumed session), checks a job document and
 * runs it (update.ts), sends the status updates one at a time (reports.ts),
 * validates a stored job after the reboot inside init (validate.ts), reports
 * the result once connected and clears the stored record on its PUBACK.
 * Every state change of a job goes through #enter.
 */

import type { SocketFactory } from "../platform/socket.js";
import { EventType, FotaStatus, FotaType, FotaValidate, MessageId } from "../nrf-cloud/constants.js";
import { decodeJob, validationReport, type FotaJob } from "../nrf-cloud/codec.js";
import type { CloudEvent } from "../nrf-cloud/fsm.js";
import type { ResolvedConfig } from "../nrf-cloud/config.js";
import type { CloudSettings } from "../nrf-cloud/settings.js";
import type { CloudTransport } from "../nrf-cloud/transport.js";
import type { FotaPlatform } from "./collaborators.js";
import { DOWNLOAD_KEY, decodeDownloadRecord } from "./records.js";
import { JobReports } from "./reports.js";
import { FotaUpdate, IMAGE_TYPES, type FotaState } from "./update.js";
import { validateUpdate } from "./validate.js";

/** FOTA type names as serviceInfo.fota_v2 lists them, indexed by FotaType. */
export const FOTA_TYPE_NAMES: readonly string[] = Object.freeze(["APP", "MODEM", "BOOT"]);

export interface FotaRoomOptions {
	config: ResolvedConfig;
	settings: CloudSettings;
	/** Without it the device cannot update itself: jobs are REJECTED. */
	platform: FotaPlatform | undefined;
	/** A TLS connection factory to host:port with the library's credentials. */
	socket: (host: string, port: number) => SocketFactory;
	/** Emits an application event (FOTA_DONE). */
	emit: (event: CloudEvent) => void;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class FotaJobs {
	readonly #options: FotaRoomOptions;
	readonly #config: ResolvedConfig;
	readonly #settings: CloudSettings;
	readonly #reports: JobReports;
	#transport: CloudTransport | undefined = undefined;
	/** The job being downloaded, or waiting for its reboot. */
	#active: FotaUpdate | undefined = undefined;
	/** Jobs that reached their end in this boot: a repeat is not started twice. */
	readonly #finished = new Set<string>();
	/** The stored result is queued for the cloud; its PUBACK clears the record. */
	#resultQueued = false;

	constructor(options: FotaRoomOptions) {
		this.#options = options;
		this.#config = options.config;
		this.#settings = options.settings;
		this.#reports = new JobReports((payload) => this.#publish(payload));
	}

	/** The FOTA types this device takes (serviceInfo.fota_v2); none without FOTA or a DFU target. */
	get types(): string[] {
		return this.#config.fota && this.#options.platform !== undefined ? this.#config.fotaTypes.slice() : [];
	}

	attach(transport: CloudTransport): void {
		this.#transport = transport;
	}

	#enter(state: FotaState, jobId: string): void {
		this.#config.log(`FOTA job ${jobId}: ${state}`);
	}

	/**
	 * Inside init: a job stored PENDING was scheduled before this start. What the
	 * start did with it becomes its stored result, reported once connected.
	 */
	startup(): void {
		const job = this.#settings.job;
		const platform = this.#options.platform;
		if (job === undefined || job.validate !== FotaValidate.PENDING || platform === undefined) return;
		if (this.#neverScheduled(job.id, job.type, platform)) {
			// Stopped between storing the job and scheduling its image: the slot is whole, so the job goes on when the cloud delivers it again.
			this.#config.log(`FOTA job ${job.id}: stored before its image was scheduled; it goes on when the job comes again`);
			this.#settings.job = undefined;
			return;
		}
		this.#enter("validating", job.id);
		const result = validateUpdate(job.type, platform.target);
		this.#config.log(`FOTA job ${job.id}: ${result.reason}`);
		this.#settings.job = { ...job, validate: result.validate };
		this.#finished.add(job.id);
		try {
			platform.target.clearLastUpdate();
		}
		catch (error) {
			this.#config.log(`FOTA: clearing the DFU result failed: ${describe(error)}`);
		}
		this.#settings.write(DOWNLOAD_KEY, undefined);
		// The broker's session predates the update (v1.6 clears the flag after one).
		this.#settings.persistentSession = false;
		if (result.rebootAgain) {
			this.#config.log("FOTA: rebooting again to run the new modem firmware");
			platform.target.reboot();
		}
	}

	/** The download record of this job is complete and the start applied nothing of its type. */
	#neverScheduled(id: string, type: number, platform: FotaPlatform): boolean {
		const record = decodeDownloadRecord(this.#settings.read(DOWNLOAD_KEY));
		if (record === undefined || record.id !== id || record.offset !== record.size) return false;
		try {
			return platform.target.lastUpdate()?.type !== IMAGE_TYPES[type];
		}
		catch {
			return false;
		}
	}

	/** The shadow gave the endpoints, so the FOTA topics exist: report a stored result; ask for a job if no SUBACK will come. */
	endpointsKnown(): void {
		if (!this.#config.fota) return;
		this.#queueResult();
		this.#reports.resume();
		if (this.#transport?.sessionValid === true) this.#requestJob();
	}

	/** The FOTA SUBACK: time to ask for a job. */
	subscribed(): void {
		this.#requestJob();
	}

	/** A PUBACK of a FOTA request or update. */
	acknowledged(packetId: number): void {
		if (packetId === MessageId.FOTA_UPDATE) this.#reports.acknowledged();
	}

	connectionEnded(): void {
		this.#reports.connectionEnded();
	}

	/**
	 * nrf_cloud_modem_fota_completed: records the modem update's outcome and
	 * reports it. False when no modem update is waiting for validation.
	 */
	modemUpdateCompleted(success: boolean): boolean {
		const job = this.#settings.job;
		if (job === undefined || job.type !== FotaType.MODEM || job.validate !== FotaValidate.PENDING) return false;
		this.#enter("validating", job.id);
		this.#settings.job = { ...job, validate: success ? FotaValidate.PASS : FotaValidate.FAIL };
		try {
			this.#options.platform?.target.clearLastUpdate();
		}
		catch (error) {
			this.#config.log(`FOTA: clearing the DFU result failed: ${describe(error)}`);
		}
		this.#queueResult();
		return true;
	}

	/** A job document on jobs/rcv (or jobs/ble/rcv). */
	message(payload: Uint8Array, ble: boolean): void {
		const job = decodeJob(payload, ble);
		if (job === undefined) {
			this.#config.log("ignoring a FOTA job document that does not parse");
			return;
		}
		if (ble) {
			this.#config.log(`ignoring BLE FOTA job ${job.id} for ${job.bleAddress}: the library runs no BLE updates`);
			return;
		}
		if (this.#active?.id === job.id || this.#finished.has(job.id)) return;
		if (this.#active !== undefined) {
			this.#config.log(`ignoring FOTA job ${job.id}: job ${this.#active.id} is under way`);
			return;
		}
		const stored = this.#settings.job;
		if (stored !== undefined && stored.validate !== FotaValidate.NONE && stored.validate !== FotaValidate.DONE) {
			this.#config.log(`ignoring FOTA job ${job.id}: the result of job ${stored.id} is not reported yet`);
			return;
		}
		const refusal = this.#refusal(job);
		if (typeof refusal === "string") {
			this.#reject(job.id, refusal);
			return;
		}
		this.#run(refusal);
	}

	/** Why the job cannot run here, or the job with the one path to fetch. */
	#refusal(job: FotaJob): FotaJob | string {
		const platform = this.#options.platform;
		const name = FOTA_TYPE_NAMES[job.type]!;
		if (platform === undefined) return "this device has no DFU target";
		if (!this.#config.fotaTypes.includes(name)) return `this device does not take ${name} updates`;
		if (!Number.isInteger(job.size) || job.size < 1) return `image size ${job.size} is not a positive integer`;
		const files = job.path.split(" ").filter((file) => file.length > 0);
		if (job.type === FotaType.BOOTLOADER && files.length === 2) {
			let active: number;
			try {
				active = platform.target.activeBootSlot();
			}
			catch (error) {
				return `the active bootloader slot is unknown: ${describe(error)}`;
			}
			// One file per slot, S0's first: the update goes into the slot not running.
			return { ...job, path: files[1 - active]! };
		}
		if (files.length !== 1) return `path "${job.path}" must name one file${job.type === FotaType.BOOTLOADER ? " or one per bootloader slot" : ""}`;
		return { ...job, path: files[0]! };
	}

	#reject(id: string, reason: string): void {
		this.#enter("received", id);
		this.#config.log(`FOTA job ${id} rejected: ${reason}`);
		this.#finished.add(id);
		this.#enter("reporting", id);
		this.#reports.status(id, FotaStatus.REJECTED, "", () => this.#enter("cleared", id));
	}

	#run(job: FotaJob): void {
		const record = decodeDownloadRecord(this.#settings.read(DOWNLOAD_KEY));
		const resume = record !== undefined && record.id === job.id && record.type === job.type && record.size === job.size
			&& record.host === job.host && record.path === job.path ? record : undefined;
		if (record !== undefined && resume === undefined) {
			this.#config.log(`FOTA: dropping the unfinished download of job ${record.id}`);
			this.#settings.write(DOWNLOAD_KEY, undefined);
		}
		const update = new FotaUpdate({
			job, resume,
			platform: this.#options.platform!,
			settings: this.#settings,
			reports: this.#reports,
			socket: this.#options.socket,
			fragmentSize: this.#config.fotaFragmentSize,
			progressIncrement: this.#config.progressPercentIncrement,
			enter: (state) => this.#enter(state, job.id),
			done: (type) => {
				this.#finished.add(job.id);
				const data = new Uint8Array(4);
				new DataView(data.buffer).setInt32(0, type, true);
				this.#options.emit({ type: EventType.FOTA_DONE, status: 0, data });
			},
			ended: () => {
				this.#finished.add(job.id);
				if (this.#active === update) this.#active = undefined;
			},
			log: this.#config.log,
		});
		this.#active = update;
		update.start();
	}

	#requestJob(): void {
		if (this.#config.fota) this.#transport?.requestJob();
	}

	#publish(payload: string): boolean {
		const transport = this.#transport;
		const topics = transport?.fotaTopics;
		if (transport === undefined || topics === undefined) return false;
		return transport.publish(topics.update, payload, 1, MessageId.FOTA_UPDATE) > 0;
	}

	/** Queues the stored validation result, once; its PUBACK clears the record. */
	#queueResult(): void {
		const job = this.#settings.job;
		const report = job === undefined ? undefined : validationReport(job);
		if (job === undefined || report === undefined || this.#resultQueued) return;
		this.#resultQueued = true;
		this.#enter("reporting", job.id);
		this.#reports.send(report, () => {
			this.#resultQueued = false;
			if (this.#settings.job?.id === job.id) this.#settings.job = { validate: FotaValidate.DONE, type: FotaType.INVALID, id: "" };
			this.#enter("cleared", job.id);
		});
	}
}
