/*
 * The dashboard's static files: the page at "/" and its scripts and style sheet
 * under /dashboard/, read from tools/cloud-sim/dashboard. Only plain file names
 * of that directory are served (no path reaches outside it); the page asks the
 * REST API for data with the key it carries.
 */

import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, resolve } from "node:path";

export const DASHBOARD_DIRECTORY = resolve(new URL(".", import.meta.url).pathname, "..", "..", "..", "tools", "cloud-sim", "dashboard");

const TYPES: Record<string, string> = {
	html: "text/html; charset=utf-8",
	js: "text/javascript; charset=utf-8",
	css: "text/css; charset=utf-8",
};

/** The file a path names: "/" is the page; undefined for anything else. */
function fileFor(path: string): string | undefined {
	if (path === "/") return "index.html";
	const match = /^\/dashboard\/([a-z][a-z0-9-]*\.(?:js|css))$/.exec(path);
	return match?.[1];
}

/** Serves a dashboard file for a GET; false for paths that are not the dashboard's. */
export function serveDashboard(request: IncomingMessage, response: ServerResponse, path: string): boolean {
	const name = fileFor(path);
	if (name === undefined || request.method !== "GET") return false;
	const file = join(DASHBOARD_DIRECTORY, name);
	if (!existsSync(file)) return false;
	const body = readFileSync(file);
	const type = TYPES[name.slice(name.lastIndexOf(".") + 1)]!;
	response.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "no-store" }).end(body);
	return true;
}
