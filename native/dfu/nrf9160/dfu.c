/*
 * DFU target of the nRF9160 (the module dfu/target) on NCS's dfu_target:
 * - "app": an MCUboot image into the secondary slot (DFU_TARGET_IMAGE_TYPE_MCUBOOT,
 *   image 0), swapped in by MCUboot as a test at the next boot; the library
 *   confirms it (confirm(), boot_write_img_confirmed) once it has checked
 *   that the new image works; one never confirmed is reverted by MCUboot at
 *   the following reset, and reported as "reverted";
 * - "modem": a modem delta image into the modem's scratch area
 *   (DFU_TARGET_IMAGE_TYPE_MODEM_DELTA), applied by the modem at the next
 *   start, or at once by applyModemUpdate() (nrf_modem_lib shut down and
 *   initialised again); its result comes from nrf_modem_lib's DFU result hook;
 * - "boot": the upgradable bootloader's image, the variant for the slot
 *   (S0/S1) not running (activeBootSlot(), fota_download_s0_active_get), which
 *   the caller picks as NCS's fota_download does; it travels through the
 *   MCUboot target like "app".
 * Every byte is also fed to the project's own checks as it streams through
 * (native/common/mcuboot-image.h: header and SHA-256 TLV; the SHA-256 given
 * for a modem image), so a damaged image is refused before it is scheduled,
 * as in the simulator host. reboot() is sys_reboot().
 *
 * Resuming (app and boot images): dfu_target_mcuboot keeps how far it wrote
 * in settings (CONFIG_DFU_TARGET_STREAM_SAVE_PROGRESS); the constructor with
 * `resume` starts the target again and takes dfu_target_offset_get() as the
 * bytes written when the image it was erased for ("nrfcloud_dfu/image": type,
 * size, sha256) is the same, and reads those bytes back from the secondary
 * slot into the streaming checks. Modem images do not resume: the modem's
 * scratch area cannot be read back, so the SHA-256 of the image could not be
 * checked.
 *
 * The scheduled update and its result are settings records
 * ("nrfcloud_dfu/pending", "nrfcloud_dfu/last"), in the format of the
 * simulator host's files: "type size version [running]" and the result
 * record of dfu-xs.h. "running" marks an app image that started and is not
 * confirmed yet: found at a later start, MCUboot has reverted it.
 */

#include "../../nrf9160/binding.h"
#include "../../nrf9160/settings-value.h"
#include "../../common/mcuboot-image.h"
#include "../../common/sha256.h"
#include "../dfu-xs.h"

#include <stdio.h>
#include <string.h>

#define PENDING_NAME "nrfcloud_dfu/pending"
#define LAST_NAME "nrfcloud_dfu/last"
#define IMAGE_NAME "nrfcloud_dfu/image"
#define RECORD_SIZE 240
#define STREAM_BUFFER 1024	/* dfu_target_mcuboot's write buffer (a multiple of the flash write block) */


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
static int gModemDfuResult = -1;	/* what the modem reported at its last initialisation; -1: no hook call */
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

static int readRecord(const char* name, char* out)
{
	SettingsValue state;
	if (settingsValueRead(name, (uint8_t*)out, RECORD_SIZE - 1, &state) || state.failed || state.length < 0)
		return 0;
	out[state.length] = 0;
	return 1;
}

static void writeLast(const char* type, unsigned size, const char* version, const char* status, int confirmed, const char* reason)
{
	char record[RECORD_SIZE];
	int length = formatUpdateRecord(record, sizeof(record), type, size, version, status, confirmed, reason);
	if (length > 0)
		settings_save_one(LAST_NAME, record, (size_t)(length < (int)sizeof(record) ? length : (int)sizeof(record) - 1));
}

/* The pending record: "type size version [running]"; fields read, 0 when there is none. */
typedef struct {
	char typeName[16];
	unsigned size;
	char version[48];
	int type;
	int running;	/* an app image that started and is not confirmed yet */
} Pending;

static int readPending(Pending* pending)
{
	char record[RECORD_SIZE], mark[16] = "";
	memset(pending, 0, sizeof(*pending));
	snprintf(pending->version, sizeof(pending->version), "-");
	if (!readRecord(PENDING_NAME, record))
		return 0;
	int fields = sscanf(record, "%15s %u %47s %15s", pending->typeName, &pending->size, pending->version, mark);
	pending->type = typeFromName(pending->typeName);
	pending->running = fields == 4 && pending->type == TYPE_APP && !strcmp(mark, "running");
	return fields;
}

/* Drops a scheduled update; keeps the mark of a running unconfirmed image, which only a start or confirm() resolves. */
static void forgetScheduled(void)
{
	Pending pending;
	if (readPending(&pending) && !pending.running)
		settings_delete(PENDING_NAME);
}

/* "applied" when the modem reported that it installed the delta, else "failed" and why. */
static const char* modemUpdateStatus(char* reason, size_t size)
{
	if (gModemDfuResult == (int)NRF_MODEM_DFU_RESULT_OK)
		return "applied";
	if (gModemDfuResult < 0)
		snprintf(reason, size, "the modem reported no update result");
	else
		snprintf(reason, size, "modem DFU result 0x%x", (unsigned)gModemDfuResult);
	return "failed";
}

/*
 * At the first start after an update: records the result of the scheduled
 * update, as the simulator host's bootloader stand-in does. A new app image
 * runs unconfirmed ("applied", confirmed false) until confirm(); found still
 * marked running at a later start, MCUboot has put the previous image back.
 * Once per boot.
 */
static void bootCheck(void)
{
	if (gBootChecked)
		return;
	gBootChecked = 1;
	Pending pending;
	if (settings_subsys_init())
		return;
	int fields = readPending(&pending);
	if (!fields)
		return;
	if (fields < 3 || pending.type < 0) {
		writeLast("unknown", 0, "", "failed", 0, "unreadable pending record");
		settings_delete(PENDING_NAME);
		return;
	}
	char reason[96] = "";
	const char* status;
	if (pending.type == TYPE_MODEM)
		status = modemUpdateStatus(reason, sizeof(reason));
	else if (pending.running) {
		if (!boot_is_img_confirmed())
			return;	/* still the new image, unconfirmed: MCUboot did not revert it */
		status = "reverted";
		snprintf(reason, sizeof(reason), "the image was not confirmed before the next start");
	}
	else if (pending.type == TYPE_APP) {
		if (!boot_is_img_confirmed()) {
			/* swapped in as a test: runs unconfirmed until confirm() */
			char running[RECORD_SIZE];
			int length = snprintf(running, sizeof(running), "%s %u %s running", pending.typeName, pending.size, pending.version);
			writeLast(pending.typeName, pending.size, pending.version, "applied", 0, NULL);
			settings_save_one(PENDING_NAME, running, (size_t)length);
			return;
		}
		status = "failed";
		snprintf(reason, sizeof(reason), "MCUboot runs the previous image (the new one was not swapped in, or reverted before it ran)");
	}
	else
		status = "applied";	/* the bootloader's own update leaves no result to read: it runs or the old one does */
	writeLast(pending.typeName, pending.size, pending.version, status, !strcmp(status, "applied"), reason);
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

/* The image identity the slot was erased for: "type size sha256" ("-" without one). */
static int imageIdentity(const Dfu* dfu, char* out, size_t size)
{
	char digest[65] = "-";
	if (dfu->hasDigest)
		for (int i = 0; i < 32; i++)
			snprintf(digest + i * 2, 3, "%02x", dfu->digest[i]);
	return snprintf(out, size, "%s %u %s", gTypeNames[dfu->type], (unsigned)dfu->size, digest);
}

static int startMcubootTarget(const Dfu* dfu)
{
	int result = dfu_target_mcuboot_set_buf(gStreamBuffer, sizeof(gStreamBuffer));
	return result ? result : dfu_target_init(DFU_TARGET_IMAGE_TYPE_MCUBOOT, 0, dfu->size, onTargetEvent);
}

/*
 * Keeps what the secondary slot holds of the same image: dfu_target_mcuboot's
 * saved offset, and those bytes read back into the streaming checks. Leaves
 * the target fresh (written 0, erase() needed) when there is nothing to keep.
 */
static void resumeImage(xsMachine* the, Dfu* dfu)
{
	char saved[RECORD_SIZE], identity[RECORD_SIZE];
	imageIdentity(dfu, identity, sizeof(identity));
	if (!readRecord(IMAGE_NAME, saved) || strcmp(saved, identity))
		return;
	int result = startMcubootTarget(dfu);
	size_t offset = 0;
	if (!result)
		result = dfu_target_offset_get(&offset);
	if (result || offset == 0 || offset > dfu->size) {
		if (!result)
			dfu_target_done(false);
		return;
	}
	dfu->started = 1;
	sha256Init(&dfu->hash);
	mcubootCheckInit(&dfu->check);
	const struct flash_area* area;
	result = flash_area_open(FIXED_PARTITION_ID(slot1_partition), &area);
	int opened = !result;
	uint8_t block[256];
	for (size_t at = 0; !result && at < offset; at += sizeof(block)) {
		size_t length = offset - at < sizeof(block) ? offset - at : sizeof(block);
		result = flash_area_read(area, (off_t)at, block, length);
		if (!result) {
			sha256Update(&dfu->hash, block, length);
			mcubootCheckFeed(&dfu->check, block, length);
		}
	}
	if (opened)
		flash_area_close(area);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot read back the slot to resume: errno %d", -result);
	dfu->written = (uint32_t)offset;
}

/* constructor(type, size, sha256?, resume) */
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
	if (xsmcArgc > 3 && xsmcTest(xsArg(3)) && type != TYPE_MODEM)
		resumeImage(the, dfu);
}

/* erase(): a fresh target (dfu_target erases as it writes, or the modem's scratch area at init); forgets a scheduled update */
void xs_dfu_erase(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->started)
		dfu_target_done(false);
	dfu->started = 0;
	dfu_target_reset();
	forgetScheduled();
	int result;
	if (dfu->type == TYPE_MODEM)
		result = dfu_target_init(DFU_TARGET_IMAGE_TYPE_MODEM_DELTA, 0, dfu->size, onTargetEvent);
	else
		result = startMcubootTarget(dfu);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: the target does not start: errno %d", -result);
	char identity[RECORD_SIZE];
	int length = imageIdentity(dfu, identity, sizeof(identity));
	result = settings_save_one(IMAGE_NAME, identity, (size_t)length);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot record the image being written: errno %d", -result);
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
		settings_delete(IMAGE_NAME);
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
	settings_delete(IMAGE_NAME);	/* the slot now holds a whole image: nothing to resume */
}

/* cancel(): drop a scheduled update and the received image */
void xs_dfu_cancel(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->started)
		dfu_target_done(false);
	dfu_target_reset();
	forgetScheduled();
	settings_delete(IMAGE_NAME);
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

/* lastUpdate(): { type, size, version, status: "applied" | "reverted" | "failed", confirmed, reason? } or undefined */
void xs_dfu_last_update(xsMachine* the)
{
	char record[RECORD_SIZE];
	bootCheck();
	if (readRecord(LAST_NAME, record))
		setUpdateResult(the, record);
}

/* clearLastUpdate(): forget the last result once it has been reported */
void xs_dfu_clear_last_update(xsMachine* the)
{
	(void)the;
	bootCheck();
	settings_delete(LAST_NAME);
}

/* confirm(): the running app image stays (boot_write_img_confirmed); idempotent */
void xs_dfu_confirm(xsMachine* the)
{
	bootCheck();
	if (!boot_is_img_confirmed()) {
		int result = boot_write_img_confirmed();
		if (result)
			nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot confirm the image: errno %d", -result);
	}
	Pending pending;
	if (!readPending(&pending) || !pending.running)
		return;
	settings_delete(PENDING_NAME);
	char text[RECORD_SIZE];
	UpdateRecord last;
	if (readRecord(LAST_NAME, text) && parseUpdateRecord(text, &last) && !strcmp(last.type, "app") && !strcmp(last.status, "applied")
		&& !strcmp(last.version, strcmp(pending.version, "-") ? pending.version : ""))
		writeLast("app", last.size, last.version, "applied", 1, NULL);
}

/* runningImage(): { version, confirmed } of the running app image, from the MCUboot header of the primary slot */
void xs_dfu_running_image(xsMachine* the)
{
	bootCheck();
	struct mcuboot_img_header header;
	int result = boot_read_bank_header(FIXED_PARTITION_ID(slot0_partition), &header, sizeof(header));
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot read the running image's header: errno %d", -result);
	if (header.mcuboot_version != 1)
		nrfThrowErrno(the, ZEPHYR_EINVAL, "DFU: the running image's header is of MCUboot version %u", (unsigned)header.mcuboot_version);
	char version[48];
	const struct mcuboot_img_sem_ver* v = &header.h.v1.sem_ver;
	snprintf(version, sizeof(version), "%u.%u.%u+%u", v->major, v->minor, v->revision, (unsigned)v->build_num);
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), version);
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	xsmcSetBoolean(xsVar(0), boot_is_img_confirmed());
	xsmcSet(xsResult, xsID("confirmed"), xsVar(0));
}

/* activeBootSlot(): 0 (S0) or 1 (S1), as NCS's fota_download tells it (CONFIG_FOTA_DOWNLOAD, B1 with S1) */
void xs_dfu_active_boot_slot(xsMachine* the)
{
	bool s0Active = true;
	int result = fota_download_s0_active_get(&s0Active);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "DFU: cannot tell the active bootloader slot: errno %d", -result);
	xsmcSetInteger(xsResult, s0Active ? 0 : 1);
}

/*
 * applyModemUpdate(): a scheduled modem delta applied now: the modem goes to
 * minimal functionality (AT+CFUN=0, which nrf_modem_lib_shutdown requires)
 * and is initialised again, which applies the delta; the DFU result hook
 * gives the result. The LTE link is down afterwards.
 */
void xs_dfu_apply_modem_update(xsMachine* the)
{
	bootCheck();
	Pending pending;
	if (readPending(&pending) < 3 || pending.type != TYPE_MODEM)
		nrfThrowErrno(the, ZEPHYR_EACCES, "DFU: no modem update is scheduled");
	char response[32];
	int result = nrf_modem_at_cmd(response, sizeof(response), "AT+CFUN=0");
	if (result)
		nrfThrowErrno(the, result < 0 ? zephyrErrno(-result) : ZEPHYR_EIO, "DFU: the modem does not go offline: %d", result);
	result = nrf_modem_lib_shutdown();
	if (result)
		nrfThrowErrno(the, result < 0 ? zephyrErrno(-result) : ZEPHYR_EIO, "DFU: the modem library does not shut down: %d", result);
	gModemDfuResult = -1;
	result = nrf_modem_lib_init();
	if (gModemDfuResult < 0 && result > 0)
		gModemDfuResult = result;	/* nrf_modem_lib_init() also returns the DFU result */
	char reason[96] = "";
	const char* status = modemUpdateStatus(reason, sizeof(reason));
	if (result < 0) {
		status = "failed";
		snprintf(reason, sizeof(reason), "the modem library does not start again: errno %d", -result);
	}
	writeLast(pending.typeName, pending.size, pending.version, status, !strcmp(status, "applied"), reason);
	settings_delete(PENDING_NAME);
	xs_dfu_last_update(the);
}
