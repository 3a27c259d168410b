/*
 * Runs inside XS (simulator host): the nRF Cloud library connecting to READY
 * again and again over the native TLS socket with the modem's credentials,
 * for the connect benchmark and the resumption tests. Arguments: host, port,
 * "pipelined", "ahead" (pipelined with pairedReportAhead) or "lockstep", the number of connections, and how long to stay
 * connected after READY, in milliseconds. After each READY it prints
 *   RECONNECT {"connection":n,"ms":...,"readyAt":...,"tlsResumed":...,"session":0|1}
 * (ms from connect() to READY, the wall clock at READY, whether the TLS handshake resumed a session,
 * TRANSPORT_CONNECTED's status: 1 when the MQTT session was resumed) and
 * disconnects. A refused first connection (JITP) is tried again; on a
 * USER_ASSOCIATION_REQUEST it prints "ASSOCIATION REQUESTED" and waits, and
 * after the association connects again, as docs/protocol.md §1.8.2 asks.
 * A connection that fails is retried every 200 ms for 30 s.
 */

import { nativeCodec } from "../../../modules/mqtt/native-codec.js";
import { deviceUuid, imei } from "../../../modules/modem/at.js";
import { EventType, eventName } from "../../../modules/nrf-cloud/constants.js";
import { NrfCloud, type CloudEvent } from "../../../modules/nrf-cloud/api.js";
import { MemorySettings } from "../../../modules/nrf-cloud/settings.js";
import { TcpSocket } from "../../../modules/socket/tcp.js";

const [host, portText, mode, countText, gapText] = native("xs_sim_args")() as string[];
const exit = native("xs_sim_exit") as (status: number) => void;
const count = Number(countText ?? "1");
const gap = Number(gapText ?? "0");

let socket: TcpSocket | undefined;
const events: CloudEvent[] = [];
let waiting: (() => void) | undefined;
const library = new NrfCloud({
	socket: (options) => (callbacks) => {
		socket = new TcpSocket({ host: options.host, port: options.port, secTag: options.secTag, hostname: options.hostname }, callbacks);
		return socket;
	},
	settings: new MemorySettings(),
	modem: { imei, deviceUuid },
	codec: nativeCodec,
}, { host, port: Number(portText), hostname: "localhost", keepalive: 1200, pipeline: mode !== "lockstep", pairedReportAhead: mode === "ahead", pollThread: true, fota: true });

async function next(): Promise<CloudEvent> {
	while (events.length === 0) await new Promise<void>((resolve) => { waiting = resolve; });
	return events.shift()!;
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function fail(message: string): never {
	console.log(`FAILED ${message}`);
	exit(1);
	throw new Error(message);
}

const status = library.init({ eventHandler: (event) => {
	events.push(event);
	const wake = waiting;
	waiting = undefined;
	wake?.();
} });
if (status !== 0) fail(`init ${status}`);

/** Connects until READY; returns the time it took and what the connection resumed. */
async function connectToReady(index: number): Promise<void> {
	const deadline = Date.now() + 30000;
	let associating = false;
	for (;;) {
		if (Date.now() > deadline) fail(`connection ${index} did not get READY`);
		const started = Date.now();
		let session = 0;
		events.length = 0;
		if ((await library.connect()) !== 0) fail(`connect() refused`);
		for (;;) {
			const event = await next();
			if (event.type === EventType.TRANSPORT_CONNECTING && event.status !== 0) break;	// the connection could not be made
			if (event.type === EventType.TRANSPORT_CONNECTED) session = event.status;
			else if (event.type === EventType.USER_ASSOCIATION_REQUEST) {
				associating = true;
				console.log("ASSOCIATION REQUESTED");
			}
			else if (event.type === EventType.USER_ASSOCIATED && associating) {
				// The broader policy comes with a new connection.
				library.disconnect();
			}
			else if (event.type === EventType.READY) {
				const readyAt = Date.now();
				console.log(`RECONNECT ${JSON.stringify({ connection: index, ms: readyAt - started, readyAt, tlsResumed: socket?.resumed ?? null, session })}`);
				// What the sequence sends after READY (the C library's job request) goes out before the DISCONNECT.
				await sleep(gap);
				library.disconnect();
				while ((await next()).type !== EventType.TRANSPORT_DISCONNECTED);
				return;
			}
			else if (event.type === EventType.TRANSPORT_DISCONNECTED || event.type === EventType.ERROR) {
				if (event.type === EventType.ERROR) console.log(`event ${eventName(event.type)} status ${event.status}`);
				break;
			}
		}
		associating = false;
		await sleep(200);
	}
}

for (let i = 1; i <= count; i++) await connectToReady(i);
console.log("DONE");
exit(0);
