/*
 * The FOTA job service: jobs for one device, a list of devices or the devices of
 * some tags (groups), each device's execution of a job, the job document a device
 * asks for on <prefix><id>/jobs/req (answered on jobs/rcv), and the execution
 * status it reports on jobs/update (docs/protocol.md 7.2 to 7.4).
 *
 * A device that asked while it had no job, and is still connected, gets a job
 * made for it as soon as the job is created (as nRF Cloud notifies a connected
 * device), not only at its next connection.
 *
 * Only devices whose shadow lists the firmware's type in serviceInfo.fota_v2 get
 * an execution. The cloud alone sets TIMED_OUT (an execution not finished within
 * the job's execution timeout of its start) and CANCELLED (the operator cancelled
 * the job): a device that reports either is refused. Every refused update is
 * logged with the reason and changes nothing; an update for an execution already
 * in a terminal status comes too late and is refused the same way.
 */

import { randomUUID } from "node:crypto";
import { FIRMWARE_TYPES, type FirmwareCatalog } from "./firmware.js";
import { isObject, type JsonObject } from "./shadow.js";
import type { ExecutionRecord, JobRecord, Store } from "./store.js";
import { refused, type Outcome, type ServiceContext } from "./service-types.js";

/** Execution status names (the REST spelling, CANCELLED with two Ls), indexed by the number a device reports. */
export const EXECUTION_STATUSES = ["QUEUED", "IN_PROGRESS", "FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED", "DOWNLOADING"] as const;
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["FAILED", "SUCCEEDED", "TIMED_OUT", "CANCELLED", "REJECTED"]);
/** Statuses a device may report: not QUEUED (the cloud queues), not TIMED_OUT or CANCELLED (the cloud decides those). */
const DEVICE_STATUSES: ReadonlySet<string> = new Set(["IN_PROGRESS", "FAILED", "SUCCEEDED", "REJECTED", "DOWNLOADING"]);
/** Longest job id a device accepts (a UUID), docs/protocol.md 7.3. */
const JOB_ID_MAX = 36;
const MESSAGE_MAX = 256;
/** setTimeout's longest delay; a later deadline is re-armed when this one fires. */
const TIMER_MAX_MS = 0x7FFFFFFF;

export type JobOutcome = { ok: true; jobId: string; deviceIds: string[] } | { ok: false; code: number; message: string };

export interface JobRequest {
	firmwareId: string;
	deviceIds?: string[];
	/** Every device carrying one of these tags is targeted too. */
	tags?: string[];
	name?: string;
	/** Milliseconds from an execution's start until the cloud marks it TIMED_OUT; 0: never. Default: the service's. */
	executionTimeoutMs?: number;
}

export interface JobsOptions {
	/** host:port of the firmware server, for job documents. */
	firmwareHost: () => string;
	/** Default execution timeout of a job, milliseconds; 0 (the default): executions never time out. */
	executionTimeoutMs?: number;
}

export function validTimeout(ms: unknown): ms is number {
	return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 && ms <= 366 * 24 * 3600_000;
}

export class FotaJobs {
	readonly #context: ServiceContext;
	readonly #firmware: FirmwareCatalog;
	readonly #firmwareHost: () => string;
	readonly #defaultTimeoutMs: number;
	#timer: ReturnType<typeof setTimeout> | undefined = undefined;
	#closed = false;
	/** Devices whose job request on their current connection found no job. */
	readonly #waiting = new Set<string>();

	constructor(context: ServiceContext, firmware: FirmwareCatalog, options: JobsOptions) {
		if (options.executionTimeoutMs !== undefined && !validTimeout(options.executionTimeoutMs)) throw new RangeError("executionTimeoutMs must be 0 (none) or a number of milliseconds up to a year");
		this.#context = context;
		this.#firmware = firmware;
		this.#firmwareHost = options.firmwareHost;
		this.#defaultTimeoutMs = options.executionTimeoutMs ?? 0;
		// executions started before a restart still time out
		this.#arm();
		context.broker.on("disconnect", (id: string) => this.#waiting.delete(id));
	}

	get #store(): Store {
		return this.#context.store;
	}

	/** Stops the time-out timer. Idempotent. */
	close(): void {
		this.#closed = true;
		clearTimeout(this.#timer);
	}

	#supports(id: string, type: string): boolean {
		const reported = this.#store.shadow(id)?.state.reported;
		const device = isObject(reported?.device) ? reported.device as JsonObject : undefined;
		const serviceInfo = isObject(device?.serviceInfo) ? device.serviceInfo as JsonObject : undefined;
		const types = serviceInfo?.fota_v2;
		return Array.isArray(types) && types.includes(type);
	}

	/** Creates a job for the listed and tagged devices whose shadow reports support for the firmware's type. */
	create(request: JobRequest): JobOutcome {
		const firmware = this.#store.firmware(request.firmwareId);
		if (!firmware) return refused(404, `no firmware ${request.firmwareId}`);
		const deviceIds = [...new Set(request.deviceIds ?? [])];
		const tags = [...new Set(request.tags ?? [])];
		if (deviceIds.length === 0 && tags.length === 0) return refused(400, "a job needs deviceIds or tags");
		const timeout = request.executionTimeoutMs ?? this.#defaultTimeoutMs;
		if (!validTimeout(timeout)) return refused(400, "the execution timeout must be 0 (none) or up to a year");
		const tagged = this.#store.devices().filter((d) => d.tags.some((tag) => tags.includes(tag))).map((d) => d.id);
		const targeted = [...new Set([...deviceIds, ...tagged])].filter((id) => this.#store.device(id));
		const eligible = targeted.filter((id) => this.#supports(id, firmware.type));
		if (eligible.length === 0)
			return refused(400, targeted.length === 0 ? "the job's target names no known device" : `no targeted device reports ${firmware.type} in device.serviceInfo.fota_v2`);
		const jobId = randomUUID();
		const created = Date.now();
		this.#store.addJob({
			id: jobId, firmwareId: firmware.id, name: request.name ?? "", target: { deviceIds, tags },
			executionTimeoutMs: timeout, cancelled: false, created, updated: created,
		}, eligible);
		this.#context.log(`fota: job ${jobId} (${firmware.type} ${firmware.version}) for ${eligible.join(", ")}`);
		for (const execution of this.#store.executions({ jobId })) this.#context.announce("execution", execution);
		for (const id of eligible) if (this.#waiting.has(id)) this.#handOut(id);
		return { ok: true, jobId, deviceIds: eligible };
	}

	/** Cancels a job: its executions not yet terminal become CANCELLED and are never delivered again. */
	cancel(jobId: string): Outcome {
		const job = this.#store.job(jobId);
		if (!job) return refused(404, `no FOTA job ${jobId}`);
		if (job.cancelled) return refused(409, `FOTA job ${jobId} is already cancelled`);
		const open = this.#store.executions({ jobId }).filter((e) => !TERMINAL_STATUSES.has(e.status));
		if (open.length === 0) return refused(409, `FOTA job ${jobId} is already completed`);
		this.#store.setJobCancelled(jobId);
		for (const execution of open) this.#end(execution, "CANCELLED", "Job was cancelled");
		this.#arm();
		return { ok: true };
	}

	/** Deletes a job that has ended (completed or cancelled). */
	delete(jobId: string): Outcome {
		const job = this.#store.job(jobId);
		if (!job) return refused(404, `no FOTA job ${jobId}`);
		if (jobStatus(job, this.#store.executions({ jobId })) === "IN_PROGRESS") return refused(409, `FOTA job ${jobId} is in progress: cancel it first`);
		this.#store.deleteJob(jobId);
		return { ok: true };
	}

	/** A job as the REST API shows it. */
	view(job: JobRecord): Record<string, unknown> {
		const executions = this.#store.executions({ jobId: job.id });
		const firmware = this.#store.firmware(job.firmwareId);
		const count = (status: string) => executions.filter((e) => e.status === status).length;
		return {
			jobId: job.id,
			name: job.name,
			firmwareId: job.firmwareId,
			status: jobStatus(job, executions),
			createdAt: new Date(job.created).toISOString(),
			lastUpdatedAt: new Date(job.updated).toISOString(),
			target: job.target,
			executionTimeoutSeconds: job.executionTimeoutMs / 1000,
			firmware: firmware ? {
				bundleId: firmware.id, firmwareType: firmware.type, version: firmware.version, fileSize: firmware.size,
				host: this.#firmwareHost(), uris: this.#firmware.path(firmware).split(" "),
			} : null,
			executionStats: {
				queued: count("QUEUED"), downloading: count("DOWNLOADING"), inProgress: count("IN_PROGRESS"), succeeded: count("SUCCEEDED"),
				failed: count("FAILED"), timedOut: count("TIMED_OUT"), canceled: count("CANCELLED"), rejected: count("REJECTED"),
				completedExecutions: executions.filter((e) => TERMINAL_STATUSES.has(e.status)).length, deviceCount: executions.length,
			},
			executions: executions.map(executionView),
		};
	}

	/** Handles a device's job request or update; false for other topics. */
	handle(id: string, topic: string, payload: Buffer): boolean {
		if (topic === `${this.#context.topicPrefix}${id}/jobs/req`) this.#request(id, payload);
		else if (topic === `${this.#context.topicPrefix}${id}/jobs/update`) this.#update(id, payload);
		else return false;
		return true;
	}

	#request(id: string, payload: Buffer): void {
		let request: unknown;
		try { request = JSON.parse(payload.toString("utf8")); } catch { /* refused below */ }
		if (!Array.isArray(request)) {
			this.#context.log(`fota: ${id} jobs/req refused: not a JSON array: ${excerpt(payload)}`);
			return;
		}
		if (!this.#handOut(id)) this.#waiting.add(id);
	}

	/** Sends the device its oldest open job on jobs/rcv; false when it has none. */
	#handOut(id: string): boolean {
		// the oldest job first; cancelled, timed-out and finished executions are never handed out
		for (const execution of this.#store.executions({ deviceId: id })) {
			if (TERMINAL_STATUSES.has(execution.status)) continue;
			const job = this.#store.job(execution.jobId)!;
			const firmware = this.#store.firmware(job.firmwareId);
			if (!firmware) continue;
			const document = [job.id, FIRMWARE_TYPES.indexOf(firmware.type), firmware.size, this.#firmwareHost(), this.#firmware.path(firmware)];
			this.#store.startExecution(job.id, id);
			this.#waiting.delete(id);
			this.#context.broker.publish(`${this.#context.topicPrefix}${id}/jobs/rcv`, JSON.stringify(document));
			this.#arm();
			return true;
		}
		return false;
	}

	/** Why a device's update is refused, or the change it makes. */
	#check(id: string, update: unknown): string | { execution: ExecutionRecord; status: string; progress: number; message: string } {
		if (!Array.isArray(update)) return "not a JSON array";
		if (update.length !== 3) return `an update has 3 elements, not ${update.length}`;
		const [jobId, code, detail] = update as unknown[];
		if (typeof jobId !== "string" || jobId.length === 0 || jobId.length > JOB_ID_MAX) return `the job id must be a string of 1 to ${JOB_ID_MAX} characters`;
		if (typeof code !== "number" || !Number.isInteger(code) || EXECUTION_STATUSES[code] === undefined) return `unknown status ${JSON.stringify(code)}`;
		const status = EXECUTION_STATUSES[code]!;
		if (!DEVICE_STATUSES.has(status)) return `a device does not report ${status}`;
		const execution = this.#store.execution(jobId, id);
		if (!execution) return `no execution of job ${jobId} for this device`;
		if (TERMINAL_STATUSES.has(execution.status)) return `the execution is already ${execution.status}: late update ignored`;
		if (status === "DOWNLOADING") {
			if (typeof detail !== "number" || !Number.isInteger(detail) || detail < 0 || detail > 100) return `DOWNLOADING progress must be an integer 0 to 100, not ${JSON.stringify(detail)}`;
			return { execution, status, progress: detail, message: "" };
		}
		if (typeof detail !== "string" || detail.length > MESSAGE_MAX) return `the message of a ${status} update must be a string of at most ${MESSAGE_MAX} characters`;
		return { execution, status, progress: status === "SUCCEEDED" ? 100 : execution.progress, message: detail };
	}

	#update(id: string, payload: Buffer): void {
		let update: unknown;
		try { update = JSON.parse(payload.toString("utf8")); } catch { update = undefined; }
		const change = this.#check(id, update);
		if (typeof change === "string") {
			this.#context.log(`fota: ${id} jobs/update refused: ${change}: ${excerpt(payload)}`);
			return;
		}
		const stored = this.#store.updateExecution(change.execution.jobId, id, { ...change, started: Date.now() });
		if (stored) this.#context.announce("execution", stored);
		this.#arm();
	}

	/** The cloud ends an execution (CANCELLED, TIMED_OUT). */
	#end(execution: ExecutionRecord, status: "CANCELLED" | "TIMED_OUT", message: string): void {
		const stored = this.#store.updateExecution(execution.jobId, execution.deviceId, { status, progress: execution.progress, message });
		this.#context.log(`fota: job ${execution.jobId} on ${execution.deviceId}: ${execution.status} -> ${status} (${message})`);
		if (stored) this.#context.announce("execution", stored);
	}

	/** Sets the timer for the next execution deadline. */
	#arm(): void {
		clearTimeout(this.#timer);
		if (this.#closed) return;
		let next = Infinity;
		for (const { execution, deadline } of this.#deadlines()) if (!TERMINAL_STATUSES.has(execution.status)) next = Math.min(next, deadline);
		if (next === Infinity) return;
		this.#timer = setTimeout(() => this.#expire(), Math.min(TIMER_MAX_MS, Math.max(0, next - Date.now())));
	}

	*#deadlines(): Generator<{ execution: ExecutionRecord; deadline: number; timeoutMs: number }> {
		for (const job of this.#store.jobs()) {
			if (job.executionTimeoutMs <= 0 || job.cancelled) continue;
			for (const execution of this.#store.executions({ jobId: job.id }))
				if (execution.started !== null) yield { execution, deadline: execution.started + job.executionTimeoutMs, timeoutMs: job.executionTimeoutMs };
		}
	}

	#expire(): void {
		const now = Date.now();
		for (const { execution, deadline, timeoutMs } of [...this.#deadlines()])
			if (deadline <= now && !TERMINAL_STATUSES.has(execution.status)) this.#end(execution, "TIMED_OUT", `Not finished within ${timeoutMs / 1000} s of its start`);
		this.#arm();
	}
}

/** The job's own status: CANCELLED, COMPLETED once every execution is terminal, else IN_PROGRESS. */
export function jobStatus(job: JobRecord, executions: ExecutionRecord[]): "IN_PROGRESS" | "COMPLETED" | "CANCELLED" {
	if (job.cancelled) return "CANCELLED";
	return executions.every((e) => TERMINAL_STATUSES.has(e.status)) ? "COMPLETED" : "IN_PROGRESS";
}

export function executionView(execution: ExecutionRecord): Record<string, unknown> {
	return {
		jobId: execution.jobId,
		deviceId: execution.deviceId,
		status: execution.status,
		statusDetail: execution.message,
		progress: execution.progress,
		createdAt: new Date(execution.created).toISOString(),
		startedAt: execution.started === null ? null : new Date(execution.started).toISOString(),
		lastUpdatedAt: new Date(execution.updated).toISOString(),
	};
}

/** A payload as a log line shows it: text, cut short. */
function excerpt(payload: Buffer): string {
	const text = payload.toString("utf8");
	return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}...` : text);
}
