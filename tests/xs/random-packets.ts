/* Seeded random valid MQTT 3.1.1 packets for suites inside XS, where fast-check is not available. */

import type { Packet, QoS } from "../../modules/mqtt/packet.js";

export class Random {
	#state: number;
	constructor(seed: number) {
		this.#state = seed >>> 0 || 1;
	}
	next(): number {
		let x = this.#state;
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		this.#state = x;
		return x;
	}
	int(min: number, max: number): number {
		return min + (this.next() % (max - min + 1));
	}
	bool(): boolean {
		return (this.next() & 1) === 1;
	}
	pick<T>(items: readonly T[]): T {
		return items[this.int(0, items.length - 1)]!;
	}
	bytes(max: number): Uint8Array {
		const out = new Uint8Array(this.int(0, max));
		for (let i = 0; i < out.length; i++) out[i] = this.next() & 0xFF;
		return out;
	}
}

const UNICODE = ["a", "b", "Z", "0", "-", "_", "$", " ", "é", "ß", "€", "中", "😀", "\u00a0"];

function level(r: Random): string {
	let text = "";
	const length = r.int(1, 10);
	for (let i = 0; i < length; i++) text += r.int(0, 4) === 0 ? r.pick(UNICODE) : String.fromCharCode(r.int(0x61, 0x7a));
	return text;
}

function topicName(r: Random): string {
	const levels: string[] = [];
	const count = r.int(1, 5);
	for (let i = 0; i < count; i++) levels.push(level(r));
	return levels.join("/");
}

function topicFilter(r: Random): string {
	const levels: string[] = [];
	const count = r.int(1, 4);
	for (let i = 0; i < count; i++) levels.push(r.int(0, 4) === 0 ? "+" : level(r));
	if (r.bool()) levels.push("#");
	return levels.join("/");
}

function qos(r: Random): QoS {
	return r.int(0, 2) as QoS;
}

export function randomPacket(r: Random): Packet {
	const packetId = r.int(1, 65535);
	switch (r.int(1, 16)) {
		case 1: {
			const v311 = r.bool();
			const clientId = r.bool() ? level(r) : "";
			const packet: Packet = {
				type: 1, protocolName: v311 ? "MQTT" : "MQIsdp", protocolLevel: v311 ? 4 : 3,
				clientId: v311 ? clientId : clientId || "c", keepalive: r.int(0, 65535), clean: r.bool() || clientId === "",
			};
			if (r.bool()) packet.will = { topic: topicName(r), payload: r.bytes(40), qos: qos(r), retain: r.bool() };
			if (r.bool()) {
				packet.username = level(r);
				if (r.bool()) packet.password = r.bytes(20);
			}
			return packet;
		}
		case 2: {
			const returnCode = r.int(0, 5);
			return { type: 2, sessionPresent: returnCode === 0 && r.bool(), returnCode };
		}
		case 3: case 4: case 5: case 6: {
			const q = qos(r);
			return { type: 3, topic: topicName(r), payload: r.bytes(r.int(0, 9) === 0 ? 3000 : 200), qos: q, retain: r.bool(), dup: q > 0 && r.bool(), packetId: q > 0 ? packetId : 0 };
		}
		case 7: case 8: case 9: case 10: case 11:
			return { type: r.pick([4, 5, 6, 7, 11] as const), packetId };
		case 12: {
			const subscriptions = [];
			for (let i = r.int(1, 6); i > 0; i--) subscriptions.push({ topic: topicFilter(r), qos: qos(r) });
			return { type: 8, packetId, subscriptions };
		}
		case 13: {
			const returnCodes = [];
			for (let i = r.int(1, 6); i > 0; i--) returnCodes.push(r.pick([0, 1, 2, 0x80]));
			return { type: 9, packetId, returnCodes };
		}
		case 14: {
			const topics = [];
			for (let i = r.int(1, 6); i > 0; i--) topics.push(topicFilter(r));
			return { type: 10, packetId, topics };
		}
		default:
			return { type: r.pick([12, 13, 14] as const) };
	}
}
