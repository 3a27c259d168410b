/* Helpers that run the decoder over whole buffers for tests. */

import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import type { Packet } from "../../modules/mqtt/packet.js";

/** Decodes `data` fed in the given chunk sizes (whole by default); throws the decoder's error. */
export function decodeAll(data: Uint8Array, chunkSizes?: number[], maxPacketSize?: number): Packet[] {
	const packets: Packet[] = [];
	const decoder = new MqttDecoder({ maxPacketSize, onPacket: (p) => packets.push(p) });
	if (chunkSizes === undefined) {
		decoder.parse(data);
	}
	else {
		let pos = 0;
		let i = 0;
		while (pos < data.length) {
			const size = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
			decoder.parse(data.slice(pos, pos + size));
			pos += size;
		}
	}
	if (decoder.buffered !== 0) throw new Error(`${decoder.buffered} bytes left undecoded`);
	return packets;
}

export function hex(text: string): Uint8Array {
	return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

export function toHex(bytes: Uint8Array): string {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function concat(parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}
