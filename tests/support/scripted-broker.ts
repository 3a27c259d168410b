/*
 * A TCP peer that speaks MQTT through the project's codec and does only what a
 * test tells it, for session behaviour a real broker will not show on demand
 * (withheld acknowledgements, dropped connections, bad frames).
 */

import net from "node:net";
import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import type { Packet } from "../../modules/mqtt/packet.js";

export class PeerConnection {
	readonly socket: net.Socket;
	readonly received: Packet[] = [];
	readonly raw: Buffer[] = [];
	#waiters: Array<() => void> = [];
	#encoder = new MqttEncoder();
	closed = false;

	constructor(socket: net.Socket) {
		this.socket = socket;
		const decoder = new MqttDecoder({ onPacket: (p) => { this.received.push(p); this.#wake(); } });
		socket.on("data", (data: Buffer) => { this.raw.push(data); decoder.parse(new Uint8Array(data)); });
		socket.on("close", () => { this.closed = true; this.#wake(); });
		socket.on("error", () => undefined);
	}

	#wake(): void {
		const waiters = this.#waiters;
		this.#waiters = [];
		for (const w of waiters) w();
	}

	/** Resolves with the n-th packet received (0-based), waiting up to `ms`. */
	async packet(n: number, ms = 5000): Promise<Packet> {
		const deadline = Date.now() + ms;
		while (this.received.length <= n) {
			if (this.closed) throw new Error(`connection closed after ${this.received.length} packets, wanted packet ${n}`);
			if (Date.now() > deadline) throw new Error(`timed out waiting for packet ${n}; have ${JSON.stringify(this.received.map((p) => p.type))}`);
			await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
		}
		return this.received[n]!;
	}

	async closedByClient(ms = 5000): Promise<void> {
		const deadline = Date.now() + ms;
		while (!this.closed) {
			if (Date.now() > deadline) throw new Error("client did not close the connection");
			await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
		}
	}

	send(packet: Packet): void {
		this.socket.write(this.#encoder.encode(packet));
	}

	sendRaw(bytes: Uint8Array): void {
		this.socket.write(bytes);
	}

	close(): void {
		this.socket.destroy();
	}
}

export class ScriptedBroker {
	readonly server: net.Server;
	readonly connections: PeerConnection[] = [];
	#waiters: Array<() => void> = [];
	/** Called for every new connection, before any test code sees it. */
	onConnection: ((connection: PeerConnection) => void) | undefined = undefined;

	private constructor(server: net.Server) {
		this.server = server;
		server.on("connection", (socket) => {
			const connection = new PeerConnection(socket);
			this.connections.push(connection);
			this.onConnection?.(connection);
			const waiters = this.#waiters;
			this.#waiters = [];
			for (const w of waiters) w();
		});
	}

	static async start(): Promise<ScriptedBroker> {
		const server = net.createServer();
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		return new ScriptedBroker(server);
	}

	get port(): number {
		return (this.server.address() as net.AddressInfo).port;
	}

	async connection(n: number, ms = 5000): Promise<PeerConnection> {
		const deadline = Date.now() + ms;
		while (this.connections.length <= n) {
			if (Date.now() > deadline) throw new Error(`no connection ${n}`);
			await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
		}
		return this.connections[n]!;
	}

	async stop(): Promise<void> {
		for (const c of this.connections) c.close();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}
}
