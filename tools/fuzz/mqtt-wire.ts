/*
 * libFuzzer on the C MQTT wire layer (native/mqtt/mqtt-wire.c) with
 * AddressSanitizer, LeakSanitizer and UBSan: builds tests/fuzz/mqtt-wire-fuzz.c
 * with clang, runs it from the committed seeds, and compares what the C codec
 * decoded and re-encoded for every input of the resulting corpus with the
 * TypeScript codec (modules/mqtt/typescript-codec.ts). Used by `npm run fuzz`
 * and by tests/mqtt-wire-fuzz.test.ts.
 */

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { MqttError } from "../../modules/mqtt/errors.js";
import type { Packet } from "../../modules/mqtt/packet.js";
import { typescriptCodec } from "../../modules/mqtt/typescript-codec.js";

export const root = new URL("../../..", import.meta.url).pathname;
export const seedDir = join(root, "tests", "fuzz", "mqtt-wire-seeds");
/** Must match FUZZ_MAX_PACKET in the target. */
export const FUZZ_MAX_PACKET = 6000;
const MAX_INPUT = 8192;

/** Builds the fuzzer (with another copy of the wire layer when given) into `dir`; throws with clang's output when that fails. */
export function buildFuzzer(dir: string, wireSource = join(root, "native", "mqtt", "mqtt-wire.c")): string {
	mkdirSync(dir, { recursive: true });
	const binary = join(dir, "mqtt-wire-fuzz");
	const built = spawnSync("clang", ["-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined",
		"-Wall", "-Wextra", "-Werror", "-I", join(root, "native", "mqtt"),
		wireSource, join(root, "tests", "fuzz", "mqtt-wire-fuzz.c"), "-o", binary], { encoding: "utf8" });
	if (built.error) throw new Error(`clang: ${built.error.message} (install the Debian packages in tools/debian-packages.txt)`);
	if (built.status !== 0) throw new Error(`clang failed:\n${built.stderr}`);
	return binary;
}

/** A corpus directory holding at least the committed seeds. */
export function prepareCorpus(dir: string, fresh: boolean): void {
	if (fresh) rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	for (const name of readdirSync(seedDir)) {
		const target = join(dir, `seed-${name}`);
		if (!existsSync(target)) copyFileSync(join(seedDir, name), target);
	}
}

export interface FuzzRun {
	/** libFuzzer's exit status: 0 when nothing was found. */
	status: number | null;
	executions: number;
	/** Edges covered ("cov:") and features ("ft:") at the end of the run. */
	coverage: number;
	features: number;
	corpusSize: number;
	seconds: number;
	/** What a sanitizer or the target reported, when it stopped the run. */
	finding: string | undefined;
	/** Where libFuzzer saved the input that stopped the run. */
	artifact: string | undefined;
}

/** Runs the fuzzer for `seconds` over `corpus`, saving anything it finds in `artifacts`. */
export function runFuzzer(binary: string, corpus: string, artifacts: string, seconds: number, onLine?: (line: string) => void): Promise<FuzzRun> {
	mkdirSync(artifacts, { recursive: true });
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(binary, [`-max_total_time=${seconds}`, `-max_len=${MAX_INPUT}`, "-print_final_stats=1", "-detect_leaks=1",
			"-timeout=10", "-rss_limit_mb=1024", `-artifact_prefix=${artifacts}/`, corpus], {
			stdio: ["ignore", "ignore", "pipe"],
			env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=1:symbolize=1", UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1" },
		});
		let text = "";
		let partial = "";
		child.stderr.setEncoding("utf8");
		child.stderr.on("data", (chunk: string) => {
			text += chunk;
			if (text.length > 4_000_000) text = text.slice(-2_000_000);
			partial += chunk;
			const lines = partial.split("\n");
			partial = lines.pop()!;
			for (const line of lines) onLine?.(line);
		});
		child.on("error", reject);
		child.on("close", (status) => {
			const stat = (name: string) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
			const progress = [...text.matchAll(/^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/gm)].at(-1);
			const executions = Number.isNaN(stat("number_of_executed_units")) ? Number(progress?.[1] ?? 0) : stat("number_of_executed_units");
			const report = /^(==\d+==ERROR: .*|.*runtime error: .*|re-decoded packet differs:.*|chunked decode differs:.*|a decoded packet does not encode:.*)$/m.exec(text);
			resolve({
				status,
				executions,
				coverage: Number(progress?.[2] ?? 0),
				features: Number(progress?.[3] ?? 0),
				corpusSize: readdirSync(corpus).length,
				seconds: (Date.now() - started) / 1000,
				finding: status === 0 ? undefined : (report?.[0] ?? text.slice(-2000)),
				artifact: /Test unit written to (\S+)/.exec(text)?.[1],
			});
		});
	});
}

/** One line of the target's MQTT_WIRE_FUZZ_OUT file. */
export interface Decoded {
	input: string;
	packets: unknown[];
	encoded: Array<{ frame: string } | { error: string }>;
	outcome: { error: string } | { buffered: number };
}

/** Runs every input of `corpus` once through the target and returns what the C codec made of each. */
export function decodeCorpus(binary: string, corpus: string, outFile: string): Decoded[] {
	rmSync(outFile, { force: true });
	const run = spawnSync(binary, ["-runs=0", `-max_len=${MAX_INPUT}`, corpus], {
		encoding: "utf8", env: { ...process.env, MQTT_WIRE_FUZZ_OUT: outFile }, maxBuffer: 64 << 20,
	});
	if (run.status !== 0) throw new Error(`replay failed (${run.status}):\n${run.stderr.slice(-3000)}`);
	return readFileSync(outFile, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Decoded);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const text = (value: string) => Buffer.from(value, "utf8").toString("hex");

/** A TypeScript packet in the target's description: the same field names, strings and bytes in hex. */
export function describePacket(packet: Packet): unknown {
	switch (packet.type) {
	case 1: {
		const described: Record<string, unknown> = { type: 1, protocolName: text(packet.protocolName), protocolLevel: packet.protocolLevel, keepalive: packet.keepalive, clean: packet.clean, clientId: text(packet.clientId) };
		if (packet.will) described.will = { qos: packet.will.qos, retain: packet.will.retain, topic: text(packet.will.topic), payload: hex(packet.will.payload) };
		if (packet.username !== undefined) described.username = text(packet.username);
		if (packet.password !== undefined) described.password = hex(packet.password);
		return described;
	}
	case 2: return { type: 2, sessionPresent: packet.sessionPresent, returnCode: packet.returnCode };
	case 3: return { type: 3, qos: packet.qos, retain: packet.retain, dup: packet.dup, packetId: packet.packetId, topic: text(packet.topic), payload: hex(packet.payload) };
	case 8: return { type: 8, packetId: packet.packetId, subscriptions: packet.subscriptions.map((s) => ({ qos: s.qos, topic: text(s.topic) })) };
	case 9: return { type: 9, packetId: packet.packetId, returnCodes: [...packet.returnCodes] };
	case 10: return { type: 10, packetId: packet.packetId, topics: packet.topics.map(text) };
	case 12: case 13: case 14: return { type: packet.type };
	default: return { type: packet.type, packetId: packet.packetId };
	}
}

/** What the TypeScript codec makes of one input, in the target's form. */
export function typescriptDecode(input: Uint8Array): Omit<Decoded, "input"> {
	const packets: Packet[] = [];
	const decoder = typescriptCodec.createDecoder({ maxPacketSize: FUZZ_MAX_PACKET, onPacket: (packet) => packets.push(packet) });
	let outcome: Decoded["outcome"];
	try {
		decoder.parse(input);
		outcome = { buffered: decoder.buffered };
	}
	catch (error) {
		if (!(error instanceof MqttError)) throw error;
		outcome = { error: error.code };
	}
	const encoder = typescriptCodec.createEncoder();
	const encoded = packets.map((packet) => {
		try {
			return { frame: hex(encoder.encode(packet)) };
		}
		catch (error) {
			if (!(error instanceof MqttError)) throw error;
			return { error: error.code };
		}
	});
	return { packets: packets.map(describePacket), encoded, outcome };
}

export interface Mismatch {
	input: string;
	c: Omit<Decoded, "input">;
	typescript: Omit<Decoded, "input">;
}

/** The inputs on which the two codecs disagree (packets, re-encoded frames or outcome). */
export function compareWithTypeScript(decoded: readonly Decoded[]): Mismatch[] {
	const mismatches: Mismatch[] = [];
	for (const line of decoded) {
		const { input, ...c } = line;
		const typescript = typescriptDecode(Buffer.from(input, "hex"));
		if (!isDeepStrictEqual(c, typescript)) mismatches.push({ input, c, typescript });
	}
	return mismatches;
}
