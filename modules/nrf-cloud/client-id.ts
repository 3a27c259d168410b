/*
 * The MQTT client ID from the configured source (CONFIG_NRF_CLOUD_CLIENT_ID_SRC_*):
 * prefix and IMEI, the device UUID of the modem's attestation token (NCS's
 * internal UUID), the compile-time ID or the one
 * given to init(); and the one check every client ID passes, since it becomes
 * part of the topic names.
 */

import { CLIENT_ID_MAX_LENGTH, Errno } from "./constants.js";
import { ClientIdSource, type ResolvedConfig } from "./config.js";

export interface ModemIdentity {
	imei(): string;
	/** The device UUID, 8-4-4-4-12 hex (modem/at deviceUuid()). */
	deviceUuid(): string;
}

/** A resolved ID, or why there is none: a negative errno and a sentence. */
export type ClientIdResult = { id: string } | { errno: number; reason: string };

/** The internal UUID as NCS v1.6 uses it for the client ID: hyphenated, lower case. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Characters that cannot appear in a client ID, which becomes part of topic names. */
const BAD_CLIENT_ID = /[^\x21-\x7E]|[+#/]/;

/** The check every client ID passes: at most 64 printable ASCII characters without '/', '+' or '#'. */
export function checkClientId(id: string): ClientIdResult {
	if (id.length > CLIENT_ID_MAX_LENGTH) return { errno: -Errno.ENOMEM, reason: `client ID of ${id.length} characters: topics allow at most ${CLIENT_ID_MAX_LENGTH}` };
	if (BAD_CLIENT_ID.test(id)) return { errno: -Errno.EINVAL, reason: "a client ID is printable ASCII without spaces, '/', '+' or '#'" };
	return { id };
}

function fromSource(config: ResolvedConfig, modem: ModemIdentity | undefined, runtimeId: unknown): ClientIdResult {
	switch (config.clientIdSource) {
		case ClientIdSource.IMEI:
			if (modem === undefined) return { errno: -Errno.ENOTSUP, reason: "the IMEI client ID needs a modem" };
			return { id: config.clientIdPrefix + modem.imei() };
		case ClientIdSource.INTERNAL_UUID: {
			if (modem === undefined) return { errno: -Errno.ENOTSUP, reason: "the internal UUID client ID needs a modem" };
			const id = modem.deviceUuid();
			if (!UUID.test(id)) return { errno: -Errno.EIO, reason: `the device UUID ${id} is not 8-4-4-4-12 lower-case hex digits` };
			return { id };
		}
		case ClientIdSource.COMPILE_TIME:
			return { id: config.clientId };
		default:
			if (typeof runtimeId !== "string" || runtimeId.length === 0)
				return { errno: -Errno.EINVAL, reason: "the run-time client ID source needs clientId in init()" };
			return { id: runtimeId };
	}
}

/** The client ID for `config`'s source, checked. A modem that fails to answer is -EIO. */
export function resolveClientId(config: ResolvedConfig, modem: ModemIdentity | undefined, runtimeId: unknown): ClientIdResult {
	let result: ClientIdResult;
	try {
		result = fromSource(config, modem, runtimeId);
	}
	catch (error) {
		return { errno: -Errno.EIO, reason: `reading the client ID from the modem failed: ${error instanceof Error ? error.message : String(error)}` };
	}
	return "id" in result ? checkClientId(result.id) : result;
}
