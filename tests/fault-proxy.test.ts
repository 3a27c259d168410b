/*
 * The fault-injecting proxy between a Node client and a Node server on
 * loopback: it forwards both ways unchanged and counts, and it cuts exactly
 * at the offsets it is given (fixed, random with a seed, per connection) or
 * when asked.
 */

import assert from "node:assert/strict";
import { createServer, connect, type Server } from "node:net";
import { after, before, test } from "node:test";
import { FaultProxy, seededRandom } from "../tools/lib/fault-proxy.js";

const PAYLOAD = Buffer.from(Array.from({ length: 200000 }, (_, i) => (i * 13) & 0xFF));
let server: Server;
let serverPort: number;

before(async () => {
	// Sends PAYLOAD to every client, and echoes what a client sends after "echo:".
	server = createServer((socket) => {
		serverSockets.add(socket);
		socket.on("close", () => serverSockets.delete(socket));
		socket.on("error", () => {});
		socket.once("data", (data) => {
			if (data.toString().startsWith("echo:")) {
				socket.write(data);
				socket.on("data", (more) => socket.write(more));
			}
			else socket.end(PAYLOAD);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	serverPort = (server.address() as { port: number }).port;
});

const serverSockets = new Set<import("node:net").Socket>();

after(() => new Promise<void>((resolve) => {
	server.close(() => resolve());
	for (const socket of serverSockets) socket.destroy();
}));

/** Connects through the proxy, sends `request`, and collects what arrives until the connection ends. */
function fetch(port: number, request = "get"): Promise<{ data: Buffer; error: Error | undefined }> {
	return new Promise((resolve) => {
		const chunks: Buffer[] = [];
		let error: Error | undefined;
		const socket = connect(port, "127.0.0.1", () => socket.write(request));
		socket.on("data", (d: Buffer) => chunks.push(d));
		socket.on("error", (e) => { error = e; });
		socket.on("close", () => resolve({ data: Buffer.concat(chunks), error }));
	});
}

test("forwards both directions unchanged and counts the bytes", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	try {
		const { data } = await fetch(proxy.port);
		assert.ok(data.equals(PAYLOAD));
		assert.deepEqual(proxy.stats, { connections: 1, open: 0, down: PAYLOAD.length, up: 3, cuts: 0 });
		const echoed = await new Promise<Buffer>((resolve) => {
			const socket = connect(proxy.port, "127.0.0.1", () => socket.write("echo:hello"));
			socket.once("data", (d: Buffer) => { socket.destroy(); resolve(d); });
		});
		assert.equal(echoed.toString(), "echo:hello");
	}
	finally {
		await proxy.close();
	}
});

test("a cut at an offset delivers exactly the bytes up to it, then ends the connection; later connections pass", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	try {
		proxy.cutAt(12345);
		proxy.cutAt(12345 + 1000);
		const first = await fetch(proxy.port);
		assert.equal(first.data.length, 12345);
		assert.ok(first.data.equals(PAYLOAD.subarray(0, 12345)));
		const second = await fetch(proxy.port);
		assert.equal(second.data.length, 1000, "the second cut counts over all connections");
		assert.ok(second.data.equals(PAYLOAD.subarray(0, 1000)));
		const third = await fetch(proxy.port);
		assert.ok(third.data.equals(PAYLOAD));
		assert.equal(proxy.stats.cuts, 2);
		assert.deepEqual(proxy.cutLog.map((c) => [c.total, c.connectionBytes, c.connection]), [[12345, 12345, 1], [13345, 1000, 2]]);
		assert.equal(proxy.stats.down, 12345 + 1000 + PAYLOAD.length);
		assert.throws(() => proxy.cutAt(5), RangeError, "an offset already passed");
	}
	finally {
		await proxy.close();
	}
});

test("random cuts: distinct offsets within the range, the same for the same seed, each one cutting a connection", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	try {
		const offsets = proxy.cutAtRandom(3, PAYLOAD.length, seededRandom(7));
		assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
		assert.equal(new Set(offsets).size, 3);
		assert.ok(offsets.every((o) => o >= 1 && o <= PAYLOAD.length));
		const again = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
		assert.deepEqual(again.cutAtRandom(3, PAYLOAD.length, seededRandom(7)), offsets);
		await again.close();
		let received = 0;
		for (let i = 0; i < 5 && proxy.pendingCuts.length > 0; i++) received += (await fetch(proxy.port)).data.length;
		assert.equal(proxy.stats.cuts, 3);
		assert.equal(received, offsets[2], "every byte up to the last cut, over the connections");
		assert.deepEqual(proxy.cutLog.map((c) => c.total), offsets);
	}
	finally {
		await proxy.close();
	}
});

test("every connection cut after N bytes, and cuts on demand", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	try {
		proxy.cutEachConnectionAfter(5000);
		for (let i = 0; i < 3; i++) assert.equal((await fetch(proxy.port)).data.length, 5000);
		proxy.cutEachConnectionAfter(undefined);
		assert.equal((await fetch(proxy.port)).data.length, PAYLOAD.length);
		const held = new Promise<Buffer>((resolve) => {
			const socket = connect(proxy.port, "127.0.0.1", () => socket.write("echo:x"));
			socket.on("error", () => {});
			const chunks: Buffer[] = [];
			socket.on("data", (d: Buffer) => chunks.push(d));
			socket.on("close", () => resolve(Buffer.concat(chunks)));
		});
		while (proxy.stats.down < PAYLOAD.length * 1 + 15000 + 6) await new Promise((r) => setTimeout(r, 5));
		assert.equal(proxy.cutAll(), 1);
		assert.equal((await held).toString(), "echo:x");
		assert.equal(proxy.stats.cuts, 4);
	}
	finally {
		await proxy.close();
	}
});

test("cut \"reset\" ends the client's connection with a reset, after no more than the bytes up to the offset", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort }, cut: "reset" });
	try {
		proxy.cutAt(50000);
		const { data } = await fetch(proxy.port);
		assert.ok(data.length <= 50000 && data.equals(PAYLOAD.subarray(0, data.length)));
		assert.equal(proxy.stats.cuts, 1);
		await assert.rejects(FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort }, cut: "drop" as never }), TypeError);
	}
	finally {
		await proxy.close();
	}
});

test("close() stops listening and ends open connections; bad arguments throw", async () => {
	const proxy = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	const port = proxy.port;
	const open = new Promise<void>((resolve) => {
		const socket = connect(port, "127.0.0.1", () => socket.write("echo:"));
		socket.on("error", () => {});
		socket.resume();	// flowing, so the end of the connection is read
		socket.on("close", () => resolve());
	});
	while (proxy.stats.open === 0) await new Promise((r) => setTimeout(r, 5));
	await proxy.close();
	await open;
	const refused = await new Promise<string>((resolve) => {
		const socket = connect(port, "127.0.0.1");
		socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? ""));
		socket.on("connect", () => { socket.destroy(); resolve("connected"); });
	});
	assert.equal(refused, "ECONNREFUSED");
	await assert.rejects(FaultProxy.start({ target: { host: "127.0.0.1", port: 0 } }), RangeError);
	await assert.rejects(FaultProxy.start({ target: { host: "", port: 1 } }), TypeError);
	await assert.rejects(FaultProxy.start(null as never), TypeError);
	const other = await FaultProxy.start({ target: { host: "127.0.0.1", port: serverPort } });
	assert.throws(() => other.cutAt(0), RangeError);
	assert.throws(() => other.cutAtRandom(5, 3), RangeError);
	assert.throws(() => other.cutEachConnectionAfter(0), RangeError);
	await other.close();
});
