/*
 * The TypeScript reference codec as a Codec: what MqttClient uses unless a
 * native codec is given.
 */

import type { Codec } from "./codec.js";
import { MqttDecoder } from "./decoder.js";
import { MqttEncoder } from "./encoder.js";
import type { Packet } from "./packet.js";

export const typescriptCodec: Codec = Object.freeze({
	createEncoder: () => new MqttEncoder(),
	createDecoder: (options: { maxPacketSize: number; onPacket: (packet: Packet) => void }) => new MqttDecoder(options),
});
