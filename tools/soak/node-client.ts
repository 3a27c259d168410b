/*
 * A soak device in Node: the library itself (NrfCloud of modules/nrf-cloud)
 * over Node's TLS socket with a fleet certificate, running the same sending
 * pattern as the soak firmware (app/sensor-soak.ts). The fleet soak runs many
 * of these beside a few XS hosts: one process holds them all. Its counter
 * and the library's settings are kept in memory (these devices are not
 * restarted).
 */

import { nodeSocket } from "../../hosts/node/socket.js";
import { NrfCloud } from "../../modules/nrf-cloud/api.js";
import { DisconnectStatus, EventType, Sensor } from "../../modules/nrf-cloud/constants.js";
import type { NrfCloudConfig } from "../../modules/nrf-cloud/config.js";
import { queueOptions, SensorSoak, type PatternSettings } from "./app/sensor-soak.js";
import { SoakProgress } from "./progress.js";

export interface NodeSoakOptions {
	id: string;
	/** The MQTT endpoint on the loopback address (the device's fault proxy). */
	port: number;
	/** TLS name of the cloud. */
	hostname: string;
	ca: Buffer;
	cert: Buffer;
	key: Buffer;
	settings: Omit<PatternSettings, "persist">;
}

export class NodeSoakClient {
	readonly id: string;
	readonly progress = new SoakProgress();
	readonly #library: NrfCloud;
	readonly #soak: SensorSoak;

	constructor(o: NodeSoakOptions) {
		this.id = o.id;
		const config: NrfCloudConfig = {
			host: "127.0.0.1", port: o.port, hostname: o.hostname, clientIdSource: "compile-time", clientId: o.id,
			keepalive: 1200, pollThread: true, fota: false, ...queueOptions({ ...o.settings, persist: false }),
		};
		this.#library = new NrfCloud({
			socket: (options) => nodeSocket({ host: options.host, port: options.port, tls: { ca: o.ca, cert: o.cert, key: o.key, servername: options.hostname } }),
		}, config);
		const library = this.#library;
		this.#soak = new SensorSoak({
			connect: () => library.connect(),
			disconnect: () => library.disconnect(),
			sensorDataSend: (param) => library.sensorDataSend(param),
		}, { EventType, DisconnectStatus, Sensor }, { ...o.settings, persist: false }, { read: () => 0, write: () => {} }, (line) => this.progress.line(line));
	}

	/** The library's state and what its queue still holds (undefined without the queue). */
	get status(): { state: number; queued: number | undefined } {
		return { state: this.#library.state, queued: this.#library.offlineQueue?.messages };
	}

	start(): void {
		const initialized = this.#library.init({ eventHandler: (event) => this.#soak.onEvent(event) });
		if (initialized !== 0) throw new Error(`init failed for ${this.id}: ${initialized}`);
		this.#soak.start();
	}

	stop(): void {
		this.#soak.stop();
	}
}
