/*
 * The soak firmware: the soak's sending pattern (sensor-soak.ts) on the
 * device binding of the library, public API only, with the next sequence
 * number kept in the "soak" storage domain (written after each send: a host
 * killed between the send and the write sends that number again after its
 * restart, a duplicate at worst, never a gap) and the offline queue persisted
 * in the library's settings. Prints every library event but SENSOR_DATA_ACK.
 */

import config from "mc/config";
import { KeyValueStore } from "storage/key-value";
import {
	DisconnectStatus, EventType, Sensor, configure, connect, disconnect, eventName, init, sensorDataSend,
	type CloudEvent, type NrfCloudConfig,
} from "nrf-cloud/device";
import { queueOptions, SensorSoak } from "./sensor-soak.js";
import { soakSettings } from "./settings.js";

const settings = soakSettings(config);
const progress = new KeyValueStore({ path: "soak" });
const soak = new SensorSoak({ connect, disconnect, sensorDataSend }, { EventType, DisconnectStatus, Sensor }, { ...settings, persist: true }, {
	read: () => progress.readInteger("next") ?? 0,
	write: (next) => progress.writeInteger("next", next),
}, (line) => console.log(line));

function onEvent(event: CloudEvent): void {
	if (event.type !== EventType.SENSOR_DATA_ACK) console.log(`nrf_cloud: ${eventName(event.type)} (${event.type}) status ${event.status}`);
	soak.onEvent(event);
}

const libraryConfig: NrfCloudConfig = {
	host: settings.host,
	port: settings.port,
	hostname: settings.hostname.length > 0 ? settings.hostname : undefined,
	secTag: settings.secTag,
	keepalive: settings.keepalive,
	clientIdSource: settings.clientIdSource,
	clientId: settings.clientId.length > 0 ? settings.clientId : undefined,
	pollThread: true,
	fota: false,
	log: settings.libraryLog ? (line) => console.log(`nrf_cloud: ${line}`) : undefined,
	...queueOptions({ ...settings, persist: true }),
};
configure(libraryConfig);
const initialized = init({ eventHandler: onEvent });
if (initialized !== 0) throw new Error(`nrf_cloud init failed: ${initialized}`);
soak.start();
