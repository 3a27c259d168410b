/*
 * The LTE link of the nRF9160: up with NCS's lte_lc_connect_async() and its
 * events, down with lte_lc_offline(). Registration statuses arrive on the XS
 * thread as they change; several changes between two deliveries arrive as the
 * latest one. In the simulator host the emulated network registers at once
 * (searching, then home).
 */

/** enum lte_lc_nw_reg_status (3GPP TS 27.007 +CEREG <stat>). */
export const RegistrationStatus = Object.freeze({
	NOT_REGISTERED: 0,
	REGISTERED_HOME: 1,
	SEARCHING: 2,
	REGISTRATION_DENIED: 3,
	UNKNOWN: 4,
	REGISTERED_ROAMING: 5,
	UICC_FAIL: 90,
} as const);

export interface LteConnectOptions {
	/** Called with each new registration status until offline() */
	onStatus: (status: number) => void;
}

function nativeConnect(this: unknown, onStatus: (status: number) => void): void {
	native("xs_lte_connect").call(this, onStatus);
}

function nativeOffline(this: unknown): void {
	native("xs_lte_offline").call(this);
}

function nativeStatus(this: unknown): number {
	return native("xs_lte_status").call(this);
}

/** Whether `status` lets the device use the network. */
export function isRegistered(status: number): boolean {
	return status === RegistrationStatus.REGISTERED_HOME || status === RegistrationStatus.REGISTERED_ROAMING;
}

/** Brings the link up without waiting; `onStatus` follows the registration. Throws an Error with `errno` when the modem refuses. */
export function connect(options: LteConnectOptions): void {
	if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
	if (typeof options.onStatus !== "function") throw new TypeError("onStatus must be a function");
	const { onStatus } = options;
	nativeConnect((status: number) => onStatus.call(options, status));
}

/** Takes the link down (functional mode 4: the modem keeps its SIM, credentials become writable); idempotent. */
export function offline(): void {
	nativeOffline();
}

/** The registration status now. */
export function status(): number {
	return nativeStatus();
}
