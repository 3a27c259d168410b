/*
 * npm run build:moddable: without $MODDABLE it says in one line how to get the
 * SDK; its scan of mcconfig's output catches what must fail a build; with
 * $MODDABLE it builds the example firmware without a warning, and a native()
 * that xsc cannot bind directly fails the build (skipped without $MODDABLE).
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { MODDABLE_SKIP } from "./support/moddable.js";

const root = process.cwd();
/** A file of this checkout as mcconfig names it: an absolute path under the project root. */
const projectFile = (...parts: string[]): string => join(root, ...parts);

interface McconfigResult {
	status: number | null;
	output: string;
	problems: string[];
}

interface BuildModdable {
	problems(output: string): string[];
	mcconfig(manifest: string, variant?: string, options?: { quiet?: boolean }): Promise<McconfigResult>;
	programPath(variant?: string): string;
	OUTPUT: string;
}

const buildModdable = (): Promise<BuildModdable> => import(pathToFileURL(join(root, "tools", "build-moddable.mjs")).href) as Promise<BuildModdable>;

test("without $MODDABLE, build:moddable prints one line on how to get the SDK and fails", () => {
	const env = { ...process.env };
	delete env.MODDABLE;
	const result = spawnSync("node", [join(root, "tools", "build-moddable.mjs")], { env, encoding: "utf8" });
	assert.notEqual(result.status, 0);
	assert.equal(result.stdout, "");
	const lines = result.stderr.trim().split("\n");
	assert.equal(lines.length, 1, result.stderr);
	assert.match(lines[0]!, /\$MODDABLE is not set/);
	assert.match(lines[0]!, /https:\/\/github\.com\/Moddable-OpenSource\/moddable\/blob\/public\/documentation\/Moddable%20SDK%20-%20Getting%20Started\.md/);
});

test("the scan of mcconfig's output names xsc and xsl warnings, tsc errors and warnings in the project's C, not the SDK's C", async () => {
	const { problems } = await buildModdable();
	const output = [
		"# xsc socket/tcp.xsb",
		`${projectFile("build", "moddable", "tmp", "lin", "release", "app", "tsc", "socket", "tcp.js")}:40: warning: cannot optimize native`,
		"build/other/main.js(12): warning: cannot optimize native",
		"### warning: nrf-cloud/fsm: TRANSITIONS[0]: not frozen",
		"../../examples/tracker/main.ts(48,2): error TS2584: Cannot find name 'console'.",
		`${projectFile("native", "socket", "posix", "socket.c")}:12:5: warning: unused variable 'x' [-Wunused-variable]`,
		// An SDK installed beside the project: its C is outside the project, so its warnings are not ours.
		`${resolve(root, "..", "moddable-sdk", "xs", "sources", "xsRun.c")}:100:3: warning: something the SDK does`,
		"# cc socket.c.o",
		"build:moddable: build/moddable/bin/lin/release/nrfcloud-device",
	].join("\n");
	assert.deepEqual(problems(output), [
		`${projectFile("build", "moddable", "tmp", "lin", "release", "app", "tsc", "socket", "tcp.js")}:40: warning: cannot optimize native`,
		"build/other/main.js(12): warning: cannot optimize native",
		"### warning: nrf-cloud/fsm: TRANSITIONS[0]: not frozen",
		"../../examples/tracker/main.ts(48,2): error TS2584: Cannot find name 'console'.",
		`${projectFile("native", "socket", "posix", "socket.c")}:12:5: warning: unused variable 'x' [-Wunused-variable]`,
	]);
	assert.deepEqual(problems("# xsc a.xsb\n# xsl modules\n### 848 instances, 1435 keys, 66 colors, 0 holes\n"), []);
});

test("with $MODDABLE, build:moddable builds the example firmware without a warning", { skip: MODDABLE_SKIP }, () => {
	const result = spawnSync("node", [join(root, "tools", "build-moddable.mjs")], { encoding: "utf8", timeout: 900_000 });
	assert.equal(result.status, 0, result.stdout + result.stderr);
	assert.match(result.stdout, /build:moddable: build\/moddable\/bin\/lin\/release\/nrfcloud-device\n$/);
	assert.doesNotMatch(result.stdout + result.stderr, /warning|error TS/);
});

test("with $MODDABLE, a native() that xsc cannot bind directly fails the build", { skip: MODDABLE_SKIP }, async () => {
	const { mcconfig } = await buildModdable();
	const dir = mkdtempSync(join(root, "build", "moddable-native-form-"));
	try {
		mkdirSync(dir, { recursive: true });
		writeFileSync(join(dir, "manifest.json"), JSON.stringify({
			build: { NAME: "native-form-check" },
			include: [join(root, "modules", "platform", "manifest.json"), join(root, "hosts", "sim", "manifest.json")],
			modules: { "*": "./main", "mc/config-defaults": "./config-defaults" },
			creation: { chunk: { initial: 65536, incremental: 0 }, heap: { initial: 4096, incremental: 0 }, stack: 512, keys: { initial: 256, incremental: 0, name: 127, symbol: 127 } },
		}));
		writeFileSync(join(dir, "main.ts"), [
			"function now(this: unknown, scale: number): number {",
			"\tif (scale < 0) throw new RangeError(\"scale\");",
			"\treturn native(\"xs_sim_now\").call(this, scale);",
			"}",
			"now(1);",
			"",
		].join("\n"));
		writeFileSync(join(dir, "config-defaults.js"), "export default {};\n");
		const result = await mcconfig(join(dir, "manifest.json"), "release", { quiet: true });
		assert.equal(result.problems.length, 1, result.output);
		assert.match(result.problems[0]!, /main\.(ts|js)(:\d+:|\(\d+\):) warning: cannot optimize native/);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
