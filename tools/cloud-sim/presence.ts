/*
 * Connection status, where the broker reports connections: the store's connected
 * flag and the shadow's reported "connection", as nRF Cloud keeps them.
 */

import type { ServiceContext } from "./service-types.js";
import type { ShadowService } from "./shadow-service.js";

export function trackPresence({ broker, store, announce }: ServiceContext, shadow: ShadowService): void {
	broker.on("connect", (id, keepalive) => {
		store.setConnected(id, true);
		shadow.update(id, { state: { reported: { connection: { status: "connected", keepalive } } } });
		announce("connection", id, true);
		announce("device", id);
	});
	broker.on("disconnect", (id) => {
		// a deleted device's connection ends after its records are gone
		if (!store.device(id)) return;
		store.setConnected(id, false);
		shadow.update(id, { state: { reported: { connection: { status: "disconnected" } } } });
		announce("connection", id, false);
		announce("device", id);
	});
}
