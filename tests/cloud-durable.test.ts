/*
 * What the local nRF Cloud acknowledges it keeps: a device publishes QoS 1
 * messages to the cloud run as its own process (`npm run cloud-sim`), the cloud
 * process is killed with SIGKILL the moment the last PUBACK arrives, and after
 * a restart on the same state directory every acknowledged message is in its
 * store (the REST API lists it), because the embedded broker sends a PUBACK
 * only after the message's group commit. The commits are slowed down
 * (--commit-delay), so that a PUBACK before the commit loses messages here.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { nodeSocket } from "../hosts/node/socket.js";
import { MqttClient } from "../modules/mqtt/client.js";
import { connectFleet, fleetCredentials } from "../tools/cloud-sim/fleet.js";
import { spawnCloud, type CloudProcess } from "../tools/cloud-sim/process.js";
import { restClient } from "./support/cloud.js";

const work = mkdtempSync(join(tmpdir(), "cloud-durable-"));
const state = join(work, "cloud");
const started: CloudProcess[] = [];
after(() => {
	for (const cloud of started) cloud.child.kill("SIGKILL");
	rmSync(work, { recursive: true, force: true });
});

test("every QoS 1 message the cloud acknowledged is in its store after a SIGKILL and a restart", { timeout: 180_000 }, async () => {
	const count = Number(process.env.DURABLE_MESSAGES ?? 2000);
	// faster than AWS IoT allows a connection; each group commit 100 ms late, as on a slow disk, so that a
	// PUBACK sent before its commit would leave messages uncommitted when the kill comes
	const first = await spawnCloud(state, ["--publish-limit", "0", "--commit-delay", "100"]);
	started.push(first);
	const fleet = await fleetCredentials(dirname(first.endpoints.deviceCa), join(work, "fleet"), 1, "nrf-durable-");
	const id = fleet.ids[0]!;
	await connectFleet(fleet, first.endpoints.mqttPort);	// JITP: registers the device, refuses this connection
	const rest = restClient(() => first.endpoints);
	assert.equal((await rest("PUT", `/v1/association/${id}`, id)).status, 202);

	const acknowledged = new Set<number>();
	const topic = `${first.endpoints.topicPrefix}m/d/${id}/d2c`;
	const messageOf = new Map<number, number>();
	let sent = 0;
	let killedAt = -1;
	const done = new Promise<void>((resolve, reject) => {
		const client = new MqttClient({
			clientId: id, keepalive: 60, maxInflight: 64,
			onConnect: () => pump(),
			onPublish: (packetId) => {
				acknowledged.add(messageOf.get(packetId)!);
				if (acknowledged.size === count) {
					// right now, before anything else runs: nothing acknowledged may be lost
					first.child.kill("SIGKILL");
					killedAt = Date.now();
					resolve();
					return;
				}
				pump();
			},
			onClose: (error) => { if (killedAt < 0) reject(error ?? new Error("the connection closed before the last PUBACK")); },
		});
		const pump = (): void => {
			while (sent < count && client.inflight < 64) {
				const packetId = client.publish(topic, JSON.stringify({ appId: "TEMP", messageType: "DATA", data: String(sent) }), { qos: 1 });
				messageOf.set(packetId, sent++);
			}
		};
		client.connect(nodeSocket({ host: "127.0.0.1", port: first.endpoints.mqttPort, tls: { ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, servername: "localhost" } }));
	});
	await done;
	assert.equal(await first.exited, "SIGKILL");
	assert.equal(acknowledged.size, count);

	const second = await spawnCloud(state);
	started.push(second);
	try {
		const restarted = restClient(() => second.endpoints);
		const stored = new Set<number>();
		let afterSeq = 0;
		for (;;) {
			const page = await restarted("GET", `/v1/messages?deviceId=${id}&direction=d2c&pageLimit=1000&after=${afterSeq}`);
			assert.equal(page.status, 200);
			const items = page.json.items as Array<{ seq: number; topic: string; message: { data: string } }>;
			if (items.length === 0) break;
			for (const item of items) {
				assert.equal(item.topic, topic);
				stored.add(Number(item.message.data));
			}
			afterSeq = items.at(-1)!.seq;
		}
		const lost = [...acknowledged].filter((n) => !stored.has(n));
		assert.deepEqual(lost, [], `${lost.length} acknowledged messages were lost`);
	}
	finally {
		await second.stop();
	}
});
