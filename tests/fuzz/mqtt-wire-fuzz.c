/*
 * libFuzzer target for the C MQTT wire layer (native/mqtt/mqtt-wire.c).
 *
 * Each input is a byte stream as a peer could send it. The target decodes it
 * whole and again in chunks whose sizes come from the input itself, and both
 * must give the same packets and the same final outcome. Every decoded packet
 * is encoded again (mqttWireMeasure, mqttWireWrite) and the frame decoded
 * once more: it must give the same packet. The only packet the decoder takes
 * and the encoder refuses is a CONNECT with an empty client id and no clean
 * session, which MQTT lets a server receive (it answers with return code 2)
 * and forbids a client to send (MQTT-3.1.3-7).
 *
 * With MQTT_WIRE_FUZZ_OUT naming a file, every input run appends a JSON line
 * with the input, the decoded packets, the re-encoded frames and the outcome,
 * so that tests/mqtt-wire-fuzz.test.ts compares them with the TypeScript codec
 * (run the fuzzer with -runs=0 over a corpus directory for that).
 *
 * Built by tools/fuzz/mqtt-wire.ts with clang -fsanitize=fuzzer,address,undefined.
 */

#include "mqtt-wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames over this are refused, so PACKET_TOO_LARGE is reachable below libFuzzer's -max_len. */
#define FUZZ_MAX_PACKET 6000u

static FILE* gOut = NULL;

/* A growing text buffer: the canonical description of what a decode gave. */
typedef struct {
	char* text;
	size_t length;
	size_t capacity;
} Text;

static void append(Text* t, const char* format, ...) __attribute__((format(printf, 2, 3)));

static void append(Text* t, const char* format, ...)
{
	for (;;) {
		va_list arguments;
		va_start(arguments, format);
		size_t room = t->capacity - t->length;
		int written = vsnprintf(t->text ? t->text + t->length : NULL, room, format, arguments);
		va_end(arguments);
		if (written < 0)
			abort();
		if ((size_t)written < room) {
			t->length += (size_t)written;
			return;
		}
		size_t capacity = t->capacity ? t->capacity * 2 : 256;
		while (capacity - t->length <= (size_t)written)
			capacity *= 2;
		char* grown = realloc(t->text, capacity);
		if (!grown)
			abort();
		t->text = grown;
		t->capacity = capacity;
	}
}

static void appendHex(Text* t, const uint8_t* bytes, size_t length)
{
	append(t, "\"");
	for (size_t i = 0; i < length; i++)
		append(t, "%02x", bytes[i]);
	append(t, "\"");
}

static void field(Text* t, const char* name, MqttBytes bytes)
{
	append(t, ",\"%s\":", name);
	appendHex(t, bytes.bytes, bytes.length);
}

/* The packet as JSON with the field names of modules/mqtt/packet.ts; strings and bytes in hex. */
static void describe(Text* t, const MqttPacket* p)
{
	append(t, "{\"type\":%d", (int)p->type);
	switch (p->type) {
	case MQTT_CONNECT:
		field(t, "protocolName", p->protocolName);
		append(t, ",\"protocolLevel\":%d,\"keepalive\":%d,\"clean\":%s", (int)p->protocolLevel, (int)p->keepalive, p->clean ? "true" : "false");
		field(t, "clientId", p->clientId);
		if (p->hasWill) {
			append(t, ",\"will\":{\"qos\":%d,\"retain\":%s", (int)p->willQos, p->willRetain ? "true" : "false");
			field(t, "topic", p->willTopic);
			field(t, "payload", p->willPayload);
			append(t, "}");
		}
		if (p->hasUsername)
			field(t, "username", p->username);
		if (p->hasPassword)
			field(t, "password", p->password);
		break;
	case MQTT_CONNACK:
		append(t, ",\"sessionPresent\":%s,\"returnCode\":%d", p->sessionPresent ? "true" : "false", (int)p->returnCode);
		break;
	case MQTT_PUBLISH:
		append(t, ",\"qos\":%d,\"retain\":%s,\"dup\":%s,\"packetId\":%d", (int)p->qos, p->retain ? "true" : "false", p->dup ? "true" : "false", (int)p->packetId);
		field(t, "topic", p->topic);
		field(t, "payload", p->payload);
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		append(t, ",\"packetId\":%d,\"%s\":[", (int)p->packetId, p->type == MQTT_SUBSCRIBE ? "subscriptions" : "topics");
		for (uint32_t i = 0; i < p->count; i++) {
			if (i)
				append(t, ",");
			if (p->type == MQTT_SUBSCRIBE) {
				append(t, "{\"qos\":%d,\"topic\":", (int)p->list[i].value);
				appendHex(t, p->list[i].topic.bytes, p->list[i].topic.length);
				append(t, "}");
			}
			else
				appendHex(t, p->list[i].topic.bytes, p->list[i].topic.length);
		}
		append(t, "]");
		break;
	case MQTT_SUBACK:
		append(t, ",\"packetId\":%d,\"returnCodes\":[", (int)p->packetId);
		for (uint32_t i = 0; i < p->count; i++)
			append(t, "%s%d", i ? "," : "", (int)p->list[i].value);
		append(t, "]");
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		append(t, ",\"packetId\":%d", (int)p->packetId);
		break;
	default:
		break;
	}
	append(t, "}");
}

/* The one packet the decoder takes that the encoder must refuse (see the top of this file). */
static int encoderMayRefuse(const MqttPacket* p)
{
	return p->type == MQTT_CONNECT && p->clientId.length == 0 && !p->clean;
}

/* Decodes one frame that the encoder wrote; it must be exactly one packet described as `expected`. */
static void checkRedecode(const uint8_t* frame, uint32_t length, const char* expected, size_t expectedLength)
{
	MqttWireDecoder decoder;
	mqttWireDecoderInit(&decoder, MQTT_MAX_FRAME);
	uint32_t consumed = 0;
	int ready = 0;
	uint32_t at = 0;
	while (!ready && at < length) {
		if (mqttWireDecoderFeed(&decoder, frame + at, length - at, &consumed, &ready) != MQTT_WIRE_OK)
			abort();
		at += consumed;
	}
	if (!ready || at != length)
		abort();
	MqttPacket packet;
	if (mqttWireDecoderTake(&decoder, &packet) != MQTT_WIRE_OK)
		abort();
	Text again = { 0 };
	describe(&again, &packet);
	if (again.length != expectedLength || memcmp(again.text, expected, expectedLength)) {
		fprintf(stderr, "re-decoded packet differs:\n  %.*s\n  %.*s\n", (int)expectedLength, expected, (int)again.length, again.text);
		abort();
	}
	free(again.text);
	mqttWireDecoderFree(&decoder);
}

/*
 * Decodes `data` fed in chunks (`chunkSeed` 0: all at once) and describes the
 * result: the packets, the re-encoded frames (when `encoded` is given) and the
 * outcome (an MQTT error name, or the bytes still buffered).
 */
static void decodeStream(const uint8_t* data, size_t size, uint32_t chunkSeed, Text* packets, Text* encoded, Text* outcome)
{
	MqttWireDecoder decoder;
	mqttWireDecoderInit(&decoder, FUZZ_MAX_PACKET);
	size_t at = 0;
	uint32_t seed = chunkSeed;
	int count = 0;
	MqttWireStatus status = MQTT_WIRE_OK;
	while (at < size) {
		size_t chunk = size - at;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			size_t limit = 1 + ((seed >> 16) % 64);
			if (chunk > limit)
				chunk = limit;
		}
		uint32_t consumed = 0;
		int ready = 0;
		status = mqttWireDecoderFeed(&decoder, data + at, (uint32_t)chunk, &consumed, &ready);
		if (status)
			break;
		at += consumed;
		if (!ready)
			continue;
		MqttPacket packet;
		status = mqttWireDecoderTake(&decoder, &packet);
		if (status)
			break;
		append(packets, "%s", count++ ? "," : "");
		size_t described = packets->length;
		describe(packets, &packet);
		if (encoded) {
			append(encoded, "%s", count > 1 ? "," : "");
			uint32_t remaining = 0;
			MqttWireError error;
			MqttWireStatus measured = mqttWireMeasure(&packet, &remaining, &error);
			if (measured) {
				if (!encoderMayRefuse(&packet)) {
					fprintf(stderr, "a decoded packet does not encode: %s\n  %.*s\n", error.message, (int)(packets->length - described), packets->text + described);
					abort();
				}
				append(encoded, "{\"error\":\"%s\"}", mqttWireStatusName(measured));
			}
			else {
				uint32_t length = mqttWireFrameLength(remaining);
				uint8_t* frame = malloc(length);
				if (!frame)
					abort();
				if (mqttWireWrite(&packet, remaining, frame) != length)
					abort();
				checkRedecode(frame, length, packets->text + described, packets->length - described);
				append(encoded, "{\"frame\":");
				appendHex(encoded, frame, length);
				append(encoded, "}");
				free(frame);
			}
		}
		mqttWireDecoderRelease(&decoder);
	}
	if (status == MQTT_WIRE_NO_MEMORY)
		abort();
	if (status)
		append(outcome, "{\"error\":\"%s\"}", mqttWireStatusName(status));
	else
		append(outcome, "{\"buffered\":%u}", (unsigned)decoder.pendingLength);
	mqttWireDecoderFree(&decoder);
}

int LLVMFuzzerInitialize(int* argc, char*** argv)
{
	(void)argc;
	(void)argv;
	const char* path = getenv("MQTT_WIRE_FUZZ_OUT");
	if (path && *path) {
		gOut = fopen(path, "a");
		if (!gOut)
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	Text whole = { 0 }, encoded = { 0 }, outcome = { 0 };
	decodeStream(data, size, 0, &whole, &encoded, &outcome);

	uint32_t seed = 2166136261u;	/* FNV-1a of the input: a different split for every input */
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	Text split = { 0 }, splitOutcome = { 0 };
	decodeStream(data, size, seed | 1u, &split, NULL, &splitOutcome);
	if (split.length != whole.length || (whole.length && memcmp(split.text, whole.text, whole.length))
		|| splitOutcome.length != outcome.length || memcmp(splitOutcome.text, outcome.text, outcome.length)) {
		fprintf(stderr, "chunked decode differs:\n  [%.*s] %.*s\n  [%.*s] %.*s\n", (int)whole.length, whole.text ? whole.text : "",
			(int)outcome.length, outcome.text, (int)split.length, split.text ? split.text : "", (int)splitOutcome.length, splitOutcome.text);
		abort();
	}

	if (gOut) {
		Text line = { 0 };
		append(&line, "{\"input\":");
		appendHex(&line, data, size);
		append(&line, ",\"packets\":[%.*s],\"encoded\":[%.*s],\"outcome\":%.*s}\n", (int)whole.length, whole.text ? whole.text : "",
			(int)encoded.length, encoded.text ? encoded.text : "", (int)outcome.length, outcome.text);
		fwrite(line.text, 1, line.length, gOut);
		fflush(gOut);
		free(line.text);
	}
	free(whole.text);
	free(encoded.text);
	free(outcome.text);
	free(split.text);
	free(splitOutcome.text);
	return 0;
}
