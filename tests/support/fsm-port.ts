/* A recording port for the state machine: what it would have sent and emitted. */

import type { Endpoints } from "../../modules/nrf-cloud/codec.js";
import type { CloudEvent, FsmPort } from "../../modules/nrf-cloud/fsm.js";

export type PortCall =
	| { kind: "subscribeShadow" }
	| { kind: "requestShadow" }
	| { kind: "report"; payload: string; id: number }
	| { kind: "subscribeData" }
	| { kind: "unsubscribeData" }
	| { kind: "setEndpoints"; endpoints: Endpoints };

export class RecordingPort implements FsmPort {
	readonly calls: PortCall[] = [];
	readonly events: CloudEvent[] = [];
	readonly logs: string[] = [];
	session = false;
	keepaliveSeconds = 1200;
	/** What the send calls return. */
	accept = true;

	subscribeShadow(): boolean { this.calls.push({ kind: "subscribeShadow" }); return this.accept; }
	requestShadow(): boolean { this.calls.push({ kind: "requestShadow" }); return this.accept; }
	report(payload: string, id: number): boolean { this.calls.push({ kind: "report", payload, id }); return this.accept; }
	subscribeData(): boolean { this.calls.push({ kind: "subscribeData" }); return this.accept; }
	unsubscribeData(): boolean { this.calls.push({ kind: "unsubscribeData" }); return this.accept; }
	setEndpoints(endpoints: Endpoints): void { this.calls.push({ kind: "setEndpoints", endpoints }); }
	sessionValid(): boolean { return this.session; }
	keepalive(): number { return this.keepaliveSeconds; }
	emit(event: CloudEvent): void { this.events.push(event); }
	log(message: string): void { this.logs.push(message); }

	reports(): Array<{ payload: string; id: number }> {
		return this.calls.filter((c): c is Extract<PortCall, { kind: "report" }> => c.kind === "report").map(({ payload, id }) => ({ payload, id }));
	}
}
