/*
 * From TCP connect to READY for an associated device: round trips and bytes on
 * the wire, for the library's pipelined sequence and for the C library's
 * sequence (docs/protocol.md §1.7: each request waits for the previous
 * answer), measured in the same run against the local nRF Cloud over mutual
 * TLS. A loopback proxy delays every chunk by half a round-trip time in each
 * direction, so elapsed time / RTT counts the round trips; the proxy also
 * counts the TLS bytes. The MQTT packets the device sends must be the same in
 * both sequences.
 */

import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeSocket } from "../../hosts/node/socket.js";
import type { SocketFactory } from "../../modules/platform/socket.js";
import { EventType } from "../../modules/nrf-cloud/constants.js";
import { NrfCloud } from "../../modules/nrf-cloud/api.js";
import { MemorySettings } from "../../modules/nrf-cloud/settings.js";
import { fleetCredentials, type FleetCredentials } from "../cloud-sim/fleet.js";
import { startCloud } from "../cloud-sim/main.js";
import { table } from "./harness.js";

interface Proxy {
	port: number;
	rtt: number;
	up: number;
	down: number;
	close(): Promise<void>;
}

/** Forwards to `target`, delaying each chunk by `delay` ms and keeping the order. */
async function delayingProxy(target: number, delay: number): Promise<Proxy> {
	const sockets = new Set<net.Socket>();
	const proxy: Proxy = { port: 0, rtt: delay * 2, up: 0, down: 0, close: async () => undefined };
	const forward = (from: net.Socket, to: net.Socket, count: (n: number) => void): void => {
		from.on("data", (data: Buffer) => {
			count(data.length);
			setTimeout(() => { if (!to.destroyed) to.write(data); }, delay);
		});
		from.on("end", () => setTimeout(() => to.end(), delay));
		from.on("error", () => to.destroy());
		from.on("close", () => setTimeout(() => to.destroy(), delay));
	};
	const server = net.createServer((client) => {
		const upstream = net.connect(target, "127.0.0.1");
		client.setNoDelay(true);
		upstream.setNoDelay(true);
		sockets.add(client).add(upstream);
		forward(client, upstream, (n) => { proxy.up += n; });
		forward(upstream, client, (n) => { proxy.down += n; });
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	proxy.port = (server.address() as net.AddressInfo).port;
	proxy.close = () => new Promise((resolve) => {
		for (const socket of sockets) socket.destroy();
		server.close(() => resolve());
	});
	return proxy;
}

interface Run {
	ms: number;
	tlsUp: number;
	tlsDown: number;
	mqttUp: number;
	mqttUpAtReady: number;
	mqttDown: number;
	packets: string[];
}

/** Records what the device writes and reads at the MQTT level. */
function counting(factory: SocketFactory, run: Run): SocketFactory {
	return (callbacks) => {
		const socket = factory(callbacks);
		return {
			read: (count) => {
				const data = socket.read(count);
				if (data !== undefined) run.mqttDown += data.byteLength;
				return data;
			},
			write: (data) => {
				run.mqttUp += data.length;
				run.packets.push(Buffer.from(data).toString("hex"));
				return socket.write(data);
			},
			close: () => socket.close(),
		};
	};
}

async function connectOnce(fleet: FleetCredentials, id: string, port: number, pipeline: boolean, proxy?: Proxy): Promise<Run> {
	const run: Run = { ms: 0, tlsUp: 0, tlsDown: 0, mqttUp: 0, mqttUpAtReady: 0, mqttDown: 0, packets: [] };
	const tls = { ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, servername: "localhost" };
	let finish!: (type: number) => void;
	const outcome = new Promise<number>((resolve) => { finish = resolve; });
	const library = new NrfCloud({
		socket: () => counting(nodeSocket({ host: "127.0.0.1", port, tls }), run),
		settings: new MemorySettings(),
	}, { clientIdSource: "runtime", pipeline, pollThread: true, keepalive: 1200, host: "localhost" });
	library.init({ clientId: id, eventHandler: (event) => {
		if (event.type === EventType.READY || event.type === EventType.TRANSPORT_DISCONNECTED || event.type === EventType.USER_ASSOCIATION_REQUEST) finish(event.type);
	} });
	const upBefore = proxy?.up ?? 0;
	const downBefore = proxy?.down ?? 0;
	const started = performance.now();
	await library.connect();
	const type = await outcome;
	run.ms = performance.now() - started;
	run.tlsUp = (proxy?.up ?? 0) - upBefore;
	run.tlsDown = (proxy?.down ?? 0) - downBefore;
	run.mqttUpAtReady = run.mqttUp;
	if (type !== EventType.READY) throw new Error(`connect ended with event ${type}, not READY`);
	// The lock-step sequence sends its job request one round trip after READY: wait for it, so both lists are complete.
	const jobRequest = Buffer.from("/jobs/req").toString("hex");
	const deadline = Date.now() + 10 * rttOf(proxy);
	while (!run.packets.some((hex) => hex.includes(jobRequest)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
	library.disconnect();
	await new Promise((resolve) => setTimeout(resolve, 50));
	return run;
}

function rttOf(proxy: Proxy | undefined): number {
	return proxy === undefined ? 100 : proxy.rtt;
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

export async function connectBench(repeats = 5, rttMs = 60): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), "connect-bench-"));
	const running = await startCloud({ state: join(dir, "cloud") });
	try {
		const fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, "fleet"), 1, "nrf-bench-");
		const id = fleet.ids[0]!;
		// The first connection registers the device (JITP) and is refused; then it is associated.
		await connectOnce(fleet, id, running.endpoints.mqttPort, true).catch(() => undefined);
		running.cloud.associate(id, id);
		const proxy = await delayingProxy(running.endpoints.mqttPort, rttMs / 2);
		const results: Record<string, Run[]> = { lockstep: [], pipelined: [] };
		try {
			for (let i = 0; i < repeats; i++) {
				results.lockstep!.push(await connectOnce(fleet, id, proxy.port, false, proxy));
				results.pipelined!.push(await connectOnce(fleet, id, proxy.port, true, proxy));
			}
		}
		finally {
			await proxy.close();
		}
		const normalise = (packets: string[]) => packets.map((hex) => (hex.startsWith("40") ? "PUBACK" : hex));
		const same = results.pipelined!.every((r) => JSON.stringify(normalise(r.packets)) === JSON.stringify(normalise(results.lockstep![0]!.packets)));
		const row = (name: string, runs: Run[]) => {
			const ms = median(runs.map((r) => r.ms));
			return [name, (ms / rttMs).toFixed(1), ms.toFixed(0), String(median(runs.map((r) => r.tlsUp))), String(median(runs.map((r) => r.tlsDown))),
				String(median(runs.map((r) => r.mqttUpAtReady))), String(median(runs.map((r) => r.mqttDown))), String(runs[0]!.packets.length)];
		};
		const lockstepMs = median(results.lockstep!.map((r) => r.ms));
		const pipelinedMs = median(results.pipelined!.map((r) => r.ms));
		console.log(`\nnRF Cloud library: TCP connect to READY, associated device, clean session, local nRF Cloud over mutual TLS 1.2, ${rttMs} ms round trip (loopback proxy), median of ${repeats}\n`);
		console.log(table(["sequence", "round trips", "ms", "TLS bytes up", "TLS bytes down", "MQTT bytes up", "MQTT bytes down", "packets (with job request)"], [
			row("C library (docs/protocol.md §1.7: one request per round trip)", results.lockstep!),
			row("this library (independent requests pipelined)", results.pipelined!),
		]));
		console.log(`round trips: ${(pipelinedMs / lockstepMs).toFixed(2)}x of the C library's sequence; expected TLS 2 + MQTT 5 (lock-step) or 2 (pipelined); `
			+ `the proxy delays data, not TCP's own handshake. Bytes are counted up to READY. Packets sent: ${same ? "identical (same packets, same order)" : "DIFFERENT"}`);
		if (!same) throw new Error("the pipelined sequence sent different packets");
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
