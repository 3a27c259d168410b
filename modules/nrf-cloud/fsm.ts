/*
 * The connection state machine of the v1.5/v1.6 library (nrf_cloud_fsm.c): the
 * transport's events drive it through the states of enum nfsm_state; a table
 * says which handler runs for each state and event, every other combination is
 * dropped. It talks to MQTT and to the application only through a port, so it
 * runs in unit tests without a network.
 */

import { EventType, MessageId, State, type StateValue } from "./constants.js";
import { TransportEvent, type TransportEventData, type TransportEventValue } from "./transport-events.js";
import {
	configEcho, decodePairing, decodeShadow, initiateReport, legacyPairedReport, notAssociatedReport,
	pairedReport, patternMismatchReport, patternWaitReport, PairingKind, type Endpoints, type Pairing,
} from "./codec.js";


export interface CloudEvent {
	type: number;
	status: number;
	data?: Uint8Array;
	topic?: string;
	/** USER_ASSOCIATION_REQUEST of the input-sequence association: presses asked for. */
	sequenceLength?: number;
}

/** What the state machine needs from the transport and the application. */
export interface FsmPort {
	/** Each returns false when the packet could not be queued. */
	subscribeShadow(): boolean;
	requestShadow(): boolean;
	report(payload: string, packetId: number): boolean;
	subscribeData(): boolean;
	unsubscribeData(): boolean;
	/** The endpoints are known: keep them, derive the FOTA topics, report a stored FOTA result. */
	setEndpoints(endpoints: Endpoints): void;
	/** The CONNACK resumed a persistent session, so subscriptions are still in place. */
	sessionValid(): boolean;
	keepalive(): number;
	emit(event: CloudEvent): void;
	log(message: string): void;
}

type Handler = (fsm: StateMachine, data: TransportEventData) => void;

const E = TransportEvent;
const S = State;

function connection(fsm: StateMachine, data: TransportEventData): void {
	const status = data.status ?? 0;
	if (status !== 0) {
		fsm.port.emit({ type: EventType.ERROR, status });
		return;
	}
	fsm.state = S.CONNECTED;
	fsm.port.emit({ type: EventType.TRANSPORT_CONNECTED, status: data.session === true ? 1 : 0 });
	if (fsm.state !== S.CONNECTED) return;
	if (fsm.port.sessionValid()) {
		fsm.state = S.CC_CONNECTING;
		ccConnection(fsm, { status: 0 });
		return;
	}
	if (fsm.port.subscribeShadow()) fsm.state = S.CC_CONNECTING;
	else fsm.port.emit({ type: EventType.ERROR, status: 0 });
}

function ccConnection(fsm: StateMachine, data: TransportEventData): void {
	const status = data.status ?? 0;
	if (status !== 0) {
		fsm.state = S.ERROR;
		fsm.port.emit({ type: EventType.ERROR, status });
		return;
	}
	fsm.state = S.CC_CONNECTED;
	if (fsm.port.requestShadow()) fsm.state = S.CLOUD_STATE_REQUESTED;
	else {
		fsm.state = S.CONNECTED;
		fsm.port.emit({ type: EventType.ERROR, status: 0 });
	}
}

function ackInRequested(fsm: StateMachine, data: TransportEventData): void {
	if (data.id === MessageId.CLOUD_STATE_REQUEST) fsm.state = S.CLOUD_STATE_REQUESTED;
}

function ccTxAck(fsm: StateMachine, data: TransportEventData): void {
	// v1.6 moves back to CLOUD_STATE_REQUESTED on the GET's PUBACK here. When the
	// shadow overtakes that PUBACK, the paired report's PUBACK then finds the wrong
	// state and the connection never gets READY, so a late GET ack changes nothing.
	if (data.id !== MessageId.PAIRING_STATUS_REPORT) return;
	if (fsm.port.sessionValid()) {
		dcConnection(fsm, { status: 0 });
		return;
	}
	if (fsm.port.subscribeData()) fsm.state = S.DC_CONNECTING;
}

function dcConnection(fsm: StateMachine, data: TransportEventData): void {
	if ((data.status ?? 0) !== 0) return;
	fsm.state = S.DC_CONNECTED;
	fsm.port.emit({ type: EventType.READY, status: 0 });
}

function rxData(fsm: StateMachine, data: TransportEventData): void {
	fsm.port.emit({ type: EventType.RX_DATA, status: 0, data: data.payload, topic: data.topic });
}

function pinWait(fsm: StateMachine): void {
	fsm.port.report(notAssociatedReport(), MessageId.DEFAULT_REPORT);
	fsm.state = S.UA_PIN_WAIT;
	fsm.port.emit({ type: EventType.USER_ASSOCIATION_REQUEST, status: 0 });
}

function pinComplete(fsm: StateMachine, endpoints: Endpoints, legacy: boolean): void {
	fsm.port.setEndpoints(endpoints);
	fsm.port.report(legacy ? legacyPairedReport(endpoints) : pairedReport(endpoints, fsm.port.keepalive()), MessageId.PAIRING_STATUS_REPORT);
	fsm.state = S.UA_PIN_COMPLETE;
	fsm.port.emit({ type: EventType.USER_ASSOCIATED, status: 0 });
}

/** The states of the input-sequence association, opt-in. */
function legacyPairing(fsm: StateMachine, pairing: Pairing): void {
	switch (pairing.kind) {
		case PairingKind.INITIATE:
			fsm.port.report(initiateReport(), MessageId.DEFAULT_REPORT);
			return;
		case PairingKind.PATTERN_WAIT:
		case PairingKind.PATTERN_MISMATCH: {
			const length = pairing.sequenceLength!;
			fsm.port.report(pairing.kind === PairingKind.PATTERN_WAIT ? patternWaitReport(length) : patternMismatchReport(), MessageId.DEFAULT_REPORT);
			fsm.state = S.UA_PIN_WAIT;
			fsm.sequencePending = true;
			fsm.sequenceRequested = true;
			fsm.port.emit({ type: EventType.USER_ASSOCIATION_REQUEST, status: 0, sequenceLength: length });
			return;
		}
		case PairingKind.TIMEOUT:
			fsm.sequencePending = false;
			fsm.state = S.ERROR;
			fsm.port.emit({ type: EventType.ERROR, status: 0 });
			return;
		case PairingKind.PAIRED_LEGACY:
			fsm.sequencePending = false;
			fsm.sequenceRequested = false;
			fsm.associatedBySequence = true;
			pinComplete(fsm, pairing.endpoints!, true);
			return;
		default:
	}
}

function ccRx(fsm: StateMachine, data: TransportEventData): void {
	const payload = data.payload!;
	const message = decodeShadow(payload);
	if (message?.config !== undefined) {
		if (message.delta) fsm.port.report(configEcho(message.config), MessageId.DEFAULT_REPORT);
		fsm.port.emit({ type: EventType.RX_DATA, status: 0, data: payload, topic: data.topic });
	}
	const pairing = decodePairing(message?.desired, fsm.legacyAssociation);
	const kind = pairing.kind;
	if (kind === PairingKind.NONE || kind === PairingKind.INVALID || kind === PairingKind.UNSUPPORTED) {
		if (kind === PairingKind.UNSUPPORTED) fsm.port.log(`pairing state "${pairing.state}" is not supported; delete the device from nRF Cloud and update it with JITP certificates`);
		else if (kind === PairingKind.INVALID) fsm.port.log("the shadow names a topic prefix but no usable d2c and c2d topics");
		else if (message?.config === undefined) fsm.port.log("unhandled data received from nRF Cloud");
		return;
	}
	const state = fsm.state;
	if (state === S.DC_CONNECTING || state === S.DC_CONNECTED) {
		if (kind !== PairingKind.NOT_ASSOCIATED) return;
		fsm.port.unsubscribeData();
		pinWait(fsm);
		return;
	}
	if (kind === PairingKind.PAIRED) {
		// An association by input sequence ends with the library reconnecting, whichever paired form the cloud sends.
		if (fsm.sequenceRequested) fsm.associatedBySequence = true;
		fsm.sequencePending = false;
		fsm.sequenceRequested = false;
		pinComplete(fsm, pairing.endpoints!, false);
	}
	else if (kind === PairingKind.NOT_ASSOCIATED) pinWait(fsm);
	else legacyPairing(fsm, pairing);
}

function disconnection(fsm: StateMachine, data: TransportEventData): void {
	fsm.state = S.INITIALIZED;
	fsm.sequencePending = false;
	fsm.sequenceRequested = false;
	fsm.port.emit({ type: EventType.TRANSPORT_DISCONNECTED, status: data.status ?? 0 });
}

function noop(): void {
	// Subscription ends need no action of their own.
}

type Row = Partial<Record<TransportEventValue, Handler>>;

const shadowRows = (ack: Handler | undefined): Row => {
	const row: Row = {
		[E.CC_RX_DATA]: ccRx,
		[E.CC_DISCONNECTED]: noop,
		[E.DC_DISCONNECTED]: noop,
		[E.DISCONNECTED]: disconnection,
	};
	if (ack) row[E.CC_TX_DATA_ACK] = ack;
	return row;
};

/** nrf_cloud_fsm.c's table: state → transport event → handler. */
export const TRANSITIONS: Readonly<Record<number, Row>> = Object.freeze({
	[S.IDLE]: {},
	[S.INITIALIZED]: { [E.CONNECTED]: connection, [E.DISCONNECTED]: disconnection },
	[S.CONNECTED]: { [E.DISCONNECTED]: disconnection },
	[S.CC_CONNECTING]: { [E.CC_CONNECTED]: ccConnection, [E.DISCONNECTED]: disconnection },
	[S.CC_CONNECTED]: shadowRows(undefined),
	[S.CLOUD_STATE_REQUESTED]: shadowRows(ackInRequested),
	[S.UA_PIN_WAIT]: shadowRows(ackInRequested),
	[S.UA_PIN_COMPLETE]: shadowRows(ccTxAck),
	[S.DC_CONNECTING]: { ...shadowRows(ccTxAck), [E.DC_CONNECTED]: dcConnection },
	[S.DC_CONNECTED]: { ...shadowRows(ccTxAck), [E.DC_RX_DATA]: rxData },
	[S.READY]: {},
	[S.DISCONNECTING]: {},
	// v1.6 drops everything in ERROR, so a connection that ends there would leave the
	// library stuck; ending it returns to INITIALIZED like every other state.
	[S.ERROR]: { [E.DISCONNECTED]: disconnection },
});

/** The names of the handlers, for tests that compare the table with docs/protocol.md §3.5. */
export const HANDLER_NAMES: ReadonlyMap<Handler, string> = new Map<Handler, string>([
	[connection, "connection"], [ccConnection, "cc_connection"], [ackInRequested, "ack_in_requested"],
	[ccTxAck, "cc_tx_ack"], [dcConnection, "dc_connection"], [rxData, "rx_data"], [ccRx, "cc_rx"],
	[disconnection, "disconnection"], [noop, "noop"],
]);

export class StateMachine {
	state: StateValue = S.IDLE;
	readonly port: FsmPort;
	/** Accept the pairing states of the input-sequence association. */
	readonly legacyAssociation: boolean;
	/** The cloud asked for an input sequence that nrf_cloud_user_associate has not sent yet. */
	sequencePending = false;
	/** The cloud asked for an input sequence in this session. */
	sequenceRequested = false;
	/** This session completed an input-sequence association (the library then reconnects itself). */
	associatedBySequence = false;

	constructor(port: FsmPort, legacyAssociation = false) {
		this.port = port;
		this.legacyAssociation = legacyAssociation;
	}

	/** Runs the handler for `event` in the current state; false when the table drops it. */
	handle(event: TransportEventValue, data: TransportEventData = {}): boolean {
		const handler = TRANSITIONS[this.state]?.[event];
		if (handler === undefined) return false;
		handler(this, data);
		return true;
	}
}
