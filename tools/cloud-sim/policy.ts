/*
 * Per-device authorization as nRF Cloud's AWS IoT policies grant it: a device
 * reaches only its own shadow topics, and once associated (from its next
 * connection on, as AWS attaches the broader policy) its message and FOTA topics.
 */

export interface DevicePolicy {
	canPublish(topic: string): boolean;
	canSubscribe(filter: string): boolean;
}

export function devicePolicy(deviceId: string, topicPrefix: string | null): DevicePolicy {
	const shadow = `$aws/things/${deviceId}/shadow/`;
	const publish = new Set([`${shadow}get`, `${shadow}update`]);
	const subscribe = new Set([
		`${deviceId}/shadow/get/accepted`,
		`${shadow}get/accepted`, `${shadow}get/rejected`,
		`${shadow}update/accepted`, `${shadow}update/rejected`, `${shadow}update/delta`, `${shadow}update/documents`,
	]);
	let messagePrefix: string | null = null;
	if (topicPrefix !== null) {
		messagePrefix = `${topicPrefix}m/d/${deviceId}/`;
		for (const suffix of ["jobs/req", "jobs/update", "jobs/ble/req", "jobs/ble/update"]) publish.add(`${topicPrefix}${deviceId}/${suffix}`);
		for (const suffix of ["jobs/rcv", "jobs/ble/rcv"]) subscribe.add(`${topicPrefix}${deviceId}/${suffix}`);
		subscribe.add(`${messagePrefix}c2d`);
		subscribe.add(`${messagePrefix}+/r`);
	}
	return {
		canPublish: (topic) => publish.has(topic) || (messagePrefix !== null && topic.startsWith(messagePrefix) && !topic.endsWith("/c2d")),
		canSubscribe: (filter) => subscribe.has(filter),
	};
}
