/*
 * The soak firmware: a sensor that sends `messages` TEMP readings with
 * sensorDataSend (QoS 1), one every `intervalMs`, each carrying its sequence
 * number as its data, whatever the state of the connection. It uses the
 * library's public API only. With `queue` the library keeps what cannot go
 * out now in its offline queue (persisted, so it outlives a restart of the
 * host) and reconnects by itself; without it the app behaves as one on the
 * C library must: a send refused while the connection is not READY is
 * dropped (printed, so the harness can tell refusals from losses in flight),
 * and the app reconnects with exponential back-off.
 *
 * The next sequence number is kept in the "soak" storage domain, written after
 * each send: a host killed between the send and the write sends that number
 * again after its restart (a duplicate at worst, never a gap).
 *
 * Lines for the harness: "soak: generated N" every 100 messages and at the end
 * ("soak: generated all N"), "soak: drop SEQ ERRNO" for each refused send,
 * "soak: no offline queue" when the library has none to offer.
 */

import config from "mc/config";
import { KeyValueStore } from "storage/key-value";
import {
	DisconnectStatus, EventType, Sensor, configure, connect, disconnect, eventName, init, nrfCloud, sensorDataSend,
	type CloudEvent, type NrfCloudConfig,
} from "nrf-cloud/device";
import { soakSettings } from "./settings.js";

const settings = soakSettings(config);
const progress = new KeyValueStore({ path: "soak" });
let next = progress.readInteger("next") ?? 0;
let generating = false;
let associationRequested = false;
let reconnectSoon = false;
let failures = 0;

function print(line: string): void {
	console.log(line);
}

function generate(): void {
	if (next >= settings.messages) {
		print(`soak: generated all ${settings.messages}`);
		return;
	}
	const seq = next;
	const result = sensorDataSend({ type: Sensor.TEMP, data: String(seq) });
	if (result !== 0) print(`soak: drop ${seq} ${result}`);
	next = seq + 1;
	progress.writeInteger("next", next);
	if (next % 100 === 0 && next < settings.messages) print(`soak: generated ${next}`);
	setTimeout(generate, settings.intervalMs);
}

function startGenerating(): void {
	if (generating) return;
	generating = true;
	print(`soak: generating from ${next}`);
	setTimeout(generate, 0);
}

function scheduleConnect(delay: number): void {
	setTimeout(() => {
		connect().then((result) => {
			if (result < 0) {
				print(`soak: connect returned ${result}`);
				retry();
			}
		});
	}, delay);
}

/** The app's own reconnects (without the library's): exponential back-off, reset by READY. */
function retry(): void {
	if (settings.queue) return;
	const delay = Math.min(settings.retryMs * 2 ** failures, settings.retryMaxMs);
	failures++;
	scheduleConnect(delay);
}

function onEvent(event: CloudEvent): void {
	if (event.type !== EventType.SENSOR_DATA_ACK) print(`nrf_cloud: ${eventName(event.type)} (${event.type}) status ${event.status}`);
	switch (event.type) {
		case EventType.TRANSPORT_CONNECTING:
			if (event.status < 0) retry();
			break;
		case EventType.USER_ASSOCIATION_REQUEST:
			associationRequested = true;
			break;
		case EventType.USER_ASSOCIATED:
			if (associationRequested) {
				// The cloud applies the new permissions only to a new connection.
				associationRequested = false;
				reconnectSoon = true;
				disconnect();
			}
			break;
		case EventType.READY:
			failures = 0;
			startGenerating();
			break;
		case EventType.TRANSPORT_DISCONNECTED:
			if (settings.queue && !reconnectSoon) break;
			if (reconnectSoon || event.status === DisconnectStatus.INVALID_REQUEST) {
				// After a fresh association, and after the JITP rejection of a first connection.
				reconnectSoon = false;
				scheduleConnect(settings.retryMs);
			}
			else retry();
			break;
		default:
	}
}

const libraryConfig: NrfCloudConfig & Record<string, unknown> = {
	host: settings.host,
	port: settings.port,
	hostname: settings.hostname.length > 0 ? settings.hostname : undefined,
	secTag: settings.secTag,
	keepalive: settings.keepalive,
	clientIdSource: settings.clientIdSource,
	clientId: settings.clientId.length > 0 ? settings.clientId : undefined,
	pollThread: true,
	fota: false,
};
if (settings.queue) {
	libraryConfig.offlineQueue = { messages: settings.queueMessages, bytes: settings.queueBytes, persist: true };
	libraryConfig.reconnect = { minMs: settings.retryMs, maxMs: settings.retryMaxMs };
}
configure(libraryConfig);
if (settings.queue && (nrfCloud().config as unknown as Record<string, unknown>).offlineQueue === undefined) {
	print("soak: no offline queue");
	throw new Error("this library has no offlineQueue option");
}
const initialized = init({ eventHandler: onEvent });
if (initialized !== 0) throw new Error(`nrf_cloud init failed: ${initialized}`);
// A restarted device goes on at once: with the offline queue its sends wait for READY.
if (next > 0) startGenerating();
scheduleConnect(0);
