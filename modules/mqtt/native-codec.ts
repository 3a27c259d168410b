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

type MakeError = (code: MqttErrorCodeName, message: string) => MqttError;

/**
 * The C encoder alone: each method is exactly one native call, in the form
 * mcconfig's xsc turns into the C function itself.
 */
class NativeEncoderBinding {
	length(packet: Packet, makeError: MakeError): number {
		return native("xs_mqtt_length").call(this, packet, makeError);
	}

	encode(packet: Packet, makeError: MakeError): Uint8Array {
		return native("xs_mqtt_encode").call(this, packet, makeError);
	}

	encodeInto(packet: Packet, out: Uint8Array, offset: number, makeError: MakeError): number {
		return native("xs_mqtt_encode_into").call(this, packet, out, offset, makeError);
	}
}

export class NativeMqttEncoder extends NativeEncoderBinding implements PacketEncoder {
	override length(packet: Packet): number {
		return super.length(packet, makeError);
	}

	override encode(packet: Packet): Uint8Array {
		return super.encode(packet, makeError);
	}

	override encodeInto(packet: Packet, out: Uint8Array, offset = 0): number {
		return super.encodeInto(packet, out, offset, makeError);
	}
}

/** The C decoder alone, like NativeEncoderBinding. */
class NativeDecoderBinding extends Native("xs_mqtt_decoder_destructor") {
	constructor(maxPacketSize: number | undefined) {
		super();
		native("xs_mqtt_decoder_constructor").call(this, maxPacketSize);
	}

	parse(chunk: Uint8Array, onPacket: (packet: Packet) => void, makeError: MakeError): void {
		native("xs_mqtt_decoder_parse").call(this, chunk, onPacket, makeError);
	}

	reset(): void {
		native("xs_mqtt_decoder_reset").call(this);
	}

	get buffered(): number {
		return native("xs_mqtt_decoder_get_buffered").call(this);
	}
}

export class NativeMqttDecoder extends NativeDecoderBinding implements PacketDecoder {
	readonly #onPacket: (packet: Packet) => void;

	constructor(options: DecoderOptions) {
		if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
		if (typeof options.onPacket !== "function") throw new TypeError("onPacket must be a function");
		super(options.maxPacketSize);
		this.#onPacket = options.onPacket;
	}

	override parse(chunk: Uint8Array): void {
		super.parse(chunk, this.#onPacket, makeError);
	}
}

export const nativeCodec: Codec = Object.freeze({
	createEncoder: () => new NativeMqttEncoder(),
	createDecoder: (options: { maxPacketSize: number; onPacket: (packet: Packet) => void }) => new NativeMqttDecoder(options),
});
