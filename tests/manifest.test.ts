/*
 * The Moddable manifests list every TypeScript module, and the compiled modules
 * import nothing the device lacks; the import check itself is shown to fail.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync } from "node:fs";
import { findForbiddenImports, findNonPublicImports, findTrackedSecrets, findUnoptimizedNatives, findUpwardImports, layerOf } from "../tools/check-modules.js";

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
	// The platform sections too: the bindings' C is selected per platform (posix for lin, nrf9160 for zephyr).
	const platforms = Object.values((manifest.platforms as Record<string, { modules?: Record<string, string | string[]> }> | undefined) ?? {});
	for (const modules of [manifest.modules as Record<string, string | string[]> | undefined, ...platforms.map((p) => p.modules)]) {
		for (const paths of Object.values(modules ?? {})) {
			for (const path of Array.isArray(paths) ? paths : [paths]) seen.add(relative(root, join(base, path)));
		}
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

test("the example firmware imports only the library's public API and its own modules; the check names anything else", () => {
	assert.deepEqual(findNonPublicImports(join(root, "build", "examples", "tracker")), []);
	const dir = mkdtempSync(join(tmpdir(), "check-app-"));
	try {
		writeFileSync(join(dir, "main.js"), [
			'import config from "mc/config";', 'import { connect } from "nrf-cloud/device";', 'import { Led } from "sensors/leds";',
			'import { DfuTarget } from "dfu/target";', 'import { Board } from "./board.js";',
			'import { StateMachine } from "nrf-cloud/fsm";', 'import { TcpSocket } from "socket/tcp";', 'import "../outside.js";', "",
		].join("\n"));
		writeFileSync(join(dir, "board.js"), "export class Board {}\n");
		assert.deepEqual(findNonPublicImports(dir).map((p) => p.specifier).sort(), ["../outside.js", "nrf-cloud/fsm", "socket/tcp"]);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("compiled modules import only their own layer and the ones below", () => {
	assert.deepEqual(findUpwardImports(join(root, "build", "modules")), []);
});

test("every native() of the compiled modules is in a form xsc binds directly", () => {
	const files = readdirSync(join(root, "build", "modules"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
	assert.ok(files.length > 10);
	assert.deepEqual(files.flatMap((f) => findUnoptimizedNatives(join(root, "build", "modules", f))), []);
});

test("the native() check accepts the forms xsc optimizes and names every other one", () => {
	const source = [
		'class Ok extends Native("d") {',
		'	constructor(a, b) { super(); native("c").call(this, a, b); }',
		'	read(count) { return native("r").call(this, count); }',
		'	get size() { return native("s").call(this); }',
		'	static reboot() { native("b").call(this); }',
		'	spread(first, ...rest) { return native("p").call(this, first, ...rest); }',
		'}',
		'function send(command) { return native("at").call(this, command); }',
		'class Checked extends Native("d") {',
		'	constructor(a) { if (!a) throw new TypeError("a"); super(); native("c").call(this, a); }',
		'	write(data) { const n = native("w").call(this, data); return n; }',
		'	swapped(a, b) { return native("x").call(this, b, a); }',
		'	defaulted(a = 0) { return native("y").call(this, a); }',
		'	direct(a) { return native("z")(a); }',
		'}',
		'class Indirect extends Ok { constructor(a) { super(); native("c").call(this, a); } }',
		'const cached = native("m");',
		'const arrow = (a) => native("n").call(this, a);',
		'const computed = native(name);',
		'class Bad extends Native(name) {}',
	].join("\n");
	const problems = findUnoptimizedNatives("sample.js", source).map((p) => `${p.file.replace(/^.*:/, "")} ${p.specifier}`);
	assert.deepEqual(problems, [
		"10 native(\"c\")",
		"11 native(\"w\")",
		"12 native(\"x\")",
		"13 native(\"y\")",
		"14 native(\"z\")",
		"16 native(\"c\")",
		"17 native(\"m\")",
		"18 native(\"n\")",
		"19 native(name)",
		"20 Native(name)",
	]);
});

function withTree(files: Record<string, string>, body: (dir: string) => void): void {
	const dir = mkdtempSync(join(tmpdir(), "check-layers-"));
	try {
		for (const [path, text] of Object.entries(files)) {
			mkdirSync(dirname(join(dir, path)), { recursive: true });
			writeFileSync(join(dir, path), text);
		}
		body(dir);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

test("the layer check fails on an import that climbs and on a module in no layer", () => {
	assert.ok(layerOf("platform/socket") < layerOf("mqtt/client"));
	assert.ok(layerOf("mqtt/client") < layerOf("nrf-cloud/transport"));
	assert.ok(layerOf("nrf-cloud/transport") < layerOf("nrf-cloud/fsm"));
	withTree({
		"platform/socket.js": 'import { MqttClient } from "../mqtt/client.js";\nexport const s = 1;\n',
		"mqtt/client.js": 'import { s } from "../platform/socket.js";\nexport class MqttClient {}\n',
		"nrf-cloud/transport.js": 'export { StateMachine } from "./fsm.js";\nimport "../mqtt/client.js";\n',
		"nrf-cloud/fsm.js": "export class StateMachine {}\n",
		"stray/thing.js": "export const t = 1;\n",
	}, (dir) => {
		const problems = findUpwardImports(dir).map((p) => `${p.specifier}: ${p.reason}`).sort();
		assert.deepEqual(problems, [
			"../mqtt/client.js: climbs from platform (platform/socket) up to MQTT session (mqtt/client)",
			"./fsm.js: climbs from nRF Cloud transport (nrf-cloud/transport) up to state machine (nrf-cloud/fsm)",
			"stray/thing: module is in no layer (add it to LAYERS in tools/check-modules.ts)",
		]);
	});
});

function git(dir: string, ...args: string[]): void {
	const result = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: dir, encoding: "utf8" });
	assert.equal(result.status, 0, result.stderr);
}

test("the tree check fails on a tracked private key or modem state, not on an untracked one or a stub", () => {
	const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
	withTree({
		"keys/device.pem": key,
		"state/sectag/16842753/2.pem": "not even a key",
		"state/cfun": "1",
		"untracked.pem": key,
		"tools/inline.ts": `const k = ${JSON.stringify(key)};\n`,
		"tests/stub.ts": 'const k = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----\\n";\n',
		"docs/cfun-notes.md": "AT+CFUN explained\n",
	}, (dir) => {
		git(dir, "init", "-q");
		git(dir, "add", "keys", "state", "tests", "docs", "tools");
		const problems = findTrackedSecrets(dir).map((p) => `${p.file}: ${p.reason}`).sort();
		assert.deepEqual(problems, [
			"keys/device.pem: a private key is tracked by git",
			"state/cfun: emulated modem state is tracked by git",
			"state/sectag/16842753/2.pem: emulated modem state is tracked by git",
			"tools/inline.ts: a private key is tracked by git",
		]);
	});
});

test("the project's own tree tracks no private key or modem state", () => {
	assert.deepEqual(findTrackedSecrets(root), []);
});
