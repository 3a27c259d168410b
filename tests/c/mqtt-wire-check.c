/*
 * The MQTT wire layer on its own: native/mqtt/mqtt-wire.c built with nothing
 * but the C library (no engine headers), encoding from and decoding into the
 * packet struct. Run by tests/mqtt-wire.test.ts; prints "ok"/"not ok" lines
 * and exits 1 when a check fails.
 */

#include "mqtt-wire.h"

#include <stdio.h>
#include <string.h>

static int gFailed = 0;

static void check(int condition, const char* what)
{
	printf("%s - %s\n", condition ? "ok" : "not ok", what);
	if (!condition)
		gFailed = 1;
}

static MqttBytes text(const char* value)
{
	MqttBytes bytes = { (const uint8_t*)value, (uint32_t)strlen(value) };
	return bytes;
}

static int same(MqttBytes bytes, const char* value)
{
	return bytes.length == strlen(value) && !memcmp(bytes.bytes, value, bytes.length);
}

/* Measures and writes `packet`; returns the frame length, 0 when the measure failed (status in *status). */
static uint32_t encode(const MqttPacket* packet, uint8_t* out, size_t size, MqttWireStatus* status)
{
	uint32_t remaining;
	MqttWireError error;
	*status = mqttWireMeasure(packet, &remaining, &error);
	if (*status)
		return 0;
	uint32_t total = mqttWireFrameLength(remaining);
	if (total > size)
		return 0;
	return mqttWireWrite(packet, remaining, out) == total ? total : 0;
}

/* Feeds `length` bytes in chunks of `chunk`; takes the first complete packet into *packet. */
static MqttWireStatus decode(MqttWireDecoder* decoder, const uint8_t* bytes, uint32_t length, uint32_t chunk, MqttPacket* packet, int* got)
{
	*got = 0;
	uint32_t at = 0;
	while (at < length && !*got) {
		uint32_t piece = length - at < chunk ? length - at : chunk;
		uint32_t consumed;
		int ready;
		MqttWireStatus status = mqttWireDecoderFeed(decoder, bytes + at, piece, &consumed, &ready);
		if (status)
			return status;
		at += consumed;
		if (ready) {
			status = mqttWireDecoderTake(decoder, packet);
			if (status)
				return status;
			*got = 1;
		}
	}
	return MQTT_WIRE_OK;
}

int main(void)
{
	uint8_t frame[512];
	MqttWireStatus status;
	MqttWireDecoder decoder;
	MqttPacket decoded;
	int got;

	/* PUBLISH QoS 1 "a/b", id 10, payload "hi": 32 09 00 03 61 2f 62 00 0a 68 69 */
	MqttPacket publish = { 0 };
	publish.type = MQTT_PUBLISH;
	publish.qos = 1;
	publish.packetId = 10;
	publish.topic = text("a/b");
	publish.payload = text("hi");
	static const uint8_t expected[] = { 0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i' };
	uint32_t length = encode(&publish, frame, sizeof(frame), &status);
	check(length == sizeof(expected) && !memcmp(frame, expected, sizeof(expected)), "PUBLISH encodes to its bytes");
	mqttWireDecoderInit(&decoder, 1024);
	status = decode(&decoder, frame, length, 1, &decoded, &got);
	check(!status && got && decoded.type == MQTT_PUBLISH && decoded.qos == 1 && decoded.packetId == 10
		&& same(decoded.topic, "a/b") && same(decoded.payload, "hi") && decoder.pendingLength == 0, "PUBLISH fed a byte at a time decodes back");
	mqttWireDecoderRelease(&decoder);

	/* CONNECT with will, user name and password */
	MqttPacket connect = { 0 };
	connect.type = MQTT_CONNECT;
	connect.protocolName = text("MQTT");
	connect.protocolLevel = 4;
	connect.keepalive = 60;
	connect.clean = 1;
	connect.clientId = text("device-1");
	connect.hasWill = 1;
	connect.willTopic = text("last/will");
	connect.willPayload = text("gone");
	connect.willQos = 1;
	connect.hasUsername = 1;
	connect.username = text("user");
	connect.hasPassword = 1;
	connect.password = text("secret");
	length = encode(&connect, frame, sizeof(frame), &status);
	check(length > 0 && frame[0] == 0x10 && frame[9] == (0x02 | 0x04 | 0x08 | 0x80 | 0x40), "CONNECT encodes with its flags");
	status = decode(&decoder, frame, length, 7, &decoded, &got);
	check(!status && got && decoded.type == MQTT_CONNECT && decoded.keepalive == 60 && decoded.clean && same(decoded.clientId, "device-1")
		&& decoded.hasWill && same(decoded.willTopic, "last/will") && same(decoded.willPayload, "gone") && decoded.willQos == 1
		&& decoded.hasUsername && same(decoded.username, "user") && decoded.hasPassword && same(decoded.password, "secret"), "CONNECT decodes back");

	/* SUBSCRIBE with two filters */
	MqttListEntry filters[2] = { { { (const uint8_t*)"a/+/c", 5 }, 1 }, { { (const uint8_t*)"d/#", 3 }, 2 } };
	MqttPacket subscribe = { 0 };
	subscribe.type = MQTT_SUBSCRIBE;
	subscribe.packetId = 7;
	subscribe.list = filters;
	subscribe.count = 2;
	length = encode(&subscribe, frame, sizeof(frame), &status);
	check(length == 2 + 2 + 2 + 5 + 1 + 2 + 3 + 1 && frame[0] == 0x82, "SUBSCRIBE encodes");
	status = decode(&decoder, frame, length, 3, &decoded, &got);
	check(!status && got && decoded.count == 2 && same(decoded.list[0].topic, "a/+/c") && decoded.list[0].value == 1
		&& same(decoded.list[1].topic, "d/#") && decoded.list[1].value == 2, "SUBSCRIBE decodes back");

	/* Encoding checks */
	MqttPacket bad = publish;
	bad.topic = text("a/+");
	check(!encode(&bad, frame, sizeof(frame), &status) && status == MQTT_WIRE_INVALID_TOPIC, "a wildcard in a topic name is INVALID_TOPIC");
	bad = publish;
	bad.qos = 3;
	check(!encode(&bad, frame, sizeof(frame), &status) && status == MQTT_WIRE_INVALID_QOS, "QoS 3 is INVALID_QOS");
	bad = publish;
	bad.topic = (MqttBytes){ (const uint8_t*)"a\xC0\x80", 3 };
	check(!encode(&bad, frame, sizeof(frame), &status) && status == MQTT_WIRE_INVALID_UTF8, "U+0000 kept as C0 80 is INVALID_UTF8");
	bad = connect;
	bad.keepalive = 70000;
	check(!encode(&bad, frame, sizeof(frame), &status) && status == MQTT_WIRE_OUT_OF_RANGE, "a keepalive over 65535 is out of range");
	bad.type = 0;
	check(!encode(&bad, frame, sizeof(frame), &status) && status == MQTT_WIRE_BAD_TYPE, "packet type 0 cannot be encoded");

	/* Decoding failures stay until a reset */
	static const uint8_t zero[] = { 0x00, 0x00 };
	status = decode(&decoder, zero, sizeof(zero), 2, &decoded, &got);
	check(status == MQTT_WIRE_UNKNOWN_PACKET_TYPE && !strcmp(mqttWireStatusName(status), "UNKNOWN_PACKET_TYPE"), "packet type 0 is UNKNOWN_PACKET_TYPE");
	static const uint8_t ping[] = { 0xC0, 0x00 };
	check(decode(&decoder, ping, sizeof(ping), 2, &decoded, &got) == MQTT_WIRE_UNKNOWN_PACKET_TYPE, "the failure is repeated");
	mqttWireDecoderReset(&decoder);
	check(!decode(&decoder, ping, sizeof(ping), 2, &decoded, &got) && got && decoded.type == MQTT_PINGREQ, "after a reset the stream starts again");
	static const uint8_t big[] = { 0x30, 0xFF, 0x7F };
	check(decode(&decoder, big, sizeof(big), 3, &decoded, &got) == MQTT_WIRE_PACKET_TOO_LARGE, "a frame over the limit is PACKET_TOO_LARGE");
	mqttWireDecoderFree(&decoder);
	return gFailed;
}
