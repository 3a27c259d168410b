/*
 * The XS mqtt-flood suite (tests/xs/mqtt-flood.suite.ts) in the simulator
 * host against a Node peer that floods QoS 1 publishes as soon as CONNACK is
 * out: the device's queue stays bounded while its send path is blocked, and
 * the peer gets every PUBACK, in order, once it is not.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PacketType } from "../modules/mqtt/packet.js";
import { flood, frames } from "./support/mqtt-flood.js";
import { ScriptedBroker } from "./support/scripted-broker.js";
import { runSim } from "./support/sim.js";
import { writeMqttFloodFixture } from "./support/xs-fixtures.js";
import { assertSuite, outputOf, suiteFile } from "./support/xs-suite.js";
import { MQTT_FLOOD_TESTS } from "./support/xs-suites.js";

const COUNT = 20000;
let peer: ScriptedBroker;

before(async () => {
	peer = await ScriptedBroker.start();
	const bytes = frames(flood(COUNT));
	peer.onConnection = (connection) => {
		connection.onPacket = (packet) => {
			if (packet.type !== PacketType.CONNECT) return;
			connection.send({ type: PacketType.CONNACK, sessionPresent: false, returnCode: 0 });
			connection.sendRaw(bytes);
		};
	};
});

after(async () => { await peer.stop(); });

test("XS suite: QoS 1 floods on a blocked send path over the native socket, both codecs; the peer gets every PUBACK in order", async (t) => {
	writeMqttFloodFixture({ port: peer.port, count: COUNT });
	const result = await runSim(["--timeout", "120", suiteFile("mqtt-flood")]);
	for (const line of result.stdout.trim().split("\n")) t.diagnostic(line);
	const report = assertSuite(result, MQTT_FLOOD_TESTS);
	assert.equal(peer.connections.length, 2);
	const expected = Array.from({ length: COUNT }, (_, i) => `${PacketType.PUBACK}:${i + 1}`);
	for (const connection of peer.connections) {
		const acks = connection.received.filter((p) => p.type !== PacketType.CONNECT && p.type !== PacketType.DISCONNECT);
		assert.deepEqual(acks.map((p) => `${p.type}:${(p as { packetId: number }).packetId}`), expected, "every PUBACK, in the order of the publishes");
	}
	for (const name of MQTT_FLOOD_TESTS) {
		const line = outputOf(report, name).find((l) => l.startsWith("stats "));
		assert.ok(line, `${name}: the suite printed its statistics`);
		const stats = JSON.parse(line.slice(6)) as { atPause: { messages: number; queuedFrames: number }; largest: { bytes: number; frames: number } };
		assert.ok(stats.largest.bytes <= 8192 && stats.largest.frames <= 64, line);
		assert.ok(stats.atPause.messages <= 64, line);
	}
});
