/* The simulator host's own services, seen from JavaScript inside XS. */

import { until } from "../support/until.js";
import { assert, run, test } from "./harness.js";
import { double } from "./fixtures/module-a.js";

declare const Timer: {
	set(callback: (timer: unknown) => void, delay?: number, repeat?: number): { id: number };
	repeat(callback: (timer: unknown) => void, interval: number): { id: number };
	schedule(timer: unknown, delay?: number, repeat?: number): void;
	clear(timer: unknown): void;
	delay(milliseconds: number): void;
};

test("ES modules load through relative specifiers, with their own imports", () => {
	assert.equal(double(21), 42);
});

test("dynamic import resolves and caches modules", async () => {
	const first = await import("./fixtures/module-a.js");
	const second = await import("./fixtures/module-a.js");
	assert.equal(first, second);
	assert.equal(first.loads(), 1, "a module body runs once");
});

test("a missing module is a clear error", async () => {
	const missing = "./fixtures/missing.js";
	await assert.rejects(() => import(missing), (e) => e instanceof ReferenceError && /not found/.test(String(e)));
});

/**
 * Resolves when a timer due in `milliseconds` has fired. Timers fire in
 * deadline order (the first timer test checks that), so once it has, every
 * timer due before it would have fired too: this is how the tests below see
 * that a cleared or unscheduled timer stayed quiet.
 */
function timerPassed(milliseconds: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

test("timers fire in deadline order, after promise jobs", async () => {
	const order: string[] = [];
	setTimeout(() => order.push("t30"), 30);
	setTimeout(() => order.push("t10"), 10);
	setTimeout((a: string, b: string) => order.push(`t0 ${a}${b}`), 0, "x", "y");
	Promise.resolve().then(() => order.push("job"));
	const cancelled = setTimeout(() => order.push("cancelled"), 5);
	clearTimeout(cancelled);
	clearTimeout(undefined);
	// t30 is due last: once it fired, the cancelled timer's time (5 ms) is long past.
	await until(() => order.includes("t30"), { what: "the 30 ms timer", detail: () => `fired: ${order.join(", ")}` });
	assert.deepEqual(order, ["job", "t0 xy", "t10", "t30"]);
});

test("setInterval repeats until cleared; Timer.repeat, schedule and clear", async () => {
	let count = 0;
	const interval = setInterval(() => { count++; if (count === 3) clearInterval(interval); }, 5);
	let repeats = 0;
	const timer = Timer.repeat(() => { repeats++; }, 5);
	// Six repeats of a timer with the interval's period: the interval would have run six times had clearing failed.
	await until(() => repeats >= 6, { what: "six repeats of Timer.repeat", detail: () => `${repeats} repeats` });
	assert.equal(count, 3);
	Timer.schedule(timer);
	const frozen = repeats;
	await timerPassed(20);
	assert.equal(repeats, frozen, "an unscheduled timer stays quiet for four of its periods");
	Timer.schedule(timer, 1);
	await until(() => repeats === frozen + 1, { what: "the rescheduled timer", detail: () => `${repeats - frozen} fired` });
	await timerPassed(20);
	assert.equal(repeats, frozen + 1, "a rescheduled timer without repeat fires once");
	Timer.clear(timer);
	assert.throws(() => Timer.set(5 as unknown as () => void, 1), (e) => e instanceof TypeError);
	assert.throws(() => setTimeout(() => undefined, -1), (e) => e instanceof RangeError);
});

test("Timer.set passes the timer to its callback; Timer.delay blocks", async () => {
	let seen: unknown;
	const timer = Timer.set((t) => { seen = t; }, 1);
	const before = Date.now();
	Timer.delay(20);
	assert.ok(Date.now() - before >= 19, "Timer.delay waited");
	await until(() => seen !== undefined, { what: "the Timer.set callback" });
	assert.equal(seen, timer);
});

test("async functions and promise chains run to completion", async () => {
	const values: number[] = [];
	async function step(n: number): Promise<number> { await null; values.push(n); return n + 1; }
	let n = 0;
	for (let i = 0; i < 100; i++) n = await step(n);
	assert.equal(n, 100);
	assert.equal(values.length, 100);
});

test("native() finds host functions and rejects unknown names", () => {
	const now = native("xs_sim_now")() as number;
	assert.ok(typeof now === "number" && now > 0);
	assert.throws(() => native("xs_no_such_function"), (e) => e instanceof TypeError && /xs_no_such_function/.test(String(e)));
	assert.throws(() => Native("xs_no_such_destructor"), (e) => e instanceof TypeError);
});

test("Native() classes are host objects that subclass normally", () => {
	class Decoder extends Native("xs_mqtt_decoder_destructor") {
		constructor() {
			super();
			native("xs_mqtt_decoder_constructor").call(this, 64);
		}
		get buffered(): number { return native("xs_mqtt_decoder_get_buffered").call(this); }
	}
	const decoder = new Decoder();
	assert.equal(decoder.buffered, 0);
	assert.ok(decoder instanceof Decoder);
	assert.throws(() => native("xs_mqtt_decoder_get_buffered").call({}), (e) => e instanceof Error);
});

test("the host reports memory figures", () => {
	const memory = native("xs_sim_memory")() as Record<string, number>;
	for (const key of ["chunkBytes", "chunkPeak", "slotBytes", "slotPeak", "slotSize", "slotsUsed", "chunksUsed"])
		assert.ok(typeof memory[key] === "number" && memory[key]! >= 0, key);
	assert.ok(memory.chunkPeak! >= memory.chunkBytes!);
	assert.ok(memory.slotSize === 16 || memory.slotSize === 32);
});

// Asserted by the wrapper (sim-host.test.ts), which sees the host's standard output: these lines exactly, in order.
test("console and trace write lines", () => {
	console.log("console line", 1, { a: [1, 2] });
	trace("trace line\n");
	// trace adds no newline of its own: two calls make one line.
	trace("second ");
	trace("trace line\n");
});

await run("host");
