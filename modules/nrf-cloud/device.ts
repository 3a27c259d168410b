/*
 * The nRF Cloud library on the device: one NrfCloud (api.ts) bound to the
 * modem's TLS sockets, the "nrf_cloud" settings domain and the modem's AT
 * interface, with the C API's functions. configure() stands in for Kconfig and
 * must come before init().
 */

import { DfuTarget } from "../dfu/target.js";
import { Download } from "../http/download.js";
import { nativeCodec } from "../mqtt/native-codec.js";
import { deviceUuid, imei } from "../modem/at.js";
import { tcpSocket } from "../socket/tcp.js";
import { KeyValueStore } from "../storage/key-value.js";
import { Errno, SETTINGS_DOMAIN, State } from "./constants.js";
import type { NrfCloudConfig } from "./config.js";
import type { SettingsStore } from "./settings.js";
import { NrfCloud, type InitParams, type SensorData, type TxData, type UserAssociationParams } from "./api.js";

export * from "./constants.js";
export { ClientIdSource, type NrfCloudConfig } from "./config.js";
export type { CloudEvent, InitParams, SensorData, TxData, UserAssociationParams } from "./api.js";
export { NrfCloud } from "./api.js";

/**
 * Settings names such as "fota/job" are paths below the "nrf_cloud" domain; the
 * key-value store keeps one level of keys, so the path separator becomes ".".
 */
function storageKey(key: string): string {
	return key.replace(/\//g, ".");
}

class DomainSettings implements SettingsStore {
	readonly #store = new KeyValueStore({ path: SETTINGS_DOMAIN });

	read(key: string): ArrayBuffer | undefined {
		return this.#store.read(storageKey(key));
	}

	write(key: string, value: Uint8Array): void {
		this.#store.write(storageKey(key), value);
	}

	delete(key: string): boolean {
		return this.#store.delete(storageKey(key));
	}
}

let library: NrfCloud | undefined;
let pendingConfig: NrfCloudConfig | undefined;

function instance(): NrfCloud {
	if (library === undefined) {
		library = new NrfCloud({
			socket: (options) => tcpSocket({ host: options.host, port: options.port, secTag: options.secTag, hostname: options.hostname }),
			settings: new DomainSettings(),
			modem: { imei, deviceUuid },
			codec: nativeCodec,
			fota: { download: (request) => new Download(request), target: DfuTarget },
		}, pendingConfig);
	}
	return library;
}

/** Sets the build-time options (host, port, sec tag, client ID source, poll thread, ...). Throws on a bad value. */
export function configure(config: NrfCloudConfig): number {
	if (library !== undefined && library.state !== State.IDLE) return -Errno.EACCES;
	pendingConfig = config;
	library = undefined;
	instance();
	return 0;
}

/** The library instance the functions below use (for its state, client ID and endpoints). */
export function nrfCloud(): NrfCloud {
	return instance();
}

export function init(params: InitParams): number {
	return instance().init(params);
}

export function connect(): Promise<number> {
	return instance().connect();
}

export function disconnect(): number {
	return instance().disconnect();
}

export function process(): void {
	instance().process();
}

export function sensorAttach(param: { sensorType: number }): number {
	return instance().sensorAttach(param);
}

export function sensorDataSend(param: SensorData): number {
	return instance().sensorDataSend(param);
}

export function sensorDataStream(param: SensorData): number {
	return instance().sensorDataStream(param);
}

export function shadowUpdate(param: SensorData): number {
	return instance().shadowUpdate(param);
}

export function send(message: TxData): number {
	return instance().send(message);
}

export function userAssociate(param: UserAssociationParams): number {
	return instance().userAssociate(param);
}

export function modemFotaCompleted(success: boolean): number {
	return instance().modemFotaCompleted(success);
}

/** The FOTA types this device takes, for serviceInfo.fota_v2 in the shadow. */
export function fotaTypes(): string[] {
	return instance().fotaTypes;
}
