/*
 * The generic Cloud API of NCS v1.x (include/net/cloud.h): backends register
 * under a name, applications look one up with cloudGetBinding() and drive it
 * through the cloud* functions, which check their arguments the way the C
 * inline wrappers do before calling the backend.
 */

import { Errno } from "../platform/errno.js";

/** enum cloud_event_type. */
export const CloudEventType = Object.freeze({
	CONNECTING: 0,
	CONNECTED: 1,
	DISCONNECTED: 2,
	READY: 3,
	ERROR: 4,
	DATA_SENT: 5,
	DATA_RECEIVED: 6,
	PAIR_REQUEST: 7,
	PAIR_DONE: 8,
	FOTA_START: 9,
	FOTA_DONE: 10,
	FOTA_ERASE_PENDING: 11,
	FOTA_ERASE_DONE: 12,
	FOTA_DL_PROGRESS: 13,
	FOTA_ERROR: 14,
	COUNT: 15,
} as const);

/** enum cloud_disconnect_reason. */
export const CloudDisconnectReason = Object.freeze({
	USER_REQUEST: 0,
	CLOSED_BY_REMOTE: 1,
	INVALID_REQUEST: 2,
	MISC: 3,
	COUNT: 4,
} as const);

/** enum cloud_connect_result (the same numbers as nrf_cloud_connect_result). */
export const CloudConnectResult = Object.freeze({
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

/** enum cloud_qos. */
export const CloudQos = Object.freeze({
	AT_MOST_ONCE: 0,
	AT_LEAST_ONCE: 1,
	EXACTLY_ONCE: 2,
	COUNT: 3,
} as const);

/** enum cloud_endpoint_type. */
export const CloudEndpointType = Object.freeze({
	MSG: 0,
	STATE: 1,
	STATE_DELETE: 2,
	STATE_GET: 3,
	PAIR: 4,
	COMMON_COUNT: 5,
	PRIV_START: 5,
	PRIV_END: 0x7FFF,
} as const);

/** SYS_FOREVER_MS: what keepalive_time_left gives when a backend does not track it. */
export const SYS_FOREVER_MS = -1;

export interface CloudEndpoint {
	type: number;
	/** A backend-specific endpoint name; empty for the default one. */
	str?: string;
}

export interface CloudMessage {
	buf: Uint8Array | string;
	qos: number;
	endpoint: CloudEndpoint;
}

export interface CloudEvent {
	type: number;
	/** DISCONNECTED, CONNECTING, ERROR: the reason or result. */
	err?: number;
	/** CONNECTED: the broker resumed a persistent session. */
	persistentSession?: boolean;
	/** DATA_RECEIVED (payload and its topic), FOTA_DONE (the FOTA type as 4 bytes), DATA_SENT (the tag). */
	msg?: { buf: Uint8Array; len: number; endpoint: { type: number; str: string } };
}

export type CloudEventHandler = (backend: CloudBackend, event: CloudEvent, userData: unknown) => void;

export interface CloudBackendConfig {
	readonly name: string;
	handler?: CloudEventHandler;
	userData?: unknown;
	/** The client ID for backends that take it at run time. */
	id?: string;
}

/** struct cloud_api: a backend leaves out what it does not implement. */
export interface CloudApi {
	init(backend: CloudBackend, handler: CloudEventHandler): number;
	uninit?(backend: CloudBackend): number;
	connect(backend: CloudBackend): Promise<number>;
	disconnect?(backend: CloudBackend): number;
	send?(backend: CloudBackend, message: CloudMessage): number;
	ping?(backend: CloudBackend): number;
	input?(backend: CloudBackend): number;
	keepaliveTimeLeft?(backend: CloudBackend): number;
	userDataSet?(backend: CloudBackend, userData: unknown): number;
	epSubscriptionsAdd?(backend: CloudBackend, endpoints: readonly CloudEndpoint[]): number;
	epSubscriptionsRemove?(backend: CloudBackend, endpoints: readonly CloudEndpoint[]): number;
}

export interface CloudBackend {
	readonly api: CloudApi;
	readonly config: CloudBackendConfig;
}

const backends = new Map<string, CloudBackend>();

/** CLOUD_BACKEND_DEFINE: registers a backend under `name` (replacing one of the same name). */
export function cloudBackendDefine(name: string, api: CloudApi): CloudBackend {
	if (typeof name !== "string" || name.length === 0) throw new TypeError("a backend needs a name");
	if (api === null || typeof api !== "object" || typeof api.init !== "function" || typeof api.connect !== "function")
		throw new TypeError("a backend API needs init and connect");
	const backend: CloudBackend = Object.freeze({ api, config: { name } });
	backends.set(name, backend);
	return backend;
}

/** cloud_get_binding. */
export function cloudGetBinding(name: string): CloudBackend | undefined {
	return backends.get(name);
}

function valid(backend: CloudBackend | undefined): backend is CloudBackend {
	return typeof backend === "object" && backend !== null && typeof backend.api === "object" && backend.api !== null;
}

export function cloudInit(backend: CloudBackend | undefined, handler: CloudEventHandler): number {
	if (!valid(backend)) return -Errno.ENOTSUP;
	if (typeof handler !== "function") return -Errno.EINVAL;
	return backend.api.init(backend, handler);
}

export function cloudUninit(backend: CloudBackend | undefined): number {
	if (!valid(backend) || backend.api.uninit === undefined) return -Errno.ENOTSUP;
	return backend.api.uninit(backend);
}

export function cloudConnect(backend: CloudBackend | undefined): Promise<number> {
	if (!valid(backend)) return Promise.resolve(CloudConnectResult.ERR_INVALID_PARAM);
	return backend.api.connect(backend);
}

export function cloudDisconnect(backend: CloudBackend | undefined): number {
	if (!valid(backend) || backend.api.disconnect === undefined) return -Errno.ENOTSUP;
	return backend.api.disconnect(backend);
}

export function cloudSend(backend: CloudBackend | undefined, message: CloudMessage): number {
	if (!valid(backend) || backend.api.send === undefined) return -Errno.ENOTSUP;
	if (message === null || typeof message !== "object" || message.endpoint === null || typeof message.endpoint !== "object") return -Errno.EINVAL;
	return backend.api.send(backend, message);
}

export function cloudPing(backend: CloudBackend | undefined): number {
	if (!valid(backend) || backend.api.ping === undefined) return -Errno.ENOTSUP;
	return backend.api.ping(backend);
}

export function cloudInput(backend: CloudBackend | undefined): number {
	if (!valid(backend) || backend.api.input === undefined) return -Errno.ENOTSUP;
	return backend.api.input(backend);
}

export function cloudKeepaliveTimeLeft(backend: CloudBackend | undefined): number {
	if (!valid(backend) || backend.api.keepaliveTimeLeft === undefined) return SYS_FOREVER_MS;
	return backend.api.keepaliveTimeLeft(backend);
}

export function cloudUserDataSet(backend: CloudBackend | undefined, userData: unknown): number {
	if (!valid(backend) || backend.api.userDataSet === undefined) return -Errno.ENOTSUP;
	if (userData === null || userData === undefined) return -Errno.EINVAL;
	return backend.api.userDataSet(backend, userData);
}

export function cloudEpSubscriptionsAdd(backend: CloudBackend | undefined, endpoints: readonly CloudEndpoint[]): number {
	if (!valid(backend) || backend.api.epSubscriptionsAdd === undefined) return -Errno.ENOTSUP;
	return backend.api.epSubscriptionsAdd(backend, endpoints);
}

export function cloudEpSubscriptionsRemove(backend: CloudBackend | undefined, endpoints: readonly CloudEndpoint[]): number {
	if (!valid(backend) || backend.api.epSubscriptionsRemove === undefined) return -Errno.ENOTSUP;
	return backend.api.epSubscriptionsRemove(backend, endpoints);
}
