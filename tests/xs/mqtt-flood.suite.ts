/*
 * Inside XS, over the simulator host's native socket: a peer floods QoS 1
 * publishes while the device's send path is blocked (a valve over the socket
 * reports it not writable after CONNECT). The MQTT client's outgoing queue
 * stays within its default limits, reading pauses (the native socket's
 * bounded receive buffer and TCP then hold the flood back), and once the valve
 * opens every message is taken and acknowledged, with both codecs. The Node
 * wrapper checks the PUBACKs the peer got.
 */

import { MqttClient, type Codec } from "../../modules/mqtt/client.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import type { MqttError } from "../../modules/mqtt/errors.js";
import { nativeCodec } from "../../modules/mqtt/native-codec.js";
import { PacketType, type PublishPacket } from "../../modules/mqtt/packet.js";
import { tcpSocket } from "../../modules/socket/tcp.js";
import { floodPacket } from "../support/mqtt-flood.js";
import { until } from "../support/until.js";
import { valveSockets } from "../support/valve-socket.js";
import { fixture } from "./generated/mqtt-flood-fixture.js";
import { assert, run, test } from "./harness.js";

/** The client's defaults (modules/mqtt/client.ts). */
const MAX_BYTES = 8192;
const MAX_FRAMES = 64;

function same(got: PublishPacket, want: PublishPacket): boolean {
	if (got.packetId !== want.packetId || got.topic !== want.topic || got.qos !== 1 || got.payload.length !== want.payload.length) return false;
	for (let i = 0; i < want.payload.length; i++) if (got.payload[i] !== want.payload[i]) return false;
	return true;
}

for (const [name, codec] of [["TypeScript", undefined], ["C", nativeCodec]] as [string, Codec | undefined][]) {
	test(`a QoS 1 flood on a blocked send path with the ${name} codec: the queue stays within 8192 bytes and 64 frames, reading pauses, then every message is taken in order`, async () => {
		const clientId = `flood-${name}`;
		const connectLength = new MqttEncoder().length({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId, keepalive: 0, clean: true });
		const valves = valveSockets(tcpSocket({ address: "127.0.0.1", port: fixture.port }), connectLength);
		// Each message is checked as it comes, not kept: the heap holds no flood.
		let received = 0;
		let mismatch = "";
		const over: string[] = [];
		let largest = { bytes: 0, frames: 0 };
		let closed: MqttError | undefined | null = null;
		let connected = false;
		const client: MqttClient = new MqttClient({
			clientId, keepalive: 0, codec,
			onConnect: () => { connected = true; },
			onMessage: (m) => {
				received++;
				if (mismatch === "" && !same(m, floodPacket(received))) mismatch = `message ${received} has id ${m.packetId}, topic ${m.topic}, ${m.payload.length} payload bytes`;
				const bytes = client.queuedBytes;
				const frames = client.queuedFrames;
				largest = { bytes: Math.max(largest.bytes, bytes), frames: Math.max(largest.frames, frames) };
				if (bytes > MAX_BYTES || frames > MAX_FRAMES) over.push(`${bytes} bytes, ${frames} frames at message ${m.packetId}`);
			},
			onClose: (error) => { closed = error; },
		});
		client.connect(valves.factory);
		await until(() => client.readPaused || closed !== null, { timeout: 20000, what: "reading to pause", detail: () => `connected ${connected}, ${received} messages, ${client.queuedFrames} frames queued` });
		assert.equal(closed, null, "the connection is up");
		const valve = valves.sockets[0]!;
		const atPause = { messages: received, queuedBytes: client.queuedBytes, queuedFrames: client.queuedFrames, largestRead: valve.largestRead };
		assert.equal(client.queuedFrames, MAX_FRAMES, "the queue is full of PUBACKs");
		assert.ok(received <= MAX_FRAMES, `${received} messages taken while nothing could be written`);
		valve.openValve();
		await until(() => received === fixture.count || closed !== null, { timeout: 60000, what: `${fixture.count} messages`, detail: () => `${received} messages` });
		await until(() => client.queuedFrames === 0, { what: "the queue to drain", detail: () => `${client.queuedFrames} frames queued` });
		assert.equal(closed, null, "the connection stayed up");
		assert.deepEqual(over, [], "the queue never went over its limits");
		assert.equal(mismatch, "", "every message in order, topic and payload intact");
		console.log(`stats ${JSON.stringify({ codec: name, atPause, largest, reads: valve.reads })}`);
		client.disconnect();
		await until(() => closed !== null, { what: "the disconnect" });
		assert.equal(closed, undefined);
	});
}

await run("mqtt-flood");
