/*
 * The offline queue when the connection ends inside one of its own publishes:
 * the socket's write can fail at once (a link cut the device has not noticed
 * yet), and the error reaches the library, which ends the connection, before
 * publish() returns its packet id. The message must go again on the next
 * connection and must not take that id with it: found by the soak (npm run
 * soak), where it lost about 2 messages in 10,000.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { OfflineQueue, QueueTopic } from "../modules/nrf-cloud/offline-queue.js";
import { VirtualClock } from "./support/virtual-clock.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test("offline queue: a message whose publish ended the connection goes again on the next one, and a PUBACK of its old id does not take it", () => {
	const clock = new VirtualClock();
	const sent: Array<{ text: string; id: number }> = [];
	let nextId = 1;
	let cutOnPublish = -1;
	const queue: OfflineQueue = new OfflineQueue({ messages: 10, bytes: 1000, maxInFlight: 4, perSecond: 10 }, {
		publish: (_topic, payload) => {
			const id = nextId++;
			sent.push({ text: dec(payload), id });
			// The write failed at once: the library saw the connection end before this returns.
			if (sent.length === cutOnPublish) queue.connectionLost();
			return id;
		},
		log: () => {},
	}, clock);
	for (let i = 0; i < 3; i++) assert.equal(queue.add(QueueTopic.D2C, enc(`m${i}`), 0), 0);
	cutOnPublish = 2;
	queue.start(false);
	clock.advance(1000);
	assert.deepEqual(sent.map((s) => s.text), ["m0", "m1"], "nothing more goes out on the ended connection");
	// The next connection: every message not acknowledged goes again, m1 included.
	nextId = 2;
	queue.start(false);
	clock.advance(1000);
	assert.deepEqual(sent.slice(2).map((s) => s.text), ["m0", "m1", "m2"]);
	assert.equal(queue.stats.inFlight, 3);
	// The new connection acknowledges m0 (id 2) and m1 (id 3), then m2 (id 4): the queue is empty.
	for (const id of [2, 3, 4]) assert.equal(dec(queue.acknowledged(id)!.payload), sent.find((s, i) => i >= 2 && s.id === id)!.text);
	assert.equal(queue.stats.messages, 0);
});
