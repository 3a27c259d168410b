/*
 * Why a connection could not be made, or a send failed, in the C library's
 * terms: the nrf_cloud_connect_result of a connect failure and the -errno of a
 * send path.
 */

import { MqttError, MqttErrorCode } from "../mqtt/errors.js";
import { SocketError } from "../platform/socket.js";
import { ConnectResult, Errno } from "./constants.js";

/**
 * The connect result for the errno (positive, Zephyr numbering) a connection
 * attempt failed with: the translation table of the C library's connect path.
 */
export function classifyConnectFailure(errno: number): number {
	switch (errno) {
		case Errno.ECHILD:
		case Errno.EHOSTUNREACH:
		case Errno.ENETUNREACH:
		case Errno.ENETDOWN: return ConnectResult.ERR_NETWORK;
		case Errno.EACCES: return ConnectResult.ERR_NOT_INITD;
		case Errno.ENOEXEC: return ConnectResult.ERR_BACKEND;
		case Errno.EINVAL: return ConnectResult.ERR_PRV_KEY;
		case Errno.EOPNOTSUPP: return ConnectResult.ERR_CERT;
		case Errno.ECONNREFUSED: return ConnectResult.ERR_CERT_MISC;
		case Errno.ETIMEDOUT: return ConnectResult.ERR_TIMEOUT_NO_DATA;
		case Errno.ENOMEM: return ConnectResult.ERR_NO_MEM;
		case Errno.EINPROGRESS: return ConnectResult.ERR_ALREADY_CONNECTED;
		default: return ConnectResult.ERR_MISC;
	}
}

/**
 * The errno of what opening a connection threw: a SocketError's own, EIO for
 * anything else (a bug or an engine error says nothing about the network).
 */
export function connectFailureErrno(error: unknown): number {
	return error instanceof SocketError ? error.errno : Errno.EIO;
}

/**
 * The errno of a connection that ended before it was up: the socket's, or
 * ECONNREFUSED when the peer closed it without one (it hung up during the
 * TLS handshake, which the modem reports as a refused connection).
 */
export function closedBeforeUpErrno(error: SocketError | undefined): number {
	return error === undefined ? Errno.ECONNREFUSED : error.errno;
}

/** -errno for an MQTT client exception on a send path. */
export function sendErrno(error: unknown): number {
	if (!(error instanceof MqttError)) return -Errno.EIO;
	switch (error.code) {
		case MqttErrorCode.NOT_CONNECTED: return -Errno.ENOTCONN;
		// Room comes back: a PUBACK frees an id, the socket drains the outgoing queue (a would-block send).
		case MqttErrorCode.INFLIGHT_FULL:
		case MqttErrorCode.PACKET_ID_IN_USE:
		case MqttErrorCode.QUEUE_FULL: return -Errno.EAGAIN;
		// Larger than the whole outgoing queue: it never fits, as a message over Zephyr's MQTT TX buffer.
		case MqttErrorCode.PACKET_TOO_LARGE: return -Errno.ENOMEM;
		case MqttErrorCode.INVALID_TOPIC:
		case MqttErrorCode.INVALID_UTF8: return -Errno.EINVAL;
		default: return -Errno.EIO;
	}
}
