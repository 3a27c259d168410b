/*
 * The C MQTT codec behind the same interface as modules/mqtt/encoder.ts and
 * decoder.ts (the reference implementation): same packet objects, same checks,
 * same error codes. This file only converts between JavaScript packet objects
 * and the MqttPacket struct; mqtt-wire.c checks, writes and parses frames.
 * Portable C on the xsmc API; no host services.
 *
 * The JavaScript side is checked here: a field of the wrong JavaScript type is
 * a TypeError, found before the wire layer looks at values, so a packet with
 * both kinds of problem reports the TypeError.
 *
 * Memory safety: JavaScript buffers and strings live in the chunk heap and move
 * when the collector compacts it, which only an allocation can trigger. The
 * struct's byte fields point into them, so between reading a packet and writing
 * its frame nothing is allocated, or the pointers are fetched again after the
 * allocation. Decoded packets point into the decoder's C memory, which does not
 * move.
 */

#include "xsmc.h"
#include "mqtt-wire.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Property keys, looked up once per machine. */
typedef struct {
	xsMachine* machine;
	xsIdentifier type, topic, payload, qos, retain, dup, packetId, protocolName, protocolLevel,
		clientId, keepalive, clean, will, username, password, sessionPresent, returnCode,
		subscriptions, returnCodes, topics, length, Uint8Array;
} MqttKeys;

static MqttKeys gKeys;

/*
 * An object whose only property is the Uint8Array constructor, for xsNew1: the
 * engine's macro finds a constructor by property, and a one-property object
 * finds it faster than the global object does, which matters on every packet.
 * Kept for the machine's life.
 */
static xsSlot gConstructors;

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
	xsmcSetNewObject(gConstructors);
	xsRemember(gConstructors);
	/* The result slot is free until the entry point sets it: it carries the constructor across. */
	xsmcGet(xsResult, xsGlobal, gKeys.Uint8Array);
	xsmcSet(gConstructors, gKeys.Uint8Array, xsResult);
	xsmcSetUndefined(xsResult);
	gKeys.machine = the;
}

/* new Uint8Array(buffer) */
#define newUint8Array(_BUFFER) xsNew1(gConstructors, gKeys.Uint8Array, _BUFFER)

/* ---- errors ---- */

/*
 * Throws the MqttError made by the factory passed as argument `factoryArg`.
 * Its two vars are added to the caller's with xsmcVars, which is why it must
 * be called from an entry point's body, not while arguments are being pushed.
 */
static void mqttThrow(xsMachine* the, int factoryArg, const char* code, const char* message) __attribute__((noreturn));
static void mqttThrow(xsMachine* the, int factoryArg, const char* code, const char* message)
{
	xsIntegerValue at = xsmcVars(2);
	xsmcSetString(xsVar(at), (char*)code);
	xsmcSetString(xsVar(at + 1), (char*)message);
	if (xsmcArgc > factoryArg && xsmcIsCallable(xsArg(factoryArg))) {
		xsResult = xsCallFunction2(xsArg(factoryArg), xsUndefined, xsVar(at), xsVar(at + 1));
		xsThrow(xsResult);
	}
	xsUnknownError("%s: %s", code, message);
}

/* A wire-layer failure as the JavaScript codec reports it. */
static void throwWire(xsMachine* the, int factoryArg, const MqttWireError* error) __attribute__((noreturn));
static void throwWire(xsMachine* the, int factoryArg, const MqttWireError* error)
{
	switch (error->status) {
	case MQTT_WIRE_OUT_OF_RANGE:
		xsRangeError("%s", error->message);
	case MQTT_WIRE_BAD_TYPE:
		xsTypeError("%s", error->message);
	case MQTT_WIRE_NO_MEMORY:
		xsUnknownError("out of memory");
	default: {
		const char* code = mqttWireStatusName(error->status);
		mqttThrow(the, factoryArg, code ? code : "MALFORMED_PACKET", error->message);
	}
	}
}

/* ---- JavaScript packet to MqttPacket ---- */

/*
 * Vars of the encoding entry points: where the fields whose bytes the struct
 * points to are kept alive. PUBLISH needs the first ones only; the others are
 * added with xsmcVars when a packet needs them.
 */
enum {
	EVAR_VALUE,	/* a number or flag being read */
	EVAR_TOPIC,
	EVAR_PAYLOAD,
	EVAR_FRAME,	/* the ArrayBuffer of the frame */
	EVAR_PUBLISH_COUNT,
	EVAR_PROTOCOL = EVAR_PUBLISH_COUNT,
	EVAR_CLIENT_ID,
	EVAR_WILL,
	EVAR_WILL_TOPIC,
	EVAR_WILL_PAYLOAD,
	EVAR_USERNAME,
	EVAR_PASSWORD,
	EVAR_LIST,
	EVAR_ENTRY,
	EVAR_ENTRY_TOPIC,
	EVAR_COUNT
};

/* A number as an int32: MQTT_WIRE_NOT_INTEGER for anything else, so the wire layer reports the range error. */
static inline int32_t integerOf(xsMachine* the, xsSlot* value, int type)
{
	if (type == xsIntegerType)
		return xsmcToInteger(*value);
	if (type == xsNumberType) {
		double number = xsmcToNumber(*value);
		if (number >= -2147483648.0 && number <= 2147483647.0 && number == (double)(int32_t)number)
			return (int32_t)number;
	}
	return MQTT_WIRE_NOT_INTEGER;
}

static inline int32_t toInteger(xsMachine* the, xsSlot* value)
{
	return integerOf(the, value, xsmcTypeOf(*value));
}

/* An integer property; `absent` when it is undefined. */
static inline int32_t readInteger(xsMachine* the, xsSlot* object, xsIdentifier id, int32_t absent)
{
	xsmcGet(xsVar(EVAR_VALUE), *object, id);
	int type = xsmcTypeOf(xsVar(EVAR_VALUE));
	return type == xsUndefinedType ? absent : integerOf(the, &xsVar(EVAR_VALUE), type);
}

static inline uint8_t readBoolean(xsMachine* the, xsSlot* object, xsIdentifier id)
{
	xsmcGet(xsVar(EVAR_VALUE), *object, id);
	return xsmcTest(xsVar(EVAR_VALUE)) ? 1 : 0;
}

/* A string field; the wire layer checks its bytes. */
static inline void stringBytes(xsMachine* the, xsSlot* value, const char* what, MqttBytes* out)
{
	if (xsmcTypeOf(*value) != xsStringType)
		xsTypeError("%s must be a string", what);
	const char* text = xsmcToString(*value);
	out->bytes = (const uint8_t*)text;
	out->length = (uint32_t)strlen(text);
}

/* A binary field (Uint8Array); undefined counts as empty. */
static inline void binaryBytes(xsMachine* the, xsSlot* value, const char* what, MqttBytes* out)
{
	out->bytes = NULL;
	out->length = 0;
	if (xsmcTypeOf(*value) == xsUndefinedType)
		return;
	if (xsmcTypeOf(*value) != xsReferenceType || !xsmcIsInstanceOf(*value, xsTypedArrayPrototype))
		xsTypeError("%s must be a Uint8Array", what);
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(*value, &data, &length);
	out->bytes = data;
	out->length = (uint32_t)length;
}

/* Entries of the list packet being encoded; grown as elements are read. */
static MqttListEntry* gEntries;
static uint32_t gEntriesCapacity;

static MqttListEntry* entryAt(xsMachine* the, uint32_t index)
{
	if (index >= gEntriesCapacity) {
		uint32_t capacity = gEntriesCapacity ? gEntriesCapacity * 2 : 16;
		MqttListEntry* entries = realloc(gEntries, capacity * sizeof(MqttListEntry));
		if (!entries)
			xsUnknownError("out of memory for a list of %u entries", (unsigned)capacity);
		gEntries = entries;
		gEntriesCapacity = capacity;
	}
	return &gEntries[index];
}

/* The length of an Array; 0 for anything else, which the wire layer reports as a missing list. */
static uint32_t arrayLength(xsMachine* the, xsSlot* array)
{
	if (xsmcTypeOf(*array) != xsReferenceType || !xsmcIsInstanceOf(*array, xsArrayPrototype))
		return 0;
	xsmcGet(xsVar(EVAR_VALUE), *array, gKeys.length);
	xsIntegerValue length = xsmcToInteger(xsVar(EVAR_VALUE));
	return length > 0 ? (uint32_t)length : 0;
}

static void readList(xsMachine* the, xsSlot* packet, MqttPacket* p)
{
	p->packetId = readInteger(the, packet, gKeys.packetId, 0);
	xsIdentifier id = p->type == MQTT_SUBSCRIBE ? gKeys.subscriptions : p->type == MQTT_UNSUBSCRIBE ? gKeys.topics : gKeys.returnCodes;
	xsmcGet(xsVar(EVAR_LIST), *packet, id);
	uint32_t count = arrayLength(the, &xsVar(EVAR_LIST));
	for (uint32_t i = 0; i < count; i++) {
		MqttListEntry* entry = entryAt(the, i);
		xsmcGetIndex(xsVar(EVAR_ENTRY), xsVar(EVAR_LIST), i);
		entry->topic.bytes = NULL;
		entry->topic.length = 0;
		entry->value = 0;
		if (p->type == MQTT_SUBSCRIBE) {
			if (xsmcTypeOf(xsVar(EVAR_ENTRY)) != xsReferenceType)
				xsTypeError("subscription must be an object");
			xsmcGet(xsVar(EVAR_ENTRY_TOPIC), xsVar(EVAR_ENTRY), gKeys.topic);
			stringBytes(the, &xsVar(EVAR_ENTRY_TOPIC), "topic filter", &entry->topic);
			entry->value = readInteger(the, &xsVar(EVAR_ENTRY), gKeys.qos, 0);
		}
		else if (p->type == MQTT_UNSUBSCRIBE)
			stringBytes(the, &xsVar(EVAR_ENTRY), "topic filter", &entry->topic);
		else
			entry->value = toInteger(the, &xsVar(EVAR_ENTRY));
	}
	p->list = gEntries;
	p->count = count;
}

static void readConnect(xsMachine* the, xsSlot* packet, MqttPacket* p)
{
	xsmcGet(xsVar(EVAR_PROTOCOL), *packet, gKeys.protocolName);
	if (xsmcTypeOf(xsVar(EVAR_PROTOCOL)) == xsUndefinedType)
		xsmcSetString(xsVar(EVAR_PROTOCOL), "MQTT");
	if (xsmcTypeOf(xsVar(EVAR_PROTOCOL)) == xsStringType)
		stringBytes(the, &xsVar(EVAR_PROTOCOL), "protocol name", &p->protocolName);
	else
		p->protocolName = (MqttBytes){ NULL, 0 };	/* not a protocol at all: UNSUPPORTED_PROTOCOL */
	p->protocolLevel = readInteger(the, packet, gKeys.protocolLevel, 4);
	p->keepalive = readInteger(the, packet, gKeys.keepalive, 0);
	p->clean = readBoolean(the, packet, gKeys.clean);
	xsmcGet(xsVar(EVAR_CLIENT_ID), *packet, gKeys.clientId);
	stringBytes(the, &xsVar(EVAR_CLIENT_ID), "client id", &p->clientId);
	xsmcGet(xsVar(EVAR_WILL), *packet, gKeys.will);
	p->hasWill = xsmcTypeOf(xsVar(EVAR_WILL)) != xsUndefinedType;
	if (p->hasWill) {
		if (xsmcTypeOf(xsVar(EVAR_WILL)) != xsReferenceType)
			xsTypeError("will must be an object");
		xsmcGet(xsVar(EVAR_WILL_TOPIC), xsVar(EVAR_WILL), gKeys.topic);
		stringBytes(the, &xsVar(EVAR_WILL_TOPIC), "topic", &p->willTopic);
		xsmcGet(xsVar(EVAR_WILL_PAYLOAD), xsVar(EVAR_WILL), gKeys.payload);
		binaryBytes(the, &xsVar(EVAR_WILL_PAYLOAD), "will payload", &p->willPayload);
		p->willQos = readInteger(the, &xsVar(EVAR_WILL), gKeys.qos, 0);
		p->willRetain = readBoolean(the, &xsVar(EVAR_WILL), gKeys.retain);
	}
	xsmcGet(xsVar(EVAR_USERNAME), *packet, gKeys.username);
	p->hasUsername = xsmcTypeOf(xsVar(EVAR_USERNAME)) != xsUndefinedType;
	if (p->hasUsername)
		stringBytes(the, &xsVar(EVAR_USERNAME), "user name", &p->username);
	xsmcGet(xsVar(EVAR_PASSWORD), *packet, gKeys.password);
	p->hasPassword = xsmcTypeOf(xsVar(EVAR_PASSWORD)) != xsUndefinedType;
	if (p->hasPassword)
		binaryBytes(the, &xsVar(EVAR_PASSWORD), "password", &p->password);
}

/* PUBLISH's byte fields, already checked, fetched again after an allocation may have moved them. */
static void refetchPublish(xsMachine* the, MqttPacket* p)
{
	p->topic.bytes = (const uint8_t*)xsmcToString(xsVar(EVAR_TOPIC));
	if (p->payload.length) {
		void* data;
		xsUnsignedValue length;
		xsmcGetBufferReadable(xsVar(EVAR_PAYLOAD), &data, &length);
		p->payload.bytes = data;
	}
}

static uint32_t measure(xsMachine* the, const MqttPacket* p, int factoryArg)
{
	uint32_t remaining;
	MqttWireError error;
	if (mqttWireMeasure(p, &remaining, &error))
		throwWire(the, factoryArg, &error);
	return remaining;
}

/* Reads xsArg(0) into *p and checks it with the wire layer; returns the remaining length. */
static uint32_t readPacket(xsMachine* the, MqttPacket* p, int factoryArg)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("packet must be an object");
	xsSlot* packet = &xsArg(0);
	int32_t type = readInteger(the, packet, gKeys.type, 0);
	if (type == MQTT_PUBLISH) {
		/* The hot path sets its fields one by one; every other type starts from zeros. */
		p->type = type;
		p->qos = readInteger(the, packet, gKeys.qos, 0);
		p->packetId = p->qos ? readInteger(the, packet, gKeys.packetId, 0) : 0;
		p->dup = readBoolean(the, packet, gKeys.dup);
		p->retain = readBoolean(the, packet, gKeys.retain);
		xsmcGet(xsVar(EVAR_TOPIC), *packet, gKeys.topic);
		xsmcGet(xsVar(EVAR_PAYLOAD), *packet, gKeys.payload);
		stringBytes(the, &xsVar(EVAR_TOPIC), "topic", &p->topic);
		binaryBytes(the, &xsVar(EVAR_PAYLOAD), "payload", &p->payload);
		return measure(the, p, factoryArg);
	}
	memset(p, 0, sizeof(*p));
	p->type = type;
	if (type == MQTT_CONNECT || type == MQTT_SUBSCRIBE || type == MQTT_UNSUBSCRIBE || type == MQTT_SUBACK) {
		/* The stack holds nothing above the vars here, so they can still grow. */
		if (xsmcVars(EVAR_COUNT - EVAR_PUBLISH_COUNT) != EVAR_PUBLISH_COUNT)
			xsUnknownError("codec vars out of order");
	}
	switch (type) {
	case MQTT_CONNECT:
		readConnect(the, packet, p);
		break;
	case MQTT_CONNACK:
		p->returnCode = readInteger(the, packet, gKeys.returnCode, 0);
		p->sessionPresent = readBoolean(the, packet, gKeys.sessionPresent);
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
	case MQTT_SUBACK:
		readList(the, packet, p);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		p->packetId = readInteger(the, packet, gKeys.packetId, 0);
		break;
	default:	/* PINGREQ, PINGRESP, DISCONNECT have no fields; other types fail in the wire layer */
		break;
	}
	return measure(the, p, factoryArg);
}

/* ---- encoding ---- */

/* C memory for frames that are written before they are copied out. */
static uint8_t* gScratch;
static uint32_t gScratchCapacity;

static uint8_t* scratch(xsMachine* the, uint32_t size)
{
	if (size > gScratchCapacity) {
		uint32_t capacity = size < 256 ? 256 : size;
		uint8_t* bytes = realloc(gScratch, capacity);
		if (!bytes)
			xsUnknownError("out of memory for a %u-byte frame", (unsigned)size);
		gScratch = bytes;
		gScratchCapacity = capacity;
	}
	return gScratch;
}

/* length(packet, makeError) */
void xs_mqtt_length(xsMachine* the)
{
	xsmcVars(EVAR_PUBLISH_COUNT);
	mqttKeys(the);
	MqttPacket packet;
	uint32_t remaining = readPacket(the, &packet, 1);
	xsmcSetInteger(xsResult, (xsIntegerValue)mqttWireFrameLength(remaining));
}

/* encode(packet, makeError): a new Uint8Array holding the frame */
void xs_mqtt_encode(xsMachine* the)
{
	xsmcVars(EVAR_PUBLISH_COUNT);
	mqttKeys(the);
	MqttPacket packet;
	uint32_t remaining = readPacket(the, &packet, 1);
	uint32_t total = mqttWireFrameLength(remaining);
	if (packet.type == MQTT_PUBLISH) {
		/* The hot path: written straight into the new buffer, after fetching the moved fields again. */
		xsmcSetArrayBuffer(xsVar(EVAR_FRAME), NULL, (xsIntegerValue)total);
		refetchPublish(the, &packet);
		uint32_t written = mqttWireWrite(&packet, remaining, xsmcToArrayBuffer(xsVar(EVAR_FRAME)));
		if (written != total)
			xsUnknownError("encoder wrote %u of %u bytes", (unsigned)written, (unsigned)total);
	}
	else {
		/* Lists point into strings that are no longer in vars: write before anything is allocated. */
		uint8_t* bytes = scratch(the, total);
		uint32_t written = mqttWireWrite(&packet, remaining, bytes);
		if (written != total)
			xsUnknownError("encoder wrote %u of %u bytes", (unsigned)written, (unsigned)total);
		xsmcSetArrayBuffer(xsVar(EVAR_FRAME), bytes, (xsIntegerValue)total);
	}
	xsResult = newUint8Array(xsVar(EVAR_FRAME));
}

/*
 * encodeInto(packet, out, offset, makeError): the offset after the frame. The
 * frame goes through C memory because `out` may share its buffer with the
 * payload.
 */
void xs_mqtt_encode_into(xsMachine* the)
{
	xsmcVars(EVAR_PUBLISH_COUNT);
	mqttKeys(the);
	MqttPacket packet;
	uint32_t remaining = readPacket(the, &packet, 3);
	uint32_t total = mqttWireFrameLength(remaining);
	uint8_t* bytes = scratch(the, total);
	uint32_t written = mqttWireWrite(&packet, remaining, bytes);
	if (written != total)
		xsUnknownError("encoder wrote %u of %u bytes", (unsigned)written, (unsigned)total);
	if (xsmcArgc < 2 || xsmcTypeOf(xsArg(1)) != xsReferenceType || !xsmcIsInstanceOf(xsArg(1), xsTypedArrayPrototype))
		xsTypeError("output must be a Uint8Array");
	xsIntegerValue offset = xsmcArgc < 3 || xsmcTypeOf(xsArg(2)) == xsUndefinedType ? 0 : xsmcToInteger(xsArg(2));
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferWritable(xsArg(1), &data, &length);
	if (offset < 0 || (uint64_t)offset + total > length)
		xsRangeError("output needs %u bytes at offset %d, has %d", (unsigned)total, (int)offset, (int)length - (int)offset);
	memcpy((uint8_t*)data + offset, bytes, total);
	xsmcSetInteger(xsResult, offset + (xsIntegerValue)total);
}

/* ---- decoding: MqttPacket to JavaScript packet ---- */

typedef struct {
	MqttWireDecoder wire;
	uint32_t generation;	/* counts resets, so parse() sees one made by onPacket */
} CodecDecoder;

/* Vars of parse(). */
enum {
	DVAR_PACKET,
	DVAR_VALUE,
	DVAR_BUFFER,
	DVAR_LIST,
	DVAR_ENTRY,
	DVAR_WILL,
	DVAR_COUNT
};

#define FACTORY_ARG 2

void xs_mqtt_decoder_destructor(void* data)
{
	CodecDecoder* decoder = data;
	if (decoder) {
		mqttWireDecoderFree(&decoder->wire);
		free(decoder);
	}
}

static CodecDecoder* getDecoder(xsMachine* the)
{
	CodecDecoder* decoder = xsmcGetHostData(xsThis);
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
	CodecDecoder* decoder = calloc(1, sizeof(CodecDecoder));
	if (!decoder)
		xsUnknownError("out of memory");
	mqttWireDecoderInit(&decoder->wire, (uint32_t)max);
	xsmcSetHostData(xsThis, decoder);
}

void xs_mqtt_decoder_reset(xsMachine* the)
{
	CodecDecoder* decoder = getDecoder(the);
	mqttWireDecoderReset(&decoder->wire);
	decoder->generation++;
}

void xs_mqtt_decoder_get_buffered(xsMachine* the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)getDecoder(the)->wire.pendingLength);
}

/* Sets property `id` of `object` to a copy of `bytes` as a Uint8Array. */
static inline void setBytes(xsMachine* the, xsSlot* object, xsIdentifier id, MqttBytes bytes)
{
	xsmcSetArrayBuffer(xsVar(DVAR_BUFFER), (void*)bytes.bytes, (xsIntegerValue)bytes.length);
	xsVar(DVAR_VALUE) = newUint8Array(xsVar(DVAR_BUFFER));
	xsmcSet(*object, id, xsVar(DVAR_VALUE));
}

static inline void setString(xsMachine* the, xsSlot* object, xsIdentifier id, MqttBytes text)
{
	xsmcSetStringBuffer(xsVar(DVAR_VALUE), (char*)text.bytes, (xsIntegerValue)text.length);
	xsmcSet(*object, id, xsVar(DVAR_VALUE));
}

static inline void setInteger(xsMachine* the, xsSlot* object, xsIdentifier id, int32_t value)
{
	xsmcSetInteger(xsVar(DVAR_VALUE), value);
	xsmcSet(*object, id, xsVar(DVAR_VALUE));
}

static inline void setBoolean(xsMachine* the, xsSlot* object, xsIdentifier id, int value)
{
	xsmcSetBoolean(xsVar(DVAR_VALUE), value);
	xsmcSet(*object, id, xsVar(DVAR_VALUE));
}

/* The packet object of a decoded frame, in xsVar(DVAR_PACKET), with the reference decoder's properties in its order. */
static void packetObject(xsMachine* the, const MqttPacket* p)
{
	xsSlot* object = &xsVar(DVAR_PACKET);
	xsmcSetNewObject(*object);
	setInteger(the, object, gKeys.type, p->type);
	switch (p->type) {
	case MQTT_PUBLISH:
		setString(the, object, gKeys.topic, p->topic);
		setBytes(the, object, gKeys.payload, p->payload);
		setInteger(the, object, gKeys.qos, p->qos);
		setBoolean(the, object, gKeys.retain, p->retain);
		setBoolean(the, object, gKeys.dup, p->dup);
		setInteger(the, object, gKeys.packetId, p->packetId);
		return;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		setInteger(the, object, gKeys.packetId, p->packetId);
		return;
	case MQTT_CONNACK:
		setBoolean(the, object, gKeys.sessionPresent, p->sessionPresent);
		setInteger(the, object, gKeys.returnCode, p->returnCode);
		return;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
	case MQTT_SUBACK: {
		setInteger(the, object, gKeys.packetId, p->packetId);
		xsmcSetNewArray(xsVar(DVAR_LIST), 0);
		for (uint32_t i = 0; i < p->count; i++) {
			const MqttListEntry* entry = &p->list[i];
			if (p->type == MQTT_SUBSCRIBE) {
				xsmcSetNewObject(xsVar(DVAR_ENTRY));
				setString(the, &xsVar(DVAR_ENTRY), gKeys.topic, entry->topic);
				setInteger(the, &xsVar(DVAR_ENTRY), gKeys.qos, entry->value);
			}
			else if (p->type == MQTT_UNSUBSCRIBE)
				xsmcSetStringBuffer(xsVar(DVAR_ENTRY), (char*)entry->topic.bytes, (xsIntegerValue)entry->topic.length);
			else
				xsmcSetInteger(xsVar(DVAR_ENTRY), entry->value);
			xsmcSetIndex(xsVar(DVAR_LIST), (xsIntegerValue)i, xsVar(DVAR_ENTRY));
		}
		xsmcSet(*object, p->type == MQTT_SUBSCRIBE ? gKeys.subscriptions : p->type == MQTT_UNSUBSCRIBE ? gKeys.topics : gKeys.returnCodes, xsVar(DVAR_LIST));
		return;
	}
	case MQTT_CONNECT:
		setString(the, object, gKeys.protocolName, p->protocolName);
		setInteger(the, object, gKeys.protocolLevel, p->protocolLevel);
		setString(the, object, gKeys.clientId, p->clientId);
		setInteger(the, object, gKeys.keepalive, p->keepalive);
		setBoolean(the, object, gKeys.clean, p->clean);
		if (p->hasWill) {
			xsmcSetNewObject(xsVar(DVAR_WILL));
			setString(the, &xsVar(DVAR_WILL), gKeys.topic, p->willTopic);
			setBytes(the, &xsVar(DVAR_WILL), gKeys.payload, p->willPayload);
			setInteger(the, &xsVar(DVAR_WILL), gKeys.qos, p->willQos);
			setBoolean(the, &xsVar(DVAR_WILL), gKeys.retain, p->willRetain);
			xsmcSet(*object, gKeys.will, xsVar(DVAR_WILL));
		}
		if (p->hasUsername)
			setString(the, object, gKeys.username, p->username);
		if (p->hasPassword)
			setBytes(the, object, gKeys.password, p->password);
		return;
	default:	/* PINGREQ, PINGRESP, DISCONNECT */
		return;
	}
}

static void throwDecoder(xsMachine* the, CodecDecoder* decoder, MqttWireStatus status) __attribute__((noreturn));
static void throwDecoder(xsMachine* the, CodecDecoder* decoder, MqttWireStatus status)
{
	if (status == MQTT_WIRE_NO_MEMORY)
		xsUnknownError("out of memory");
	throwWire(the, FACTORY_ARG, &decoder->wire.failure);
}

/* Hands the complete frame to onPacket; returns 0 if the callback reset the decoder. */
static int deliver(xsMachine* the, CodecDecoder* decoder)
{
	uint32_t generation = decoder->generation;
	MqttPacket packet;
	MqttWireStatus status = mqttWireDecoderTake(&decoder->wire, &packet);
	if (status)
		throwDecoder(the, decoder, status);
	packetObject(the, &packet);
	mqttWireDecoderRelease(&decoder->wire);
	xsCallFunction1(xsArg(1), xsUndefined, xsVar(DVAR_PACKET));
	return generation == decoder->generation && xsmcGetHostData(xsThis) == decoder;
}

/* parse(chunk, onPacket, makeError) */
void xs_mqtt_decoder_parse(xsMachine* the)
{
	xsmcVars(DVAR_COUNT);
	mqttKeys(the);
	CodecDecoder* decoder = getDecoder(the);
	if (decoder->wire.failure.status)
		throwWire(the, FACTORY_ARG, &decoder->wire.failure);
	if (xsmcArgc < 2 || xsmcTypeOf(xsArg(0)) != xsReferenceType || !xsmcIsInstanceOf(xsArg(0), xsTypedArrayPrototype))
		xsTypeError("chunk must be a Uint8Array");
	if (!xsmcIsCallable(xsArg(1)))
		xsTypeError("onPacket must be a function");
	void* data;
	xsUnsignedValue size;
	xsmcGetBufferReadable(xsArg(0), &data, &size);
	uint32_t end = (uint32_t)size;
	uint32_t pos = 0;
	while (pos < end) {
		/* The chunk can move, or shrink, whenever JavaScript ran or allocated: fetch it again. */
		xsmcGetBufferReadable(xsArg(0), &data, &size);
		if (size < end)
			end = (uint32_t)size;
		if (pos >= end)
			break;
		uint32_t consumed;
		int frameReady;
		MqttWireStatus status = mqttWireDecoderFeed(&decoder->wire, (const uint8_t*)data + pos, end - pos, &consumed, &frameReady);
		if (status)
			throwDecoder(the, decoder, status);
		pos += consumed;
		if (frameReady && !deliver(the, decoder))
			return;
	}
}
