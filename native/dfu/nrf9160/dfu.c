/*
 * DFU target of the nRF9160 (the module dfu/target) on NCS's dfu_target:
 * - "app": an MCUboot image into the secondary slot (DFU_TARGET_IMAGE_TYPE_MCUBOOT,
 *   image 0), swapped in by MCUboot as a test at the next boot and confirmed
 *   by this binding at the first start of the new image
 *   (boot_write_img_confirmed); an image that never gets confirmed is
 *   reverted by MCUboot at the following reset, and reported as failed;
 * - "modem": a modem delta image into the modem's scratch area
 *   (DFU_TARGET_IMAGE_TYPE_MODEM_DELTA), applied by the modem at the next
 *   start; its result comes from nrf_modem_lib's DFU result hook;
 * - "boot": the upgradable bootloader's image, the variant for the slot
 *   (S0/S1) not running, which the caller picks as NCS's fota_download does;
 *   it travels through the MCUboot target like "app".
 * Every byte is also fed to the project's own checks as it streams through
 * (native/common/mcuboot-image.h: header and SHA-256 TLV; the SHA-256 given
 * for a modem image), so a damaged image is refused before it is scheduled,
 * as in the simulator host. reboot() is sys_reboot().
 *
 * The scheduled update and its result are settings records
 * ("nrfcloud_dfu/pending", "nrfcloud_dfu/last"), in the format of the
 * simulator host's files: "type size version" and "type size version status reason".
 */

#include "../../nrf9160/binding.h"
#include "../../nrf9160/settings-value.h"
#include "../../common/mcuboot-image.h"
#include "../../common/sha256.h"

#include <stdio.h>
#include <string.h>

#define PENDING_NAME "nrfcloud_dfu/pending"
#define LAST_NAME "nrfcloud_dfu/last"
#define RECORD_SIZE 240
#define STREAM_BUFFER 1024	/* dfu_target_mcuboot's write buffer (a multiple of the flash write block) */

enum { TYPE_APP, TYPE_MODEM, TYPE_BOOT };
static const char* const gTypeNames[] = { "app", "modem", "boot" };

typedef struct {
	int type;
	uint32_t size;
	uint32_t written;
	int started;	/* dfu_target_init done, dfu_target_done not yet */
	int verified;
	int hasDigest;
	uint8_t digest[32];
	Sha256 hash;
	McubootCheck check;
	char version[48];
} Dfu;

static uint8_t gStreamBuffer[STREAM_BUFFER];
static int gModemDfuResult = -1;	/* what nrf_modem_init() returned at boot; -1: no hook call */
static uint32_t gTargetEvents;	/* DFU_TARGET_EVT_* seen, as bits: dfu_target's context sets them */
static int gBootChecked;

NRF_MODEM_LIB_ON_DFU_RES(nrfcloud_dfu, onModemDfuResult, NULL);

static void onModemDfuResult(int result, void* context)
{
	(void)context;
	gModemDfuResult = result;
}

static void onTargetEvent(enum dfu_target_evt_id event)
{
	__atomic_fetch_or(&gTargetEvents, 1u << event, __ATOMIC_RELAXED);
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

static int readRecord(const char* name, char* out)
{
	SettingsValue state;
	if (settingsValueRead(name, (uint8_t*)out, RECORD_SIZE - 1, &state) || state.failed || state.length < 0)
		return 0;
	out[state.length] = 0;
	return 1;
}

static void writeLast(const char* type, unsigned size, const char* version, const char* status, const char* reason)
{
	char record[RECORD_SIZE];
	int length = snprintf(record, sizeof(record), "%s %u %s %s %s", type, size, version, status, reason);
	if (length > 0)
		settings_save_one(LAST_NAME, record, (size_t)(length < (int)sizeof(record) ? length : (int)sizeof(record) - 1));
}

/*
 * At the first start after an update: confirms a new MCUboot image and
 * records the result of the scheduled update, as the simulator host's
 * bootloader stand-in does. Once per boot.
 */
static void bootCheck(void)
{
	char pending[RECORD_SIZE];
	if (gBootChecked)
		return;
	gBootChecked = 1;
	if (settings_subsys_init() || !readRecord(PENDING_NAME, pending))
		return;
	char typeName[16] = "", version[48] = "-";
	unsigned size = 0;
	int fields = sscanf(pending, "%15s %u %47s", typeName, &size, version);
	int type = typeFromName(typeName);
	char reason[96] = "";
	const char* status = "failed";
	if (fields != 3 || type < 0)
		snprintf(reason, sizeof(reason), "unreadable pending record");
	else if (type == TYPE_MODEM) {
		if (gModemDfuResult == (int)NRF_MODEM_DFU_RESULT_OK)
			status = "applied";
		else if (gModemDfuResult < 0)
			snprintf(reason, sizeof(reason), "the modem reported no update result");
		else
			snprintf(reason, sizeof(reason), "modem DFU result 0x%x", (unsigned)gModemDfuResult);
	}
	else if (type == TYPE_APP) {
		if (boot_is_img_confirmed())
			snprintf(reason, sizeof(reason), "MCUboot runs the previous image (not swapped, or reverted)");
		else {
			int result = boot_write_img_confirmed();
			if (result)
				snprintf(reason, sizeof(reason), "cannot confirm the new image: errno %d", -result);
			else
				status = "applied";
		}
	}
	else
		status = "applied";	/* the bootloader's own update leaves no result to read: it runs or the old one does */
	writeLast(fields == 3 && type >= 0 ? gTypeNames[type] : "unknown", size, version, status, reason);
	settings_delete(PENDING_NAME);
}

void xs_dfu_destructor(void* data)
{
	Dfu* dfu = data;
	if (!dfu)
		return;
	if (dfu->started)
		dfu_target_done(false);
	k_free(dfu);
}

static Dfu* getDfu(xsMachine* the)
{
	Dfu* dfu = xsmcGetHostData(xsThis);
	if (!dfu)
		nrfThrowErrno(the, ZEPHYR_EACCES, "DFU target is closed");
	return dfu;
}

/* constructor(type, size, sha256?) */
void xs_dfu_constructor(xsMachine* the)
{
	bootCheck();
	if (xsmcArgc < 2 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("DFU: image type must be \"app\", \"modem\" or \"boot\"");
	int type = typeFromName(xsmcToString(xsArg(0)));
	if (type < 0)
		xsRangeError("DFU: image type must be \"app\", \"modem\" or \"boot\"");
	double size = xsmcToNumber(xsArg(1));
	if (!(size >= 1) || size != (double)(uint32_t)size)
		xsRangeError("DFU: image size must be a positive integer");
	Dfu* dfu = k_malloc(sizeof(Dfu));
	if (!dfu)
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	memset(dfu, 0, sizeof(*dfu));
	dfu->type = type;
	dfu->size = (uint32_t)size;
	if (xsmcArgc > 2 && xsmcTypeOf(xsArg(2)) == xsStringType) {
		if (!hexDigest(xsmcToString(xsArg(2)), dfu->digest)) {
			k_free(dfu);
			xsRangeError("DFU: sha256 must be 64 hex digits");
		}
		dfu->hasDigest = 1;
	}
	if (type == TYPE_MODEM && !dfu->hasDigest) {
		k_free(dfu);
		xsTypeError("DFU: a modem image needs its sha256 to be checked");
	}
	xsmcSetHostData(xsThis, dfu);
}

/* erase(): a fresh target (dfu_target erases as it writes, or the modem's scratch area at init) */
void xs_dfu_erase(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->started)
		dfu_target_done(false);
	dfu->started = 0;
	dfu_target_reset();
	int result;
	if (dfu->type == TYPE_MODEM)
		result = dfu_target_init(DFU_TARGET_IMAGE_TYPE_MODEM_DELTA, 0, dfu->size, onTargetEvent);
	else {
		result = dfu_target_mcuboot_set_buf(gStreamBuffer, sizeof(gStreamBuffer));
		if (!result)
			result = dfu_target_init(DFU_TARGET_IMAGE_TYPE_MCUBOOT, 0, dfu->size, onTargetEvent);
	}
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: the target does not start: errno %d", -result);
	dfu->started = 1;
	dfu->written = 0;
	dfu->verified = 0;
	sha256Init(&dfu->hash);
	mcubootCheckInit(&dfu->check);
}

/* write(bytes): bytes written so far */
void xs_dfu_write(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (!dfu->started)
		nrfThrowErrno(the, ZEPHYR_EACCES, "DFU: erase the slot before writing");
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((uint64_t)dfu->written + length > dfu->size)
		xsRangeError("DFU: %u more bytes exceed the announced image size of %u", (unsigned)length, (unsigned)dfu->size);
	sha256Update(&dfu->hash, data, length);
	if (dfu->type != TYPE_MODEM)
		mcubootCheckFeed(&dfu->check, data, length);
	int result = dfu_target_write(data, length);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: write failed: errno %d", -result);
	dfu->written += (uint32_t)length;
	dfu->verified = 0;
	xsmcSetInteger(xsResult, (xsIntegerValue)dfu->written);
}

void xs_dfu_get_written(xsMachine* the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)getDfu(the)->written);
}

/* verify(): the image version for MCUboot images, "" for modem images; the target is finished either way */
void xs_dfu_verify(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->written != dfu->size)
		nrfThrowErrno(the, ZEPHYR_ENODATA, "DFU: %u of %u bytes written", (unsigned)dfu->written, (unsigned)dfu->size);
	const char* problem = NULL;
	uint8_t digest[32];
	sha256Final(&dfu->hash, digest);
	dfu->version[0] = 0;
	if (dfu->hasDigest && memcmp(digest, dfu->digest, 32))
		problem = "SHA-256 of the image does not match";
	if (!problem && dfu->type != TYPE_MODEM)
		problem = mcubootCheckFinish(&dfu->check, dfu->version, sizeof(dfu->version));
	int result = dfu_target_done(!problem);
	dfu->started = 0;
	if (problem) {
		dfu_target_reset();
		nrfThrowErrno(the, ZEPHYR_EINVAL, "DFU: integrity check failed: %s", problem);
	}
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: the target cannot finish the image: errno %d", -result);
	dfu->verified = 1;
	xsmcSetString(xsResult, dfu->version);
}

/* schedule(): the verified image is applied at the next start */
void xs_dfu_schedule(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (!dfu->verified)
		nrfThrowErrno(the, ZEPHYR_EACCES, "DFU: verify the image before scheduling it");
	int result = dfu_target_schedule_update(0);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot schedule: errno %d", -result);
	char record[RECORD_SIZE];
	int length = snprintf(record, sizeof(record), "%s %u %s", gTypeNames[dfu->type], (unsigned)dfu->size, dfu->version[0] ? dfu->version : "-");
	result = settings_save_one(PENDING_NAME, record, (size_t)length);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot record the scheduled update: errno %d", -result);
}

/* cancel(): drop a scheduled update and the received image */
void xs_dfu_cancel(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->started)
		dfu_target_done(false);
	dfu_target_reset();
	settings_delete(PENDING_NAME);
	dfu->started = 0;
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

/* reboot(): a cold reset; MCUboot and the modem apply what was scheduled */
void xs_dfu_reboot(xsMachine* the)
{
	(void)the;
	sys_reboot(SYS_REBOOT_COLD);
}

/* lastUpdate(): { type, size, version, status: "applied" | "failed", reason? } or undefined */
void xs_dfu_last_update(xsMachine* the)
{
	char record[RECORD_SIZE];
	bootCheck();
	if (!readRecord(LAST_NAME, record))
		return;
	char typeName[16] = "", version[48] = "", status[16] = "", reason[160] = "";
	unsigned size = 0;
	int fields = sscanf(record, "%15s %u %47s %15s %159[^\n]", typeName, &size, version, status, reason);
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
	(void)the;
	settings_delete(LAST_NAME);
}
