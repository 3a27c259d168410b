/*
 * The QoS 1 flood a peer sends to test the MQTT client's outgoing queue, for
 * Node tests and XS suites alike: ids 1 to count, most of them the smallest
 * PUBLISH that owes a PUBACK (a one-byte topic, no payload), every seventh
 * with a longer topic and a payload.
 */

import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import { PacketType, type Packet, type PublishPacket } from "../../modules/mqtt/packet.js";
import { utf8Encode } from "../../modules/platform/utf8.js";
import { concat } from "./decode.js";

/** The publish with id `id` (1 to 65535). */
export function floodPacket(id: number): PublishPacket {
	const large = id % 7 === 0;
	return {
		type: PacketType.PUBLISH, topic: large ? `dev/${id}/c2d` : "t", qos: 1, retain: false, dup: false, packetId: id,
		payload: large ? utf8Encode(`message ${id} `.repeat(1 + (id % 5))) : new Uint8Array(0),
	};
}

export function flood(count: number): PublishPacket[] {
	const packets: PublishPacket[] = [];
	for (let id = 1; id <= count; id++) packets.push(floodPacket(id));
	return packets;
}

/** The packets' frames, back to back. */
export function frames(packets: readonly Packet[]): Uint8Array {
	const encoder = new MqttEncoder();
	return concat(packets.map((p) => encoder.encode(p)));
}
