/*
 * Translation between this project's packet objects and mqtt-packet's, so the
 * two codecs can be run against each other.
 */

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Packet, QoS } from "../../modules/mqtt/packet.js";

const require = createRequire(import.meta.url);

export interface MqttPacketModule {
	generate(packet: Record<string, unknown>, options?: Record<string, unknown>): Buffer;
	parser(options?: Record<string, unknown>): {
		on(event: "packet", listener: (packet: Record<string, unknown>) => void): void;
		on(event: "error", listener: (error: Error) => void): void;
		parse(buffer: Buffer): number;
	};
}

export const mqttPacket: MqttPacketModule = require("mqtt-packet");

const COMMANDS = ["reserved", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp",
	"subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect"];

function buffer(bytes: Uint8Array): Buffer {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytes(value: unknown): Uint8Array {
	if (value === undefined || value === null) return new Uint8Array(0);
	if (typeof value === "string") return new Uint8Array(Buffer.from(value, "utf8"));
	const view = value as Uint8Array;
	return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Our packet as an mqtt-packet object for generate(). */
export function toMqttPacket(packet: Packet): Record<string, unknown> {
	const cmd = COMMANDS[packet.type]!;
	switch (packet.type) {
		case 1: {
			const out: Record<string, unknown> = {
				cmd,
				protocolId: packet.protocolName,
				protocolVersion: packet.protocolLevel,
				clean: packet.clean,
				clientId: packet.clientId,
				keepalive: packet.keepalive,
			};
			if (packet.will) out.will = { topic: packet.will.topic, payload: buffer(packet.will.payload), qos: packet.will.qos, retain: packet.will.retain };
			if (packet.username !== undefined) out.username = packet.username;
			if (packet.password !== undefined) out.password = buffer(packet.password);
			return out;
		}
		case 2: return { cmd, returnCode: packet.returnCode, sessionPresent: packet.sessionPresent };
		case 3: {
			const out: Record<string, unknown> = { cmd, topic: packet.topic, payload: buffer(packet.payload), qos: packet.qos, retain: packet.retain, dup: packet.dup };
			if (packet.qos > 0) out.messageId = packet.packetId;
			return out;
		}
		case 8: return { cmd, messageId: packet.packetId, subscriptions: packet.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) };
		case 9: return { cmd, messageId: packet.packetId, granted: packet.returnCodes.slice() };
		case 10: return { cmd, messageId: packet.packetId, unsubscriptions: packet.topics.slice() };
		case 12: case 13: case 14: return { cmd };
		default: return { cmd, messageId: packet.packetId };
	}
}

/** An mqtt-packet parse result as our packet object. */
export function fromMqttPacket(object: Record<string, unknown>): Packet {
	const type = COMMANDS.indexOf(object.cmd as string);
	switch (type) {
		case 1: {
			const packet: Packet = {
				type: 1,
				protocolName: object.protocolId as string,
				protocolLevel: object.protocolVersion as number,
				clientId: object.clientId as string,
				keepalive: object.keepalive as number,
				clean: object.clean as boolean,
			};
			const will = object.will as Record<string, unknown> | undefined;
			if (will) packet.will = { topic: will.topic as string, payload: bytes(will.payload), qos: will.qos as QoS, retain: Boolean(will.retain) };
			if (object.username !== undefined && object.username !== null) packet.username = String(object.username);
			if (object.password !== undefined && object.password !== null) packet.password = bytes(object.password);
			return packet;
		}
		case 2: return { type: 2, sessionPresent: Boolean(object.sessionPresent), returnCode: object.returnCode as number };
		case 3: return {
			type: 3,
			topic: object.topic as string,
			payload: bytes(object.payload),
			qos: object.qos as QoS,
			retain: Boolean(object.retain),
			dup: Boolean(object.dup),
			packetId: (object.qos as number) > 0 ? object.messageId as number : 0,
		};
		case 8: return {
			type: 8,
			packetId: object.messageId as number,
			subscriptions: (object.subscriptions as Array<Record<string, unknown>>).map((s) => ({ topic: s.topic as string, qos: s.qos as QoS })),
		};
		case 9: return { type: 9, packetId: object.messageId as number, returnCodes: (object.granted as number[]).slice() };
		case 10: return { type: 10, packetId: object.messageId as number, topics: (object.unsubscriptions as string[]).slice() };
		case 12: case 13: case 14: return { type };
		case 4: case 5: case 6: case 7: case 11: return { type, packetId: object.messageId as number };
		default: throw new Error(`unknown mqtt-packet command ${String(object.cmd)}`);
	}
}

/** Parses one buffer with mqtt-packet; returns the packets or throws its first error. */
export function parseWithMqttPacket(data: Uint8Array): Array<Record<string, unknown>> {
	const parser = mqttPacket.parser({ protocolVersion: 4 });
	const packets: Array<Record<string, unknown>> = [];
	let failure: Error | undefined;
	parser.on("packet", (p) => packets.push(p));
	parser.on("error", (e) => { failure ??= e; });
	parser.parse(buffer(data));
	if (failure) throw failure;
	return packets;
}

/** A packet in a form deepStrictEqual can compare (byte arrays as hex, optional fields removed). */
export function comparable(packet: Packet): unknown {
	return JSON.parse(JSON.stringify(packet, (_key, value: unknown) => {
		if (!(value instanceof Uint8Array)) return value;
		const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
		return view.length <= 65536 ? view.toString("hex") : `${view.length} bytes, sha256 ${createHash("sha256").update(view).digest("hex")}`;
	}));
}
