/*
 * The one wait of the test suites: polls a predicate until it gives a value,
 * and on timeout says what it was waiting for (and, with `detail`, what it saw
 * instead), so that a hanging test fails with a reason rather than a bare
 * timeout. It uses only setTimeout and Date.now, so the XS suites in the
 * simulator host import it as well as the Node tests.
 *
 * A check that something does NOT happen must not be an until() that is
 * expected to time out, nor a fixed sleep: wait for a later, positive signal
 * that proves the system has gone past the point where it would have happened.
 */

export interface UntilOptions {
	/** What is awaited, as the timeout message names it: "the READY event", "3 PUBACKs". */
	what: string;
	/** Milliseconds before giving up; 5000 unless given. */
	timeout?: number;
	/** Milliseconds between polls; 10 unless given. */
	interval?: number;
	/** The state seen when the wait timed out, appended to the message. */
	detail?: () => string;
}

/** The truthy values a predicate can give. */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | "">;

/**
 * Resolves with the first truthy value `predicate` returns (sync or async).
 * An exception from the predicate ends the wait at once with that exception.
 */
export async function until<T>(predicate: () => T | Promise<T>, options: UntilOptions): Promise<Truthy<T>> {
	const timeout = options.timeout ?? 5000;
	const interval = options.interval ?? 10;
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = await predicate();
		if (value) return value as Truthy<T>;
		if (Date.now() > deadline) {
			const detail = options.detail ? `; ${options.detail()}` : "";
			throw new Error(`timed out after ${timeout} ms waiting for ${options.what}${detail}`);
		}
		await new Promise<void>((resolve) => setTimeout(resolve, interval));
	}
}
