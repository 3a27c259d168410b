/*
 * The local nRF Cloud's persistent state in SQLite (better-sqlite3) under the
 * state directory: devices, shadows, messages, firmware and FOTA jobs. A
 * restart keeps everything. Every commit is durable (WAL with synchronous =
 * FULL: the log is on disk before the commit returns). Device messages are
 * committed in groups by a worker thread (message-writer.ts, keepMessage), so
 * that a durable message costs a share of one commit, not a commit of its
 * own, and the cloud's thread does not wait for the disk.
 */

import Database from "better-sqlite3";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { MessageGroupWriter } from "./message-group.js";
import type { WriterAnswer } from "./message-writer.js";
import type { ShadowDocument } from "./shadow.js";

export interface DeviceRecord {
	id: string;
	created: number;
	fingerprint: string;
	/** Tenant of the account the device is associated with; null when not associated. */
	tenant: string | null;
	pin: string | null;
	connected: boolean;
	lastSeen: number | null;
	/** The device's tags: the groups a FOTA job can target. */
	tags: string[];
}

export interface MessageRecord {
	seq: number;
	deviceId: string;
	topic: string;
	direction: "d2c" | "c2d";
	payload: string;
	received: number;
}

export interface FirmwareFile {
	filename: string;
	size: number;
	sha256: string;
}

export interface FirmwareRecord {
	id: string;
	type: "APP" | "MODEM" | "BOOT";
	version: string;
	/** The first (or only) file's name, size and SHA-256. */
	filename: string;
	size: number;
	sha256: string;
	/** Every file: one, or two for a BOOT update (the S0 and the S1 image). */
	files: FirmwareFile[];
	created: number;
}

export interface ExecutionRecord {
	jobId: string;
	deviceId: string;
	status: string;
	/** The last DOWNLOADING percentage (100 once SUCCEEDED). */
	progress: number;
	/** The message of the last update, or why the cloud ended the execution. */
	message: string;
	created: number;
	updated: number;
	/** When the device first had the job (document sent or first update); null while untouched. */
	started: number | null;
}

export interface JobTarget {
	deviceIds: string[];
	tags: string[];
}

export interface JobRecord {
	id: string;
	firmwareId: string;
	name: string;
	target: JobTarget;
	/** Milliseconds an execution may take from its start before the cloud marks it TIMED_OUT. */
	executionTimeoutMs: number;
	cancelled: boolean;
	created: number;
	updated: number;
}

const SCHEMA = `
create table if not exists settings (key text primary key, value text not null);
create table if not exists provisioned (id text primary key, pin text not null, created integer not null);
create table if not exists devices (
	id text primary key, created integer not null, fingerprint text not null, tenant text,
	pin text, connected integer not null default 0, last_seen integer);
create table if not exists shadows (id text primary key, document text not null);
create table if not exists messages (
	seq integer primary key autoincrement, device text not null, topic text not null,
	direction text not null, payload text not null, received integer not null);
create index if not exists messages_device on messages (device, seq);
create table if not exists firmwares (
	id text primary key, type text not null, version text not null, filename text not null,
	size integer not null, sha256 text not null, created integer not null);
create table if not exists jobs (id text primary key, firmware text not null, created integer not null);
create table if not exists executions (
	job text not null, device text not null, status text not null, progress integer not null default 0,
	message text not null default '', updated integer not null, primary key (job, device));
`;

/** Columns added after the first schema: a state directory made before them gets them on opening. */
const ADDED_COLUMNS: Record<string, string[]> = {
	devices: ["tags text not null default '[]'"],
	firmwares: ["files text"],
	jobs: ["name text not null default ''", "target text not null default '{\"deviceIds\":[],\"tags\":[]}'",
		"timeout integer not null default 0", "cancelled integer not null default 0", "updated integer not null default 0"],
	executions: ["created integer not null default 0", "started integer"],
};

type Row = Record<string, unknown>;

function messageRecord(row: Row): MessageRecord {
	return {
		seq: row.seq as number, deviceId: row.device as string, topic: row.topic as string,
		direction: row.direction as "d2c" | "c2d", payload: row.payload as string, received: row.received as number,
	};
}

/** Called once a kept message is committed (with its record) or could not be (with the error). */
export type KeptCallback = (error: Error | undefined, record?: MessageRecord) => void;

/** A message waiting for the next group commit. */
interface QueuedMessage {
	deviceId: string;
	topic: string;
	direction: "d2c" | "c2d";
	payload: string;
	received: number;
	done: KeptCallback;
}

function device(row: Row | undefined): DeviceRecord | undefined {
	if (!row) return undefined;
	return {
		id: row.id as string,
		created: row.created as number,
		fingerprint: row.fingerprint as string,
		tenant: (row.tenant as string | null) ?? null,
		pin: (row.pin as string | null) ?? null,
		connected: row.connected === 1,
		lastSeen: (row.last_seen as number | null) ?? null,
		tags: JSON.parse(row.tags as string) as string[],
	};
}

function firmware(row: Row | undefined): FirmwareRecord | undefined {
	if (!row) return undefined;
	const single = { filename: row.filename as string, size: row.size as number, sha256: row.sha256 as string };
	return {
		id: row.id as string, type: row.type as FirmwareRecord["type"], version: row.version as string, ...single,
		files: row.files ? JSON.parse(row.files as string) as FirmwareFile[] : [single], created: row.created as number,
	};
}

function job(row: Row | undefined): JobRecord | undefined {
	if (!row) return undefined;
	return {
		id: row.id as string, firmwareId: row.firmware as string, name: row.name as string,
		target: JSON.parse(row.target as string) as JobTarget, executionTimeoutMs: row.timeout as number,
		cancelled: row.cancelled === 1, created: row.created as number, updated: (row.updated as number) || (row.created as number),
	};
}

function execution(row: Row): ExecutionRecord {
	return {
		jobId: row.job as string, deviceId: row.device as string, status: row.status as string,
		progress: row.progress as number, message: row.message as string,
		created: (row.created as number) || (row.updated as number), updated: row.updated as number, started: (row.started as number | null) ?? null,
	};
}

export class Store {
	readonly db: Database.Database;
	readonly #file: string;
	/** Messages for the next group commit. */
	#queued: QueuedMessage[] = [];
	/** The group the writer is committing now. */
	#committing: QueuedMessage[] | undefined = undefined;
	/** Where the next group is written for the writer thread. */
	readonly #group = new MessageGroupWriter();
	/** Called when nothing is queued or being committed any more (close). */
	#drained: Array<() => void> = [];
	#writer: Worker | undefined = undefined;
	#writerGone: Promise<unknown> | undefined = undefined;
	readonly #insertMessage: Database.Statement;

	readonly #commitDelayMs: number;

	/** `commitDelayMs`: how long the message writer waits before each group commit, a slow disk for tests (default 0). */
	constructor(directory: string, options: { commitDelayMs?: number } = {}) {
		const delay = options.commitDelayMs ?? 0;
		if (!Number.isInteger(delay) || delay < 0 || delay > 10_000) throw new RangeError("commitDelayMs must be a whole number of milliseconds up to 10000");
		this.#commitDelayMs = delay;
		this.#file = join(directory, "cloud.db");
		this.db = new Database(this.#file);
		this.db.pragma("journal_mode = WAL");
		this.db.pragma("synchronous = FULL");
		this.db.pragma("busy_timeout = 5000");
		this.db.exec(SCHEMA);
		for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
			const present = new Set((this.db.prepare(`pragma table_info(${table})`).all() as Row[]).map((c) => c.name));
			for (const column of columns) if (!present.has(column.split(" ")[0])) this.db.exec(`alter table ${table} add column ${column}`);
		}
		// Connections do not survive a restart.
		this.db.prepare("update devices set connected = 0").run();
		this.#insertMessage = this.db.prepare("insert into messages (device, topic, direction, payload, received) values (?, ?, ?, ?, ?)");
	}

	/** Closes the database once the messages kept so far are committed. */
	async close(): Promise<void> {
		if (this.#committing || this.#queued.length) await new Promise<void>((resolve) => this.#drained.push(resolve));
		if (this.#writer) {
			this.#writer.postMessage("close");
			await this.#writerGone;
			this.#writer = undefined;
		}
		this.db.close();
	}

	setting(key: string, make: () => string): string {
		const row = this.db.prepare("select value from settings where key = ?").get(key) as Row | undefined;
		if (row) return row.value as string;
		const value = make();
		this.db.prepare("insert into settings (key, value) values (?, ?)").run(key, value);
		return value;
	}

	get apiKey(): string {
		return this.setting("apiKey", () => randomBytes(20).toString("hex"));
	}

	get tenant(): string {
		return this.setting("tenant", () => randomUUID());
	}

	provision(id: string, pin: string): void {
		this.db.prepare("insert into provisioned (id, pin, created) values (?, ?, ?) on conflict (id) do update set pin = excluded.pin")
			.run(id, pin, Date.now());
	}

	provisionedPin(id: string): string | undefined {
		return (this.db.prepare("select pin from provisioned where id = ?").get(id) as Row | undefined)?.pin as string | undefined;
	}

	device(id: string): DeviceRecord | undefined {
		return device(this.db.prepare("select * from devices where id = ?").get(id) as Row | undefined);
	}

	devices(): DeviceRecord[] {
		return (this.db.prepare("select * from devices order by id").all() as Row[]).map((row) => device(row)!);
	}

	addDevice(id: string, fingerprint: string, shadow: ShadowDocument): DeviceRecord {
		const pin = this.provisionedPin(id) ?? null;
		this.db.transaction(() => {
			this.db.prepare("insert into devices (id, created, fingerprint, pin) values (?, ?, ?, ?)").run(id, Date.now(), fingerprint, pin);
			this.db.prepare("insert into shadows (id, document) values (?, ?)").run(id, JSON.stringify(shadow));
		})();
		return this.device(id)!;
	}

	deleteDevice(id: string): boolean {
		return this.db.transaction(() => {
			const removed = this.db.prepare("delete from devices where id = ?").run(id).changes > 0;
			this.db.prepare("delete from shadows where id = ?").run(id);
			this.db.prepare("delete from messages where device = ?").run(id);
			this.db.prepare("delete from executions where device = ?").run(id);
			return removed;
		})();
	}

	setTenant(id: string, tenant: string | null): void {
		this.db.prepare("update devices set tenant = ? where id = ?").run(tenant, id);
	}

	setTags(id: string, tags: string[]): boolean {
		return this.db.prepare("update devices set tags = ? where id = ?").run(JSON.stringify(tags), id).changes > 0;
	}

	setConnected(id: string, connected: boolean): void {
		this.db.prepare("update devices set connected = ?, last_seen = ? where id = ?").run(connected ? 1 : 0, Date.now(), id);
	}

	shadow(id: string): ShadowDocument | undefined {
		const row = this.db.prepare("select document from shadows where id = ?").get(id) as Row | undefined;
		return row ? JSON.parse(row.document as string) as ShadowDocument : undefined;
	}

	saveShadow(id: string, document: ShadowDocument): void {
		this.db.prepare("insert into shadows (id, document) values (?, ?) on conflict (id) do update set document = excluded.document")
			.run(id, JSON.stringify(document));
	}

	addMessage(deviceId: string, topic: string, direction: "d2c" | "c2d", payload: string): MessageRecord {
		const received = Date.now();
		const result = this.#insertMessage.run(deviceId, topic, direction, payload, received);
		return { seq: Number(result.lastInsertRowid), deviceId, topic, direction, payload, received };
	}

	/**
	 * Stores a message with the others that arrive while the previous group is
	 * being committed, in one transaction; calls `done` once that transaction
	 * is on disk. Messages are committed in the order they came. A callback,
	 * not a promise: this runs for every message a device sends.
	 */
	keepMessage(deviceId: string, topic: string, direction: "d2c" | "c2d", payload: string, done: KeptCallback): void {
		if (typeof done !== "function") throw new TypeError("keepMessage needs a callback");
		const received = Date.now();
		this.#queued.push({ deviceId, topic, direction, payload, received, done });
		this.#group.add(deviceId, topic, direction, payload, received);
		if (!this.#committing) this.#commitNext();
	}

	/** Messages kept but not yet committed. */
	get uncommittedMessages(): number {
		return this.#queued.length + (this.#committing?.length ?? 0);
	}

	#startWriter(): Worker {
		const writer = new Worker(new URL("./message-writer.js", import.meta.url), { workerData: { file: this.#file, commitDelayMs: this.#commitDelayMs } });
		writer.on("message", (answer: WriterAnswer) => this.#committed(answer));
		this.#writerGone = new Promise((resolve) => writer.once("exit", resolve));
		writer.once("error", (error) => this.#committed({ error: error.message }));
		this.#writer = writer;
		return writer;
	}

	#commitNext(): void {
		if (this.#queued.length === 0) {
			for (const resolve of this.#drained.splice(0)) resolve();
			return;
		}
		this.#committing = this.#queued;
		this.#queued = [];
		const group = this.#group.finish();
		(this.#writer ?? this.#startWriter()).postMessage(group, [group]);
	}

	#committed(answer: WriterAnswer): void {
		const group = this.#committing;
		if (!group) return;
		this.#committing = undefined;
		if ("error" in answer || answer.count !== group.length) {
			const error = new Error(`the messages were not committed: ${"error" in answer ? answer.error : `${answer.count} of ${group.length} in the group`}`);
			for (const m of group) m.done(error);
		}
		else {
			for (let i = 0; i < group.length; i++) {
				const m = group[i]!;
				m.done(undefined, { seq: answer.first + i, deviceId: m.deviceId, topic: m.topic, direction: m.direction, payload: m.payload, received: m.received });
			}
		}
		this.#commitNext();
	}

	messages(filter: { deviceId?: string; direction?: string; after?: number; limit: number }): MessageRecord[] {
		const rows = this.db.prepare(`select * from messages where (? is null or device = ?) and (? is null or direction = ?) and seq > ? order by seq limit ?`)
			.all(filter.deviceId ?? null, filter.deviceId ?? null, filter.direction ?? null, filter.direction ?? null, filter.after ?? 0, filter.limit) as Row[];
		return rows.map(messageRecord);
	}

	/** A device's newest messages, newest first; with `appId`, only the JSON messages of that nRF Cloud app. */
	latestMessages(filter: { deviceId: string; appId?: string; limit: number }): MessageRecord[] {
		const rows = this.db.prepare(`select * from messages where device = ?
			and (? is null or case when json_valid(payload) then json_extract(payload, '$.appId') end = ?) order by seq desc limit ?`)
			.all(filter.deviceId, filter.appId ?? null, filter.appId ?? null, filter.limit) as Row[];
		return rows.map(messageRecord);
	}

	addFirmware(record: FirmwareRecord): void {
		this.db.prepare("insert into firmwares (id, type, version, filename, size, sha256, files, created) values (?, ?, ?, ?, ?, ?, ?, ?)")
			.run(record.id, record.type, record.version, record.filename, record.size, record.sha256, JSON.stringify(record.files), record.created);
	}

	firmware(id: string): FirmwareRecord | undefined {
		return firmware(this.db.prepare("select * from firmwares where id = ?").get(id) as Row | undefined);
	}

	firmwares(): FirmwareRecord[] {
		return (this.db.prepare("select * from firmwares order by created").all() as Row[]).map((row) => firmware(row)!);
	}

	deleteFirmware(id: string): boolean {
		return this.db.prepare("delete from firmwares where id = ?").run(id).changes > 0;
	}

	addJob(record: JobRecord, deviceIds: string[]): void {
		this.db.transaction(() => {
			this.db.prepare("insert into jobs (id, firmware, name, target, timeout, cancelled, created, updated) values (?, ?, ?, ?, ?, 0, ?, ?)")
				.run(record.id, record.firmwareId, record.name, JSON.stringify(record.target), record.executionTimeoutMs, record.created, record.created);
			for (const deviceId of deviceIds)
				this.db.prepare("insert into executions (job, device, status, created, updated) values (?, ?, 'QUEUED', ?, ?)").run(record.id, deviceId, record.created, record.created);
		})();
	}

	job(id: string): JobRecord | undefined {
		return job(this.db.prepare("select * from jobs where id = ?").get(id) as Row | undefined);
	}

	jobs(): JobRecord[] {
		return (this.db.prepare("select * from jobs order by created").all() as Row[]).map((row) => job(row)!);
	}

	/** Executions, the oldest job's first. */
	executions(filter: { jobId?: string; deviceId?: string }): ExecutionRecord[] {
		const rows = this.db.prepare("select e.* from executions e join jobs j on j.id = e.job where (? is null or e.job = ?) and (? is null or e.device = ?) order by j.created, e.device")
			.all(filter.jobId ?? null, filter.jobId ?? null, filter.deviceId ?? null, filter.deviceId ?? null) as Row[];
		return rows.map(execution);
	}

	execution(jobId: string, deviceId: string): ExecutionRecord | undefined {
		const row = this.db.prepare("select * from executions where job = ? and device = ?").get(jobId, deviceId) as Row | undefined;
		return row ? execution(row) : undefined;
	}

	/** Writes an execution's new state; `started` is kept once set. Returns the stored record. */
	updateExecution(jobId: string, deviceId: string, change: { status: string; progress: number; message: string; started?: number }): ExecutionRecord | undefined {
		const updated = Date.now();
		const changed = this.db.prepare("update executions set status = ?, progress = ?, message = ?, updated = ?, started = coalesce(started, ?) where job = ? and device = ?")
			.run(change.status, change.progress, change.message, updated, change.started ?? null, jobId, deviceId).changes > 0;
		if (changed) this.db.prepare("update jobs set updated = ? where id = ?").run(updated, jobId);
		return changed ? this.execution(jobId, deviceId) : undefined;
	}

	/** Marks when a device first had the job (its document was sent). */
	startExecution(jobId: string, deviceId: string): void {
		this.db.prepare("update executions set started = coalesce(started, ?) where job = ? and device = ?").run(Date.now(), jobId, deviceId);
	}

	setJobCancelled(id: string): void {
		this.db.prepare("update jobs set cancelled = 1, updated = ? where id = ?").run(Date.now(), id);
	}

	deleteJob(id: string): boolean {
		return this.db.transaction(() => {
			this.db.prepare("delete from executions where job = ?").run(id);
			return this.db.prepare("delete from jobs where id = ?").run(id).changes > 0;
		})();
	}
}
