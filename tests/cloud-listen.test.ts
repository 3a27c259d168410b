/*
 * Where the local nRF Cloud listens: on every address `localhost` resolves to, one
 * port for all. Debian's /etc/hosts maps localhost to ::1 and 127.0.0.1, and a
 * device may try ::1 first; this machine's /etc/hosts may say otherwise, so the
 * clouds here are given Debian's answer through the `lookup` option.
 */

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeSocket } from "../hosts/node/socket.js";
import { MqttClient } from "../modules/mqtt/client.js";
import { cloudPki } from "../tools/cloud-sim/cloud.js";
import { fleetCredentials, type FleetCredentials } from "../tools/cloud-sim/fleet.js";
import { listenOnAll, resolveAddresses, systemLookup, type AddressLookup } from "../tools/lib/listen.js";
import { startCloud, type RunningCloud } from "../tools/cloud-sim/main.js";
import { issue } from "../tools/lib/pki.js";

let dir: string;

/** Whether this machine has an IPv6 loopback to bind. */
async function hasIpv6Loopback(): Promise<boolean> {
	const server = net.createServer();
	const bound = await new Promise<boolean>((resolve) => {
		server.once("error", () => resolve(false));
		server.listen(0, "::1", () => resolve(true));
	});
	if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
	return bound;
}

const ipv6 = await hasIpv6Loopback();
const NO_IPV6 = "this machine has no IPv6 loopback (::1 cannot be bound)";

/** A resolver that answers `addresses` for localhost, as /etc/hosts would. */
function hostsSay(...addresses: string[]): AddressLookup {
	return async (host) => {
		assert.equal(host, "localhost");
		return addresses.map((address): LookupAddress => ({ address, family: net.isIP(address) }));
	};
}

/** Debian's default /etc/hosts: ::1 and 127.0.0.1, ::1 first. */
const DEBIAN = ipv6 ? hostsSay("::1", "127.0.0.1") : hostsSay("127.0.0.1");

/** Whether a TCP connection to host:port is accepted (false when refused). */
function accepts(host: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host, port }, () => {
			socket.destroy();
			resolve(true);
		});
		socket.once("error", () => resolve(false));
	});
}

/**
 * Device `id` connects to the cloud's MQTT port at `host` (the certificate must name
 * that address) and asks for its shadow. "refused" when the connection closed before
 * CONNACK (JITP's first connection); otherwise the trimmed shadow it got.
 */
function askShadow(fleet: FleetCredentials, host: string, port: number, id: string): Promise<unknown> {
	return new Promise((resolve, reject) => {
		const answer = `${id}/shadow/get/accepted`;
		let connected = false;
		const client: MqttClient = new MqttClient({
			clientId: id,
			onConnect: () => {
				connected = true;
				client.subscribe([{ topic: answer, qos: 1 }]);
			},
			onSubscribe: () => client.publish(`$aws/things/${id}/shadow/get`, "", { qos: 1 }),
			onMessage: (message) => {
				if (message.topic !== answer) return;
				client.close();
				resolve(JSON.parse(Buffer.from(message.payload).toString("utf8")));
			},
			onClose: (error) => (connected ? reject(error ?? new Error("closed")) : resolve("refused")),
		});
		client.connect(nodeSocket({ host, port, tls: { ca: fleet.ca, cert: fleet.certificates.get(id)!, key: fleet.key, servername: host } }));
	});
}

/** Status of a HEAD request to the firmware server at `host`, its certificate checked against that address. */
function firmwareStatus(running: RunningCloud, host: string): Promise<number | undefined> {
	return new Promise((resolve, reject) => {
		const request = https.request({ host, port: running.endpoints.firmwarePort, path: "/no/such/firmware", method: "HEAD", ca: readFileSync(running.endpoints.caCert) },
			(response) => {
				response.resume();
				resolve(response.statusCode);
			});
		request.on("error", reject);
		request.end();
	});
}

async function restAccount(running: RunningCloud, host: string): Promise<unknown> {
	const response = await fetch(`http://${net.isIPv6(host) ? `[${host}]` : host}:${running.endpoints.httpPort}/v1/account`, { headers: { authorization: `Bearer ${running.endpoints.apiKey}` } });
	assert.equal(response.status, 200);
	return ((await response.json()) as { tenantId: string }).tenantId;
}


before(() => {
	dir = mkdtempSync(join(tmpdir(), "cloud-listen-"));
});

after(() => {
	rmSync(dir, { recursive: true, force: true });
});

describe("listening on every address of a host name", () => {
	test("the addresses come from the resolver, each once, in its order", async () => {
		assert.deepEqual(await resolveAddresses("localhost", hostsSay("::1", "127.0.0.1", "::1")), ["::1", "127.0.0.1"]);
		assert.deepEqual(await resolveAddresses("localhost", hostsSay("127.0.0.1")), ["127.0.0.1"]);
		await assert.rejects(resolveAddresses("localhost", hostsSay()), /resolves to no address/);
	});

	test("one port on each address; the first bind chooses it", async () => {
		const listening = await listenOnAll(() => net.createServer((socket) => socket.end()), ["127.0.0.1", "127.0.0.2"], 0);
		try {
			assert.notEqual(listening.port, 0);
			assert.deepEqual(listening.addresses, ["127.0.0.1", "127.0.0.2"]);
			assert.equal(await accepts("127.0.0.1", listening.port), true);
			assert.equal(await accepts("127.0.0.2", listening.port), true);
		}
		finally {
			await listening.close();
		}
		assert.equal(await accepts("127.0.0.1", listening.port), false, "close() closed them");
	});

	test("an address the machine does not have is left out", async () => {
		// 192.0.2.0/24 is reserved for documentation, never a local address
		const listening = await listenOnAll(() => net.createServer(), ["127.0.0.1", "192.0.2.1"], 0);
		await listening.close();
		assert.deepEqual(listening.addresses, ["127.0.0.1"]);
		await assert.rejects(listenOnAll(() => net.createServer(), ["192.0.2.1"], 0), /none of 192.0.2.1 can be bound/);
	});

	test("a port taken on a later address fails the whole bind and leaves nothing open", async () => {
		const taken = await listenOnAll(() => net.createServer(), ["127.0.0.1"], 0);
		try {
			await assert.rejects(listenOnAll(() => net.createServer(), ["127.0.0.2", "127.0.0.1"], taken.port), { code: "EADDRINUSE" });
			assert.equal(await accepts("127.0.0.2", taken.port), false, "the first address was let go");
		}
		finally {
			await taken.close();
		}
	});
});

test("the server certificate names ::1 and 127.0.0.1, also in a state directory made before ::1 was", () => {
	const state = join(dir, "pki-state");
	const pki = cloudPki(state, "localhost").dir;
	const names = (): X509Certificate => new X509Certificate(readFileSync(join(pki, "server.pem")));
	assert.equal(names().checkIP("::1"), "::1");
	assert.equal(names().checkIP("127.0.0.1"), "127.0.0.1");
	const serial = names().serialNumber;
	cloudPki(state, "localhost");
	assert.equal(names().serialNumber, serial, "a certificate that covers both is kept");
	issue(pki, "server", "/CN=localhost", "server-ca", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", 3650);
	assert.equal(names().checkIP("::1"), undefined);
	cloudPki(state, "localhost");
	assert.equal(names().checkIP("::1"), "::1", "an older certificate is issued again");
	assert.ok(names().verify(new X509Certificate(readFileSync(join(pki, "server-ca.pem"))).publicKey), "by the same server CA");
});

for (const broker of ["embedded", "mosquitto"] as const) {
	describe(`the cloud (${broker} broker) where localhost is ::1 and 127.0.0.1`, () => {
		let running: RunningCloud;
		let fleet: FleetCredentials;

		before(async () => {
			running = await startCloud({ state: join(dir, `cloud-${broker}`), broker, lookup: DEBIAN });
			fleet = await fleetCredentials(running.cloud.pkiDirectory, join(dir, `fleet-${broker}`), 2, `nrf-listen-${broker}-`);
		});

		after(async () => {
			await running?.stop();
		});

		for (const [index, host] of ["::1", "127.0.0.1"].entries()) {
			test(`MQTT, firmware and REST answer over ${host}`, { skip: host === "::1" && !ipv6 ? NO_IPV6 : false, timeout: 60000 }, async () => {
				assert.ok(running.cloud.listenAddresses.includes(host));
				const id = fleet.ids[index]!;
				const port = running.endpoints.mqttPort;
				// the embedded broker refuses a new device's first connection (JITP); Mosquitto registers it on its first message
				if (broker === "embedded") assert.equal(await askShadow(fleet, host, port, id), "refused");
				const shadow = await askShadow(fleet, host, port, id) as { desired?: unknown };
				assert.deepEqual(shadow.desired, { pairing: { state: "not_associated" } });
				assert.equal(await firmwareStatus(running, host), 404);
				assert.equal(await restAccount(running, host), running.endpoints.tenantId);
			});
		}
	});
}

test("the cloud binds only what localhost resolves to", { skip: ipv6 ? false : NO_IPV6 }, async () => {
	const running = await startCloud({ state: join(dir, "cloud-ipv4"), lookup: hostsSay("127.0.0.1") });
	try {
		assert.deepEqual(running.cloud.listenAddresses, ["127.0.0.1"]);
		for (const port of [running.endpoints.mqttPort, running.endpoints.firmwarePort, running.endpoints.httpPort]) {
			assert.equal(await accepts("127.0.0.1", port), true);
			assert.equal(await accepts("::1", port), false, `port ${port} is not open on ::1`);
		}
	}
	finally {
		await running.stop();
	}
});

test("by default the cloud asks the system's resolver and listens on each address it gives", async () => {
	const running = await startCloud({ state: join(dir, "cloud-system") });
	try {
		const resolved = [...new Set((await systemLookup("localhost")).map((entry) => entry.address))];
		assert.deepEqual(running.cloud.listenAddresses, resolved);
		for (const host of resolved) {
			// an address the machine cannot bind (::1 with IPv6 off) is left out by the listeners
			if (host === "::1" && !ipv6) continue;
			assert.equal(await accepts(host, running.endpoints.mqttPort), true, `MQTT on ${host}`);
		}
	}
	finally {
		await running.stop();
	}
});
