/*
 * One error class for the whole MQTT stack; `code` tells the cases apart so that
 * callers (and tests) never match on message text.
 */

export const MqttErrorCode = Object.freeze({
	/** Packet type 0 or 15. */
	UNKNOWN_PACKET_TYPE: "UNKNOWN_PACKET_TYPE",
	/** Reserved fixed-header flag bits not as MQTT 3.1.1 table 2.2 requires. */
	INVALID_FLAGS: "INVALID_FLAGS",
	/** Remaining length longer than four bytes. */
	MALFORMED_REMAINING_LENGTH: "MALFORMED_REMAINING_LENGTH",
	/**
	 * An incoming frame larger than the configured maximum packet size, or an
	 * outgoing one larger than the whole outgoing queue (maxQueuedBytes).
	 */
	PACKET_TOO_LARGE: "PACKET_TOO_LARGE",
	/** Fields that do not fit the remaining length, or values out of range. */
	MALFORMED_PACKET: "MALFORMED_PACKET",
	INVALID_UTF8: "INVALID_UTF8",
	/** Empty topic, wildcard in a topic name, or a misplaced wildcard in a filter. */
	INVALID_TOPIC: "INVALID_TOPIC",
	INVALID_PACKET_ID: "INVALID_PACKET_ID",
	INVALID_QOS: "INVALID_QOS",
	UNSUPPORTED_PROTOCOL: "UNSUPPORTED_PROTOCOL",
	/** CONNACK with a non-zero return code; `returnCode` holds it. */
	CONNECTION_REFUSED: "CONNECTION_REFUSED",
	CONNECT_TIMEOUT: "CONNECT_TIMEOUT",
	/** No PINGRESP within the ping timeout. */
	KEEPALIVE_TIMEOUT: "KEEPALIVE_TIMEOUT",
	/** A well-formed packet the client must never receive in its state. */
	PROTOCOL_VIOLATION: "PROTOCOL_VIOLATION",
	/** The socket reported an error or the peer closed the connection. */
	TRANSPORT_ERROR: "TRANSPORT_ERROR",
	CONNECTION_CLOSED: "CONNECTION_CLOSED",
	NOT_CONNECTED: "NOT_CONNECTED",
	INFLIGHT_FULL: "INFLIGHT_FULL",
	/** The outgoing queue has no room for the frame now; it drains as the socket takes bytes. */
	QUEUE_FULL: "QUEUE_FULL",
	PACKET_ID_IN_USE: "PACKET_ID_IN_USE",
} as const);

export type MqttErrorCodeName = typeof MqttErrorCode[keyof typeof MqttErrorCode];

const REFUSAL_TEXT: readonly string[] = [
	"",
	"unacceptable protocol version",
	"identifier rejected",
	"server unavailable",
	"bad user name or password",
	"not authorized",
];

export class MqttError extends Error {
	static {
		// On the prototype: the Moddable build's preparation (xsl) freezes Error.prototype,
		// and assigning "name" to an instance then fails on the inherited read-only property.
		Object.defineProperty(this.prototype, "name", { value: "MqttError", writable: true, configurable: true });
	}

	readonly code: MqttErrorCodeName;
	/** CONNACK return code, set only for CONNECTION_REFUSED. */
	readonly returnCode: number | undefined;

	constructor(code: MqttErrorCodeName, message: string, returnCode?: number, options?: { cause?: unknown }) {
		super(message, options);
		this.code = code;
		this.returnCode = returnCode;
	}

	static refused(returnCode: number): MqttError {
		const text = REFUSAL_TEXT[returnCode] ?? "unknown return code";
		return new MqttError(MqttErrorCode.CONNECTION_REFUSED, `connection refused (${returnCode}): ${text}`, returnCode);
	}
}

export function malformed(message: string): MqttError {
	return new MqttError(MqttErrorCode.MALFORMED_PACKET, message);
}
