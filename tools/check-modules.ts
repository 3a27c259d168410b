/*
 * Fails the build when a compiled module under build/modules imports anything
 * but another project module or an ECMA-419 "embedded:" module: the same files
 * run in XS on the device, where Node built-ins and npm packages do not exist.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface ImportProblem {
	file: string;
	specifier: string;
	reason: string;
}

const IMPORT_PATTERN = /\b(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\brequire\s*\(\s*["']([^"']+)["']\s*\)/g;
const BUILTINS = new Set(builtinModules);

function javascriptFiles(dir: string): string[] {
	const files: string[] = [];
	for (const name of readdirSync(dir)) {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) files.push(...javascriptFiles(path));
		else if (name.endsWith(".js")) files.push(path);
	}
	return files;
}

export function findForbiddenImports(root: string): ImportProblem[] {
	const problems: ImportProblem[] = [];
	const base = resolve(root);
	for (const file of javascriptFiles(base)) {
		const source = readFileSync(file, "utf8");
		for (const match of source.matchAll(IMPORT_PATTERN)) {
			const specifier = (match[1] ?? match[2] ?? match[3])!;
			const where = relative(process.cwd(), file);
			if (match[3] !== undefined) {
				problems.push({ file: where, specifier, reason: "require() is not available in XS" });
			}
			else if (specifier.startsWith("node:") || BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]!)) {
				problems.push({ file: where, specifier, reason: "Node built-in" });
			}
			else if (specifier.startsWith("./") || specifier.startsWith("../")) {
				const target = resolve(dirname(file), specifier);
				if (target !== base && !target.startsWith(base + sep))
					problems.push({ file: where, specifier, reason: "relative import leaves modules/" });
			}
			else if (!specifier.startsWith("embedded:")) {
				problems.push({ file: where, specifier, reason: "package import (modules may import only modules/ and embedded:*)" });
			}
		}
	}
	return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const root = process.argv[2] ?? "build/modules";
	const problems = findForbiddenImports(root);
	for (const p of problems) console.error(`${p.file}: imports "${p.specifier}": ${p.reason}`);
	if (problems.length > 0) {
		console.error(`check-modules: ${problems.length} forbidden import(s) in ${root}`);
		process.exit(1);
	}
	console.log(`check-modules: ${root} imports nothing but project and embedded: modules`);
}
