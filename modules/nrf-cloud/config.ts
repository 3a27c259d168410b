/*
 * The library's configuration: the counterpart of its Kconfig options, with
 * the C defaults (NCS v1.6). Checked once, when the library is created; a bad
 * value throws there, never later.
 */

export const ClientIdSource = Object.freeze({
	/** CONFIG_NRF_CLOUD_CLIENT_ID_SRC_IMEI: prefix + IMEI (AT+CGSN). */
	IMEI: "imei",
	/** CONFIG_NRF_CLOUD_CLIENT_ID_SRC_INTERNAL_UUID: the device UUID of the modem's attestation token (AT%ATTESTTOKEN, modem firmware 1.3.0+). */
	INTERNAL_UUID: "internal-uuid",
	/** CONFIG_NRF_CLOUD_CLIENT_ID_SRC_COMPILE_TIME: `clientId` of this configuration. */
	COMPILE_TIME: "compile-time",
	/** CONFIG_NRF_CLOUD_CLIENT_ID_SRC_RUNTIME: the ID given to init(). */
	RUNTIME: "runtime",
} as const);
export type ClientIdSourceValue = typeof ClientIdSource[keyof typeof ClientIdSource];

export interface NrfCloudConfig {
	/** CONFIG_NRF_CLOUD_HOST_NAME. */
	host?: string;
	/** CONFIG_NRF_CLOUD_PORT. */
	port?: number;
	/** Name for SNI and the server certificate check; default: host. */
	hostname?: string;
	/** CONFIG_NRF_CLOUD_SEC_TAG: CA, certificate and key live in this modem security tag. */
	secTag?: number;
	/** CONFIG_MQTT_KEEPALIVE, seconds. */
	keepalive?: number;
	clientIdSource?: ClientIdSourceValue;
	/** CONFIG_NRF_CLOUD_CLIENT_ID_PREFIX (IMEI source). */
	clientIdPrefix?: string;
	/** CONFIG_NRF_CLOUD_CLIENT_ID (compile-time source). */
	clientId?: string;
	/** !CONFIG_MQTT_CLEAN_SESSION: ask the broker to keep the session. */
	persistentSession?: boolean;
	/** CONFIG_NRF_CLOUD_CONNECTION_POLL_THREAD: the library watches the socket itself. */
	pollThread?: boolean;
	/** CONFIG_NRF_CLOUD_MQTT_MESSAGE_BUFFER_LEN: room for packet headers and topics. */
	messageBufferLength?: number;
	/** CONFIG_NRF_CLOUD_MQTT_PAYLOAD_BUFFER_LEN: larger inbound payloads end the connection. */
	payloadBufferLength?: number;
	/** CONFIG_NRF_CLOUD_FOTA: subscribe to FOTA jobs and ask for one after connecting. */
	fota?: boolean;
	/** CONFIG_NRF_CLOUD_FOTA_BLE_DEVICES. */
	fotaBle?: boolean;
	/** CONFIG_NRF_CLOUD_FOTA_DOWNLOAD_FRAGMENT_SIZE: bytes per HTTP range request, 128 to 1700. */
	fotaFragmentSize?: number;
	/** CONFIG_NRF_CLOUD_FOTA_PROGRESS_PCT_INCREMENT: percent between progress reports, 0 to 100 (0: none between 0 and 100). */
	progressPercentIncrement?: number;
	/** The FOTA types the device takes ("APP", "MODEM", "BOOT"), listed in serviceInfo.fota_v2; jobs of others are REJECTED. */
	fotaTypes?: readonly string[];
	/**
	 * Send requests that do not depend on each other's answers together instead
	 * of one per round trip (shadow SUBSCRIBE and GET with CONNECT; c2d and FOTA
	 * SUBSCRIBE and the job request with the paired report). The packets and
	 * their order are the C library's; false waits for each answer as it does.
	 */
	pipeline?: boolean;
	/** Accept the input-sequence (button) association of nrf_cloud_user_associate. */
	legacyAssociation?: boolean;
	/** Diagnostic lines (the C library's LOG_*). */
	log?: (line: string) => void;
}

export interface ResolvedConfig {
	host: string;
	port: number;
	hostname: string;
	secTag: number;
	keepalive: number;
	clientIdSource: ClientIdSourceValue;
	clientIdPrefix: string;
	clientId: string;
	persistentSession: boolean;
	pollThread: boolean;
	messageBufferLength: number;
	payloadBufferLength: number;
	fota: boolean;
	fotaBle: boolean;
	fotaFragmentSize: number;
	progressPercentIncrement: number;
	fotaTypes: readonly string[];
	pipeline: boolean;
	legacyAssociation: boolean;
	log: (line: string) => void;
}

export const DEFAULT_HOST = "a2n7tk1kp18wix-ats.iot.us-east-1.amazonaws.com";
export const DEFAULT_SEC_TAG = 16842753;

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
	if (value === undefined) return fallback;
	if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
		throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
	return value;
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
	if (value === undefined) return fallback;
	if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean`);
	return value;
}

function text(value: unknown, name: string, fallback: string, allowEmpty = false): string {
	if (value === undefined) return fallback;
	if (typeof value !== "string" || (!allowEmpty && value.length === 0)) throw new TypeError(`${name} must be a ${allowEmpty ? "" : "non-empty "}string`);
	return value;
}

function ignore(): void {
	// No log sink configured.
}

const FOTA_TYPES: readonly string[] = ["APP", "MODEM", "BOOT"];

function fotaTypes(value: unknown): readonly string[] {
	if (value === undefined) return FOTA_TYPES;
	if (!Array.isArray(value) || !value.every((type) => typeof type === "string")) throw new TypeError("fotaTypes must be an array of strings");
	for (const type of value) if (!FOTA_TYPES.includes(type)) throw new RangeError(`fotaTypes may hold ${FOTA_TYPES.join(", ")}, not ${type}`);
	// In the order nRF Cloud numbers them, once each.
	return Object.freeze(FOTA_TYPES.filter((type) => value.includes(type)));
}

export function resolveConfig(config: NrfCloudConfig | undefined): ResolvedConfig {
	const c = config ?? {};
	if (c === null || typeof c !== "object") throw new TypeError("config must be an object");
	const host = text(c.host, "host", DEFAULT_HOST);
	const source = c.clientIdSource ?? ClientIdSource.IMEI;
	if (!Object.values(ClientIdSource).includes(source)) throw new RangeError(`clientIdSource must be one of ${Object.values(ClientIdSource).join(", ")}`);
	if (c.log !== undefined && typeof c.log !== "function") throw new TypeError("log must be a function");
	return {
		host,
		port: integer(c.port, "port", 8883, 1, 65535),
		hostname: text(c.hostname, "hostname", host),
		secTag: integer(c.secTag, "secTag", DEFAULT_SEC_TAG, 0, 2147483647),
		keepalive: integer(c.keepalive, "keepalive", 60, 0, 65535),
		clientIdSource: source,
		clientIdPrefix: text(c.clientIdPrefix, "clientIdPrefix", "nrf-", true),
		clientId: text(c.clientId, "clientId", "my-client-id"),
		persistentSession: flag(c.persistentSession, "persistentSession", true),
		pollThread: flag(c.pollThread, "pollThread", false),
		messageBufferLength: integer(c.messageBufferLength, "messageBufferLength", 256, 64, 65535),
		payloadBufferLength: integer(c.payloadBufferLength, "payloadBufferLength", 2048, 64, 1 << 20),
		fota: flag(c.fota, "fota", true),
		fotaBle: flag(c.fotaBle, "fotaBle", false),
		fotaFragmentSize: integer(c.fotaFragmentSize, "fotaFragmentSize", 1700, 128, 1700),
		progressPercentIncrement: integer(c.progressPercentIncrement, "progressPercentIncrement", 10, 0, 100),
		fotaTypes: fotaTypes(c.fotaTypes),
		pipeline: flag(c.pipeline, "pipeline", true),
		legacyAssociation: flag(c.legacyAssociation, "legacyAssociation", false),
		log: c.log ?? ignore,
	};
}
