/*
 * The update `npm start` offers for FOTA: an APP image of the example firmware
 * one minor version above the one the devices run (tools/image), uploaded to
 * the local cloud through its REST API, so a FOTA job can be started from the
 * dashboard at once. A second start finds it there and uploads nothing.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLE_APP } from "../device/main.js";
import { makeImage } from "../image/main.js";
import { formatImageVersion, parseImageVersion } from "../lib/mcuboot-image.js";
import type { Endpoints } from "../cloud-sim/main.js";

export interface UploadedImage {
	firmwareId: string;
	version: string;
	/** Uploaded by this start (false: it was there already). */
	uploaded: boolean;
}

/** The devices' version (the example's config.appVersion) and the update's, one minor version above. */
export function updateVersions(app = EXAMPLE_APP): { running: string; update: string } {
	const manifest = JSON.parse(readFileSync(join(app, "manifest.json"), "utf8")) as { config?: { appVersion?: unknown } };
	const running = parseImageVersion(String(manifest.config?.appVersion ?? "1.0.0+0"));
	if (running.minor === 255) throw new RangeError(`no minor version above ${formatImageVersion(running)}`);
	return { running: formatImageVersion(running), update: formatImageVersion({ major: running.major, minor: running.minor + 1, revision: 0, build: 0 }) };
}

async function api(endpoints: Endpoints, method: string, path: string, body?: Uint8Array<ArrayBuffer>): Promise<unknown> {
	const response = await fetch(`http://127.0.0.1:${endpoints.httpPort}${path}`, {
		method, headers: { authorization: `Bearer ${endpoints.apiKey}` }, body,
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
	return text ? JSON.parse(text) : undefined;
}

export async function offerUpdate(endpoints: Endpoints, app = EXAMPLE_APP): Promise<UploadedImage> {
	const { update } = updateVersions(app);
	const list = await api(endpoints, "GET", "/v1/firmwares") as { items: Array<{ id: string; type: string; version: string }> };
	const there = list.items.find((item) => item.type === "APP" && item.version === update);
	if (there) return { firmwareId: there.id, version: update, uploaded: false };
	const image = makeImage({ type: "app", app, version: update });
	const query = new URLSearchParams({ type: "APP", version: update, filename: `tracker-${update}.bin` });
	const added = await api(endpoints, "POST", `/v1/firmwares?${query}`, new Uint8Array(image.image)) as { id: string };
	return { firmwareId: added.id, version: update, uploaded: true };
}
