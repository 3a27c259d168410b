/*
 * Per-device authorization as nRF Cloud's AWS IoT policies grant it: a device
 * reaches only its own shadow topics, and once associated (from its next
 * connection on, as AWS attaches the broader policy) its message and FOTA topics.
 * One set of rules, enforced by the embedded broker and written as a Mosquitto ACL.
 */

export interface PolicyTopics {
	/** Topics the device may publish to. */
	publish: string[];
	/** Filters the device may subscribe to. */
	subscribe: string[];
	/** Associated devices may also publish to any topic under this prefix but its c2d topic; null before association. */
	messagePrefix: string | null;
}

export interface DevicePolicy {
	canPublish(topic: string): boolean;
	canSubscribe(filter: string): boolean;
}

/** The rules for `deviceId` (which may be a placeholder such as Mosquitto's "%u"). */
export function policyTopics(deviceId: string, topicPrefix: string | null): PolicyTopics {
	const shadow = `$aws/things/${deviceId}/shadow/`;
	const publish = [`${shadow}get`, `${shadow}update`];
	const subscribe = [
		`${deviceId}/shadow/get/accepted`,
		`${shadow}get/accepted`, `${shadow}get/rejected`,
		`${shadow}update/accepted`, `${shadow}update/rejected`, `${shadow}update/delta`, `${shadow}update/documents`,
	];
	if (topicPrefix === null) return { publish, subscribe, messagePrefix: null };
	const messagePrefix = `${topicPrefix}m/d/${deviceId}/`;
	for (const suffix of ["jobs/req", "jobs/update", "jobs/ble/req", "jobs/ble/update"]) publish.push(`${topicPrefix}${deviceId}/${suffix}`);
	for (const suffix of ["jobs/rcv", "jobs/ble/rcv"]) subscribe.push(`${topicPrefix}${deviceId}/${suffix}`);
	subscribe.push(`${messagePrefix}c2d`, `${messagePrefix}+/r`);
	return { publish, subscribe, messagePrefix };
}

export function devicePolicy(deviceId: string, topicPrefix: string | null): DevicePolicy {
	const topics = policyTopics(deviceId, topicPrefix);
	const publish = new Set(topics.publish);
	const subscribe = new Set(topics.subscribe);
	const messagePrefix = topics.messagePrefix;
	return {
		canPublish: (topic) => publish.has(topic) || (messagePrefix !== null && topic.startsWith(messagePrefix) && !topic.endsWith("/c2d")),
		canSubscribe: (filter) => subscribe.has(filter),
	};
}

/**
 * The device a topic it may publish to belongs to: each such topic names the device
 * (`$aws/things/<id>/…`, `<prefix>m/d/<id>/…`, `<prefix><id>/jobs/…`). Undefined
 * for topics of no device.
 */
export function publishingDevice(topic: string, topicPrefix: string): string | undefined {
	if (topic.startsWith("$aws/things/")) return topic.split("/")[2] || undefined;
	if (!topic.startsWith(topicPrefix)) return undefined;
	const levels = topic.slice(topicPrefix.length).split("/");
	if (levels[0] === "m") return levels[1] === "d" ? levels[2] || undefined : undefined;
	return levels[0] || undefined;
}
