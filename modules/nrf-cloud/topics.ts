/*
 * Topic strings of the v1.5/v1.6 protocol. Shadow topics are built from the
 * client ID alone; the FOTA topics from the MQTT topic prefix the shadow gives
 * (its trailing slash separates prefix and ID); d2c and c2d are used exactly as
 * the shadow states them.
 */

export interface ShadowTopics {
	/** nRF Cloud's trimmed shadow, answer to a GET (subscribed). */
	readonly accepted: string;
	readonly rejected: string;
	readonly delta: string;
	readonly update: string;
	readonly get: string;
}

export interface FotaTopics {
	readonly receive: string;
	readonly request: string;
	readonly update: string;
	readonly bleReceive: string;
	readonly bleRequest: string;
	readonly bleUpdate: string;
}

export function shadowTopics(clientId: string): ShadowTopics {
	const thing = `$aws/things/${clientId}/shadow/`;
	return Object.freeze({
		accepted: `${clientId}/shadow/get/accepted`,
		rejected: `${thing}get/rejected`,
		delta: `${thing}update/delta`,
		update: `${thing}update`,
		get: `${thing}get`,
	});
}

export function fotaTopics(prefix: string, clientId: string): FotaTopics {
	const base = `${prefix}${clientId}/jobs/`;
	return Object.freeze({
		receive: `${base}rcv`,
		request: `${base}req`,
		update: `${base}update`,
		bleReceive: `${base}ble/rcv`,
		bleRequest: `${base}ble/req`,
		bleUpdate: `${base}ble/update`,
	});
}

/** Where an inbound PUBLISH belongs. */
export const Channel = Object.freeze({
	/** One of the three shadow subscriptions: control channel. */
	CONTROL: 0,
	/** A FOTA job document. */
	FOTA: 1,
	FOTA_BLE: 2,
	/** Anything else: data channel (c2d). */
	DATA: 3,
} as const);
export type ChannelValue = typeof Channel[keyof typeof Channel];

export function classifyTopic(topic: string, shadow: ShadowTopics, fota: FotaTopics | undefined): ChannelValue {
	if (topic === shadow.accepted || topic === shadow.rejected || topic === shadow.delta) return Channel.CONTROL;
	if (fota !== undefined) {
		if (topic === fota.receive) return Channel.FOTA;
		if (topic === fota.bleReceive) return Channel.FOTA_BLE;
	}
	return Channel.DATA;
}
