/*
 * A TCP proxy that puts a slow link between a device and a server: every chunk
 * is forwarded a fixed one-way delay after it arrived, in order, in both
 * directions, and each connection's first bytes from the client wait one more
 * round trip, the time TCP's SYN and SYN-ACK take on such a link before a
 * client can send (the loopback handshake with the proxy itself takes none).
 * So elapsed time divided by the round-trip time counts the round trips a
 * sequence waits, TCP's handshake included. It also keeps a trace per
 * connection (direction, size and time of every chunk), from which flights
 * (runs of chunks one way between chunks the other way) are counted.
 */

import net from "node:net";

export interface TraceEntry {
	up: boolean;
	bytes: number;
	/** Date.now() when the proxy received the chunk, i.e. when its sender sent it. */
	sent: number;
	/** Date.now() when the chunk reached the other end (after the delay). */
	delivered: number;
}

export interface LinkRecord {
	id: number;
	up: number;
	down: number;
	trace: TraceEntry[];
}

/** What the client had sent and received by `time` (Date.now()): its chunks sent by then, the server's delivered by then. */
export function traceUntil(trace: readonly TraceEntry[], time: number): TraceEntry[] {
	return trace.filter((entry) => (entry.up ? entry.sent : entry.delivered) <= time);
}

/**
 * Runs of chunks in one direction (`up`: client to server) separated by chunks the other way,
 * in the order the client saw them: its own chunks when it sent them, the server's when they
 * reached it. (In the order the proxy received them, a server chunk still on its way to the
 * client would split a run the client wrote without waiting for it.)
 */
export function flights(trace: readonly TraceEntry[], up: boolean): number {
	const clientTime = (entry: TraceEntry) => (entry.up ? entry.sent : entry.delivered);
	const seen = [...trace].sort((a, b) => clientTime(a) - clientTime(b));
	let count = 0;
	let previous: boolean | undefined;
	for (const entry of seen) {
		if (entry.up === up && previous !== up) count++;
		previous = entry.up;
	}
	return count;
}

export class LatencyProxy {
	readonly rttMs: number;
	readonly links: LinkRecord[] = [];
	readonly #server: net.Server;
	readonly #sockets = new Set<net.Socket>();

	private constructor(server: net.Server, rttMs: number) {
		this.#server = server;
		this.rttMs = rttMs;
	}

	/** Listens on 127.0.0.1 (a free port) and forwards to `target` with `oneWayMs` of delay each way. */
	static async start(target: { host: string; port: number }, oneWayMs: number): Promise<LatencyProxy> {
		if (!Number.isInteger(target?.port) || target.port < 1 || target.port > 65535) throw new RangeError("target.port must be a port number");
		if (typeof target.host !== "string" || target.host.length === 0) throw new TypeError("target.host must be a host name or address");
		if (!(oneWayMs >= 0 && oneWayMs <= 10000)) throw new RangeError("oneWayMs must be 0 to 10000");
		const server = net.createServer();
		const proxy = new LatencyProxy(server, oneWayMs * 2);
		server.on("connection", (client) => proxy.#accept(client, target, oneWayMs));
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(0, "127.0.0.1", () => { server.off("error", reject); resolve(); });
		});
		return proxy;
	}

	get port(): number {
		return (this.#server.address() as net.AddressInfo).port;
	}

	close(): Promise<void> {
		for (const socket of this.#sockets) socket.destroy();
		return new Promise((resolve) => this.#server.close(() => resolve()));
	}

	#accept(client: net.Socket, target: { host: string; port: number }, delay: number): void {
		const upstream = net.connect(target.port, target.host);
		const link: LinkRecord = { id: this.links.length + 1, up: 0, down: 0, trace: [] };
		this.links.push(link);
		client.setNoDelay(true);
		upstream.setNoDelay(true);
		this.#sockets.add(client).add(upstream);
		// The client could send nothing before the SYN-ACK: one round trip after its SYN.
		const handshakeOver = performance.now() + this.rttMs;
		const forward = (from: net.Socket, to: net.Socket, up: boolean): void => {
			from.on("data", (data: Buffer) => {
				if (up) link.up += data.length;
				else link.down += data.length;
				const wait = up ? Math.max(delay, handshakeOver + delay - performance.now()) : delay;
				const now = Date.now();
				link.trace.push({ up, bytes: data.length, sent: now, delivered: now + wait });
				setTimeout(() => { if (!to.destroyed) to.write(data); }, wait);
			});
			from.on("end", () => setTimeout(() => to.end(), delay));
			from.on("error", () => to.destroy());
			from.on("close", () => setTimeout(() => { to.destroy(); this.#sockets.delete(from); }, delay));
		};
		forward(client, upstream, true);
		forward(upstream, client, false);
	}
}
