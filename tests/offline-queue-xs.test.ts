/*
 * The offline queue end to end: the library in XS on the simulator host
 * (tests/xs/fixtures/queue-app) against the local nRF Cloud over mutual TLS,
 * through the fault proxy. The first start queues messages without a
 * connection and is killed with SIGKILL; the second start on the same state
 * finds them in its key-value store, connects, and the library reconnects by
 * itself after the JITP rejection, after the association and after the proxy
 * cuts the link while the queue drains; the cloud must then hold every
 * message, in order.
 */

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { deviceCommand } from "../tools/device/main.js";
import { FaultProxy } from "../tools/lib/fault-proxy.js";
import { provisionModemDevice, restClient } from "./support/cloud.js";
import { ensureSim } from "./support/sim.js";
import { until } from "./support/until.js";

const APP = join("tests", "xs", "fixtures", "queue-app");
const COUNT = 12;
let dir: string;
let running: RunningCloud;
let proxy: FaultProxy;
const rest = restClient(() => running.endpoints);

before(async () => {
	ensureSim("release");
	dir = mkdtempSync(join(tmpdir(), "offline-queue-xs-"));
	running = await startCloud({ state: join(dir, "cloud") });
	proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: running.endpoints.mqttPort } });
});

const hosts: Host[] = [];

after(async () => {
	for (const host of hosts) host.child.kill("SIGKILL");
	await proxy?.close();
	await running?.stop();
	rmSync(dir, { recursive: true, force: true });
});

class Host {
	output = "";
	readonly child: ChildProcess;
	readonly exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;

	constructor(modem: string, appArgs: string[]) {
		const command = deviceCommand({
			modem, endpoint: `127.0.0.1:${proxy.port}`, hostname: running.endpoints.mqttHost, app: APP, appArgs, timeout: 90,
		});
		this.child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe"] });
		hosts.push(this);
		this.child.stdout!.on("data", (d: Buffer) => { this.output += d.toString(); });
		this.child.stderr!.on("data", (d: Buffer) => { this.output += d.toString(); });
		this.exited = new Promise((resolve) => this.child.on("close", (status, signal) => { command.cleanup(); resolve({ status, signal }); }));
	}

	lines(pattern: RegExp): RegExpMatchArray[] {
		return [...this.output.matchAll(new RegExp(pattern.source, "gm"))];
	}

	async waitFor(pattern: RegExp, count = 1, ms = 60000): Promise<RegExpMatchArray> {
		await until(() => this.lines(pattern).length >= count, { what: `${pattern} (#${count})`, timeout: ms, interval: 50, detail: () => `output:\n${this.output}` });
		return this.lines(pattern)[count - 1]!;
	}
}

test("XS: messages queued before a SIGKILL are sent after the restart, in order, across the JITP rejection, the association and a cut link", { timeout: 180_000 }, async () => {
	const device = provisionModemDevice(dir, "queue-modem", "352656100990011");
	const first = new Host(device.modem, ["queue", String(COUNT)]);
	const queued = await first.waitFor(/^queue-app: queued (.*)$/);
	assert.deepEqual(JSON.parse(queued[1]!), { messages: COUNT, bytes: Array.from({ length: COUNT }, (_, i) => `{"queued":${i + 1}}`.length).reduce((a, b) => a + b), inFlight: 0, corrupt: 0 });
	assert.equal(first.lines(/returned/).length, 0, first.output);
	first.child.kill("SIGKILL");
	assert.equal((await first.exited).signal, "SIGKILL");
	assert.equal(proxy.stats.connections, 0, "the first start never connected");

	const second = new Host(device.modem, ["drain"]);
	const started = await second.waitFor(/^queue-app: started (.*)$/);
	assert.equal(JSON.parse(started[1]!).messages, COUNT, "the queue came back from the key-value store");
	await second.waitFor(/USER_ASSOCIATION_REQUEST/);
	assert.equal((await rest("PUT", `/v1/association/${device.id}`, device.pin)).status, 202);
	// After the association cycle the queue drains, 5 a second: cut the link in the middle.
	await second.waitFor(/^nrf_cloud: READY/);
	await new Promise((resolve) => setTimeout(resolve, 700));
	assert.ok(proxy.cutAll() >= 1, "the link was cut while the queue drained");
	await second.waitFor(/^queue-app: done$/, 1, 90000);
	const end = await second.exited;
	assert.equal(end.status, 0, second.output);

	const events = second.lines(/^nrf_cloud: ([A-Z_]+) status (-?\d+)$/).map((m) => `${m[1]} ${m[2]}`);
	// JITP rejection, association, the cycle, the cut: the library made every reconnect itself.
	assert.deepEqual(events.slice(0, 5), ["TRANSPORT_CONNECTING 0", "TRANSPORT_DISCONNECTED 2", "TRANSPORT_CONNECTING 0", "TRANSPORT_CONNECTED 0", "USER_ASSOCIATION_REQUEST 0"]);
	assert.equal(events[5], "USER_ASSOCIATED 0");
	assert.match(events[6]!, /^TRANSPORT_DISCONNECTED [01]$/, "the library cycled the connection (or the cloud closed it first)");
	assert.ok(events.filter((e) => e === "READY 0").length >= 2, `a READY after the cut:\n${events.join("\n")}`);
	assert.equal(events.at(-1), "TRANSPORT_DISCONNECTED 0");
	assert.ok(proxy.stats.connections >= 4, `${proxy.stats.connections} connections`);
	const stored = running.cloud.store.messages({ deviceId: device.id, direction: "d2c", limit: 1000 }).map((m) => m.payload);
	const numbers = stored.map((p) => (JSON.parse(p) as { queued?: number }).queued).filter((n): n is number => n !== undefined);
	const firstSeen = numbers.filter((n, i) => numbers.indexOf(n) === i);
	assert.deepEqual(firstSeen, Array.from({ length: COUNT }, (_, i) => i + 1), `stored: ${numbers.join(",")}`);
	const drained = await second.waitFor(/^queue-app: drained (.*)$/);
	assert.deepEqual(JSON.parse(drained[1]!), { messages: 0, bytes: 0, inFlight: 0, corrupt: 0 });
});
