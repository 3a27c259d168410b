/*
 * The firmware's own parts on the nRF9160's Cortex-M33 (arm-none-eabi-gcc -Os,
 * as tools/lib/cortex-m33.ts compiles them): text, data and bss of the XS
 * engine, of the nRF9160 bindings with the shared C and the MQTT codec, and,
 * with $MODDABLE, of the module archive xsl preloads (mc.xs.c of
 * npm run build:moddable), against what an nRF9160 with MCUboot, TF-M and the
 * modem library leaves an application. Object sizes before linking: the
 * linker's garbage collection can only make them smaller. Zephyr, NCS and
 * libmodem themselves are not counted (no SDK build here).
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGET, bindingArguments, bindingSources, compileAll, compilerAvailable, engineArguments, engineSources, sectionSizes, type Sections } from "../lib/cortex-m33.js";
import { table } from "./harness.js";

const KB = 1024;

/*
 * The budget, with the defaults of sdk-nrf 3.2.99 (804b0d189e) and nrfxlib
 * (3cbdcf3254) where the partition manager and the modem library set them:
 * - nRF9160 SiP: 1 MB flash, 256 KB RAM (Nordic's nRF9160 product specification);
 * - MCUboot: PM_PARTITION_SIZE_MCUBOOT default 0xc000 (modules/mcuboot/boot/zephyr/Kconfig);
 * - settings storage: one 8 KB partition (0x2000, the NVS/ZMS size assumed here);
 * - two equal MCUboot slots share the rest; TF-M's minimal profile takes
 *   PM_PARTITION_SIZE_TFM 0x7E00 of the primary slot and PM_PARTITION_SIZE_TFM_SRAM
 *   0x8000 of RAM (modules/trusted-firmware-m/Kconfig.tfm.pm, BOOTLOADER_MCUBOOT);
 * - libmodem's shared memory in RAM: control 0x4e8 (NRF_MODEM_CELLULAR_SHMEM_CTRL_SIZE,
 *   nrf_modem.h), TX 8320 and RX 8192 (NRF_MODEM_LIB_SHMEM_TX/RX_SIZE defaults), no trace.
 */
const FLASH = 1024 * KB;
const MCUBOOT = 0xc000;
const SETTINGS = 0x2000;
const SLOT = (FLASH - MCUBOOT - SETTINGS) / 2;
const TFM_FLASH = 0x7e00;
const RAM = 256 * KB;
const TFM_RAM = 0x8000;
const MODEM_SHMEM = 0x4e8 + 8320 + 8192;
const APP_FLASH = SLOT - TFM_FLASH;
const APP_RAM = RAM - TFM_RAM - MODEM_SHMEM;

function kb(bytes: number): string {
	return `${(bytes / KB).toFixed(1)} KB`;
}

/** mc.xs.c of the Moddable build (npm run build:moddable), if there is one. */
function findArchive(root: string): string | undefined {
	const base = join(root, "build", "moddable");
	const search = (dir: string, depth: number): string | undefined => {
		if (depth > 8 || !existsSync(dir)) return undefined;
		for (const name of readdirSync(dir)) {
			const path = join(dir, name);
			if (name === "mc.xs.c") return path;
			if (statSync(path).isDirectory()) {
				const found = search(path, depth + 1);
				if (found) return found;
			}
		}
		return undefined;
	};
	return search(base, 0);
}

/* What the linker keeps of `objects` when every xs_ function and the engine's entry points are the roots. */
function linkedSize(objects: string[], dir: string): Sections | undefined {
	const symbols = spawnSync("arm-none-eabi-nm", ["--defined-only", ...objects], { encoding: "utf8" }).stdout;
	const roots = [...new Set([...symbols.matchAll(/ T (xs_\w+)$/gm)].map((m) => m[1]!)), "fxCreateMachine", "fxPrepareMachine", "fxRunModule"].filter((name) => symbols.includes(` ${name}\n`) || name.startsWith("xs_"));
	const elf = join(dir, "linked.elf");
	const result = spawnSync("arm-none-eabi-gcc", [...TARGET, "-nostartfiles", "-specs=nosys.specs", "-Wl,--gc-sections", "-Wl,--unresolved-symbols=ignore-all",
		`-Wl,-e,${roots[0] ?? "fxCreateMachine"}`, ...roots.map((name) => `-Wl,-u,${name}`), ...objects, "-o", elf], { encoding: "utf8" });
	return result.status === 0 ? sectionSizes([elf]) : undefined;
}

export async function nrf9160FootprintBench(): Promise<void> {
	const root = process.cwd();
	console.log(`\nThe firmware's own parts on the nRF9160 (Cortex-M33, ${TARGET.join(" ")}), object sizes before linking\n`);
	if (!compilerAvailable()) {
		console.log("not measured: arm-none-eabi-gcc is missing (tools/debian-packages.txt)");
		return;
	}
	const dir = mkdtempSync(join(tmpdir(), "nrf9160-footprint-"));
	try {
		const rows: Array<[string, Sections]> = [];
		const objects: string[] = [];
		const measure = async (label: string, sources: string[], argumentsFor: (s: string, o: string) => string[]) => {
			const results = await compileAll(sources, join(dir, label.replace(/\W+/g, "-")), argumentsFor);
			const failed = results.filter((r) => r.status !== 0);
			if (failed.length) throw new Error(`${label}: ${failed[0]!.source} does not compile:\n${failed[0]!.stderr}`);
			objects.push(...results.map((r) => r.object));
			rows.push([label, sectionSizes(results.map((r) => r.object))]);
		};
		await measure(`XS engine (${engineSources(root).length} sources of @agoric/xsnap's XS)`, engineSources(root), (s, o) => engineArguments(root, s, o));
		await measure("nRF9160 bindings, native/common, MQTT codec", bindingSources(root), (s, o) => bindingArguments(root, s, o));
		/* The archive is built against the SDK's XS, the engine here is xsnap's: they are linked apart. */
		const linked = linkedSize([...objects], dir);
		const archive = findArchive(root);
		const moddable = process.env.MODDABLE;
		let archiveNote: string;
		if (!moddable) archiveNote = "module archive: skipped, MODDABLE not set";
		else if (!archive) archiveNote = "module archive: not measured, no mc.xs.c under build/moddable (run npm run build:moddable)";
		else {
			const xs = join(moddable, "xs");
			await measure("preloaded module archive (mc.xs.c, Moddable build)", [archive], (s, o) => [...TARGET, "-fshort-enums", "-w", "-DINCLUDE_XSPLATFORM",
				'-DXSPLATFORM="xs-platform.h"', "-I", join(root, "native", "nrf9160"), "-I", join(xs, "includes"), "-I", join(xs, "sources"), "-I", join(xs, "platforms"), "-c", s, "-o", o]);
			archiveNote = `module archive: ${archive.slice(root.length + 1)}, compiled with the SDK's XS headers`;
		}
		const total = rows.reduce((sum, [, s]) => ({ text: sum.text + s.text, data: sum.data + s.data, bss: sum.bss + s.bss }), { text: 0, data: 0, bss: 0 });
		const line = (label: string, s: Sections): string[] => [label, String(s.text), String(s.data), String(s.bss), kb(s.text + s.data), kb(s.data + s.bss)];
		console.log(table(["part", "text", "data", "bss", "flash (text+data)", "RAM (data+bss)"], [...rows.map(([label, s]) => line(label, s)), line("total", total)]));
		console.log(`\n${archiveNote}`);
		if (linked) console.log(`engine and bindings linked with --gc-sections, newlib and every xs_ function kept (the port's and the SDK's symbols left unresolved): text ${linked.text}, data ${linked.data}, bss ${linked.bss} (${kb(linked.text + linked.data)} flash)`);
		console.log(`\nBudget: ${kb(FLASH)} flash - MCUboot ${kb(MCUBOOT)} - settings ${kb(SETTINGS)} = two slots of ${kb(SLOT)}; the primary slot holds TF-M (minimal, ${kb(TFM_FLASH)}): ${kb(APP_FLASH)} for the application`);
		console.log(`        ${kb(RAM)} RAM - TF-M ${kb(TFM_RAM)} - libmodem shared memory ${kb(MODEM_SHMEM)} = ${kb(APP_RAM)} for the application`);
		const flash = total.text + total.data;
		const ram = total.data + total.bss;
		console.log(`\nflash: ${kb(flash)} of ${kb(APP_FLASH)} (${(flash * 100 / APP_FLASH).toFixed(0)}%), leaving ${kb(APP_FLASH - flash)} for Zephyr, NCS and libmodem: ${flash <= APP_FLASH ? "fits" : "does NOT fit"}`);
		console.log(`RAM:   ${kb(ram)} static of ${kb(APP_RAM)} (${(ram * 100 / APP_RAM).toFixed(0)}%), leaving ${kb(APP_RAM - ram)} for Zephyr's heap (the port's 64 KB), stacks and the XS machine (32 KB static): ${ram <= APP_RAM ? "fits" : "does NOT fit"}`);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
