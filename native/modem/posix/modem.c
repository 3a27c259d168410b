/*
 * Emulated nRF9160 modem for the simulator host: an AT command interface whose
 * answers follow the nRF9160's formats, backed by the device's state directory
 * (--state). Credentials written with AT%CMNG are the only ones the TLS socket
 * can use, as on the device.
 *
 * State directory: imei, firmware (e.g. "mfw_nrf9160_1.3.0"), cfun, cmee,
 * sectag/<tag>/<type>.pem. Missing identity files are created on first use.
 * The device UUID (in the attestation token) is derived from the IMEI and the
 * firmware UUID (%XMODEMUUID, the token) from the firmware name, so both stay
 * the same for a state directory, and two modems of one firmware share the
 * firmware UUID as real ones do.
 *
 * Without a state directory the modem refuses to run rather than write its
 * state into whatever directory the host was started in; storage, DFU and the
 * TLS socket, which keep their state under the same directory, refuse too.
 */

#include "xsmc.h"
#include "modem.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../../common/at-response.h"
#include "../../common/sha256.h"
#include "../../common/event-set.h"
#include "../../common/line-ring.h"
#include "../modem-xs.h"


#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char* gSimStateDirectory;

#define CME_NOT_FOUND 513
#define CME_NO_ACCESS 514
#define CME_MEMORY_FULL 515
#define CME_ACTIVE_STATE 518
#define MAX_CREDENTIAL 16384

typedef struct {
	char* text;
	size_t length;
	size_t capacity;
} Response;

static void append(Response* response, const char* format, ...) __attribute__((format(printf, 2, 3)));
static void append(Response* response, const char* format, ...)
{
	va_list arguments;
	for (;;) {
		size_t room = response->capacity - response->length;
		va_start(arguments, format);
		int needed = vsnprintf(response->text + response->length, room, format, arguments);
		va_end(arguments);
		if (needed < 0)
			return;
		if ((size_t)needed < room) {
			response->length += (size_t)needed;
			return;
		}
		size_t capacity = response->capacity * 2 + (size_t)needed;
		char* text = realloc(response->text, capacity);
		if (!text)
			return;
		response->text = text;
		response->capacity = capacity;
	}
}

const char* modemStateProblem(void)
{
	if (gSimStateDirectory && *gSimStateDirectory)
		return NULL;
	return "the emulated device has no state directory (modem, security tags, storage, DFU): start the simulator host with --state DIR";
}

void modemRequireState(xsMachine* the)
{
	const char* problem = modemStateProblem();
	if (problem)
		simThrowErrno(the, ZEPHYR_ENOENT, "%s", problem);
}

int modemEnsureStateDirectory(void)
{
	if (modemStateProblem())
		return 0;
	return mkdir(gSimStateDirectory, 0700) == 0 || errno == EEXIST;
}

int modemStatePath(char* out, size_t size, const char* relative)
{
	if (modemStateProblem())
		return 0;
	return snprintf(out, size, "%s/%s", gSimStateDirectory, relative) < (int)size;
}

static int readSmallFile(const char* relative, char* out, size_t size)
{
	char path[1024];
	if (!modemStatePath(path, sizeof(path), relative))
		return 0;
	FILE* file = fopen(path, "r");
	if (!file)
		return 0;
	size_t count = fread(out, 1, size - 1, file);
	fclose(file);
	while (count > 0 && (out[count - 1] == '\n' || out[count - 1] == '\r' || out[count - 1] == ' '))
		count--;
	out[count] = 0;
	return 1;
}

static int writeFileAtomically(const char* path, const char* data, size_t length)
{
	char temporary[1200];
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	FILE* file = fopen(temporary, "w");
	if (!file)
		return 0;
	int ok = fwrite(data, 1, length, file) == length;
	ok = (fclose(file) == 0) && ok;
	return ok && rename(temporary, path) == 0;
}

static int writeSmallFile(const char* relative, const char* text)
{
	char path[1024];
	if (!modemStatePath(path, sizeof(path), relative) || !modemEnsureStateDirectory())
		return 0;
	return writeFileAtomically(path, text, strlen(text));
}

static unsigned long long randomBits(void)
{
	unsigned long long value = 0;
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, &value, sizeof(value)) != (ssize_t)sizeof(value))
			value = 0;
		close(fd);
	}
	if (!value)
		value = ((unsigned long long)time(NULL) << 20) ^ (unsigned long long)getpid();
	return value;
}

/* An IMEI whose 15th digit is the Luhn check digit of the first 14. */
static void newImei(char* out)
{
	unsigned long long bits = randomBits();
	snprintf(out, 16, "3526561%07llu", bits % 10000000ULL);
	int sum = 0;
	for (int i = 0; i < 14; i++) {
		int digit = out[i] - '0';
		if (i & 1) {
			digit *= 2;
			if (digit > 9)
				digit -= 9;
		}
		sum += digit;
	}
	out[14] = (char)('0' + (10 - sum % 10) % 10);
	out[15] = 0;
}

void modemImei(char* out, size_t size)
{
	char imei[64];
	if (!readSmallFile("imei", imei, sizeof(imei)) || strlen(imei) != 15) {
		newImei(imei);
		writeSmallFile("imei", imei);
	}
	snprintf(out, size, "%s", imei);
}

static void modemFirmware(char* out, size_t size)
{
	if (!readSmallFile("firmware", out, size))
		snprintf(out, size, "mfw_nrf9160_1.3.0");
}

/* 16 bytes named by `label` and `text`, shaped as a version 4 UUID (RFC 9562 §5.4: version and variant bits). */
static void derivedUuid(const char* label, const char* text, unsigned char out[16])
{
	unsigned char digest[32];
	Sha256 hash;
	sha256Init(&hash);
	sha256Update(&hash, label, strlen(label) + 1);
	sha256Update(&hash, text, strlen(text));
	sha256Final(&hash, digest);
	memcpy(out, digest, 16);
	out[6] = (unsigned char)((out[6] & 0x0F) | 0x40);
	out[8] = (unsigned char)((out[8] & 0x3F) | 0x80);
}

static void deviceUuidBytes(unsigned char out[16])
{
	char imei[32];
	modemImei(imei, sizeof(imei));
	derivedUuid("nrf9160 device", imei, out);
}

static void firmwareUuidBytes(unsigned char out[16])
{
	char firmware[128];
	modemFirmware(firmware, sizeof(firmware));
	derivedUuid("nrf9160 modem firmware", firmware, out);
}

static void formatUuid(const unsigned char bytes[16], char out[37])
{
	int at = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[at++] = '-';
		snprintf(out + at, 3, "%02x", bytes[i]);
		at += 2;
	}
	out[at] = 0;
}

/* Unpadded base64url (RFC 4648 §5) of `length` bytes, appended to the response. */
static void appendBase64url(Response* response, const unsigned char* bytes, size_t length)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char quad[5];
	for (size_t i = 0; i < length; i += 3) {
		unsigned long bits = (unsigned long)bytes[i] << 16;
		size_t count = length - i < 3 ? length - i : 3;
		if (count > 1)
			bits |= (unsigned long)bytes[i + 1] << 8;
		if (count > 2)
			bits |= bytes[i + 2];
		int characters = (int)count + 1;
		for (int j = 0; j < characters; j++)
			quad[j] = alphabet[(bits >> (18 - 6 * j)) & 0x3F];
		quad[characters] = 0;
		append(response, "%s", quad);
	}
}

#define DEVICE_TYPE_NRF9160_SICA 3
#define MESSAGE_TYPE_DEVICE_IDENTITY 1

/*
 * %ATTESTTOKEN: "<identity message>.<COSE_Sign1>", both base64url. The identity
 * message is CBOR: tag 55799, [1 (device identity), device UUID (16 bytes),
 * device type, firmware UUID (16 bytes), nonce (16 bytes, new each time)]. The
 * COSE_Sign1 has the real structure (tag 18, [protected {1: -7 (ES256)},
 * {4 (kid): <<-2>> (the identity key)}, nil, 64-byte signature]), but its
 * signature is a digest, not an ECDSA signature: the modem signs with a key
 * only it and nRF Cloud hold, and nothing in the project verifies it.
 */
static void attestationToken(Response* response)
{
	unsigned char message[57];
	size_t at = 0;
	message[at++] = 0xD9;	/* tag, 2-byte argument: 55799 */
	message[at++] = 0xD9;
	message[at++] = 0xF7;
	message[at++] = 0x85;	/* array of 5 */
	message[at++] = MESSAGE_TYPE_DEVICE_IDENTITY;
	message[at++] = 0x50;	/* byte string of 16 */
	deviceUuidBytes(message + at);
	at += 16;
	message[at++] = DEVICE_TYPE_NRF9160_SICA;
	message[at++] = 0x50;
	firmwareUuidBytes(message + at);
	at += 16;
	message[at++] = 0x50;
	for (int i = 0; i < 16; i += 8) {
		unsigned long long bits = randomBits();
		memcpy(message + at + i, &bits, 8);
	}
	at += 16;

	static const unsigned char coseHead[] = {
		0xD2, 0x84,		/* tag 18 (COSE_Sign1), array of 4 */
		0x43, 0xA1, 0x01, 0x26,	/* protected: bstr of {1: -7} */
		0xA1, 0x04, 0x41, 0x21,	/* unprotected: {4: bstr of -2} */
		0xF6,			/* payload: nil (the identity message is signed detached) */
		0x58, 0x40,		/* signature: bstr of 64 */
	};
	unsigned char cose[sizeof(coseHead) + 64];
	memcpy(cose, coseHead, sizeof(coseHead));
	sha256(message, at, cose + sizeof(coseHead));
	sha256(cose + sizeof(coseHead), 32, cose + sizeof(coseHead) + 32);

	append(response, "%%ATTESTTOKEN: \"");
	appendBase64url(response, message, at);
	append(response, ".");
	appendBase64url(response, cose, sizeof(cose));
	append(response, "\"\r\nOK\r\n");
}

/* Version triple of the modem firmware name, e.g. 1.3.0 from "mfw_nrf9160_1.3.0". */
static int firmwareAtLeast(int major, int minor)
{
	char firmware[128];
	modemFirmware(firmware, sizeof(firmware));
	const char* version = strrchr(firmware, '_');
	int a = 0, b = 0;
	if (!version || sscanf(version + 1, "%d.%d", &a, &b) != 2)
		return 0;
	return a > major || (a == major && b >= minor);
}

static int modemCfun(void)
{
	char text[16];
	return readSmallFile("cfun", text, sizeof(text)) ? atoi(text) : 1;
}

static int modemCmee(void)
{
	char text[16];
	return readSmallFile("cmee", text, sizeof(text)) ? atoi(text) : 0;
}

static void error(Response* response, int cme)
{
	if (cme && modemCmee())
		append(response, "+CME ERROR: %d\r\n", cme);
	else
		append(response, "ERROR\r\n");
}

int modemCredentialPath(char* out, size_t size, long tag, int type)
{
	char relative[96];
	snprintf(relative, sizeof(relative), "sectag/%ld/%d.pem", tag, type);
	return modemStatePath(out, size, relative);
}

char* modemReadCredential(long tag, int type, size_t* length)
{
	char path[1024];
	if (!modemCredentialPath(path, sizeof(path), tag, type))
		return NULL;
	FILE* file = fopen(path, "rb");
	if (!file)
		return NULL;
	char* data = malloc(MAX_CREDENTIAL + 1);
	size_t count = data ? fread(data, 1, MAX_CREDENTIAL, file) : 0;
	fclose(file);
	if (!data)
		return NULL;
	data[count] = 0;
	*length = count;
	return data;
}

/* The list and read commands report the SHA-256 of the content in upper-case hex, as the modem does. */
static void fingerprint(const char* data, size_t length, char* out)
{
	unsigned char digest[32];
	sha256(data, length, digest);
	for (int i = 0; i < 32; i++)
		snprintf(out + i * 2, 3, "%02X", digest[i]);
}

static void listCredentials(Response* response, long onlyTag, int onlyType)
{
	char root[1024];
	if (!modemStatePath(root, sizeof(root), "sectag"))
		return;
	DIR* tags = opendir(root);
	if (!tags)
		return;
	struct dirent* entry;
	long found[256];
	int count = 0;
	while ((entry = readdir(tags)) && count < 256) {
		char* end;
		long tag = strtol(entry->d_name, &end, 10);
		if (*end || entry->d_name[0] == 0 || entry->d_name[0] == '.')
			continue;
		if (onlyTag >= 0 && tag != onlyTag)
			continue;
		found[count++] = tag;
	}
	closedir(tags);
	for (int i = 1; i < count; i++)
		for (int j = i; j > 0 && found[j - 1] > found[j]; j--) {
			long t = found[j];
			found[j] = found[j - 1];
			found[j - 1] = t;
		}
	for (int i = 0; i < count; i++) {
		for (int type = 0; type <= 6; type++) {
			if (onlyType >= 0 && type != onlyType)
				continue;
			size_t length;
			char* data = modemReadCredential(found[i], type, &length);
			if (!data)
				continue;
			char sum[65];
			fingerprint(data, length, sum);
			append(response, "%%CMNG: %ld,%d,\"%s\"\r\n", found[i], type, sum);
			free(data);
		}
	}
}

static void cmng(Response* response, const char* command)
{
	AtCmng request;
	if (atParseCmng(command, &request) <= 0) {
		error(response, 0);
		return;
	}
	long tag = request.tag, type = request.type;
	switch (request.opcode) {
	case 0: {	/* write; a passphrase is accepted and ignored */
		if (tag < 0 || type < 0 || !request.content || request.contentLength == 0) { error(response, 0); return; }
		if (modemCfun() == 1) { error(response, CME_ACTIVE_STATE); return; }
		if (request.contentLength > MAX_CREDENTIAL) { error(response, CME_MEMORY_FULL); return; }
		char path[1024], directory[1024];
		snprintf(directory, sizeof(directory), "sectag/%ld", tag);
		int ok = modemEnsureStateDirectory() && modemStatePath(path, sizeof(path), "sectag");
		if (ok) {
			mkdir(path, 0700);
			ok = modemStatePath(path, sizeof(path), directory);
		}
		if (ok) {
			mkdir(path, 0700);
			ok = modemCredentialPath(path, sizeof(path), tag, (int)type) && writeFileAtomically(path, request.content, request.contentLength);
		}
		if (ok) append(response, "OK\r\n");
		else error(response, CME_MEMORY_FULL);
		return;
	}
	case 1:	/* list */
		if (request.content) { error(response, 0); return; }
		listCredentials(response, tag, (int)type);
		append(response, "OK\r\n");
		return;
	case 2: {	/* read: certificates only, never a private key */
		if (tag < 0 || type < 0 || request.content) { error(response, 0); return; }
		if (type == 2 || type == 3) { error(response, CME_NO_ACCESS); return; }
		size_t length;
		char* data = modemReadCredential(tag, (int)type, &length);
		if (!data) { error(response, CME_NOT_FOUND); return; }
		char sum[65];
		fingerprint(data, length, sum);
		append(response, "%%CMNG: %ld,%ld,\"%s\",\"%s\"\r\nOK\r\n", tag, type, sum, data);
		free(data);
		return;
	}
	case 3: {	/* delete */
		if (tag < 0 || type < 0 || request.content) { error(response, 0); return; }
		if (modemCfun() == 1) { error(response, CME_ACTIVE_STATE); return; }
		char path[1024];
		if (!modemCredentialPath(path, sizeof(path), tag, (int)type) || unlink(path) != 0) { error(response, CME_NOT_FOUND); return; }
		append(response, "OK\r\n");
		return;
	}
	default:
		error(response, 0);
	}
}

/*
 * Unsolicited notifications and the LTE registration status, delivered on
 * the XS thread after the call that caused them, as the modem's arrive from
 * its own context on the device: lines go through the same ring and events
 * through the same coalescing as in the nRF9160 binding
 * (native/common/line-ring.h, event-set.h); a pipe stands for the port's
 * message queue. The emulated network registers at once: AT+CFUN=1 gives
 * +CEREG: 2 (searching) then +CEREG: 1 (home), AT+CFUN=4 or 0 gives +CEREG: 0,
 * as with AT+CEREG=1 subscribed.
 */
enum { EVENT_NOTIFICATION = 1, EVENT_LTE = 2 };
static EventSet gEvents;
static uint8_t gRingStorage[1024];
static LineRing gRing;
static int gNotifyPipe[2] = { -1, -1 };
static SimWatch* gNotifyWatch;
static xsMachine* gMachine;
static xsSlot gOnNotification;
static int gMonitoring;
static xsSlot gOnLteStatus;
static int gLteConnecting;
static int gLteStatus;

static void deliverEvents(void* refcon, int fd, short revents);

static int startEvents(void)
{
	if (gNotifyPipe[0] >= 0)
		return 1;
	if (pipe(gNotifyPipe) != 0)
		return 0;
	fcntl(gNotifyPipe[0], F_SETFL, O_NONBLOCK);
	fcntl(gNotifyPipe[1], F_SETFL, O_NONBLOCK);
	eventSetInit(&gEvents);
	lineRingInit(&gRing, gRingStorage, sizeof(gRingStorage));
	return 1;
}

static void raiseEvent(uint32_t bits)
{
	if (!startEvents() || !eventSetRaise(&gEvents, bits, (uint32_t)simNow()))
		return;
	if (write(gNotifyPipe[1], "!", 1) != 1)
		eventSetTake(&gEvents);
	/* Watched only while something waits, so the host still ends when nothing else does. */
	if (!gNotifyWatch)
		gNotifyWatch = simWatchAdd(gNotifyPipe[0], POLLIN, deliverEvents, NULL);
}

static void notify(const char* line)
{
	if (startEvents()) {
		lineRingPut(&gRing, line, strlen(line));
		raiseEvent(EVENT_NOTIFICATION);
	}
}

static void setRegistration(int status)
{
	char line[32];
	gLteStatus = status;
	snprintf(line, sizeof(line), "+CEREG: %d", status);
	notify(line);
	raiseEvent(EVENT_LTE);
}

static void setFunctionalMode(int mode)
{
	char value[16];
	int was = modemCfun();
	snprintf(value, sizeof(value), "%d", mode);
	writeSmallFile("cfun", value);
	if (mode == 1 && was != 1) {
		setRegistration(2);
		setRegistration(1);
	}
	else if (mode != 1 && was == 1)
		setRegistration(0);
}

static void deliverEvents(void* refcon, int fd, short revents)
{
	char drain[64];
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	simWatchRemove(gNotifyWatch);
	gNotifyWatch = NULL;
	xsMachine* the = gMachine;
	uint32_t bits = eventSetTake(&gEvents);
	if (bits & EVENT_NOTIFICATION) {
		char line[256];
		while (lineRingTake(&gRing, line, sizeof(line)) >= 0) {
			if (!gMonitoring || !the)
				continue;	/* nobody listens: the line is gone, as on the device */
			xsBeginHost(the);
			{
				xsTry {
					xsmcVars(2);
					xsmcSetString(xsVar(0), line);
					xsmcSetInteger(xsVar(1), (xsIntegerValue)lineRingTakeDropped(&gRing));
					xsCallFunction2(gOnNotification, xsUndefined, xsVar(0), xsVar(1));
				}
				xsCatch {
					simUncaughtException(the, "modem notification callback");
				}
			}
			xsEndHost(the);
		}
	}
	if ((bits & EVENT_LTE) && gLteConnecting) {
		xsBeginHost(the);
		{
			xsTry {
				xsmcVars(1);
				xsmcSetInteger(xsVar(0), gLteStatus);
				xsCallFunction1(gOnLteStatus, xsUndefined, xsVar(0));
			}
			xsCatch {
				simUncaughtException(the, "LTE status callback");
			}
		}
		xsEndHost(the);
	}
}

/* Runs one AT command line; returns the response text (malloc'd), lines ending in \r\n. */
char* modemAt(const char* command)
{
	Response response = { malloc(256), 0, 256 };
	if (!response.text)
		return NULL;
	response.text[0] = 0;
	char line[MAX_CREDENTIAL + 256];
	size_t length = strlen(command);
	while (length > 0 && (command[length - 1] == '\r' || command[length - 1] == '\n'))
		length--;
	if (length >= sizeof(line)) {
		error(&response, 0);
		return response.text;
	}
	memcpy(line, command, length);
	line[length] = 0;
	if (strncasecmp(line, "AT", 2) != 0) {
		error(&response, 0);
		return response.text;
	}
	const char* p = line + 2;
	char value[128];
	if (!*p)
		append(&response, "OK\r\n");
	else if (!strcasecmp(p, "+CGSN")) {
		modemImei(value, sizeof(value));
		append(&response, "%s\r\nOK\r\n", value);
	}
	else if (!strcasecmp(p, "+CGSN=1")) {
		modemImei(value, sizeof(value));
		append(&response, "+CGSN: \"%s\"\r\nOK\r\n", value);
	}
	else if (!strcasecmp(p, "+CGMR")) {
		modemFirmware(value, sizeof(value));
		append(&response, "%s\r\nOK\r\n", value);
	}
	else if (!strcasecmp(p, "+CGMI"))
		append(&response, "Nordic Semiconductor ASA\r\nOK\r\n");
	else if (!strcasecmp(p, "+CGMM"))
		append(&response, "nRF9160-SICA\r\nOK\r\n");
	else if (!strcasecmp(p, "%XMODEMUUID")) {
		if (!firmwareAtLeast(1, 3))
			error(&response, 0);
		else {
			unsigned char bytes[16];
			firmwareUuidBytes(bytes);
			formatUuid(bytes, value);
			append(&response, "%%XMODEMUUID: %s\r\nOK\r\n", value);
		}
	}
	else if (!strcasecmp(p, "%ATTESTTOKEN")) {
		if (!firmwareAtLeast(1, 3))
			error(&response, 0);
		else
			attestationToken(&response);
	}
	else if (!strcasecmp(p, "+CFUN?"))
		append(&response, "+CFUN: %d\r\nOK\r\n", modemCfun());
	else if (!strncasecmp(p, "+CFUN=", 6)) {
		const char* q = p + 6;
		long mode;
		if (!atParseNumber(&q, &mode) || *q || !(mode == 0 || mode == 1 || mode == 4 || mode == 20 || mode == 21 || mode == 30 || mode == 31 || mode == 40 || mode == 41)) {
			error(&response, 0);
		}
		else {
			setFunctionalMode(mode == 0 || mode == 4 || mode == 1 ? (int)mode : 4);
			append(&response, "OK\r\n");
		}
	}
	else if (!strcasecmp(p, "+CMEE?"))
		append(&response, "+CMEE: %d\r\nOK\r\n", modemCmee());
	else if (!strncasecmp(p, "+CMEE=", 6)) {
		const char* q = p + 6;
		long mode;
		if (!atParseNumber(&q, &mode) || *q || mode > 1)
			error(&response, 0);
		else {
			snprintf(value, sizeof(value), "%ld", mode);
			writeSmallFile("cmee", value);
			append(&response, "OK\r\n");
		}
	}
	else if (!strncasecmp(p, "%CMNG=", 6))
		cmng(&response, line);
	else
		error(&response, 0);
	return response.text;
}

/* at(command): the modem's response text */
void xs_modem_at(xsMachine* the)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("AT command must be a string");
	modemRequireState(the);
	char* command = strdup(xsmcToString(xsArg(0)));
	if (!command)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	char* response = modemAt(command);
	free(command);
	if (!response)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	xsmcSetString(xsResult, response);
	free(response);
}

/* keyExists(tag, type): whether the security tag holds a credential of that type (modem_key_mgmt_exists) */
void xs_modem_key_exists(xsMachine* the)
{
	long tag;
	int type;
	keyArguments(the, &tag, &type);
	modemRequireState(the);
	size_t length;
	char* data = modemReadCredential(tag, type, &length);
	xsmcSetBoolean(xsResult, data != NULL);
	free(data);
}

/* keyMatches(tag, type, pem): whether the stored credential is exactly `pem` (modem_key_mgmt_cmp) */
void xs_modem_key_matches(xsMachine* the)
{
	long tag;
	int type;
	keyArguments(the, &tag, &type);
	if (xsmcArgc < 3 || xsmcTypeOf(xsArg(2)) != xsStringType)
		xsTypeError("credential must be a string");
	modemRequireState(the);
	size_t length;
	char* data = modemReadCredential(tag, type, &length);
	const char* pem = xsmcToString(xsArg(2));
	xsmcSetBoolean(xsResult, data && length == strlen(pem) && !memcmp(data, pem, length));
	free(data);
}

/* monitor(callback | undefined): callback(line, dropped) for each unsolicited notification */
void xs_modem_monitor(xsMachine* the)
{
	gMachine = the;
	keepCallback(the, &gOnNotification, &gMonitoring, xsmcArgc > 0 ? &xsArg(0) : NULL);
}

/* lteConnect(onStatus): brings the link up (AT+CFUN=1); onStatus(registration status) as it changes */
void xs_lte_connect(xsMachine* the)
{
	if (xsmcArgc < 1 || !xsmcIsCallable(xsArg(0)))
		xsTypeError("onStatus must be a function");
	modemRequireState(the);
	gMachine = the;
	keepCallback(the, &gOnLteStatus, &gLteConnecting, &xsArg(0));
	setFunctionalMode(1);
}

/* lteOffline(): the link down (AT+CFUN=4) */
void xs_lte_offline(xsMachine* the)
{
	modemRequireState(the);
	setFunctionalMode(4);
	keepCallback(the, &gOnLteStatus, &gLteConnecting, NULL);
}

/* lteStatus(): the registration status now */
void xs_lte_status(xsMachine* the)
{
	modemRequireState(the);
	xsmcSetInteger(xsResult, modemCfun() == 1 ? 1 : 0);
}
