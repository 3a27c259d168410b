/*
 * The C bindings report Zephyr errno values from native/common/zephyr-errno.h and
 * JavaScript compares them with modules/platform/errno.ts: both must list the
 * same names with the same numbers. The check itself is shown to fail.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Errno } from "../modules/platform/errno.js";
import { root } from "./support/sim.js";

/** NAME -> value of every `#define ZEPHYR_NAME value` in a header. */
function headerErrnos(text: string): Map<string, number> {
	const found = new Map<string, number>();
	for (const match of text.matchAll(/^#define ZEPHYR_(E[A-Z]+) (\d+)$/gm)) found.set(match[1]!, Number(match[2]));
	return found;
}

function differences(header: Map<string, number>, table: Readonly<Record<string, number>>): string[] {
	const problems: string[] = [];
	for (const [name, value] of Object.entries(table)) {
		if (!header.has(name)) problems.push(`${name} missing from the header`);
		else if (header.get(name) !== value) problems.push(`${name} is ${header.get(name)} in the header, ${value} in errno.ts`);
	}
	for (const name of header.keys()) if (!(name in table)) problems.push(`${name} is not in errno.ts`);
	return problems;
}

test("zephyr-errno.h and errno.ts give every errno the same number", () => {
	const header = headerErrnos(readFileSync(join(root, "native", "common", "zephyr-errno.h"), "utf8"));
	assert.ok(header.size >= 20, `only ${header.size} errno definitions found`);
	assert.deepEqual(differences(header, Errno), []);
});

test("the comparison finds a wrong, a missing and an extra number", () => {
	const header = headerErrnos("#define ZEPHYR_EIO 5\n#define ZEPHYR_ECONNREFUSED 111\n#define ZEPHYR_EBOGUS 9\n");
	assert.deepEqual(differences(header, { EIO: 5, ECONNREFUSED: 61, ENOMEM: 12 }), [
		"ECONNREFUSED is 111 in the header, 61 in errno.ts",
		"ENOMEM missing from the header",
		"EBOGUS is not in errno.ts",
	]);
});
