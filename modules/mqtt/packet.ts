/*
 * MQTT 3.1.1 control packets as plain objects. The codec (TypeScript or native)
 * reads and produces exactly these shapes, so every layer above it can be tested
 * against either implementation.
 */

export const PacketType = Object.freeze({
	CONNECT: 1,
	CONNACK: 2,
	PUBLISH: 3,
	PUBACK: 4,
	PUBREC: 5,
	PUBREL: 6,
	PUBCOMP: 7,
	SUBSCRIBE: 8,
	SUBACK: 9,
	UNSUBSCRIBE: 10,
	UNSUBACK: 11,
	PINGREQ: 12,
	PINGRESP: 13,
	DISCONNECT: 14,
} as const);

export type QoS = 0 | 1 | 2;

/** CONNACK return codes of MQTT 3.1.1, section 3.2.2.3. */
export const ConnectReturnCode = Object.freeze({
	ACCEPTED: 0,
	UNACCEPTABLE_PROTOCOL_VERSION: 1,
	IDENTIFIER_REJECTED: 2,
	SERVER_UNAVAILABLE: 3,
	BAD_USERNAME_OR_PASSWORD: 4,
	NOT_AUTHORIZED: 5,
} as const);

/** SUBACK return code for a refused filter. */
export const SUBACK_FAILURE = 0x80;

/** Largest value the four-byte remaining length field can hold. */
export const MAX_REMAINING_LENGTH = 268435455;

export interface Will {
	topic: string;
	payload: Uint8Array;
	qos: QoS;
	retain: boolean;
}

export interface ConnectPacket {
	type: 1;
	/** "MQTT" for 3.1.1 (level 4); "MQIsdp" for 3.1 (level 3) is decoded as well. */
	protocolName: string;
	protocolLevel: number;
	clientId: string;
	/** Seconds, 0 to 65535; 0 disables keepalive. */
	keepalive: number;
	clean: boolean;
	will?: Will | undefined;
	username?: string | undefined;
	password?: Uint8Array | undefined;
}

export interface ConnackPacket {
	type: 2;
	sessionPresent: boolean;
	returnCode: number;
}

export interface PublishPacket {
	type: 3;
	topic: string;
	payload: Uint8Array;
	qos: QoS;
	retain: boolean;
	dup: boolean;
	/** 0 when qos is 0. */
	packetId: number;
}

export interface AckPacket {
	type: 4 | 5 | 6 | 7 | 11;
	packetId: number;
}

export interface Subscription {
	topic: string;
	qos: QoS;
}

export interface SubscribePacket {
	type: 8;
	packetId: number;
	subscriptions: Subscription[];
}

export interface SubackPacket {
	type: 9;
	packetId: number;
	/** One per requested filter: the granted QoS, or 0x80 for a refused filter. */
	returnCodes: number[];
}

export interface UnsubscribePacket {
	type: 10;
	packetId: number;
	topics: string[];
}

export interface EmptyPacket {
	type: 12 | 13 | 14;
}

export type Packet =
	| ConnectPacket
	| ConnackPacket
	| PublishPacket
	| AckPacket
	| SubscribePacket
	| SubackPacket
	| UnsubscribePacket
	| EmptyPacket;

/** Names for log lines and error messages; index is the packet type. */
export const PACKET_NAMES: readonly string[] = Object.freeze([
	"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED",
]);
