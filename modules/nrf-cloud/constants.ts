/*
 * The numbers of the nrf_cloud C API (NCS v1.6.0 include/net/nrf_cloud.h and the
 * library's internal headers), so that logs, tests and applications ported
 * from C can compare values directly. Errno values are Zephyr's (minimal libc),
 * which is what the C library returns on the nRF9160; results are negative.
 */

/** enum nrf_cloud_evt_type, v1.5/v1.6 numbering. */
export const EventType = Object.freeze({
	TRANSPORT_CONNECTED: 1,
	TRANSPORT_CONNECTING: 2,
	USER_ASSOCIATION_REQUEST: 3,
	USER_ASSOCIATED: 4,
	READY: 5,
	SENSOR_ATTACHED: 6,
	RX_DATA: 7,
	SENSOR_DATA_ACK: 8,
	TRANSPORT_DISCONNECTED: 9,
	FOTA_DONE: 10,
	ERROR: 255,
} as const);
export type EventTypeValue = typeof EventType[keyof typeof EventType];

/** enum nrf_cloud_connect_result. */
export const ConnectResult = Object.freeze({
	SUCCESS: 0,
	ERR_NOT_INITD: -1,
	ERR_INVALID_PARAM: -2,
	ERR_NETWORK: -3,
	ERR_BACKEND: -4,
	ERR_MISC: -5,
	ERR_NO_MEM: -6,
	ERR_PRV_KEY: -7,
	ERR_CERT: -8,
	ERR_CERT_MISC: -9,
	ERR_TIMEOUT_NO_DATA: -10,
	ERR_ALREADY_CONNECTED: -11,
} as const);
export type ConnectResultValue = typeof ConnectResult[keyof typeof ConnectResult];

/** enum nrf_cloud_disconnect_status. */
export const DisconnectStatus = Object.freeze({
	USER_REQUEST: 0,
	CLOSED_BY_REMOTE: 1,
	INVALID_REQUEST: 2,
	MISC: 3,
	COUNT: 4,
} as const);
export type DisconnectStatusValue = typeof DisconnectStatus[keyof typeof DisconnectStatus];

/** enum nrf_cloud_sensor. */
export const Sensor = Object.freeze({
	GPS: 0,
	FLIP: 1,
	BUTTON: 2,
	TEMP: 3,
	HUMID: 4,
	AIR_PRESS: 5,
	AIR_QUAL: 6,
	LTE_LINK_RSRP: 7,
	DEVICE_INFO: 8,
} as const);
export type SensorValue = typeof Sensor[keyof typeof Sensor];

/** The appId / shadow key of each sensor, indexed by its enum value. */
export const SENSOR_NAMES: readonly string[] = Object.freeze(["GPS", "FLIP", "BUTTON", "TEMP", "HUMID", "AIR_PRESS", "AIR_QUAL", "RSRP", "DEVICE"]);

/** enum nrf_cloud_topic_type. */
export const TopicType = Object.freeze({
	STATE: 1,
	MESSAGE: 2,
} as const);

/** enum nrf_cloud_fota_type. */
export const FotaType = Object.freeze({
	APPLICATION: 0,
	MODEM: 1,
	BOOTLOADER: 2,
	INVALID: 3,
} as const);
export type FotaTypeValue = typeof FotaType[keyof typeof FotaType];

/** enum nrf_cloud_fota_status; sent as numbers in job updates. */
export const FotaStatus = Object.freeze({
	QUEUED: 0,
	IN_PROGRESS: 1,
	FAILED: 2,
	SUCCEEDED: 3,
	TIMED_OUT: 4,
	CANCELED: 5,
	REJECTED: 6,
	DOWNLOADING: 7,
} as const);

/** The stored validation state of a FOTA job (nrf_cloud_fota_validate_status). */
export const FotaValidate = Object.freeze({
	NONE: 0,
	PENDING: 1,
	PASS: 2,
	FAIL: 3,
	UNKNOWN: 4,
	DONE: 5,
} as const);

/** enum nrf_cloud_ua and its button inputs (the input-sequence association). */
export const UserAssociation = Object.freeze({
	BUTTON: 0,
	BUTTON_INPUT_1: 1,
	BUTTON_INPUT_2: 2,
	BUTTON_INPUT_3: 3,
	BUTTON_INPUT_4: 4,
} as const);

/** MQTT packet identifiers the library reserves (v1.5/v1.6). */
export const MessageId = Object.freeze({
	DEFAULT_REPORT: 1,
	CC_SUBSCRIBE: 1234,
	CLOUD_STATE_REQUEST: 5678,
	PAIRING_STATUS_REPORT: 7890,
	DC_SUBSCRIBE: 8765,
	FOTA_SUBSCRIBE: 8766,
	FOTA_REQUEST: 8767,
	FOTA_UPDATE: 8768,
	FOTA_BLE_REQUEST: 8769,
	FOTA_BLE_UPDATE: 8770,
	USER_ASSOCIATION_DATA: 9547,
} as const);

/** enum nfsm_state: the library's connection state machine. */
export const State = Object.freeze({
	IDLE: 0,
	INITIALIZED: 1,
	CONNECTED: 2,
	CC_CONNECTING: 3,
	CC_CONNECTED: 4,
	CLOUD_STATE_REQUESTED: 5,
	UA_PIN_WAIT: 6,
	UA_PIN_COMPLETE: 7,
	DC_CONNECTING: 8,
	DC_CONNECTED: 9,
	READY: 10,
	DISCONNECTING: 11,
	ERROR: 12,
} as const);
export type StateValue = typeof State[keyof typeof State];

/** Zephyr errno numbers the API returns (negated). */
export { Errno } from "../platform/errno.js";

/** NRF_CLOUD_CLIENT_ID_MAX_LEN. */
export const CLIENT_ID_MAX_LENGTH = 64;

/** Settings keys under the "nrf_cloud" domain. */
export const SETTINGS_DOMAIN = "nrf_cloud";
export const SESSION_KEY = "p_sesh";
export const FOTA_JOB_KEY = "fota/job";
/** The endpoints of the last confirmed pairing, kept for pairedReportAhead (not a v1.6 key). */
export const PAIRED_KEY = "paired";

function nameOf(table: Readonly<Record<string, number>>, value: number): string {
	for (const name in table) if (table[name] === value) return name;
	return String(value);
}

/** "READY" for 5, and so on; the number itself for an unknown value. */
export function eventName(type: number): string {
	return nameOf(EventType, type);
}

export function stateName(state: number): string {
	return nameOf(State, state);
}
