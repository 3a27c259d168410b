/*
 * A TCP peer that speaks MQTT through the project's codec and does only what a
 * test tells it, for session behaviour a real broker will not show on demand
 * (withheld acknowledgements, dropped connections, bad frames).
 */

import net from "node:net";
import { MqttDecoder } from "../../modules/mqtt/decoder.js";
import { MqttEncoder } from "../../modules/mqtt/encoder.js";
import type { Packet } from "../../modules/mqtt/packet.js";
import { until } from "./until.js";

export class PeerConnection {
	readonly socket: net.Socket;
	readonly received: Packet[] = [];
	readonly raw: Buffer[] = [];
	/** Called for every packet as it is decoded (the scripted cloud answers from here). */
	onPacket: ((packet: Packet) => void) | undefined = undefined;
	#encoder = new MqttEncoder();
	closed = false;

	constructor(socket: net.Socket) {
		this.socket = socket;
		const decoder = new MqttDecoder({ onPacket: (p) => { this.received.push(p); this.onPacket?.(p); } });
		socket.on("data", (data: Buffer) => { this.raw.push(data); decoder.parse(new Uint8Array(data)); });
		socket.on("close", () => { this.closed = true; });
		socket.on("error", () => undefined);
	}

	/** The packet types received so far, for timeout messages. */
	#types(): string {
		return JSON.stringify(this.received.map((p) => p.type));
	}

	/** Resolves with the n-th packet received (0-based), waiting up to `ms`; fails as soon as the connection closes without it. */
	packet(n: number, ms = 5000): Promise<Packet> {
		return until(() => {
			if (this.received.length > n) return this.received[n]!;
			if (this.closed) throw new Error(`connection closed after ${this.received.length} packets, wanted packet ${n}`);
			return undefined;
		}, { what: `packet ${n}`, timeout: ms, detail: () => `have ${this.#types()}` });
	}

	async closedByClient(ms = 5000): Promise<void> {
		await until(() => this.closed, { what: "the client to close the connection", timeout: ms, detail: () => `have ${this.#types()}` });
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
	/** Called for every new connection, before any test code sees it. */
	onConnection: ((connection: PeerConnection) => void) | undefined = undefined;

	private constructor(server: net.Server) {
		this.server = server;
		server.on("connection", (socket) => {
			const connection = new PeerConnection(socket);
			this.connections.push(connection);
			this.onConnection?.(connection);
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

	connection(n: number, ms = 5000): Promise<PeerConnection> {
		return until(() => this.connections[n], { what: `connection ${n}`, timeout: ms, detail: () => `${this.connections.length} so far` });
	}

	async stop(): Promise<void> {
		for (const c of this.connections) c.close();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}
}
