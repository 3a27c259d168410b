/*
 * DFU target of the simulator host: a file-backed secondary slot with flash
 * semantics (erase to 0xFF, program erased bytes only), sequential writes, an
 * integrity check, and "schedule the update and reboot". Application images
 * (and bootloader images) are MCUboot images: the SHA-256 TLV must match the
 * header, image and protected TLVs. Modem images are checked against the
 * SHA-256 given when the target is opened.
 *
 * <state>/dfu/secondary.bin  the slot
 * <state>/dfu/pending        type and size of an update scheduled for the next start
 * <state>/dfu/primary-<type>.bin, <state>/dfu/last  the applied image and its result
 *
 * Failures of the target throw an Error whose errno (Zephyr numbering) tells
 * them apart: EACCES for a step out of order (closed, not erased, not
 * verified), ENODATA for an incomplete image, EINVAL for one that fails its
 * integrity check, ENOMEM, and the file system's errno for I/O. Bad arguments
 * are TypeError and RangeError.
 */

#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../../modem/posix/modem.h"
#include "../../common/mcuboot-image.h"
#include "../../common/sha256.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SLOT_SIZE (448 * 1024)

enum { TYPE_APP, TYPE_MODEM, TYPE_BOOT };
static const char* const gTypeNames[] = { "app", "modem", "boot" };

typedef struct {
	int type;
	uint32_t slotSize;
	uint32_t size;	/* announced image size */
	uint32_t written;
	int erased;
	int verified;
	int hasDigest;
	uint8_t digest[32];
	FILE* slot;
	char version[48];
} Dfu;

static void dfuPath(char* out, size_t size, const char* name)
{
	char relative[128];
	snprintf(relative, sizeof(relative), "dfu/%s", name);
	modemStatePath(out, size, relative);
}

static void ensureDirectory(void)
{
	char path[1024];
	modemEnsureStateDirectory();
	modemStatePath(path, sizeof(path), "dfu");
	mkdir(path, 0700);
}

void xs_dfu_destructor(void* data)
{
	Dfu* dfu = data;
	if (dfu) {
		if (dfu->slot)
			fclose(dfu->slot);
		free(dfu);
	}
}

static Dfu* getDfu(xsMachine* the)
{
	Dfu* dfu = xsmcGetHostData(xsThis);
	if (!dfu)
		simThrowErrno(the, ZEPHYR_EACCES, "DFU target is closed");
	return dfu;
}

static int typeFromName(const char* name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, gTypeNames[i]))
			return i;
	return -1;
}

static int hexDigest(const char* text, uint8_t* out)
{
	if (strlen(text) != 64)
		return 0;
	for (int i = 0; i < 32; i++) {
		unsigned value;
		if (sscanf(text + i * 2, "%2x", &value) != 1)
			return 0;
		out[i] = (uint8_t)value;
	}
	return 1;
}

/* constructor(type, size, sha256?, slotSize?) */
static void bootCheck(void);

void xs_dfu_constructor(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	if (xsmcArgc < 2 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("DFU: image type must be \"app\", \"modem\" or \"boot\"");
	int type = typeFromName(xsmcToString(xsArg(0)));
	if (type < 0)
		xsRangeError("DFU: image type must be \"app\", \"modem\" or \"boot\"");
	double size = xsmcToNumber(xsArg(1));
	double slotSize = xsmcArgc > 3 && xsmcTypeOf(xsArg(3)) != xsUndefinedType ? xsmcToNumber(xsArg(3)) : DEFAULT_SLOT_SIZE;
	if (!(slotSize >= 1024 && slotSize <= 64.0 * 1024 * 1024) || slotSize != (double)(uint32_t)slotSize)
		xsRangeError("DFU: slot size must be 1 KB to 64 MB");
	if (!(size >= 1) || size != (double)(uint32_t)size)
		xsRangeError("DFU: image size must be a positive integer");
	if (size > slotSize)
		xsRangeError("DFU: image of %.0f bytes does not fit the %.0f-byte slot", size, slotSize);
	Dfu* dfu = calloc(1, sizeof(Dfu));
	if (!dfu)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	dfu->type = type;
	dfu->size = (uint32_t)size;
	dfu->slotSize = (uint32_t)slotSize;
	if (xsmcArgc > 2 && xsmcTypeOf(xsArg(2)) == xsStringType) {
		if (!hexDigest(xsmcToString(xsArg(2)), dfu->digest)) {
			free(dfu);
			xsRangeError("DFU: sha256 must be 64 hex digits");
		}
		dfu->hasDigest = 1;
	}
	if (type == TYPE_MODEM && !dfu->hasDigest) {
		free(dfu);
		xsTypeError("DFU: a modem image needs its sha256 to be checked");
	}
	ensureDirectory();
	char path[1200];
	dfuPath(path, sizeof(path), "secondary.bin");
	dfu->slot = fopen(path, "r+b");
	if (!dfu->slot)
		dfu->slot = fopen(path, "w+b");
	if (!dfu->slot) {
		int problem = errno;
		free(dfu);
		simThrowErrno(the, zephyrErrno(problem), "DFU: cannot open the secondary slot: %s", strerror(problem));
	}
	xsmcSetHostData(xsThis, dfu);
}

/* erase(): the whole slot to 0xFF */
void xs_dfu_erase(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	uint8_t block[4096];
	memset(block, 0xFF, sizeof(block));
	if (fseek(dfu->slot, 0, SEEK_SET) != 0)
		simThrowErrno(the, zephyrErrno(errno), "DFU: erase failed: %s", strerror(errno));
	for (uint32_t at = 0; at < dfu->slotSize; at += sizeof(block)) {
		size_t count = dfu->slotSize - at < sizeof(block) ? dfu->slotSize - at : sizeof(block);
		if (fwrite(block, 1, count, dfu->slot) != count)
			simThrowErrno(the, zephyrErrno(errno), "DFU: erase failed: %s", strerror(errno));
	}
	fflush(dfu->slot);
	if (ftruncate(fileno(dfu->slot), dfu->slotSize) != 0)
		simThrowErrno(the, zephyrErrno(errno), "DFU: erase failed: %s", strerror(errno));
	dfu->erased = 1;
	dfu->written = 0;
	dfu->verified = 0;
}

/* write(bytes): bytes written so far */
void xs_dfu_write(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (!dfu->erased)
		simThrowErrno(the, ZEPHYR_EACCES, "DFU: erase the slot before writing");
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((uint64_t)dfu->written + length > dfu->size)
		xsRangeError("DFU: %u more bytes exceed the announced image size of %u", (unsigned)length, dfu->size);
	uint8_t* copy = malloc(length ? length : 1);
	if (!copy)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	memcpy(copy, data, length);
	if (fseek(dfu->slot, dfu->written, SEEK_SET) != 0 || fwrite(copy, 1, length, dfu->slot) != length) {
		int problem = errno;
		free(copy);
		simThrowErrno(the, zephyrErrno(problem), "DFU: write failed: %s", strerror(problem));
	}
	free(copy);
	fflush(dfu->slot);
	dfu->written += (uint32_t)length;
	dfu->verified = 0;
	xsmcSetInteger(xsResult, (xsIntegerValue)dfu->written);
}

void xs_dfu_get_written(xsMachine* the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)getDfu(the)->written);
}

static uint8_t* readImage(Dfu* dfu)
{
	uint8_t* image = malloc(dfu->size);
	if (!image)
		return NULL;
	if (fseek(dfu->slot, 0, SEEK_SET) != 0 || fread(image, 1, dfu->size, dfu->slot) != dfu->size) {
		free(image);
		return NULL;
	}
	return image;
}

/* Checks an MCUboot image held in memory; NULL when valid (version filled in), else the reason. */
static const char* checkMcuboot(const uint8_t* image, uint32_t size, char* version, size_t versionSize)
{
	McubootCheck check;
	mcubootCheckInit(&check);
	mcubootCheckFeed(&check, image, size);
	return mcubootCheckFinish(&check, version, versionSize);
}

/* verify(): the image version ("major.minor.revision+build") for MCUboot images, "" for modem images */
void xs_dfu_verify(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->written != dfu->size)
		simThrowErrno(the, ZEPHYR_ENODATA, "DFU: %u of %u bytes written", dfu->written, dfu->size);
	uint8_t* image = readImage(dfu);
	if (!image)
		simThrowErrno(the, ZEPHYR_EIO, "DFU: cannot read the slot back");
	const char* problem = NULL;
	dfu->version[0] = 0;
	if (dfu->hasDigest) {
		uint8_t digest[32];
		sha256(image, dfu->size, digest);
		if (memcmp(digest, dfu->digest, 32))
			problem = "SHA-256 of the image does not match";
	}
	if (!problem && dfu->type != TYPE_MODEM)
		problem = checkMcuboot(image, dfu->size, dfu->version, sizeof(dfu->version));
	free(image);
	if (problem)
		simThrowErrno(the, ZEPHYR_EINVAL, "DFU: integrity check failed: %s", problem);
	dfu->verified = 1;
	xsmcSetString(xsResult, dfu->version);
}

/* schedule(): the verified image is applied at the next start */
void xs_dfu_schedule(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (!dfu->verified)
		simThrowErrno(the, ZEPHYR_EACCES, "DFU: verify the image before scheduling it");
	char path[1200];
	dfuPath(path, sizeof(path), "pending");
	FILE* file = fopen(path, "w");
	if (!file)
		simThrowErrno(the, zephyrErrno(errno), "DFU: cannot schedule: %s", strerror(errno));
	fprintf(file, "%s %u %s\n", gTypeNames[dfu->type], dfu->size, dfu->version[0] ? dfu->version : "-");
	fclose(file);
}

/* cancel(): drop a scheduled update and the slot's content */
void xs_dfu_cancel(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	modemRequireState(the);
	char path[1200];
	dfuPath(path, sizeof(path), "pending");
	unlink(path);
	dfu->erased = 0;
	dfu->written = 0;
	dfu->verified = 0;
}

void xs_dfu_close(xsMachine* the)
{
	Dfu* dfu = xsmcGetHostData(xsThis);
	if (dfu) {
		xs_dfu_destructor(dfu);
		xsmcSetHostData(xsThis, NULL);
	}
}

/* reboot(): the host exits with SIM_EXIT_REBOOT so that its supervisor starts it again */
void xs_dfu_reboot(xsMachine* the)
{
	simRequestExit(SIM_EXIT_REBOOT);
}

/* Applies an update scheduled by the previous run, as the bootloader does at start-up; once per process. */
static int gBootChecked = 0;

static void bootCheck(void)
{
	if (gBootChecked)
		return;
	gBootChecked = 1;
	char pending[1200], last[1200], secondary[1200];
	dfuPath(pending, sizeof(pending), "pending");
	dfuPath(last, sizeof(last), "last");
	dfuPath(secondary, sizeof(secondary), "secondary.bin");
	FILE* file = fopen(pending, "r");
	if (file) {
		char typeName[16] = "", version[48] = "-";
		unsigned size = 0;
		int fields = fscanf(file, "%15s %u %47s", typeName, &size, version);
		fclose(file);
		int type = typeFromName(typeName);
		const char* problem = NULL;
		if (fields != 3 || type < 0 || size == 0)
			problem = "unreadable pending record";
		Dfu probe = { 0 };
		probe.type = type;
		probe.size = size;
		probe.slot = problem ? NULL : fopen(secondary, "rb");
		uint8_t* image = probe.slot ? readImage(&probe) : NULL;
		if (!problem && !image)
			problem = "secondary slot unreadable";
		if (!problem && type != TYPE_MODEM)
			problem = checkMcuboot(image, size, version, sizeof(version));
		if (!problem) {
			char primary[1200];
			char name[32];
			snprintf(name, sizeof(name), "primary-%s.bin", gTypeNames[type]);
			dfuPath(primary, sizeof(primary), name);
			FILE* out = fopen(primary, "wb");
			if (!out || fwrite(image, 1, size, out) != size)
				problem = "cannot write the primary slot";
			if (out)
				fclose(out);
		}
		free(image);
		if (probe.slot)
			fclose(probe.slot);
		FILE* record = fopen(last, "w");
		if (record) {
			fprintf(record, "%s %u %s %s %s\n", type >= 0 ? gTypeNames[type] : "unknown", size, version,
				problem ? "failed" : "applied", problem ? problem : "");
			fclose(record);
		}
		unlink(pending);
	}
}

/*
 * lastUpdate(): the result of the most recent update applied at start-up, as
 * { type, size, version, status: "applied" | "failed", reason? }, or undefined.
 */
void xs_dfu_last_update(xsMachine* the)
{
	char last[1200];
	FILE* file;
	modemRequireState(the);
	bootCheck();
	dfuPath(last, sizeof(last), "last");
	file = fopen(last, "r");
	if (!file)
		return;
	char typeName[16] = "", version[48] = "", status[16] = "", reason[160] = "";
	unsigned size = 0;
	int fields = fscanf(file, "%15s %u %47s %15s %159[^\n]", typeName, &size, version, status, reason);
	fclose(file);
	if (fields < 4)
		return;
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), typeName);
	xsmcSet(xsResult, xsID("type"), xsVar(0));
	xsmcSetInteger(xsVar(0), (xsIntegerValue)size);
	xsmcSet(xsResult, xsID("size"), xsVar(0));
	xsmcSetString(xsVar(0), strcmp(version, "-") ? version : "");
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	xsmcSetString(xsVar(0), status);
	xsmcSet(xsResult, xsID("status"), xsVar(0));
	if (fields == 5) {
		xsmcSetString(xsVar(0), reason);
		xsmcSet(xsResult, xsID("reason"), xsVar(0));
	}
}

/* clearLastUpdate(): forget the last result once it has been reported */
void xs_dfu_clear_last_update(xsMachine* the)
{
	char last[1200];
	modemRequireState(the);
	dfuPath(last, sizeof(last), "last");
	unlink(last);
}
