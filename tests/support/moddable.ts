/*
 * The Moddable SDK's build of the host for tests: when $MODDABLE is set, tests
 * that take the switch run against it too; without it they are skipped with
 * the reason below, which node:test prints.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { moddableProgram } from "../../tools/device/main.js";

export const MODDABLE_SKIP: string | false = process.env.MODDABLE ? false : "skipped: MODDABLE not set";

/** Brings the Moddable build of `variant` up to date (mcconfig rebuilds only what changed); returns its program. */
export function ensureModdable(variant = "release"): string {
	const result = spawnSync("node", [join(process.cwd(), "tools", "build-moddable.mjs"), variant], { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`npm run build:moddable -- ${variant} failed:\n${result.stdout.slice(-4000)}${result.stderr.slice(-4000)}`);
	return moddableProgram(variant);
}
