/*
 * The local nRF Cloud against third-party MQTT clients (mosquitto_pub,
 * mosquitto_sub and mosquitto_rr with provisioned certificates): JITP, the
 * trimmed shadow, deltas, the per-device policy, association, and device
 * messages returned by the REST API.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { mosquittoPubAs, mosquittoRequest, mosquittoSubAs, stopTools, type ToolCredentials } from "../tools/lib/mosquitto.js";
import { provision } from "../tools/provision/main.js";
import { readFileSync } from "node:fs";
import tls from "node:tls";
import { MqttDecoder } from "../modules/mqtt/decoder.js";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { PacketType } from "../modules/mqtt/packet.js";
import { deviceCredentials, restClient } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const DEVICE = "nrf-352656100441776";
const OTHER = "nrf-352656100000017";
let dir: string;
let running: RunningCloud;
let pin: string;

const credentials = (id: string): ToolCredentials => deviceCredentials(dir, running.endpoints, id);

const rest = restClient(() => running.endpoints);

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "cloud-sim-"));
	running = await startCloud({ state: join(dir, "cloud") });
	pin = provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem"), deviceId: DEVICE, clientIdSource: "compile-time", out: join(dir, "out") }).pin;
	provision({ cloudState: join(dir, "cloud"), modem: join(dir, "modem-other"), deviceId: OTHER, clientIdSource: "compile-time", out: join(dir, "out") });
});

after(async () => {
	stopTools();
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

test("JITP: the first connection registers the device and is refused, the second is accepted", async () => {
	assert.deepEqual((await rest("GET", "/v1/devices")).json, { items: [], total: 0 });
	await assert.rejects(mosquittoPubAs(credentials(DEVICE), ["-t", `$aws/things/${DEVICE}/shadow/get`, "-n", "-q", "1"]));
	const devices = (await rest("GET", "/v1/devices")).json;
	assert.equal(devices.total, 1);
	assert.equal(devices.items[0].id, DEVICE);
	assert.equal(devices.items[0].associated, false);
	assert.deepEqual(devices.items[0].state.desired, { pairing: { state: "not_associated" } });
	await mosquittoPubAs(credentials(DEVICE), ["-t", `$aws/things/${DEVICE}/shadow/get`, "-n", "-q", "1"]);
	await assert.rejects(mosquittoPubAs(credentials(OTHER), ["-t", `$aws/things/${OTHER}/shadow/get`, "-n", "-q", "1"]), "the other device's JITP");
});

test("a client id that is not the certificate's CN is refused", async () => {
	await assert.rejects(mosquittoPubAs({ ...credentials(DEVICE), id: "nrf-someone-else" }, ["-t", `$aws/things/${DEVICE}/shadow/get`, "-n", "-q", "1"]));
});

test("shadow get is answered with the trimmed document on <id>/shadow/get/accepted", async () => {
	const answer = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/get`, `${DEVICE}/shadow/get/accepted`, ""));
	assert.equal(answer.state, undefined, "no state wrapper");
	assert.equal(answer.metadata, undefined, "no metadata");
	assert.deepEqual(answer.desired, { pairing: { state: "not_associated" } });
	assert.equal(answer.reported.connection.status, "connected");
	assert.ok(JSON.stringify(answer).length < 2048);
});

test("a desired update from the device produces a delta; a bad update is rejected", async () => {
	const delta = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/update`, `$aws/things/${DEVICE}/shadow/update/delta`,
		JSON.stringify({ state: { desired: { config: { GPS: { enable: true } } }, reported: { pairing: { state: "not_associated" }, config: { GPS: { enable: false } } } } })));
	assert.deepEqual(delta.state, { config: { GPS: { enable: true } } });
	assert.equal(typeof delta.version, "number");
	assert.equal(typeof delta.timestamp, "number");
	assert.equal(typeof delta.metadata.config.GPS.enable.timestamp, "number");
	const rejected = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/update`, `$aws/things/${DEVICE}/shadow/update/rejected`, "{not json"));
	assert.equal(rejected.code, 400);
	const tooBig = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/update`, `$aws/things/${DEVICE}/shadow/update/rejected`,
		JSON.stringify({ state: { reported: { blob: "x".repeat(9000) } } })));
	assert.equal(tooBig.code, 413);
});

test("another device's topics are refused: SUBACK 0x80 and a disconnect on publish", async () => {
	const subscriber = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", `$aws/things/${OTHER}/shadow/update/delta`, "-W", "5"]);
	assert.deepEqual(subscriber.granted, [128]);
	subscriber.stop();
	await assert.rejects(mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `$aws/things/${OTHER}/shadow/update`, "-m", '{"state":{"reported":{"x":1}}}']));
	await assert.rejects(mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `${running.endpoints.topicPrefix}m/d/${DEVICE}/d2c`, "-m", "{}"]),
		"d2c is not allowed before association");
});

test("association through the REST API: a delta with the topics, then d2c messages are stored and returned", async () => {
	const subscriber = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", `$aws/things/${DEVICE}/shadow/update/delta`, "-C", "1", "-W", "20"]);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, "000000")).status, 400, "a wrong PIN");
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, pin)).status, 202);
	const [line] = await subscriber.wait(1);
	const delta = JSON.parse(line!.slice(line!.indexOf(" ") + 1));
	const prefix = running.endpoints.topicPrefix;
	assert.deepEqual(delta.state.pairing, { state: "paired", topics: { d2c: `${prefix}m/d/${DEVICE}/d2c`, c2d: `${prefix}m/d/${DEVICE}/c2d` } });
	assert.equal(delta.state.nrfcloud_mqtt_topic_prefix, prefix);
	assert.equal((await rest("PUT", `/v1/association/${DEVICE}`, pin)).status, 409);
	const gps = '{"appId":"GPS","messageType":"DATA","data":"$GPGGA,123519,6325.123,N,01025.456,E,1,08,0.9,545.4,M,46.9,M,,*47"}';
	await mosquittoPubAs(credentials(DEVICE), ["-q", "1", "-t", `${prefix}m/d/${DEVICE}/d2c`, "-m", gps]);
	const messages = await until(async () => {
		const result = await rest("GET", `/v1/messages?deviceId=${DEVICE}`);
		return result.json.total > 0 ? result.json : undefined;
	}, { what: "the stored message", timeout: 10000 });
	assert.equal(messages.items[0].topic, `${prefix}m/d/${DEVICE}/d2c`);
	assert.equal(messages.items[0].direction, "d2c");
	assert.deepEqual(messages.items[0].message, JSON.parse(gps));
	assert.ok(Date.parse(messages.items[0].receivedAt) <= Date.now());
});

test("a cloud-to-device message reaches the associated device", async () => {
	const prefix = running.endpoints.topicPrefix;
	const subscriber = await mosquittoSubAs(credentials(DEVICE), ["-q", "1", "-t", `${prefix}m/d/${DEVICE}/c2d`, "-C", "1", "-W", "20"]);
	assert.deepEqual(subscriber.granted, [1]);
	assert.equal((await rest("POST", `/v1/devices/${DEVICE}/messages`, { appId: "LED", messageType: "CFG_SET", data: { state: "ON" } })).status, 201);
	const [line] = await subscriber.wait(1);
	assert.equal(line, `${prefix}m/d/${DEVICE}/c2d {"appId":"LED","messageType":"CFG_SET","data":{"state":"ON"}}`);
	assert.equal((await rest("POST", `/v1/devices/${OTHER}/messages`, { x: 1 })).status, 409, "the other device is not associated");
});

test("disassociation writes not_associated back and removes the topics", async () => {
	assert.equal((await rest("DELETE", `/v1/association/${DEVICE}`)).status, 202);
	const answer = JSON.parse(await mosquittoRequest(credentials(DEVICE), `$aws/things/${DEVICE}/shadow/get`, `${DEVICE}/shadow/get/accepted`, ""));
	assert.deepEqual(answer.desired.pairing, { state: "not_associated" });
	assert.equal(answer.desired.nrfcloud_mqtt_topic_prefix, undefined);
	assert.equal((await rest("DELETE", `/v1/association/${DEVICE}`)).status, 409);
});

test("association by an input sequence (the legacy button pattern): a mismatch, then the right pattern", async () => {
	const sequence = { method: "buttons", pattern: [1, 2, 3, 4, 1, 2] };
	assert.equal((await rest("PUT", `/v1/association/${OTHER}`, { method: "buttons", pattern: [1, 5] })).status, 400);
	assert.equal((await rest("PUT", `/v1/association/${OTHER}`, { method: "voice", pattern: [1] })).status, 400);
	assert.equal((await rest("PUT", `/v1/association/${OTHER}`, sequence)).status, 202);
	const shadow = `$aws/things/${OTHER}/shadow/`;
	const waiting = JSON.parse(await mosquittoRequest(credentials(OTHER), `${shadow}get`, `${OTHER}/shadow/get/accepted`, ""));
	assert.deepEqual(waiting.desired.pairing, { state: "pattern_wait", config: { iteration: 1, method: "buttons", length: 6 } });
	const report = (pattern: number[]) => JSON.stringify({ state: { reported: {
		pairing: { state: "pattern_wait", config: { iteration: 1, method: "buttons", length: 3 } },
		pairingStatus: { method: "buttons", pattern },
	} } });
	const mismatch = JSON.parse(await mosquittoRequest(credentials(OTHER), `${shadow}update`, `${shadow}update/delta`, report([18, 52, 17])));
	assert.equal(mismatch.state.pairing.state, "pattern_mismatch");
	const paired = JSON.parse(await mosquittoRequest(credentials(OTHER), `${shadow}update`, `${shadow}update/delta`, report([18, 52, 18])));
	const prefix = running.endpoints.topicPrefix;
	assert.deepEqual(paired.state.pairing, { state: "paired", topics: { d2c: `${prefix}m/d/${OTHER}/d2c`, c2d: `${prefix}m/d/${OTHER}/c2d` } });
	assert.equal((await rest("GET", `/v1/devices/${OTHER}`)).json.associated, true);
});

test("packets sent right after CONNECT, before its CONNACK, are answered after the CONNACK, as AWS IoT does", async () => {
	const tool = credentials(DEVICE);
	const encoder = new MqttEncoder();
	const connect = encoder.encode({ type: PacketType.CONNECT, protocolName: "MQTT", protocolLevel: 4, clientId: DEVICE, keepalive: 30, clean: true });
	const subscribe = encoder.encode({ type: PacketType.SUBSCRIBE, packetId: 1234, subscriptions: [{ topic: `${DEVICE}/shadow/get/accepted`, qos: 1 }] });
	const get = encoder.encode({ type: PacketType.PUBLISH, topic: `$aws/things/${DEVICE}/shadow/get`, payload: new Uint8Array(0), qos: 1, retain: false, dup: false, packetId: 5678 });
	// The race this guards against depends on timing: try it many times.
	for (let attempt = 0; attempt < 5; attempt++) {
		const answers: string[] = [];
		await new Promise<void>((resolve, reject) => {
			const socket = tls.connect({ host: "127.0.0.1", port: running.endpoints.mqttPort, ca: readFileSync(tool.ca), cert: readFileSync(tool.cert), key: readFileSync(tool.key), servername: "localhost" }, () => {
				// Separate records, as a device's MQTT stack writes each packet on its own.
				socket.write(connect);
				socket.write(subscribe);
				socket.write(get);
			});
			const decoder = new MqttDecoder({ onPacket: (packet) => {
				answers.push(packet.type === PacketType.PUBLISH ? `PUBLISH ${packet.topic}` : `${packet.type} ${"packetId" in packet ? packet.packetId : ""}`.trim());
				if (answers.length === 4) socket.end();
			} });
			socket.on("data", (data: Buffer) => decoder.parse(new Uint8Array(data)));
			socket.on("error", reject);
			socket.on("close", () => resolve());
		});
		assert.equal(answers[0], `${PacketType.CONNACK}`);
		// MQTT orders PUBACKs among themselves only; the SUBACK and the shadow may come in any order after CONNACK.
		assert.deepEqual(answers.slice(1).sort(), [`${PacketType.PUBACK} 5678`, `${PacketType.SUBACK} 1234`, `PUBLISH ${DEVICE}/shadow/get/accepted`].sort());
	}
});
