/*
 * The nRF9160 board folders: hosts/nrf9160dk and hosts/thingy91 are Moddable
 * out-of-tree Zephyr boards with a complete and consistent Kconfig set, every
 * binding with a POSIX implementation names its nRF9160 file, and (with
 * $MODDABLE) the SDK's mcconfig processes the manifests for both boards with no
 * Zephyr installed: the Kconfig file, the C sources and the overlays it writes
 * for the Zephyr build are the ones the board folders say. The checks are shown
 * to fail on broken copies.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BOARDS, HEAP_MARGIN, checkBindings, checkBoard, checkBoardsAgree, checkKconfig, mergeBoard, xsMachineBytes } from "../tools/lib/boards.js";
import { MODDABLE_SKIP } from "./support/moddable.js";

const root = process.cwd();

/** A copy of what the checks read (manifests, hosts), to break. */
function withCopy(body: (dir: string) => void): void {
	const dir = mkdtempSync(join(tmpdir(), "boards-"));
	try {
		cpSync(join(root, "hosts"), join(dir, "hosts"), { recursive: true, filter: (path) => !path.includes("/sim/") && !path.includes("/node/") });
		cpSync(join(root, "modules"), join(dir, "modules"), { recursive: true, filter: (path) => !path.endsWith(".ts") });
		cpSync(join(root, "manifest.json"), join(dir, "manifest.json"));
		body(dir);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

function editJson(path: string, edit: (json: Record<string, any>) => void): void {
	const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;
	edit(json);
	writeFileSync(path, JSON.stringify(json, null, "\t"));
}

test("both board folders are Moddable out-of-tree boards with a complete, consistent Kconfig set", () => {
	for (const board of BOARDS) assert.deepEqual(checkBoard(root, board), [], board.name);
	assert.deepEqual(checkBoardsAgree(root), []);
	const merged = mergeBoard(join(root, "hosts", "thingy91", "manifest.json"));
	assert.equal(merged.zephyrBoard, "thingy91/nrf9160/ns");
	assert.ok(merged.overlays.length > 0 && merged.overlays.every((path) => existsSync(path)));
});

test("every binding with a POSIX implementation names its nRF9160 file for zephyr", () => {
	const { problems, nrf9160Sources } = checkBindings(root);
	assert.deepEqual(problems, []);
	for (const binding of ["socket", "modem", "storage", "dfu", "gnss", "ui"]) assert.ok(nrf9160Sources.includes(`native/${binding}/nrf9160/${binding}`), binding);
});

test("the Kconfig check names a missing option, an unmet dependency, a bad value and a small heap", () => {
	const good = mergeBoard(join(root, "hosts", "nrf9160dk", "manifest.json")).zephyrConfig;
	const xs = xsMachineBytes(join(root, "manifest.json"));
	assert.ok(xs > 60000, `the XS machine of the root manifest is ${xs} bytes`);
	assert.deepEqual(checkKconfig(good, xs), []);
	const broken = { ...good, CONFIG_IMG_MANAGER: "n", CONFIG_NRF_MODEM_LIB_HEAP_SIZE: "lots", CONFIG_HEAP_MEM_POOL_SIZE: String(xs) };
	delete (broken as Record<string, string>).CONFIG_MODEM_KEY_MGMT;
	assert.deepEqual(checkKconfig(broken, xs).sort(), [
		"CONFIG_DFU_TARGET_MCUBOOT=y needs CONFIG_IMG_MANAGER=y",
		`CONFIG_HEAP_MEM_POOL_SIZE=${xs} cannot hold the XS machine (${xs} bytes) and ${HEAP_MARGIN} bytes besides`,
		"CONFIG_MCUBOOT_IMG_MANAGER=y needs CONFIG_IMG_MANAGER=y",
		"CONFIG_MODEM_KEY_MGMT is not set (credentials in modem security tags)",
		"CONFIG_NRF_MODEM_LIB_HEAP_SIZE=lots: a Kconfig value is y, n, a number or a quoted string",
	]);
	assert.deepEqual(checkKconfig({ ...good, CONFIG_NET_NATIVE: "y", CONFIG_NRF_MODEM_LIB_SHMEM_TX_SIZE: "1024" }, xs), [
		"CONFIG_NRF_MODEM_LIB_SHMEM_TX_SIZE=1024 is below 4096",
		"CONFIG_NET_NATIVE=y: the native IP stack would claim sockets the modem must serve",
	]);
});

test("the board and binding checks fail on broken copies", () => {
	withCopy((dir) => {
		editJson(join(dir, "hosts", "thingy91", "manifest.json"), (json) => { json.build.ZEPHYR_BOARD = "thingy91/nrf9160"; });
		rmSync(join(dir, "hosts", "nrf9160dk", "host", "provider.js"));
		editJson(join(dir, "hosts", "nrf9160", "manifest.json"), (json) => { json.zephyrOverlay = ["./missing.overlay"]; });
		editJson(join(dir, "manifest.json"), (json) => { delete json.platforms["zephyr/thingy91"]; });
		editJson(join(dir, "modules", "storage", "manifest.json"), (json) => { json.platforms.zephyr = { error: "not yet" }; });
		editJson(join(dir, "modules", "dfu", "manifest.json"), (json) => { json.platforms.zephyr.modules["*"] = ["../../native/dfu/posix/dfu"]; });
		const thingy = checkBoard(dir, BOARDS[1]!);
		assert.ok(thingy.includes("thingy91: ZEPHYR_BOARD is thingy91/nrf9160, not thingy91/nrf9160/ns"), thingy.join("\n"));
		assert.ok(thingy.some((p) => /overlay .*missing\.overlay does not exist/.test(p)), thingy.join("\n"));
		assert.ok(thingy.includes('manifest.json has no zephyr/thingy91 section: the "..." fallback would refuse the board'), thingy.join("\n"));
		assert.ok(checkBoard(dir, BOARDS[0]!).includes("nrf9160dk: host/provider.js (embedded:provider/builtin) is missing"));
		const { problems } = checkBindings(dir);
		assert.ok(problems.includes("modules/storage: the zephyr section is an error: not yet"), problems.join("\n"));
		assert.ok(problems.includes("modules/storage: native/storage/posix/storage has no native/storage/nrf9160/storage in the zephyr section"), problems.join("\n"));
		assert.ok(problems.includes("modules/dfu: the zephyr section names a POSIX file"), problems.join("\n"));
	});
	withCopy((dir) => {
		editJson(join(dir, "hosts", "thingy91", "manifest.json"), (json) => { json.zephyrConfig = { CONFIG_DFU_TARGET_MODEM_DELTA: "n" }; });
		assert.deepEqual(checkBoardsAgree(dir), ["CONFIG_DFU_TARGET_MODEM_DELTA is y on nrf9160dk but n on thingy91"]);
	});
});

/** The nRF9160 C files the manifests name that do not exist (yet). */
function missingNrf9160Sources(): string[] {
	return checkBindings(root).nrf9160Sources.filter((path) => !existsSync(join(root, `${path}.c`)));
}

const MISSING = missingNrf9160Sources();
const MCCONFIG_SKIP = MODDABLE_SKIP || (MISSING.length > 0 ? `skipped: mcconfig needs every C file the manifests name; missing: ${MISSING.join(", ")}` : false);

/**
 * Runs the SDK's mcconfig for a board folder without -m: manifest processing and
 * the generated Zephyr build files only. The board is given relative to `cwd`:
 * mcconfig lower-cases the whole -p argument, so an absolute path with capitals
 * in it (as temporary directories have) would not be found.
 */
function mcconfig(cwd: string, board: string, out: string): { status: number | null; output: string; dir: string } {
	const manifest = join(out, "manifest.json");
	// The example firmware (which includes manifest_base.json and so the SDK's zephyr platform) and the library's root manifest.
	// The root manifest comes last, so the build is named by its NAME, "nrfcloud".
	writeFileSync(manifest, JSON.stringify({ include: [join(root, "examples", "tracker", "manifest.json"), join(root, "manifest.json")] }));
	const zephyrBase = join(out, "no-zephyr");
	mkdirSync(zephyrBase, { recursive: true });
	const tool = join(process.env.MODDABLE!, "build", "bin", "lin", "release", "mcconfig");
	const result = spawnSync(tool, ["-p", `zephyr:${board}`, "-o", out, manifest], {
		cwd,
		encoding: "utf8",
		env: { ...process.env, ZEPHYR_BASE: zephyrBase, UPLOAD_PORT: "/dev/null", PATH: `${join(process.env.MODDABLE!, "build", "bin", "lin", "release")}:${process.env.PATH ?? ""}` },
	});
	const name = board.split("/").pop()!;
	return { status: result.status, output: `${result.stdout}${result.stderr}`, dir: join(out, "tmp", "zephyr", name, "release", "nrfcloud") };
}

test("mcconfig processes the manifests for both boards with no Zephyr: its Kconfig file, C sources and overlays", { skip: MCCONFIG_SKIP }, () => {
	const out = mkdtempSync(join(tmpdir(), "boards-mcconfig-"));
	try {
		const { nrf9160Sources } = checkBindings(root);
		for (const board of BOARDS) {
			const boardDir = join(root, "hosts", board.name);
			const result = mcconfig(root, `hosts/${board.name}`, out);
			assert.equal(result.status, 0, result.output);
			const conf = readFileSync(join(result.dir, "zephyr.conf"), "utf8");
			const written = new Map<string, string>();
			for (const line of conf.split("\n")) {
				const match = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line);
				if (match) written.set(match[1]!, match[2]!);
			}
			for (const [name, value] of Object.entries(mergeBoard(join(boardDir, "manifest.json")).zephyrConfig)) assert.equal(written.get(name), value, `${board.name}: ${name}`);
			const cmake = readFileSync(join(result.dir, "CMakeLists.txt"), "utf8");
			assert.ok(cmake.includes(`set(ZEPHYR_BOARD ${board.zephyrBoard})`), board.name);
			const objects = [...cmake.matchAll(/list\(APPEND mOBJECTS (.*)\)/g)].map((m) => m[1]!);
			for (const source of nrf9160Sources) assert.ok(objects.includes(join(root, `${source}.c`)), `${board.name}: ${source}.c not compiled`);
			assert.deepEqual(objects.filter((path) => path.includes("/posix/")), [], `${board.name}: a POSIX binding in the Zephyr build`);
			assert.ok(cmake.includes(join(boardDir, "host", "provider.js")), `${board.name}: the provider is not the board's`);
			const flat = JSON.parse(readFileSync(join(result.dir, "manifest_flat.json"), "utf8")) as { zephyrOverlay: Record<string, string> };
			assert.deepEqual(Object.values(flat.zephyrOverlay), mergeBoard(join(boardDir, "manifest.json")).overlays);
		}
	}
	finally {
		rmSync(out, { recursive: true, force: true });
	}
});

test("mcconfig refuses a Zephyr board other than the two", { skip: MCCONFIG_SKIP }, () => {
	const out = mkdtempSync(join(tmpdir(), "boards-mcconfig-"));
	try {
		const other = join(out, "nrf52840dk");
		mkdirSync(join(other, "host"), { recursive: true });
		writeFileSync(join(other, "manifest.json"), JSON.stringify({ build: { ZEPHYR_BOARD: "nrf52840dk/nrf52840" } }));
		cpSync(join(root, "hosts", "nrf9160dk", "host", "provider.js"), join(other, "host", "provider.js"));
		const result = mcconfig(out, "nrf52840dk", out);
		assert.notEqual(result.status, 0);
		assert.match(result.output, /nrfcloud runs on the simulator host .* and on the nRF9160 boards zephyr\/nrf9160dk and zephyr\/thingy91/);
	}
	finally {
		rmSync(out, { recursive: true, force: true });
	}
});
