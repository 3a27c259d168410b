/*
 * The firmware download server: HTTPS with the cloud's server certificate, GET
 * and HEAD of the catalog's download paths, with single byte ranges, as FOTA
 * clients resume an interrupted download with a Range request. Connections are
 * kept alive between requests (a device fetches an image fragment by fragment).
 * Only catalog paths are served: anything that could name a file outside the
 * store (dot segments, backslashes, NUL, encoded slashes) is refused with 400.
 */

import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import type { FirmwareCatalog } from "./firmware.js";
import { listenOnAll, type Listening } from "../lib/listen.js";

/** How long an idle kept-alive connection stays open between two fragment requests. */
const KEEP_ALIVE_MS = 30_000;

/** The catalog path a request URL names, or undefined when it is not one the server may serve. */
export function downloadPath(url: string): string | undefined {
	const raw = url.split("?")[0]!;
	let path: string;
	try {
		path = decodeURIComponent(raw);
	}
	catch {
		return undefined;
	}
	// an encoded "/" or "\" would let one segment pose as several; "." and ".." segments climb
	if (/%2f|%5c/i.test(raw) || path.includes("\\") || path.includes("\0") || !path.startsWith("/") || path.startsWith("//")) return undefined;
	const segments = path.slice(1).split("/");
	return segments.some((segment) => segment === "" || segment === "." || segment === "..") ? undefined : segments.join("/");
}

/** The bytes a Range header asks of a `size`-byte image: inclusive bounds, or "unsatisfiable". */
function byteRange(range: string, size: number): { start: number; end: number } | "unsatisfiable" {
	const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
	if (!match || (match[1] === "" && match[2] === "")) return "unsatisfiable";
	let start: number;
	let end = size - 1;
	if (match[1] === "") start = Math.max(0, size - Number(match[2]));
	else {
		start = Number(match[1]);
		if (match[2] !== "") end = Math.min(end, Number(match[2]));
	}
	return start > end || start >= size ? "unsatisfiable" : { start, end };
}

export class FirmwareServer {
	readonly #catalog: FirmwareCatalog;
	readonly #pkiDirectory: string;
	#listening!: Listening<Server>;

	constructor(catalog: FirmwareCatalog, pkiDirectory: string) {
		this.#catalog = catalog;
		this.#pkiDirectory = pkiDirectory;
	}

	get port(): number {
		return this.#listening.port;
	}

	async listen(port: number, addresses: string[]): Promise<void> {
		const credentials = {
			key: readFileSync(join(this.#pkiDirectory, "server.key")),
			cert: readFileSync(join(this.#pkiDirectory, "server.pem")),
		};
		this.#listening = await listenOnAll(() => {
			const server = createServer(credentials,
				(request, response) => this.#serve(request.url ?? "/", request.headers.range, request.method ?? "GET", response));
			server.keepAliveTimeout = KEEP_ALIVE_MS;
			return server;
		}, addresses, port);
	}

	async close(): Promise<void> {
		const closed = this.#listening.close();
		for (const server of this.#listening.servers) server.closeAllConnections();
		await closed;
	}

	#serve(url: string, range: string | undefined, method: string, response: ServerResponse): void {
		if (method !== "GET" && method !== "HEAD") {
			response.writeHead(405, { allow: "GET, HEAD", "content-length": 0 }).end();
			return;
		}
		const path = downloadPath(url);
		if (path === undefined) {
			response.writeHead(400, { "content-type": "text/plain", "content-length": 20 }).end("not a firmware path\n");
			return;
		}
		const found = this.#catalog.find(path);
		if (!found) {
			// With a length, so the connection stays usable for the next request.
			response.writeHead(404, { "content-type": "text/plain", "content-length": 10 }).end("not found\n");
			return;
		}
		const image = this.#catalog.image(found.record, found.index);
		let start = 0;
		let end = image.length - 1;
		if (range !== undefined) {
			const asked = byteRange(range, image.length);
			if (asked === "unsatisfiable") {
				response.writeHead(416, { "content-range": `bytes */${image.length}`, "content-length": 0 }).end();
				return;
			}
			({ start, end } = asked);
		}
		const headers: Record<string, string | number> = {
			"content-type": "application/octet-stream",
			"content-length": end - start + 1,
			"accept-ranges": "bytes",
		};
		if (range !== undefined) headers["content-range"] = `bytes ${start}-${end}/${image.length}`;
		response.writeHead(range !== undefined ? 206 : 200, headers);
		response.end(method === "HEAD" ? undefined : image.subarray(start, end + 1));
	}
}
