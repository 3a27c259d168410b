/*
 * A TCP proxy that breaks the link on purpose: it listens on a loopback
 * address, forwards every connection to a target unchanged (TLS passes
 * through it end to end), counts the bytes each way, and cuts connections
 * where it is told to: when the bytes sent to clients reach given offsets
 * (fixed or random, counted over all connections), after a number of bytes
 * on every connection, or on demand. A cut forwards the bytes up to the
 * offset exactly and then closes both sides, as a dropped radio link looks
 * to the device. Tests and the benchmark put it between the device's
 * download client and the firmware server.
 */

import { createServer, connect, type Server, type Socket } from "node:net";

export interface FaultProxyOptions {
	/** Where connections go; a numeric address avoids the two answers of "localhost". */
	target: { host: string; port: number };
	/** Listening address, 127.0.0.1 by default; port 0 (the default) picks a free one. */
	host?: string;
	port?: number;
	/**
	 * How a cut ends the client's side: "close" (the default) sends the bytes up
	 * to the offset and a FIN, as a server closing; "reset" sends them and then a
	 * RST, as a link that broke (the client may then lose bytes still queued).
	 */
	cut?: "close" | "reset";
}

export interface FaultProxyStats {
	/** Connections accepted so far. */
	connections: number;
	/** Connections open now. */
	open: number;
	/** Bytes forwarded from the target to clients, over all connections. */
	down: number;
	/** Bytes forwarded from clients to the target. */
	up: number;
	/** Connections the proxy cut. */
	cuts: number;
}

interface Link {
	id: number;
	client: Socket;
	server: Socket;
	down: number;
	cut: boolean;
}

/** A small seeded generator (mulberry32), so random cut offsets repeat from run to run. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6D2B79F5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export class FaultProxy {
	readonly #server: Server;
	readonly #target: { host: string; port: number };
	readonly #reset: boolean;
	readonly #links = new Set<Link>();
	/** Offsets in the downstream byte count (over all connections) where a cut is due, ascending. */
	#cutPoints: number[] = [];
	#perConnection: number | undefined;
	#stats: FaultProxyStats = { connections: 0, open: 0, down: 0, up: 0, cuts: 0 };
	/** Where each cut happened: the downstream total and the connection's own count. */
	readonly cutLog: Array<{ total: number; connectionBytes: number; connection: number }> = [];

	private constructor(server: Server, target: { host: string; port: number }, reset: boolean) {
		this.#server = server;
		this.#target = target;
		this.#reset = reset;
	}

	static async start(options: FaultProxyOptions): Promise<FaultProxy> {
		if (options === null || typeof options !== "object" || options.target === null || typeof options.target !== "object")
			throw new TypeError("options.target { host, port } is required");
		const { host: targetHost, port: targetPort } = options.target;
		if (typeof targetHost !== "string" || targetHost.length === 0) throw new TypeError("target.host must be a host name or address");
		if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) throw new RangeError("target.port must be a port number");
		const port = options.port ?? 0;
		if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError("port must be 0 or a port number");
		if (options.cut !== undefined && options.cut !== "close" && options.cut !== "reset") throw new TypeError('cut must be "close" or "reset"');
		const server = createServer();
		const proxy = new FaultProxy(server, { host: targetHost, port: targetPort }, options.cut === "reset");
		server.on("connection", (client) => proxy.#accept(client));
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(port, options.host ?? "127.0.0.1", () => {
				server.off("error", reject);
				resolve();
			});
		});
		return proxy;
	}

	/** The port the proxy listens on. */
	get port(): number {
		const address = this.#server.address();
		if (address === null || typeof address === "string") throw new Error("the proxy is not listening");
		return address.port;
	}

	get stats(): FaultProxyStats {
		return { ...this.#stats, open: this.#links.size };
	}

	/** Cuts the connection that carries downstream byte number `offset` (1-based, over all connections) right after it. */
	cutAt(offset: number): void {
		if (!Number.isInteger(offset) || offset < 1) throw new RangeError("a cut offset is a positive integer");
		if (offset <= this.#stats.down) throw new RangeError(`offset ${offset} has passed (${this.#stats.down} bytes forwarded)`);
		if (!this.#cutPoints.includes(offset)) this.#cutPoints = [...this.#cutPoints, offset].sort((a, b) => a - b);
	}

	/**
	 * `count` distinct cuts at random downstream offsets after the bytes
	 * forwarded so far, within the next `within` bytes. Returns the offsets.
	 */
	cutAtRandom(count: number, within: number, random: () => number = Math.random): number[] {
		if (!Number.isInteger(count) || count < 0) throw new RangeError("count must be a non-negative integer");
		if (!Number.isInteger(within) || within < count) throw new RangeError("within must be an integer of at least count");
		const chosen = new Set<number>();
		while (chosen.size < count) chosen.add(this.#stats.down + 1 + Math.floor(random() * within));
		const offsets = [...chosen].sort((a, b) => a - b);
		for (const offset of offsets) this.cutAt(offset);
		return offsets;
	}

	/** Cuts every connection once it has carried `bytes` downstream; undefined stops that. */
	cutEachConnectionAfter(bytes: number | undefined): void {
		if (bytes !== undefined && (!Number.isInteger(bytes) || bytes < 1)) throw new RangeError("bytes must be a positive integer");
		this.#perConnection = bytes;
	}

	/** Downstream offsets of the cuts still due. */
	get pendingCuts(): readonly number[] {
		return this.#cutPoints;
	}

	/** Cuts every open connection now. */
	cutAll(): number {
		let cut = 0;
		for (const link of this.#links) if (!link.cut) {
			this.#cut(link);
			cut++;
		}
		return cut;
	}

	async close(): Promise<void> {
		const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
		for (const link of this.#links) {
			link.client.destroy();
			link.server.destroy();
		}
		this.#links.clear();
		await closed;
	}

	#accept(client: Socket): void {
		const server = connect(this.#target.port, this.#target.host);
		const link: Link = { id: ++this.#stats.connections, client, server, down: 0, cut: false };
		this.#links.add(link);
		client.setNoDelay(true);
		server.setNoDelay(true);
		const end = () => {
			this.#links.delete(link);
			client.destroy();
			server.destroy();
		};
		client.on("data", (data: Buffer) => {
			if (link.cut) return;
			this.#stats.up += data.length;
			if (!server.write(data)) {
				client.pause();
				server.once("drain", () => client.resume());
			}
		});
		server.on("data", (data: Buffer) => this.#forwardDown(link, data));
		client.on("end", () => server.end());
		server.on("end", () => { if (!link.cut) client.end(); });
		client.on("close", end);
		server.on("close", () => { if (!link.cut) client.end(); this.#links.delete(link); });
		client.on("error", end);
		server.on("error", end);
	}

	#forwardDown(link: Link, data: Buffer): void {
		if (link.cut) return;
		let length = data.length;
		const due = this.#cutPoints[0];
		let cut = false;
		if (due !== undefined && this.#stats.down + length >= due) {
			length = due - this.#stats.down;
			this.#cutPoints = this.#cutPoints.slice(1);
			cut = true;
		}
		if (this.#perConnection !== undefined && link.down + length >= this.#perConnection) {
			length = Math.min(length, this.#perConnection - link.down);
			cut = true;
		}
		const part = length === data.length ? data : data.subarray(0, length);
		this.#stats.down += length;
		link.down += length;
		if (cut) {
			this.cutLog.push({ total: this.#stats.down, connectionBytes: link.down, connection: link.id });
			// The bytes up to the offset reach the client, then the link ends.
			link.cut = true;
			this.#stats.cuts++;
			link.server.destroy();
			if (this.#reset) link.client.write(part, () => link.client.resetAndDestroy());
			else link.client.end(part, () => link.client.destroy());
			return;
		}
		if (!link.client.write(part)) {
			link.server.pause();
			link.client.once("drain", () => link.server.resume());
		}
	}

	#cut(link: Link): void {
		link.cut = true;
		this.#stats.cuts++;
		this.cutLog.push({ total: this.#stats.down, connectionBytes: link.down, connection: link.id });
		link.server.destroy();
		if (this.#reset) link.client.resetAndDestroy();
		else link.client.destroy();
	}
}
