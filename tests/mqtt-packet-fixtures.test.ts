/*
 * mqtt-packet's own MQTT 3.1 / 3.1.1 fixtures (from its test.js) run against our
 * codec: every packet it parses we parse to the same packet, every packet it
 * generates we generate to the same bytes, and every frame it rejects we reject
 * with a typed error. MQTT 5 fixtures are out of scope.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { MqttEncoder } from "../modules/mqtt/encoder.js";
import { MqttError } from "../modules/mqtt/errors.js";
import { decodeAll, toHex } from "./support/decode.js";
import { comparable, fromMqttPacket } from "./support/mqtt-packet-bridge.js";
import { loadMqttPacketFixtures, type Fixture } from "./support/mqtt-packet-fixtures.js";

type Obj = Record<string, unknown>;

function isMqtt5(object: unknown, opts: unknown): boolean {
	const o = (object ?? {}) as Obj;
	const version = (opts as Obj | undefined)?.protocolVersion ?? o.protocolVersion;
	// bridgeMode sets bit 7 of the protocol level, a Mosquitto extension outside MQTT 3.1.1
	return version === 5 || o.bridgeMode === true || o.cmd === "auth" || o.properties !== undefined;
}

const fixtures = loadMqttPacketFixtures();
const encoder = new MqttEncoder();

function bytes(value: unknown): Uint8Array {
	return new Uint8Array(value as Buffer);
}

interface Case { name: string; object: Obj; buffer: Uint8Array; parse: boolean; generate: boolean }

function cases(): Case[] {
	const out: Case[] = [];
	for (const { helper, args } of fixtures) {
		switch (helper) {
			case "testParseGenerate":
			case "testParseAndGenerate":
				if (!isMqtt5(args[1], args[3])) out.push({ name: args[0] as string, object: args[1] as Obj, buffer: bytes(args[2]), parse: true, generate: true });
				break;
			case "testParseOnly":
				if (!isMqtt5(args[1], args[3])) out.push({ name: args[0] as string, object: args[1] as Obj, buffer: bytes(args[2]), parse: true, generate: false });
				break;
			case "testGenerateOnly":
				if (!isMqtt5(args[1], args[3])) out.push({ name: args[0] as string, object: args[1] as Obj, buffer: bytes(args[2]), parse: false, generate: true });
				break;
			case "testParseGenerateDefaults":
				if (!isMqtt5(args[1], args[4])) {
					out.push({ name: `${args[0] as string} (parse)`, object: args[3] as Obj, buffer: bytes(args[2]), parse: true, generate: false });
					out.push({ name: `${args[0] as string} (generate)`, object: args[1] as Obj, buffer: bytes(args[2]), parse: false, generate: true });
				}
				break;
		}
	}
	return out;
}

function parseErrors(): Fixture[] {
	return fixtures.filter((f) => f.helper === "testParseError" && !isMqtt5(undefined, f.args[2]));
}

test("the fixture file yields MQTT 3.1.1 fixtures", () => {
	assert.ok(cases().length >= 35, `only ${cases().length} parse/generate fixtures found`);
	assert.ok(parseErrors().length >= 30, `only ${parseErrors().length} parse error fixtures found`);
});

for (const c of cases()) {
	test(`fixture: ${c.name}`, () => {
		// mqtt-packet's defaults: a missing protocol means MQTT 3.1.1, keepalive 0 and clean true when absent
		const object = { ...c.object };
		if (object.cmd === "connect") {
			object.protocolId ??= "MQTT";
			object.protocolVersion ??= 4;
			object.keepalive ??= 0;
			object.clean ??= true;
			if (typeof object.password === "string") object.password = Buffer.from(object.password);
			if (Buffer.isBuffer(object.clientId)) object.clientId = object.clientId.toString("utf8");
		}
		if (object.cmd === "publish" && typeof object.payload === "string") object.payload = Buffer.from(object.payload);
		if (object.cmd === "publish") { object.qos ??= 0; object.retain ??= false; object.dup ??= false; }
		if (object.cmd === "connack") object.sessionPresent ??= false;
		const expected = fromMqttPacket(object);
		if (c.parse) {
			const decoded = decodeAll(c.buffer);
			assert.equal(decoded.length, 1);
			assert.deepEqual(comparable(decoded[0]!), comparable(expected));
		}
		if (c.generate) {
			const encoded = encoder.encode(expected);
			if (c.buffer.length <= 65536) assert.equal(toHex(encoded), toHex(c.buffer));
			else assert.ok(Buffer.from(encoded).equals(Buffer.from(c.buffer)), "large frame differs");
		}
	});
}

for (const fixture of parseErrors()) {
	const [message, buffer] = fixture.args as [string, Buffer];
	test(`fixture rejects: ${message} (${buffer.toString("hex")})`, () => {
		assert.throws(() => decodeAll(bytes(buffer)), (error: unknown) => error instanceof MqttError);
	});
}
