#!/usr/bin/env node
/*
 * Brings a fresh Debian machine with Node to the state the demo and the tests
 * need: the Debian packages (installed with apt-get when missing), the npm
 * packages (npm ci when node_modules does not match package-lock.json) and the
 * TypeScript build. Safe to run again; it only does what is missing.
 * Plain JavaScript with Node built-ins only, because it runs before npm install.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** One package per line; .ci/run installs the same list. */
const DEBIAN_PACKAGES = readFileSync(join(root, "tools", "debian-packages.txt"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean);

function run(command, args) {
	console.log(`setup: ${command} ${args.join(" ")}`);
	const result = spawnSync(command, args, { stdio: "inherit", cwd: root });
	if (result.status !== 0) {
		console.error(`setup: ${command} failed with status ${result.status}`);
		process.exit(1);
	}
}

function installed(name) {
	const result = spawnSync("dpkg-query", ["-W", "-f=${Status}", name], { encoding: "utf8" });
	return result.status === 0 && result.stdout.includes("install ok installed");
}

function debian() {
	const missing = DEBIAN_PACKAGES.filter((name) => !installed(name));
	if (missing.length === 0) return;
	const asRoot = process.getuid?.() === 0;
	const sudo = asRoot ? [] : ["sudo", "-n"];
	if (!asRoot && spawnSync("sudo", ["-n", "true"]).status !== 0) {
		console.error(`setup: missing Debian packages: ${missing.join(" ")}; install them as root: apt-get install -y ${missing.join(" ")}`);
		process.exit(1);
	}
	const prefix = [...sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
	run(prefix[0], [...prefix.slice(1), "update"]);
	run(prefix[0], [...prefix.slice(1), "install", "-y", "--no-install-recommends", ...missing]);
}

function npm() {
	const lock = readFileSync(join(root, "package-lock.json"));
	const digest = createHash("sha256").update(lock).digest("hex");
	const stamp = join(root, "node_modules", ".setup-lock-digest");
	if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
	run("npm", ["ci", "--no-audit", "--no-fund"]);
	writeFileSync(stamp, digest);
}

function build() {
	run("npm", ["run", "--silent", "build"]);
}

const steps = process.argv.slice(2);
if (steps.length === 0 || steps.includes("debian")) debian();
if (steps.length === 0 || steps.includes("npm")) npm();
if (steps.length === 0 || steps.includes("build")) build();
