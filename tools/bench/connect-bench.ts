/*
 * From connect() to READY for an associated device, first connection and
 * reconnect: round trips, milliseconds and bytes on the wire, for the
 * library's pipelined sequence and for the C library's sequence
 * (docs/protocol.md §1.7: each request waits for the previous answer),
 * measured in the same run. The device is the real thing: the library in XS
 * on the simulator host, mbedTLS 2.28 (TLS 1.2, as the nRF9160 modem) with the
 * emulated modem's credentials, against the local nRF Cloud (Node's TLS, the
 * embedded broker), through a latency proxy (tools/lib/latency-proxy.ts) that
 * delays every chunk by half the round-trip time each way and holds each
 * connection's first bytes one more round trip, as TCP's handshake would.
 *
 * Each run is one host process (a boot) with three connections: the first
 * (no TLS session kept, clean MQTT session), the second (TLS resumed; it asks
 * to resume the MQTT session, which the broker did not keep after a clean
 * one), the third (both resumed): "reconnect" below. The pipelined sequence
 * runs twice, as it is by default and with pairedReportAhead (the paired
 * report of the pairing the first connection confirmed goes with CONNECT).
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud } from "../cloud-sim/main.js";
import { flights, LatencyProxy, traceUntil, type LinkRecord } from "../lib/latency-proxy.js";
import { provision } from "../provision/main.js";
import { table } from "./harness.js";
import { runReconnectDevice, type ConnectMode, type ReadyLine } from "./reconnect-device.js";

/**
 * The goal: a reconnect to READY in at most this many round trips once TCP's
 * handshake is done (the TLS handshake and MQTT; socket connect() itself is
 * one more, which nothing above TCP can save).
 */
const GOAL_ROUND_TRIPS = 2;
const MODES: readonly ConnectMode[] = ["lockstep", "pipelined", "ahead"];

interface Measured {
	ms: number;
	/** Waits for the peer up to READY from the trace: TCP's handshake, then each flight of the server's answers. */
	waits: number;
	up: number;
	down: number;
	tlsResumed: boolean | null;
	session: number;
}

async function runDevice(modem: string, port: number, mode: ConnectMode, connections: number, stayMs: number, onLine?: (line: string) => void): Promise<ReadyLine[]> {
	const run = await runReconnectDevice({ modem, port, mode, connections, stayMs, onLine });
	if (run.status !== 0) throw new Error(`the device program ended with ${run.status}:\n${run.output}`);
	return run.connections;
}

function measured(ready: ReadyLine, link: LinkRecord): Measured {
	const untilReady = traceUntil(link.trace, ready.readyAt);
	const sum = (up: boolean) => untilReady.filter((e) => e.up === up).reduce((total, e) => total + e.bytes, 0);
	return { ms: ready.ms, waits: 1 + flights(untilReady, false), up: sum(true), down: sum(false), tlsResumed: ready.tlsResumed, session: ready.session };
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

export async function connectBench(repeats = 5, rttMs = 60): Promise<boolean> {
	const dir = mkdtempSync(join(tmpdir(), "connect-bench-"));
	const running = await startCloud({ state: join(dir, "cloud") });
	try {
		const modem = join(dir, "modem");
		mkdirSync(modem);
		writeFileSync(join(modem, "imei"), "352656100999990\n");
		const id = "nrf-352656100999990";
		const { pin } = provision({ cloudState: join(dir, "cloud"), modem, deviceId: id });
		// JITP registers the device and refuses that connection; it is associated, then READY once.
		await runDevice(modem, running.endpoints.mqttPort, "pipelined", 1, 0, (line) => {
			if (line === "ASSOCIATION REQUESTED") running.cloud.associate(id, pin);
		});
		const proxy = await LatencyProxy.start({ host: "127.0.0.1", port: running.endpoints.mqttPort }, rttMs / 2);
		const results: Record<string, Measured[][]> = { lockstep: [], pipelined: [], ahead: [] };
		try {
			for (let i = 0; i < repeats; i++) {
				for (const mode of MODES) {
					// A boot without a kept TLS session (the host keeps them in its state directory).
					rmSync(join(modem, "tls-sessions"), { recursive: true, force: true });
					const before = proxy.links.length;
					const readies = await runDevice(modem, proxy.port, mode, 3, 3 * rttMs);
					const links = proxy.links.slice(before);
					if (readies.length !== 3 || links.length !== 3) throw new Error(`${mode}: ${readies.length} READY over ${links.length} connections, expected 3 and 3`);
					results[mode]!.push(readies.map((ready, n) => measured(ready, links[n]!)));
				}
			}
		}
		finally {
			await proxy.close();
		}
		const row = (name: string, mode: string, connection: number): string[] => {
			const runs = results[mode]!.map((r) => r[connection]!);
			const ms = median(runs.map((r) => r.ms));
			const last = runs.at(-1)!;
			const waits = median(runs.map((r) => r.waits));
			return [name, `${last.tlsResumed ? "resumed" : "full"} / ${last.session ? "resumed" : "new"}`, (ms / rttMs).toFixed(1), String(waits), String(waits - 1),
				ms.toFixed(0), String(median(runs.map((r) => r.up))), String(median(runs.map((r) => r.down)))];
		};
		console.log(`\nnRF Cloud library: connect() to READY, associated device in XS (simulator host, mbedTLS TLS 1.2, mutual TLS) against the local nRF Cloud, ${rttMs} ms round trip (latency proxy), median of ${repeats} boots of 3 connections each\n`);
		console.log(table(["sequence, connection", "TLS / MQTT session", "round trips (time / RTT)", "round trips (trace)", "after TCP's handshake (trace)", "ms", "bytes up", "bytes down"], [
			row("C library (lock-step), first connection", "lockstep", 0),
			row("C library (lock-step), reconnect, broker kept no session", "lockstep", 1),
			row("C library (lock-step), reconnect", "lockstep", 2),
			row("this library (pipelined), first connection", "pipelined", 0),
			row("this library (pipelined), reconnect, broker kept no session", "pipelined", 1),
			row("this library (pipelined), reconnect", "pipelined", 2),
			row("this library (pipelined, pairedReportAhead), reconnect, broker kept no session", "ahead", 1),
			row("this library (pipelined, pairedReportAhead), reconnect", "ahead", 2),
		]));
		const reconnectMs = median(results.ahead!.map((r) => r[2]!.ms));
		const defaultMs = median(results.pipelined!.map((r) => r[2]!.ms));
		const firstMs = median(results.pipelined!.map((r) => r[0]!.ms));
		const cMs = median(results.lockstep!.map((r) => r[2]!.ms));
		// TCP's handshake is one round trip of the time too (the proxy holds the first bytes that long).
		const reconnectTrips = reconnectMs / rttMs - 1;
		const traceTrips = median(results.ahead!.map((r) => r[2]!.waits)) - 1;
		const met = reconnectTrips <= GOAL_ROUND_TRIPS + 0.25 && traceTrips <= GOAL_ROUND_TRIPS;
		console.log(`\nHow it is measured: "time / RTT" is connect() to READY as the device's clock sees it, over the proxy's round-trip time; `
			+ `"trace" counts, from the proxy's trace up to READY, the flights of answers the device waited for, plus one for TCP's handshake. `
			+ `Both include the TCP and TLS handshakes; "after TCP's handshake" leaves TCP's out (TLS and MQTT only). Bytes are TLS records each way up to READY (TCP/IP headers not counted).`);
		console.log(`Reconnect with pairedReportAhead: ${reconnectTrips.toFixed(1)} round trips after TCP's handshake by time, ${traceTrips} by trace (${(reconnectTrips + 1).toFixed(1)} and ${traceTrips + 1} with it); `
			+ `${(reconnectMs / defaultMs).toFixed(2)}x the default sequence's reconnect, ${(reconnectMs / firstMs).toFixed(2)}x the first connection's time, ${(reconnectMs / cMs).toFixed(2)}x the C library's reconnect. `
			+ `Goal: a reconnect in at most ${GOAL_ROUND_TRIPS} round trips after TCP's handshake: ${met ? "met" : "NOT met"} (TLS 1.2's abbreviated handshake 1, MQTT 1; docs/choices.md §19)`);
		return met;
	}
	finally {
		await running.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}
