/*
 * The numbers and test vectors of docs/protocol.md (§3.2, §3.3, §3.9, §4 and
 * §9), written out once, as that reference gives them, for the Node tests and
 * the XS suites alike (so nothing here may import Node modules or the code
 * under test).
 *
 * Expected values come from here and never from the modules under test: a
 * constant checked against itself cannot fail. The enum tables use the C
 * names without their prefix (NRF_CLOUD_EVT_READY is READY).
 */

/** docs/protocol.md §3.2, enum nrf_cloud_evt_type, v1.5.0 / v1.6.0 numbering. */
export const SPEC_EVENT_TYPE = {
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
} as const;

/** docs/protocol.md §3.2, enum nrf_cloud_connect_result. */
export const SPEC_CONNECT_RESULT = {
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
} as const;

/** docs/protocol.md §3.2, enum nrf_cloud_disconnect_status. */
export const SPEC_DISCONNECT_STATUS = { USER_REQUEST: 0, CLOSED_BY_REMOTE: 1, INVALID_REQUEST: 2, MISC: 3, COUNT: 4 } as const;

/** docs/protocol.md §3.2, enum nrf_cloud_sensor (NRF_CLOUD_LTE_LINK_RSRP and NRF_CLOUD_DEVICE_INFO have no SENSOR_ prefix). */
export const SPEC_SENSOR = {
	GPS: 0, FLIP: 1, BUTTON: 2, TEMP: 3, HUMID: 4, AIR_PRESS: 5, AIR_QUAL: 6, LTE_LINK_RSRP: 7, DEVICE_INFO: 8,
} as const;

/** docs/protocol.md §3.2, the appId / shadow key of each sensor, by enum value. */
export const SPEC_SENSOR_APP_IDS = ["GPS", "FLIP", "BUTTON", "TEMP", "HUMID", "AIR_PRESS", "AIR_QUAL", "RSRP", "DEVICE"] as const;

/** docs/protocol.md §3.2, enum nrf_cloud_topic_type. */
export const SPEC_TOPIC_TYPE = { STATE: 1, MESSAGE: 2 } as const;

/** docs/protocol.md §3.2, enum nrf_cloud_fota_type of v1.6 (__INVALID is INVALID). */
export const SPEC_FOTA_TYPE = { APPLICATION: 0, MODEM: 1, BOOTLOADER: 2, INVALID: 3 } as const;

/** docs/protocol.md §3.2, enum nrf_cloud_fota_status, sent as numbers on MQTT. */
export const SPEC_FOTA_STATUS = {
	QUEUED: 0, IN_PROGRESS: 1, FAILED: 2, SUCCEEDED: 3, TIMED_OUT: 4, CANCELED: 5, REJECTED: 6, DOWNLOADING: 7,
} as const;

/** docs/protocol.md §3.2, the validation state stored in settings. */
export const SPEC_FOTA_VALIDATE = { NONE: 0, PENDING: 1, PASS: 2, FAIL: 3, UNKNOWN: 4, DONE: 5 } as const;

/** docs/protocol.md §3.2, the error strings sent to the cloud, by enum nrf_cloud_fota_error. */
export const SPEC_FOTA_ERROR_TEXT = [
	"",
	"Failed to start download",
	"Error during download",
	"FOTA update not validated",
	"Error applying update",
	"FW file does not match specified FOTA type",
] as const;

/** docs/protocol.md §3.2, enum nfsm_state (TOTAL, a count, is left out). */
export const SPEC_NFSM_STATE = {
	IDLE: 0, INITIALIZED: 1, CONNECTED: 2, CC_CONNECTING: 3, CC_CONNECTED: 4, CLOUD_STATE_REQUESTED: 5, UA_PIN_WAIT: 6,
	UA_PIN_COMPLETE: 7, DC_CONNECTING: 8, DC_CONNECTED: 9, READY: 10, DISCONNECTING: 11, ERROR: 12,
} as const;

/** docs/protocol.md §3.2, enum nct_evt_type. */
export const SPEC_NCT_EVT = {
	CONNECTED: 0, CC_CONNECTED: 1, DC_CONNECTED: 2, CC_RX_DATA: 3, CC_TX_DATA_ACK: 4, DC_RX_DATA: 5, DC_TX_DATA_ACK: 6,
	CC_DISCONNECTED: 7, DC_DISCONNECTED: 8, DISCONNECTED: 9,
} as const;

/** docs/protocol.md §3.3, the packet identifiers the library reserves (DEFAULT_REPORT_ID is DEFAULT_REPORT, and so on). */
export const SPEC_MESSAGE_ID = {
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
} as const;

/** docs/protocol.md §3.9, enum cloud_event_type (CLOUD_EVT_ prefix). */
export const SPEC_CLOUD_EVENT_TYPE = {
	CONNECTING: 0, CONNECTED: 1, DISCONNECTED: 2, READY: 3, ERROR: 4, DATA_SENT: 5, DATA_RECEIVED: 6, PAIR_REQUEST: 7, PAIR_DONE: 8,
	FOTA_START: 9, FOTA_DONE: 10, FOTA_ERASE_PENDING: 11, FOTA_ERASE_DONE: 12, FOTA_DL_PROGRESS: 13, FOTA_ERROR: 14, COUNT: 15,
} as const;

/** docs/protocol.md §3.9, enum cloud_disconnect_reason (CLOUD_DISCONNECT_ prefix). */
export const SPEC_CLOUD_DISCONNECT_REASON = { USER_REQUEST: 0, CLOSED_BY_REMOTE: 1, INVALID_REQUEST: 2, MISC: 3, COUNT: 4 } as const;

/** docs/protocol.md §3.9: enum cloud_connect_result has section 3.2's names and values. */
export const SPEC_CLOUD_CONNECT_RESULT = SPEC_CONNECT_RESULT;

/** docs/protocol.md §3.9, enum cloud_qos. */
export const SPEC_CLOUD_QOS = { AT_MOST_ONCE: 0, AT_LEAST_ONCE: 1, EXACTLY_ONCE: 2, COUNT: 3 } as const;

/** docs/protocol.md §3.9, enum cloud_endpoint_type (PRIV_END is INT16_MAX). */
export const SPEC_CLOUD_ENDPOINT_TYPE = {
	MSG: 0, STATE: 1, STATE_DELETE: 2, STATE_GET: 3, PAIR: 4, COMMON_COUNT: 5, PRIV_START: 5, PRIV_END: 0x7FFF,
} as const;

/** docs/protocol.md §3.9: the nrf_cloud event each Cloud API event comes from (SENSOR_ATTACHED has none). */
export const SPEC_CLOUD_EVENT_FOR = {
	TRANSPORT_CONNECTED: "CONNECTED",
	TRANSPORT_CONNECTING: "CONNECTING",
	USER_ASSOCIATION_REQUEST: "PAIR_REQUEST",
	USER_ASSOCIATED: "PAIR_DONE",
	READY: "READY",
	SENSOR_DATA_ACK: "DATA_SENT",
	TRANSPORT_DISCONNECTED: "DISCONNECTED",
	ERROR: "ERROR",
	RX_DATA: "DATA_RECEIVED",
	FOTA_DONE: "FOTA_DONE",
} as const;

// ---- Section 9, the device-side vectors ----

/** V1: the IMEI and the client ID the default prefix gives. */
export const V1_IMEI = "352656100441776";
export const V1_CLIENT_ID = "nrf-352656100441776";

/** V2: the device the topic vectors are for, and its shadow topics (accepted, rejected, delta, update, get). */
export const V2_DEVICE_ID = "nrf-352656101397613";
export const V2_SHADOW_TOPICS = [
	"nrf-352656101397613/shadow/get/accepted",
	"$aws/things/nrf-352656101397613/shadow/get/rejected",
	"$aws/things/nrf-352656101397613/shadow/update/delta",
	"$aws/things/nrf-352656101397613/shadow/update",
	"$aws/things/nrf-352656101397613/shadow/get",
] as const;

/** V3: the tenant's topic prefix and V2's device's pairing topics. */
export const V3_TENANT = "63ae73c3-9918-4b03-a1a8-132174824392";
export const V3_PREFIX = "prod/63ae73c3-9918-4b03-a1a8-132174824392/";
export const V3_D2C = "prod/63ae73c3-9918-4b03-a1a8-132174824392/m/d/nrf-352656101397613/d2c";
export const V3_C2D = "prod/63ae73c3-9918-4b03-a1a8-132174824392/m/d/nrf-352656101397613/c2d";

/** V4: FOTA topics from V3's prefix (rcv, req, update). */
export const V4_FOTA_TOPICS = [
	"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/rcv",
	"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/req",
	"prod/63ae73c3-9918-4b03-a1a8-132174824392/nrf-352656101397613/jobs/update",
] as const;

/** V5: the shadow GET's packet id (its payload is empty, QoS 1). */
export const V5_GET_ID = 5678;

/** V6, section 4.2: the not-associated report, id 1. */
export const V6_NOT_ASSOCIATED_REPORT = '{"state":{"reported":{"stage":null,"nrfcloud_mqtt_topic_prefix":null,"pairing":{"state":"not_associated","topics":null,"config":null},"connection":{"keepalive":null}}}}';
export const V6_ID = 1;

/** V7, section 4.3: the paired report, id 7890, with the prefix, topics and keepalive filled in. */
export function v7PairedReport(prefix: string, d2c: string, c2d: string, keepalive: number): string {
	return `{"state":{"reported":{"nrfcloud_mqtt_topic_prefix":"${prefix}","pairingStatus":null,"pairing":{"state":"paired","config":null,"topics":{"d2c":"${d2c}","c2d":"${c2d}"}},"connection":{"keepalive":${keepalive}}}}}`;
}
export const V7_ID = 7890;

/** V8: a config delta and its echo (id 1). */
export const V8_CONFIG = { GPS: { enable: true } } as const;
export const V8_ECHO = '{"state":{"reported":{"config":{"GPS":{"enable":true}}},"desired":{"config":null}}}';

/** V9 and V10: sensor messages on d2c, byte-exact. */
export const V9_FLIP = '{"appId":"FLIP","data":"NORMAL","messageType":"DATA"}';
export const V10_GGA = "$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64";
export const V10_GPS = '{"appId":"GPS","data":"$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64","messageType":"DATA"}';

/** V11: the cloud's examples, [appId, data, the cloud's JSON] (the library's key order differs). */
export const V11_EXAMPLES: ReadonlyArray<readonly [appId: string, data: string, json: string]> = [
	["FLIP", "NORMAL", '{"appId":"FLIP","messageType":"DATA","data":"NORMAL"}'],
	["FLIP", "UPSIDE_DOWN", '{"appId":"FLIP","messageType":"DATA","data":"UPSIDE_DOWN"}'],
	["BUTTON", "1", '{"appId":"BUTTON","messageType":"DATA","data":"1"}'],
	["BUTTON", "0", '{"appId":"BUTTON","messageType":"DATA","data":"0"}'],
	["TEMP", "215.2", '{"appId":"TEMP","messageType":"DATA","data":"215.2"}'],
	["HUMID", "70.0", '{"appId":"HUMID","messageType":"DATA","data":"70.0"}'],
	["AIR_PRESS", "110000.0", '{"appId":"AIR_PRESS","messageType":"DATA","data":"110000.0"}'],
	["AIR_QUAL", "450", '{"appId":"AIR_QUAL","messageType":"DATA","data":"450"}'],
	["RSRP", "-30.0", '{"appId":"RSRP","messageType":"DATA","data":"-30.0"}'],
];

/** V12, section 5.5: asset_tracker_v2's service info, exactly. */
export const V12_SERVICE_INFO = '{"state":{"reported":{"device":{"serviceInfo":{"ui":["GPS","HUMID","RSRP","BUTTON","TEMP"],"fota_v2":["APP","MODEM","BOOT"]}}}}}';

/** V13: the agps sample's service info, with the space after "device": its C literal has. */
export const V13_SERVICE_INFO = '{"state":{"reported":{"device": {"serviceInfo":{"ui":["GPS"]}}}}}';

/** V14: cloud_client's message, to d2c through CLOUD_EP_MSG. */
export const V14_HELLO = '{"state":{"reported":{"message":"Hello Internet of Things!"}}}';

/** V15: a device-simulator style initial shadow update, to the shadow through CLOUD_EP_STATE. */
export const V15_INITIAL = '{"state":{"reported":{"device":{"serviceInfo":{"fota_v2":["APP","MODEM"],"ui":["GPS","FLIP","TEMP","HUMID","AIR_PRESS","BUTTON","LIGHT"]}},"connection":{"status":"connected","keepalive":30}}}}';

/** V16: the job request on jobs/req, 4 bytes, id 8767. */
export const V16_JOB_REQUEST = '[""]';
export const V16_ID = 8767;

/** V17: job documents and what they say. */
export const V17_JOB = '["abcd1234",0,1234,"nrfcloud.com","v1/firmwares/appfw.bin"]';
export const V17_JOB_DECODED = { id: "abcd1234", type: 0, size: 1234, host: "nrfcloud.com", path: "v1/firmwares/appfw.bin" } as const;
export const V17_BLE_JOB = '["12:AB:34:CD:56:EF","efgh5678",0,321,"nrfcloud.com","v1/firmwares/ble.bin"]';
export const V17_BLE_JOB_DECODED = { id: "efgh5678", type: 0, size: 321, host: "nrfcloud.com", path: "v1/firmwares/ble.bin", bleAddress: "12:AB:34:CD:56:EF" } as const;

/** V18: job status updates for job abcd1234, in the order of docs/protocol.md §7.4. */
export const V18_UPDATES = [
	'["abcd1234",7,0]', '["abcd1234",7,10]', '["abcd1234",7,100]', '["abcd1234",1,""]', '["abcd1234",3,""]',
	'["abcd1234",3,"FOTA update not validated"]', '["abcd1234",2,""]', '["abcd1234",2,"Failed to start download"]',
	'["abcd1234",2,"Error during download"]', '["abcd1234",6,""]', '["abcd1234",2,"FW file does not match specified FOTA type"]',
] as const;

/** V20: the settings keys, domain and key. */
export const V20_SETTINGS_DOMAIN = "nrf_cloud";
export const V20_FOTA_JOB_KEY = "nrf_cloud/fota/job";
export const V20_SESSION_KEY = "nrf_cloud/p_sesh";

/** V21: button presses and their packed pattern. */
export const V21_PRESSES = [1, 2, 3, 4, 1, 2] as const;
export const V21_PATTERN = [18, 52, 18] as const;
export const V21_LENGTH = 3;

/** V24: the cloud's disconnect request, plain c2d data for a v1.6 device. */
export const V24_DISCON = '{"appId":"DEVICE","messageType":"DISCON"}';

/** V28: the status of the TRANSPORT_DISCONNECTED a JITP first connection gives (INVALID_REQUEST). */
export const V28_STATUS = 2;
