/*
 * The download client on hand-driven sockets and a virtual clock: the
 * requests it sends, fragments in order from one buffer, resume, 200 answers,
 * every malformed response, splits at every byte, reconnects with exponential
 * back-off and the bound on attempts without progress.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Download, DownloadError, type DownloadOptions } from "../modules/http/download.js";
import { Errno } from "../modules/platform/errno.js";
import { SocketError } from "../modules/platform/socket.js";
import { fakeStreams, type FakeStream } from "./support/fake-stream.js";
import { VirtualClock } from "./support/virtual-clock.js";

const IMAGE = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xFF);
const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

interface Run {
	download: Download;
	clock: VirtualClock;
	sockets: FakeStream[];
	last(): FakeStream;
	fragments: Array<{ offset: number; bytes: Uint8Array; buffer: ArrayBufferLike }>;
	done: number[];
	errors: DownloadError[];
	received(): Uint8Array;
}

function start(options: Partial<DownloadOptions> = {}): Run {
	const clock = new VirtualClock();
	const { factory, sockets, last } = fakeStreams();
	const fragments: Run["fragments"] = [];
	const done: number[] = [];
	const errors: DownloadError[] = [];
	const download = new Download({
		connect: factory, host: "fw.example.com", path: "v1/firmwares/app.bin", clock,
		onFragment: (bytes, offset) => fragments.push({ offset, bytes: bytes.slice(), buffer: bytes.buffer }),
		onDone: (size) => done.push(size),
		onError: (error) => errors.push(error),
		...options,
	});
	const received = () => Buffer.concat(fragments.map((f) => f.bytes));
	return { download, clock, sockets, last, fragments, done, errors, received };
}

/** The ranges of the GET requests a socket carried. */
function ranges(socket: FakeStream): Array<[number, number]> {
	return [...socket.text.matchAll(/Range: bytes=(\d+)-(\d+)\r\n/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** The 206 answer a server gives to the socket's last request. */
function partial(socket: FakeStream, image = IMAGE, extra = ""): string {
	const [first, askedLast] = ranges(socket).at(-1)!;
	const last = Math.min(askedLast, image.length - 1);
	return `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${first}-${last}/${image.length}\r\nContent-Length: ${last - first + 1}\r\n${extra}\r\n${latin1(image.subarray(first, last + 1))}`;
}

const answered = new WeakMap<FakeStream, number>();

/** Answers requests on the current socket until the download ends or `limit` answers were given. */
function serve(run: Run, limit = Infinity): void {
	for (let count = 0; count < limit && run.done.length === 0 && run.errors.length === 0; count++) {
		const socket = run.last();
		const given = answered.get(socket) ?? 0;
		if (ranges(socket).length <= given) return;
		answered.set(socket, given + 1);
		socket.receive(partial(socket));
	}
}

test("a whole image in 1700-byte ranges over one kept-alive connection, from one reused buffer", () => {
	const run = start({ size: IMAGE.length });
	assert.equal(run.sockets.length, 1);
	assert.equal(run.last().text, "", "nothing is written before the connection is up");
	run.last().open();
	assert.equal(run.last().text, "GET /v1/firmwares/app.bin HTTP/1.1\r\nHost: fw.example.com\r\nRange: bytes=0-1699\r\nConnection: keep-alive\r\n\r\n");
	serve(run);
	assert.deepEqual(run.done, [5000]);
	assert.deepEqual(ranges(run.last()), [[0, 1699], [1700, 3399], [3400, 4999]]);
	assert.deepEqual(run.fragments.map((f) => [f.offset, f.bytes.length]), [[0, 1700], [1700, 1700], [3400, 1600]]);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
	assert.ok(run.fragments.every((f) => f.buffer === run.fragments[0]!.buffer), "every fragment comes from the same buffer");
	assert.equal(run.fragments[0]!.buffer.byteLength, 1700);
	assert.deepEqual(run.download.stats, { requests: 3, connections: 1, bodyBytes: 5000 });
	assert.equal(run.download.offset, 5000);
	assert.equal(run.download.size, 5000);
	assert.ok(run.last().closed, "the connection is closed when done");
	assert.equal(run.clock.pending, 0, "no timer is left");
	assert.deepEqual(run.errors, []);
});

test("never more than one fragment is read at a time: every read asks for at most the fragment's rest or the head's room", () => {
	const run = start({ fragmentSize: 100, size: IMAGE.length, headLimit: 512 });
	run.last().open();
	serve(run);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
	const counts = run.last().readCounts;
	assert.ok(counts.every((c) => c !== undefined && c >= 1 && c <= 512), `read counts ${[...new Set(counts)].join(",")}`);
	assert.equal(run.download.stats.requests, 50);
});

test("without an expected size the first answer gives it; a leading slash is kept; the size getter follows", () => {
	const run = start({ path: "/a/b.bin", fragmentSize: 4096 });
	assert.equal(run.download.size, undefined);
	run.last().open();
	assert.match(run.last().text, /^GET \/a\/b\.bin HTTP\/1\.1\r\n/);
	serve(run, 1);
	assert.equal(run.download.size, 5000);
	serve(run);
	assert.deepEqual(ranges(run.last()), [[0, 4095], [4096, 4999]], "the second range ends at the size the first answer gave");
	assert.deepEqual(run.done, [5000]);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
});

test("resume: the first range starts at the offset; offset equal to the size is done without a connection", () => {
	const run = start({ offset: 3000, size: IMAGE.length });
	run.last().open();
	serve(run);
	assert.deepEqual(ranges(run.last()), [[3000, 4699], [4700, 4999]]);
	assert.equal(run.fragments[0]!.offset, 3000);
	assert.deepEqual(run.received(), Buffer.from(IMAGE.subarray(3000)));
	const finished = start({ offset: 5000, size: 5000 });
	assert.equal(finished.sockets.length, 0);
	assert.deepEqual(finished.done, [], "not inside the constructor");
	finished.clock.advance(0);
	assert.deepEqual(finished.done, [5000]);
});

test("resume without a size past the last byte: a 416 whose total is the offset means done", () => {
	const run = start({ offset: 5000 });
	run.last().open();
	run.last().receive("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */5000\r\nContent-Length: 0\r\n\r\n");
	assert.deepEqual(run.done, [5000]);
	const other = start({ offset: 4000 });
	other.last().open();
	other.last().receive("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */3000\r\n\r\n");
	assert.equal(other.errors[0]?.reason, "http");
	assert.equal(other.errors[0]?.status, 416);
});

test("a 200 with the whole body is read fragment by fragment; on a resume the bytes before the offset are skipped", () => {
	for (const offset of [0, 2500]) {
		const run = start({ offset, fragmentSize: 1000 });
		run.last().open();
		run.last().receive(`HTTP/1.1 200 OK\r\nContent-Length: ${IMAGE.length}\r\n\r\n`);
		for (let at = 0; at < IMAGE.length; at += 777) run.last().receive(IMAGE.subarray(at, at + 777));
		assert.deepEqual(run.done, [5000], `offset ${offset}`);
		assert.deepEqual(run.fragments.map((f) => f.offset), offset === 0 ? [0, 1000, 2000, 3000, 4000] : [2500, 3500, 4500]);
		assert.deepEqual(run.received(), Buffer.from(IMAGE.subarray(offset)));
		assert.equal(run.download.stats.bodyBytes, 5000);
		assert.equal(run.download.stats.requests, 1);
	}
});

test("every response split at every byte boundary gives the same image", () => {
	const image = IMAGE.subarray(0, 60);
	for (let split = 0; split < 200; split++) {
		const run = start({ fragmentSize: 25, size: image.length });
		run.last().open();
		for (let answered = 0; run.done.length === 0 && run.errors.length === 0 && answered < 10; answered++) {
			const response = partial(run.last(), image, "X-Padding: abcdefghijklmnopqrstuvwxyz\r\n");
			const at = Math.min(split, response.length);
			if (at > 0) run.last().receive(response.slice(0, at));
			if (at < response.length) run.last().receive(response.slice(at));
		}
		assert.deepEqual(run.errors, [], `split ${split}`);
		assert.deepEqual(run.done, [60], `split ${split}`);
		assert.deepEqual(run.received(), Buffer.from(image), `split ${split}`);
	}
	// And byte by byte.
	const run = start({ fragmentSize: 25, size: image.length });
	run.last().open();
	while (run.done.length === 0 && run.errors.length === 0) for (const c of partial(run.last(), image)) run.last().receive(c);
	assert.deepEqual(run.received(), Buffer.from(image));
});

test("a request larger than the writable count goes out in pieces as the socket allows", () => {
	const run = start({ size: IMAGE.length });
	run.last().open(10);
	assert.equal(run.last().text.length, 10);
	run.last().open(30);
	assert.equal(run.last().text.length, 40);
	run.last().open(1000);
	assert.match(run.last().text, /\r\n\r\n$/);
	run.last().receive(partial(run.last()));
	assert.equal(run.fragments.length, 1);
});

function malformed(name: string, response: string | ((socket: FakeStream) => string), check: { reason: string; message?: RegExp; status?: number; offset?: number }, options: Partial<DownloadOptions> = { size: IMAGE.length }): void {
	test(`malformed or refused answer: ${name}`, () => {
		const run = start(options);
		run.last().open();
		run.last().receive(typeof response === "string" ? response : response(run.last()));
		assert.equal(run.errors.length, 1, `one error, got ${run.errors.length}; done ${run.done.join(",")}`);
		const [error] = run.errors;
		assert.ok(error instanceof DownloadError);
		assert.equal(error.reason, check.reason, error.message);
		if (check.message) assert.match(error.message, check.message);
		assert.equal(error.status, check.status);
		assert.equal(error.offset, check.offset ?? 0);
		assert.equal(run.fragments.length, check.offset === undefined ? 0 : 1);
		assert.ok(run.last().closed);
		assert.equal(run.sockets.length, 1, "a malformed answer is not retried");
		assert.equal(run.clock.pending, 0);
	});
}

const body = latin1(IMAGE.subarray(0, 1700));
malformed("bad status line", "HTTP/1.1 OK 206\r\n\r\n", { reason: "protocol", message: /bad status line/ });
malformed("garbage instead of HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", { reason: "protocol", message: /bad status line/ });
malformed("oversized head", `HTTP/1.1 206 Partial Content\r\nX-Big: ${"z".repeat(3000)}\r\n\r\n`, { reason: "protocol", message: /head longer than 2048/ });
malformed("206 without Content-Range", `HTTP/1.1 206 Partial Content\r\nContent-Length: 1700\r\n\r\n${body}`, { reason: "protocol", message: /without Content-Range/ });
malformed("malformed Content-Range", `HTTP/1.1 206 Partial Content\r\nContent-Range: 0-1699/5000\r\n\r\n${body}`, { reason: "protocol", message: /malformed Content-Range/ });
malformed("Content-Range with an unknown total", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1699/*\r\n\r\n${body}`, { reason: "protocol", message: /without the total/ });
malformed("Content-Range at another offset", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-1799/5000\r\n\r\n${body}`, { reason: "protocol", message: /does not start at the requested byte 0/ });
malformed("Content-Range past the requested range", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1700/5000\r\n\r\n${body}x`, { reason: "protocol", message: /past the requested byte 1699/ });
malformed("Content-Length contradicting Content-Range", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1699/5000\r\nContent-Length: 1600\r\n\r\n${body}`, { reason: "protocol", message: /Content-Length 1600 differs/ });
malformed("two different Content-Lengths", `HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nContent-Length: 4000\r\n\r\n`, { reason: "protocol", message: /contradicting Content-Length/ });
malformed("more bytes than the response holds", (s) => partial(s) + "EXTRA", { reason: "protocol", message: /5 bytes after the end of the response/, offset: 1700 });
malformed("a chunked body", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1699/5000\r\nTransfer-Encoding: chunked\r\n\r\n6a4\r\n`, { reason: "protocol", message: /Transfer-Encoding "chunked" is not supported/ });
malformed("200 without Content-Length", "HTTP/1.1 200 OK\r\n\r\n", { reason: "protocol", message: /200 response without Content-Length/ });
malformed("a total other than the expected size", `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1699/6000\r\n\r\n${body}`, { reason: "size", message: /6000 bytes, 5000 were expected/ });
malformed("a 200 of another size", "HTTP/1.1 200 OK\r\nContent-Length: 4999\r\n\r\n", { reason: "size", message: /4999 bytes, 5000 were expected/ });
malformed("404", "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n", { reason: "http", status: 404, message: /HTTP 404 Not Found for \/v1\/firmwares\/app\.bin/ });
malformed("a 404 with a chunked body", "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\na\r\nnot found\n\r\n0\r\n\r\n", { reason: "http", status: 404 });
malformed("403", "HTTP/1.1 403 Forbidden\r\n\r\n", { reason: "http", status: 403 });
malformed("500", "HTTP/1.1 500 Internal Server Error\r\n\r\n", { reason: "http", status: 500 });
malformed("a redirect", "HTTP/1.1 302 Found\r\nLocation: https://elsewhere/\r\n\r\n", { reason: "http", status: 302 });
malformed("204", "HTTP/1.1 204 No Content\r\n\r\n", { reason: "http", status: 204 });
malformed("a 416 not at the end", "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */5000\r\n\r\n", { reason: "http", status: 416 });

test("a total that changes between fragments is a size error", () => {
	const run = start();
	run.last().open();
	run.last().receive(partial(run.last()));
	run.last().receive(partial(run.last(), Uint8Array.from({ length: 6000 })));
	assert.equal(run.errors[0]?.reason, "size");
	assert.equal(run.errors[0]?.offset, 1700);
});

test("an interim 100 response is skipped", () => {
	const run = start({ size: IMAGE.length });
	run.last().open();
	run.last().receive("HTTP/1.1 100 Continue\r\n\r\n");
	serve(run);
	assert.deepEqual(run.done, [5000]);
});

test("a link lost mid-body: reconnect after the back-off, resume at the first byte not delivered", () => {
	const run = start({ size: IMAGE.length });
	run.last().open();
	serve(run, 1);
	const response = partial(run.last());
	run.last().receive(response.slice(0, response.length - 500));
	run.last().fail(new SocketError(Errno.ECONNRESET, "connection reset"));
	assert.ok(run.sockets[0]!.closed);
	assert.equal(run.sockets.length, 1, "no reconnect before the back-off");
	run.clock.advance(499);
	assert.equal(run.sockets.length, 1);
	run.clock.advance(1);
	assert.equal(run.sockets.length, 2, "reconnected after minMs");
	run.last().open();
	assert.deepEqual(ranges(run.last()), [[1700, 3399]], "the partial fragment is fetched again");
	serve(run);
	assert.deepEqual(run.done, [5000]);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
	assert.deepEqual(run.download.stats, { requests: 4, connections: 2, bodyBytes: 5000 + 1200 });
});

test("the back-off doubles up to maxMs; the download gives up after `retries` attempts without progress, with the socket's errno", () => {
	const run = start({ size: IMAGE.length, retries: 6, backoff: { minMs: 100, maxMs: 1000 } });
	const waits: number[] = [];
	run.last().fail(new SocketError(Errno.ECONNREFUSED, "refused"));
	for (let attempt = 0; attempt < 6; attempt++) {
		const before = run.clock.now();
		const count = run.sockets.length;
		while (run.sockets.length === count) run.clock.advance(1);
		waits.push(run.clock.now() - before);
		run.last().fail(new SocketError(Errno.ECONNREFUSED, "refused"));
	}
	assert.deepEqual(waits, [100, 200, 400, 800, 1000, 1000]);
	assert.equal(run.sockets.length, 7, "the first connection and six reconnects");
	assert.equal(run.errors.length, 1);
	const [error] = run.errors;
	assert.equal(error!.reason, "connect");
	assert.equal(error!.errno, Errno.ECONNREFUSED);
	assert.match(error!.message, /7 attempts without progress/);
	assert.equal(run.clock.pending, 0);
	run.clock.advance(100000);
	assert.equal(run.sockets.length, 7);
});

test("progress resets the attempts: a link that drops after every fragment still finishes", () => {
	const run = start({ size: IMAGE.length, retries: 1, backoff: { minMs: 10, maxMs: 10 } });
	for (let i = 0; i < 3; i++) {
		run.last().open();
		serve(run, 1);
		if (run.done.length > 0) break;
		run.last().fail(new SocketError(Errno.ECONNRESET, "reset"));
		run.clock.advance(10);
	}
	assert.deepEqual(run.errors, []);
	assert.deepEqual(run.done, [5000]);
	assert.equal(run.download.stats.connections, 3);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
});

test("a link lost after connecting gives reason link; a closed connection mid-body says so", () => {
	const run = start({ size: IMAGE.length, retries: 0 });
	run.last().open();
	run.last().receive(partial(run.last()).slice(0, 300));
	run.last().fail();
	assert.equal(run.errors[0]?.reason, "link");
	assert.equal(run.errors[0]?.errno, undefined);
	assert.match(run.errors[0]!.message, /lost inside the body, \d+ of its bytes missing: closed by the server/);
});

test("Connection: close, or an idle kept-alive connection closed by the server, reconnects at once without counting an attempt", () => {
	const run = start({ size: IMAGE.length, retries: 0 });
	run.last().open();
	run.last().receive(partial(run.last(), IMAGE, "Connection: close\r\n"));
	assert.equal(run.sockets.length, 2, "a new connection at once");
	assert.ok(run.sockets[0]!.closed);
	run.last().open();
	serve(run, 1);
	run.last().fail();
	assert.equal(run.sockets.length, 3, "the server's idle close: a new connection at once");
	run.last().open();
	serve(run);
	assert.deepEqual(run.done, [5000]);
	assert.deepEqual(run.received(), Buffer.from(IMAGE));
});

test("a stalled connection times out (ETIMEDOUT) and is reconnected", () => {
	const run = start({ size: IMAGE.length, timeoutMs: 5000, retries: 1 });
	run.last().open();
	run.last().receive(partial(run.last()).slice(0, 100));
	run.clock.advance(4999);
	assert.equal(run.sockets.length, 1);
	run.clock.advance(1);
	assert.ok(run.sockets[0]!.closed);
	run.clock.advance(500);
	assert.equal(run.sockets.length, 2);
	run.clock.advance(5000 + 1000);
	assert.equal(run.errors[0]?.reason, "connect", "the second connection never came up");
	assert.equal(run.errors[0]?.errno, Errno.ETIMEDOUT);
});

test("a factory that throws is a connect failure, reported after the constructor returns", () => {
	let calls = 0;
	const errors: DownloadError[] = [];
	const clock = new VirtualClock();
	const download = new Download({
		connect: () => { calls++; throw new SocketError(Errno.EHOSTUNREACH, "no such host"); },
		host: "fw.example.com", path: "a.bin", retries: 0, clock,
		onFragment() {}, onDone() {}, onError: (e) => errors.push(e),
	});
	assert.equal(calls, 1);
	assert.equal(errors.length, 0);
	clock.advance(0);
	assert.equal(errors[0]?.reason, "connect");
	assert.equal(errors[0]?.errno, Errno.EHOSTUNREACH);
	assert.equal(download.stats.connections, 0);
	// close() before the deferred report cancels it.
	const late: DownloadError[] = [];
	const closed = new Download({ connect: () => { throw new Error("x"); }, host: "h", path: "p", retries: 0, clock, onFragment() {}, onDone() {}, onError: (e) => late.push(e) });
	closed.close();
	clock.advance(10);
	assert.deepEqual(late, []);
});

test("a consumer that throws aborts with reason consumer and the error as cause", () => {
	const failure = new Error("flash write failed");
	const run = start({ size: IMAGE.length, onFragment: (_b, offset) => { if (offset === 1700) throw failure; } });
	run.last().open();
	serve(run);
	assert.equal(run.errors[0]?.reason, "consumer");
	assert.equal((run.errors[0] as Error & { cause?: unknown }).cause, failure);
	assert.equal(run.errors[0]?.offset, 1700);
	assert.ok(run.last().closed);
	assert.equal(run.download.offset, 1700);
});

test("close() is idempotent and nothing is called after it, also from inside onFragment and during the back-off", () => {
	const run = start({ size: IMAGE.length });
	run.last().open();
	serve(run, 1);
	run.download.close();
	run.download.close();
	assert.ok(run.last().closed);
	run.last().receive(partial(run.last()));
	assert.equal(run.fragments.length, 1);
	const waiting = start({ size: IMAGE.length });
	waiting.last().fail(new SocketError(Errno.ECONNREFUSED, "refused"));
	assert.equal(waiting.clock.pending, 1);
	waiting.download.close();
	assert.equal(waiting.clock.pending, 0);
	let download: Download | undefined;
	const inside = start({ size: IMAGE.length, onFragment: () => download!.close() });
	download = inside.download;
	inside.last().open();
	serve(inside);
	assert.deepEqual([inside.done, inside.errors], [[], []]);
	assert.equal(inside.download.stats.requests, 1);
});

test("bad options throw synchronously", () => {
	const good: DownloadOptions = { connect: fakeStreams().factory, host: "h", path: "p", onFragment() {}, onDone() {}, onError() {} };
	const bad: Array<[Partial<Record<keyof DownloadOptions, unknown>> | null, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor]> = [
		[null, TypeError],
		[{ connect: undefined }, TypeError],
		[{ host: "" }, TypeError], [{ host: "https://h" }, TypeError], [{ host: "a b" }, TypeError], [{ host: 5 }, TypeError],
		[{ path: "" }, TypeError], [{ path: "a b" }, TypeError], [{ path: "a\r\nX: 1" }, TypeError], [{ path: "é" }, TypeError],
		[{ fragmentSize: 0 }, RangeError], [{ fragmentSize: 1.5 }, RangeError], [{ fragmentSize: 70000 }, RangeError], [{ fragmentSize: "1700" }, TypeError],
		[{ offset: -1 }, RangeError], [{ size: -1 }, RangeError], [{ offset: 10, size: 9 }, RangeError],
		[{ retries: -1 }, RangeError], [{ backoff: { minMs: 10, maxMs: 5 } }, RangeError], [{ backoff: 5 }, TypeError],
		[{ timeoutMs: 0 }, RangeError], [{ headLimit: 8 }, RangeError], [{ clock: {} }, TypeError],
		[{ onFragment: undefined }, TypeError], [{ onDone: 1 }, TypeError], [{ onError: undefined }, TypeError],
	];
	for (const [change, type] of bad) {
		const options = change === null ? null : { ...good, ...change };
		assert.throws(() => new Download(options as DownloadOptions), type, JSON.stringify(change));
	}
});
