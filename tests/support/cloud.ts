/* Helpers for tests of the local nRF Cloud: its REST API and device credentials for the Mosquitto tools. */

import { join } from "node:path";
import type { Endpoints } from "../../tools/cloud-sim/main.js";
import type { ToolCredentials } from "../../tools/lib/mosquitto.js";

export interface RestResult {
	status: number;
	json: any;
}

export interface RestOptions {
	/** null sends no key; default: the cloud's key. */
	apiKey?: string | null;
	/** A binary body, sent as is. */
	raw?: Buffer;
}

/**
 * A REST caller for the cloud whose endpoints `current` returns (a function, as a
 * test may restart the cloud). String bodies go as they are, others as JSON.
 */
export function restClient(current: () => Endpoints): (method: string, path: string, body?: unknown, options?: RestOptions) => Promise<RestResult> {
	return async (method, path, body, options = {}) => {
		const endpoints = current();
		const headers: Record<string, string> = {};
		const apiKey = options.apiKey === undefined ? endpoints.apiKey : options.apiKey;
		if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
		const response = await fetch(`http://127.0.0.1:${endpoints.httpPort}${path}`, {
			method, headers,
			body: options.raw ? new Uint8Array(options.raw) : body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
		});
		const text = await response.text();
		return { status: response.status, json: text ? JSON.parse(text) : undefined };
	};
}

/** Credentials for the Mosquitto tools of a device provisioned with `--out <dir>/out`. */
export function deviceCredentials(dir: string, endpoints: Endpoints, id: string): ToolCredentials {
	return { port: endpoints.mqttPort, ca: join(dir, "out", "ca.pem"), cert: join(dir, "out", `${id}.pem`), key: join(dir, "out", `${id}.key`), id };
}
