/*
 * The REST API's server-sent events (GET /v1/events), what the dashboard
 * follows live:
 *   device      {id}                    any change of a device's record
 *   connection  {id, connected}         a device connected or disconnected
 *   association {id, associated}        a device associated or removed from the tenant
 *   message     a stored message        d2c and c2d, as GET /v1/messages lists them
 *   activity    {id, activity, point?}  what a message changed in the device's activity
 *                                       (point: a new position of its track)
 *   execution   a FOTA execution        status and progress
 */

import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActivityChange, DeviceActivity } from "./device-activity.js";
import { executionView } from "./fota-jobs.js";
import type { CloudEvents } from "./service-types.js";
import type { ExecutionRecord, MessageRecord } from "./store.js";

const HEARTBEAT_MS = 15000;

/** A stored message as the API shows it: the payload parsed when it is JSON. */
export function messageView(m: MessageRecord): Record<string, unknown> {
	let message: unknown = m.payload;
	try { message = JSON.parse(m.payload); } catch { /* kept as text */ }
	return { seq: m.seq, deviceId: m.deviceId, topic: m.topic, direction: m.direction, receivedAt: new Date(m.received).toISOString(), message };
}

/** Streams the cloud's announcements to one client until it goes away. */
export function streamEvents(request: IncomingMessage, response: ServerResponse, cloud: EventEmitter<CloudEvents>, activity: DeviceActivity): void {
	response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
	response.write(": connected\n\n");
	const send = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
	// each announcement the stream follows, and the event it becomes
	const listeners: [EventEmitter<any>, string, (...args: any[]) => void][] = [
		[cloud, "device", (id: string) => send("device", { id })],
		[cloud, "connection", (id: string, connected: boolean) => send("connection", { id, connected })],
		[cloud, "association", (id: string, associated: boolean) => send("association", { id, associated })],
		[cloud, "message", (record: MessageRecord) => send("message", messageView(record))],
		[cloud, "execution", (record: ExecutionRecord) => send("execution", executionView(record))],
		[activity, "change", (change: ActivityChange) => send("activity", change)],
	];
	for (const [emitter, event, listener] of listeners) emitter.on(event, listener);
	const heartbeat = setInterval(() => response.write(": keepalive\n\n"), HEARTBEAT_MS);
	request.on("close", () => {
		clearInterval(heartbeat);
		for (const [emitter, event, listener] of listeners) emitter.off(event, listener);
	});
}
