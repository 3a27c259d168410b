/*
 * The HTTP/1.1 response-head parser: heads split at every byte, the body's
 * start, every kind of malformed head, and the field parsers the download
 * client relies on (Content-Range, Content-Length, Connection).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { contentLength, keepsAlive, parseContentRange, ResponseError, ResponseHeadParser, unsatisfiedRangeTotal, type ResponseHead } from "../modules/http/response.js";

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

const HEAD = "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-4/10\r\ncontent-length: 5\r\nX-Twice: a\r\nx-twice:  b \r\n\r\n";
const BODY = "hello";

function parseWhole(text: string, limit?: number): { head: ResponseHead; end: number } {
	const parser = new ResponseHeadParser(limit);
	const bytes = latin1(text);
	const end = parser.push(bytes);
	assert.ok(end >= 0, "the head is complete");
	return { head: parser.head!, end };
}

test("a 206 head: status, reason, fields in lower case, repeated ones joined; the body starts after the blank line", () => {
	const { head, end } = parseWhole(HEAD + BODY);
	assert.equal(head.status, 206);
	assert.equal(head.reason, "Partial Content");
	assert.equal(head.minorVersion, 1);
	assert.equal(head.headers.get("content-range"), "bytes 0-4/10");
	assert.equal(head.headers.get("content-length"), "5");
	assert.equal(head.headers.get("x-twice"), "a, b");
	assert.equal(end, HEAD.length);
});

test("a head split at every byte boundary parses the same, and says where the body starts", () => {
	const whole = latin1(HEAD + BODY);
	for (let split = 0; split <= whole.length; split++) {
		const parser = new ResponseHeadParser();
		const first = parser.push(whole.subarray(0, split));
		if (split < HEAD.length) {
			assert.equal(first, -1, `split ${split}: not complete yet`);
			assert.equal(parser.pending, split);
			assert.equal(parser.push(whole.subarray(split)), HEAD.length - split, `split ${split}`);
		}
		else assert.equal(first, HEAD.length, `split ${split}`);
		assert.equal(parser.head!.headers.get("content-range"), "bytes 0-4/10");
	}
	// Byte by byte, with a start index.
	const parser = new ResponseHeadParser();
	let end = -1;
	for (let i = 0; i < whole.length && end < 0; i++) end = parser.push(whole.subarray(i, i + 1)) < 0 ? -1 : i + 1;
	assert.equal(end, HEAD.length);
});

test("bare LF line ends, an empty reason and HTTP/1.0 are accepted", () => {
	assert.equal(parseWhole("HTTP/1.1 200 OK\nContent-Length: 0\n\n").head.headers.get("content-length"), "0");
	assert.equal(parseWhole("HTTP/1.1 204 \r\n\r\n").head.reason, "");
	assert.equal(parseWhole("HTTP/1.1 204\r\n\r\n").head.status, 204);
	assert.equal(parseWhole("HTTP/1.0 200 OK\r\n\r\n").head.minorVersion, 0);
});

test("reset() reads the next response; push() after a complete head without reset() is an error", () => {
	const parser = new ResponseHeadParser();
	assert.ok(parser.push(latin1("HTTP/1.1 200 OK\r\n\r\n")) > 0);
	assert.throws(() => parser.push(latin1("H")), ResponseError);
	parser.reset();
	assert.equal(parser.head, undefined);
	assert.ok(parser.push(latin1("HTTP/1.1 404 Not Found\r\n\r\n")) > 0);
	assert.equal(parser.head!.status, 404);
});

const MALFORMED: Array<[string, string, RegExp]> = [
	["not HTTP", "ICY 200 OK\r\n\r\n", /bad status line/],
	["HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n", /bad status line/],
	["HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", /bad status line/],
	["two-digit status", "HTTP/1.1 20 OK\r\n\r\n", /bad status line/],
	["four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", /bad status line/],
	["letters in the status", "HTTP/1.1 2o6 Partial\r\n\r\n", /bad status line/],
	["lower-case protocol", "http/1.1 200 OK\r\n\r\n", /bad status line/],
	["control character in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", /reason phrase/],
	["empty first line", "\r\nHTTP/1.1 200 OK\r\n\r\n", /empty line/],
	["field without a colon", "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n", /white space before the colon|without a colon/],
	["field name without colon at all", "HTTP/1.1 200 OK\r\nGarbage\r\n\r\n", /without a colon/],
	["space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", /white space before the colon/],
	["obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n", /line folding/],
	["empty field name", "HTTP/1.1 200 OK\r\n: 5\r\n\r\n", /empty name/],
	["bad character in a name", "HTTP/1.1 200 OK\r\nCon(tent: 5\r\n\r\n", /bad character 0x28/],
	["control character in a value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", /control character 0x0/],
	["bare CR", "HTTP/1.1 200 OK\rX-A: 1\r\n\r\n", /bare CR/],
];

for (const [name, text, message] of MALFORMED) {
	test(`malformed head: ${name}`, () => {
		const parser = new ResponseHeadParser();
		assert.throws(() => parser.push(latin1(text)), (error: unknown) => error instanceof ResponseError && message.test(error.message), text);
	});
}

test("a head longer than the limit is refused at the first byte past it, and the parser never holds more", () => {
	const parser = new ResponseHeadParser(64);
	const text = latin1(`HTTP/1.1 200 OK\r\nX-Long: ${"a".repeat(100)}\r\n\r\n`);
	let fed = 0;
	assert.throws(() => {
		for (; fed < text.length; fed++) parser.push(text.subarray(fed, fed + 1));
	}, /response head longer than 64 bytes/);
	assert.equal(fed, 64);
	assert.equal(parser.pending, 64);
	assert.equal(parser.room, 0);
	// A head of exactly the limit fits.
	const exact = `HTTP/1.1 200 OK\r\nX: ${"b".repeat(64 - 24)}\r\n\r\n`;
	assert.equal(exact.length, 64);
	assert.equal(new ResponseHeadParser(64).push(latin1(exact)), 64);
	assert.throws(() => new ResponseHeadParser(8), RangeError);
	assert.throws(() => new ResponseHeadParser(1.5), RangeError);
});

test("Content-Range: bytes first-last/total, or a clear error", () => {
	assert.deepEqual(parseContentRange("bytes 0-1699/1048576"), { first: 0, last: 1699, total: 1048576 });
	assert.deepEqual(parseContentRange(" bytes 5-5/6 "), { first: 5, last: 5, total: 6 });
	for (const [value, message] of [
		["bytes 0-1699", /malformed/], ["0-1699/2000", /malformed/], ["bytes=0-1699/2000", /malformed/], ["bytes -5/10", /malformed/],
		["bytes 0-1699/*", /without the total/], ["bytes 10-5/20", /contradicts/], ["bytes 0-20/20", /contradicts/], ["bytes 0x1-2/3", /malformed/],
	] as const) assert.throws(() => parseContentRange(value), (e: unknown) => e instanceof ResponseError && message.test(e.message), value);
	assert.equal(unsatisfiedRangeTotal("bytes */1000"), 1000);
	assert.equal(unsatisfiedRangeTotal("bytes 0-1/1000"), undefined);
	assert.equal(unsatisfiedRangeTotal(undefined), undefined);
});

test("Content-Length: digits; repeated equal values are one, different ones an error", () => {
	const head = (value: string | undefined, extra = ""): ResponseHead => parseWhole(`HTTP/1.1 200 OK\r\n${value === undefined ? "" : `Content-Length: ${value}\r\n`}${extra}\r\n`).head;
	assert.equal(contentLength(head("1700")), 1700);
	assert.equal(contentLength(head(undefined)), undefined);
	assert.equal(contentLength(head("12", "Content-Length: 12\r\n")), 12);
	assert.throws(() => contentLength(head("12", "Content-Length: 13\r\n")), /contradicting Content-Length/);
	assert.throws(() => contentLength(head("-1")), /malformed Content-Length/);
	assert.throws(() => contentLength(head("1e3")), /malformed Content-Length/);
});

test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive", () => {
	assert.equal(keepsAlive(parseWhole("HTTP/1.1 200 OK\r\n\r\n").head), true);
	assert.equal(keepsAlive(parseWhole("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n").head), false);
	assert.equal(keepsAlive(parseWhole("HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\n\r\n").head), false);
	assert.equal(keepsAlive(parseWhole("HTTP/1.0 200 OK\r\n\r\n").head), false);
	assert.equal(keepsAlive(parseWhole("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").head), true);
});
