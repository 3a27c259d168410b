/*
 * What the cloud's services share: the answer to an operator's request (REST turns
 * it into a status) and the events the cloud announces to the REST event stream.
 */

import type { EventEmitter } from "node:events";
import type { Broker } from "./broker.js";
import type { ExecutionRecord, MessageRecord, Store } from "./store.js";

export interface CloudEvents {
	message: [MessageRecord];
	/** Any change of a device's record (connection, association, tags, shadow, removal). */
	device: [string];
	/** A device connected (true) or disconnected (false). */
	connection: [string, boolean];
	/** A device was associated with the tenant (true) or removed from it (false). */
	association: [string, boolean];
	execution: [ExecutionRecord];
}

/** How a service announces a change. */
export type Announce = EventEmitter<CloudEvents>["emit"];

/** What every service works with: it reaches devices only through `broker`. */
export interface ServiceContext {
	broker: Broker;
	store: Store;
	/** The tenant's topic prefix, `<stage>/<tenant>/`. */
	topicPrefix: string;
	announce: Announce;
	log: (line: string) => void;
}

/** The answer to an operator's request: ok, or an HTTP status and why. */
export interface Outcome {
	ok: boolean;
	code?: number;
	message?: string;
}

export function refused(code: number, message: string): Outcome & { ok: false; code: number; message: string } {
	return { ok: false, code, message };
}

export function noDevice(id: string): Outcome {
	return refused(404, `no device ${id}`);
}

/** Seconds since the epoch, the shadow's and the error answers' timestamp. */
export function now(): number {
	return Math.floor(Date.now() / 1000);
}
