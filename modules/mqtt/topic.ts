/*
 * Topic names and filters (MQTT 3.1.1 section 4.7). Names carry no wildcards;
 * in filters "#" is only the whole last level and "+" only a whole level.
 */

import { MqttError, MqttErrorCode } from "./errors.js";

const PLUS = 0x2B;
const HASH = 0x23;
const SLASH = 0x2F;

function invalidTopic(message: string): MqttError {
	return new MqttError(MqttErrorCode.INVALID_TOPIC, message);
}

/** Throws INVALID_TOPIC unless `topic` may be used as a PUBLISH topic name. */
export function checkTopicName(topic: string): void {
	if (typeof topic !== "string") throw new TypeError("topic must be a string");
	if (topic.length === 0) throw invalidTopic("topic name is empty");
	for (let i = 0; i < topic.length; i++) {
		const c = topic.charCodeAt(i);
		if (c === PLUS || c === HASH) throw invalidTopic(`wildcard in topic name "${topic}"`);
	}
}

/** Throws INVALID_TOPIC unless `filter` is a well-formed subscription filter. */
export function checkTopicFilter(filter: string): void {
	if (typeof filter !== "string") throw new TypeError("topic filter must be a string");
	const length = filter.length;
	if (length === 0) throw invalidTopic("topic filter is empty");
	for (let i = 0; i < length; i++) {
		const c = filter.charCodeAt(i);
		if (c === HASH) {
			if (i !== length - 1 || (i > 0 && filter.charCodeAt(i - 1) !== SLASH))
				throw invalidTopic(`"#" must be the whole last level in "${filter}"`);
		}
		else if (c === PLUS) {
			if ((i > 0 && filter.charCodeAt(i - 1) !== SLASH) || (i < length - 1 && filter.charCodeAt(i + 1) !== SLASH))
				throw invalidTopic(`"+" must be a whole level in "${filter}"`);
		}
	}
}

/** Whether a topic name matches a (valid) filter; "$" topics only match filters that name the "$" level. */
export function topicMatches(filter: string, topic: string): boolean {
	let f = 0;
	let t = 0;
	const fl = filter.length;
	const tl = topic.length;
	if (tl > 0 && topic.charCodeAt(0) === 0x24 && fl > 0 && (filter.charCodeAt(0) === PLUS || filter.charCodeAt(0) === HASH))
		return false;
	while (f < fl) {
		const c = filter.charCodeAt(f);
		if (c === HASH) return true;
		if (c === PLUS) {
			while (t < tl && topic.charCodeAt(t) !== SLASH) t++;
			f++;
		}
		else {
			if (t >= tl || topic.charCodeAt(t) !== c) {
				// "a/#" also matches "a": the filter's "/#" may stand for nothing.
				return t === tl && c === SLASH && f + 2 === fl && filter.charCodeAt(f + 1) === HASH;
			}
			f++;
			t++;
		}
	}
	return t === tl;
}
