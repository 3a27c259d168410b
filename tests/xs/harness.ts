/*
 * A small test harness for suites that run inside XS on the simulator host:
 * test(name, fn) with sync or async bodies, assertions, and a report that the
 * Node wrappers parse (tests/support/xs-suite.ts):
 *
 *   # <suite>: <count> tests
 *   ok <name>
 *   not ok <name> # <error>
 *   <passed> passed, <failed> failed
 *
 * One line per test, in order, after the lines the test body printed. Names
 * carry colons, so " # " (which a name may not contain) separates the error.
 * The host exits 1 when anything failed.
 */

type Body = () => void | Promise<void>;
const tests: Array<{ name: string; body: Body }> = [];

/** Registers a test; a name must be unique and fit on one report line, as the wrappers find tests by name. */
export function test(name: string, body: Body): void {
	if (typeof name !== "string" || name.length === 0 || /[\r\n\t]/.test(name) || name.includes(" # "))
		throw new TypeError(`a test name is one line without " # ": ${JSON.stringify(name)}`);
	if (tests.some((t) => t.name === name)) throw new TypeError(`two tests are named ${JSON.stringify(name)}`);
	tests.push({ name, body });
}

export class AssertionError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "AssertionError";
	}
}

function show(value: unknown): string {
	if (value instanceof Uint8Array) return `Uint8Array[${hex(value)}]`;
	if (typeof value === "string") return JSON.stringify(value);
	try {
		return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? `bytes:${hex(v)}` : v)) ?? String(value);
	}
	catch {
		return String(value);
	}
}

export function hex(bytes: Uint8Array): string {
	let text = "";
	for (let i = 0; i < bytes.length; i++) text += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
	return text;
}

export function fromHex(text: string): Uint8Array {
	const out = new Uint8Array(text.length >> 1);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
	return out;
}

function deepEqual(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (a instanceof Uint8Array && b instanceof Uint8Array) {
		if (a.length !== b.length) return false;
		for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
		return true;
	}
	if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
	if (Array.isArray(a) !== Array.isArray(b)) return false;
	const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
	const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
	if (ka.length !== kb.length) return false;
	for (const key of ka) if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
	return true;
}

export const assert = {
	ok(value: unknown, message = "expected a truthy value"): void {
		if (!value) throw new AssertionError(message);
	},
	equal(actual: unknown, expected: unknown, message?: string): void {
		if (actual !== expected) throw new AssertionError(`${message ? message + ": " : ""}${show(actual)} !== ${show(expected)}`);
	},
	deepEqual(actual: unknown, expected: unknown, message?: string): void {
		if (!deepEqual(actual, expected)) throw new AssertionError(`${message ? message + ": " : ""}${show(actual)} differs from ${show(expected)}`);
	},
	throws(body: () => unknown, check: (error: unknown) => boolean, message?: string): void {
		try {
			body();
		}
		catch (error) {
			if (!check(error)) throw new AssertionError(`${message ? message + ": " : ""}unexpected error ${String(error)}`);
			return;
		}
		throw new AssertionError(`${message ? message + ": " : ""}nothing was thrown`);
	},
	async rejects(body: () => Promise<unknown>, check: (error: unknown) => boolean): Promise<void> {
		try {
			await body();
		}
		catch (error) {
			if (!check(error)) throw new AssertionError(`unexpected error ${String(error)}`);
			return;
		}
		throw new AssertionError("nothing was thrown");
	},
};

/** An error as one report line: newlines would split it into lines the wrappers take for output. */
function oneLine(error: unknown): string {
	const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
	return text.replace(/\r?\n/g, "\\n");
}

/**
 * Runs the registered tests in order; the host's exit status tells the outcome.
 * `onSuccess` replaces the exit when every test passed (a suite may end in a reboot).
 */
export async function run(suite: string, onSuccess?: () => void): Promise<void> {
	let passed = 0;
	let failed = 0;
	console.log(`# ${suite}: ${tests.length} tests`);
	for (const { name, body } of tests) {
		try {
			await body();
			passed++;
			console.log(`ok ${name}`);
		}
		catch (error) {
			failed++;
			console.log(`not ok ${name} # ${oneLine(error)}`);
		}
	}
	console.log(`${passed} passed, ${failed} failed`);
	if (failed === 0 && onSuccess) onSuccess();
	else exit(failed === 0 ? 0 : 1);
}

/*
 * The host functions a suite needs, in the form xsc binds directly, so the same
 * suite builds with the Moddable SDK as well (tests/support/moddable.ts).
 */

/** The app's arguments after the main module on the host's command line. */
export function simArgs(this: unknown): string[] {
	return native("xs_sim_args").call(this);
}

function exit(this: unknown, status: number): void {
	native("xs_sim_exit").call(this, status);
}
