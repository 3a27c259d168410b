/*
 * The offline queue alone, on a virtual clock with a recording publisher: order,
 * bounds, pacing, acknowledgement, resending after a lost connection, and its
 * stored form (records, write order, damaged records) in a memory store.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Errno } from "../modules/platform/errno.js";
import { crc32 } from "../modules/platform/crc32.js";
import { OfflineQueue, QueueTopic, type OfflineQueueOptions, type QueueTopicValue } from "../modules/nrf-cloud/offline-queue.js";
import { MAX_PERSISTED_PAYLOAD, QueueStore, messageKey } from "../modules/nrf-cloud/queue-store.js";
import { decodeMessage, decodePosition, encodeMessage, encodePosition } from "../modules/nrf-cloud/queue-record.js";
import { MemorySettings, type SettingsStore } from "../modules/nrf-cloud/settings.js";
import { VirtualClock } from "./support/virtual-clock.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

interface Sent { topic: QueueTopicValue; text: string; tag: number; dupId: number; id: number; at: number }

function rig(options: Partial<OfflineQueueOptions> = {}, store?: SettingsStore) {
	const clock = new VirtualClock();
	const sent: Sent[] = [];
	const logs: string[] = [];
	let nextId = 1;
	const rig = {
		clock, sent, logs,
		/** What publish returns next (undefined: a fresh packet id). */
		answer: undefined as number | undefined,
		queue: undefined as unknown as OfflineQueue,
		store: store === undefined ? undefined : new QueueStore(store, (line) => logs.push(line)),
	};
	rig.queue = new OfflineQueue({ messages: 10, bytes: 1000, maxInFlight: 2, perSecond: 10, ...options }, {
		publish: (topic, payload, tag, dupId) => {
			if (rig.answer !== undefined) return rig.answer;
			const id = dupId !== 0 ? dupId : nextId++;
			sent.push({ topic, text: dec(payload), tag, dupId, id, at: clock.now() });
			return id;
		},
		log: (line) => logs.push(line),
	}, clock, rig.store);
	return rig;
}

test("crc32: the check value of '123456789' is 0xCBF43926 (IEEE, as zlib)", () => {
	assert.equal(crc32(enc("123456789")), 0xCBF43926);
	assert.equal(crc32(new Uint8Array(0)), 0);
});

test("offline queue: messages queued while not ready go out in order once ready, paced and at most maxInFlight at once", () => {
	const r = rig({ maxInFlight: 2, perSecond: 10 });
	for (let i = 0; i < 5; i++) assert.equal(r.queue.add(QueueTopic.D2C, enc(`m${i}`), 0), 0);
	assert.equal(r.sent.length, 0, "nothing is sent before READY");
	r.queue.start(false);
	assert.deepEqual(r.sent.map((s) => s.text), ["m0"]);
	r.clock.advance(100);
	assert.deepEqual(r.sent.map((s) => s.text), ["m0", "m1"]);
	r.clock.advance(1000);
	assert.equal(r.sent.length, 2, "the in-flight window is full until a PUBACK");
	assert.equal(r.queue.stats.inFlight, 2);
	assert.equal(r.queue.acknowledged(r.sent[0]!.id)?.seq, 0);
	assert.deepEqual(r.sent.map((s) => s.text), ["m0", "m1", "m2"]);
	r.queue.acknowledged(r.sent[1]!.id);
	r.clock.advance(99);
	assert.equal(r.sent.length, 3, "no two publishes closer than 1000 / perSecond ms");
	r.clock.advance(1);
	assert.equal(r.sent.length, 4);
	for (let i = 1; i < r.sent.length; i++) assert.ok(r.sent[i]!.at - r.sent[i - 1]!.at >= 100);
	// A new message goes behind the queue.
	r.queue.add(QueueTopic.STATE, enc("new"), 7);
	r.queue.acknowledged(r.sent[2]!.id);
	r.queue.acknowledged(r.sent[3]!.id);
	r.clock.advance(1000);
	assert.deepEqual(r.sent.map((s) => s.text), ["m0", "m1", "m2", "m3", "m4", "new"]);
	assert.deepEqual([r.sent[5]!.topic, r.sent[5]!.tag], [QueueTopic.STATE, 7]);
});

test("offline queue: full by count or bytes gives -ENOMEM and keeps everything already queued", () => {
	const r = rig({ messages: 3, bytes: 10 });
	assert.equal(r.queue.add(QueueTopic.D2C, enc("aaaa"), 0), 0);
	assert.equal(r.queue.add(QueueTopic.D2C, enc("bbbb"), 0), 0);
	assert.equal(r.queue.add(QueueTopic.D2C, enc("ccc"), 0), -Errno.ENOMEM, "11 bytes > 10");
	assert.equal(r.queue.add(QueueTopic.D2C, enc("cc"), 0), 0);
	assert.equal(r.queue.add(QueueTopic.D2C, enc(""), 0), -Errno.ENOMEM, "4th message > 3");
	assert.deepEqual(r.queue.messages.map((m) => dec(m.payload)), ["aaaa", "bbbb", "cc"]);
	assert.deepEqual(r.queue.stats, { messages: 3, bytes: 10, inFlight: 0, corrupt: 0 });
});

test("offline queue: the queue keeps its own copy of the payload", () => {
	const r = rig();
	const payload = enc("abc");
	r.queue.add(QueueTopic.D2C, payload, 0);
	payload[0] = 0x7A;
	r.queue.start(false);
	assert.equal(r.sent[0]!.text, "abc");
});

test("offline queue: in flight at a disconnect is resent on the next connection (DUP with its id when resumed, new otherwise) and leaves only on PUBACK", () => {
	const r = rig({ maxInFlight: 2, perSecond: 99 });
	for (const text of ["a", "b", "c"]) r.queue.add(QueueTopic.D2C, enc(text), 0);
	r.queue.start(false);
	r.clock.advance(100);
	assert.equal(r.sent.length, 2);
	const [a, b] = r.sent;
	r.queue.connectionLost();
	assert.equal(r.queue.stats.messages, 3, "nothing leaves without its PUBACK");
	assert.equal(r.queue.acknowledged(a!.id), undefined, "a PUBACK of the old connection after the loss matches nothing");
	r.clock.advance(1000);
	assert.equal(r.sent.length, 2, "nothing is sent while not ready");
	r.queue.start(true);
	r.clock.advance(100);
	assert.deepEqual(r.sent.slice(2).map((s) => [s.text, s.dupId]), [["a", a!.id], ["b", b!.id]]);
	r.queue.acknowledged(a!.id);
	assert.deepEqual(r.sent.slice(4).map((s) => [s.text, s.dupId]), [["c", 0]], "the PUBACK made room for c");
	r.queue.connectionLost();
	r.queue.start(false);
	r.clock.advance(100);
	assert.deepEqual(r.sent.slice(5).map((s) => [s.text, s.dupId]), [["b", 0], ["c", 0]], "a clean session gets new publishes, in order");
	r.queue.acknowledged(r.sent[5]!.id);
	r.queue.acknowledged(r.sent[6]!.id);
	assert.equal(r.queue.stats.messages, 0);
});

test("offline queue: pause stops new publishes, a refused publish is tried again", () => {
	const r = rig({ maxInFlight: 4, perSecond: 10 });
	for (const text of ["a", "b", "c"]) r.queue.add(QueueTopic.D2C, enc(text), 0);
	r.queue.start(false);
	r.queue.pause();
	r.clock.advance(1000);
	assert.equal(r.sent.length, 1);
	r.answer = -Errno.EAGAIN;
	r.queue.start(false);
	r.clock.advance(1000);
	assert.equal(r.sent.length, 1);
	r.answer = undefined;
	r.queue.acknowledged(r.sent[0]!.id);
	r.clock.advance(1000);
	assert.deepEqual(r.sent.map((s) => s.text), ["a", "b", "c"]);
	// With nothing in flight a refused publish is tried again after one interval.
	r.queue.acknowledged(r.sent[1]!.id);
	r.queue.acknowledged(r.sent[2]!.id);
	r.answer = -Errno.EIO;
	r.queue.add(QueueTopic.D2C, enc("d"), 0);
	assert.ok(r.logs.some((l) => l.includes("not sent")));
	r.answer = undefined;
	r.clock.advance(99);
	assert.equal(r.sent.length, 3);
	r.clock.advance(1);
	assert.equal(r.sent.at(-1)!.text, "d");
});

test("queue records: round trip; every single-byte change, truncation or version is detected", () => {
	fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(0xFFFFFFFF), fc.nat(0xFFFF), fc.boolean(), (payload, seq, tag, state) => {
		const message = { seq, topic: state ? QueueTopic.STATE : QueueTopic.D2C, tag, payload };
		const bytes = encodeMessage(message);
		assert.deepEqual(decodeMessage(bytes), message);
		const i = seq % bytes.length;
		const changed = bytes.slice();
		changed[i] = changed[i]! ^ (1 + (tag % 255));
		assert.equal(decodeMessage(changed), undefined);
		assert.equal(decodeMessage(bytes.subarray(0, bytes.length - 1 - (tag % bytes.length))), undefined);
	}));
	const position = { generation: 9, first: 3, next: 7 };
	assert.deepEqual(decodePosition(encodePosition(position)), position);
	const future = encodePosition(position);
	future[0] = 2;
	assert.equal(decodePosition(future), undefined, "an unknown version is not read");
});

test("persisted queue: survives a restart, removes acknowledged messages, keeps order", () => {
	const settings = new MemorySettings();
	const first = rig({ maxInFlight: 1 }, settings);
	first.queue.load();
	for (const text of ["a", "b", "c"]) assert.equal(first.queue.add(QueueTopic.D2C, enc(text), 5), 0);
	first.queue.start(false);
	first.queue.acknowledged(first.sent[0]!.id);
	// "b" is in flight when the device restarts.
	const second = rig({ maxInFlight: 1 }, settings);
	second.queue.load();
	assert.deepEqual(second.queue.messages.map((m) => [dec(m.payload), m.tag]), [["b", 5], ["c", 5]]);
	assert.equal(second.queue.add(QueueTopic.STATE, enc("d"), 0), 0);
	second.queue.start(false);
	for (let i = 0; i < 3; i++) {
		second.queue.acknowledged(second.sent[i]!.id);
		second.clock.advance(1000);
	}
	assert.deepEqual(second.sent.map((s) => [s.text, s.dupId]), [["b", 0], ["c", 0], ["d", 0]]);
	const third = rig({}, settings);
	third.queue.load();
	assert.equal(third.queue.stats.messages, 0);
	assert.equal(settings.read(messageKey(3)), undefined, "acknowledged records are deleted");
});

/** A store that stops working (a kill) after `writes` more mutations. */
class DyingStore implements SettingsStore {
	readonly inner = new MemorySettings();
	left = Infinity;
	read(key: string): ArrayBuffer | undefined { return this.inner.read(key); }
	write(key: string, value: Uint8Array): void { this.#step(); this.inner.write(key, value); }
	delete(key: string): boolean { this.#step(); return this.inner.delete(key); }
	#step(): void { if (this.left-- <= 0) throw new Error("killed"); }
}

test("persisted queue: a kill after any number of storage writes loses no message whose add returned 0 and brings back no acknowledged one", () => {
	fc.assert(fc.property(fc.array(fc.constantFrom("add", "ack"), { maxLength: 12 }), fc.nat(30), (steps, killAfter) => {
		const store = new DyingStore();
		const r = rig({ maxInFlight: 16, perSecond: 99 }, store);
		r.queue.load();
		r.queue.start(false);
		store.left = killAfter;
		const accepted: string[] = [];
		const acknowledged = new Set<string>();
		let n = 0;
		try {
			for (const step of steps) {
				if (step === "add") {
					const text = `m${n++}`;
					if (r.queue.add(QueueTopic.D2C, enc(text), 0) === 0) accepted.push(text);
					if (store.left <= 0) break;
				}
				else {
					const next = r.sent.find((s) => !acknowledged.has(s.text));
					if (next === undefined) continue;
					const before = store.left;
					r.queue.acknowledged(next.id);
					// The PUBACK counts as taken only when the storage survived its deletion.
					if (before > 0) acknowledged.add(next.text);
					r.clock.advance(100);
				}
			}
		}
		catch {
			// The kill.
		}
		const after = rig({}, store.inner);
		after.queue.load();
		const restored = after.queue.messages.map((m) => dec(m.payload));
		for (const text of accepted) if (!acknowledged.has(text)) assert.ok(restored.includes(text), `${text} lost: ${restored.join()}`);
		assert.deepEqual(restored, [...restored].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))), "order kept");
		assert.equal(after.queue.stats.corrupt, 0);
	}));
});

test("persisted queue: a damaged record is reported, dropped and the rest loads; a damaged position slot falls back to the other", () => {
	const settings = new MemorySettings();
	const r = rig({}, settings);
	r.queue.load();
	for (const text of ["a", "b", "c"]) r.queue.add(QueueTopic.D2C, enc(text), 0);
	const record = new Uint8Array(settings.read(messageKey(1))!);
	settings.write(messageKey(1), record.subarray(0, record.length - 2));
	// The newest position slot is torn: the older one (two messages) is used.
	const slots = ["queue/pos0", "queue/pos1"].map((key) => decodePosition(new Uint8Array(settings.read(key)!))!);
	const newest = slots[0]!.generation > slots[1]!.generation ? "queue/pos0" : "queue/pos1";
	settings.write(newest, new Uint8Array([1, 2, 3]));
	const again = rig({}, settings);
	assert.doesNotThrow(() => again.queue.load());
	assert.deepEqual(again.queue.messages.map((m) => dec(m.payload)), ["a"]);
	assert.equal(again.queue.stats.corrupt, 2);
	assert.ok(again.logs.some((l) => l.includes(`${messageKey(1)} is damaged`)));
	assert.equal(settings.read(messageKey(1)), undefined, "the damaged record is deleted");
	const lost = new MemorySettings();
	lost.write("queue/pos0", new Uint8Array(17));
	const none = rig({}, lost);
	none.queue.load();
	assert.equal(none.queue.stats.messages, 0);
	assert.ok(none.logs.some((l) => l.includes("no intact position record")));
});

test("persisted queue: a store that refuses a write gives -EIO and queues nothing; a payload too large for one record gives -EMSGSIZE", () => {
	const store = new DyingStore();
	const r = rig({ bytes: 100000 }, store);
	r.queue.load();
	store.left = 0;
	assert.equal(r.queue.add(QueueTopic.D2C, enc("x"), 0), -Errno.EIO);
	assert.equal(r.queue.stats.messages, 0);
	store.left = Infinity;
	assert.equal(r.queue.add(QueueTopic.D2C, new Uint8Array(MAX_PERSISTED_PAYLOAD + 1), 0), -Errno.EMSGSIZE);
	assert.equal(r.queue.add(QueueTopic.D2C, new Uint8Array(MAX_PERSISTED_PAYLOAD), 0), 0);
});
