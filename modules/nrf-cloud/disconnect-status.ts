/*
 * Why a connection ended, as nrf_cloud_disconnect_status: the application
 * asked; the peer closed it after CONNACK; it closed before CONNACK (how AWS IoT
 * answers the first connection of a JITP certificate); or anything else
 * (keepalive, protocol errors).
 */

import { MqttErrorCode, type MqttError } from "../mqtt/errors.js";
import { DisconnectStatus } from "./constants.js";

export interface ConnectionEnd {
	/** disconnect() was called. */
	userRequested: boolean;
	/** A CONNACK accepted the connection. */
	connackSeen: boolean;
	/** What the MQTT client reported; undefined after its own DISCONNECT. */
	error: MqttError | undefined;
}

export function disconnectStatus(end: ConnectionEnd): number {
	if (end.userRequested) return DisconnectStatus.USER_REQUEST;
	const error = end.error;
	// A refusing CONNACK: the broker closes the connection.
	if (error?.returnCode !== undefined) return DisconnectStatus.CLOSED_BY_REMOTE;
	if (!end.connackSeen) return DisconnectStatus.INVALID_REQUEST;
	if (error === undefined || error.code === MqttErrorCode.CONNECTION_CLOSED) return DisconnectStatus.CLOSED_BY_REMOTE;
	return DisconnectStatus.MISC;
}
