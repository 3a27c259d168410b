/*
 * The NRF_CLOUD backend of the Cloud API (nrf_cloud.c's CLOUD_BACKEND_DEFINE):
 * drives an nRF Cloud library instance and translates its events, results and
 * disconnect reasons into the Cloud API's.
 */

import { Errno } from "../platform/errno.js";
import { EventType, TopicType } from "../nrf-cloud/constants.js";
import type { CloudEvent as NrfCloudEvent, NrfCloud } from "../nrf-cloud/api.js";
import {
	CloudEndpointType, CloudEventType, CloudQos, cloudBackendDefine,
	type CloudBackend, type CloudEvent, type CloudEventHandler, type CloudMessage,
} from "./cloud.js";

export const NRF_CLOUD_BACKEND = "NRF_CLOUD";

/** nrf_cloud_evt_type → cloud_event_type; SENSOR_ATTACHED has no counterpart. */
const EVENT_MAP: ReadonlyMap<number, number> = new Map<number, number>([
	[EventType.TRANSPORT_CONNECTED, CloudEventType.CONNECTED],
	[EventType.TRANSPORT_CONNECTING, CloudEventType.CONNECTING],
	[EventType.USER_ASSOCIATION_REQUEST, CloudEventType.PAIR_REQUEST],
	[EventType.USER_ASSOCIATED, CloudEventType.PAIR_DONE],
	[EventType.READY, CloudEventType.READY],
	[EventType.SENSOR_DATA_ACK, CloudEventType.DATA_SENT],
	[EventType.TRANSPORT_DISCONNECTED, CloudEventType.DISCONNECTED],
	[EventType.ERROR, CloudEventType.ERROR],
	[EventType.RX_DATA, CloudEventType.DATA_RECEIVED],
	[EventType.FOTA_DONE, CloudEventType.FOTA_DONE],
]);

const EMPTY = new Uint8Array(0);

/** The Cloud API event for a library event, or undefined when there is none. */
export function translateEvent(event: NrfCloudEvent): CloudEvent | undefined {
	const type = EVENT_MAP.get(event.type);
	if (type === undefined) return undefined;
	const translated: CloudEvent = { type };
	switch (event.type) {
		case EventType.TRANSPORT_CONNECTED:
			translated.persistentSession = event.status !== 0;
			break;
		case EventType.TRANSPORT_CONNECTING:
		case EventType.TRANSPORT_DISCONNECTED:
		case EventType.ERROR:
			// The connect results and disconnect reasons have the same numbers in both APIs.
			translated.err = event.status;
			break;
		case EventType.RX_DATA:
		case EventType.FOTA_DONE:
		case EventType.SENSOR_DATA_ACK: {
			const buf = event.data ?? EMPTY;
			translated.msg = { buf, len: buf.length, endpoint: { type: CloudEndpointType.MSG, str: event.topic ?? "" } };
			break;
		}
		default:
	}
	return translated;
}

/** Registers the nRF Cloud backend for `library` and returns it. */
export function defineNrfCloudBackend(library: NrfCloud): CloudBackend {
	const backend: CloudBackend = cloudBackendDefine(NRF_CLOUD_BACKEND, {
		init(self: CloudBackend, handler: CloudEventHandler): number {
			const id = self.config.id;
			if (id !== undefined && typeof id !== "string") return -Errno.EINVAL;
			self.config.handler = handler;
			return library.init({
				clientId: id,
				eventHandler: (event) => {
					const translated = translateEvent(event);
					if (translated !== undefined) self.config.handler?.(self, translated, self.config.userData);
				},
			});
		},
		uninit: () => 0,
		connect: () => library.connect(),
		disconnect: () => library.disconnect(),
		send(_self: CloudBackend, message: CloudMessage): number {
			if (message.endpoint.str !== undefined && message.endpoint.str.length !== 0) return -Errno.ENOTSUP;
			if (message.endpoint.type === CloudEndpointType.MSG) {
				if (message.qos !== CloudQos.AT_MOST_ONCE && message.qos !== CloudQos.AT_LEAST_ONCE) return -Errno.EINVAL;
				return library.send({ data: message.buf, topicType: TopicType.MESSAGE, qos: message.qos });
			}
			if (message.endpoint.type === CloudEndpointType.STATE) return library.send({ data: message.buf, topicType: TopicType.STATE });
			return 0;
		},
		ping: () => {
			library.process();
			return 0;
		},
		input: () => {
			library.process();
			return 0;
		},
		userDataSet(self: CloudBackend, userData: unknown): number {
			self.config.userData = userData;
			return 0;
		},
		epSubscriptionsAdd: () => -Errno.ENOTSUP,
		epSubscriptionsRemove: () => -Errno.ENOTSUP,
	});
	return backend;
}
