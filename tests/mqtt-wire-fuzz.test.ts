/*
 * libFuzzer with ASan, LeakSanitizer and UBSan on the C MQTT wire layer for
 * FUZZ_SECONDS (default 60) from the committed seeds, then every input of the
 * corpus it grew decoded and re-encoded by the C codec (the target writes what
 * it made of each) and by the TypeScript codec: same packets, same frames,
 * same errors. `npm run fuzz -- --minutes N` runs longer. See tools/fuzz.
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildFuzzer, compareWithTypeScript, decodeCorpus, prepareCorpus, root, runFuzzer, seedDir, type Decoded } from "../tools/fuzz/mqtt-wire.js";

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const work = mkdtempSync(join(tmpdir(), "mqtt-wire-fuzz-"));
after(() => rmSync(work, { recursive: true, force: true }));
const corpus = join(work, "corpus");
let binary = "";

test(`libFuzzer finds no crash, leak or undefined behaviour in mqtt-wire.c in ${seconds} s`, { timeout: (seconds + 120) * 1000 }, async () => {
	binary = buildFuzzer(join(work, "bin"));
	prepareCorpus(corpus, true);
	const run = await runFuzzer(binary, corpus, join(work, "artifacts"), seconds);
	assert.equal(run.status, 0, `${run.finding}\ninput: ${run.artifact}`);
	assert.ok(run.executions > 1000, `only ${run.executions} executions`);
	assert.ok(run.coverage > 0);
});

test("the C and TypeScript codecs decode and re-encode every corpus input alike", () => {
	assert.ok(binary, "the fuzzer was not built");
	const decoded = decodeCorpus(binary, corpus, join(work, "decodes.jsonl"));
	assert.ok(decoded.length >= 20, `only ${decoded.length} inputs replayed`);
	const kinds = new Set(decoded.flatMap((line) => line.packets.map((packet) => (packet as { type: number }).type)));
	assert.ok(kinds.size >= 14, `packet types seen: ${[...kinds].join(", ")}`);
	assert.ok(decoded.some((line) => "error" in line.outcome), "no input ended in a decoding error");
	assert.deepEqual(compareWithTypeScript(decoded), []);
});

test("the comparison reports a packet, frame or outcome that differs", () => {
	const frame = readFileSync(join(seedDir, "publish-qos1-dup"));
	const typescriptLine = (): Decoded => {
		const line = compareWithTypeScript([{ input: frame.toString("hex"), packets: [], encoded: [], outcome: { buffered: 0 } }])[0]!;
		return { input: line.input, ...structuredClone(line.typescript) };
	};
	assert.deepEqual(compareWithTypeScript([typescriptLine()]), []);
	const wrongPacket = typescriptLine();
	(wrongPacket.packets[0] as { retain: boolean }).retain = false;
	const wrongFrame = typescriptLine();
	wrongFrame.encoded[0] = { frame: "3000" };
	const wrongOutcome = typescriptLine();
	wrongOutcome.outcome = { error: "MALFORMED_PACKET" };
	assert.equal(compareWithTypeScript([wrongPacket, wrongFrame, wrongOutcome]).length, 3);
});

test("the target stops on an encoder that loses a flag", { timeout: 120_000 }, async () => {
	const source = readFileSync(join(root, "native", "mqtt", "mqtt-wire.c"), "utf8");
	const retainFlag = "(p->retain ? 1 : 0)";
	assert.ok(source.includes(retainFlag), "the PUBLISH header no longer writes retain this way");
	const broken = join(work, "mqtt-wire-broken.c");
	writeFileSync(broken, source.replace(retainFlag, "0"));
	const brokenBinary = buildFuzzer(join(work, "broken"), broken);
	const seeds = join(work, "broken-corpus");
	prepareCorpus(seeds, true);
	const run = await runFuzzer(brokenBinary, seeds, join(work, "broken-artifacts"), 5);
	assert.notEqual(run.status, 0);
	assert.match(run.finding ?? "", /re-decoded packet differs/);
});
