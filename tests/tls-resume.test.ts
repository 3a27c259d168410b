/*
 * Cheap reconnects with real TLS: the library in XS on the simulator host
 * (mbedTLS with the emulated modem's credentials) against the local nRF Cloud
 * (Node's TLS, the embedded broker), through a latency proxy that keeps a
 * trace of each connection. A reconnect in the same host process resumes the
 * TLS session (the socket says so, and so does the cloud's log) and the MQTT
 * session, and needs fewer flights and fewer bytes than the first connection.
 * After a cloud restart the cloud knows neither session: the offered TLS
 * session is refused, the handshake is a full one, the GET sent ahead is sent
 * again after the subscriptions, and the device still gets READY.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { flights, LatencyProxy } from "../tools/lib/latency-proxy.js";
import { runReconnectDevice, type ConnectMode, type ReadyLine, type ReconnectRun } from "../tools/bench/reconnect-device.js";
import { provisionModemDevice, type ModemDevice } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

let dir: string;
let running: RunningCloud | undefined;
let device: ModemDevice;
let log: string[] = [];

async function start(port = 0): Promise<RunningCloud> {
	running = await startCloud({ state: join(dir, "cloud"), mqttPort: port, log: (line) => log.push(line) });
	return running;
}

function runDevice(port: number, connections: number, stayMs: number, onLine?: (line: string) => void, mode: ConnectMode = "pipelined"): Promise<ReconnectRun> {
	return runReconnectDevice({ sim: ensureSim(), modem: device.modem, port, mode, connections, stayMs, onLine });
}

before(async () => {
	dir = mkdtempSync(join(tmpdir(), "tls-resume-"));
	await start();
	device = provisionModemDevice(dir, "device", "352656100883318");
	// JITP, then the association, then READY once.
	const setup = await runDevice(running!.endpoints.mqttPort, 1, 0, (line) => {
		if (line === "ASSOCIATION REQUESTED") running!.cloud.associate(device.id, device.pin);
	});
	assert.equal(setup.status, 0, setup.output);
});

/** A boot without a kept TLS session: the host keeps them in <state>/tls-sessions. */
function forgetTlsSessions(): void {
	rmSync(join(device.modem, "tls-sessions"), { recursive: true, force: true });
}

function handshakes(): boolean[] {
	return log.filter((line) => line.startsWith(`connect: ${device.id}, TLS`)).map((line) => line.endsWith("session resumed"));
}

after(async () => {
	await running?.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a reconnect resumes the TLS and the MQTT session, seen on both ends, with fewer flights and bytes than the first connection", async () => {
	// 25 ms each way: long enough that a loaded machine's slow writes do not look like waits.
	const proxy = await LatencyProxy.start({ host: "127.0.0.1", port: running!.endpoints.mqttPort }, 25);
	try {
		log = [];
		forgetTlsSessions();
		const run = await runDevice(proxy.port, 4, 0);
		assert.equal(run.status, 0, run.output);
		// A new host process keeps no TLS session; the MQTT session is kept from the first
		// connection that asks for it (clean session 0), the second (docs/protocol.md §1.5).
		assert.deepEqual(run.connections.map((c) => [c.tlsResumed, c.session]), [[false, 0], [true, 0], [true, 1], [true, 1]], run.output);
		assert.deepEqual(handshakes(), [false, true, true, true], log.join("\n"));
		assert.equal(proxy.links.length, 4, "one TCP connection each");
		const counts = proxy.links.map((link) => ({ flights: flights(link.trace, true), bytes: link.up + link.down }));
		const [first, , resumed, again] = counts;
		// First: ClientHello; certificate, key exchange and Finished; CONNECT, SUBSCRIBE and GET; the paired report
		// with the c2d and FOTA SUBSCRIBEs and the job request; DISCONNECT.
		// Resumed: ClientHello; Finished, CONNECT and GET; the job request and the paired report; DISCONNECT.
		// The second asks to resume a session the broker does not have: it sends the SUBSCRIBE and the GET
		// again right after the CONNACK, one flight more than a resumed session, as many as the first.
		// On a loaded machine the first connection has been seen to take a sixth flight (its many
		// answers reach the device in more bursts); the resumed ones, whose figure is the point, stay exact.
		assert.ok(first!.flights >= 5, JSON.stringify(counts));
		assert.deepEqual(counts.slice(2).map((c) => c.flights), [4, 4], JSON.stringify(counts));
		assert.ok(resumed!.flights < first!.flights);
		assert.equal(again!.flights, resumed!.flights);
		assert.ok(resumed!.bytes < first!.bytes - 1000, `bytes: reconnect ${resumed!.bytes}, first ${first!.bytes} (no certificates)`);
	}
	finally {
		await proxy.close();
	}
});

test("pairedReportAhead: a resumed reconnect sends the paired report with CONNECT and takes one flight less", async () => {
	const proxy = await LatencyProxy.start({ host: "127.0.0.1", port: running!.endpoints.mqttPort }, 25);
	try {
		forgetTlsSessions();
		const run = await runDevice(proxy.port, 4, 0, undefined, "ahead");
		assert.equal(run.status, 0, run.output);
		assert.deepEqual(run.connections.map((c) => [c.tlsResumed, c.session]), [[false, 0], [true, 0], [true, 1], [true, 1]], run.output);
		// Resumed: ClientHello; Finished, CONNECT, GET and the paired report; the job request and DISCONNECT.
		const counts = proxy.links.map((link) => flights(link.trace, true));
		assert.deepEqual(counts.slice(2), [3, 3], JSON.stringify(counts));
		// The shadow ends with the pairing the device reported.
		const reported = (running!.cloud.store.shadow(device.id) as { state?: { reported?: { pairing?: { state?: string } } } } | undefined)?.state?.reported?.pairing?.state;
		assert.equal(reported, "paired");
	}
	finally {
		await proxy.close();
	}
});

test("after a cloud restart the forgotten sessions fall back to a full handshake and a clean MQTT session, and the device gets READY", async () => {
	const port = running!.endpoints.mqttPort;
	log = [];
	forgetTlsSessions();
	let restarted: Promise<void> | undefined;
	const run = await runDevice(port, 4, 1500, (line) => {
		if (line.startsWith("RECONNECT ") && (JSON.parse(line.slice(10)) as ReadyLine).connection === 2) {
			restarted = (async () => {
				await running!.stop();
				running = undefined;
				log = [];
				await start(port);
			})();
		}
	});
	await restarted;
	assert.equal(run.status, 0, run.output);
	// The third asks to resume an MQTT session the restarted broker does not have: its GET, sent ahead, is sent again.
	assert.deepEqual(run.connections.map((c) => [c.connection, c.tlsResumed, c.session]), [[1, false, 0], [2, true, 0], [3, false, 0], [4, true, 1]], run.output);
	await until(() => handshakes().length === 2, { what: "the restarted cloud's connections" });
	assert.deepEqual(handshakes(), [false, true]);
});

test("a reboot resumes the session kept in the state directory (0600); a damaged one is deleted and the handshake is a full one", async () => {
	const port = running!.endpoints.mqttPort;
	log = [];
	const boot = async (): Promise<ReadyLine> => {
		const run = await runDevice(port, 1, 0);
		assert.equal(run.status, 0, run.output);
		return run.connections[0]!;
	};
	assert.equal((await boot()).tlsResumed, true, "the session of the last test's last connection, from its file");
	const directory = join(device.modem, "tls-sessions");
	assert.equal(statSync(directory).mode & 0o777, 0o700);
	const files = readdirSync(directory);
	assert.equal(files.length, 1, String(files));
	const file = join(directory, files[0]!);
	assert.equal(statSync(file).mode & 0o777, 0o600);
	// The session bytes after the header (magic, credentials digest, host name) are damaged.
	const bytes = readFileSync(file);
	const header = 5 + 32 + 1 + bytes[37]!;
	for (let i = header; i < bytes.length; i++) bytes[i] = 0xA5;
	writeFileSync(file, bytes);
	assert.equal((await boot()).tlsResumed, false, "a damaged session is not offered");
	assert.ok(existsSync(file), "the new handshake's session is kept");
	assert.equal((await boot()).tlsResumed, true);
	await until(() => handshakes().length === 3, { what: "three connections" });
	assert.deepEqual(handshakes(), [true, false, true]);
});
