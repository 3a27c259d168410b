/*
 * MQTT 3.1.1 wire format in plain C: checks, measures and writes frames from a
 * packet struct, and assembles and parses frames from a byte stream into one.
 * No engine, no I/O, no global state: mqtt-codec.c converts between these
 * structs and JavaScript packet objects, and any other C caller can use them
 * directly.
 *
 * Byte fields (MqttBytes) point into memory the caller owns. A decoded
 * packet's fields point into the decoder's frame buffer and stay valid until
 * the next call on that decoder.
 */

#ifndef MQTT_WIRE_H
#define MQTT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MQTT_MAX_REMAINING 268435455u
#define MQTT_MAX_FRAME (MQTT_MAX_REMAINING + 5u)
#define MQTT_MAX_STRING 65535u

enum {
	MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP,
	MQTT_SUBSCRIBE, MQTT_SUBACK, MQTT_UNSUBSCRIBE, MQTT_UNSUBACK, MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT,
};

/*
 * Outcomes. The protocol errors carry the names of the JavaScript MqttError
 * codes (mqttWireStatusName); the last three are not MQTT errors: a value out
 * of its range (a RangeError for JavaScript), a packet type that cannot be
 * encoded (a TypeError), and a failed allocation.
 */
typedef enum {
	MQTT_WIRE_OK = 0,
	MQTT_WIRE_UNKNOWN_PACKET_TYPE,
	MQTT_WIRE_INVALID_FLAGS,
	MQTT_WIRE_MALFORMED_REMAINING_LENGTH,
	MQTT_WIRE_PACKET_TOO_LARGE,
	MQTT_WIRE_MALFORMED_PACKET,
	MQTT_WIRE_INVALID_UTF8,
	MQTT_WIRE_INVALID_TOPIC,
	MQTT_WIRE_INVALID_PACKET_ID,
	MQTT_WIRE_INVALID_QOS,
	MQTT_WIRE_UNSUPPORTED_PROTOCOL,
	MQTT_WIRE_OUT_OF_RANGE,
	MQTT_WIRE_BAD_TYPE,
	MQTT_WIRE_NO_MEMORY,
} MqttWireStatus;

typedef struct {
	MqttWireStatus status;
	char message[160];
} MqttWireError;

/* "MALFORMED_PACKET" for MQTT_WIRE_MALFORMED_PACKET; NULL for OK and the non-MQTT outcomes. */
const char* mqttWireStatusName(MqttWireStatus status);

/* A string (UTF-8, checked by the encoder) or binary field. `bytes` may be NULL when `length` is 0. */
typedef struct {
	const uint8_t* bytes;
	uint32_t length;
} MqttBytes;

/*
 * One element of a list: SUBSCRIBE (topic filter and requested QoS in value),
 * UNSUBSCRIBE (topic filter), SUBACK (return code in value).
 */
typedef struct {
	MqttBytes topic;
	int32_t value;
} MqttListEntry;

/*
 * Every packet type in one struct; each type uses its fields only. Numbers are
 * 32-bit signed so that an encoder caller can pass a value as it found it
 * (MQTT_WIRE_NOT_INTEGER for something that is not an integer at all) and the
 * encoder reports the range error.
 */
#define MQTT_WIRE_NOT_INTEGER INT32_MIN

typedef struct {
	int32_t type;
	/* PUBLISH */
	int32_t qos;
	uint8_t dup;
	uint8_t retain;
	MqttBytes topic;
	MqttBytes payload;
	/* PUBLISH with QoS 1 or 2, PUBACK to UNSUBACK */
	int32_t packetId;
	/* CONNECT; protocolName.bytes NULL means a name that is not a string at all */
	MqttBytes protocolName;
	int32_t protocolLevel;
	int32_t keepalive;
	uint8_t clean;
	uint8_t hasWill;
	uint8_t hasUsername;
	uint8_t hasPassword;
	MqttBytes clientId;
	MqttBytes willTopic;
	MqttBytes willPayload;
	int32_t willQos;
	uint8_t willRetain;
	MqttBytes username;
	MqttBytes password;
	/* CONNACK */
	uint8_t sessionPresent;
	int32_t returnCode;
	/* SUBSCRIBE, UNSUBSCRIBE, SUBACK */
	const MqttListEntry* list;
	uint32_t count;
} MqttPacket;

/* ---- encoding ---- */

/*
 * Checks every field of `packet` and sets *remaining to its remaining length.
 * Nothing is written; on failure *error says why.
 */
MqttWireStatus mqttWireMeasure(const MqttPacket* packet, uint32_t* remaining, MqttWireError* error);

/* Fixed header plus body: the whole frame for a remaining length. */
uint32_t mqttWireFrameLength(uint32_t remaining);

/*
 * Writes the frame of a packet mqttWireMeasure accepted with this remaining
 * length into `out`, which has mqttWireFrameLength(remaining) bytes. Returns
 * the bytes written.
 */
uint32_t mqttWireWrite(const MqttPacket* packet, uint32_t remaining, uint8_t* out);

/* ---- decoding ---- */

/* Stream state: the frame being assembled and what the checks keep between frames. */
typedef struct {
	uint32_t maxPacketSize;
	uint8_t* pending;
	uint32_t pendingCapacity;
	uint32_t pendingLength;
	uint32_t frameLength;	/* 0 while the pending fixed header is incomplete */
	uint8_t lastTopic[128];	/* the last PUBLISH topic that passed the checks */
	uint32_t lastTopicLength;
	MqttListEntry* list;	/* the entries of the last list packet decoded */
	uint32_t listCapacity;
	MqttWireError failure;	/* set once a protocol error ended the stream, until reset */
} MqttWireDecoder;

/* maxPacketSize: the largest whole frame accepted, 2 to MQTT_MAX_FRAME. */
void mqttWireDecoderInit(MqttWireDecoder* decoder, uint32_t maxPacketSize);

/* Drops buffered bytes and a failure: the next byte starts a frame. */
void mqttWireDecoderReset(MqttWireDecoder* decoder);

/* Frees what the decoder holds; it may be initialised again afterwards. */
void mqttWireDecoderFree(MqttWireDecoder* decoder);

/*
 * Takes bytes of the stream, at most up to the end of the frame being
 * assembled: *consumed says how many, *frameReady whether that frame is now
 * complete (then mqttWireDecoderTake must come before the next feed). A
 * protocol error in a fixed header fails the stream (decoder->failure; every
 * later feed repeats it until a reset); MQTT_WIRE_NO_MEMORY consumes nothing
 * and leaves the stream as it was.
 */
MqttWireStatus mqttWireDecoderFeed(MqttWireDecoder* decoder, const uint8_t* bytes, uint32_t length, uint32_t* consumed, int* frameReady);

/*
 * Parses the complete frame into *packet, whose byte fields and list point into
 * the decoder until mqttWireDecoderRelease or the next feed. A malformed frame
 * fails the stream like a malformed header.
 */
MqttWireStatus mqttWireDecoderTake(MqttWireDecoder* decoder, MqttPacket* packet);

/* The taken packet is no longer needed: a large frame buffer is given back. */
void mqttWireDecoderRelease(MqttWireDecoder* decoder);

#endif
