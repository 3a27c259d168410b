/*
 * The FOTA side of a connection (the part of nrf_cloud_fota.c the library has
 * today): asking for the queued job once the FOTA topics are subscribed (or on
 * a resumed session), handing a job document to the device's FOTA runner once
 * per job, and reporting the result of an update that was validated after the
 * reboot, whose PUBACK clears the stored job record.
 */

import { FotaType, FotaValidate, MessageId } from "./constants.js";
import { decodeJob, validationReport, type FotaJob } from "./codec.js";
import type { ResolvedConfig } from "./config.js";
import type { CloudSettings } from "./settings.js";
import type { CloudTransport } from "./transport.js";

export type FotaRunner = (job: FotaJob) => void;

export class FotaJobs {
	readonly #config: ResolvedConfig;
	readonly #settings: CloudSettings;
	readonly #runner: FotaRunner | undefined;
	#transport: CloudTransport | undefined = undefined;
	/** The stored result was reported; its PUBACK clears the record. */
	#validationReported = false;
	/** The job handed to the runner in this boot: a repeat of it is not started twice. */
	#activeJob: string | undefined = undefined;

	constructor(config: ResolvedConfig, settings: CloudSettings, runner: FotaRunner | undefined) {
		this.#config = config;
		this.#settings = settings;
		this.#runner = runner;
	}

	attach(transport: CloudTransport): void {
		this.#transport = transport;
	}

	/** The shadow gave the endpoints, so the FOTA topics exist: report a stored result; ask for a job if no SUBACK will come. */
	endpointsKnown(): void {
		if (!this.#config.fota) return;
		this.#reportValidation();
		if (this.#transport?.sessionValid === true) this.#requestJob();
	}

	/** The FOTA SUBACK: time to ask for a job. */
	subscribed(): void {
		this.#requestJob();
	}

	/** A PUBACK of a FOTA request or update. */
	acknowledged(packetId: number): void {
		if (packetId !== MessageId.FOTA_UPDATE || !this.#validationReported) return;
		this.#validationReported = false;
		if (this.#settings.job !== undefined) this.#settings.job = { validate: FotaValidate.DONE, type: FotaType.INVALID, id: "" };
	}

	connectionEnded(): void {
		this.#validationReported = false;
	}

	/**
	 * nrf_cloud_modem_fota_completed: records the modem update's outcome and
	 * reports it. False when no modem update is waiting for validation.
	 */
	modemUpdateCompleted(success: boolean): boolean {
		const job = this.#settings.job;
		if (job === undefined || job.type !== FotaType.MODEM || job.validate !== FotaValidate.PENDING) return false;
		this.#settings.job = { ...job, validate: success ? FotaValidate.PASS : FotaValidate.FAIL };
		this.#reportValidation();
		return true;
	}

	/** A job document on jobs/rcv (or jobs/ble/rcv). */
	message(payload: Uint8Array, ble: boolean): void {
		const job = decodeJob(payload, ble);
		if (job === undefined) {
			this.#config.log("ignoring a FOTA job document that does not parse");
			return;
		}
		if (job.id === this.#activeJob) return;
		const runner = this.#runner;
		if (runner === undefined) {
			this.#config.log(`FOTA job ${job.id} (type ${job.type}) received; this device has no FOTA runner`);
			return;
		}
		this.#activeJob = job.id;
		try {
			runner(job);
		}
		catch (error) {
			this.#activeJob = undefined;
			this.#config.log(`the FOTA runner failed on job ${job.id}: ${error instanceof Error ? error.message : String(error)}`);
		}
	}

	#requestJob(): void {
		if (this.#config.fota) this.#transport?.requestJob();
	}

	#reportValidation(): void {
		const transport = this.#transport;
		const job = this.#settings.job;
		const topics = transport?.fotaTopics;
		const report = job === undefined ? undefined : validationReport(job);
		if (transport === undefined || report === undefined || topics === undefined) return;
		if (transport.publish(topics.update, report, 1, MessageId.FOTA_UPDATE) > 0) this.#validationReported = true;
	}
}
