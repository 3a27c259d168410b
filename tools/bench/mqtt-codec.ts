/*
 * Codec throughput: our TypeScript codec and mqtt-packet, measured in the same
 * process on the same packets, as packets per second and their ratio.
 * Run with `npm run bench`.
 */

import { createRequire } from "node:module";
import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import type { Packet } from "../../modules/mqtt/packet.js";
import { compare, formatRate, table } from "./harness.js";

const require = createRequire(import.meta.url);
interface Parser { on(event: string, listener: (value: unknown) => void): void; parse(data: Buffer): number }
const mqttPacket = require("mqtt-packet") as { generate(p: object): Buffer; parser(o?: object): Parser };

const DEVICE = "nrf-352656100441776";
const D2C = `prod/2c1e0b0e-6d0f-4bd2-9e84-0fa4d4ef4c87/m/d/${DEVICE}/d2c`;

function payload(size: number): Uint8Array {
	return new Uint8Array(size).map((_, i) => 32 + (i % 90));
}

interface Row {
	name: string;
	ours: Packet;
	theirs: Record<string, unknown>;
}

function publish(size: number): Row {
	const bytes = payload(size);
	return {
		name: `PUBLISH QoS 1, ${size} B payload`,
		ours: { type: 3, topic: D2C, payload: bytes, qos: 1, retain: false, dup: false, packetId: 4242 },
		theirs: { cmd: "publish", topic: D2C, payload: Buffer.from(bytes), qos: 1, retain: false, dup: false, messageId: 4242 },
	};
}

const shadowFilters = [`${DEVICE}/shadow/get/accepted`, `$aws/things/${DEVICE}/shadow/get/rejected`, `$aws/things/${DEVICE}/shadow/update/delta`];

const rows: Row[] = [
	publish(16),
	publish(256),
	publish(2048),
	{
		name: "SUBSCRIBE, 3 shadow filters",
		ours: { type: 8, packetId: 1234, subscriptions: shadowFilters.map((topic) => ({ topic, qos: 1 as const })) },
		theirs: { cmd: "subscribe", messageId: 1234, subscriptions: shadowFilters.map((topic) => ({ topic, qos: 1 })) },
	},
	{ name: "PUBACK", ours: { type: 4, packetId: 5678 }, theirs: { cmd: "puback", messageId: 5678 } },
	{ name: "PINGREQ", ours: { type: 12 }, theirs: { cmd: "pingreq" } },
];

export interface CodecResult { row: string; operation: string; ours: number; theirs: number }

export function runCodecBench(ms = 250, rounds = 5): CodecResult[] {
	const results: CodecResult[] = [];
	for (const row of rows) {
		const encoder = new MqttEncoder();
		const frame = encoder.encode(row.ours);
		const theirFrame = mqttPacket.generate(row.theirs);
		if (Buffer.compare(Buffer.from(frame), theirFrame) !== 0) throw new Error(`${row.name}: the two codecs disagree on the bytes`);
		const out = new Uint8Array(frame.length);
		let sink = 0;
		const encode = compare({
			ours: (n) => { for (let i = 0; i < n; i++) sink += encoder.encode(row.ours).length; },
			oursInto: (n) => { for (let i = 0; i < n; i++) sink += encoder.encodeInto(row.ours, out, 0); },
			theirs: (n) => { for (let i = 0; i < n; i++) sink += mqttPacket.generate(row.theirs).length; },
		}, ms, rounds);
		let decoded = 0;
		const decoder = new MqttDecoder({ onPacket: () => { decoded++; } });
		const parser = mqttPacket.parser();
		parser.on("packet", () => { decoded++; });
		parser.on("error", (e) => { throw e; });
		const theirInput = Buffer.from(frame);
		const decode = compare({
			ours: (n) => { for (let i = 0; i < n; i++) decoder.parse(frame); },
			theirs: (n) => { for (let i = 0; i < n; i++) parser.parse(theirInput); },
		}, ms, rounds);
		if (sink === 0 || decoded === 0) throw new Error("nothing was measured");
		results.push({ row: row.name, operation: "encode", ours: encode.ours!, theirs: encode.theirs! });
		results.push({ row: row.name, operation: "encode into caller buffer", ours: encode.oursInto!, theirs: encode.theirs! });
		results.push({ row: row.name, operation: "decode", ours: decode.ours!, theirs: decode.theirs! });
	}
	return results;
}

export function printCodecBench(results: CodecResult[]): boolean {
	console.log(`MQTT codec throughput, packets/s (Node ${process.version}; best of rounds; mqtt-packet ${require("mqtt-packet/package.json").version} in the same process)\n`);
	console.log(table(["packet", "operation", "ours", "mqtt-packet", "ratio"], results.map((r) => [
		r.row, r.operation, formatRate(r.ours), formatRate(r.theirs), `${(r.ours / r.theirs).toFixed(2)}x`,
	])));
	const behind = results.filter((r) => r.operation !== "encode into caller buffer" && r.ours < r.theirs);
	console.log(behind.length === 0
		? "\ngoal met: ours at or above mqtt-packet on every row"
		: `\ngoal missed on ${behind.length} row(s): ${behind.map((r) => `${r.row} ${r.operation}`).join(", ")}`);
	return behind.length === 0;
}
