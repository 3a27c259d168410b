/*
 * The soak firmware's build-time settings (its manifest's "config", the
 * harness's values on top), checked once at start: a wrong value stops the
 * firmware with a message naming it instead of a soak that measures nothing.
 */

import type { ClientIdSourceValue, NrfCloudConfig } from "../../../modules/nrf-cloud/config.js";
import type { PatternSettings } from "./sensor-soak.js";

/**
 * The library's connection options as the manifest gives them (an empty
 * hostname or clientId: the library's default), and the pattern's settings
 * (sensor-soak.ts) but where the queue is kept.
 */
export interface SoakSettings extends Omit<PatternSettings, "persist">, Required<Pick<NrfCloudConfig, "host" | "port" | "hostname" | "secTag" | "keepalive" | "clientId">> {
	clientIdSource: ClientIdSourceValue;
	/** Print the library's diagnostic lines. */
	libraryLog: boolean;
}

const SOURCES: readonly string[] = ["imei", "internal-uuid", "compile-time", "runtime"];

function whole(raw: Record<string, unknown>, name: string, min: number, max: number): number {
	const value = raw[name];
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw new RangeError(`config.${name} must be an integer from ${min} to ${max}`);
	return value;
}

function text(raw: Record<string, unknown>, name: string): string {
	const value = raw[name];
	if (typeof value !== "string") throw new TypeError(`config.${name} must be a string`);
	return value;
}

export function soakSettings(config: unknown): SoakSettings {
	if (config === null || typeof config !== "object") throw new TypeError("mc/config must be an object");
	const raw = config as Record<string, unknown>;
	const source = text(raw, "clientIdSource");
	if (!SOURCES.includes(source)) throw new RangeError(`config.clientIdSource must be one of ${SOURCES.join(", ")}`);
	for (const name of ["queue", "libraryLog"]) if (typeof raw[name] !== "boolean") throw new TypeError(`config.${name} must be a boolean`);
	const retryMs = whole(raw, "retryMs", 1, 600000);
	return {
		host: text(raw, "host"),
		port: whole(raw, "port", 1, 65535),
		hostname: text(raw, "hostname"),
		secTag: whole(raw, "secTag", 0, 2147483647),
		keepalive: whole(raw, "keepalive", 0, 65535),
		clientIdSource: source as ClientIdSourceValue,
		clientId: text(raw, "clientId"),
		messages: whole(raw, "messages", 1, 2147483647),
		intervalMs: whole(raw, "intervalMs", 0, 3600000),
		queue: raw.queue as boolean,
		libraryLog: raw.libraryLog as boolean,
		queueMessages: whole(raw, "queueMessages", 1, 2147483647),
		queueBytes: whole(raw, "queueBytes", 1, 2147483647),
		retryMs,
		retryMaxMs: whole(raw, "retryMaxMs", retryMs, 3600000),
	};
}
