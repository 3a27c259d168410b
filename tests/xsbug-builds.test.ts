/*
 * The SDK's xsbug (the GTK program built with the Moddable SDK) under Xvfb,
 * with the example firmware's debug builds: the xsnap build of the host and the
 * Moddable build. Each connects to xsbug, which stops it where the library
 * throws (the native socket refusing a closed port, xsbug breaks on
 * exceptions); the TypeScript frame of the socket is selected, the screen is
 * kept in test-artifacts/xsbug-<build>.png, and xsbug's Run button lets the
 * machine go on until the library reports the failed connection. Needs
 * $MODDABLE (for xsbug), Xvfb, xdotool and ImageMagick's import; skipped, and
 * saying why, without them. CI keeps the project's headless client
 * (tools/xsbug-log, tests/xsbug-log.test.ts).
 */

import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { deviceCommand } from "../tools/device/main.js";
import { ensureModdable, MODDABLE_SKIP } from "./support/moddable.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const root = process.cwd();
const WIDTH = 1280;
const HEIGHT = 800;
const XSBUG_PORT = 5002;

function has(command: string): boolean {
	return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

const missing = ["Xvfb", "xdotool", "import"].filter((command) => !has(command));
const SKIP = MODDABLE_SKIP || (missing.length ? `skipped: ${missing.join(", ")} not installed (Debian: xvfb, xdotool, imagemagick)` : false);

/*
 * Where xsbug draws what the test looks at, in a 1280x800 screen (its layout
 * does not depend on the machine): the first row of the CALLS list, the height
 * of a row, and the Run button of the toolbar.
 */
const FIRST_FRAME = { x: 200, y: 112 };
const ROW = 18;
const RUN_BUTTON = { x: 68, y: 64 };
/** The colour of the selected frame: xsbug shows one only while the machine is stopped. */
const SELECTED = [254, 157, 39];

let scratch: string;
let display: string;
const started: ChildProcess[] = [];

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
	const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
	started.push(child);
	let output = "";
	child.stdout!.on("data", (d: Buffer) => { output += d.toString(); });
	child.stderr!.on("data", (d: Buffer) => { output += d.toString(); });
	return { child, output: () => output };
}

function x(command: string, args: string[]): string {
	const result = spawnSync(command, args, { env: { ...process.env, DISPLAY: display }, encoding: "latin1" });
	if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
	return result.stdout;
}

/** The screen now, as 8-bit RGB. */
function screen(): Buffer {
	const raw = join(scratch, "screen.rgb");
	x("import", ["-window", "root", "-depth", "8", `rgb:${raw}`]);
	return readFileSync(raw);
}

/** Whether one of the first rows of the CALLS list is the selected frame. */
function stopped(): boolean {
	const bytes = screen();
	for (let row = 0; row < 8; row++) {
		const offset = ((FIRST_FRAME.y + row * ROW) * WIDTH + FIRST_FRAME.x) * 3;
		if (SELECTED.every((value, i) => Math.abs(bytes[offset + i]! - value) <= 8)) return true;
	}
	return false;
}

function click(at: { x: number; y: number }): void {
	x("xdotool", ["mousemove", String(at.x), String(at.y), "click", "1"]);
}

async function closedPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

before(async () => {
	if (SKIP) return;
	ensureSim("debug");
	ensureModdable("debug");
	scratch = mkdtempSync(join(tmpdir(), "xsbug-gui-"));
	const xvfb = startProcess("Xvfb", ["-displayfd", "1", "-screen", "0", `${WIDTH}x${HEIGHT}x24`, "-nolisten", "tcp"]);
	display = `:${(await until(() => /^(\d+)\n/.exec(xvfb.output())?.[1], { what: "Xvfb's display number", timeout: 10000, detail: xvfb.output }))}`;
	const xsbug = startProcess(join(process.env.MODDABLE!, "build", "bin", "lin", "release", "xsbug"), [], { DISPLAY: display, HOME: scratch });
	await until(() => spawnSync("ss", ["-ltnH", `sport = :${XSBUG_PORT}`], { encoding: "utf8" }).stdout.includes(`:${XSBUG_PORT}`), {
		what: `xsbug listening on port ${XSBUG_PORT}`, timeout: 15000, interval: 100, detail: xsbug.output,
	});
});

after(async () => {
	for (const child of started.reverse()) {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill("SIGTERM");
			await new Promise((resolve) => child.once("close", resolve));
		}
	}
	if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The builds, and the row of the socket's TypeScript frame (TcpSocket) in xsbug's CALLS list. */
const BUILDS = [
	// The xsnap build reaches the C function through the host's JavaScript native() wrapper: two more frames.
	{ name: "xsnap", moddable: false, socketFrame: 3 },
	// In the Moddable build xsc bound the method to the C function: NativeTcpSocket is the native frame itself.
	{ name: "moddable", moddable: true, socketFrame: 1 },
];

for (const build of BUILDS) {
	test(`xsbug stops the ${build.name} debug build where the library throws, shows the TypeScript source and lets it go on`, { skip: SKIP }, async () => {
		// What the screen shows of an earlier machine must be gone first.
		await until(() => !stopped(), { what: "xsbug showing no stopped machine", timeout: 10000, interval: 300 });
		const modem = join(scratch, `modem-${build.name}`);
		mkdirSync(modem, { recursive: true });
		const command = deviceCommand({ modem, endpoint: `127.0.0.1:${await closedPort()}`, hostname: "localhost", variant: "debug", timeout: 120, moddable: build.moddable });
		const device = startProcess(command.command, command.args, { XSBUG_HOST: "127.0.0.1", XSBUG_PORT: String(XSBUG_PORT) });
		try {
			await until(() => stopped(), { what: "xsbug showing the stopped machine", timeout: 20000, interval: 300, detail: device.output });
			// Stopped in the native socket's throw, before the library could report the failure.
			assert.match(device.output(), /TRANSPORT_CONNECTING \(2\) status 0\n$/);
			click({ x: FIRST_FRAME.x, y: FIRST_FRAME.y + build.socketFrame * ROW });
			mkdirSync(join(root, "test-artifacts"), { recursive: true });
			const shot = join(root, "test-artifacts", `xsbug-${build.name}.png`);
			await until(() => { x("import", ["-window", "root", shot]); return existsSync(shot); }, { what: "the screenshot" });
			// Run until the library gets past the throws and reports the refused connection.
			await until(() => {
				if (/TRANSPORT_CONNECTING \(2\) status -\d+/.test(device.output())) return true;
				if (stopped()) click(RUN_BUTTON);
				return false;
			}, { what: "the library's report of the failed connection after Run", timeout: 30000, interval: 300, detail: device.output });
		}
		finally {
			device.child.kill("SIGTERM");
			await new Promise((resolve) => (device.child.exitCode !== null || device.child.signalCode !== null ? resolve(undefined) : device.child.once("close", resolve)));
			command.cleanup();
		}
	});
}
