/*
 * What a device last said, for the operator's view of the fleet: its latest
 * position and a bounded track of positions (from the GGA sentences of its GPS
 * messages), its FLIP state, its LED state, its last button press, and the LED
 * state last asked of it (a c2d LED CFG_SET). A device's record is built from
 * the store the first time it is asked for (so a cloud started on an old state
 * directory shows what its devices said before) and from then on kept in memory
 * from the cloud's message announcements: a cloud nobody watches parses no
 * message twice.
 */

import { EventEmitter } from "node:events";
import { parseGga, type Position } from "./gga.js";
import { isObject } from "./shadow.js";
import type { CloudEvents } from "./service-types.js";
import type { MessageRecord, Store } from "./store.js";

/** Positions kept per device. */
export const TRACK_LIMIT = 500;

export interface TrackPoint {
	lat: number;
	lon: number;
	/** The fix's time of day as the sentence gave it. */
	time: string;
	receivedAt: string;
}

export interface Activity {
	position: TrackPoint | null;
	flip: { state: string; receivedAt: string } | null;
	led: { state: number; receivedAt: string } | null;
	button: { button: string; receivedAt: string } | null;
	ledRequested: { state: number; sentAt: string } | null;
}

interface DeviceRecord {
	activity: Activity;
	track: TrackPoint[];
	/** The newest message read from the store when the record was made: announcements up to it are already folded in. */
	seeded: number;
}

/** What one message changes: the part of the activity and, for a position, the point. */
export interface ActivityChange {
	id: string;
	activity: Activity;
	point?: TrackPoint;
}

export interface ActivityEvents {
	change: [ActivityChange];
}

/**
 * The device apps this view reads, and how many of each one's newest messages are read back
 * from the store: more than one, as the newest may be malformed (or, for LED, the c2d request).
 */
const APPS: Record<string, number> = { GPS: TRACK_LIMIT, FLIP: 20, LED: 20, BUTTON: 20 };

function emptyActivity(): Activity {
	return { position: null, flip: null, led: null, button: null, ledRequested: null };
}

function ledState(data: unknown): number | undefined {
	return isObject(data) && (data.state === 0 || data.state === 1) ? data.state : undefined;
}

/** Folds one message into a device's record; the changed point for a new position; false when nothing changed. */
function fold(record: DeviceRecord, message: MessageRecord): { changed: boolean; point?: TrackPoint } {
	let parsed: unknown;
	try {
		parsed = JSON.parse(message.payload);
	}
	catch {
		return { changed: false };
	}
	if (!isObject(parsed)) return { changed: false };
	const at = new Date(message.received).toISOString();
	const { appId, messageType, data } = parsed;
	const activity = record.activity;
	if (message.direction === "c2d") {
		const state = ledState(data);
		if (appId !== "LED" || messageType !== "CFG_SET" || state === undefined) return { changed: false };
		activity.ledRequested = { state, sentAt: at };
		return { changed: true };
	}
	if (messageType !== "DATA") return { changed: false };
	switch (appId) {
		case "GPS": {
			const position: Position | undefined = parseGga(data);
			if (!position) return { changed: false };
			const point = { lat: position.lat, lon: position.lon, time: position.time, receivedAt: at };
			record.track.push(point);
			if (record.track.length > TRACK_LIMIT) record.track.splice(0, record.track.length - TRACK_LIMIT);
			activity.position = point;
			return { changed: true, point };
		}
		case "FLIP":
			if (typeof data !== "string" || data.length === 0 || data.length > 32) return { changed: false };
			activity.flip = { state: data, receivedAt: at };
			return { changed: true };
		case "LED": {
			const state = ledState(data);
			if (state === undefined) return { changed: false };
			activity.led = { state, receivedAt: at };
			return { changed: true };
		}
		case "BUTTON":
			if ((typeof data !== "string" && typeof data !== "number") || String(data).length === 0 || String(data).length > 8) return { changed: false };
			activity.button = { button: String(data), receivedAt: at };
			return { changed: true };
		default:
			return { changed: false };
	}
}

export class DeviceActivity extends EventEmitter<ActivityEvents> {
	readonly #store: Store;
	readonly #cloud: EventEmitter<CloudEvents>;
	readonly #devices = new Map<string, DeviceRecord>();
	readonly #onMessage = (message: MessageRecord) => this.#received(message);
	readonly #onDevice = (id: string) => {
		// a device removed: its record goes (a look-up only for devices followed)
		if (this.#devices.has(id) && !this.#store.device(id)) this.#devices.delete(id);
	};

	constructor(store: Store, cloud: EventEmitter<CloudEvents>) {
		super();
		this.#store = store;
		this.#cloud = cloud;
		cloud.on("message", this.#onMessage);
		cloud.on("device", this.#onDevice);
	}

	/** Stops following the cloud's announcements. */
	close(): void {
		this.#cloud.off("message", this.#onMessage);
		this.#cloud.off("device", this.#onDevice);
	}

	/** A device's activity; undefined for a device the cloud does not know. */
	activity(id: string): Activity | undefined {
		return this.#record(id)?.activity;
	}

	/** A device's latest positions, oldest first, at most `limit` (up to TRACK_LIMIT). */
	track(id: string, limit = TRACK_LIMIT): TrackPoint[] | undefined {
		const record = this.#record(id);
		return record?.track.slice(-limit);
	}

	#record(id: string): DeviceRecord | undefined {
		const known = this.#devices.get(id);
		if (known) return known;
		if (!this.#store.device(id)) return undefined;
		const record: DeviceRecord = { activity: emptyActivity(), track: [], seeded: 0 };
		const stored: MessageRecord[] = [];
		for (const [appId, limit] of Object.entries(APPS)) stored.push(...this.#store.latestMessages({ deviceId: id, appId, limit }));
		for (const message of stored.sort((a, b) => a.seq - b.seq)) {
			fold(record, message);
			record.seeded = message.seq;
		}
		this.#devices.set(id, record);
		return record;
	}

	#received(message: MessageRecord): void {
		const record = this.#devices.get(message.deviceId);
		// a device nobody has asked about yet, or a message its record was read with
		if (!record || message.seq <= record.seeded) return;
		const { changed, point } = fold(record, message);
		if (changed) this.emit("change", point ? { id: message.deviceId, activity: record.activity, point } : { id: message.deviceId, activity: record.activity });
	}
}
