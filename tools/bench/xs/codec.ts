/*
 * Runs inside XS (simulator host): encode and decode throughput of the C codec
 * and the TypeScript codec on the same packets, printed as one JSON line.
 */

import { MqttDecoder } from "../../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../../modules/mqtt/encoder.js";
import { NativeMqttDecoder, NativeMqttEncoder } from "../../../modules/mqtt/native-codec.js";
import type { Packet } from "../../../modules/mqtt/packet.js";

const D2C = "prod/2c1e0b0e-6d0f-4bd2-9e84-0fa4d4ef4c87/m/d/nrf-352656100441776/d2c";
const now = native("xs_sim_now") as () => number;
const seconds = Number((native("xs_sim_args")() as string[])[0] ?? "0.3");

function publish(size: number): Packet {
	const payload = new Uint8Array(size);
	for (let i = 0; i < size; i++) payload[i] = 32 + (i % 90);
	return { type: 3, topic: D2C, payload, qos: 1, retain: false, dup: false, packetId: 4242 };
}

/** Operations per second of `body`, run in batches for about `seconds`. */
function rate(body: (n: number) => void): number {
	body(10);
	let operations = 0;
	const start = now();
	let elapsed = 0;
	let batch = 10;
	while (elapsed < seconds * 1000) {
		body(batch);
		operations += batch;
		elapsed = now() - start;
		if (elapsed < 50) batch *= 2;
	}
	return operations / (elapsed / 1000);
}

const gc = native("xs_sim_gc") as () => void;

/** Best of three alternating rounds, each after a collection, so neither side pays for the other's garbage. */
function best(a: (n: number) => void, b: (n: number) => void): [number, number] {
	let bestA = 0;
	let bestB = 0;
	for (let round = 0; round < 3; round++) {
		gc();
		bestA = Math.max(bestA, rate(a));
		gc();
		bestB = Math.max(bestB, rate(b));
	}
	return [bestA, bestB];
}

const rows: Array<{ row: string; ts: number; c: number }> = [];
for (const size of [16, 256, 2048]) {
	const packet = publish(size);
	const tsEncoder = new MqttEncoder({ slabSize: 0 });
	const cEncoder = new NativeMqttEncoder();
	const frame = tsEncoder.encode(packet);
	let count = 0;
	const onPacket = () => { count++; };
	const tsDecoder = new MqttDecoder({ onPacket });
	const cDecoder = new NativeMqttDecoder({ onPacket });
	const [ts, c] = best(
		(n) => { for (let i = 0; i < n; i++) tsDecoder.parse(tsEncoder.encode(packet)); },
		(n) => { for (let i = 0; i < n; i++) cDecoder.parse(cEncoder.encode(packet)); },
	);
	if (count === 0) throw new Error("nothing decoded");
	if (cEncoder.encode(packet).length !== frame.length) throw new Error("the codecs disagree");
	rows.push({ row: `PUBLISH QoS 1, ${size} B: encode + decode`, ts, c });
}
console.log(`BENCH ${JSON.stringify(rows)}`);
