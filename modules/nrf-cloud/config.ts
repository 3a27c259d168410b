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
	/**
	 * On a connection that asks to resume the MQTT session, send the paired
	 * report of the device's last confirmed pairing with CONNECT and the GET,
	 * before the shadow confirms it again, so that READY comes one round trip
	 * earlier (docs/protocol.md §1.7.4). A shadow that says otherwise is
	 * answered as always, and its report follows the early one. Needs
	 * `pipeline`; not with `legacyAssociation`. Off: v1.6's order.
	 */
	pairedReportAhead?: boolean;
	/** Accept the input-sequence (button) association of nrf_cloud_user_associate. */
	legacyAssociation?: boolean;
	/**
	 * Largest inbound MQTT packet in bytes, refused from its fixed header before
	 * its body is read; default payloadBufferLength + messageBufferLength, what
	 * the device's buffers hold (docs/protocol.md §1.3).
	 */
	maxIncomingPacket?: number;
	/** Queue QoS 1 sends while not READY and keep them until PUBACK (docs/protocol.md §12); absent: v1.6's -EACCES. */
	offlineQueue?: OfflineQueueConfig;
	/** Reconnect by itself with exponential backoff and full jitter (docs/protocol.md §13); absent: the application reconnects, as in v1.6. */
	reconnect?: ReconnectConfig;
	/** Diagnostic lines (the C library's LOG_*). */
	log?: (line: string) => void;
}

export interface OfflineQueueConfig {
	/** Messages queued at most, 1 to 65535. */
	messages: number;
	/** Payload bytes queued at most, 1 to 16 MiB. */
	bytes: number;
	/** Keep the queue in the settings store so that it survives a restart. */
	persist: boolean;
	/** Unacknowledged queue publishes at once, 1 to 8 (the MQTT client allows 16 in all); default 4. */
	maxInFlight?: number;
	/** Queue publishes per second at most, 1 to 99 (the cloud allows 100); default 50. */
	perSecond?: number;
}

export interface ReconnectConfig {
	/** Backoff base in ms, 1 to 3600000: the n-th retry waits a random time in [0, min(maxMs, minMs·2^n)]. */
	minMs: number;
	/** Backoff cap in ms, minMs to 86400000. */
	maxMs: number;
	/** A READY that lasted this long (ms, default 60000) resets the backoff. */
	stableMs?: number;
}

export interface ResolvedOfflineQueue {
	messages: number;
	bytes: number;
	persist: boolean;
	maxInFlight: number;
	perSecond: number;
}

export interface ResolvedReconnect {
	minMs: number;
	maxMs: number;
	stableMs: number;
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
	pairedReportAhead: boolean;
	legacyAssociation: boolean;
	maxIncomingPacket: number;
	offlineQueue: ResolvedOfflineQueue | undefined;
	reconnect: ResolvedReconnect | undefined;
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

function options(value: unknown, name: string): Record<string, unknown> | undefined {
	if (value === undefined) return undefined;
	if (value === null || typeof value !== "object" || Array.isArray(value)) throw new TypeError(`${name} must be an object`);
	return value as Record<string, unknown>;
}

function required<T>(value: T | undefined, name: string): T {
	if (value === undefined) throw new TypeError(`${name} is required`);
	return value;
}

function offlineQueue(value: unknown): ResolvedOfflineQueue | undefined {
	const q = options(value, "offlineQueue");
	if (q === undefined) return undefined;
	return Object.freeze({
		messages: integer(required(q.messages, "offlineQueue.messages"), "offlineQueue.messages", 0, 1, 65535),
		bytes: integer(required(q.bytes, "offlineQueue.bytes"), "offlineQueue.bytes", 0, 1, 1 << 24),
		persist: flag(required(q.persist, "offlineQueue.persist"), "offlineQueue.persist", false),
		maxInFlight: integer(q.maxInFlight, "offlineQueue.maxInFlight", 4, 1, 8),
		perSecond: integer(q.perSecond, "offlineQueue.perSecond", 50, 1, 99),
	});
}

function reconnect(value: unknown): ResolvedReconnect | undefined {
	const r = options(value, "reconnect");
	if (r === undefined) return undefined;
	const minMs = integer(required(r.minMs, "reconnect.minMs"), "reconnect.minMs", 0, 1, 3600000);
	return Object.freeze({
		minMs,
		maxMs: integer(required(r.maxMs, "reconnect.maxMs"), "reconnect.maxMs", 0, minMs, 86400000),
		stableMs: integer(r.stableMs, "reconnect.stableMs", 60000, 0, 86400000),
	});
}

export function resolveConfig(config: NrfCloudConfig | undefined): ResolvedConfig {
	const c = config ?? {};
	if (c === null || typeof c !== "object") throw new TypeError("config must be an object");
	const host = text(c.host, "host", DEFAULT_HOST);
	const source = c.clientIdSource ?? ClientIdSource.IMEI;
	if (!Object.values(ClientIdSource).includes(source)) throw new RangeError(`clientIdSource must be one of ${Object.values(ClientIdSource).join(", ")}`);
	if (c.log !== undefined && typeof c.log !== "function") throw new TypeError("log must be a function");
	const messageBufferLength = integer(c.messageBufferLength, "messageBufferLength", 256, 64, 65535);
	const payloadBufferLength = integer(c.payloadBufferLength, "payloadBufferLength", 2048, 64, 1 << 20);
	const pipeline = flag(c.pipeline, "pipeline", true);
	const legacyAssociation = flag(c.legacyAssociation, "legacyAssociation", false);
	const pairedReportAhead = flag(c.pairedReportAhead, "pairedReportAhead", false);
	if (pairedReportAhead && !pipeline) throw new RangeError("pairedReportAhead needs pipeline");
	// The input-sequence association reports another paired form, whose endpoints are not kept.
	if (pairedReportAhead && legacyAssociation) throw new RangeError("pairedReportAhead does not apply with legacyAssociation");
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
		messageBufferLength,
		payloadBufferLength,
		fota: flag(c.fota, "fota", true),
		fotaBle: flag(c.fotaBle, "fotaBle", false),
		fotaFragmentSize: integer(c.fotaFragmentSize, "fotaFragmentSize", 1700, 128, 1700),
		progressPercentIncrement: integer(c.progressPercentIncrement, "progressPercentIncrement", 10, 0, 100),
		fotaTypes: fotaTypes(c.fotaTypes),
		pipeline,
		pairedReportAhead,
		legacyAssociation,
		maxIncomingPacket: integer(c.maxIncomingPacket, "maxIncomingPacket", payloadBufferLength + messageBufferLength, 64, (1 << 20) + 65535),
		offlineQueue: offlineQueue(c.offlineQueue),
		reconnect: reconnect(c.reconnect),
		log: c.log ?? ignore,
	};
}
