/*
 * The C codec (native/mqtt/mqtt-codec.c) behind the same interfaces as the
 * TypeScript codec, which stays the reference: MqttClient takes either through
 * its `codec` option. Only hosts that link the C codec can load this module.
 */

import type { Codec, DecoderOptions, PacketDecoder, PacketEncoder } from "./codec.js";
import { MqttError, type MqttErrorCodeName } from "./errors.js";
import type { Packet } from "./packet.js";

function makeError(code: MqttErrorCodeName, message: string): MqttError {
	return new MqttError(code, message);
}

// Resolved once: the encoder and decoder call them for every packet.
const xsLength = native("xs_mqtt_length");
const xsEncode = native("xs_mqtt_encode");
const xsEncodeInto = native("xs_mqtt_encode_into");
const xsParse = native("xs_mqtt_decoder_parse");

export class NativeMqttEncoder implements PacketEncoder {
	length(packet: Packet): number {
		return xsLength(packet, makeError);
	}

	encode(packet: Packet): Uint8Array {
		return xsEncode(packet, makeError);
	}

	encodeInto(packet: Packet, out: Uint8Array, offset = 0): number {
		return xsEncodeInto(packet, out, offset, makeError);
	}
}

export class NativeMqttDecoder extends Native("xs_mqtt_decoder_destructor") implements PacketDecoder {
	readonly #onPacket: (packet: Packet) => void;

	constructor(options: DecoderOptions) {
		super();
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.onPacket !== "function") throw new TypeError("onPacket must be a function");
		native("xs_mqtt_decoder_constructor").call(this, options.maxPacketSize);
		this.#onPacket = options.onPacket;
	}

	parse(chunk: Uint8Array): void {
		xsParse.call(this, chunk, this.#onPacket, makeError);
	}

	reset(): void {
		native("xs_mqtt_decoder_reset").call(this);
	}

	get buffered(): number {
		return native("xs_mqtt_decoder_get_buffered").call(this);
	}
}

export const nativeCodec: Codec = Object.freeze({
	createEncoder: () => new NativeMqttEncoder(),
	createDecoder: (options: { maxPacketSize: number; onPacket: (packet: Packet) => void }) => new NativeMqttDecoder(options),
});
