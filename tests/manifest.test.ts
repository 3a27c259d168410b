/*
 * The Moddable manifests list every TypeScript module, and the compiled modules
 * import nothing the device lacks; the import check itself is shown to fail.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { findForbiddenImports } from "../tools/check-modules.js";

const root = process.cwd();

function readJson(path: string): Record<string, unknown> {
	return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** Module paths (without extension, relative to the root) listed by a manifest and its includes. */
function listedModules(manifestPath: string, seen = new Set<string>()): Set<string> {
	const manifest = readJson(manifestPath);
	const base = dirname(manifestPath);
	for (const include of (manifest.include as string[] | undefined) ?? []) {
		if (!include.startsWith("$(")) listedModules(join(base, include), seen);
	}
	for (const paths of Object.values((manifest.modules as Record<string, string | string[]> | undefined) ?? {})) {
		for (const path of Array.isArray(paths) ? paths : [paths]) seen.add(relative(root, join(base, path)));
	}
	return seen;
}

function sources(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return sources(path);
		return entry.name.endsWith(".ts") ? [relative(root, path).replace(/(\.d)?\.ts$/, "")] : [];
	});
}

function cSources(dir: string): string[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return entry.name === "posix" ? [] : cSources(path);
		return entry.name.endsWith(".c") ? [relative(root, path).replace(/\.c$/, "")] : [];
	});
}

test("the root manifest lists every module source and only existing ones", () => {
	const listed = listedModules(join(root, "manifest.json"));
	for (const source of sources(join(root, "modules"))) assert.ok(listed.has(source), `${source} is not in a manifest`);
	for (const path of listed) assert.ok([".ts", ".d.ts", ".c"].some((ext) => existsSync(`${path}${ext}`)), `${path} listed but missing`);
	for (const source of cSources(join(root, "native"))) assert.ok(listed.has(source), `${source}.c is not in a manifest`);
	const platforms = readJson(join(root, "manifest.json")).platforms as Record<string, unknown>;
	for (const name of ["lin", "zephyr/nrf9160dk", "zephyr/thingy91"]) assert.ok(name in platforms, `no ${name} section`);
});

test("compiled modules import only project and embedded: modules", () => {
	assert.deepEqual(findForbiddenImports(join(root, "build", "modules")), []);
});

test("the import check catches Node built-ins, packages and escaping paths", () => {
	const dir = mkdtempSync(join(tmpdir(), "check-modules-"));
	try {
		writeFileSync(join(dir, "a.js"), 'import fs from "node:fs";\nimport { x } from "./b.js";\n');
		writeFileSync(join(dir, "b.js"), 'export const x = 1;\nimport "events";\nconst y = require("mqtt-packet");\n');
		writeFileSync(join(dir, "c.js"), 'export * from "../elsewhere.js";\nimport "embedded:io/socket/tcp";\nimport("mqtt");\n');
		const problems = findForbiddenImports(dir).map((p) => `${p.specifier}: ${p.reason}`).sort();
		assert.deepEqual(problems, [
			"../elsewhere.js: relative import leaves modules/",
			"events: Node built-in",
			"mqtt-packet: require() is not available in XS",
			"mqtt: package import (modules may import only modules/ and embedded:*)",
			"node:fs: Node built-in",
		]);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
