/*
 * The Moddable SDK's own xsbug (the GTK debugger) against the simulator host's
 * debug build, on a virtual X display:
 *
 *   - xsbug starts with a fresh configuration directory whose preferences hold
 *     one breakpoint, on a line of modules/nrf-cloud/codec.ts (the TypeScript
 *     source, not the compiled JavaScript), and the port it listens on;
 *   - a small app in build/sim/debug/sim calls shadowSensorReport() of the
 *     compiled library; xsbug hands the machine that breakpoint when it logs
 *     in, and the machine stops there, reporting the .ts file and line (source
 *     maps) and staying stopped until xsbug resumes it;
 *   - the test keeps a screenshot of xsbug stopped there
 *     (test-artifacts/xsbug.png), presses xsbug's Step (Ctrl+T) and Run (Ctrl+R)
 *     shortcuts, and the app then finishes with status 0 and its output;
 *   - Quit (Ctrl+Q) makes xsbug write its preferences, which name the file its
 *     code view showed and the selection it highlighted: the stepped-to line of
 *     the .ts source.
 *
 * A relay between the machine and xsbug passes every byte through unchanged
 * and records both directions, so the test waits for what actually happened
 * (the break, xsbug's step and go commands) instead of sleeping.
 *
 * Runs only with $MODDABLE set (the SDK built, xsbug in
 * $MODDABLE/build/bin/lin/release) and Xvfb, xdotool and ImageMagick's import
 * installed: apt-get install xvfb xdotool imagemagick.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { XsbugParser, type MachineMessage } from "../tools/xsbug-log/protocol.js";
import { ensureSim, root } from "./support/sim.js";
import { until } from "./support/until.js";

const TOOLS = ["Xvfb", "xdotool", "import"];
const WIDTH = 1280;
const HEIGHT = 800;
/** The colour xsbug paints the selected (top) frame of the CALLS list with while a machine is stopped. */
const SELECTED_FRAME = [254, 157, 39];
/** A point inside that row with xsbug's default layout (a fresh configuration). */
const SELECTED_FRAME_AT = { x: 160, y: 112 };

function missingTools(): string[] {
	return TOOLS.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
}

/** A child process whose output is kept and whose end can be awaited. */
class Child {
	readonly process: ChildProcess;
	stdout = "";
	stderr = "";
	status: number | null | undefined;
	signal: NodeJS.Signals | null = null;
	readonly exited: Promise<void>;

	constructor(readonly name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; extraFd?: boolean } = {}) {
		this.process = spawn(command, args, {
			env: options.env ?? process.env,
			cwd: options.cwd,
			stdio: options.extraFd ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
		});
		this.process.stdout!.on("data", (d: Buffer) => { this.stdout += d.toString(); });
		this.process.stderr!.on("data", (d: Buffer) => { this.stderr += d.toString(); });
		this.exited = new Promise((resolve) => {
			this.process.on("error", (error) => {
				this.stderr += `${error.message}\n`;
				this.status = null;
				resolve();
			});
			this.process.on("exit", (status, signal) => {
				this.status = status;
				this.signal = signal;
				resolve();
			});
		});
	}

	get running(): boolean {
		return this.status === undefined;
	}

	/** Ends the process if it still runs: SIGTERM, then SIGKILL. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.process.kill("SIGTERM");
		const timer = setTimeout(() => this.process.kill("SIGKILL"), 3000);
		await this.exited;
		clearTimeout(timer);
	}

	describe(): string {
		return `${this.name}: status ${String(this.status)}, signal ${String(this.signal)}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`;
	}
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 20000): { status: number | null; stdout: Buffer; stderr: string } {
	const result = spawnSync(command, args, { env, timeout, maxBuffer: 64 * 1024 * 1024 });
	return { status: result.status, stdout: result.stdout, stderr: result.stderr?.toString() ?? String(result.error ?? "") };
}

/** Whether something listens on the TCP port, read from the kernel's table rather than by connecting (xsbug would take a connection for a machine). */
function listening(port: number): boolean {
	const hex = port.toString(16).toUpperCase().padStart(4, "0");
	for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
		if (!existsSync(table)) continue;
		for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
			const fields = line.trim().split(/\s+/);
			if (fields[1]?.endsWith(`:${hex}`) && fields[3] === "0A") return true;
		}
	}
	return false;
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

type Break = Extract<MachineMessage, { kind: "break" }>;

/** Passes the xsbug connection through unchanged, recording both directions. */
class Relay {
	readonly server: net.Server;
	readonly fromMachine: MachineMessage[] = [];
	toMachine = "";
	connections = 0;
	readonly sockets: net.Socket[] = [];

	constructor(xsbugPort: number) {
		this.server = net.createServer((machine) => {
			this.connections++;
			const parser = new XsbugParser();
			const debuggerSide = net.connect(xsbugPort, "127.0.0.1");
			this.sockets.push(machine, debuggerSide);
			machine.on("data", (chunk: Buffer) => {
				this.fromMachine.push(...parser.push(chunk.toString("utf8")));
				debuggerSide.write(chunk);
			});
			debuggerSide.on("data", (chunk: Buffer) => {
				this.toMachine += chunk.toString("utf8");
				machine.write(chunk);
			});
			machine.on("end", () => debuggerSide.end());
			debuggerSide.on("end", () => machine.end());
			machine.on("error", () => debuggerSide.destroy());
			debuggerSide.on("error", () => machine.destroy());
		});
	}

	listen(): Promise<number> {
		return new Promise((resolve, reject) => {
			this.server.once("error", reject);
			this.server.listen(0, "127.0.0.1", () => resolve((this.server.address() as net.AddressInfo).port));
		});
	}

	close(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		return new Promise((resolve) => this.server.close(() => resolve()));
	}

	breaks(): Break[] {
		return this.fromMachine.filter((message): message is Break => message.kind === "break");
	}

	describe(): string {
		return `machine said: ${JSON.stringify(this.fromMachine)}\nxsbug said: ${JSON.stringify(this.toMachine)}`;
	}
}

/** The 1-based line of `file` that contains `text`, which must occur once. */
function lineOf(file: string, text: string): number {
	const lines = readFileSync(file, "utf8").split("\n");
	const found = lines.flatMap((line, index) => (line.includes(text) ? [index + 1] : []));
	assert.equal(found.length, 1, `${text} once in ${file}`);
	return found[0]!;
}

test("xsbug shows the TypeScript source, stops at a breakpoint in the library and steps", { timeout: 120000 }, async (t) => {
	const moddable = process.env.MODDABLE;
	if (!moddable) {
		t.skip("skipped: MODDABLE not set");
		return;
	}
	if (process.platform !== "linux") {
		t.skip(`skipped: xsbug's Linux build only (platform ${process.platform})`);
		return;
	}
	const missing = missingTools();
	if (missing.length > 0) {
		t.skip(`skipped: ${missing.join(", ")} not installed (apt-get install xvfb xdotool imagemagick)`);
		return;
	}
	const xsbugPath = join(moddable, "build", "bin", "lin", "release", "xsbug");
	assert.ok(existsSync(xsbugPath), `MODDABLE is set but ${xsbugPath} is not built (cd $MODDABLE/build/makefiles/lin && make)`);

	const sim = ensureSim("debug");
	const source = realpathSync(join(root, "modules", "nrf-cloud", "codec.ts"));
	const library = join(root, "build", "modules", "nrf-cloud", "codec.js");
	assert.ok(existsSync(library), `${library} is missing: npm run build`);
	const breakLine = lineOf(source, "const reported: JsonObject = {};");
	const stepLine = lineOf(source, "reported[key] = value;");
	assert.equal(stepLine, breakLine + 1, "the step goes to the next line of shadowSensorReport()");

	const dir = mkdtempSync(join(tmpdir(), "xsbug-gui-"));
	const children: Child[] = [];
	let relay: Relay | undefined;
	try {
		// xsbug keeps its preferences in $XDG_CONFIG_HOME/tech.moddable.xsbug.main.json
		// (Piu's PiuConfigPath plus the app's dotted signature) and reads breakpoints
		// and its listening port from there; a fresh directory starts it clean.
		const config = join(dir, "config");
		const home = join(dir, "home");
		mkdirSync(config);
		mkdirSync(home);
		const xsbugPort = await freePort();
		const preferencesFile = join(config, "tech.moddable.xsbug.main.json");
		writeFileSync(preferencesFile, JSON.stringify({
			port: xsbugPort,
			breakpoints: { expanded: true, items: [{ path: source, line: breakLine, id: 0, name: "codec.ts", enabled: true }] },
		}, null, "\t"));

		// Xvfb picks a free display itself and writes its number once it accepts clients.
		const xvfb = new Child("Xvfb", "Xvfb", ["-displayfd", "3", "-screen", "0", `${WIDTH}x${HEIGHT}x24`, "-nolisten", "tcp", "-noreset"], { extraFd: true });
		children.push(xvfb);
		let displayNumber = "";
		xvfb.process.stdio[3]!.on("data", (d: Buffer) => { displayNumber += d.toString(); });
		await until(() => /^\d+\n/.test(displayNumber) || !xvfb.running, { what: "Xvfb to give its display number", timeout: 15000, detail: () => xvfb.describe() });
		assert.ok(xvfb.running, xvfb.describe());
		const display = `:${displayNumber.trim()}`;
		const xenv: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display, XDG_CONFIG_HOME: config, HOME: home };

		const xsbug = new Child("xsbug", xsbugPath, [], { env: xenv });
		children.push(xsbug);
		const search = run("xdotool", ["search", "--sync", "--onlyvisible", "--pid", String(xsbug.process.pid)], xenv, 30000);
		assert.equal(search.status, 0, `xsbug's window did not appear: ${search.stderr}\n${xsbug.describe()}`);
		const window = search.stdout.toString().trim().split("\n")[0]!;
		assert.equal(run("xdotool", ["getwindowname", window], xenv).stdout.toString().trim(), "xsbug");
		assert.equal(run("xdotool", ["windowsize", "--sync", window, String(WIDTH), String(HEIGHT)], xenv).status, 0);
		await until(() => listening(xsbugPort) || !xsbug.running, { what: `xsbug to listen on port ${xsbugPort}`, timeout: 15000 });
		assert.ok(xsbug.running, xsbug.describe());

		function capture(): Buffer {
			const shot = run("import", ["-window", "root", "-depth", "8", "rgb:-"], xenv);
			assert.equal(shot.status, 0, `import: ${shot.stderr}`);
			assert.equal(shot.stdout.length, WIDTH * HEIGHT * 3);
			return shot.stdout;
		}
		function pixel(shot: Buffer, x: number, y: number): number[] {
			const at = (y * WIDTH + x) * 3;
			return [shot[at]!, shot[at + 1]!, shot[at + 2]!];
		}
		function key(keys: string): void {
			assert.equal(run("xdotool", ["windowfocus", "--sync", window], xenv).status, 0, "focus xsbug");
			const pressed = run("xdotool", ["key", "--clearmodifiers", keys], xenv);
			assert.equal(pressed.status, 0, `xdotool key ${keys}: ${pressed.stderr}`);
		}
		const idle = capture();
		assert.notDeepEqual(pixel(idle, SELECTED_FRAME_AT.x, SELECTED_FRAME_AT.y), SELECTED_FRAME, "no frame is selected before a machine stops");

		relay = new Relay(xsbugPort);
		const relayPort = await relay.listen();
		const app = join(dir, "app.js");
		writeFileSync(app, [
			`import { shadowSensorReport } from ${JSON.stringify(library)};`,
			'const report = shadowSensorReport("TEMP", 21.5);',
			'console.log("report", report);',
			"",
		].join("\n"));
		const machine = new Child("sim", sim, [app], { env: { ...process.env, XSBUG_HOST: `127.0.0.1:${relayPort}` }, cwd: dir });
		children.push(machine);
		const r = relay;

		// The machine stops at the breakpoint that xsbug gave it from its preferences.
		await until(() => r.breaks().length > 0 || !machine.running, { what: "the machine to stop at the breakpoint", timeout: 30000, detail: () => `${r.describe()}\n${machine.describe()}` });
		assert.ok(machine.running, `the machine ran past the breakpoint\n${machine.describe()}\n${r.describe()}`);
		assert.match(r.toMachine, new RegExp(`<set-all-breakpoints>.*<breakpoint path="${source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" line="${breakLine}"`, "s"), `xsbug set the breakpoint on the .ts line\n${r.describe()}`);
		const first = r.breaks()[0]!;
		assert.equal(first.path, source, "the machine reports the TypeScript file (source map)");
		assert.equal(first.line, breakLine);
		assert.match(first.text, /Break: breakpoint/);

		// xsbug draws the stopped machine: the selected frame, then a settled screen.
		let previous: Buffer = Buffer.alloc(0);
		await until(() => {
			const shot = capture();
			const settled = previous.equals(shot) && pixel(shot, SELECTED_FRAME_AT.x, SELECTED_FRAME_AT.y).join() === SELECTED_FRAME.join();
			previous = shot;
			return settled;
		}, { what: "xsbug to draw the stopped machine", timeout: 15000, interval: 100 });
		assert.ok(!previous.equals(idle));
		mkdirSync(join(root, "test-artifacts"), { recursive: true });
		const png = join(root, "test-artifacts", "xsbug.png");
		const saved = run("import", ["-window", "root", png], xenv);
		assert.equal(saved.status, 0, `import: ${saved.stderr}`);
		assert.ok(machine.running, "the machine waits for xsbug");

		// Step (Ctrl+T): xsbug sends step, the machine stops on the next line.
		key("ctrl+t");
		await until(() => r.breaks().length > 1 || !machine.running, { what: "the machine to stop after the step", timeout: 15000, detail: () => r.describe() });
		assert.match(r.toMachine, /<step\/>/, "xsbug sent step");
		const second = r.breaks()[1]!;
		assert.deepEqual([second.path, second.line], [source, stepLine], r.describe());
		assert.match(second.text, /Break: step/);
		assert.ok(machine.running, "stopped again after the step");

		// Run (Ctrl+R): the app finishes with its output.
		const beforeGo = r.toMachine.length;
		key("ctrl+r");
		await until(() => !machine.running, { what: "the app to finish after Run", timeout: 15000, detail: () => `${machine.describe()}\n${r.describe()}` });
		assert.match(r.toMachine.slice(beforeGo), /<go\/>/, "xsbug sent go");
		assert.equal(machine.status, 0, machine.describe());
		assert.equal(machine.stdout, 'report {"state":{"reported":{"TEMP":21.5}}}\n', machine.describe());
		assert.equal(r.breaks().length, 2, `no break after Run\n${r.describe()}`);

		// Quit (Ctrl+Q): xsbug saves which file its code view shows and what it highlights.
		key("ctrl+q");
		await until(() => !xsbug.running, { what: "xsbug to quit", timeout: 15000, detail: () => xsbug.describe() });
		assert.equal(xsbug.status, 0, xsbug.describe());
		const preferences = JSON.parse(readFileSync(preferencesFile, "utf8")) as {
			path?: string;
			state?: { selection?: { offset: number; length: number } };
			breakpoints?: { items: { path: string; line: number }[] };
		};
		assert.equal(preferences.path, source, "xsbug's code view showed the .ts source");
		assert.deepEqual(preferences.breakpoints?.items.map((item) => [item.path, item.line]), [[source, breakLine]]);
		const selection = preferences.state?.selection;
		assert.ok(selection, `a selection in ${JSON.stringify(preferences.state)}`);
		const text = readFileSync(source, "utf8");
		assert.equal(text.slice(0, selection.offset).split("\n").length, stepLine, "the highlighted line is where the step stopped");
		assert.equal(text.slice(selection.offset, selection.offset + selection.length).trim(), "reported[key] = value;");
	}
	finally {
		await relay?.close();
		for (const child of children.reverse()) await child.stop();
		rmSync(dir, { recursive: true, force: true });
	}
});
