/*
 * What the nRF Cloud transport reports to the state machine (enum nct_evt_type
 * of nrf_cloud_transport.h). It sits below both: the transport produces these
 * events and the state machine consumes them, and neither imports the other.
 */

/** enum nct_evt_type: what the transport reports. */
export const TransportEvent = Object.freeze({
	CONNECTED: 0,
	CC_CONNECTED: 1,
	DC_CONNECTED: 2,
	CC_RX_DATA: 3,
	CC_TX_DATA_ACK: 4,
	DC_RX_DATA: 5,
	DC_TX_DATA_ACK: 6,
	CC_DISCONNECTED: 7,
	DC_DISCONNECTED: 8,
	DISCONNECTED: 9,
} as const);
export type TransportEventValue = typeof TransportEvent[keyof typeof TransportEvent];

export interface TransportEventData {
	/** CONNACK return code, SUBACK outcome, or the disconnect status. */
	status?: number;
	/** CONNECTED: a persistent session was resumed. */
	session?: boolean;
	/** CC_TX_DATA_ACK: the acknowledged packet id. */
	id?: number;
	topic?: string;
	payload?: Uint8Array;
}
