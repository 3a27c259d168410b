/*
 * The local nRF Cloud's REST API, after nRF Cloud's REST API v1 resource names:
 * account, devices, device state (shadow) and tags, association, messages,
 * firmwares, fota-jobs and fota-job-executions; locally added for the dashboard:
 * a device's activity (in its view), track and newest messages, and the event
 * stream (event-stream.ts). Bearer API-key authentication;
 * every error is JSON with an HTTP status; a bad request never takes the service
 * down. Firmware comes as the raw image (query parameters describe it) or as a
 * multipart/form-data upload (the dashboard's form; two files for a BOOT update).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { LocalCloud } from "./cloud.js";
import { listenOnAll, type Listening } from "../lib/listen.js";
import { DeviceActivity, TRACK_LIMIT } from "./device-activity.js";
import { messageView, streamEvents } from "./event-stream.js";
import type { FirmwareUpload } from "./firmware.js";
import { TERMINAL_STATUSES, executionView, validTimeout } from "./fota-jobs.js";
import { isObject } from "./shadow.js";
import type { DeviceRecord } from "./store.js";

const JSON_LIMIT = 64 * 1024;
const FIRMWARE_LIMIT = 16 * 1024 * 1024;

class HttpError extends Error {
	constructor(readonly status: number, message: string) {
		super(message);
	}
}

function send(response: ServerResponse, status: number, body?: unknown): void {
	if (body === undefined) {
		response.writeHead(status).end();
		return;
	}
	const text = JSON.stringify(body);
	response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

/** Reads a request body; a body over `limit` is drained and refused with 413, never held in memory. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on("data", (chunk: Buffer) => {
			size += chunk.length;
			if (size <= limit) chunks.push(chunk);
			else chunks.length = 0;
		});
		request.on("end", () => {
			if (size > limit) reject(new HttpError(413, `request body exceeds ${limit} bytes`));
			else resolve(Buffer.concat(chunks));
		});
		request.on("error", reject);
	});
}

async function readJson(request: IncomingMessage): Promise<unknown> {
	const body = await readBody(request, JSON_LIMIT);
	try {
		return JSON.parse(body.toString("utf8"));
	}
	catch {
		throw new HttpError(400, "the request body is not valid JSON");
	}
}

/** The pageLimit query parameter: `fallback` without one, else a whole number from 1 to `max`. */
function pageLimit(url: URL, fallback: number, max = 1000): number {
	const limit = Number(url.searchParams.get("pageLimit") ?? fallback);
	if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new HttpError(400, `pageLimit must be 1 to ${max}`);
	return limit;
}

/** A tag (device group) name. */
const TAG = /^[\w:.-]{1,64}$/;

/**
 * The parts of a multipart/form-data body: fields as text, files as bytes.
 * Throws an HttpError 400 for a body that does not follow the boundary it declares.
 */
function formParts(body: Buffer, contentType: string): { fields: Map<string, string>; files: { field: string; filename: string; data: Buffer }[] } {
	const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
	if (!boundary) throw new HttpError(400, "multipart/form-data without a boundary");
	const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
	const fields = new Map<string, string>();
	const files: { field: string; filename: string; data: Buffer }[] = [];
	let at = body.indexOf(delimiter);
	if (at < 0) throw new HttpError(400, "the multipart body has no part");
	for (;;) {
		at += delimiter.length;
		if (body.subarray(at, at + 2).toString() === "--") break;
		const headersEnd = body.indexOf("\r\n\r\n", at);
		const next = body.indexOf(delimiter, headersEnd);
		if (headersEnd < 0 || next < 0) throw new HttpError(400, "the multipart body is cut short");
		const headers = body.subarray(at, headersEnd).toString("utf8");
		const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers)?.[1];
		const filename = /content-disposition:[^\r\n]*;\s*filename="([^"]*)"/i.exec(headers)?.[1];
		// the part's data ends with the CRLF before the next delimiter
		const data = body.subarray(headersEnd + 4, next - 2);
		if (name === undefined) throw new HttpError(400, "a multipart part has no name");
		if (filename !== undefined) files.push({ field: name, filename, data });
		else fields.set(name, data.toString("utf8"));
		at = next;
	}
	return { fields, files };
}

export class RestApi {
	readonly #cloud: LocalCloud;
	readonly #extra: (request: IncomingMessage, response: ServerResponse, path: string) => boolean;
	readonly #activity: DeviceActivity;
	#listening: Listening<Server> | undefined = undefined;

	/** `extra` serves what is not the API (the dashboard); it returns false for unknown paths. */
	constructor(cloud: LocalCloud, extra: (request: IncomingMessage, response: ServerResponse, path: string) => boolean = () => false) {
		this.#cloud = cloud;
		this.#extra = extra;
		this.#activity = new DeviceActivity(cloud.store, cloud);
	}

	get port(): number {
		if (!this.#listening) throw new Error("the REST API is not listening");
		return this.#listening.port;
	}

	/** Listens on `port` (0: a free one) at each of `addresses`. */
	async listen(port: number, addresses: string[]): Promise<void> {
		this.#listening = await listenOnAll(() => createServer((request, response) => {
			this.#handle(request, response).catch((error: unknown) => {
				const status = error instanceof HttpError ? error.status : 500;
				if (!response.headersSent) send(response, status, { code: status, message: error instanceof Error ? error.message : String(error) });
				else response.end();
			});
		}), addresses, port);
	}

	async close(): Promise<void> {
		this.#activity.close();
		if (!this.#listening) return;
		const closed = this.#listening.close();
		for (const server of this.#listening.servers) server.closeAllConnections();
		await closed;
	}

	#deviceView(device: DeviceRecord): Record<string, unknown> {
		const shadow = this.#cloud.store.shadow(device.id);
		return {
			id: device.id,
			createdAt: new Date(device.created).toISOString(),
			associated: device.tenant !== null,
			tenantId: device.tenant,
			connected: this.#cloud.isConnected(device.id),
			lastSeen: device.lastSeen === null ? null : new Date(device.lastSeen).toISOString(),
			tags: device.tags,
			state: shadow ? { desired: shadow.state.desired ?? {}, reported: shadow.state.reported ?? {}, version: shadow.version } : null,
			activity: this.#activity.activity(device.id) ?? null,
		};
	}

	async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const url = new URL(request.url ?? "/", "http://localhost");
		const path = url.pathname;
		const method = request.method ?? "GET";
		if (!path.startsWith("/v1/")) {
			if (this.#extra(request, response, path)) return;
			throw new HttpError(404, `no resource ${path}`);
		}
		if (path === "/v1/events" && method === "GET") {
			// EventSource cannot send headers: the key may come as a query parameter here.
			const given = url.searchParams.get("apiKey") ?? (request.headers.authorization ?? "").replace(/^Bearer /, "");
			if (given !== this.#cloud.store.apiKey) throw new HttpError(401, "invalid API key");
			streamEvents(request, response, this.#cloud, this.#activity);
			return;
		}
		const authorization = request.headers.authorization ?? "";
		if (authorization !== `Bearer ${this.#cloud.store.apiKey}`)
			throw new HttpError(401, authorization ? "invalid API key" : "missing API key: send Authorization: Bearer <apiKey>");
		let parts: string[];
		try {
			parts = path.split("/").slice(2).map(decodeURIComponent);
		}
		catch {
			throw new HttpError(400, "malformed percent-encoding in the path");
		}
		const cloud = this.#cloud;
		if (method === "GET" && parts[0] === "fota-job-executions" && parts.length === 3) {
			// /<deviceId>/current: the execution the device works on now; /<deviceId>/<jobId>: one execution
			const executions = cloud.store.executions({ deviceId: parts[1]! });
			const execution = parts[2] === "current" ? executions.find((e) => !TERMINAL_STATUSES.has(e.status)) : executions.find((e) => e.jobId === parts[2]);
			if (!execution) throw new HttpError(404, parts[2] === "current" ? `no current FOTA execution for ${parts[1]}` : `no execution of FOTA job ${parts[2]} for ${parts[1]}`);
			send(response, 200, executionView(execution));
			return;
		}
		const route = `${method} ${parts[0] ?? ""}${parts.length > 1 ? "/:id" : ""}${parts.length > 2 ? `/${parts[2]}` : ""}`;
		switch (route) {
			case "GET account":
				send(response, 200, { tenantId: cloud.store.tenant, mqttEndpoint: `${cloud.hostname}:${cloud.mqttPort}`, mqttTopicPrefix: cloud.topicPrefix, stage: "prod" });
				return;
			case "GET devices": {
				const items = cloud.store.devices().map((d) => this.#deviceView(d));
				send(response, 200, { items, total: items.length });
				return;
			}
			case "GET devices/:id": {
				const device = cloud.store.device(parts[1]!);
				if (!device) throw new HttpError(404, `no device ${parts[1]}`);
				send(response, 200, this.#deviceView(device));
				return;
			}
			case "DELETE devices/:id":
				if (!cloud.deleteDevice(parts[1]!)) throw new HttpError(404, `no device ${parts[1]}`);
				send(response, 204);
				return;
			case "PATCH devices/:id/state": {
				const body = await readJson(request);
				if (!isObject(body) || (body.desired === undefined && body.reported === undefined))
					throw new HttpError(400, 'the body must be an object with "desired" and/or "reported"');
				const result = cloud.updateState(parts[1]!, body);
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 202);
				return;
			}
			case "GET devices/:id/messages": {
				// the device's newest messages, newest first
				const limit = pageLimit(url, 50);
				if (!cloud.store.device(parts[1]!)) throw new HttpError(404, `no device ${parts[1]}`);
				const items = cloud.store.latestMessages({ deviceId: parts[1]!, limit }).map(messageView);
				send(response, 200, { items, total: items.length });
				return;
			}
			case "GET devices/:id/track": {
				// the positions of the device's GPS messages (GGA sentences with a good checksum and a fix), oldest first
				const limit = pageLimit(url, TRACK_LIMIT, TRACK_LIMIT);
				const items = this.#activity.track(parts[1]!, limit);
				if (!items) throw new HttpError(404, `no device ${parts[1]}`);
				send(response, 200, { deviceId: parts[1], items, total: items.length });
				return;
			}
			case "POST devices/:id/messages": {
				const body = await readJson(request);
				const result = cloud.sendToDevice(parts[1]!, JSON.stringify(body));
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 201);
				return;
			}
			case "PUT association/:id": {
				const body = (await readBody(request, 1024)).toString("utf8").trim();
				if (body.startsWith("{")) {
					// {"method": "buttons", "pattern": [1, 2, 3, 4, 1, 2]}: association by an input sequence
					let sequence: unknown;
					try { sequence = JSON.parse(body); } catch { throw new HttpError(400, "the body is not valid JSON"); }
					if (!isObject(sequence) || sequence.method !== "buttons") throw new HttpError(400, 'an input-sequence association needs {"method": "buttons", "pattern": [...]}');
					const started = cloud.associateWithSequence(parts[1]!, sequence.pattern);
					if (!started.ok) throw new HttpError(started.code ?? 400, started.message ?? "rejected");
					send(response, 202);
					return;
				}
				let code = body;
				if (body.startsWith("\"")) {
					try { code = String(JSON.parse(body)); } catch { throw new HttpError(400, "the body must be the PIN or hardware ID"); }
				}
				if (code.length === 0) throw new HttpError(400, "the body must be the PIN or hardware ID");
				const result = cloud.associate(parts[1]!, code);
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 202);
				return;
			}
			case "DELETE association/:id": {
				const result = cloud.disassociate(parts[1]!);
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 202);
				return;
			}
			case "GET messages": {
				const limit = pageLimit(url, 100);
				const after = Number(url.searchParams.get("after") ?? 0);
				const direction = url.searchParams.get("direction") ?? undefined;
				if (!Number.isInteger(after) || after < 0) throw new HttpError(400, "after must be a message sequence number");
				if (direction !== undefined && direction !== "d2c" && direction !== "c2d") throw new HttpError(400, 'direction must be "d2c" or "c2d"');
				const items = cloud.store.messages({ deviceId: url.searchParams.get("deviceId") ?? undefined, direction, after, limit }).map(messageView);
				send(response, 200, { items, total: items.length });
				return;
			}
			case "GET firmwares":
				send(response, 200, { items: cloud.store.firmwares(), total: cloud.store.firmwares().length });
				return;
			case "PUT devices/:id/tags": {
				const body = await readJson(request);
				if (!Array.isArray(body) || body.length > 32 || !body.every((tag) => typeof tag === "string" && TAG.test(tag)))
					throw new HttpError(400, "the body must be an array of up to 32 tags of 1 to 64 letters, digits, _ : . -");
				const result = cloud.setTags(parts[1]!, [...new Set(body as string[])]);
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 202);
				return;
			}
			case "POST firmwares": {
				const body = await readBody(request, FIRMWARE_LIMIT);
				const contentType = request.headers["content-type"] ?? "";
				let upload: FirmwareUpload;
				if (/^multipart\/form-data/i.test(contentType)) {
					const { fields, files } = formParts(body, contentType);
					upload = {
						type: fields.get("type") ?? "", version: fields.get("version") ?? "", sha256: fields.get("sha256") || undefined,
						files: files.filter((f) => f.filename !== "" || f.data.length > 0).map((f) => ({ filename: f.filename, image: f.data })),
					};
				}
				else {
					upload = {
						type: url.searchParams.get("type") ?? "", version: url.searchParams.get("version") ?? "", sha256: url.searchParams.get("sha256") ?? undefined,
						files: [{ filename: url.searchParams.get("filename") ?? "", image: body }],
					};
				}
				try {
					send(response, 201, cloud.addFirmware(upload));
				}
				catch (error) {
					throw new HttpError(400, error instanceof Error ? error.message : String(error));
				}
				return;
			}
			case "DELETE firmwares/:id":
				if (!cloud.store.deleteFirmware(parts[1]!)) throw new HttpError(404, `no firmware ${parts[1]}`);
				send(response, 204);
				return;
			case "POST fota-jobs": {
				const body = await readJson(request);
				const shape = 'the body must be {"bundleId" (or "firmwareId"): string, "deviceIds"?: [string], "tags"?: [string], "name"?: string, "executionTimeoutSeconds"?: number}';
				if (!isObject(body)) throw new HttpError(400, shape);
				const firmwareId = body.bundleId ?? body.firmwareId;
				const strings = (value: unknown) => value === undefined || (Array.isArray(value) && value.every((v) => typeof v === "string"));
				if (typeof firmwareId !== "string" || !strings(body.deviceIds) || !strings(body.tags) || (body.name !== undefined && typeof body.name !== "string"))
					throw new HttpError(400, shape);
				const seconds = body.executionTimeoutSeconds;
				if (seconds !== undefined && (typeof seconds !== "number" || !validTimeout(seconds * 1000)))
					throw new HttpError(400, "executionTimeoutSeconds must be a number of seconds from 0 (none) to a year");
				const result = cloud.createJob({
					firmwareId, deviceIds: body.deviceIds as string[] | undefined, tags: body.tags as string[] | undefined,
					name: body.name as string | undefined, executionTimeoutMs: seconds === undefined ? undefined : (seconds as number) * 1000,
				});
				if (!result.ok) throw new HttpError(result.code, result.message);
				send(response, 201, { jobId: result.jobId, deviceIds: result.deviceIds });
				return;
			}
			case "GET fota-jobs": {
				const items = cloud.store.jobs().map((job) => cloud.jobView(job));
				send(response, 200, { items, total: items.length });
				return;
			}
			case "GET fota-jobs/:id": {
				const job = cloud.store.job(parts[1]!);
				if (!job) throw new HttpError(404, `no FOTA job ${parts[1]}`);
				send(response, 200, cloud.jobView(job));
				return;
			}
			case "PUT fota-jobs/:id/cancel":
			case "DELETE fota-jobs/:id": {
				const result = method === "PUT" ? cloud.cancelJob(parts[1]!) : cloud.deleteJob(parts[1]!);
				if (!result.ok) throw new HttpError(result.code ?? 400, result.message ?? "rejected");
				send(response, 204);
				return;
			}
			case "GET fota-job-executions/:id": {
				if (!cloud.store.device(parts[1]!)) throw new HttpError(404, `no device ${parts[1]}`);
				const items = cloud.store.executions({ deviceId: parts[1]! }).map(executionView);
				send(response, 200, { items, total: items.length });
				return;
			}
			default:
				throw new HttpError(parts[0] && ["account", "devices", "association", "messages", "firmwares", "fota-jobs", "fota-job-executions"].includes(parts[0]) ? 405 : 404, `no route ${method} ${path}`);
		}
	}
}
