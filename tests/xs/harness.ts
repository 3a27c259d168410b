/*
 * A small test harness for suites that run inside XS on the simulator host:
 * test(name, fn) with sync or async bodies, assertions, and a report whose last
 * line is "N passed, M failed"; the host exits 1 when anything failed.
 */

type Body = () => void | Promise<void>;
const tests: Array<{ name: string; body: Body }> = [];

export function test(name: string, body: Body): void {
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

export function delay(milliseconds: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/**
 * Runs the registered tests in order; the host's exit status tells the outcome.
 * `onSuccess` replaces the exit when every test passed (a suite may end in a reboot).
 */
export async function run(suite: string, onSuccess?: () => void): Promise<void> {
	let passed = 0;
	let failed = 0;
	for (const { name, body } of tests) {
		try {
			await body();
			passed++;
			console.log(`ok - ${suite}: ${name}`);
		}
		catch (error) {
			failed++;
			const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
			console.log(`not ok - ${suite}: ${name}: ${detail}`);
		}
	}
	console.log(`${passed} passed, ${failed} failed`);
	if (failed === 0 && onSuccess) onSuccess();
	else native("xs_sim_exit")(failed === 0 ? 0 : 1);
}
