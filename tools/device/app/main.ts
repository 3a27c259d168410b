/*
 * Example firmware for an nRF9160 DK or Thingy:91: connects to nRF Cloud with
 * the nrf_cloud library's public API only, the way docs/protocol.md §1.8 asks an
 * application to: it reconnects after the JITP rejection and after a fresh
 * association, retries failed connections with exponential backoff, and once
 * READY reports its UI cards and sends GPS (NMEA) and FLIP data, each with
 * send (QoS 1) and stream (QoS 0). It lists the FOTA types it takes
 * (serviceInfo.fota_v2) and its application version (deviceInfo.appVersion:
 * the running MCUboot image's, or config.appVersion for an app not started
 * from a slot) in the shadow, and on FOTA_DONE reboots into the new image; a
 * MODEM update is applied without a reboot when config.modemFotaWithoutReboot
 * is set (nrf_modem_lib re-initialised, then modemFotaCompleted). Every library
 * event is printed with its name and number. With config.rounds > 0 it stops
 * after that many rounds. Asked to stop by the simulator host (SIGINT or
 * SIGTERM from its supervisor), it disconnects, so the cloud sees a DISCONNECT,
 * and ends.
 */

import config from "mc/config";
import { DfuTarget } from "dfu/target";
import {
	DisconnectStatus, EventType, FotaType, Sensor, TopicType, configure, connect, disconnect, eventName, fotaTypes, init,
	modemFotaCompleted, send, sensorAttach, sensorDataSend, sensorDataStream, type CloudEvent,
} from "nrf-cloud/device";

/** What the shadow says about this device: its UI cards, the FOTA types it takes, its application version. */
function deviceReport(): string {
	const serviceInfo: Record<string, string[]> = { ui: ["GPS", "FLIP"] };
	const types = fotaTypes();
	if (types.length > 0) serviceInfo.fota_v2 = types;
	const appVersion = DfuTarget.runningImage().version || config.appVersion;
	print(`app: version ${appVersion}`);
	return JSON.stringify({ state: { reported: { device: { serviceInfo, deviceInfo: { appVersion } } } } });
}

/** FOTA_DONE: the new image is scheduled; the application cleans up and starts it. */
function fotaDone(type: number): void {
	if (type === FotaType.MODEM && config.modemFotaWithoutReboot) {
		let applied = false;
		try {
			const result = DfuTarget.applyModemUpdate();
			print(`app: modem update ${result.status}, modem firmware ${result.version}`);
			applied = result.status === "applied";
		}
		catch (error) {
			print(`app: the modem update could not be applied: ${error instanceof Error ? error.message : String(error)}`);
		}
		check("modem FOTA completed", modemFotaCompleted(applied));
		return;
	}
	print("app: rebooting into the update");
	if (sendTimer !== undefined) clearTimeout(sendTimer);
	sendTimer = undefined;
	stopping = true;
	disconnect();
	DfuTarget.reboot();
}

/** A drive around Trondheim, as GGA fixes: time, latitude, longitude. */
const TRACK: ReadonlyArray<[string, string, string]> = [
	["141856.00", "6326.27336,N", "01028.08721,E"],
	["141906.00", "6326.28112,N", "01028.10450,E"],
	["141916.00", "6326.29001,N", "01028.12987,E"],
	["141926.00", "6326.30215,N", "01028.15102,E"],
];

function nmeaChecksum(body: string): string {
	let sum = 0;
	for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
	return (sum < 16 ? "0" : "") + sum.toString(16).toUpperCase();
}

function gga(index: number): string {
	const [time, latitude, longitude] = TRACK[index % TRACK.length]!;
	const body = `GPGGA,${time},${latitude},${longitude},1,09,0.81,34.7,M,39.8,M,,`;
	return `$${body}*${nmeaChecksum(body)}`;
}

let associationRequested = false;
let reconnectSoon = false;
let failures = 0;
let round = 0;
let stopping = false;
let sendTimer: ReturnType<typeof setTimeout> | undefined;
let lastTag = 0;
let connectTimer: ReturnType<typeof setTimeout> | undefined;
let stopRequested = false;

/** The simulator host's stop request: `callback` runs once on SIGINT or SIGTERM instead of the host being killed. */
const onStopRequest = function (this: unknown, callback: () => void): void {
	native("xs_sim_on_stop").call(this, callback);
};
const hostExit = function (this: unknown, status: number): void {
	native("xs_sim_exit").call(this, status);
};

function stop(): void {
	print("app: stopping");
	stopRequested = true;
	stopping = true;
	if (sendTimer !== undefined) clearTimeout(sendTimer);
	if (connectTimer !== undefined) clearTimeout(connectTimer);
	sendTimer = connectTimer = undefined;
	// Not connected: there is no one to say goodbye to.
	if (disconnect() !== 0) hostExit(0);
}

function print(line: string): void {
	console.log(line);
}

function scheduleConnect(delay: number): void {
	if (stopRequested) return;
	print(`app: connecting in ${delay} ms`);
	connectTimer = setTimeout(() => {
		connectTimer = undefined;
		connect().then((result) => {
			if (result < 0) {
				print(`app: connect returned ${result}`);
				retry();
			}
		});
	}, delay);
}

/** Exponential backoff for failed connections, reset by READY. */
function retry(): void {
	const delay = Math.min(config.retryMs * 2 ** failures, config.retryMaxMs);
	failures++;
	scheduleConnect(delay);
}

function check(what: string, result: number): void {
	if (result !== 0) print(`app: ${what} returned ${result}`);
}

function sendRound(): void {
	sendTimer = undefined;
	round++;
	const tag = 10000 + round * 2;
	check("GPS send", sensorDataSend({ type: Sensor.GPS, data: gga(round * 2 - 2), tag: tag - 1 }));
	check("GPS stream", sensorDataStream({ type: Sensor.GPS, data: gga(round * 2 - 1) }));
	check("FLIP send", sensorDataSend({ type: Sensor.FLIP, data: round % 2 === 1 ? "NORMAL" : "UPSIDE_DOWN", tag }));
	check("FLIP stream", sensorDataStream({ type: Sensor.FLIP, data: round % 2 === 1 ? "UPSIDE_DOWN" : "NORMAL" }));
	print(`app: round ${round} sent`);
	lastTag = tag;
	if (config.rounds === 0 || round < config.rounds) sendTimer = setTimeout(sendRound, config.sendIntervalMs);
}

function onEvent(event: CloudEvent): void {
	const details = event.type === EventType.RX_DATA ? ` topic ${event.topic} bytes ${event.data?.length ?? 0}` : "";
	print(`nrf_cloud: ${eventName(event.type)} (${event.type}) status ${event.status}${details}`);
	switch (event.type) {
		case EventType.TRANSPORT_CONNECTING:
			if (event.status < 0) retry();
			break;
		case EventType.USER_ASSOCIATION_REQUEST:
			associationRequested = true;
			print("app: add this device to an nRF Cloud account");
			break;
		case EventType.USER_ASSOCIATED:
			if (associationRequested) {
				// The cloud applies the new permissions only to a new connection.
				associationRequested = false;
				reconnectSoon = true;
				check("disconnect", disconnect());
			}
			break;
		case EventType.READY:
			failures = 0;
			check("device report", send({ data: deviceReport(), topicType: TopicType.STATE }));
			check("GPS attach", sensorAttach({ sensorType: Sensor.GPS }));
			check("FLIP attach", sensorAttach({ sensorType: Sensor.FLIP }));
			sendTimer = setTimeout(sendRound, 0);
			break;
		case EventType.SENSOR_DATA_ACK: {
			const data = event.data!;
			const tag = data[0]! | (data[1]! << 8);
			if (config.rounds > 0 && round >= config.rounds && tag === lastTag) {
				stopping = true;
				check("disconnect", disconnect());
			}
			break;
		}
		case EventType.FOTA_DONE:
			fotaDone(event.data![0]! | (event.data![1]! << 8));
			break;
		case EventType.TRANSPORT_DISCONNECTED:
			if (sendTimer !== undefined) clearTimeout(sendTimer);
			sendTimer = undefined;
			if (stopping) {
				print("app: done");
				if (stopRequested) hostExit(0);
				break;
			}
			if (reconnectSoon || event.status === DisconnectStatus.INVALID_REQUEST) {
				// After a fresh association, and after the JITP rejection of a first connection.
				reconnectSoon = false;
				scheduleConnect(config.retryMs);
			}
			else retry();
			break;
		default:
	}
}

configure({
	host: config.host,
	port: config.port,
	hostname: config.hostname.length > 0 ? config.hostname : undefined,
	secTag: config.secTag,
	keepalive: config.keepalive,
	clientIdSource: config.clientIdSource,
	clientId: config.clientId.length > 0 ? config.clientId : undefined,
	pollThread: true,
	fotaTypes: config.fotaTypes,
	log: (line) => print(`nrf_cloud: ${line}`),
});
const initialized = init({ eventHandler: onEvent, clientId: config.clientId.length > 0 ? config.clientId : undefined });
if (initialized !== 0) throw new Error(`nrf_cloud init failed: ${initialized}`);
onStopRequest(stop);
scheduleConnect(0);
