/*
 * The Node socket (hosts/node/socket.ts) reports the errno a device's socket
 * would: certificate verification failures are EOPNOTSUPP, a handshake the
 * server ends with an alert is ECONNREFUSED, like the simulator's native
 * socket, so the nRF Cloud library gives the same connect result on both.
 */

import assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { after, before, test } from "node:test";
import { nodeSocket, socketError, type NodeSocketOptions } from "../hosts/node/socket.js";
import { classifyConnectFailure } from "../modules/nrf-cloud/connect-failure.js";
import { ConnectResult } from "../modules/nrf-cloud/constants.js";
import { Errno, errnoName } from "../modules/platform/errno.js";
import type { SocketError } from "../modules/platform/socket.js";
import { freePort } from "../tools/lib/mosquitto.js";
import { createPki, type Pki } from "../tools/lib/pki.js";

let pki: Pki;
let server: tls.Server;
let port: number;

before(async () => {
	pki = createPki();
	pki.client("device", "device-1");
	pki.client("rogue", "device-1", "rogue-ca");
	// TLS 1.2, where the server checks the client's certificate before the handshake ends.
	server = tls.createServer({
		cert: pki.read("server.pem"), key: pki.read("server.key"), ca: pki.read("ca.pem"),
		requestCert: true, rejectUnauthorized: true, maxVersion: "TLSv1.2",
	}, (socket) => socket.end());
	server.on("tlsClientError", () => undefined);
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	port = (server.address() as net.AddressInfo).port;
});

after(async () => {
	await new Promise<void>((resolve) => server?.close(() => resolve()));
	pki?.remove();
});

/** Opens a socket; resolves with the errno it fails with, or "connected". */
function outcome(options: NodeSocketOptions): Promise<string> {
	return new Promise((resolve) => {
		const socket = nodeSocket(options)({
			onReadable() {},
			onWritable() {
				socket.close();
				resolve("connected");
			},
			onError(error?: SocketError) {
				resolve(error === undefined ? "closed" : errnoName(error.errno));
			},
		});
	});
}

test("TLS: a server certificate from another CA or for another name is EOPNOTSUPP (ERR_CERT)", async () => {
	const client = { cert: pki.read("device.pem"), key: pki.read("device.key") };
	assert.equal(await outcome({ host: "127.0.0.1", port, tls: { ca: pki.read("rogue-ca.pem"), ...client, servername: "localhost" } }), "EOPNOTSUPP");
	assert.equal(await outcome({ host: "127.0.0.1", port, tls: { ca: pki.read("ca.pem"), ...client, servername: "mqtt.example.com" } }), "EOPNOTSUPP");
	assert.equal(classifyConnectFailure(Errno.EOPNOTSUPP), ConnectResult.ERR_CERT);
	assert.equal(await outcome({ host: "127.0.0.1", port, tls: { ca: pki.read("ca.pem"), ...client, servername: "localhost" } }), "connected");
});

test("TLS: a client certificate the server refuses with an alert is ECONNREFUSED (ERR_CERT_MISC)", async () => {
	const result = await outcome({ host: "127.0.0.1", port, tls: { ca: pki.read("ca.pem"), cert: pki.read("rogue.pem"), key: pki.read("rogue.key"), servername: "localhost" } });
	assert.equal(result, "ECONNREFUSED");
});

test("TCP: a refused port and a name that does not resolve", async () => {
	assert.equal(await outcome({ host: "127.0.0.1", port: await freePort() }), "ECONNREFUSED");
	assert.equal(await outcome({ host: "no-such-host.invalid", port: 1 }), "EHOSTUNREACH");
});

test("Node's codes map to the device's errno", () => {
	const errnoOf = (code: string | undefined) => {
		const error = new Error("x") as NodeJS.ErrnoException;
		if (code !== undefined) error.code = code;
		return errnoName(socketError(error).errno);
	};
	assert.equal(errnoOf("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "EOPNOTSUPP");
	assert.equal(errnoOf("DEPTH_ZERO_SELF_SIGNED_CERT"), "EOPNOTSUPP");
	assert.equal(errnoOf("CERT_HAS_EXPIRED"), "EOPNOTSUPP");
	assert.equal(errnoOf("ERR_TLS_CERT_ALTNAME_INVALID"), "EOPNOTSUPP");
	// An alert about our own certificate is the server refusing the handshake, not a verification of its certificate.
	assert.equal(errnoOf("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE"), "ECONNREFUSED");
	assert.equal(errnoOf("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"), "ECONNREFUSED");
	assert.equal(errnoOf("ENOTFOUND"), "EHOSTUNREACH");
	assert.equal(errnoOf("ECONNRESET"), "ECONNRESET");
	assert.equal(errnoOf("EPIPE"), "EPIPE");
	// A reset before the connection is up: the server ended the handshake.
	const reset = new Error("x") as NodeJS.ErrnoException;
	reset.code = "ECONNRESET";
	assert.equal(errnoName(socketError(reset, false).errno), "ECONNREFUSED");
	assert.equal(errnoOf("ETIMEDOUT"), "ETIMEDOUT");
	assert.equal(errnoOf("ESOMETHINGELSE"), "EIO");
	assert.equal(errnoOf(undefined), "EIO");
});

test("TCP: received bytes are held up to readLimit (plus one chunk of Node's); the peer's close comes after the last read", async () => {
	const size = 300_000;
	const readLimit = 16384;
	const sender = net.createServer((socket) => socket.end(Buffer.alloc(size, 0x61)));
	await new Promise<void>((resolve) => sender.listen(0, "127.0.0.1", resolve));
	try {
		let largest = 0;
		let total = 0;
		let closedAt = -1;
		let socket!: ReturnType<ReturnType<typeof nodeSocket>>;
		let reading = false;
		const readSlowly = (): void => {
			// A thousand bytes per turn of the event loop, as an owner that stopped and started again.
			const data = socket.read(1000);
			if (data !== undefined) total += data.byteLength;
			setImmediate(() => { if (closedAt < 0) readSlowly(); });
		};
		await new Promise<void>((resolve, reject) => {
			socket = nodeSocket({ host: "127.0.0.1", port: (sender.address() as net.AddressInfo).port, readLimit })({
				onReadable(count) {
					largest = Math.max(largest, count);
					if (!reading && count >= readLimit) {
						reading = true;
						readSlowly();
					}
				},
				onWritable() {},
				onError(error) {
					if (error !== undefined) reject(error);
					closedAt = total;
					resolve();
				},
			});
		});
		assert.equal(closedAt, size, "the close was reported once every byte was read");
		assert.ok(largest <= readLimit + 65536, `at most ${largest} bytes held`);
	}
	finally {
		await new Promise<void>((resolve) => sender.close(() => resolve()));
	}
});
