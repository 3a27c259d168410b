#!/usr/bin/env node
/*
 * Puts the XS engine sources in build/xs: the C sources shipped in the npm
 * package @agoric/xsnap at a pinned version, fetched with `npm pack` (no install
 * scripts run) and checked against the pinned integrity before extraction.
 * Nothing of the engine is committed. Does nothing when build/xs already holds
 * the pinned version.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PACKAGE = "@agoric/xsnap";
const VERSION = "0.15.0";
const INTEGRITY = "sha512-ZBm4DZxbtfacxMHVVdJjZi0Y8zOxN77vpu1WwI5RWfPkaRh0aHkz/dVdTGKXalDNzWfz183lljKxlxl3/h0n+A==";

const root = new URL("..", import.meta.url).pathname;
const target = join(root, "build", "xs");
const stamp = join(target, ".version");

function run(command, args, cwd) {
	const result = spawnSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
	if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with status ${result.status}`);
	return result.stdout;
}

if (existsSync(stamp) && readFileSync(stamp, "utf8") === `${PACKAGE}@${VERSION}`) process.exit(0);

const download = join(root, "build", "xs-download");
rmSync(download, { recursive: true, force: true });
mkdirSync(download, { recursive: true });
const file = run("npm", ["pack", `${PACKAGE}@${VERSION}`, "--silent", "--pack-destination", download], root).trim().split("\n").pop();
const tarball = join(download, file);
const digest = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
if (digest !== INTEGRITY) throw new Error(`${tarball}: integrity ${digest} is not the pinned ${INTEGRITY}`);
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
run("tar", ["-xzf", tarball, "-C", target, "--strip-components=3", "package/moddable/xs"], root);
writeFileSync(stamp, `${PACKAGE}@${VERSION}`);
rmSync(download, { recursive: true, force: true });
console.log(`fetch-xs: XS engine sources of ${PACKAGE}@${VERSION} in build/xs`);
