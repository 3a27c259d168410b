/*
 * The nRF Cloud messages of the tracker that the library's sensor API does
 * not make: the LED card's DATA answer, and reading the LED CFG_SET message
 * the cloud sends on the c2d topic.
 */

/** `{"appId":"LED","messageType":"DATA","data":{"state":0|1}}` */
export function ledData(state: number): string {
	return JSON.stringify({ appId: "LED", messageType: "DATA", data: { state } });
}

/** The state of an LED CFG_SET message (`{"appId":"LED","messageType":"CFG_SET","data":{"state":0|1}}`); undefined for any other payload. */
export function ledCommand(payload: Uint8Array | undefined): number | undefined {
	if (payload === undefined) return undefined;
	let text = "";
	for (const byte of payload) {
		// The message is JSON of ASCII; anything else is not an LED command.
		if (byte > 0x7e) return undefined;
		text += String.fromCharCode(byte);
	}
	let message: unknown;
	try {
		message = JSON.parse(text);
	}
	catch {
		return undefined;
	}
	if (message === null || typeof message !== "object") return undefined;
	const { appId, messageType, data } = message as { appId?: unknown; messageType?: unknown; data?: unknown };
	if (appId !== "LED" || messageType !== "CFG_SET" || data === null || typeof data !== "object") return undefined;
	const state = (data as { state?: unknown }).state;
	return state === 0 || state === 1 ? state : undefined;
}
