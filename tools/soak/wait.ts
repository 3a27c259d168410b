/* The soak's waits: poll a condition, fail with what was awaited and what the devices said. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `condition` holds. `failure` is asked on each poll for a
 * reason to stop (a device that ended); `detail` says what was seen on timeout.
 */
export async function waitFor(what: string, condition: () => boolean, options: { timeoutMs: number; failure?: () => string | undefined; detail?: () => string }): Promise<void> {
	const deadline = Date.now() + options.timeoutMs;
	while (!condition()) {
		const failure = options.failure?.();
		if (failure !== undefined) throw new Error(failure);
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.detail ? `; ${options.detail()}` : ""}`);
		await sleep(50);
	}
}
