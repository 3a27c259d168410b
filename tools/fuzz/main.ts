/*
 * `npm run fuzz -- [--minutes N] [--seconds N] [--fresh]`: libFuzzer with
 * ASan, LeakSanitizer and UBSan on the C MQTT wire layer for the given time
 * (default 10 minutes), keeping its corpus in build/fuzz/mqtt-wire-corpus
 * between runs (--fresh starts again from the committed seeds), then the
 * corpus compared with the TypeScript codec. Prints one summary line
 * (executions, exec/s, coverage, corpus size, crashes); exits 1 on a finding
 * or a difference between the codecs.
 */

import { join } from "node:path";
import { wholeNumber } from "../lib/args.js";
import { buildFuzzer, compareWithTypeScript, decodeCorpus, prepareCorpus, root, runFuzzer } from "./mqtt-wire.js";

const argv = process.argv.slice(2);
const minutes = wholeNumber(argv, "--minutes", 24 * 60);
const seconds = wholeNumber(argv, "--seconds", 24 * 3600) ?? (minutes ?? 10) * 60;
if (seconds < 1) throw new RangeError("the run needs at least one second");

const work = join(root, "build", "fuzz");
const corpus = join(work, "mqtt-wire-corpus");
const binary = buildFuzzer(work);
prepareCorpus(corpus, argv.includes("--fresh"));
console.log(`fuzz: ${binary} for ${seconds} s over ${corpus}`);
let lastReport = 0;
const run = await runFuzzer(binary, corpus, join(work, "artifacts"), seconds, (line) => {
	if (/^#\d+\s+(pulse|REDUCE|NEW)/.test(line) && Date.now() - lastReport > 30_000) {
		lastReport = Date.now();
		console.log(`fuzz: ${line}`);
	}
});
// libFuzzer stops at its first finding (a crash, leak, sanitizer report or timeout): 0 or 1 per run
const findings = run.status === 0 ? 0 : 1;
console.log(`fuzz: summary: mqtt-wire.c ${run.executions} executions in ${run.seconds.toFixed(0)} s, ${Math.round(run.executions / run.seconds)} exec/s, coverage ${run.coverage} edges ${run.features} features, corpus ${run.corpusSize} inputs, crashes ${findings}`);
if (run.status !== 0) {
	console.error(`fuzz: FOUND (exit ${run.status}): ${run.finding}`);
	if (run.artifact) console.error(`fuzz: input saved in ${run.artifact}`);
	process.exit(1);
}
console.log("fuzz: no crash, leak or undefined behaviour");
const decoded = decodeCorpus(binary, corpus, join(work, "mqtt-wire-decodes.jsonl"));
const mismatches = compareWithTypeScript(decoded);
console.log(`fuzz: ${decoded.length} corpus inputs decoded and re-encoded by both codecs, ${mismatches.length} differences`);
for (const mismatch of mismatches.slice(0, 5)) console.error(JSON.stringify(mismatch));
process.exit(mismatches.length ? 1 : 0);
