/*
 * The FOTA job service: jobs for the devices that report support for a
 * firmware's type, the job document a device asks for on <prefix><id>/jobs/req
 * (answered on jobs/rcv), and the execution status it reports on jobs/update.
 */

import { randomUUID } from "node:crypto";
import { FIRMWARE_TYPES, type FirmwareCatalog } from "./firmware.js";
import { isObject, type Json, type JsonObject } from "./shadow.js";
import type { Store } from "./store.js";
import { refused, type ServiceContext } from "./service-types.js";

/** Execution status values, indexed by the number a device reports. */
const STATUS = ["QUEUED", "IN_PROGRESS", "FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED", "DOWNLOADING"];
const TERMINAL = new Set(["FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED"]);

export type JobOutcome = { ok: true; jobId: string; deviceIds: string[] } | { ok: false; code: number; message: string };

export class FotaJobs {
	readonly #context: ServiceContext;
	readonly #firmware: FirmwareCatalog;
	/** host:port of the firmware server, for job documents. */
	readonly #firmwareHost: () => string;

	constructor(context: ServiceContext, firmware: FirmwareCatalog, firmwareHost: () => string) {
		this.#context = context;
		this.#firmware = firmware;
		this.#firmwareHost = firmwareHost;
	}

	get #store(): Store {
		return this.#context.store;
	}

	/** Creates a job for the devices whose shadow reports support for the firmware's type. */
	create(firmwareId: string, deviceIds: string[]): JobOutcome {
		const firmware = this.#store.firmware(firmwareId);
		if (!firmware) return refused(404, `no firmware ${firmwareId}`);
		const eligible = deviceIds.filter((id) => {
			const reported = this.#store.shadow(id)?.state.reported;
			const device = isObject(reported?.device) ? reported.device as JsonObject : undefined;
			const serviceInfo = isObject(device?.serviceInfo) ? device.serviceInfo as JsonObject : undefined;
			const types = serviceInfo?.fota_v2;
			return Array.isArray(types) && types.includes(firmware.type);
		});
		if (eligible.length === 0) return refused(400, `no listed device reports ${firmware.type} in device.serviceInfo.fota_v2`);
		const jobId = randomUUID();
		this.#store.addJob({ id: jobId, firmwareId, created: Date.now() }, eligible);
		return { ok: true, jobId, deviceIds: eligible };
	}

	/** Handles a device's job request or update; false for other topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		if (topic.endsWith("/jobs/req")) this.#request(id, payload);
		else if (topic.endsWith("/jobs/update")) this.#update(id, payload);
		else return false;
		return true;
	}

	/** A device's JSON payload, or undefined (logged) when it does not parse. */
	#parse(id: string, payload: Buffer, what: string): Json | undefined {
		try {
			return JSON.parse(payload.toString("utf8")) as Json;
		}
		catch {
			this.#context.log(`fota: ${id} sent a ${what} that is not JSON`);
			return undefined;
		}
	}

	#request(id: string, payload: Buffer): void {
		const request = this.#parse(id, payload, "job request");
		if (!Array.isArray(request)) return;
		const execution = this.#store.executions({ deviceId: id }).find((e) => !TERMINAL.has(e.status));
		if (!execution) return;
		const job = this.#store.job(execution.jobId)!;
		const firmware = this.#store.firmware(job.firmwareId);
		if (!firmware) return;
		const document = [execution.jobId, FIRMWARE_TYPES.indexOf(firmware.type), firmware.size, this.#firmwareHost(), this.#firmware.path(firmware)];
		this.#context.broker.publish(`${this.#context.topicPrefix}${id}/jobs/rcv`, JSON.stringify(document));
	}

	#update(id: string, payload: Buffer): void {
		const update = this.#parse(id, payload, "job update");
		if (!Array.isArray(update) || typeof update[0] !== "string" || typeof update[1] !== "number") return;
		const status = STATUS[update[1]];
		if (status === undefined) return;
		const progress = typeof update[2] === "number" ? update[2] : status === "SUCCEEDED" ? 100 : 0;
		const message = typeof update[2] === "string" ? update[2] : "";
		if (this.#store.updateExecution(update[0], id, status, progress, message)) {
			const execution = this.#store.executions({ jobId: update[0], deviceId: id })[0];
			if (execution) this.#context.announce("execution", execution);
		}
	}
}
