/*
 * The Moddable SDK's build of the host for tests: when $MODDABLE is set, tests
 * that take the switch run against it too; without it they are skipped with
 * the reason below, which node:test prints.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { moddableProgram } from "../../tools/device/main.js";

export const MODDABLE_SKIP: string | false = process.env.MODDABLE ? false : "skipped: MODDABLE not set";

/** Brings the Moddable build of `variant` up to date (mcconfig rebuilds only what changed); returns its program. */
export function ensureModdable(variant = "release"): string {
	const result = spawnSync("node", [join(process.cwd(), "tools", "build-moddable.mjs"), variant], { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`npm run build:moddable -- ${variant} failed:\n${result.stdout.slice(-4000)}${result.stderr.slice(-4000)}`);
	return moddableProgram(variant);
}

/** What a suite built with the Moddable SDK needs besides itself and the harness. */
export interface ModdableSuite {
	/** Library modules the suite imports, by path under modules/ ("dfu/target"); their own imports must be listed too. */
	modules: string[];
	/** C bindings, by path under native/ without extension ("dfu/posix/dfu"). */
	bindings: string[];
	/** Modules generated under build/tests/xs/generated ("device-fixture"), with their declarations in tests/xs/generated. */
	generated?: string[];
}

/**
 * Builds the XS suite tests/xs/<name>.suite.ts with the Moddable SDK (x-cli-lin,
 * the project's host as the program) and returns the program; run it with
 * `--main tests/xs/<name>.suite`. Modules are named by their paths in the
 * repository ("modules/dfu/target"), so the suites' relative imports resolve in
 * the archive as they do on files.
 */
export function ensureModdableSuite(name: string, suite: ModdableSuite, variant = "release"): string {
	const dir = join(process.cwd(), "build", "moddable", "suites", name);
	mkdirSync(dir, { recursive: true });
	const platform = JSON.parse(readFileSync(join(process.cwd(), "modules", "platform", "manifest.json"), "utf8")) as { typescript: { tsconfig: { compilerOptions: Record<string, unknown> } } };
	const compilerOptions = { ...platform.typescript.tsconfig.compilerOptions, types: ["$(MODDABLE)/xs/includes/xs", join(process.cwd(), "modules", "platform", "globals")] };
	const root = process.cwd();
	const modules: Record<string, string | string[]> = {
		[`tests/xs/${name}.suite`]: join(root, "tests", "xs", `${name}.suite`),
		"tests/xs/harness": join(root, "tests", "xs", "harness"),
		"mc/config-defaults": "./config-defaults",
		// The bindings stand on the portable C of native/common, which the modules' own manifests would add.
		"*": [
			...suite.bindings.map((binding) => join(root, "native", binding)),
			...readdirSync(join(root, "native", "common")).filter((file) => file.endsWith(".c")).map((file) => join(root, "native", "common", file.slice(0, -2))),
		],
	};
	for (const module of suite.modules) modules[`modules/${module}`] = join(root, "modules", module);
	for (const module of suite.generated ?? [])
		modules[`tests/xs/generated/${module}`] = [join(root, "build", "tests", "xs", "generated", module), join(root, "tests", "xs", "generated", module)];
	const manifest = {
		build: { NAME: `suite-${name}` },
		include: [join(root, "hosts", "sim", "manifest.json")],
		modules,
		creation: { chunk: { initial: 262144, incremental: 65536 }, heap: { initial: 16384, incremental: 4096 }, stack: 4096, keys: { initial: 2048, incremental: 512, name: 127, symbol: 127 } },
		typescript: { tsconfig: { compilerOptions } },
	};
	writeFileSync(join(dir, "config-defaults.js"), "export default Object.freeze({});\n");
	writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, "\t")}\n`);
	const script = [
		`const { mcconfig } = await import(${JSON.stringify(pathToFileURL(join(root, "tools", "build-moddable.mjs")).href)});`,
		`const result = await mcconfig(${JSON.stringify(join(dir, "manifest.json"))}, ${JSON.stringify(variant)}, { quiet: true });`,
		"if (result.status !== 0 || result.problems.length) { console.error(result.problems.join('\\n') || result.output.slice(-4000)); process.exit(1); }",
	].join("\n");
	const result = spawnSync("node", ["--input-type=module", "-e", script], { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`the Moddable build of the ${name} suite failed:\n${result.stdout}${result.stderr}`);
	return join(root, "build", "moddable", "bin", "lin", variant, `suite-${name}`);
}
