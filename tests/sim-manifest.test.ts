/*
 * `npm run sim` sizes the XS machine from a manifest's creation section: fixed
 * sizes are hard caps that a greedy app hits with "memory full" (status 4),
 * while the same app in a growable heap, or a modest app, runs.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { creationOptions } from "../tools/sim.js";
import { ensureSim, root } from "./support/sim.js";

function sim(args: string[]) {
	ensureSim("release");
	return spawnSync("node", [join(root, "build", "tools", "sim.js"), ...args], { encoding: "utf8" });
}

test("a manifest's creation section becomes host options; fixed sizes become caps", () => {
	const dir = mkdtempSync(join(tmpdir(), "sim-manifest-"));
	try {
		const manifest = join(dir, "manifest.json");
		writeFileSync(manifest, JSON.stringify({
			creation: { chunk: { initial: 131072, incremental: 0 }, heap: { initial: 8192, incremental: 0 }, stack: 512, keys: { initial: 1024 } },
			platforms: { lin: { creation: { chunk: { initial: 200000 } } }, other: { creation: { stack: 99 } } },
		}));
		assert.deepEqual(creationOptions(manifest, "lin", 32), [
			"--chunk", "200000", "--chunk-cap", "204096", "--stack", "512", "--slots", "8192", "--slot-cap", String((8192 + 512) * 32), "--keys", "1024",
		]);
		const hog = join(dir, "hog.js");
		writeFileSync(hog, 'const keep = []; for (let i = 0; i < 100000; i++) keep.push({ i, s: "item " + i }); console.log("done");\n');
		const modest = join(dir, "modest.js");
		writeFileSync(modest, 'const keep = []; for (let i = 0; i < 100; i++) keep.push({ i }); console.log("done");\n');
		const capped = sim(["--manifest", manifest, hog]);
		assert.equal(capped.status, 4, capped.stderr);
		assert.match(capped.stderr, /memory full/);
		const fits = sim(["--manifest", manifest, "--memory-report", modest]);
		assert.equal(fits.status, 0, fits.stderr);
		assert.equal(fits.stdout, "done\n");
		assert.match(fits.stderr, /chunks 200\d{3} bytes/);
		const grows = sim(["--manifest", join(root, "manifest.json"), hog]);
		assert.equal(grows.status, 0, grows.stderr);
		writeFileSync(manifest, JSON.stringify({ creation: { stack: -1 } }));
		const bad = sim(["--manifest", manifest, modest]);
		assert.equal(bad.status, 2);
		assert.match(bad.stderr, /creation.stack must be a non-negative integer/);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("--supervise restarts the host after a reboot request, as the device restarts", () => {
	const dir = mkdtempSync(join(tmpdir(), "sim-supervise-"));
	try {
		const app = join(dir, "app.js");
		writeFileSync(app, [
			`import { KeyValueStore } from "${join(root, "build", "modules", "storage", "key-value.js")}";`,
			`import { DfuTarget } from "${join(root, "build", "modules", "dfu", "target.js")}";`,
			'const store = new KeyValueStore({ path: "boot" });',
			'const count = (store.readInteger("starts") ?? 0) + 1;',
			'store.writeInteger("starts", count);',
			'console.log(`start ${count}`);',
			"if (count < 3) DfuTarget.reboot();",
			"",
		].join("\n"));
		const result = sim(["--supervise", "--state", join(dir, "state"), app]);
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout, "start 1\nstart 2\nstart 3\n");
		assert.match(result.stderr, /reboot requested \(exit 75\); start 3/);
		const once = sim(["--state", join(dir, "state2"), app]);
		assert.equal(once.status, 75, "without a supervisor the reboot status comes out");
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
