/*
 * tools/xsbug-log against the simulator host's debug build: the machine
 * connects over the xsbug protocol, and its console lines and exceptions (with
 * file and line) arrive through that connection alone.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { XsbugParser } from "../tools/xsbug-log/protocol.js";
import { ensureSim, root } from "./support/sim.js";

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		const child = spawn("node", [join(root, "build", "tools", "xsbug-log", "xsbug-log.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
		child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
		const timer = setTimeout(() => child.kill("SIGKILL"), 60000);
		child.on("close", (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
	});
}

test("xsbug-log captures a console line and an exception with file and line", async () => {
	const sim = ensureSim("debug");
	const dir = mkdtempSync(join(tmpdir(), "xsbug-"));
	try {
		const script = join(dir, "app.js");
		writeFileSync(script, [
			'console.log("hello over xsbug <&>");',
			"function fail() {",
			'\tthrow new RangeError("caught on purpose");',
			"}",
			'try { fail(); } catch (e) { console.log("caught", e.message); }',
			"setTimeout(() => {",
			"\tnull.boom;",
			"}, 5);",
			"",
		].join("\n"));
		const result = await run(["--port", "0", "--quiet-child", "--", sim, script]);
		const lines = result.stdout.trim().split("\n");
		// The app's own lines, in order; what the host's prelude adds after the uncaught error is not the app's.
		assert.deepEqual(lines.slice(0, 4), [
			'xsbug-log: machine "sim" connected',
			"hello over xsbug <&>",
			`${script}:3: exception: throw`,
			"caught caught on purpose",
		], result.stdout + result.stderr);
		assert.match(lines[4] ?? "", new RegExp(`^${script.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:7: exception: .*cannot coerce null to object$`), result.stdout);
		assert.ok(lines.some((line) => line.includes("uncaught exception in timer callback")), result.stdout);
		assert.equal(result.status, 1, "the machine's exit status comes through");
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("console and trace lines arrive through xsbug exactly as the app wrote them", async () => {
	const sim = ensureSim("debug");
	const dir = mkdtempSync(join(tmpdir(), "xsbug-"));
	try {
		const script = join(dir, "lines.js");
		writeFileSync(script, [
			'console.log("console line", 1, { a: [1, 2] });',
			'trace("trace line\\n");',
			'console.log("", "two", "", "gaps");',
			'trace("<xml> & \\"quotes\\"\\n");',
			"",
		].join("\n"));
		const result = await run(["--port", "0", "--quiet-child", "--", sim, script]);
		assert.equal(result.status, 0, result.stdout + result.stderr);
		assert.deepEqual(result.stdout.split("\n"), [
			'xsbug-log: machine "sim" connected',
			'console line 1 {"a":[1,2]}',
			"trace line",
			" two  gaps",
			'<xml> & "quotes"',
			"",
		]);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("without a debugger the debug build runs on its own", async () => {
	const sim = ensureSim("debug");
	const dir = mkdtempSync(join(tmpdir(), "xsbug-"));
	try {
		const script = join(dir, "app.js");
		writeFileSync(script, 'console.log("alone");\n');
		const result = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
			const child = spawn(sim, [script], { env: { ...process.env, XSBUG_HOST: "127.0.0.1:1" }, stdio: ["ignore", "pipe", "inherit"] });
			let stdout = "";
			child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
			child.on("close", (status) => resolve({ status, stdout }));
		});
		assert.equal(result.status, 0);
		assert.equal(result.stdout, "alone\n");
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("the protocol parser handles split messages, entities and unknown tags", () => {
	const parser = new XsbugParser();
	assert.deepEqual(parser.push('\r\n<xsbug><login name="m" value="XS"/></xsbug>\r\n<xsbug><frames><frame name="x"/></frames><log>a &lt;b&gt; &amp; &#x41;'), [{ kind: "login", name: "m" }]);
	assert.deepEqual(parser.push('</log><break path="/a.js" line="4"># Break: boom!\n</break></xsbug>'), [
		{ kind: "log", text: "a <b> & A" },
		{ kind: "break", text: "# Break: boom!\n", path: "/a.js", line: 4 },
	]);
	assert.deepEqual(parser.push("garbage without markup"), []);
});
