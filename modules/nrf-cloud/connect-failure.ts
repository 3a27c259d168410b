/*
 * Why a connection could not be made, or a send failed, in the C library's
 * terms: the nrf_cloud_connect_result of a connect failure and the -errno of a
 * send path.
 */

import { MqttError, MqttErrorCode } from "../mqtt/errors.js";
import { ConnectResult, Errno } from "./constants.js";

/** Maps the text of a socket failure to the connect result the C library derives from its errno. */
export function classifyConnectFailure(reason: string): number {
	if (/cannot resolve|getaddrinfo|ENOTFOUND|EAI_/i.test(reason)) return ConnectResult.ERR_NETWORK;
	if (/private key/i.test(reason)) return ConnectResult.ERR_PRV_KEY;
	if (/certificate|security tag/i.test(reason)) return ConnectResult.ERR_CERT;
	if (/refused|handshake|TLS|alert/i.test(reason)) return ConnectResult.ERR_CERT_MISC;
	if (/timed? ?out/i.test(reason)) return ConnectResult.ERR_TIMEOUT_NO_DATA;
	if (/memory/i.test(reason)) return ConnectResult.ERR_NO_MEM;
	if (/unreachable|network/i.test(reason)) return ConnectResult.ERR_NETWORK;
	return ConnectResult.ERR_MISC;
}

/** -errno for an MQTT client exception on a send path. */
export function sendErrno(error: unknown): number {
	if (!(error instanceof MqttError)) return -Errno.EIO;
	switch (error.code) {
		case MqttErrorCode.NOT_CONNECTED: return -Errno.ENOTCONN;
		case MqttErrorCode.INFLIGHT_FULL:
		case MqttErrorCode.PACKET_ID_IN_USE: return -Errno.EAGAIN;
		case MqttErrorCode.INVALID_TOPIC:
		case MqttErrorCode.INVALID_UTF8: return -Errno.EINVAL;
		default: return -Errno.EIO;
	}
}
