/*
 * MQTT 3.1.1 wire format: the checks the reference codec (modules/mqtt/encoder.ts
 * and decoder.ts) makes, over byte buffers and the MqttPacket struct. Portable
 * C99 with the C library only, so that it builds for the device, the simulator
 * host and a plain C test alike.
 */

#include "mqtt-wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decoder keeps a buffer at least this large so a fixed header can arrive a byte at a time. */
#define MQTT_MIN_PENDING 8u
/* A frame buffer larger than this is freed after its packet: one big frame should not pin its memory. */
#define MQTT_KEEP_PENDING 4096u

static const char* const gStatusNames[] = {
	NULL,
	"UNKNOWN_PACKET_TYPE",
	"INVALID_FLAGS",
	"MALFORMED_REMAINING_LENGTH",
	"PACKET_TOO_LARGE",
	"MALFORMED_PACKET",
	"INVALID_UTF8",
	"INVALID_TOPIC",
	"INVALID_PACKET_ID",
	"INVALID_QOS",
	"UNSUPPORTED_PROTOCOL",
};

const char* mqttWireStatusName(MqttWireStatus status)
{
	if ((size_t)status < sizeof(gStatusNames) / sizeof(gStatusNames[0]))
		return gStatusNames[status];
	return NULL;
}

static MqttWireStatus wireError(MqttWireError* error, MqttWireStatus status, const char* format, ...) __attribute__((format(printf, 3, 4)));
static MqttWireStatus wireError(MqttWireError* error, MqttWireStatus status, const char* format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(error->message, sizeof(error->message), format, arguments);
	va_end(arguments);
	error->status = status;
	return status;
}

/* Messages quote at most this many bytes of a topic. */
#define QUOTE(_FIELD) (int)((_FIELD).length < 60 ? (_FIELD).length : 60), (const char*)(_FIELD).bytes

/* ---- UTF-8 ---- */

/* Strict UTF-8 as MQTT 3.1.1 section 1.5.3 requires, without U+0000; NULL when valid. */
static const char* checkUtf8(const uint8_t* p, uint32_t length)
{
	uint32_t i = 0;
	while (i < length) {
		uint8_t b = p[i];
		if (b < 0x80) {
			if (b == 0)
				return "U+0000 is not allowed in an MQTT string";
			i++;
			continue;
		}
		uint32_t count;
		uint32_t c;
		if (b >= 0xC2 && b <= 0xDF) { count = 1; c = b & 0x1F; }
		else if (b >= 0xE0 && b <= 0xEF) { count = 2; c = b & 0x0F; }
		else if (b >= 0xF0 && b <= 0xF4) { count = 3; c = b & 0x07; }
		/* C0 80 is how some engines (XS among them) keep U+0000 inside a C string. */
		else if (b == 0xC0 && i + 1 < length && p[i + 1] == 0x80) return "U+0000 is not allowed in an MQTT string";
		else return "bad UTF-8 lead byte";
		for (uint32_t k = 1; k <= count; k++) {
			if (i + k >= length)
				return "truncated UTF-8 sequence";
			if ((p[i + k] & 0xC0) != 0x80)
				return "bad UTF-8 continuation byte";
			c = (c << 6) | (p[i + k] & 0x3F);
		}
		if (count == 2) {
			if (c < 0x800)
				return "overlong UTF-8 sequence";
			if (c >= 0xD800 && c <= 0xDFFF)
				return "surrogate code point in UTF-8";
		}
		if (count == 3 && (c < 0x10000 || c > 0x10FFFF))
			return "UTF-8 sequence out of range";
		i += count + 1;
	}
	return NULL;
}

static int hasWildcard(MqttBytes text)
{
	return text.length && (memchr(text.bytes, '+', text.length) || memchr(text.bytes, '#', text.length));
}

/* "#" only as the whole last level, "+" only as a whole level; NULL when the filter is well formed. */
static const char* checkFilter(MqttBytes filter)
{
	const uint8_t* text = filter.bytes;
	uint32_t length = filter.length;
	for (uint32_t i = 0; i < length; i++) {
		if (text[i] == '#') {
			if (i != length - 1 || (i > 0 && text[i - 1] != '/'))
				return "#";
		}
		else if (text[i] == '+') {
			if ((i > 0 && text[i - 1] != '/') || (i < length - 1 && text[i + 1] != '/'))
				return "+";
		}
	}
	return NULL;
}

/* ---- encoding ---- */

static MqttWireStatus checkQos(int32_t qos, MqttWireError* error)
{
	if (qos < 0 || qos > 2)
		return wireError(error, MQTT_WIRE_INVALID_QOS, "QoS must be 0, 1 or 2");
	return MQTT_WIRE_OK;
}

static MqttWireStatus checkPacketId(int32_t id, MqttWireError* error)
{
	if (id < 1 || id > 0xFFFF)
		return wireError(error, MQTT_WIRE_INVALID_PACKET_ID, "packet id must be an integer from 1 to 65535");
	return MQTT_WIRE_OK;
}

static MqttWireStatus checkTopicName(MqttBytes topic, MqttWireError* error)
{
	if (!topic.length)
		return wireError(error, MQTT_WIRE_INVALID_TOPIC, "topic name is empty");
	if (hasWildcard(topic))
		return wireError(error, MQTT_WIRE_INVALID_TOPIC, "wildcard in topic name \"%.*s\"", QUOTE(topic));
	return MQTT_WIRE_OK;
}

static MqttWireStatus checkTopicFilter(MqttBytes filter, MqttWireError* error)
{
	if (!filter.length)
		return wireError(error, MQTT_WIRE_INVALID_TOPIC, "topic filter is empty");
	const char* wildcard = checkFilter(filter);
	if (wildcard && *wildcard == '#')
		return wireError(error, MQTT_WIRE_INVALID_TOPIC, "\"#\" must be the whole last level in \"%.*s\"", QUOTE(filter));
	if (wildcard)
		return wireError(error, MQTT_WIRE_INVALID_TOPIC, "\"+\" must be a whole level in \"%.*s\"", QUOTE(filter));
	return MQTT_WIRE_OK;
}

/* A string field: valid UTF-8 and at most 65535 bytes. Adds its size with the length prefix. */
static MqttWireStatus checkString(MqttBytes text, const char* what, uint64_t* remaining, MqttWireError* error)
{
	const char* problem = checkUtf8(text.bytes, text.length);
	if (problem)
		return wireError(error, MQTT_WIRE_INVALID_UTF8, "%s", problem);
	if (text.length > MQTT_MAX_STRING)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "%s is %u bytes; the limit is 65535", what, (unsigned)text.length);
	*remaining += 2 + (uint64_t)text.length;
	return MQTT_WIRE_OK;
}

static MqttWireStatus checkTotal(uint64_t remaining, MqttWireError* error)
{
	if (remaining > MQTT_MAX_REMAINING)
		return wireError(error, MQTT_WIRE_PACKET_TOO_LARGE, "packet body of %llu bytes exceeds the MQTT limit", (unsigned long long)remaining);
	return MQTT_WIRE_OK;
}

/* Evaluates a check and returns its failure. */
#define CHECK(call) do { MqttWireStatus status_ = (call); if (status_) return status_; } while (0)

static MqttWireStatus measurePublish(const MqttPacket* p, uint64_t* remaining, MqttWireError* error)
{
	CHECK(checkQos(p->qos, error));
	if (p->qos)
		CHECK(checkPacketId(p->packetId, error));
	if (!p->qos && p->dup)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "DUP must be 0 for a QoS 0 PUBLISH");
	CHECK(checkTopicName(p->topic, error));
	CHECK(checkString(p->topic, "topic", remaining, error));
	if (p->qos)
		*remaining += 2;
	if (p->payload.length > MQTT_MAX_REMAINING)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "payload exceeds %u bytes", MQTT_MAX_REMAINING);
	*remaining += p->payload.length;
	return checkTotal(*remaining, error);
}

static int isProtocol(MqttBytes name, const char* expected)
{
	size_t length = strlen(expected);
	return name.bytes && name.length == length && !memcmp(name.bytes, expected, length);
}

static MqttWireStatus measureConnect(const MqttPacket* p, uint64_t* remaining, MqttWireError* error)
{
	int level = p->protocolLevel;
	if (!((isProtocol(p->protocolName, "MQTT") && level == 4) || (isProtocol(p->protocolName, "MQIsdp") && level == 3))) {
		MqttBytes name = p->protocolName.bytes ? p->protocolName : (MqttBytes){ (const uint8_t*)"", 0 };
		return wireError(error, MQTT_WIRE_UNSUPPORTED_PROTOCOL, "protocol %.*s level %d is not MQTT 3.1 or 3.1.1",
			(int)(name.length < 20 ? name.length : 20), (const char*)name.bytes, level == MQTT_WIRE_NOT_INTEGER ? -1 : level);
	}
	if (p->keepalive < 0 || p->keepalive > 0xFFFF)
		return wireError(error, MQTT_WIRE_OUT_OF_RANGE, "keepalive must be 0 to 65535 seconds");
	if (p->hasWill) {
		CHECK(checkTopicName(p->willTopic, error));
		CHECK(checkQos(p->willQos, error));
	}
	if (p->hasPassword && !p->hasUsername && level == 4)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "a password requires a user name in MQTT 3.1.1");
	CHECK(checkString(p->protocolName, "protocol name", remaining, error));
	*remaining += 4;	/* level, flags, keepalive */
	CHECK(checkString(p->clientId, "client id", remaining, error));
	if (!p->clientId.length && !p->clean)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "an empty client id requires a clean session (MQTT-3.1.3-7)");
	if (p->hasWill) {
		CHECK(checkString(p->willTopic, "will topic", remaining, error));
		if (p->willPayload.length > MQTT_MAX_STRING)
			return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "will payload exceeds %u bytes", MQTT_MAX_STRING);
		*remaining += 2 + (uint64_t)p->willPayload.length;
	}
	if (p->hasUsername)
		CHECK(checkString(p->username, "user name", remaining, error));
	if (p->hasPassword) {
		if (p->password.length > MQTT_MAX_STRING)
			return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "password exceeds %u bytes", MQTT_MAX_STRING);
		*remaining += 2 + (uint64_t)p->password.length;
	}
	return MQTT_WIRE_OK;
}

static MqttWireStatus measureFilters(const MqttPacket* p, uint64_t* remaining, MqttWireError* error)
{
	int subscribe = p->type == MQTT_SUBSCRIBE;
	CHECK(checkPacketId(p->packetId, error));
	if (!p->count)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "%s needs at least one topic filter", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
	*remaining = 2;
	for (uint32_t i = 0; i < p->count; i++) {
		const MqttListEntry* entry = &p->list[i];
		CHECK(checkTopicFilter(entry->topic, error));
		if (subscribe) {
			CHECK(checkQos(entry->value, error));
			*remaining += 1;
		}
		CHECK(checkString(entry->topic, "topic filter", remaining, error));
	}
	return checkTotal(*remaining, error);
}

static MqttWireStatus measureSuback(const MqttPacket* p, uint64_t* remaining, MqttWireError* error)
{
	CHECK(checkPacketId(p->packetId, error));
	if (!p->count)
		return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "SUBACK needs at least one return code");
	for (uint32_t i = 0; i < p->count; i++) {
		int32_t code = p->list[i].value;
		if (code != 0 && code != 1 && code != 2 && code != 0x80)
			return wireError(error, MQTT_WIRE_MALFORMED_PACKET, "SUBACK return code must be 0, 1, 2 or 128");
	}
	*remaining = 2 + (uint64_t)p->count;
	return checkTotal(*remaining, error);
}

MqttWireStatus mqttWireMeasure(const MqttPacket* packet, uint32_t* remaining, MqttWireError* error)
{
	uint64_t total = 0;
	MqttWireStatus status;
	switch (packet->type) {
	case MQTT_PUBLISH:
		status = measurePublish(packet, &total, error);
		break;
	case MQTT_CONNECT:
		status = measureConnect(packet, &total, error);
		break;
	case MQTT_CONNACK:
		if (packet->returnCode < 0 || packet->returnCode > 255)
			return wireError(error, MQTT_WIRE_OUT_OF_RANGE, "CONNACK return code must be 0 to 255");
		total = 2;
		status = MQTT_WIRE_OK;
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		status = measureFilters(packet, &total, error);
		break;
	case MQTT_SUBACK:
		status = measureSuback(packet, &total, error);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		status = checkPacketId(packet->packetId, error);
		total = 2;
		break;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		status = MQTT_WIRE_OK;
		break;
	default:
		return wireError(error, MQTT_WIRE_BAD_TYPE, "unknown packet type");
	}
	if (status == MQTT_WIRE_OK)
		*remaining = (uint32_t)total;
	return status;
}

static uint32_t varintLength(uint32_t value)
{
	return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

uint32_t mqttWireFrameLength(uint32_t remaining)
{
	return 1 + varintLength(remaining) + remaining;
}

typedef struct {
	uint8_t* out;
	uint32_t at;
} Writer;

static inline void putByte(Writer* w, uint32_t value) { w->out[w->at++] = (uint8_t)value; }
static inline void putU16(Writer* w, uint32_t value) { w->out[w->at++] = (uint8_t)(value >> 8); w->out[w->at++] = (uint8_t)value; }
static inline void putBytes(Writer* w, MqttBytes data) { if (data.length) memcpy(w->out + w->at, data.bytes, data.length); w->at += data.length; }
static inline void putField(Writer* w, MqttBytes data) { putU16(w, data.length); putBytes(w, data); }

static void putHeader(Writer* w, uint32_t first, uint32_t remaining)
{
	putByte(w, first);
	do {
		uint32_t digit = remaining & 0x7F;
		remaining >>= 7;
		if (remaining)
			digit |= 0x80;
		putByte(w, digit);
	} while (remaining);
}

uint32_t mqttWireWrite(const MqttPacket* p, uint32_t remaining, uint8_t* out)
{
	Writer writer = { out, 0 };
	Writer* w = &writer;
	switch (p->type) {
	case MQTT_PUBLISH:
		putHeader(w, 0x30 | (p->dup ? 8 : 0) | ((uint32_t)p->qos << 1) | (p->retain ? 1 : 0), remaining);
		putField(w, p->topic);
		if (p->qos)
			putU16(w, (uint32_t)p->packetId);
		putBytes(w, p->payload);
		break;
	case MQTT_CONNECT: {
		uint32_t flags = (p->clean ? 0x02 : 0)
			| (p->hasWill ? 0x04 | ((uint32_t)p->willQos << 3) | (p->willRetain ? 0x20 : 0) : 0)
			| (p->hasUsername ? 0x80 : 0) | (p->hasPassword ? 0x40 : 0);
		putHeader(w, 0x10, remaining);
		putField(w, p->protocolName);
		putByte(w, (uint32_t)p->protocolLevel);
		putByte(w, flags);
		putU16(w, (uint32_t)p->keepalive);
		putField(w, p->clientId);
		if (p->hasWill) {
			putField(w, p->willTopic);
			putField(w, p->willPayload);
		}
		if (p->hasUsername)
			putField(w, p->username);
		if (p->hasPassword)
			putField(w, p->password);
		break;
	}
	case MQTT_CONNACK:
		putHeader(w, 0x20, 2);
		putByte(w, p->sessionPresent ? 1 : 0);
		putByte(w, (uint32_t)p->returnCode);
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		putHeader(w, p->type == MQTT_SUBSCRIBE ? 0x82 : 0xA2, remaining);
		putU16(w, (uint32_t)p->packetId);
		for (uint32_t i = 0; i < p->count; i++) {
			putField(w, p->list[i].topic);
			if (p->type == MQTT_SUBSCRIBE)
				putByte(w, (uint32_t)p->list[i].value);
		}
		break;
	case MQTT_SUBACK:
		putHeader(w, 0x90, remaining);
		putU16(w, (uint32_t)p->packetId);
		for (uint32_t i = 0; i < p->count; i++)
			putByte(w, (uint32_t)p->list[i].value);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		putHeader(w, ((uint32_t)p->type << 4) | (p->type == MQTT_PUBREL ? 2 : 0), 2);
		putU16(w, (uint32_t)p->packetId);
		break;
	default:	/* PINGREQ, PINGRESP, DISCONNECT */
		putHeader(w, (uint32_t)p->type << 4, 0);
		break;
	}
	return writer.at;
}

/* ---- decoding ---- */

void mqttWireDecoderInit(MqttWireDecoder* decoder, uint32_t maxPacketSize)
{
	memset(decoder, 0, sizeof(*decoder));
	decoder->maxPacketSize = maxPacketSize;
}

static void dropPending(MqttWireDecoder* decoder)
{
	free(decoder->pending);
	decoder->pending = NULL;
	decoder->pendingCapacity = 0;
	decoder->pendingLength = 0;
	decoder->frameLength = 0;
}

void mqttWireDecoderReset(MqttWireDecoder* decoder)
{
	dropPending(decoder);
	decoder->failure.status = MQTT_WIRE_OK;
	decoder->failure.message[0] = 0;
}

void mqttWireDecoderFree(MqttWireDecoder* decoder)
{
	dropPending(decoder);
	free(decoder->list);
	decoder->list = NULL;
	decoder->listCapacity = 0;
}

/* Ends the stream: the failure is kept and repeated until a reset. */
static MqttWireStatus streamFail(MqttWireDecoder* decoder, MqttWireStatus status, const char* format, ...) __attribute__((format(printf, 3, 4)));
static MqttWireStatus streamFail(MqttWireDecoder* decoder, MqttWireStatus status, const char* format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(decoder->failure.message, sizeof(decoder->failure.message), format, arguments);
	va_end(arguments);
	decoder->failure.status = status;
	dropPending(decoder);
	return status;
}

static const int8_t gRequiredFlags[16] = { 0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0 };

/* Frame length from a fixed header; 0 with MQTT_WIRE_OK when the header is incomplete. */
static MqttWireStatus frameTotal(MqttWireDecoder* decoder, const uint8_t* bytes, uint32_t length, uint32_t* total)
{
	uint8_t first = bytes[0];
	int type = first >> 4;
	int flags = first & 0x0F;
	*total = 0;
	if (type == 0 || type == 15)
		return streamFail(decoder, MQTT_WIRE_UNKNOWN_PACKET_TYPE, "unknown packet type %d", type);
	int required = gRequiredFlags[type];
	if (required >= 0) {
		if (flags != required)
			return streamFail(decoder, MQTT_WIRE_INVALID_FLAGS, "reserved flags 0x%x in packet type %d", flags, type);
	}
	else {
		int qos = (flags >> 1) & 3;
		if (qos == 3)
			return streamFail(decoder, MQTT_WIRE_INVALID_QOS, "PUBLISH with QoS 3");
		if (qos == 0 && (flags & 8))
			return streamFail(decoder, MQTT_WIRE_INVALID_FLAGS, "reserved flags 0x%x in packet type %d", flags, type);
	}
	uint32_t remaining = 0;
	uint32_t i = 1;
	int shift = 0;
	for (;;) {
		if (i >= length)
			return MQTT_WIRE_OK;
		uint8_t digit = bytes[i++];
		remaining |= (uint32_t)(digit & 0x7F) << shift;
		if (!(digit & 0x80))
			break;
		shift += 7;
		if (shift == 28)
			return streamFail(decoder, MQTT_WIRE_MALFORMED_REMAINING_LENGTH, "remaining length longer than four bytes");
	}
	uint64_t frame = (uint64_t)i + remaining;
	if (frame > decoder->maxPacketSize)
		return streamFail(decoder, MQTT_WIRE_PACKET_TOO_LARGE, "incoming packet of %llu bytes exceeds the limit of %u",
			(unsigned long long)frame, (unsigned)decoder->maxPacketSize);
	*total = (uint32_t)frame;
	return MQTT_WIRE_OK;
}

static int reserve(MqttWireDecoder* decoder, uint32_t capacity)
{
	if (decoder->pendingCapacity >= capacity)
		return 1;
	uint8_t* pending = realloc(decoder->pending, capacity);
	if (!pending)
		return 0;
	decoder->pending = pending;
	decoder->pendingCapacity = capacity;
	return 1;
}

MqttWireStatus mqttWireDecoderFeed(MqttWireDecoder* decoder, const uint8_t* bytes, uint32_t length, uint32_t* consumed, int* frameReady)
{
	*consumed = 0;
	*frameReady = 0;
	if (decoder->failure.status)
		return decoder->failure.status;
	if (decoder->frameLength && decoder->pendingLength == decoder->frameLength) {
		*frameReady = 1;	/* the complete frame was not taken yet: nothing more goes in */
		return MQTT_WIRE_OK;
	}
	if (!length)
		return MQTT_WIRE_OK;
	if (decoder->pendingLength == 0) {
		/* A new frame: take all of it that is here (or everything, while its header is incomplete). */
		uint32_t total;
		MqttWireStatus status = frameTotal(decoder, bytes, length, &total);
		if (status)
			return status;
		uint32_t take = total && total <= length ? total : length;
		uint32_t capacity = total > take ? total : take;
		if (!reserve(decoder, capacity < MQTT_MIN_PENDING ? MQTT_MIN_PENDING : capacity))
			return MQTT_WIRE_NO_MEMORY;
		memcpy(decoder->pending, bytes, take);
		decoder->pendingLength = take;
		decoder->frameLength = total;
		*consumed = take;
	}
	else if (decoder->frameLength == 0) {
		/* The header is still incomplete: one more byte, then look again. */
		decoder->pending[decoder->pendingLength++] = bytes[0];
		*consumed = 1;
		uint32_t total;
		MqttWireStatus status = frameTotal(decoder, decoder->pending, decoder->pendingLength, &total);
		if (status)
			return status;
		if (total && !reserve(decoder, total)) {
			decoder->pendingLength--;
			*consumed = 0;
			return MQTT_WIRE_NO_MEMORY;
		}
		decoder->frameLength = total;
	}
	else {
		uint32_t take = decoder->frameLength - decoder->pendingLength;
		if (take > length)
			take = length;
		memcpy(decoder->pending + decoder->pendingLength, bytes, take);
		decoder->pendingLength += take;
		*consumed = take;
	}
	*frameReady = decoder->frameLength && decoder->pendingLength == decoder->frameLength;
	return MQTT_WIRE_OK;
}

typedef struct {
	MqttWireDecoder* decoder;
	const uint8_t* bytes;
	uint32_t at;
	uint32_t end;
} Reader;

#define RFAIL(r, status, ...) streamFail((r)->decoder, status, __VA_ARGS__)

static MqttWireStatus readU16(Reader* r, const char* what, uint32_t* value)
{
	if (r->at + 2 > r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "%s runs past the end of the packet", what);
	*value = ((uint32_t)r->bytes[r->at] << 8) | r->bytes[r->at + 1];
	r->at += 2;
	return MQTT_WIRE_OK;
}

static MqttWireStatus readPacketId(Reader* r, int32_t* id)
{
	uint32_t value = 0;
	CHECK(readU16(r, "packet id", &value));
	if (!value)
		return RFAIL(r, MQTT_WIRE_INVALID_PACKET_ID, "packet id 0 is not allowed");
	*id = (int32_t)value;
	return MQTT_WIRE_OK;
}

/* A length-prefixed field. */
static MqttWireStatus readField(Reader* r, MqttBytes* field, const char* what)
{
	uint32_t length = 0;
	CHECK(readU16(r, what, &length));
	if (r->at + length > r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "%s runs past the end of the packet", what);
	field->bytes = r->bytes + r->at;
	field->length = length;
	r->at += length;
	return MQTT_WIRE_OK;
}

static MqttWireStatus readString(Reader* r, MqttBytes* field, const char* what)
{
	CHECK(readField(r, field, what));
	const char* problem = checkUtf8(field->bytes, field->length);
	if (problem)
		return RFAIL(r, MQTT_WIRE_INVALID_UTF8, "%s", problem);
	return MQTT_WIRE_OK;
}

static MqttWireStatus readFilter(Reader* r, MqttBytes filter)
{
	const char* wildcard = checkFilter(filter);
	if (wildcard)
		return RFAIL(r, MQTT_WIRE_INVALID_TOPIC, "misplaced \"%s\" in a topic filter", wildcard);
	if (!filter.length)
		return RFAIL(r, MQTT_WIRE_INVALID_TOPIC, "topic filter is empty");
	return MQTT_WIRE_OK;
}

static MqttWireStatus listEntry(Reader* r, uint32_t index, MqttListEntry** entry)
{
	MqttWireDecoder* decoder = r->decoder;
	if (index >= decoder->listCapacity) {
		uint32_t capacity = decoder->listCapacity ? decoder->listCapacity * 2 : 8;
		MqttListEntry* list = realloc(decoder->list, capacity * sizeof(MqttListEntry));
		if (!list)
			return MQTT_WIRE_NO_MEMORY;
		decoder->list = list;
		decoder->listCapacity = capacity;
	}
	*entry = &decoder->list[index];
	return MQTT_WIRE_OK;
}

static MqttWireStatus takePublish(Reader* r, MqttPacket* p, uint8_t first)
{
	MqttWireDecoder* decoder = r->decoder;
	p->qos = (first >> 1) & 3;
	p->retain = (first & 1) != 0;
	p->dup = (first & 8) != 0;
	CHECK(readField(r, &p->topic, "topic"));
	if (!p->topic.length)
		return RFAIL(r, MQTT_WIRE_INVALID_TOPIC, "PUBLISH with an empty topic");
	/* A device hears few topics: the checks of the last one are not repeated. */
	if (p->topic.length != decoder->lastTopicLength || memcmp(decoder->lastTopic, p->topic.bytes, p->topic.length)) {
		const char* problem = checkUtf8(p->topic.bytes, p->topic.length);
		if (problem)
			return RFAIL(r, MQTT_WIRE_INVALID_UTF8, "%s", problem);
		if (hasWildcard(p->topic))
			return RFAIL(r, MQTT_WIRE_INVALID_TOPIC, "wildcard in PUBLISH topic");
		if (p->topic.length <= sizeof(decoder->lastTopic)) {
			memcpy(decoder->lastTopic, p->topic.bytes, p->topic.length);
			decoder->lastTopicLength = p->topic.length;
		}
	}
	p->packetId = 0;
	if (p->qos)
		CHECK(readPacketId(r, &p->packetId));
	p->payload.bytes = r->bytes + r->at;
	p->payload.length = r->end - r->at;
	return MQTT_WIRE_OK;
}

static MqttWireStatus takeConnack(Reader* r, MqttPacket* p, uint32_t body)
{
	if (body != 2)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNACK must have a remaining length of 2");
	uint8_t flags = r->bytes[r->at];
	uint8_t code = r->bytes[r->at + 1];
	if (flags & 0xFE)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNACK flags bits 7 to 1 must be 0");
	if (code > 5)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNACK return code %d is reserved", code);
	if (code && flags)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNACK refusing a connection must not set session present");
	p->sessionPresent = flags == 1;
	p->returnCode = code;
	return MQTT_WIRE_OK;
}

static MqttWireStatus takeFilters(Reader* r, MqttPacket* p)
{
	int subscribe = p->type == MQTT_SUBSCRIBE;
	CHECK(readPacketId(r, &p->packetId));
	if (r->at == r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "%s without topic filters", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
	uint32_t index = 0;
	while (r->at < r->end) {
		MqttListEntry* entry;
		CHECK(listEntry(r, index, &entry));
		CHECK(readString(r, &entry->topic, "topic filter"));
		entry->value = 0;
		if (subscribe) {
			if (r->at >= r->end)
				return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "requested QoS runs past the end of the packet");
			uint8_t options = r->bytes[r->at++];
			if (options > 2)
				return RFAIL(r, MQTT_WIRE_INVALID_QOS, "requested QoS byte 0x%x", options);
			entry->value = options;
		}
		CHECK(readFilter(r, entry->topic));
		index++;
	}
	p->list = r->decoder->list;
	p->count = index;
	return MQTT_WIRE_OK;
}

static MqttWireStatus takeSuback(Reader* r, MqttPacket* p)
{
	CHECK(readPacketId(r, &p->packetId));
	if (r->at == r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "SUBACK without return codes");
	uint32_t index = 0;
	while (r->at < r->end) {
		uint8_t code = r->bytes[r->at++];
		if (code > 2 && code != 0x80)
			return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "SUBACK return code 0x%x is not allowed", code);
		MqttListEntry* entry;
		CHECK(listEntry(r, index, &entry));
		entry->topic.bytes = NULL;
		entry->topic.length = 0;
		entry->value = code;
		index++;
	}
	p->list = r->decoder->list;
	p->count = index;
	return MQTT_WIRE_OK;
}

static MqttWireStatus takeConnect(Reader* r, MqttPacket* p)
{
	/* A string like any other: invalid UTF-8 is INVALID_UTF8 before the name is compared, as in decoder.ts. */
	CHECK(readString(r, &p->protocolName, "protocol name"));
	if (r->at + 4 > r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNECT variable header runs past the end of the packet");
	uint8_t level = r->bytes[r->at];
	uint8_t flags = r->bytes[r->at + 1];
	p->keepalive = (int32_t)(((uint32_t)r->bytes[r->at + 2] << 8) | r->bytes[r->at + 3]);
	r->at += 4;
	if (!(isProtocol(p->protocolName, "MQTT") && level == 4) && !(isProtocol(p->protocolName, "MQIsdp") && level == 3))
		return RFAIL(r, MQTT_WIRE_UNSUPPORTED_PROTOCOL, "protocol level %d is not MQTT 3.1 or 3.1.1", level);
	if (flags & 0x01)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "CONNECT reserved flag must be 0");
	p->protocolLevel = level;
	p->clean = (flags & 0x02) != 0;
	p->hasWill = (flags & 0x04) != 0;
	p->willQos = (flags >> 3) & 3;
	p->willRetain = (flags & 0x20) != 0;
	p->hasPassword = (flags & 0x40) != 0;
	p->hasUsername = (flags & 0x80) != 0;
	if (!p->hasWill && (p->willQos || p->willRetain))
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "will QoS and retain must be 0 without a will");
	if (p->willQos == 3)
		return RFAIL(r, MQTT_WIRE_INVALID_QOS, "will QoS 3");
	if (p->hasPassword && !p->hasUsername && level == 4)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "password flag without user name flag");
	CHECK(readString(r, &p->clientId, "client id"));
	if (p->hasWill) {
		CHECK(readString(r, &p->willTopic, "will topic"));
		if (!p->willTopic.length || hasWildcard(p->willTopic))
			return RFAIL(r, MQTT_WIRE_INVALID_TOPIC, "will topic must be a topic name");
		CHECK(readField(r, &p->willPayload, "will message"));
	}
	if (p->hasUsername)
		CHECK(readString(r, &p->username, "user name"));
	if (p->hasPassword)
		CHECK(readField(r, &p->password, "password"));
	if (r->at != r->end)
		return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "%u unexpected bytes after the CONNECT payload", (unsigned)(r->end - r->at));
	return MQTT_WIRE_OK;
}

MqttWireStatus mqttWireDecoderTake(MqttWireDecoder* decoder, MqttPacket* packet)
{
	uint32_t total = decoder->frameLength;
	Reader reader = { decoder, decoder->pending, 1, total };
	Reader* r = &reader;
	/* The stream moves on to the next frame; this one stays in the buffer until the next feed. */
	decoder->pendingLength = 0;
	decoder->frameLength = 0;
	uint8_t first = r->bytes[0];
	while (r->bytes[r->at++] & 0x80)
		;
	uint32_t body = r->end - r->at;
	packet->type = first >> 4;
	if (packet->type == MQTT_PUBLISH)
		return takePublish(r, packet, first);	/* the hot path sets all of its fields itself */
	int32_t type = packet->type;
	memset(packet, 0, sizeof(*packet));
	packet->type = type;
	switch (type) {
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		if (body != 2)
			return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "packet type %d must have a remaining length of 2", (int)packet->type);
		return readPacketId(r, &packet->packetId);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
	case MQTT_DISCONNECT:
		if (body)
			return RFAIL(r, MQTT_WIRE_MALFORMED_PACKET, "packet type %d must have a remaining length of 0", (int)packet->type);
		return MQTT_WIRE_OK;
	case MQTT_CONNACK:
		return takeConnack(r, packet, body);
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return takeFilters(r, packet);
	case MQTT_SUBACK:
		return takeSuback(r, packet);
	default:	/* CONNECT: the fixed header check let through types 1 to 14 only */
		return takeConnect(r, packet);
	}
}

void mqttWireDecoderRelease(MqttWireDecoder* decoder)
{
	if (decoder->pendingCapacity > MQTT_KEEP_PENDING && decoder->pendingLength == 0) {
		free(decoder->pending);
		decoder->pending = NULL;
		decoder->pendingCapacity = 0;
	}
}
