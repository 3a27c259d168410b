/*
 * `npm run soak -- [options]`: "no data lost" measured over the whole path,
 * device to the cloud's store. The soak firmware in XS sends QoS 1 sensor
 * messages, each with its sequence number, through a fault proxy that cuts the
 * link every 0.5 to 4 s, while the local nRF Cloud is killed (SIGKILL) and
 * restarted on the same state and ports and the device host is killed and
 * restarted on its modem state; then the cloud's store is counted. It runs
 * with the library's offline queue and, as the baseline, without it (the C
 * library's behaviour), and prints both side by side.
 *
 *   --messages N          messages per run (default 10000)
 *   --interval MS         between two sends (default 20)
 *   --only queue|baseline one of the two runs
 *   --cloud-restarts N    SIGKILLs of the cloud (default 2)
 *   --device-restarts N   SIGKILLs of the device host (default 1)
 *   --cut-min MS, --cut-max MS   the cut interval (default 500 to 4000)
 *   --seed N              for the cut intervals (default: from the clock, printed)
 *   --verbose             print the firmware's lines too
 *   --fleet               the fleet soak instead (tools/soak/fleet.ts; its options there)
 *
 * Exits with 1 when the run with the queue lost a message.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { wholeNumber } from "../lib/args.js";
import { commonOptions, timedLog } from "./options.js";
import { soakTable, type ReportColumn } from "./report.js";
import { runSoak, type SoakOptions } from "./run.js";
import { fleetMain } from "./fleet.js";

const IMEIS = { queue: "352656109900001", baseline: "352656109900002" };

async function main(argv: string[]): Promise<number> {
	if (argv.includes("--fleet")) return fleetMain(argv);
	const common = commonOptions(argv, { messages: 10_000, intervalMs: 20 });
	const { only, seed } = common;
	const base = {
		...common,
		cloudRestarts: wholeNumber(argv, "--cloud-restarts") ?? 2,
		deviceRestarts: wholeNumber(argv, "--device-restarts") ?? 1,
	};
	console.log(`soak: ${base.messages} messages per run, one every ${base.intervalMs} ms; cuts every ${base.cutMinMs} to ${base.cutMaxMs} ms (seed ${seed}); ` +
		`${base.cloudRestarts} cloud and ${base.deviceRestarts} device SIGKILLs`);
	const begun = Date.now();
	const columns: ReportColumn[] = [];
	const failures: string[] = [];
	for (const queue of [true, false]) {
		const name = queue ? "queue" : "baseline";
		if (only !== undefined && only !== name) continue;
		const work = mkdtempSync(join(tmpdir(), `soak-${name}-`));
		const options: SoakOptions = {
			...base, work, queue, imei: IMEIS[name], settleMs: queue ? 30_000 : 5_000,
			log: timedLog(begun), verbose: argv.includes("--verbose"),
		};
		try {
			const result = await runSoak(options);
			columns.push({ title: queue ? "offline queue" : "baseline (C behaviour)", result });
			if (result.lost > 0) console.log(`soak: ${name}: first missing sequence numbers ${result.missing.join(", ")}`);
		}
		catch (error) {
			failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
		}
		finally {
			rmSync(work, { recursive: true, force: true });
		}
	}
	if (columns.length > 0) console.log(`\n${soakTable(columns)}\n`);
	for (const failure of failures) console.error(`soak: ${failure}`);
	const queueRun = columns.find((c) => c.result.queue);
	if (failures.length > 0) return 2;
	return queueRun !== undefined && queueRun.result.lost > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main(process.argv.slice(2)).then((status) => { process.exitCode = status; }, (error: unknown) => {
		console.error(`soak: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 2;
	});
}
