/*
 * Collects the fixtures of mqtt-packet's own test suite (node_modules/mqtt-packet/test.js)
 * by running that file with its test helpers replaced by recorders.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import vm from "node:vm";

const require = createRequire(import.meta.url);

export interface Fixture {
	helper: string;
	args: unknown[];
}

const HELPERS = [
	"testParseGenerate", "testGenerateOnly", "testParseOnly", "testParseError", "testGenerateError",
	"testGenerateErrorMultipleCmds", "testParseGenerateDefaults", "testParseAndGenerate", "testWriteToStreamError",
];

export function loadMqttPacketFixtures(): Fixture[] {
	const path = require.resolve("mqtt-packet/test.js");
	let source = readFileSync(path, "utf8");
	for (const helper of HELPERS) source = source.replace(new RegExp(`function ${helper} \\(`), `function recorded_${helper} (`);
	const fixtures: Fixture[] = [];
	const context: Record<string, unknown> = {
		Buffer,
		console,
		process,
		require: (name: string) => {
			if (name === "tape") return Object.assign(() => undefined, { skip: () => undefined, only: () => undefined });
			if (name === "./") return require("mqtt-packet");
			if (name === "readable-stream") return { Writable: class {} };
			return require(name);
		},
	};
	for (const helper of HELPERS) context[helper] = (...args: unknown[]) => { fixtures.push({ helper, args }); };
	vm.runInNewContext(source, context, { filename: path });
	return fixtures;
}
