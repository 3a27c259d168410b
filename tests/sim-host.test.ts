/*
 * The simulator host: the XS suites (tests/xs/*.suite.ts) run inside it, and its
 * exit statuses, memory cap and error reports are checked from outside.
 */

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { root, runSim, sanitizerFindings } from "./support/sim.js";
import { startTlsFixture, writeDeviceFixture, writeMqttPacketVectors } from "./support/xs-fixtures.js";
import { assertSuite, outputOf, suiteFile, type SuiteReport } from "./support/xs-suite.js";
import { HOST_CONSOLE_LINES, runSuite, suiteRuns, type SuiteRun } from "./support/xs-suites.js";

let scratch: string;

before(() => {
	writeMqttPacketVectors();
	scratch = mkdtempSync(join(tmpdir(), "sim-host-"));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

function script(name: string, source: string): string {
	const path = join(scratch, name);
	writeFileSync(path, source);
	return path;
}

/** The release runs of this file, by label, kept for the debug build to be compared with. */
const releaseReports = new Map<string, Promise<SuiteReport>>();

function releaseRun(run: SuiteRun): Promise<SuiteReport> {
	let report = releaseReports.get(run.label);
	if (report === undefined) {
		report = runSuite(run, "release");
		releaseReports.set(run.label, report);
	}
	return report;
}

function runNamed(label: string): SuiteRun {
	const run = suiteRuns(join(scratch, "release")).find((r) => r.label === label);
	assert.ok(run, label);
	return run;
}

test("XS suite: host services (modules, timers, promise jobs, native())", async () => {
	const report = await releaseRun(runNamed("host"));
	assert.deepEqual(outputOf(report, "console and trace write lines"), HOST_CONSOLE_LINES);
});

test("XS suite: the C codec against the TypeScript codec and mqtt-packet's frames", async () => {
	await releaseRun(runNamed("codec"));
});

test("XS suite: the emulated modem's AT commands, on fresh state and on old modem firmware", async () => {
	await releaseRun(runNamed("modem"));
	await releaseRun(runNamed("modem on old firmware"));
});

test("without --state the emulated device refuses to run: modem, storage, DFU and TLS name the option and write nothing", async () => {
	const modules = join(root, "build", "modules");
	const app = script("stateless.js", [
		`import { at } from "${modules}/modem/at.js";`,
		`import { KeyValueStore } from "${modules}/storage/key-value.js";`,
		`import { DfuTarget } from "${modules}/dfu/target.js";`,
		`import { TcpSocket } from "${modules}/socket/tcp.js";`,
		"const outcomes = {};",
		"function attempt(name, body) {",
		"\ttry { body(); outcomes[name] = \"nothing thrown\"; }",
		"\tcatch (error) { outcomes[name] = { errno: error.errno, name: error.name, message: error.message }; }",
		"}",
		'attempt("at", () => at("AT+CGSN"));',
		'attempt("storage", () => new KeyValueStore({ path: "nrf_cloud" }));',
		'attempt("dfu", () => new DfuTarget({ type: "app", size: 100 }));',
		'attempt("lastUpdate", () => DfuTarget.lastUpdate());',
		'attempt("tls", () => new TcpSocket({ host: "127.0.0.1", port: 1, secTag: 16842753 }, { onReadable() {}, onWritable() {}, onError() {} }));',
		"console.log(JSON.stringify(outcomes));",
		"",
	].join("\n"));
	for (const variant of ["release", "asan"]) {
		const cwd = mkdtempSync(join(scratch, "cwd-"));
		const result = await runSim([app], { variant, cwd, env: { ASAN_OPTIONS: "detect_leaks=1" } });
		assert.equal(result.status, 0, result.stdout + result.stderr);
		assert.deepEqual(sanitizerFindings(result.stderr), [], result.stderr);
		const outcomes = JSON.parse(result.stdout) as Record<string, { errno: number; name: string; message: string }>;
		assert.deepEqual(Object.keys(outcomes), ["at", "storage", "dfu", "lastUpdate", "tls"]);
		for (const [name, outcome] of Object.entries(outcomes)) {
			assert.equal(outcome.errno, 2, `${name} (ENOENT): ${JSON.stringify(outcome)}`);
			assert.ok(outcome.message.includes("--state DIR"), `${name} names the option: ${outcome.message}`);
		}
		assert.equal(outcomes.tls!.name, "SocketError");
		assert.deepEqual(readdirSync(cwd), [], "nothing written to the working directory");
	}
	// The same program with a state directory gets past the modem.
	const state = join(scratch, "stateful");
	const result = await runSim(["--state", state, app]);
	const outcomes = JSON.parse(result.stdout) as Record<string, unknown>;
	assert.equal(outcomes.at, "nothing thrown", result.stdout);
	assert.ok(readdirSync(state).includes("imei"));
});

test("under AddressSanitizer, LeakSanitizer and UBSan: host, codec and modem suites are clean", async () => {
	for (const run of suiteRuns(join(scratch, "asan")).filter((r) => ["host", "codec", "modem"].includes(r.label))) {
		const result = await runSim([...run.options, suiteFile(run.suite), ...run.args], { variant: "asan", env: { ASAN_OPTIONS: "detect_leaks=1" } });
		assert.deepEqual(sanitizerFindings(result.stderr), [], `${run.label}: ${result.stderr}`);
		assertSuite(result, run.expected, { label: `${run.label} (asan)` });
	}
});

test("the debug build runs the same suites", async () => {
	const tls = await startTlsFixture();
	try {
		writeDeviceFixture();
		const debugRuns = suiteRuns(join(scratch, "debug"));
		for (const run of suiteRuns(join(scratch, "release"))) {
			const release = await releaseRun(run);
			const debugRun = debugRuns.find((r) => r.label === run.label)!;
			// Without an xsbug to talk to, the debug build runs on its own; port 1 refuses at once.
			const debug = await runSuite(debugRun, "debug", { XSBUG_HOST: "127.0.0.1:1" });
			assert.deepEqual(debug.tests.map((t) => t.name), release.tests.map((t) => t.name), `${run.label}: the same tests in the same order`);
			if (run.label === "host") assert.deepEqual(outputOf(debug, "console and trace write lines"), HOST_CONSOLE_LINES);
		}
	}
	finally {
		await tls.stop();
	}
});

test("exit statuses: uncaught errors, rejections, syntax errors and missing modules are 1", async () => {
	const cases: Array<[string, string, RegExp]> = [
		["throw.js", 'throw new Error("boom at top");', /uncaught exception in main module: Error: boom at top/],
		["timer.js", "setTimeout(() => { null.x; }, 1);", /uncaught exception in timer callback: TypeError/],
		["reject.js", 'Promise.reject(new Error("nobody catches"));', /unhandled rejection: Error: nobody catches/],
		["syntax.js", "let x = ;", /SyntaxError/],
		["missing.js", 'import "./not-there.js";', /not found/],
	];
	for (const [name, source, message] of cases) {
		const result = await runSim([script(name, source)]);
		assert.equal(result.status, 1, `${name}: ${result.stderr}`);
		assert.match(result.stderr, message, name);
	}
	const handled = await runSim([script("handled.js", 'Promise.reject(new Error("x")).catch(() => console.log("handled"));')]);
	assert.equal(handled.status, 0, handled.stderr);
	assert.equal(handled.stdout, "handled\n");
});

test("the debug build reports file and line of an uncaught error", async () => {
	const result = await runSim([script("where.js", '\n\nthrow new Error("here");\n')], { variant: "debug", env: { XSBUG_HOST: "127.0.0.1:1" } });
	assert.equal(result.status, 1);
	assert.match(result.stderr, /where\.js:3/);
});

test("an app that exceeds the memory cap aborts with a clear message and status 4", async () => {
	const path = script("hog.js", 'const keep = []; for (;;) keep.push({ n: keep.length, s: "item " + keep.length });');
	const result = await runSim(["--chunk-cap", "2000000", "--slot-cap", "4000000", path]);
	assert.equal(result.status, 4, result.stderr);
	assert.match(result.stderr, /memory full: chunks \d+ of 2000000 bytes, slots \d+ of 4000000 bytes/);
	const small = await runSim(["--chunk-cap", "2000000", "--slot-cap", "4000000", "--memory-report", script("small.js", "const a = [1, 2, 3];")]);
	assert.equal(small.status, 0, small.stderr);
	assert.match(small.stderr, /sim: memory: chunks \d+ bytes \(peak \d+\), slots \d+ bytes \(peak \d+\), slot size (16|32)/);
});

test("--memory-at prints the memory figures each time the app writes a line holding the text", async () => {
	const path = script("marks.js", [
		'console.log("boot");',
		'const keep = [];',
		'for (let i = 0; i < 2000; i++) keep.push({ i, s: "item " + i });',
		'console.log("mark one");',
		'keep.length = 0;',
		'setTimeout(() => console.log("mark two"), 1);',
	].join("\n"));
	const result = await runSim(["--memory-at", "mark", path]);
	assert.equal(result.status, 0, result.stderr);
	const marks = [...result.stderr.matchAll(/^sim: memory at "mark": (\{.*\})$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, number>);
	assert.equal(marks.length, 2, result.stderr);
	for (const figures of marks) {
		assert.ok(figures.keysUsed! > 0 && figures.keysUsed! <= figures.keysAvailable!, "keys");
		assert.ok(figures.stackUsed! > 0 && figures.stackPeak! >= figures.stackUsed! && figures.stackSize! > figures.stackPeak!, "stack");
		assert.ok(figures.chunksLive! <= figures.chunksUsed! && figures.chunksUsed! <= figures.chunksUsedPeak!, "chunks");
		assert.ok(figures.slotsLive! <= figures.slotsUsed! && figures.slotsUsed! <= figures.slotsUsedPeak!, "slots");
	}
	// 2000 objects held at the first mark and dropped before the second.
	assert.ok(marks[0]!.slotsLive! > marks[1]!.slotsLive! + 2000, `${marks[0]!.slotsLive} then ${marks[1]!.slotsLive}`);
	const bad = await runSim(["--memory-at"]);
	assert.equal(bad.status, 2);
	assert.match(bad.stderr, /--memory-at needs a text/);
});

test("the wall-clock limit ends a run that never finishes (status 6); bad options are status 2", async () => {
	const forever = await runSim(["--timeout", "1", script("forever.js", "setInterval(() => {}, 10);")]);
	assert.equal(forever.status, 6, forever.stderr);
	assert.match(forever.stderr, /wall-clock limit/);
	const usage = await runSim(["--chunk", "lots", "x.js"]);
	assert.equal(usage.status, 2);
	assert.match(usage.stderr, /bad number/);
	const noFile = await runSim([join(scratch, "nothing-here.js")]);
	assert.equal(noFile.status, 2);
});

test("the app's arguments and bare specifiers through --modules", async () => {
	const dir = join(scratch, "lib");
	script("lib-main.js", 'import { value } from "pkg/thing"; console.log(value, native("xs_sim_args")().join(","));');
	rmSync(dir, { recursive: true, force: true });
	await import("node:fs").then((fs) => { fs.mkdirSync(join(dir, "pkg"), { recursive: true }); fs.writeFileSync(join(dir, "pkg", "thing.js"), "export const value = 7;"); });
	const result = await runSim(["--modules", dir, join(scratch, "lib-main.js"), "a", "b"]);
	assert.equal(result.status, 0, result.stderr);
	assert.equal(result.stdout, "7 a,b\n");
});
