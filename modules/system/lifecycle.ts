/*
 * The app's life on its host: a request to stop, and the app's own end.
 *
 * The simulator host turns SIGINT and SIGTERM (from its supervisor, or Ctrl-C)
 * into one call of the stop callback on the XS thread, so the app can leave
 * the cloud cleanly (DISCONNECT) before it ends with exit(). A second signal
 * ends the host at once. An nRF9160 is never asked to stop (its power is cut):
 * the callback is accepted and never called there, and exit() is a cold reset.
 */

/** The C binding alone: each is exactly one native call, which xsc binds directly. */
function nativeOnStop(this: unknown, callback: () => void): void {
	native("xs_lifecycle_on_stop").call(this, callback);
}

function nativeExit(this: unknown, status: number): void {
	native("xs_lifecycle_exit").call(this, status);
}

/**
 * Registers the app's one stop callback. A preloaded module's variables are
 * frozen, so the binding, not this module, refuses a second registration (the
 * simulator host throws; an nRF9160 keeps none).
 */
export function onStopRequest(callback: () => void): void {
	if (typeof callback !== "function") throw new TypeError("onStopRequest takes a function");
	nativeOnStop(callback);
}

/** Ends the app with `status` (0 to 255): the simulator host exits, an nRF9160 resets. */
export function exit(status = 0): void {
	if (!Number.isInteger(status) || status < 0 || status > 255) throw new RangeError("exit status must be a whole number from 0 to 255");
	nativeExit(status);
}
