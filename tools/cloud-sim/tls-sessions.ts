/*
 * TLS session resumption on the cloud's device-facing listeners, as AWS IoT
 * offers it: a device that connects again presents the session of its last
 * handshake and skips the certificate exchange, one round trip instead of two.
 * Both ways of TLS 1.2 are served: session tickets (RFC 5077), with one ticket
 * key for all the listeners of the cloud (a device may come back on ::1 after
 * 127.0.0.1), and a session cache by session ID for clients that do not take
 * tickets. Both live in memory only: a restarted cloud knows no session, and
 * devices fall back to a full handshake.
 */

import { randomBytes } from "node:crypto";
import type tls from "node:tls";

/** How long a session may be resumed, in seconds. */
export const SESSION_LIFETIME = 24 * 60 * 60;

/** Sessions the ID cache holds; the oldest go first. */
const CACHE_LIMIT = 10000;

export class TlsSessions {
	readonly #ticketKeys = randomBytes(48);
	/** Session ID (hex) → the serialised session, oldest first. */
	readonly #cache = new Map<string, Buffer>();

	/** Options for tls.createServer. */
	serverOptions(): Pick<tls.TlsOptions, "ticketKeys" | "sessionTimeout"> {
		return { ticketKeys: this.#ticketKeys, sessionTimeout: SESSION_LIFETIME };
	}

	/** Serves the session-ID cache on `server` (OpenSSL checks a cached session's age itself). */
	attach(server: tls.Server): void {
		server.on("newSession", (id: Buffer, data: Buffer, done: () => void) => {
			const key = id.toString("hex");
			this.#cache.delete(key);
			this.#cache.set(key, data);
			if (this.#cache.size > CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value!);
			done();
		});
		server.on("resumeSession", (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => {
			done(null, this.#cache.get(id.toString("hex")) ?? null);
		});
	}
}
