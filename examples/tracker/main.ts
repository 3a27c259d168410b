/*
 * Example firmware for an nRF9160 DK or Thingy:91, a GPS tracker: it
 * connects to nRF Cloud with the nrf_cloud library's public API only, the way
 * docs/protocol.md §1.8 asks an application to (it reconnects after the JITP
 * rejection and after a fresh association, and retries failed connections
 * with exponential backoff). Once READY it sends the GGA sentence of the
 * GNSS receiver's newest fix every config.sendIntervalMs (0: every fix), the
 * FLIP orientation (at READY and on each change) and each button press, and
 * sets LED 1 on the cloud's LED CFG_SET message, answering with the LED's
 * state. The shadow lists the FOTA types it takes (fota_v2) and its version
 * (fota.ts). Every library event is printed by name and number, and each
 * change of the firmware's own state as `app: state <STATE>`. With
 * config.rounds > 0 it stops after that many GPS messages are acknowledged.
 * Asked to stop by its host (the simulator host's SIGINT or SIGTERM), it
 * disconnects, so the cloud sees a DISCONNECT, and ends.
 */

import config from "mc/config";
import {
	DisconnectStatus, EventType, Sensor, TopicType, configure, connect, disconnect, eventName, init,
	send, sensorAttach, sensorDataSend, type CloudEvent,
} from "nrf-cloud/device";
import type { GnssFix } from "sensors/gnss";
import { exit, onStopRequest } from "system/lifecycle";
import { Board } from "./board.js";
import { deviceReport, fotaDone, reboot } from "./fota.js";
import { ledCommand, ledData } from "./messages.js";

type State = "CONNECTING" | "ASSOCIATING" | "READY" | "BACKOFF" | "UPDATING" | "DONE";

let state: State | undefined;
let associationRequested = false;
let reconnectSoon = false;
let failures = 0;
let rounds = 0;
let lastGpsTag = 0;
let lastGpsAt = -Infinity;
let stopping = false;
let stopRequested = false;
let connectTimer: ReturnType<typeof setTimeout> | undefined;
let ready = false;
let tag = 10000;

function print(line: string): void {
	console.log(line);
}

function enter(next: State): void {
	if (state === next) return;
	state = next;
	print(`app: state ${next}`);
}

function check(what: string, result: number): void {
	if (result !== 0) print(`app: ${what} returned ${result}`);
}

/** Tags (MQTT packet ids) of the tracker's QoS 1 messages: 10001 and up, wrapping below 65535. */
function nextTag(): number {
	tag = tag >= 65000 ? 10001 : tag + 1;
	return tag;
}

const board = new Board({
	fix(fix: GnssFix) {
		if (!ready || stopping) return;
		const now = Date.now();
		if (now - lastGpsAt < config.sendIntervalMs) return;
		if (config.rounds > 0 && rounds >= config.rounds) return;
		lastGpsAt = now;
		rounds++;
		lastGpsTag = nextTag();
		check("GPS send", sensorDataSend({ type: Sensor.GPS, data: fix.gga, tag: lastGpsTag }));
		const speed = fix.motion === undefined ? "" : `, ${(fix.motion.speedKnots * 1.852).toFixed(1)} km/h heading ${fix.motion.course.toFixed(0)}`;
		print(`app: GPS ${fix.position.latitude.toFixed(5)},${fix.position.longitude.toFixed(5)}${speed} (round ${rounds})`);
		print(`app: round ${rounds} sent`);
	},
	button(button: number) {
		print(`app: button ${button}`);
		if (ready) check("BUTTON send", sensorDataSend({ type: Sensor.BUTTON, data: String(button), tag: nextTag() }));
	},
	flip(orientation) {
		print(`app: flip ${orientation}`);
		if (ready) check("FLIP send", sensorDataSend({ type: Sensor.FLIP, data: orientation, tag: nextTag() }));
	},
	led(ledState: number) {
		print(`app: LED 1 ${ledState ? "on" : "off"}`);
		if (ready) check("LED send", send({ data: ledData(ledState), topicType: TopicType.MESSAGE, qos: 1 }));
	},
	print,
});

function scheduleConnect(delay: number): void {
	if (stopRequested) return;
	enter(failures > 0 ? "BACKOFF" : "CONNECTING");
	print(`app: connecting in ${delay} ms`);
	connectTimer = setTimeout(() => {
		connectTimer = undefined;
		enter("CONNECTING");
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

function stop(): void {
	stopping = true;
	ready = false;
	board.close();
	check("disconnect", disconnect());
}

/** The host's stop request: leave the cloud, then end; not connected, there is no one to say goodbye to. */
function stopRequest(): void {
	print("app: stopping");
	stopRequested = true;
	if (connectTimer !== undefined) clearTimeout(connectTimer);
	connectTimer = undefined;
	stopping = true;
	ready = false;
	board.close();
	if (disconnect() !== 0) exit(0);
}

function onReady(): void {
	failures = 0;
	ready = true;
	enter("READY");
	check("device report", send({ data: deviceReport(print), topicType: TopicType.STATE }));
	check("GPS attach", sensorAttach({ sensorType: Sensor.GPS }));
	check("FLIP attach", sensorAttach({ sensorType: Sensor.FLIP }));
	check("FLIP send", sensorDataSend({ type: Sensor.FLIP, data: board.orientation(), tag: nextTag() }));
	board.startGnss();
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
			enter("ASSOCIATING");
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
			onReady();
			break;
		case EventType.RX_DATA: {
			const led = ledCommand(event.data);
			if (led !== undefined && !board.setLed(led)) print("app: this board has no LED 1");
			break;
		}
		case EventType.SENSOR_DATA_ACK: {
			const data = event.data!;
			const acknowledged = data[0]! | (data[1]! << 8);
			if (config.rounds > 0 && rounds >= config.rounds && acknowledged === lastGpsTag && !stopping) stop();
			break;
		}
		case EventType.FOTA_DONE:
			if (fotaDone(event.data![0]! | (event.data![1]! << 8), print)) {
				enter("UPDATING");
				print("app: rebooting into the update");
				stop();
				reboot();
			}
			break;
		case EventType.TRANSPORT_DISCONNECTED:
			ready = false;
			if (stopping) {
				enter("DONE");
				print("app: done");
				if (stopRequested) exit(0);
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
onStopRequest(stopRequest);
scheduleConnect(0);
