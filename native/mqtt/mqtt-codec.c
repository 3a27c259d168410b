/*
 * MQTT 3.1.1 codec in C behind the same interface as modules/mqtt/encoder.ts and
 * decoder.ts (the reference implementation): same packet objects, same checks,
 * same error codes. Portable C on the xsmc API; no host services.
 *
 * Memory safety: JavaScript buffers and strings live in the chunk heap and move
 * when the collector compacts it. Frames are therefore built and parsed in C
 * memory, and JavaScript memory is touched only by single copies whose pointer
 * is fetched right before the copy.
 */

#include "xsmc.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MQTT_MAX_REMAINING 268435455u
#define MQTT_MAX_FRAME (MQTT_MAX_REMAINING + 5u)
#define MQTT_MAX_STRING 65535u
#define MQTT_MIN_PENDING 8u
#define MQTT_KEEP_PENDING 4096u

enum {
	CONNECT = 1, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP,
	SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT,
};

/* Property keys, looked up once per machine. */
typedef struct {
	xsMachine* machine;
	xsIdentifier type, topic, payload, qos, retain, dup, packetId, protocolName, protocolLevel,
		clientId, keepalive, clean, will, username, password, sessionPresent, returnCode,
		subscriptions, returnCodes, topics, length, Uint8Array;
} MqttKeys;

static MqttKeys gKeys;

/*
 * The Uint8Array constructor, looked up once: a lookup on the global object per
 * packet costs more than the rest of a small decode. Kept for the machine's life.
 */
static xsSlot gUint8Array;

#define newUint8Array(_BUFFER) \
	(xsOverflow(-XS_FRAME_COUNT-1), \
	fxPush(gUint8Array), \
	fxNew(the), \
	fxPush(_BUFFER), \
	fxRunCount(the, 1), \
	fxPop())

static void mqttKeys(xsMachine* the)
{
	if (gKeys.machine == the)
		return;
	gKeys.type = xsID("type");
	gKeys.topic = xsID("topic");
	gKeys.payload = xsID("payload");
	gKeys.qos = xsID("qos");
	gKeys.retain = xsID("retain");
	gKeys.dup = xsID("dup");
	gKeys.packetId = xsID("packetId");
	gKeys.protocolName = xsID("protocolName");
	gKeys.protocolLevel = xsID("protocolLevel");
	gKeys.clientId = xsID("clientId");
	gKeys.keepalive = xsID("keepalive");
	gKeys.clean = xsID("clean");
	gKeys.will = xsID("will");
	gKeys.username = xsID("username");
	gKeys.password = xsID("password");
	gKeys.sessionPresent = xsID("sessionPresent");
	gKeys.returnCode = xsID("returnCode");
	gKeys.subscriptions = xsID("subscriptions");
	gKeys.returnCodes = xsID("returnCodes");
	gKeys.topics = xsID("topics");
	gKeys.length = xsID("length");
	gKeys.Uint8Array = xsID("Uint8Array");
	xsmcGet(gUint8Array, xsGlobal, gKeys.Uint8Array);
	xsRemember(gUint8Array);
	gKeys.machine = the;
}

/* ---- errors ---- */

/* Vars every entry point reserves; the error helpers use the last two. */
#define MQTT_VARS 12
#define VAR_ERROR_CODE 10
#define VAR_ERROR_MESSAGE 11

/* Throws the MqttError made by the factory passed as argument `factoryArg`. */
static void mqttThrow(xsMachine* the, int factoryArg, const char* code, const char* format, ...) __attribute__((noreturn, format(printf, 4, 5)));
static void mqttThrow(xsMachine* the, int factoryArg, const char* code, const char* format, ...)
{
	char message[160];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	xsmcSetString(xsVar(VAR_ERROR_CODE), (char*)code);
	xsmcSetString(xsVar(VAR_ERROR_MESSAGE), message);
	if (xsmcArgc > factoryArg && xsmcIsCallable(xsArg(factoryArg))) {
		xsResult = xsCallFunction2(xsArg(factoryArg), xsUndefined, xsVar(VAR_ERROR_CODE), xsVar(VAR_ERROR_MESSAGE));
		xsThrow(xsResult);
	}
	xsUnknownError("%s: %s", code, message);
}

/* ---- UTF-8 ---- */

/* Checks an XS string's bytes for what MQTT forbids: U+0000 (stored as C0 80) and lone surrogates (ED A0..BF). */
static const char* checkEngineString(const uint8_t* text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		if (text[i] == 0xC0 && i + 1 < length && text[i + 1] == 0x80)
			return "U+0000 is not allowed in an MQTT string";
		if (text[i] == 0xED && i + 1 < length && text[i + 1] >= 0xA0)
			return "lone surrogate in string";
	}
	return NULL;
}

/* Strict UTF-8 as MQTT 3.1.1 section 1.5.3 requires; NULL when valid. */
static const char* checkWireString(const uint8_t* p, size_t length)
{
	size_t i = 0;
	while (i < length) {
		uint8_t b = p[i];
		if (b < 0x80) {
			if (b == 0)
				return "U+0000 is not allowed in an MQTT string";
			i++;
			continue;
		}
		size_t count;
		uint32_t c;
		if (b >= 0xC2 && b <= 0xDF) { count = 1; c = b & 0x1F; }
		else if (b >= 0xE0 && b <= 0xEF) { count = 2; c = b & 0x0F; }
		else if (b >= 0xF0 && b <= 0xF4) { count = 3; c = b & 0x07; }
		else return "bad UTF-8 lead byte";
		for (size_t k = 1; k <= count; k++) {
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

/* ---- encoding ---- */

typedef struct {
	uint8_t* bytes;
	size_t capacity;
} Scratch;

static Scratch gScratch;

static uint8_t* scratch(size_t size)
{
	if (size > gScratch.capacity) {
		size_t capacity = size < 256 ? 256 : size;
		uint8_t* bytes = realloc(gScratch.bytes, capacity);
		if (!bytes)
			return NULL;
		gScratch.bytes = bytes;
		gScratch.capacity = capacity;
	}
	return gScratch.bytes;
}

typedef struct {
	uint8_t* out;
	size_t at;
} Writer;

static void putByte(Writer* w, uint8_t value) { w->out[w->at++] = value; }
static void putU16(Writer* w, uint32_t value) { w->out[w->at++] = (uint8_t)(value >> 8); w->out[w->at++] = (uint8_t)value; }
static void putBytes(Writer* w, const void* data, size_t length) { if (length) memcpy(w->out + w->at, data, length); w->at += length; }

static int varintLength(uint32_t value)
{
	return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

static void putHeader(Writer* w, uint8_t first, uint32_t remaining)
{
	putByte(w, first);
	do {
		uint8_t digit = remaining & 0x7F;
		remaining >>= 7;
		if (remaining)
			digit |= 0x80;
		putByte(w, digit);
	} while (remaining);
}

/*
 * Encoding runs twice over a packet: once to check and measure (w == NULL), once
 * to write into C memory. Property reads do not allocate, so the strings fetched
 * in the second pass are the ones checked in the first.
 */
typedef struct {
	xsMachine* the;
	int factory;	/* argument index of the error factory */
	Writer* w;	/* NULL while measuring */
	uint32_t remaining;
} Encoding;

#define FAIL(e, code, ...) mqttThrow((e)->the, (e)->factory, code, __VA_ARGS__)

static int getInteger(xsMachine* the, xsSlot* object, xsIdentifier id, xsSlot* into, int* present)
{
	xsmcGet(*into, *object, id);
	int type = xsmcTypeOf(*into);
	*present = type != xsUndefinedType;
	if (type == xsIntegerType)
		return xsmcToInteger(*into);
	if (type == xsNumberType) {
		double value = xsmcToNumber(*into);
		if (value != (double)(int32_t)value)
			return -1000000;
		return (int)value;
	}
	return *present ? -1000000 : 0;
}

static int getBoolean(xsMachine* the, xsSlot* object, xsIdentifier id, xsSlot* into)
{
	xsmcGet(*into, *object, id);
	return xsmcTest(*into);
}

static int checkQoS(Encoding* e, xsSlot* object, xsSlot* into)
{
	xsMachine* the = e->the;
	int present;
	int qos = getInteger(the, object, gKeys.qos, into, &present);
	if (qos < 0 || qos > 2)
		FAIL(e, "INVALID_QOS", "QoS must be 0, 1 or 2");
	return qos;
}

static int checkPacketId(Encoding* e, xsSlot* object, xsSlot* into)
{
	xsMachine* the = e->the;
	int present;
	int id = getInteger(the, object, gKeys.packetId, into, &present);
	if (id < 1 || id > 0xFFFF)
		FAIL(e, "INVALID_PACKET_ID", "packet id must be an integer from 1 to 65535");
	return id;
}

/* A string field: checked, measured, and written with its length prefix when writing. */
static uint32_t stringField(Encoding* e, xsSlot* value, const char* what)
{
	xsMachine* the = e->the;
	if (xsmcTypeOf(*value) != xsStringType) {
		xsTypeError("%s must be a string", what);
	}
	const uint8_t* text = (const uint8_t*)xsmcToString(*value);
	size_t length = strlen((const char*)text);
	if (!e->w) {
		const char* problem = checkEngineString(text, length);
		if (problem)
			FAIL(e, "INVALID_UTF8", "%s", problem);
		if (length > MQTT_MAX_STRING)
			FAIL(e, "MALFORMED_PACKET", "%s is %zu bytes; the limit is 65535", what, length);
	}
	else {
		putU16(e->w, (uint32_t)length);
		putBytes(e->w, text, length);
	}
	return 2 + (uint32_t)length;
}

/* A binary field (Uint8Array); missing counts as empty. */
static uint32_t binaryField(Encoding* e, xsSlot* value, const char* what, int prefixed, uint32_t limit)
{
	xsMachine* the = e->the;
	void* data = NULL;
	xsUnsignedValue length = 0;
	if (xsmcTypeOf(*value) != xsUndefinedType) {
		if (xsmcTypeOf(*value) != xsReferenceType || !xsmcIsInstanceOf(*value, xsTypedArrayPrototype))
			xsTypeError("%s must be a Uint8Array", what);
		xsmcGetBufferReadable(*value, &data, &length);
	}
	if (!e->w) {
		if (length > limit)
			FAIL(e, "MALFORMED_PACKET", "%s exceeds %u bytes", what, limit);
	}
	else {
		if (prefixed)
			putU16(e->w, (uint32_t)length);
		putBytes(e->w, data, length);
	}
	return (prefixed ? 2 : 0) + (uint32_t)length;
}

static int isWildcardFree(const char* text)
{
	return !strpbrk(text, "+#");
}

static void checkTopicName(Encoding* e, xsSlot* value)
{
	xsMachine* the = e->the;
	if (xsmcTypeOf(*value) != xsStringType)
		xsTypeError("topic must be a string");
	const char* text = xsmcToString(*value);
	if (!*text)
		FAIL(e, "INVALID_TOPIC", "topic name is empty");
	if (!isWildcardFree(text))
		FAIL(e, "INVALID_TOPIC", "wildcard in topic name \"%.60s\"", text);
}

static void checkTopicFilter(Encoding* e, xsSlot* value)
{
	xsMachine* the = e->the;
	if (xsmcTypeOf(*value) != xsStringType)
		xsTypeError("topic filter must be a string");
	const char* text = xsmcToString(*value);
	size_t length = strlen(text);
	if (!length)
		FAIL(e, "INVALID_TOPIC", "topic filter is empty");
	for (size_t i = 0; i < length; i++) {
		if (text[i] == '#') {
			if (i != length - 1 || (i > 0 && text[i - 1] != '/'))
				FAIL(e, "INVALID_TOPIC", "\"#\" must be the whole last level in \"%.60s\"", text);
		}
		else if (text[i] == '+') {
			if ((i > 0 && text[i - 1] != '/') || (i < length - 1 && text[i + 1] != '/'))
				FAIL(e, "INVALID_TOPIC", "\"+\" must be a whole level in \"%.60s\"", text);
		}
	}
}

static int arrayLength(xsMachine* the, xsSlot* array, xsSlot* into)
{
	if (xsmcTypeOf(*array) != xsReferenceType || !xsmcIsInstanceOf(*array, xsArrayPrototype))
		return -1;
	xsmcGet(*into, *array, gKeys.length);
	return xsmcToInteger(*into);
}

/* Measures (e->w == NULL) or writes the packet in xsVar(0). Vars 1 to 9 are scratch. */
static void encodePacket(Encoding* e)
{
	xsMachine* the = e->the;
	xsSlot* packet = &xsVar(0);
	int present;
	if (xsmcTypeOf(*packet) != xsReferenceType)
		xsTypeError("packet must be an object");
	int type = getInteger(the, packet, gKeys.type, &xsVar(1), &present);
	Writer* w = e->w;
	switch (type) {
	case PUBLISH: {
		int qos = checkQoS(e, packet, &xsVar(1));
		int packetId = qos ? checkPacketId(e, packet, &xsVar(1)) : 0;
		int dup = getBoolean(the, packet, gKeys.dup, &xsVar(1));
		int retain = getBoolean(the, packet, gKeys.retain, &xsVar(1));
		if (!w && !qos && dup)
			FAIL(e, "MALFORMED_PACKET", "DUP must be 0 for a QoS 0 PUBLISH");
		xsmcGet(xsVar(2), *packet, gKeys.topic);
		xsmcGet(xsVar(3), *packet, gKeys.payload);
		if (!w)
			checkTopicName(e, &xsVar(2));
		else
			putHeader(w, (uint8_t)(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0)), e->remaining);
		uint32_t remaining = stringField(e, &xsVar(2), "topic");
		if (qos) {
			if (w) putU16(w, (uint32_t)packetId);
			remaining += 2;
		}
		remaining += binaryField(e, &xsVar(3), "payload", 0, MQTT_MAX_REMAINING);
		if (!w && remaining > MQTT_MAX_REMAINING)
			FAIL(e, "PACKET_TOO_LARGE", "packet body of %u bytes exceeds the MQTT limit", remaining);
		e->remaining = remaining;
		return;
	}
	case CONNECT: {
		xsmcGet(xsVar(2), *packet, gKeys.protocolName);
		if (xsmcTypeOf(xsVar(2)) == xsUndefinedType)
			xsmcSetString(xsVar(2), "MQTT");
		int level = getInteger(the, packet, gKeys.protocolLevel, &xsVar(1), &present);
		if (!present)
			level = 4;
		if (!w) {
			const char* name = xsmcTypeOf(xsVar(2)) == xsStringType ? xsmcToString(xsVar(2)) : "";
			if (!((!strcmp(name, "MQTT") && level == 4) || (!strcmp(name, "MQIsdp") && level == 3)))
				FAIL(e, "UNSUPPORTED_PROTOCOL", "protocol %.20s level %d is not MQTT 3.1 or 3.1.1", name, level);
		}
		int keepalive = getInteger(the, packet, gKeys.keepalive, &xsVar(1), &present);
		if (!w && (keepalive < 0 || keepalive > 0xFFFF))
			xsRangeError("keepalive must be 0 to 65535 seconds");
		int clean = getBoolean(the, packet, gKeys.clean, &xsVar(1));
		xsmcGet(xsVar(3), *packet, gKeys.clientId);
		xsmcGet(xsVar(4), *packet, gKeys.will);
		xsmcGet(xsVar(5), *packet, gKeys.username);
		xsmcGet(xsVar(6), *packet, gKeys.password);
		int hasWill = xsmcTypeOf(xsVar(4)) != xsUndefinedType;
		int hasUser = xsmcTypeOf(xsVar(5)) != xsUndefinedType;
		int hasPassword = xsmcTypeOf(xsVar(6)) != xsUndefinedType;
		int willQoS = 0, willRetain = 0;
		if (hasWill) {
			if (xsmcTypeOf(xsVar(4)) != xsReferenceType)
				xsTypeError("will must be an object");
			xsmcGet(xsVar(7), xsVar(4), gKeys.topic);
			xsmcGet(xsVar(8), xsVar(4), gKeys.payload);
			if (!w)
				checkTopicName(e, &xsVar(7));
			willQoS = checkQoS(e, &xsVar(4), &xsVar(1));
			willRetain = getBoolean(the, &xsVar(4), gKeys.retain, &xsVar(1));
		}
		if (!w && hasPassword && !hasUser && level == 4)
			FAIL(e, "MALFORMED_PACKET", "a password requires a user name in MQTT 3.1.1");
		uint32_t flags = (clean ? 0x02 : 0) | (hasWill ? 0x04 | (willQoS << 3) | (willRetain ? 0x20 : 0) : 0)
			| (hasUser ? 0x80 : 0) | (hasPassword ? 0x40 : 0);
		if (w) putHeader(w, 0x10, e->remaining);
		uint32_t remaining = stringField(e, &xsVar(2), "protocol name");
		if (w) { putByte(w, (uint8_t)level); putByte(w, (uint8_t)flags); putU16(w, (uint32_t)keepalive); }
		remaining += 4;
		uint32_t clientId = stringField(e, &xsVar(3), "client id");
		if (!w && clientId == 2 && !clean)
			FAIL(e, "MALFORMED_PACKET", "an empty client id requires a clean session (MQTT-3.1.3-7)");
		remaining += clientId;
		if (hasWill) {
			remaining += stringField(e, &xsVar(7), "will topic");
			remaining += binaryField(e, &xsVar(8), "will payload", 1, MQTT_MAX_STRING);
		}
		if (hasUser)
			remaining += stringField(e, &xsVar(5), "user name");
		if (hasPassword)
			remaining += binaryField(e, &xsVar(6), "password", 1, MQTT_MAX_STRING);
		e->remaining = remaining;
		return;
	}
	case CONNACK: {
		int returnCode = getInteger(the, packet, gKeys.returnCode, &xsVar(1), &present);
		if (!w && (returnCode < 0 || returnCode > 255))
			xsRangeError("CONNACK return code must be 0 to 255");
		if (w) {
			putHeader(w, 0x20, 2);
			putByte(w, getBoolean(the, packet, gKeys.sessionPresent, &xsVar(1)) ? 1 : 0);
			putByte(w, (uint8_t)returnCode);
		}
		e->remaining = 2;
		return;
	}
	case SUBSCRIBE:
	case UNSUBSCRIBE: {
		int packetId = checkPacketId(e, packet, &xsVar(1));
		int subscribe = type == SUBSCRIBE;
		xsmcGet(xsVar(2), *packet, subscribe ? gKeys.subscriptions : gKeys.topics);
		int count = arrayLength(the, &xsVar(2), &xsVar(1));
		if (count <= 0)
			FAIL(e, "MALFORMED_PACKET", "%s needs at least one topic filter", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
		if (w) {
			putHeader(w, subscribe ? 0x82 : 0xA2, e->remaining);
			putU16(w, (uint32_t)packetId);
		}
		uint32_t remaining = 2;
		for (int i = 0; i < count; i++) {
			xsmcGetIndex(xsVar(3), xsVar(2), i);
			if (subscribe) {
				if (xsmcTypeOf(xsVar(3)) != xsReferenceType)
					xsTypeError("subscription must be an object");
				xsmcGet(xsVar(4), xsVar(3), gKeys.topic);
				if (!w)
					checkTopicFilter(e, &xsVar(4));
				int qos = checkQoS(e, &xsVar(3), &xsVar(1));
				remaining += stringField(e, &xsVar(4), "topic filter") + 1;
				if (w) putByte(w, (uint8_t)qos);
			}
			else {
				if (!w)
					checkTopicFilter(e, &xsVar(3));
				remaining += stringField(e, &xsVar(3), "topic filter");
			}
		}
		if (!w && remaining > MQTT_MAX_REMAINING)
			FAIL(e, "PACKET_TOO_LARGE", "packet body of %u bytes exceeds the MQTT limit", remaining);
		e->remaining = remaining;
		return;
	}
	case SUBACK: {
		int packetId = checkPacketId(e, packet, &xsVar(1));
		xsmcGet(xsVar(2), *packet, gKeys.returnCodes);
		int count = arrayLength(the, &xsVar(2), &xsVar(1));
		if (count <= 0)
			FAIL(e, "MALFORMED_PACKET", "SUBACK needs at least one return code");
		if (w) {
			putHeader(w, 0x90, e->remaining);
			putU16(w, (uint32_t)packetId);
		}
		for (int i = 0; i < count; i++) {
			xsmcGetIndex(xsVar(3), xsVar(2), i);
			int code = (xsmcTypeOf(xsVar(3)) == xsIntegerType || xsmcTypeOf(xsVar(3)) == xsNumberType) ? xsmcToInteger(xsVar(3)) : -1;
			if (!w && code != 0 && code != 1 && code != 2 && code != 0x80)
				FAIL(e, "MALFORMED_PACKET", "SUBACK return code must be 0, 1, 2 or 128");
			if (w) putByte(w, (uint8_t)code);
		}
		e->remaining = 2 + (uint32_t)count;
		return;
	}
	case PUBACK:
	case PUBREC:
	case PUBREL:
	case PUBCOMP:
	case UNSUBACK: {
		int packetId = checkPacketId(e, packet, &xsVar(1));
		if (w) {
			putHeader(w, (uint8_t)((type << 4) | (type == PUBREL ? 2 : 0)), 2);
			putU16(w, (uint32_t)packetId);
		}
		e->remaining = 2;
		return;
	}
	case PINGREQ:
	case PINGRESP:
	case DISCONNECT:
		if (w) putHeader(w, (uint8_t)(type << 4), 0);
		e->remaining = 0;
		return;
	default:
		xsTypeError("unknown packet type");
	}
}

/* Checks and encodes xsArg(0) into the scratch buffer; returns its frame length. */
static size_t encodeToScratch(xsMachine* the, int factory)
{
	mqttKeys(the);
	xsmcVars(MQTT_VARS);
	xsVar(0) = xsArg(0);
	Encoding e = { the, factory, NULL, 0 };
	encodePacket(&e);
	size_t total = 1 + (size_t)varintLength(e.remaining) + e.remaining;
	uint8_t* bytes = scratch(total);
	if (!bytes)
		xsUnknownError("out of memory for a %zu-byte frame", total);
	Writer writer = { bytes, 0 };
	e.w = &writer;
	encodePacket(&e);
	if (writer.at != total)
		xsUnknownError("encoder wrote %zu of %zu bytes", writer.at, total);
	return total;
}

/* length(packet, makeError) */
void xs_mqtt_length(xsMachine* the)
{
	mqttKeys(the);
	xsmcVars(MQTT_VARS);
	xsVar(0) = xsArg(0);
	Encoding e = { the, 1, NULL, 0 };
	encodePacket(&e);
	xsmcSetInteger(xsResult, 1 + varintLength(e.remaining) + (xsIntegerValue)e.remaining);
}

/*
 * The hot path: a PUBLISH read in one pass and written straight into the new
 * buffer. Returns 0 (nothing done) for anything unusual, which then takes the
 * general path with its complete checks and messages.
 */
static int encodePublishFast(xsMachine* the)
{
	xsSlot* packet = &xsVar(0);
	if (xsmcTypeOf(*packet) != xsReferenceType)
		return 0;
	xsmcGet(xsVar(1), *packet, gKeys.type);
	if (xsmcTypeOf(xsVar(1)) != xsIntegerType || xsmcToInteger(xsVar(1)) != PUBLISH)
		return 0;
	xsmcGet(xsVar(1), *packet, gKeys.qos);
	if (xsmcTypeOf(xsVar(1)) != xsIntegerType)
		return 0;
	int qos = xsmcToInteger(xsVar(1));
	if (qos < 0 || qos > 2)
		return 0;
	int packetId = 0;
	if (qos) {
		xsmcGet(xsVar(1), *packet, gKeys.packetId);
		if (xsmcTypeOf(xsVar(1)) != xsIntegerType)
			return 0;
		packetId = xsmcToInteger(xsVar(1));
		if (packetId < 1 || packetId > 0xFFFF)
			return 0;
	}
	xsmcGet(xsVar(1), *packet, gKeys.dup);
	int dup = xsmcTest(xsVar(1));
	if (dup && !qos)
		return 0;
	xsmcGet(xsVar(1), *packet, gKeys.retain);
	int retain = xsmcTest(xsVar(1));
	xsmcGet(xsVar(2), *packet, gKeys.topic);
	xsmcGet(xsVar(3), *packet, gKeys.payload);
	if (xsmcTypeOf(xsVar(2)) != xsStringType || xsmcTypeOf(xsVar(3)) != xsReferenceType || !xsmcIsInstanceOf(xsVar(3), xsTypedArrayPrototype))
		return 0;
	const char* topic = xsmcToString(xsVar(2));
	size_t topicLength = strlen(topic);
	if (!topicLength || topicLength > MQTT_MAX_STRING || strpbrk(topic, "+#") || checkEngineString((const uint8_t*)topic, topicLength))
		return 0;
	void* payload;
	xsUnsignedValue payloadLength;
	xsmcGetBufferReadable(xsVar(3), &payload, &payloadLength);
	uint64_t remaining = 2 + topicLength + (qos ? 2 : 0) + payloadLength;
	if (remaining > MQTT_MAX_REMAINING)
		return 0;
	size_t total = 1 + (size_t)varintLength((uint32_t)remaining) + (size_t)remaining;
	xsmcSetArrayBuffer(xsVar(4), NULL, (xsIntegerValue)total);
	/* The allocation may have moved the topic and the payload: fetch them again. */
	topic = xsmcToString(xsVar(2));
	xsmcGetBufferReadable(xsVar(3), &payload, &payloadLength);
	Writer w = { xsmcToArrayBuffer(xsVar(4)), 0 };
	putHeader(&w, (uint8_t)(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0)), (uint32_t)remaining);
	putU16(&w, (uint32_t)topicLength);
	putBytes(&w, topic, topicLength);
	if (qos)
		putU16(&w, (uint32_t)packetId);
	putBytes(&w, payload, payloadLength);
	xsResult = newUint8Array(xsVar(4));
	return 1;
}

/* encode(packet, makeError): a new Uint8Array holding the frame */
void xs_mqtt_encode(xsMachine* the)
{
	mqttKeys(the);
	xsmcVars(MQTT_VARS);
	xsVar(0) = xsArg(0);
	if (encodePublishFast(the))
		return;
	size_t total = encodeToScratch(the, 1);
	xsmcSetArrayBuffer(xsVar(1), gScratch.bytes, (xsIntegerValue)total);
	xsResult = newUint8Array(xsVar(1));
}

/* encodeInto(packet, out, offset, makeError): the offset after the frame */
void xs_mqtt_encode_into(xsMachine* the)
{
	size_t total = encodeToScratch(the, 3);
	if (xsmcTypeOf(xsArg(1)) != xsReferenceType || !xsmcIsInstanceOf(xsArg(1), xsTypedArrayPrototype))
		xsTypeError("output must be a Uint8Array");
	xsIntegerValue offset = xsmcTypeOf(xsArg(2)) == xsUndefinedType ? 0 : xsmcToInteger(xsArg(2));
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferWritable(xsArg(1), &data, &length);
	if (offset < 0 || (size_t)offset + total > length)
		xsRangeError("output needs %zu bytes at offset %d, has %d", total, (int)offset, (int)length - (int)offset);
	memcpy((uint8_t*)data + offset, gScratch.bytes, total);
	xsmcSetInteger(xsResult, offset + (xsIntegerValue)total);
}

/* ---- decoding ---- */

typedef struct {
	uint32_t maxPacketSize;
	uint8_t* pending;
	uint32_t pendingCapacity;
	uint32_t pendingLength;
	uint32_t frameLength;	/* 0 while the pending header is incomplete */
	uint32_t generation;
	uint8_t lastTopic[128];	/* the last PUBLISH topic that passed the checks */
	uint32_t lastTopicLength;
	char errorCode[32];	/* set once failed */
	char errorMessage[160];
} MqttDecoder;

void xs_mqtt_decoder_destructor(void* data)
{
	MqttDecoder* decoder = data;
	if (decoder) {
		free(decoder->pending);
		free(decoder);
	}
}

static MqttDecoder* getDecoder(xsMachine* the)
{
	MqttDecoder* decoder = xsmcGetHostData(xsThis);
	if (!decoder)
		xsUnknownError("decoder is closed");
	return decoder;
}

/* constructor(maxPacketSize) */
void xs_mqtt_decoder_constructor(xsMachine* the)
{
	double max = xsmcArgc > 0 && xsmcTypeOf(xsArg(0)) != xsUndefinedType ? xsmcToNumber(xsArg(0)) : (double)MQTT_MAX_FRAME;
	if (!(max >= 2 && max <= (double)MQTT_MAX_FRAME) || max != (double)(uint32_t)max)
		xsRangeError("maxPacketSize must be an integer from 2 to %u", MQTT_MAX_FRAME);
	MqttDecoder* decoder = calloc(1, sizeof(MqttDecoder));
	if (!decoder)
		xsUnknownError("out of memory");
	decoder->maxPacketSize = (uint32_t)max;
	xsmcSetHostData(xsThis, decoder);
}

void xs_mqtt_decoder_reset(xsMachine* the)
{
	MqttDecoder* decoder = getDecoder(the);
	free(decoder->pending);
	decoder->pending = NULL;
	decoder->pendingCapacity = 0;
	decoder->pendingLength = 0;
	decoder->frameLength = 0;
	decoder->errorCode[0] = 0;
	decoder->generation++;
}

void xs_mqtt_decoder_get_buffered(xsMachine* the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)getDecoder(the)->pendingLength);
}

#define FACTORY_ARG 2

static void decoderFail(xsMachine* the, MqttDecoder* decoder, const char* code, const char* format, ...) __attribute__((noreturn, format(printf, 4, 5)));
static void decoderFail(xsMachine* the, MqttDecoder* decoder, const char* code, const char* format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(decoder->errorMessage, sizeof(decoder->errorMessage), format, arguments);
	va_end(arguments);
	snprintf(decoder->errorCode, sizeof(decoder->errorCode), "%s", code);
	free(decoder->pending);
	decoder->pending = NULL;
	decoder->pendingCapacity = 0;
	decoder->pendingLength = 0;
	decoder->frameLength = 0;
	mqttThrow(the, FACTORY_ARG, code, "%s", decoder->errorMessage);
}

static const int8_t gRequiredFlags[16] = { 0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0 };

/* Frame length from a fixed header, or 0 if the header is incomplete. */
static uint32_t frameTotal(xsMachine* the, MqttDecoder* decoder, const uint8_t* bytes, uint32_t length)
{
	uint8_t first = bytes[0];
	int type = first >> 4;
	int flags = first & 0x0F;
	if (type == 0 || type == 15)
		decoderFail(the, decoder, "UNKNOWN_PACKET_TYPE", "unknown packet type %d", type);
	int required = gRequiredFlags[type];
	if (required >= 0) {
		if (flags != required)
			decoderFail(the, decoder, "INVALID_FLAGS", "reserved flags 0x%x in packet type %d", flags, type);
	}
	else {
		int qos = (flags >> 1) & 3;
		if (qos == 3)
			decoderFail(the, decoder, "INVALID_QOS", "PUBLISH with QoS 3");
		if (qos == 0 && (flags & 8))
			decoderFail(the, decoder, "INVALID_FLAGS", "reserved flags 0x%x in packet type %d", flags, type);
	}
	uint32_t remaining = 0;
	uint32_t i = 1;
	int shift = 0;
	for (;;) {
		if (i >= length)
			return 0;
		uint8_t digit = bytes[i++];
		remaining |= (uint32_t)(digit & 0x7F) << shift;
		if (!(digit & 0x80))
			break;
		shift += 7;
		if (shift == 28)
			decoderFail(the, decoder, "MALFORMED_REMAINING_LENGTH", "remaining length longer than four bytes");
	}
	uint64_t total = (uint64_t)i + remaining;
	if (total > decoder->maxPacketSize)
		decoderFail(the, decoder, "PACKET_TOO_LARGE", "incoming packet of %llu bytes exceeds the limit of %u",
			(unsigned long long)total, decoder->maxPacketSize);
	return (uint32_t)total;
}

static int reserve(MqttDecoder* decoder, uint32_t capacity)
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

typedef struct {
	xsMachine* the;
	MqttDecoder* decoder;
	const uint8_t* bytes;
	uint32_t at;
	uint32_t end;
} Reader;

#define DFAIL(r, code, ...) decoderFail((r)->the, (r)->decoder, code, __VA_ARGS__)

static uint32_t readU16(Reader* r, const char* what)
{
	if (r->at + 2 > r->end)
		DFAIL(r, "MALFORMED_PACKET", "%s runs past the end of the packet", what);
	uint32_t value = ((uint32_t)r->bytes[r->at] << 8) | r->bytes[r->at + 1];
	r->at += 2;
	return value;
}

static uint32_t readPacketId(Reader* r)
{
	uint32_t id = readU16(r, "packet id");
	if (!id)
		DFAIL(r, "INVALID_PACKET_ID", "packet id 0 is not allowed");
	return id;
}

/* A length-prefixed field: returns its start and sets *length. */
static uint32_t readField(Reader* r, uint32_t* length, const char* what)
{
	*length = readU16(r, what);
	if (r->at + *length > r->end)
		DFAIL(r, "MALFORMED_PACKET", "%s runs past the end of the packet", what);
	uint32_t start = r->at;
	r->at += *length;
	return start;
}

static void readString(Reader* r, xsSlot* into, const char* what)
{
	xsMachine* the = r->the;
	uint32_t length;
	uint32_t start = readField(r, &length, what);
	const char* problem = checkWireString(r->bytes + start, length);
	if (problem)
		DFAIL(r, "INVALID_UTF8", "%s", problem);
	xsmcSetStringBuffer(*into, (char*)r->bytes + start, (xsIntegerValue)length);
}

static void newBytes(xsMachine* the, xsSlot* into, const uint8_t* data, uint32_t length, xsSlot* scratchSlot)
{
	xsmcSetArrayBuffer(*scratchSlot, (void*)data, (xsIntegerValue)length);
	*into = newUint8Array(*scratchSlot);
}

static void checkFilterBytes(Reader* r, const uint8_t* text, uint32_t length)
{
	for (uint32_t i = 0; i < length; i++) {
		if (text[i] == '#') {
			if (i != length - 1 || (i > 0 && text[i - 1] != '/'))
				DFAIL(r, "INVALID_TOPIC", "misplaced \"#\" in a topic filter");
		}
		else if (text[i] == '+') {
			if ((i > 0 && text[i - 1] != '/') || (i < length - 1 && text[i + 1] != '/'))
				DFAIL(r, "INVALID_TOPIC", "misplaced \"+\" in a topic filter");
		}
	}
	if (!length)
		DFAIL(r, "INVALID_TOPIC", "topic filter is empty");
}

/* Decodes one complete frame held in C memory into xsVar(1). Uses vars 1 to 9. */
static void decodeFrame(Reader* r)
{
	xsMachine* the = r->the;
	uint8_t first = r->bytes[0];
	int type = first >> 4;
	r->at = 1;
	while (r->bytes[r->at++] & 0x80)
		;
	uint32_t body = r->end - r->at;
	xsmcSetNewObject(xsVar(1));
	xsmcSetInteger(xsVar(2), type);
	xsmcSet(xsVar(1), gKeys.type, xsVar(2));
	switch (type) {
	case PUBLISH: {
		int qos = (first >> 1) & 3;
		uint32_t length;
		uint32_t start = readField(r, &length, "topic");
		if (!length)
			DFAIL(r, "INVALID_TOPIC", "PUBLISH with an empty topic");
		MqttDecoder* decoder = r->decoder;
		if (length != decoder->lastTopicLength || memcmp(decoder->lastTopic, r->bytes + start, length)) {
			const char* problem = checkWireString(r->bytes + start, length);
			if (problem)
				DFAIL(r, "INVALID_UTF8", "%s", problem);
			if (memchr(r->bytes + start, '+', length) || memchr(r->bytes + start, '#', length))
				DFAIL(r, "INVALID_TOPIC", "wildcard in PUBLISH topic");
			if (length <= sizeof(decoder->lastTopic)) {
				memcpy(decoder->lastTopic, r->bytes + start, length);
				decoder->lastTopicLength = length;
			}
		}
		xsmcSetStringBuffer(xsVar(2), (char*)r->bytes + start, (xsIntegerValue)length);
		xsmcSet(xsVar(1), gKeys.topic, xsVar(2));
		uint32_t packetId = qos ? readPacketId(r) : 0;
		newBytes(the, &xsVar(2), r->bytes + r->at, r->end - r->at, &xsVar(3));
		xsmcSet(xsVar(1), gKeys.payload, xsVar(2));
		xsmcSetInteger(xsVar(2), qos);
		xsmcSet(xsVar(1), gKeys.qos, xsVar(2));
		xsmcSetBoolean(xsVar(2), (first & 1) != 0);
		xsmcSet(xsVar(1), gKeys.retain, xsVar(2));
		xsmcSetBoolean(xsVar(2), (first & 8) != 0);
		xsmcSet(xsVar(1), gKeys.dup, xsVar(2));
		xsmcSetInteger(xsVar(2), (xsIntegerValue)packetId);
		xsmcSet(xsVar(1), gKeys.packetId, xsVar(2));
		return;
	}
	case PUBACK:
	case PUBREC:
	case PUBREL:
	case PUBCOMP:
	case UNSUBACK:
		if (body != 2)
			DFAIL(r, "MALFORMED_PACKET", "packet type %d must have a remaining length of 2", type);
		xsmcSetInteger(xsVar(2), (xsIntegerValue)readPacketId(r));
		xsmcSet(xsVar(1), gKeys.packetId, xsVar(2));
		return;
	case PINGREQ:
	case PINGRESP:
	case DISCONNECT:
		if (body)
			DFAIL(r, "MALFORMED_PACKET", "packet type %d must have a remaining length of 0", type);
		return;
	case CONNACK: {
		if (body != 2)
			DFAIL(r, "MALFORMED_PACKET", "CONNACK must have a remaining length of 2");
		uint8_t flags = r->bytes[r->at];
		uint8_t code = r->bytes[r->at + 1];
		if (flags & 0xFE)
			DFAIL(r, "MALFORMED_PACKET", "CONNACK flags bits 7 to 1 must be 0");
		if (code > 5)
			DFAIL(r, "MALFORMED_PACKET", "CONNACK return code %d is reserved", code);
		if (code && flags)
			DFAIL(r, "MALFORMED_PACKET", "CONNACK refusing a connection must not set session present");
		xsmcSetBoolean(xsVar(2), flags == 1);
		xsmcSet(xsVar(1), gKeys.sessionPresent, xsVar(2));
		xsmcSetInteger(xsVar(2), code);
		xsmcSet(xsVar(1), gKeys.returnCode, xsVar(2));
		return;
	}
	case SUBSCRIBE:
	case UNSUBSCRIBE: {
		int subscribe = type == SUBSCRIBE;
		xsmcSetInteger(xsVar(2), (xsIntegerValue)readPacketId(r));
		xsmcSet(xsVar(1), gKeys.packetId, xsVar(2));
		if (r->at == r->end)
			DFAIL(r, "MALFORMED_PACKET", "%s without topic filters", subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE");
		xsmcSetNewArray(xsVar(3), 0);
		int index = 0;
		while (r->at < r->end) {
			uint32_t length;
			uint32_t start = readField(r, &length, "topic filter");
			const char* problem = checkWireString(r->bytes + start, length);
			if (problem)
				DFAIL(r, "INVALID_UTF8", "%s", problem);
			if (subscribe) {
				if (r->at >= r->end)
					DFAIL(r, "MALFORMED_PACKET", "requested QoS runs past the end of the packet");
				uint8_t options = r->bytes[r->at++];
				if (options > 2)
					DFAIL(r, "INVALID_QOS", "requested QoS byte 0x%x", options);
				checkFilterBytes(r, r->bytes + start, length);
				xsmcSetNewObject(xsVar(4));
				xsmcSetStringBuffer(xsVar(5), (char*)r->bytes + start, (xsIntegerValue)length);
				xsmcSet(xsVar(4), gKeys.topic, xsVar(5));
				xsmcSetInteger(xsVar(5), options);
				xsmcSet(xsVar(4), gKeys.qos, xsVar(5));
			}
			else {
				checkFilterBytes(r, r->bytes + start, length);
				xsmcSetStringBuffer(xsVar(4), (char*)r->bytes + start, (xsIntegerValue)length);
			}
			xsmcSetIndex(xsVar(3), index++, xsVar(4));
		}
		xsmcSet(xsVar(1), subscribe ? gKeys.subscriptions : gKeys.topics, xsVar(3));
		return;
	}
	case SUBACK: {
		xsmcSetInteger(xsVar(2), (xsIntegerValue)readPacketId(r));
		xsmcSet(xsVar(1), gKeys.packetId, xsVar(2));
		if (r->at == r->end)
			DFAIL(r, "MALFORMED_PACKET", "SUBACK without return codes");
		xsmcSetNewArray(xsVar(3), 0);
		int index = 0;
		while (r->at < r->end) {
			uint8_t code = r->bytes[r->at++];
			if (code > 2 && code != 0x80)
				DFAIL(r, "MALFORMED_PACKET", "SUBACK return code 0x%x is not allowed", code);
			xsmcSetInteger(xsVar(4), code);
			xsmcSetIndex(xsVar(3), index++, xsVar(4));
		}
		xsmcSet(xsVar(1), gKeys.returnCodes, xsVar(3));
		return;
	}
	default: {	/* CONNECT */
		uint32_t length;
		uint32_t nameStart = readField(r, &length, "protocol name");
		uint32_t nameLength = length;
		if (r->at + 4 > r->end)
			DFAIL(r, "MALFORMED_PACKET", "CONNECT variable header runs past the end of the packet");
		uint8_t level = r->bytes[r->at];
		uint8_t flags = r->bytes[r->at + 1];
		uint32_t keepalive = ((uint32_t)r->bytes[r->at + 2] << 8) | r->bytes[r->at + 3];
		r->at += 4;
		int isMqtt = nameLength == 4 && !memcmp(r->bytes + nameStart, "MQTT", 4) && level == 4;
		int isMqisdp = nameLength == 6 && !memcmp(r->bytes + nameStart, "MQIsdp", 6) && level == 3;
		if (!isMqtt && !isMqisdp)
			DFAIL(r, "UNSUPPORTED_PROTOCOL", "protocol level %d is not MQTT 3.1 or 3.1.1", level);
		if (flags & 0x01)
			DFAIL(r, "MALFORMED_PACKET", "CONNECT reserved flag must be 0");
		int hasWill = flags & 0x04;
		int willQoS = (flags >> 3) & 3;
		int willRetain = flags & 0x20;
		int hasPassword = flags & 0x40;
		int hasUser = flags & 0x80;
		if (!hasWill && (willQoS || willRetain))
			DFAIL(r, "MALFORMED_PACKET", "will QoS and retain must be 0 without a will");
		if (willQoS == 3)
			DFAIL(r, "INVALID_QOS", "will QoS 3");
		if (hasPassword && !hasUser && level == 4)
			DFAIL(r, "MALFORMED_PACKET", "password flag without user name flag");
		xsmcSetStringBuffer(xsVar(2), (char*)r->bytes + nameStart, (xsIntegerValue)nameLength);
		xsmcSet(xsVar(1), gKeys.protocolName, xsVar(2));
		xsmcSetInteger(xsVar(2), level);
		xsmcSet(xsVar(1), gKeys.protocolLevel, xsVar(2));
		readString(r, &xsVar(2), "client id");
		xsmcSet(xsVar(1), gKeys.clientId, xsVar(2));
		xsmcSetInteger(xsVar(2), (xsIntegerValue)keepalive);
		xsmcSet(xsVar(1), gKeys.keepalive, xsVar(2));
		xsmcSetBoolean(xsVar(2), (flags & 0x02) != 0);
		xsmcSet(xsVar(1), gKeys.clean, xsVar(2));
		if (hasWill) {
			xsmcSetNewObject(xsVar(3));
			uint32_t topicStart = readField(r, &length, "will topic");
			const char* problem = checkWireString(r->bytes + topicStart, length);
			if (problem)
				DFAIL(r, "INVALID_UTF8", "%s", problem);
			if (!length || memchr(r->bytes + topicStart, '+', length) || memchr(r->bytes + topicStart, '#', length))
				DFAIL(r, "INVALID_TOPIC", "will topic must be a topic name");
			xsmcSetStringBuffer(xsVar(2), (char*)r->bytes + topicStart, (xsIntegerValue)length);
			xsmcSet(xsVar(3), gKeys.topic, xsVar(2));
			uint32_t payloadStart = readField(r, &length, "will message");
			newBytes(the, &xsVar(2), r->bytes + payloadStart, length, &xsVar(4));
			xsmcSet(xsVar(3), gKeys.payload, xsVar(2));
			xsmcSetInteger(xsVar(2), willQoS);
			xsmcSet(xsVar(3), gKeys.qos, xsVar(2));
			xsmcSetBoolean(xsVar(2), willRetain != 0);
			xsmcSet(xsVar(3), gKeys.retain, xsVar(2));
			xsmcSet(xsVar(1), gKeys.will, xsVar(3));
		}
		if (hasUser) {
			readString(r, &xsVar(2), "user name");
			xsmcSet(xsVar(1), gKeys.username, xsVar(2));
		}
		if (hasPassword) {
			uint32_t start = readField(r, &length, "password");
			newBytes(the, &xsVar(2), r->bytes + start, length, &xsVar(4));
			xsmcSet(xsVar(1), gKeys.password, xsVar(2));
		}
		if (r->at != r->end)
			DFAIL(r, "MALFORMED_PACKET", "%u unexpected bytes after the CONNECT payload", r->end - r->at);
		return;
	}
	}
}

/*
 * Decodes the frame now held at the start of decoder->pending and hands it to
 * onPacket; returns 0 if the callback reset the decoder.
 */
static int deliver(xsMachine* the, MqttDecoder* decoder, uint32_t total)
{
	uint32_t generation = decoder->generation;
	Reader reader = { the, decoder, decoder->pending, 0, total };
	decoder->pendingLength = 0;
	decoder->frameLength = 0;
	decodeFrame(&reader);
	if (decoder->pendingCapacity > MQTT_KEEP_PENDING) {
		free(decoder->pending);
		decoder->pending = NULL;
		decoder->pendingCapacity = 0;
	}
	xsCallFunction1(xsArg(1), xsUndefined, xsVar(1));
	return generation == decoder->generation && xsmcGetHostData(xsThis) == decoder;
}

/* parse(chunk, onPacket, makeError) */
void xs_mqtt_decoder_parse(xsMachine* the)
{
	mqttKeys(the);
	xsmcVars(MQTT_VARS);
	MqttDecoder* decoder = getDecoder(the);
	if (decoder->errorCode[0])
		mqttThrow(the, FACTORY_ARG, decoder->errorCode, "%s", decoder->errorMessage);
	if (xsmcTypeOf(xsArg(0)) != xsReferenceType || !xsmcIsInstanceOf(xsArg(0), xsTypedArrayPrototype))
		xsTypeError("chunk must be a Uint8Array");
	if (!xsmcIsCallable(xsArg(1)))
		xsTypeError("onPacket must be a function");
	void* data;
	xsUnsignedValue size;
	xsmcGetBufferReadable(xsArg(0), &data, &size);
	uint32_t end = (uint32_t)size;
	uint32_t pos = 0;
	while (pos < end) {
		/* The chunk can move whenever JavaScript ran or allocated: fetch it again. */
		xsmcGetBufferReadable(xsArg(0), &data, &size);
		const uint8_t* bytes = data;
		if (decoder->pendingLength == 0) {
			uint32_t total = frameTotal(the, decoder, bytes + pos, end - pos);
			uint32_t take = total && total <= end - pos ? total : end - pos;
			uint32_t capacity = total > take ? total : take;
			if (!reserve(decoder, capacity < MQTT_MIN_PENDING ? MQTT_MIN_PENDING : capacity))
				xsUnknownError("out of memory");
			memcpy(decoder->pending, bytes + pos, take);
			decoder->pendingLength = take;
			decoder->frameLength = total;
			pos += take;
		}
		else if (decoder->frameLength == 0) {
			decoder->pending[decoder->pendingLength++] = bytes[pos++];
			decoder->frameLength = frameTotal(the, decoder, decoder->pending, decoder->pendingLength);
			if (decoder->frameLength && !reserve(decoder, decoder->frameLength))
				xsUnknownError("out of memory");
		}
		else {
			uint32_t take = decoder->frameLength - decoder->pendingLength;
			if (take > end - pos)
				take = end - pos;
			memcpy(decoder->pending + decoder->pendingLength, bytes + pos, take);
			decoder->pendingLength += take;
			pos += take;
		}
		if (decoder->frameLength && decoder->pendingLength == decoder->frameLength) {
			if (!deliver(the, decoder, decoder->frameLength))
				return;
		}
	}
}
