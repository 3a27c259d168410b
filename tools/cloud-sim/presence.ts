/*
 * Connection status, where the broker reports connections: the store's connected
 * flag and the shadow's reported "connection", as nRF Cloud keeps them.
 */

import type { Broker } from "./broker.js";
import type { Announce } from "./service-types.js";
import type { ShadowService } from "./shadow-service.js";
import type { Store } from "./store.js";

export function trackPresence(broker: Broker, store: Store, shadow: ShadowService, announce: Announce): void {
	broker.on("connect", (id, keepalive) => {
		store.setConnected(id, true);
		shadow.update(id, { state: { reported: { connection: { status: "connected", keepalive } } } });
		announce("device", id);
	});
	broker.on("disconnect", (id) => {
		// a deleted device's connection ends after its records are gone
		if (!store.device(id)) return;
		store.setConnected(id, false);
		shadow.update(id, { state: { reported: { connection: { status: "disconnected" } } } });
		announce("device", id);
	});
}
