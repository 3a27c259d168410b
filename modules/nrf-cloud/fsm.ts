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

/** The machine's mutable part: only this module's handlers see it. */
interface Machine {
	readonly port: FsmPort;
	readonly legacyAssociation: boolean;
	state: StateValue;
	/** The cloud asked for an input sequence that nrf_cloud_user_associate has not sent yet. */
	sequencePending: boolean;
	/** The cloud asked for an input sequence in this session. */
	sequenceRequested: boolean;
	/** This session completed an input-sequence association (the library then reconnects itself). */
	associatedBySequence: boolean;
	/** Counts the connections that ended (DISCONNECTED). */
	ended: number;
	/** `ended` when the running handler began (undefined outside handlers): its connection is gone once they differ. */
	handlerEnded: number | undefined;
}

type Handler = (m: Machine, data: TransportEventData) => void;

const E = TransportEvent;
const S = State;

/**
 * nfsm_set_current_state_and_notify: the one place the state changes. The
 * application hears of it after the change, so a handler that calls back into
 * the library sees the new state.
 */
function enter(m: Machine, state: StateValue, event?: CloudEvent): void {
	// A send can end the connection at once (a socket write that fails reports the end from
	// inside the write): DISCONNECTED then already ran, and the handler that sent must not
	// move the machine on, or it would sit in a connected state without a connection.
	if (gone(m)) return;
	m.state = state;
	if (event !== undefined) m.port.emit(event);
}

/** The connection the running handler works for has ended while it ran. */
function gone(m: Machine): boolean {
	return m.handlerEnded !== undefined && m.ended !== m.handlerEnded;
}

/** An action the next state depends on could not be queued: stay, log and report ERROR. */
function actionFailed(m: Machine, action: string): void {
	// The send failed because the connection ended inside it: TRANSPORT_DISCONNECTED said so.
	if (gone(m)) return;
	m.port.log(`${action} could not be sent; staying in state ${m.state}`);
	enter(m, m.state, { type: EventType.ERROR, status: 0 });
}

function connection(m: Machine, data: TransportEventData): void {
	const status = data.status ?? 0;
	if (status !== 0) {
		enter(m, m.state, { type: EventType.ERROR, status });
		return;
	}
	enter(m, S.CONNECTED, { type: EventType.TRANSPORT_CONNECTED, status: data.session === true ? 1 : 0 });
	// The application may have disconnected from its handler.
	if (m.state !== S.CONNECTED) return;
	if (m.port.sessionValid()) {
		enter(m, S.CC_CONNECTING);
		ccConnection(m, { status: 0 });
		return;
	}
	if (!m.port.subscribeShadow()) {
		actionFailed(m, "the shadow SUBSCRIBE");
		return;
	}
	enter(m, S.CC_CONNECTING);
}

function ccConnection(m: Machine, data: TransportEventData): void {
	const status = data.status ?? 0;
	if (status !== 0) {
		enter(m, S.ERROR, { type: EventType.ERROR, status });
		return;
	}
	enter(m, S.CC_CONNECTED);
	if (!m.port.requestShadow()) {
		enter(m, S.CONNECTED);
		actionFailed(m, "the shadow GET");
		return;
	}
	enter(m, S.CLOUD_STATE_REQUESTED);
}

function ackInRequested(m: Machine, data: TransportEventData): void {
	if (data.id === MessageId.CLOUD_STATE_REQUEST) enter(m, S.CLOUD_STATE_REQUESTED);
}

function ccTxAck(m: Machine, data: TransportEventData): void {
	// v1.6 moves back to CLOUD_STATE_REQUESTED on the GET's PUBACK here. When the
	// shadow overtakes that PUBACK, the paired report's PUBACK then finds the wrong
	// state and the connection never gets READY, so a late GET ack changes nothing.
	if (data.id !== MessageId.PAIRING_STATUS_REPORT) return;
	if (m.port.sessionValid()) {
		dcConnection(m, { status: 0 });
		return;
	}
	if (!m.port.subscribeData()) {
		actionFailed(m, "the c2d SUBSCRIBE");
		return;
	}
	enter(m, S.DC_CONNECTING);
}

function dcConnection(m: Machine, data: TransportEventData): void {
	if ((data.status ?? 0) !== 0) return;
	enter(m, S.DC_CONNECTED, { type: EventType.READY, status: 0 });
}

function rxData(m: Machine, data: TransportEventData): void {
	m.port.emit({ type: EventType.RX_DATA, status: 0, data: data.payload, topic: data.topic });
}

function pinWait(m: Machine): void {
	// Nothing waits for this report: the user's association answers it.
	m.port.report(notAssociatedReport(), MessageId.DEFAULT_REPORT);
	enter(m, S.UA_PIN_WAIT, { type: EventType.USER_ASSOCIATION_REQUEST, status: 0 });
}

function pinComplete(m: Machine, endpoints: Endpoints, legacy: boolean): void {
	m.port.setEndpoints(endpoints);
	// The paired report's PUBACK is what moves the machine on: without it the connection would stall.
	if (!m.port.report(legacy ? legacyPairedReport(endpoints) : pairedReport(endpoints, m.port.keepalive()), MessageId.PAIRING_STATUS_REPORT)) {
		actionFailed(m, "the paired report");
		return;
	}
	enter(m, S.UA_PIN_COMPLETE, { type: EventType.USER_ASSOCIATED, status: 0 });
}

/** The states of the input-sequence association, opt-in. */
function legacyPairing(m: Machine, pairing: Pairing): void {
	switch (pairing.kind) {
		case PairingKind.INITIATE:
			m.port.report(initiateReport(), MessageId.DEFAULT_REPORT);
			return;
		case PairingKind.PATTERN_WAIT:
		case PairingKind.PATTERN_MISMATCH: {
			const length = pairing.sequenceLength!;
			m.port.report(pairing.kind === PairingKind.PATTERN_WAIT ? patternWaitReport(length) : patternMismatchReport(), MessageId.DEFAULT_REPORT);
			m.sequencePending = true;
			m.sequenceRequested = true;
			enter(m, S.UA_PIN_WAIT, { type: EventType.USER_ASSOCIATION_REQUEST, status: 0, sequenceLength: length });
			return;
		}
		case PairingKind.TIMEOUT:
			m.sequencePending = false;
			enter(m, S.ERROR, { type: EventType.ERROR, status: 0 });
			return;
		case PairingKind.PAIRED_LEGACY:
			m.sequencePending = false;
			m.sequenceRequested = false;
			m.associatedBySequence = true;
			pinComplete(m, pairing.endpoints!, true);
			return;
		default:
	}
}

function ccRx(m: Machine, data: TransportEventData): void {
	const payload = data.payload!;
	const message = decodeShadow(payload);
	if (message?.config !== undefined) {
		if (message.delta) m.port.report(configEcho(message.config), MessageId.DEFAULT_REPORT);
		m.port.emit({ type: EventType.RX_DATA, status: 0, data: payload, topic: data.topic });
		// The echo or the application's handler may have ended the connection: its pairing state no longer applies.
		if (gone(m)) return;
	}
	const pairing = decodePairing(message?.desired, m.legacyAssociation);
	const kind = pairing.kind;
	if (kind === PairingKind.NONE || kind === PairingKind.INVALID || kind === PairingKind.UNSUPPORTED) {
		if (kind === PairingKind.UNSUPPORTED) m.port.log(`pairing state "${pairing.state}" is not supported; delete the device from nRF Cloud and update it with JITP certificates`);
		else if (kind === PairingKind.INVALID) m.port.log("the shadow names a topic prefix but no usable d2c and c2d topics");
		else if (message?.config === undefined) m.port.log("unhandled data received from nRF Cloud");
		return;
	}
	const state = m.state;
	if (state === S.DC_CONNECTING || state === S.DC_CONNECTED) {
		if (kind !== PairingKind.NOT_ASSOCIATED) return;
		m.port.unsubscribeData();
		pinWait(m);
		return;
	}
	if (kind === PairingKind.PAIRED) {
		// An association by input sequence ends with the library reconnecting, whichever paired form the cloud sends.
		if (m.sequenceRequested) m.associatedBySequence = true;
		m.sequencePending = false;
		m.sequenceRequested = false;
		pinComplete(m, pairing.endpoints!, false);
	}
	else if (kind === PairingKind.NOT_ASSOCIATED) pinWait(m);
	else legacyPairing(m, pairing);
}

function disconnection(m: Machine, data: TransportEventData): void {
	m.sequencePending = false;
	m.sequenceRequested = false;
	m.ended++;
	m.handlerEnded = m.ended;
	enter(m, S.INITIALIZED, { type: EventType.TRANSPORT_DISCONNECTED, status: data.status ?? 0 });
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

/** Rows are frozen too: the module is preloaded, and XS keeps only frozen objects in flash. */
const frozen = (row: Row): Readonly<Row> => Object.freeze(row);

/** nrf_cloud_fsm.c's table: state → transport event → handler. */
export const TRANSITIONS: Readonly<Record<number, Readonly<Row>>> = Object.freeze({
	[S.IDLE]: frozen({}),
	[S.INITIALIZED]: frozen({ [E.CONNECTED]: connection, [E.DISCONNECTED]: disconnection }),
	[S.CONNECTED]: frozen({ [E.DISCONNECTED]: disconnection }),
	[S.CC_CONNECTING]: frozen({ [E.CC_CONNECTED]: ccConnection, [E.DISCONNECTED]: disconnection }),
	[S.CC_CONNECTED]: frozen(shadowRows(undefined)),
	[S.CLOUD_STATE_REQUESTED]: frozen(shadowRows(ackInRequested)),
	[S.UA_PIN_WAIT]: frozen(shadowRows(ackInRequested)),
	[S.UA_PIN_COMPLETE]: frozen(shadowRows(ccTxAck)),
	[S.DC_CONNECTING]: frozen({ ...shadowRows(ccTxAck), [E.DC_CONNECTED]: dcConnection }),
	[S.DC_CONNECTED]: frozen({ ...shadowRows(ccTxAck), [E.DC_RX_DATA]: rxData }),
	[S.READY]: frozen({}),
	[S.DISCONNECTING]: frozen({}),
	// v1.6 drops everything in ERROR, so a connection that ends there would leave the
	// library stuck; ending it returns to INITIALIZED like every other state.
	[S.ERROR]: frozen({ [E.DISCONNECTED]: disconnection }),
});

/** The names of the handlers, for tests that compare the table with docs/protocol.md §3.5. */
export const HANDLER_NAMES: ReadonlyMap<Handler, string> = new Map<Handler, string>([
	[connection, "connection"], [ccConnection, "cc_connection"], [ackInRequested, "ack_in_requested"],
	[ccTxAck, "cc_tx_ack"], [dcConnection, "dc_connection"], [rxData, "rx_data"], [ccRx, "cc_rx"],
	[disconnection, "disconnection"], [noop, "noop"],
]);

export interface StateMachineOptions {
	/** Accept the pairing states of the input-sequence association. */
	legacyAssociation?: boolean;
	/** The state to start in (IDLE by default); tests start the machine mid-connection. */
	state?: StateValue;
}

export class StateMachine {
	readonly #m: Machine;

	constructor(port: FsmPort, options: StateMachineOptions = {}) {
		this.#m = {
			port,
			legacyAssociation: options.legacyAssociation === true,
			state: options.state ?? S.IDLE,
			sequencePending: false,
			sequenceRequested: false,
			associatedBySequence: false,
			ended: 0,
			handlerEnded: undefined,
		};
	}

	get state(): StateValue {
		return this.#m.state;
	}

	get legacyAssociation(): boolean {
		return this.#m.legacyAssociation;
	}

	/** The cloud asked for an input sequence that userAssociate has not answered yet. */
	get sequencePending(): boolean {
		return this.#m.sequencePending;
	}

	/** nrf_cloud_init succeeded: IDLE to INITIALIZED. */
	initialize(): void {
		if (this.#m.state === S.IDLE) enter(this.#m, S.INITIALIZED);
	}

	/** userAssociate sent the input sequence the cloud asked for. */
	sequenceSent(): void {
		this.#m.sequencePending = false;
	}

	/** True once after READY of a session that associated by input sequence: the library then reconnects. */
	takeReconnectRequest(): boolean {
		if (!this.#m.associatedBySequence) return false;
		this.#m.associatedBySequence = false;
		return true;
	}

	/** Runs the handler for `event` in the current state; false when the table drops it. */
	handle(event: TransportEventValue, data: TransportEventData = {}): boolean {
		const handler = TRANSITIONS[this.#m.state]?.[event];
		if (handler === undefined) return false;
		const m = this.#m;
		// Handlers nest (a send inside one can end the connection, and DISCONNECTED runs inside it).
		const outer = m.handlerEnded;
		m.handlerEnded = m.ended;
		try {
			handler(m, data);
		}
		finally {
			m.handlerEnded = outer;
		}
		return true;
	}
}
