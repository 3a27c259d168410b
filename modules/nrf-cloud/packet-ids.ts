/*
 * The library's fixed packet ids (the MessageId values) and what becomes of
 * an application's tag: a tag that is a valid, unreserved id goes on the wire
 * as the packet id, as in the C library; one that collides with a reserved id
 * is sent under an allocated id instead, so its PUBACK can never be taken for
 * one of the library's own requests.
 */

import { isPacketId } from "../mqtt/packet-id.js";
import { MessageId } from "./constants.js";

const RESERVED = new Set<number>(Object.values(MessageId));

export function isReservedPacketId(id: number): boolean {
	return RESERVED.has(id);
}

/** The packet id to ask for a user tag; 0 lets the MQTT client allocate one. */
export function packetIdForTag(tag: number): number {
	return isPacketId(tag) && !RESERVED.has(tag) ? tag : 0;
}
