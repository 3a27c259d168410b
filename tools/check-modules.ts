/*
 * Fails the build when the module tree breaks one of its rules:
 * - a compiled module under build/modules imports anything but another project
 *   module or an ECMA-419 "embedded:" module (the same files run in XS on the
 *   device, where Node built-ins and npm packages do not exist);
 * - an import climbs the layers of LAYERS (each layer may import its own and
 *   the ones below it, never one above), or a module belongs to no layer;
 * - a native() call is not in a form mcconfig's xsc binds to the C function
 *   directly (see findUnoptimizedNatives; xsc would warn "cannot optimize native");
 * - git tracks a private key or emulated modem state.
 */

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

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

/**
 * The layers, bottom first. A module is named by its path under modules/
 * without extension; "dir/*" takes a whole directory. The first layer that
 * names a module is its layer.
 */
export const LAYERS: ReadonlyArray<{ name: string; modules: readonly string[] }> = [
	{ name: "platform", modules: ["platform/*"] },
	{ name: "platform bindings", modules: ["socket/*", "storage/*", "modem/*", "dfu/*"] },
	{ name: "MQTT codec", modules: ["mqtt/errors", "mqtt/packet", "mqtt/packet-id", "mqtt/topic", "mqtt/strings", "mqtt/codec", "mqtt/encoder", "mqtt/decoder", "mqtt/typescript-codec", "mqtt/native-codec"] },
	{ name: "MQTT session", modules: ["mqtt/client"] },
	{ name: "HTTP download", modules: ["http/*"] },
	{ name: "nRF Cloud definitions", modules: ["nrf-cloud/constants", "nrf-cloud/topics", "nrf-cloud/config", "nrf-cloud/transport-events", "nrf-cloud/packet-ids", "nrf-cloud/queue-record"] },
	{ name: "JSON codecs", modules: ["nrf-cloud/codec"] },
	{ name: "nRF Cloud transport", modules: ["nrf-cloud/settings", "nrf-cloud/connect-failure", "nrf-cloud/disconnect-status", "nrf-cloud/poll-gate", "nrf-cloud/pipeline", "nrf-cloud/transport"] },
	{ name: "state machine", modules: ["nrf-cloud/fsm"] },
	{ name: "delivery", modules: ["nrf-cloud/queue-store", "nrf-cloud/offline-queue", "nrf-cloud/reconnect"] },
	{ name: "FOTA", modules: ["fota/*"] },
	{ name: "API", modules: ["nrf-cloud/client-id", "nrf-cloud/api"] },
	{ name: "device binding", modules: ["nrf-cloud/device"] },
	{ name: "Cloud API", modules: ["cloud/*"] },
];

/** The index in LAYERS of module `name` ("mqtt/client"), or -1. */
export function layerOf(name: string, layers = LAYERS): number {
	const directory = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) + "/*" : undefined;
	return layers.findIndex((layer) => layer.modules.includes(name) || (directory !== undefined && layer.modules.includes(directory)));
}

function moduleName(base: string, file: string): string {
	return relative(base, file).split(sep).join("/").replace(/\.js$/, "");
}

/** Imports that climb from a lower layer to a higher one, and modules in no layer. */
export function findUpwardImports(root: string, layers = LAYERS): ImportProblem[] {
	const problems: ImportProblem[] = [];
	const base = resolve(root);
	for (const file of javascriptFiles(base)) {
		const where = relative(process.cwd(), file);
		const from = moduleName(base, file);
		const fromLayer = layerOf(from, layers);
		if (fromLayer < 0) {
			problems.push({ file: where, specifier: from, reason: "module is in no layer (add it to LAYERS in tools/check-modules.ts)" });
			continue;
		}
		for (const match of readFileSync(file, "utf8").matchAll(IMPORT_PATTERN)) {
			const specifier = match[1] ?? match[2];
			if (specifier === undefined || !(specifier.startsWith("./") || specifier.startsWith("../"))) continue;
			const target = resolve(dirname(file), specifier);
			if (!target.startsWith(base + sep)) continue;
			const to = moduleName(base, target);
			const toLayer = layerOf(to, layers);
			if (toLayer > fromLayer)
				problems.push({ file: where, specifier, reason: `climbs from ${layers[fromLayer]!.name} (${from}) up to ${layers[toLayer]!.name} (${to})` });
		}
	}
	return problems;
}

/** A PEM private key, in a file or in a string literal with "\\n" escapes. */
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:\r?\n|\\n)((?:[A-Za-z0-9+/=]|\r?\n|\\n)+?)-----END \1PRIVATE KEY-----/g;
/** What the emulated modem writes into its state directory. */
const MODEM_STATE = /(^|\/)(sectag\/\d+\/\d+\.pem|cfun|cmee)$/;

/**
 * Tracked files that hold a private key (a PEM block long enough to be a real
 * key: an EC P-256 key is 121 bytes) or emulated modem state. `files` are
 * paths relative to `root`; by default the files git tracks there.
 */
export function findTrackedSecrets(root: string, files = trackedFiles(root)): ImportProblem[] {
	const problems: ImportProblem[] = [];
	for (const file of files) {
		if (MODEM_STATE.test(file)) {
			problems.push({ file, specifier: file, reason: "emulated modem state is tracked by git" });
			continue;
		}
		let text: string;
		try {
			text = readFileSync(join(root, file), "latin1");
		}
		catch {
			continue;
		}
		for (const match of text.matchAll(PRIVATE_KEY)) {
			const body = match[2]!.replace(/\\n|[\r\n=]/g, "");
			if (body.length * 3 / 4 >= 32) {
				problems.push({ file, specifier: `${match[1] ?? ""}PRIVATE KEY`, reason: "a private key is tracked by git" });
				break;
			}
		}
	}
	return problems;
}

function trackedFiles(root: string): string[] {
	const result = spawnSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" });
	if (result.status !== 0) throw new Error(`git ls-files failed in ${root}: ${result.stderr.trim()}`);
	return result.stdout.split("\0").filter((path) => path.length > 0);
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

/**
 * The forms of native() that the SDK's xsc compiles into the C function itself
 * (xsSyntaxical.c, fxCheckNativeFunction); any other use makes xsc warn
 * "cannot optimize native" and costs a JavaScript frame per call:
 * - a function, method, getter or setter whose whole body is
 *   `return native("name").call(this, a, b);` or `native("name").call(this, a, b);`
 *   with plain parameters `(a, b)` passed in the same order (`...rest` as `...rest`);
 * - the constructor of a class that extends `Native("destructor")` directly,
 *   whose whole body is `super(); native("name").call(this, a, b);`.
 * Both take exactly one string literal, as does Native().
 */
export function findUnoptimizedNatives(file: string, source = readFileSync(file, "utf8")): ImportProblem[] {
	const problems: ImportProblem[] = [];
	const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
	const where = relative(process.cwd(), file);
	const line = (node: ts.Node) => tree.getLineAndCharacterOfPosition(node.getStart(tree)).line + 1;
	const report = (node: ts.Node, reason: string) => problems.push({ file: `${where}:${line(node)}`, specifier: node.getText(tree).split("\n")[0]!, reason });
	const isCallOf = (node: ts.Node, name: string): node is ts.CallExpression =>
		ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name;
	const singleString = (call: ts.CallExpression) => call.arguments.length === 1 && ts.isStringLiteral(call.arguments[0]!);
	/** Whether `statement` is `[return] native("x").call(this, ...parameters)` for the function's own parameters. */
	const isBindingStatement = (statement: ts.Statement, fn: ts.FunctionLikeDeclaration, returnAllowed: boolean): boolean => {
		const expression = ts.isReturnStatement(statement) && returnAllowed ? statement.expression : ts.isExpressionStatement(statement) ? statement.expression : undefined;
		if (expression === undefined || !ts.isCallExpression(expression)) return false;
		const callee = expression.expression;
		if (!ts.isPropertyAccessExpression(callee) || callee.name.text !== "call" || !isCallOf(callee.expression, "native")) return false;
		const [self, ...rest] = expression.arguments;
		if (self === undefined || self.kind !== ts.SyntaxKind.ThisKeyword) return false;
		const parameters = fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === "this"));
		if (rest.length !== parameters.length) return false;
		return parameters.every((parameter, i) => {
			const argument = rest[i]!;
			if (!ts.isIdentifier(parameter.name) || parameter.initializer !== undefined) return false;
			const passed = parameter.dotDotDotToken ? (ts.isSpreadElement(argument) ? argument.expression : undefined) : argument;
			return passed !== undefined && ts.isIdentifier(passed) && passed.text === parameter.name.text;
		});
	};
	const isOptimizable = (call: ts.CallExpression): boolean => {
		let fn: ts.Node | undefined = call.parent;
		while (fn !== undefined && !ts.isFunctionLike(fn)) fn = fn.parent;
		if (fn === undefined || ts.isArrowFunction(fn)) return false;
		const declaration = fn as ts.FunctionLikeDeclaration;
		const statements = declaration.body !== undefined && ts.isBlock(declaration.body) ? declaration.body.statements : undefined;
		if (statements === undefined) return false;
		if (ts.isConstructorDeclaration(declaration)) {
			const heritage = declaration.parent.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
			if (heritage === undefined || !isCallOf(heritage, "Native") || statements.length !== 2) return false;
			const first = statements[0]!;
			const isSuper = ts.isExpressionStatement(first) && ts.isCallExpression(first.expression)
				&& first.expression.expression.kind === ts.SyntaxKind.SuperKeyword && first.expression.arguments.length === 0;
			return isSuper && isBindingStatement(statements[1]!, declaration, true);
		}
		return statements.length === 1 && isBindingStatement(statements[0]!, declaration, true);
	};
	const visit = (node: ts.Node): void => {
		if (isCallOf(node, "Native") && !singleString(node)) report(node, "Native() takes one string literal");
		if (isCallOf(node, "native")) {
			if (!singleString(node)) report(node, "native() takes one string literal");
			else if (!isOptimizable(node)) report(node, 'not in a form xsc binds directly: the whole body must be `[return] native("name").call(this, ...parameters)` (or `super(); native(...)...` in a constructor of a class extending Native())');
		}
		ts.forEachChild(node, visit);
	};
	visit(tree);
	return problems;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const root = process.argv[2] ?? "build/modules";
	const imports = [...findForbiddenImports(root), ...findUpwardImports(root)];
	for (const p of imports) console.error(`${p.file}: imports "${p.specifier}": ${p.reason}`);
	const natives = javascriptFiles(resolve(root)).flatMap((file) => findUnoptimizedNatives(file));
	for (const p of natives) console.error(`${p.file}: ${p.specifier}: ${p.reason}`);
	const secrets = findTrackedSecrets(".");
	for (const p of secrets) console.error(`${p.file}: ${p.reason}`);
	if (imports.length + natives.length + secrets.length > 0) {
		console.error(`check-modules: ${imports.length} import problem(s) and ${natives.length} native() binding(s) xsc cannot optimize in ${root}, ${secrets.length} tracked secret(s)`);
		process.exit(1);
	}
	console.log(`check-modules: ${root} imports only project and embedded: modules, each layer only its own and lower ones; every native() in a form xsc binds directly; git tracks no private key or modem state`);
}
