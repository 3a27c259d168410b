#!/usr/bin/env node
/*
 * Brings a fresh Debian machine with Node to the state the demo and the tests
 * need: the Debian packages (installed with apt-get when missing), the npm
 * packages (npm ci when node_modules does not match package-lock.json) and the
 * TypeScript build. Safe to run again; it only does what is missing.
 * Plain JavaScript with Node built-ins only, because it runs before npm install.
 *
 * Each step is one line (tools/progress.mjs): on a terminal a spinner with the
 * elapsed time and the step's latest output line, replaced by the result when
 * it ends; otherwise (CI, a pipe) a line when it starts and one when it ends.
 * The commands' output is shown in full only when one fails. The build is the package.json "build"
 * script, one step per command of it.
 */

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StepLine, lastLine } from "./progress.mjs";

const root = new URL("..", import.meta.url).pathname;

/** One package per line; .ci/run installs the same list. */
const DEBIAN_PACKAGES = readFileSync(join(root, "tools", "debian-packages.txt"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean);

/** Runs one step (a command, or a shell line with `shell`); resolves when it succeeded, exits the setup when it failed. */
function run(label, command, args, { shell = false } = {}) {
	const line = new StepLine("setup: ", label);
	let output = "";
	return new Promise((resolve) => {
		const child = spawn(command, args, { cwd: root, shell, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
		const collect = (chunk) => {
			output = (output + chunk.toString()).slice(-200_000);
			line.update(lastLine(chunk.toString()));
		};
		child.stdout.on("data", collect);
		child.stderr.on("data", collect);
		const finish = (status, why) => {
			if (status === 0) {
				line.done();
				resolve();
				return;
			}
			line.fail(why);
			process.stderr.write(output);
			process.exit(1);
		};
		child.on("error", (error) => finish(1, error.message));
		child.on("close", (status, signal) => finish(status, signal ? `signal ${signal}` : `status ${status}`));
	});
}

function installed(name) {
	const result = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
	return result.status === 0 && result.stdout.includes("install ok installed");
}

async function debian() {
	const missing = DEBIAN_PACKAGES.filter((name) => !installed(name));
	if (missing.length === 0) return;
	const asRoot = process.getuid?.() === 0;
	const sudo = asRoot ? [] : ["sudo", "-n"];
	if (!asRoot && spawnSync("sudo", ["-n", "true"]).status !== 0) {
		console.error(`setup: missing Debian packages: ${missing.join(" ")}; install them as root: apt-get install -y ${missing.join(" ")}`);
		process.exit(1);
	}
	const prefix = [...sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
	await run("apt-get update", prefix[0], [...prefix.slice(1), "update"]);
	await run(`apt-get install ${missing.join(" ")}`, prefix[0], [...prefix.slice(1), "install", "-y", "--no-install-recommends", ...missing]);
}

async function npm() {
	const lock = readFileSync(join(root, "package-lock.json"));
	const digest = createHash("sha256").update(lock).digest("hex");
	const stamp = join(root, "node_modules", ".setup-lock-digest");
	if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
	await run("npm ci (the npm packages)", "npm", ["ci", "--no-audit", "--no-fund"]);
	writeFileSync(stamp, digest);
}

/**
 * The build script's commands, one step each, with the npm bin directory on PATH as npm run gives it.
 * With --host-release (npm start) the simulator host is built in its release variant only: the
 * debug and sanitizer builds are for the tests, and leaving them out gets a new user to the
 * running fleet sooner.
 */
async function build() {
	const script = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.build;
	const releaseOnly = process.argv.includes("--host-release");
	const commands = script.split("&&").map((command) => command.trim()).filter(Boolean)
		.map((command) => releaseOnly && command === "node tools/build-sim.mjs" ? "node tools/build-sim.mjs release" : command);
	process.env.PATH = `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
	for (const [index, command] of commands.entries()) await run(`build ${index + 1}/${commands.length}: ${command}`, command, [], { shell: true });
}

const steps = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
if (steps.length === 0 || steps.includes("debian")) await debian();
if (steps.length === 0 || steps.includes("npm")) await npm();
if (steps.length === 0 || steps.includes("build")) await build();
