/*
 * Checks of the nRF9160 board folders (hosts/nrf9160dk, hosts/thingy91) that
 * need neither Zephyr nor the Moddable SDK: each is a Moddable out-of-tree
 * board (manifest.json with build.ZEPHYR_BOARD, host/provider.js), its Kconfig
 * set holds everything the nRF9160 bindings use with the dependencies the NCS
 * and Zephyr Kconfig files declare, its heap holds the XS machine the project
 * manifest creates, and every binding module that has a POSIX implementation
 * names the nRF9160 one for zephyr. Each check returns sentences, one per
 * problem, so a test shows them all at once.
 */

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

export interface Board {
	/** The folder under hosts/ and the Moddable subplatform name ("zephyr/<name>"). */
	name: string;
	/** The Zephyr board target (hardware model v2 name of the non-secure nRF9160 image). */
	zephyrBoard: string;
}

export const BOARDS: readonly Board[] = Object.freeze([
	{ name: "nrf9160dk", zephyrBoard: "nrf9160dk/nrf9160/ns" },
	{ name: "thingy91", zephyrBoard: "thingy91/nrf9160/ns" },
]);

/** The Kconfig options the nRF9160 bindings need, and what for. */
export const REQUIRED_KCONFIG: Readonly<Record<string, string>> = Object.freeze({
	CONFIG_NRF_MODEM_LIB: "the modem library: AT commands, offloaded sockets, modem DFU",
	CONFIG_NET_SOCKETS: "the socket API the TCP/TLS binding calls (zsock_*)",
	CONFIG_NET_SOCKETS_OFFLOAD: "sockets served by the modem, TLS in the modem",
	CONFIG_LTE_LINK_CONTROL: "LTE link up and down and its events",
	CONFIG_LTE_LC_NETWORK_REGISTRATION_MODULE: "the network registration event of link control",
	CONFIG_MODEM_KEY_MGMT: "credentials in modem security tags",
	CONFIG_SETTINGS: "the key-value storage binding",
	CONFIG_SETTINGS_NVS: "settings kept in NVS",
	CONFIG_DFU_TARGET: "the DFU binding",
	CONFIG_DFU_TARGET_MCUBOOT: "application images through MCUboot",
	CONFIG_DFU_TARGET_MODEM_DELTA: "modem delta images",
	CONFIG_BOOTLOADER_MCUBOOT: "an MCUboot-bootable application image",
	CONFIG_HEAP_MEM_POOL_SIZE: "the system heap that holds the XS machine (k_malloc)",
	CONFIG_NRF_MODEM_LIB_SHMEM_TX_SIZE: "modem shared memory for writes: a TLS record of 2 KB and AT%CMNG of a certificate",
	CONFIG_NRF_MODEM_LIB_SHMEM_RX_SIZE: "modem shared memory for reads",
	CONFIG_NRF_MODEM_LIB_HEAP_SIZE: "the modem library's own heap",
});

/**
 * Options that must be enabled when the key is: the "depends on" lines of
 * their Kconfig definitions as the public NCS and Zephyr sources give them
 * (NCS lib/nrf_modem_lib, lib/lte_link_control, lib/modem_key_mgmt,
 * subsys/dfu/dfu_target; Zephyr subsys/net, subsys/settings, subsys/fs/nvs,
 * subsys/dfu, subsys/storage/stream), plus MPU_ALLOW_FLASH_WRITE, without which
 * the non-secure image cannot write the flash NVS and the DFU targets write.
 * Kconfig itself does not run here: a build with NCS is the final word.
 */
export const KCONFIG_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
	CONFIG_NET_SOCKETS: ["CONFIG_NETWORKING"],
	CONFIG_NET_SOCKETS_OFFLOAD: ["CONFIG_NET_SOCKETS", "CONFIG_NETWORKING"],
	CONFIG_LTE_LINK_CONTROL: ["CONFIG_NRF_MODEM_LIB"],
	CONFIG_LTE_LC_NETWORK_REGISTRATION_MODULE: ["CONFIG_LTE_LINK_CONTROL"],
	CONFIG_MODEM_KEY_MGMT: ["CONFIG_NRF_MODEM_LIB"],
	CONFIG_SETTINGS_NVS: ["CONFIG_SETTINGS", "CONFIG_NVS"],
	CONFIG_NVS: ["CONFIG_FLASH", "CONFIG_FLASH_MAP", "CONFIG_FLASH_PAGE_LAYOUT", "CONFIG_MPU_ALLOW_FLASH_WRITE"],
	CONFIG_FLASH_MAP: ["CONFIG_FLASH"],
	CONFIG_STREAM_FLASH: ["CONFIG_FLASH"],
	CONFIG_STREAM_FLASH_ERASE: ["CONFIG_STREAM_FLASH"],
	CONFIG_IMG_MANAGER: ["CONFIG_FLASH_MAP", "CONFIG_STREAM_FLASH"],
	CONFIG_MCUBOOT_IMG_MANAGER: ["CONFIG_IMG_MANAGER", "CONFIG_BOOTLOADER_MCUBOOT"],
	CONFIG_DFU_TARGET_MCUBOOT: ["CONFIG_DFU_TARGET", "CONFIG_IMG_MANAGER", "CONFIG_MCUBOOT_IMG_MANAGER", "CONFIG_BOOTLOADER_MCUBOOT", "CONFIG_STREAM_FLASH", "CONFIG_STREAM_FLASH_ERASE", "CONFIG_MPU_ALLOW_FLASH_WRITE"],
	CONFIG_DFU_TARGET_MODEM_DELTA: ["CONFIG_DFU_TARGET", "CONFIG_NRF_MODEM_LIB"],
});

/** Integer options, with the smallest value the bindings work with. */
const MINIMUM: Readonly<Record<string, number>> = Object.freeze({
	// A TLS record of 2 KB (NRF_SOCKET_TLS_MAX_MESSAGE_SIZE) plus a PEM certificate chain through AT%CMNG.
	CONFIG_NRF_MODEM_LIB_SHMEM_TX_SIZE: 4096,
	CONFIG_NRF_MODEM_LIB_SHMEM_RX_SIZE: 4096,
	CONFIG_NRF_MODEM_LIB_HEAP_SIZE: 1024,
	CONFIG_MAIN_STACK_SIZE: 4096,
});

/** What the system heap must hold besides the XS machine: the port's message queue, socket and AT buffers. */
export const HEAP_MARGIN = 16384;

/** Slots of XS are 16 bytes on 32-bit ARM. */
const SLOT_BYTES = 16;

type Json = Record<string, unknown>;

function readJson(path: string): Json {
	return JSON.parse(readFileSync(path, "utf8")) as Json;
}

function includesOf(manifest: Json): string[] {
	const include = manifest.include;
	if (include === undefined) return [];
	return (Array.isArray(include) ? include : [include]).filter((entry): entry is string => typeof entry === "string");
}

/** A board manifest with its includes merged as mcconfig merges them (objects key by key, arrays appended), paths of overlays resolved. */
export interface MergedBoard {
	zephyrBoard: unknown;
	zephyrConfig: Record<string, string>;
	overlays: string[];
	manifests: string[];
	problems: string[];
}

export function mergeBoard(manifestPath: string): MergedBoard {
	const merged: MergedBoard = { zephyrBoard: undefined, zephyrConfig: {}, overlays: [], manifests: [], problems: [] };
	const visit = (path: string): void => {
		if (!existsSync(path)) {
			merged.problems.push(`${path}: included manifest does not exist`);
			return;
		}
		merged.manifests.push(path);
		const manifest = readJson(path);
		for (const include of includesOf(manifest)) {
			if (include.startsWith("$(")) continue;
			visit(resolve(dirname(path), include));
		}
		const build = manifest.build as Json | undefined;
		if (build && "ZEPHYR_BOARD" in build) merged.zephyrBoard = build.ZEPHYR_BOARD;
		for (const [name, value] of Object.entries((manifest.zephyrConfig as Json | undefined) ?? {})) merged.zephyrConfig[name] = String(value);
		for (const overlay of (manifest.zephyrOverlay as string[] | undefined) ?? [])
			merged.overlays.push(overlay.startsWith(".") ? resolve(dirname(path), overlay) : overlay);
	};
	visit(manifestPath);
	return merged;
}

/** Problems of one Kconfig set: missing options, unmet dependencies, malformed values, a heap too small for `xsBytes`. */
export function checkKconfig(config: Readonly<Record<string, string>>, xsBytes: number): string[] {
	const problems: string[] = [];
	const enabled = (name: string): boolean => config[name] === "y";
	for (const [name, value] of Object.entries(config)) {
		if (!/^CONFIG_[A-Z0-9_]+$/.test(name)) problems.push(`${name}: not a Kconfig option name`);
		if (!/^(y|n|\d+|0x[0-9a-fA-F]+|"[^"\n]*")$/.test(value)) problems.push(`${name}=${value}: a Kconfig value is y, n, a number or a quoted string`);
	}
	for (const [name, why] of Object.entries(REQUIRED_KCONFIG)) {
		if (!(name in config)) problems.push(`${name} is not set (${why})`);
		else if (config[name] === "n") problems.push(`${name}=n, but it is needed for ${why}`);
	}
	for (const [name, needs] of Object.entries(KCONFIG_DEPENDENCIES)) {
		if (!enabled(name)) continue;
		for (const need of needs) if (!enabled(need)) problems.push(`${name}=y needs ${need}=y`);
	}
	for (const [name, minimum] of Object.entries(MINIMUM)) {
		if (config[name] !== undefined && Number(config[name]) < minimum) problems.push(`${name}=${config[name]} is below ${minimum}`);
	}
	if (config.CONFIG_NET_NATIVE === "y") problems.push("CONFIG_NET_NATIVE=y: the native IP stack would claim sockets the modem must serve");
	const heap = Number(config.CONFIG_HEAP_MEM_POOL_SIZE);
	if (Number.isFinite(heap) && heap < xsBytes + HEAP_MARGIN)
		problems.push(`CONFIG_HEAP_MEM_POOL_SIZE=${heap} cannot hold the XS machine (${xsBytes} bytes) and ${HEAP_MARGIN} bytes besides`);
	return problems;
}

/** Bytes the XS machine of a manifest's top-level "creation" takes: chunks, slots of the heap and of the stack. */
export function xsMachineBytes(manifestPath: string): number {
	const creation = (readJson(manifestPath).creation ?? {}) as { static?: number; chunk?: { initial?: number }; heap?: { initial?: number }; stack?: number };
	if (creation.static) return creation.static;
	return (creation.chunk?.initial ?? 0) + ((creation.heap?.initial ?? 0) + (creation.stack ?? 0)) * SLOT_BYTES;
}

/** Problems of hosts/<board.name> in the tree at `root`. */
export function checkBoard(root: string, board: Board): string[] {
	const dir = join(root, "hosts", board.name);
	const manifestPath = join(dir, "manifest.json");
	if (!existsSync(manifestPath)) return [`${relative(root, manifestPath)} does not exist`];
	const merged = mergeBoard(manifestPath);
	const problems = [...merged.problems];
	if (merged.zephyrBoard !== board.zephyrBoard) problems.push(`${board.name}: ZEPHYR_BOARD is ${String(merged.zephyrBoard)}, not ${board.zephyrBoard}`);
	if (!existsSync(join(dir, "host", "provider.js"))) problems.push(`${board.name}: host/provider.js (embedded:provider/builtin) is missing`);
	for (const overlay of merged.overlays) if (!existsSync(overlay)) problems.push(`${board.name}: overlay ${overlay} does not exist`);
	problems.push(...checkKconfig(merged.zephyrConfig, xsMachineBytes(join(root, "manifest.json"))).map((problem) => `${board.name}: ${problem}`));
	const platforms = (readJson(join(root, "manifest.json")).platforms ?? {}) as Json;
	const section = platforms[`zephyr/${board.name}`] as Json | undefined;
	if (section === undefined) problems.push(`manifest.json has no zephyr/${board.name} section: the "..." fallback would refuse the board`);
	else if ("error" in section) problems.push(`manifest.json: the zephyr/${board.name} section is an error: ${String(section.error)}`);
	return problems;
}

/** Both boards set the same nRF9160 options (the SiP is the same; only board parts may differ). */
export function checkBoardsAgree(root: string, boards: readonly Board[] = BOARDS): string[] {
	const configs = boards.map((board) => ({ board, config: mergeBoard(join(root, "hosts", board.name, "manifest.json")).zephyrConfig }));
	const problems: string[] = [];
	const [first, ...rest] = configs;
	if (!first) return problems;
	for (const other of rest) {
		for (const name of Object.keys(REQUIRED_KCONFIG)) {
			if (first.config[name] !== other.config[name])
				problems.push(`${name} is ${String(first.config[name])} on ${first.board.name} but ${String(other.config[name])} on ${other.board.name}`);
		}
	}
	return problems;
}

/** The C sources (paths under native/, without extension) a platform section of a module manifest names. */
function sectionSources(moduleDir: string, section: Json | undefined): string[] {
	const modules = (section?.modules ?? {}) as Record<string, string | string[]>;
	return Object.values(modules).flatMap((paths) => (Array.isArray(paths) ? paths : [paths]))
		.map((path) => relative(moduleDir, resolve(moduleDir, path)));
}

/**
 * Every binding module whose lin section names native/<binding>/posix/<file>
 * names native/<binding>/nrf9160/<file> in its zephyr section, without an error
 * there. Returns the problems and the nRF9160 sources named, relative to `root`.
 */
export function checkBindings(root: string): { problems: string[]; nrf9160Sources: string[] } {
	const problems: string[] = [];
	const nrf9160Sources: string[] = [];
	const modulesDir = join(root, "modules");
	for (const name of readdirSync(modulesDir)) {
		const manifestPath = join(modulesDir, name, "manifest.json");
		if (!existsSync(manifestPath)) continue;
		const moduleDir = dirname(manifestPath);
		const platforms = (readJson(manifestPath).platforms ?? {}) as Record<string, Json>;
		const posix = sectionSources(moduleDir, platforms.lin).map((path) => relative(root, resolve(moduleDir, path))).filter((path) => /^native\/[^/]+\/posix\//.test(path));
		if (posix.length === 0) continue;
		const zephyr = platforms.zephyr;
		if (zephyr === undefined) {
			problems.push(`modules/${name}: a POSIX binding but no zephyr section`);
			continue;
		}
		if ("error" in zephyr) problems.push(`modules/${name}: the zephyr section is an error: ${String(zephyr.error)}`);
		const named = sectionSources(moduleDir, zephyr).map((path) => relative(root, resolve(moduleDir, path)));
		if (named.some((path) => /\/posix\//.test(path))) problems.push(`modules/${name}: the zephyr section names a POSIX file`);
		for (const path of posix) {
			const binding = path.split("/")[1]!;
			const expected = `native/${binding}/nrf9160/${basename(path)}`;
			if (!named.includes(expected)) problems.push(`modules/${name}: ${path} has no ${expected} in the zephyr section`);
		}
		nrf9160Sources.push(...named.filter((path) => !nrf9160Sources.includes(path)));
	}
	return { problems, nrf9160Sources };
}
