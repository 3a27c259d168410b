/*
 * MQTT's UTF-8 string fields (topics, client id, user name, protocol name):
 * lengths on the wire are byte counts, and MQTT 3.1.1 section 1.5.3 forbids
 * U+0000 in them. Payloads, will payloads and passwords are binary data
 * (sections 3.3.3 and 3.1.3.5) and do not pass through here.
 */

import { Utf8Error, readUtf8, utf8Length } from "../platform/utf8.js";
import { MqttError, MqttErrorCode } from "./errors.js";

export { writeUtf8 } from "../platform/utf8.js";

function asMqttError(error: unknown): unknown {
	if (!(error instanceof Utf8Error)) return error;
	const message = error.message.startsWith("U+0000") ? "U+0000 is not allowed in an MQTT string" : error.message;
	return new MqttError(MqttErrorCode.INVALID_UTF8, message);
}

/** Byte length of an MQTT string field; MqttError INVALID_UTF8 on U+0000 or a lone surrogate. */
export function mqttStringLength(text: string): number {
	try {
		return utf8Length(text, true);
	}
	catch (error) {
		throw asMqttError(error);
	}
}

/** Decodes an MQTT string field from bytes[start, end); MqttError INVALID_UTF8 when it is not one. */
export function readMqttString(bytes: Uint8Array, start: number, end: number): string {
	try {
		return readUtf8(bytes, start, end, true);
	}
	catch (error) {
		throw asMqttError(error);
	}
}
