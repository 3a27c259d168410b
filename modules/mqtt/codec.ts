/*
 * What the MQTT session needs of a codec: an encoder and an incremental decoder.
 * The TypeScript codec (encoder.ts, decoder.ts) is the reference; the C codec
 * (native-codec.ts) implements the same interfaces, and MqttClient takes either
 * through its `codec` option.
 */

import type { Packet } from "./packet.js";

/** The subset of an encoder that the session and the benchmarks use; a native codec provides the same. */
export interface PacketEncoder {
	/** Total frame length of `packet` in bytes. */
	length(packet: Packet): number;
	/** Writes the frame at `offset`; returns the offset after it. Throws RangeError if it does not fit. */
	encodeInto(packet: Packet, out: Uint8Array, offset?: number): number;
	/** Returns the frame in a new array. */
	encode(packet: Packet): Uint8Array;
}

export interface DecoderOptions {
	/** Largest accepted frame, fixed header included. Default: the MQTT maximum. */
	maxPacketSize?: number;
	/** Receives each packet; must not throw. */
	onPacket: (packet: Packet) => void;
}

/** What the session needs of a decoder; a native decoder provides the same. */
export interface PacketDecoder {
	parse(chunk: Uint8Array): void;
	reset(): void;
	/** Bytes of an incomplete frame held back. */
	readonly buffered: number;
}

/** Builds a connection's encoder and decoder. */
export interface Codec {
	createEncoder(): PacketEncoder;
	createDecoder(options: { maxPacketSize: number; onPacket: (packet: Packet) => void }): PacketDecoder;
}
