/*
 * The reconnect backoff alone, on a virtual clock with a scripted random
 * source: full-jitter bounds per attempt, the cap, the reset after a READY that
 * lasted, and nothing after stop().
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { backoffDelay, Reconnector } from "../modules/nrf-cloud/reconnect.js";
import { resolveConfig } from "../modules/nrf-cloud/config.js";
import { VirtualClock } from "./support/virtual-clock.js";

test("backoffDelay: an integer in [0, min(maxMs, minMs·2^n)], both ends reachable", () => {
	fc.assert(fc.property(fc.nat(60), fc.integer({ min: 1, max: 10000 }), fc.integer({ min: 0, max: 100000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, minMs, extra, r) => {
		const maxMs = minMs + extra;
		const delay = backoffDelay(n, minMs, maxMs, () => r);
		assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= Math.min(maxMs, minMs * 2 ** n));
	}));
	assert.equal(backoffDelay(3, 100, 10000, () => 0), 0);
	assert.equal(backoffDelay(3, 100, 10000, () => 0.9999999), 800);
	assert.equal(backoffDelay(30, 100, 10000, () => 0.9999999), 10000);
	assert.equal(backoffDelay(0, 100, 10000, () => Number.NaN), 0, "a broken random source cannot make a delay out of range");
});

function rig(stableMs = 60000) {
	const clock = new VirtualClock();
	let connects = 0;
	const r = new Reconnector({ minMs: 100, maxMs: 1000, stableMs }, clock, () => 0.9999999, () => { connects++; });
	return { clock, r, connects: () => connects };
}

test("reconnector: the caps double per attempt up to maxMs; the connect runs when the delay has passed", () => {
	const { clock, r, connects } = rig();
	const caps: number[] = [];
	for (let i = 0; i < 6; i++) {
		r.lost();
		caps.push(r.lastDelay!);
		clock.advance(r.lastDelay! - 1);
		assert.equal(connects(), i, "not before the delay");
		clock.advance(1);
		assert.equal(connects(), i + 1);
	}
	assert.deepEqual(caps, [100, 200, 400, 800, 1000, 1000]);
});

test("reconnector: a READY that lasted stableMs resets the backoff, a shorter one does not", () => {
	const { clock, r } = rig(60000);
	for (let i = 0; i < 3; i++) { r.lost(); clock.advance(1000); }
	r.ready();
	clock.advance(59999);
	r.lost();
	assert.equal(r.lastDelay, 800, "59.999 s is not stable");
	clock.advance(1000);
	r.ready();
	clock.advance(60000);
	r.lost();
	assert.equal(r.lastDelay, 100, "60 s is");
});

test("reconnector: stop() cancels a waiting reconnect and schedules none until start()", () => {
	const { clock, r, connects } = rig();
	r.lost();
	assert.equal(r.scheduled, true);
	r.stop();
	assert.equal(r.scheduled, false);
	r.lost();
	clock.advance(100000);
	assert.equal(connects(), 0);
	r.start();
	r.lost();
	clock.advance(100000);
	assert.equal(connects(), 1);
	r.cycle();
	r.lost();
	assert.equal(r.lastDelay, 100, "the association cycle starts from the first attempt");
});

test("config: offlineQueue and reconnect are checked like every other option", () => {
	assert.throws(() => resolveConfig({ offlineQueue: {} as never }), /offlineQueue.messages is required/);
	assert.throws(() => resolveConfig({ offlineQueue: { messages: 0, bytes: 1, persist: false } }), /offlineQueue.messages must be an integer from 1 to 65535/);
	assert.throws(() => resolveConfig({ offlineQueue: { messages: 1, bytes: 1, persist: "yes" as never } }), /offlineQueue.persist must be a boolean/);
	assert.throws(() => resolveConfig({ offlineQueue: { messages: 1, bytes: 1, persist: false, perSecond: 100 } }), /perSecond must be an integer from 1 to 99/);
	assert.throws(() => resolveConfig({ offlineQueue: [] as never }), /offlineQueue must be an object/);
	assert.deepEqual(resolveConfig({ offlineQueue: { messages: 5, bytes: 100, persist: true } }).offlineQueue, { messages: 5, bytes: 100, persist: true, maxInFlight: 4, perSecond: 50 });
	assert.throws(() => resolveConfig({ reconnect: { minMs: 100, maxMs: 50 } }), /reconnect.maxMs must be an integer from 100/);
	assert.throws(() => resolveConfig({ reconnect: { minMs: 0, maxMs: 50 } }), /reconnect.minMs/);
	assert.deepEqual(resolveConfig({ reconnect: { minMs: 100, maxMs: 5000 } }).reconnect, { minMs: 100, maxMs: 5000, stableMs: 60000 });
	assert.throws(() => resolveConfig({ maxIncomingPacket: 10 }), /maxIncomingPacket/);
	const defaults = resolveConfig(undefined);
	assert.deepEqual([defaults.offlineQueue, defaults.reconnect, defaults.maxIncomingPacket], [undefined, undefined, 2304]);
	assert.equal(resolveConfig({ payloadBufferLength: 4096, messageBufferLength: 512 }).maxIncomingPacket, 4608);
});
