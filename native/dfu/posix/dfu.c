/*
 * DFU target of the simulator host, and the boot step that applies what it
 * scheduled (what MCUboot, the immutable bootloader and the modem do on the
 * nRF9160 at a start).
 *
 * The target: a file-backed secondary slot with flash semantics (erase to
 * 0xFF), sequential writes, an integrity check, "schedule the update and
 * reboot". Application and bootloader images are MCUboot images: the SHA-256
 * TLV must match the header, image and protected TLVs; the payload of an
 * application image is a firmware archive (below). Modem images name the
 * firmware they install on their first line ("mfw_nrf9160_1.3.1") and are
 * checked against a SHA-256 when one is given at opening (a FOTA job document
 * carries none: on the nRF9160 the modem checks a delta itself).
 *
 * Resuming: after every write a progress record says how many bytes the slot
 * holds. It is kept twice (two 64-byte copies with a sequence number and a
 * CRC-32, written alternately, each after the slot bytes it counts), so a
 * record torn by a kill at any moment fails its CRC and the other copy, which
 * counts fewer bytes, is used: a resumed download may fetch some bytes again,
 * never skip any.
 *
 * The boot step (simDfuBoot, called by main.c before the app is chosen):
 * - APP, MCUboot test swap: the scheduled image becomes the running one,
 *   unconfirmed; a start that finds it still unconfirmed restores the previous
 *   image ("reverted"). The running image is extracted into app-<n>/, which
 *   the host runs instead of the app on its command line.
 * - BOOT: the image goes to the inactive S0/S1 slot, which becomes active.
 * - MODEM: the emulated modem's firmware (<state>/firmware, AT+CGMR) becomes
 *   the one the image names; also at once with applyModemUpdate().
 * Every step is a file replaced by rename(), in an order that a kill between
 * any two of them repeats or finishes at the next start.
 *
 * Firmware archive: a POSIX ustar archive of the compiled modules, main.js at
 * its root, bare specifiers resolved under its root (hosts/sim/README.md).
 *
 * <state>/dfu/: secondary.bin (slot), progress, pending (scheduled update),
 * last (result of the last update), app (running app image record),
 * app-<n>.bin and app-<n>/ (images), boot-slot, s0.bin, s1.bin.
 *
 * Failures throw an Error whose errno (Zephyr numbering) tells them apart:
 * EACCES for a step out of order (closed, not erased, not verified, nothing
 * scheduled), ENODATA for an incomplete image, EINVAL for one that fails its
 * integrity check, ENOMEM, and the file system's errno for I/O. Bad arguments
 * are TypeError and RangeError.
 */

#define _GNU_SOURCE
#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../../modem/posix/modem.h"
#include "../../common/mcuboot-image.h"
#include "../../common/sha256.h"
#include "../dfu-xs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOT_SIZE (448 * 1024)
#define PROGRESS_MAGIC 0x50554644U	/* "DFUP" */
#define PROGRESS_RECORD 64
#define ARCHIVE_MAX_ENTRIES 4096
#define PATH_SIZE 1200


typedef struct {
	int type;
	uint32_t size;	/* announced image size */
	uint32_t written;
	uint32_t sequence;	/* of the newest progress record */
	int erased;
	int verified;
	int hasDigest;
	uint8_t digest[32];
	int slot;	/* file descriptor */
	char version[48];
} Dfu;

/* ---- files ---- */

static int dfuPath(char* out, size_t size, const char* name)
{
	char relative[160];
	snprintf(relative, sizeof(relative), "dfu/%s", name);
	return modemStatePath(out, size, relative);
}

static void ensureDirectory(void)
{
	char path[PATH_SIZE];
	modemEnsureStateDirectory();
	if (modemStatePath(path, sizeof(path), "dfu"))
		mkdir(path, 0700);
}

/* Replaces `path` with `length` bytes at once (a temporary file renamed over it); 0 and errno on failure. */
static int replaceFile(const char* path, const void* data, size_t length)
{
	char temporary[PATH_SIZE + 8];
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	const uint8_t* bytes = data;
	size_t done = 0;
	while (done < length) {
		ssize_t count = write(fd, bytes + done, length - done);
		if (count < 0) {
			int problem = errno;
			close(fd);
			unlink(temporary);
			errno = problem;
			return 0;
		}
		done += (size_t)count;
	}
	if (close(fd) != 0 || rename(temporary, path) != 0)
		return 0;
	return 1;
}

static int replaceDfuText(const char* name, const char* text)
{
	char path[PATH_SIZE];
	return dfuPath(path, sizeof(path), name) && replaceFile(path, text, strlen(text));
}

/* The whole file, malloc'd (one byte more, NUL), or NULL. */
static uint8_t* readWholeFile(const char* path, size_t* length)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat info;
	uint8_t* data = NULL;
	if (fstat(fd, &info) == 0 && (data = malloc((size_t)info.st_size + 1))) {
		size_t done = 0;
		while (done < (size_t)info.st_size) {
			ssize_t count = read(fd, data + done, (size_t)info.st_size - done);
			if (count <= 0)
				break;
			done += (size_t)count;
		}
		if (done != (size_t)info.st_size) {
			free(data);
			data = NULL;
		}
		else {
			data[done] = 0;
			*length = done;
		}
	}
	close(fd);
	return data;
}

static int readDfuText(const char* name, char* out, size_t size)
{
	char path[PATH_SIZE];
	size_t length = 0;
	if (!dfuPath(path, sizeof(path), name))
		return 0;
	uint8_t* data = readWholeFile(path, &length);
	if (!data)
		return 0;
	snprintf(out, size, "%s", (char*)data);
	free(data);
	return 1;
}

static int removeEntry(const char* path, const struct stat* info, int flag, struct FTW* walk)
{
	return remove(path);
}

static void removeTree(const char* path)
{
	nftw(path, removeEntry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- integrity ---- */

static uint32_t le32(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static uint16_t le16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void putLe32(uint8_t* p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static uint32_t crc32(const uint8_t* data, size_t length)
{
	uint32_t crc = 0xFFFFFFFFU;
	for (size_t i = 0; i < length; i++) {
		crc ^= data[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1)));
	}
	return ~crc;
}

static void digestHex(const uint8_t* digest, char* out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + i * 2, "%02x", digest[i]);
}

/*
 * Checks an MCUboot image; NULL when valid (version filled in, and the payload's
 * place), else the reason.
 */
static const char* checkMcuboot(const uint8_t* image, uint32_t size, char* version, size_t versionSize, const uint8_t** payload, uint32_t* payloadSize)
{
	McubootCheck check;
	mcubootCheckInit(&check);
	mcubootCheckFeed(&check, image, size);
	const char* problem = mcubootCheckFinish(&check, version, versionSize);
	if (!problem && payload) {
		/* the header's own size (offset 8) and the body's (offset 12): the payload follows the header */
		*payload = image + le16(image + 8);
		*payloadSize = le32(image + 12);
	}
	return problem;
}

/* The firmware a modem image installs, from its first line; NULL when valid, else the reason. */
static const char* checkModemImage(const uint8_t* image, uint32_t size, char* firmware, size_t firmwareSize)
{
	static const char prefix[] = "mfw_nrf9160_";
	uint32_t length = 0;
	while (length < size && length < 64 && image[length] != '\n')
		length++;
	if (length >= size || image[length] != '\n' || length <= sizeof(prefix) - 1 || memcmp(image, prefix, sizeof(prefix) - 1))
		return "not a modem update image (its first line names no mfw_nrf9160_ firmware)";
	int dots = 0;
	for (uint32_t i = sizeof(prefix) - 1; i < length; i++) {
		if (image[i] == '.')
			dots++;
		else if (image[i] < '0' || image[i] > '9')
			return "not a modem update image (bad firmware version)";
	}
	if (dots != 2)
		return "not a modem update image (bad firmware version)";
	snprintf(firmware, firmwareSize, "%.*s", (int)length, (const char*)image);
	return NULL;
}

/* ---- firmware archives (ustar) ---- */

static uint64_t octal(const uint8_t* field, size_t length, int* ok)
{
	uint64_t value = 0;
	size_t i = 0;
	while (i < length && field[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < length && field[i] >= '0' && field[i] <= '7'; i++, digits++)
		value = value * 8 + (uint64_t)(field[i] - '0');
	for (; i < length; i++)
		if (field[i] != 0 && field[i] != ' ')
			*ok = 0;
	if (!digits)
		*ok = 0;
	return value;
}

static int safeName(const char* name)
{
	if (!*name || name[0] == '/')
		return 0;
	for (const char* p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+' || c == '/'))
			return 0;
	}
	/* No "." or ".." component, no empty one. */
	const char* component = name;
	for (;;) {
		const char* slash = strchr(component, '/');
		size_t length = slash ? (size_t)(slash - component) : strlen(component);
		if ((length == 1 && component[0] == '.') || (length == 2 && component[0] == '.' && component[1] == '.'))
			return 0;
		if (length == 0 && slash)
			return 0;
		if (!slash)
			return 1;
		component = slash + 1;
	}
}

typedef int (*ArchiveVisitor)(void* refcon, const char* name, int directory, const uint8_t* data, size_t length);

/* Walks a firmware archive; NULL when it is one (every entry a safe file or directory, main.js among them), else the reason. */
static const char* walkArchive(const uint8_t* archive, uint32_t size, ArchiveVisitor visit, void* refcon)
{
	uint32_t at = 0;
	int entries = 0, hasMain = 0, ended = 0;
	while (at + 512 <= size) {
		const uint8_t* header = archive + at;
		int zero = 1;
		for (int i = 0; i < 512 && zero; i++)
			zero = header[i] == 0;
		if (zero) {
			ended = 1;
			break;
		}
		if (memcmp(header + 257, "ustar", 5))
			return "payload is not a firmware archive (no ustar header)";
		int ok = 1;
		uint64_t sum = octal(header + 148, 8, &ok);
		uint64_t computed = 0;
		for (int i = 0; i < 512; i++)
			computed += (i >= 148 && i < 156) ? ' ' : header[i];
		if (!ok || sum != computed)
			return "firmware archive: bad header checksum";
		uint64_t length = octal(header + 124, 12, &ok);
		if (!ok || at + 512 + length > size)
			return "firmware archive: an entry exceeds the archive";
		char name[260];
		char prefix[156];
		char base[101];
		memcpy(prefix, header + 345, 155);
		prefix[155] = 0;
		memcpy(base, header, 100);
		base[100] = 0;
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "/" : "", base);
		size_t nameLength = strlen(name);
		char type = (char)header[156];
		int directory = type == '5';
		if (directory && nameLength && name[nameLength - 1] == '/')
			name[--nameLength] = 0;
		if (!directory && type != '0' && type != 0)
			return "firmware archive: only files and directories are allowed";
		if (!safeName(name))
			return "firmware archive: an entry name is not a plain relative path";
		if (++entries > ARCHIVE_MAX_ENTRIES)
			return "firmware archive: too many entries";
		if (!directory && !strcmp(name, "main.js"))
			hasMain = 1;
		if (visit && !visit(refcon, name, directory, header + 512, directory ? 0 : (size_t)length))
			return "cannot extract the firmware archive";
		at += 512 + (uint32_t)(((directory ? 0 : length) + 511) / 512 * 512);
	}
	if (!ended)
		return "firmware archive: no end marker";
	if (!hasMain)
		return "firmware archive: no main.js";
	return NULL;
}

static int makeParents(char* path)
{
	for (char* p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			int ok = mkdir(path, 0700) == 0 || errno == EEXIST;
			*p = '/';
			if (!ok)
				return 0;
		}
	}
	return 1;
}

static int extractEntry(void* refcon, const char* name, int directory, const uint8_t* data, size_t length)
{
	char path[PATH_SIZE * 2];
	snprintf(path, sizeof(path), "%s/%s", (const char*)refcon, name);
	if (!makeParents(path))
		return 0;
	if (directory)
		return mkdir(path, 0700) == 0 || errno == EEXIST;
	return replaceFile(path, data, length);
}

/* ---- the target ---- */

void xs_dfu_destructor(void* data)
{
	Dfu* dfu = data;
	if (dfu) {
		if (dfu->slot >= 0)
			close(dfu->slot);
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

typedef struct {
	uint32_t sequence;
	uint32_t type;
	uint32_t size;
	uint32_t written;
	uint32_t hasDigest;
	uint8_t digest[32];
} Progress;

/* The newer of the two valid progress copies; 0 when neither is valid. */
static int readProgress(Progress* progress)
{
	char path[PATH_SIZE];
	if (!dfuPath(path, sizeof(path), "progress"))
		return 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	uint8_t records[2 * PROGRESS_RECORD];
	ssize_t count = pread(fd, records, sizeof(records), 0);
	close(fd);
	int found = 0;
	for (int copy = 0; copy < 2; copy++) {
		const uint8_t* r = records + copy * PROGRESS_RECORD;
		if (count < (copy + 1) * PROGRESS_RECORD || le32(r) != PROGRESS_MAGIC || crc32(r, 56) != le32(r + 56))
			continue;
		Progress candidate;
		candidate.sequence = le32(r + 4);
		candidate.type = le32(r + 8);
		candidate.size = le32(r + 12);
		candidate.written = le32(r + 16);
		candidate.hasDigest = le32(r + 20);
		memcpy(candidate.digest, r + 24, 32);
		if (!found || candidate.sequence > progress->sequence) {
			*progress = candidate;
			found = 1;
		}
	}
	return found;
}

/* Writes the next progress record over the older copy; the newer one stays intact until this one is whole. */
static int writeProgress(Dfu* dfu)
{
	char path[PATH_SIZE];
	if (!dfuPath(path, sizeof(path), "progress"))
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		return 0;
	uint8_t r[PROGRESS_RECORD];
	memset(r, 0, sizeof(r));
	dfu->sequence++;
	putLe32(r, PROGRESS_MAGIC);
	putLe32(r + 4, dfu->sequence);
	putLe32(r + 8, (uint32_t)dfu->type);
	putLe32(r + 12, dfu->size);
	putLe32(r + 16, dfu->written);
	putLe32(r + 20, (uint32_t)dfu->hasDigest);
	memcpy(r + 24, dfu->digest, 32);
	putLe32(r + 56, crc32(r, 56));
	int ok = pwrite(fd, r, sizeof(r), (off_t)(dfu->sequence & 1) * PROGRESS_RECORD) == (ssize_t)sizeof(r);
	int problem = errno;
	close(fd);
	errno = problem;
	return ok;
}

static void forgetSlot(void)
{
	char path[PATH_SIZE];
	if (dfuPath(path, sizeof(path), "progress"))
		unlink(path);
	if (dfuPath(path, sizeof(path), "pending"))
		unlink(path);
}

static void bootCheck(void);

/* constructor(type, size, sha256, resume) */
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
	if (!(size >= 1) || size != (double)(uint32_t)size)
		xsRangeError("DFU: image size must be a positive integer");
	if (size > SLOT_SIZE)
		xsRangeError("DFU: image of %.0f bytes does not fit the %d-byte slot", size, SLOT_SIZE);
	int resume = xsmcArgc > 3 && xsmcTest(xsArg(3));
	Dfu* dfu = calloc(1, sizeof(Dfu));
	if (!dfu)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	dfu->slot = -1;
	dfu->type = type;
	dfu->size = (uint32_t)size;
	if (xsmcArgc > 2 && xsmcTypeOf(xsArg(2)) == xsStringType) {
		if (!hexDigest(xsmcToString(xsArg(2)), dfu->digest)) {
			free(dfu);
			xsRangeError("DFU: sha256 must be 64 hex digits");
		}
		dfu->hasDigest = 1;
	}
	ensureDirectory();
	char path[PATH_SIZE];
	dfuPath(path, sizeof(path), "secondary.bin");
	dfu->slot = open(path, O_RDWR | O_CREAT, 0600);
	if (dfu->slot < 0) {
		int problem = errno;
		free(dfu);
		simThrowErrno(the, zephyrErrno(problem), "DFU: cannot open the secondary slot: %s", strerror(problem));
	}
	Progress progress;
	if (readProgress(&progress)) {
		dfu->sequence = progress.sequence;
		struct stat info;
		int same = progress.type == (uint32_t)type && progress.size == dfu->size && progress.written <= dfu->size
			&& (!progress.hasDigest || !dfu->hasDigest || !memcmp(progress.digest, dfu->digest, 32))
			&& fstat(dfu->slot, &info) == 0 && (uint64_t)info.st_size >= progress.written;
		if (resume && same) {
			dfu->written = progress.written;
			dfu->erased = 1;
		}
	}
	xsmcSetHostData(xsThis, dfu);
}

/* erase(): the whole slot to 0xFF; forgets a scheduled update, since the slot held it */
void xs_dfu_erase(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	uint8_t block[4096];
	memset(block, 0xFF, sizeof(block));
	char path[PATH_SIZE];
	if (dfuPath(path, sizeof(path), "pending"))
		unlink(path);
	for (uint32_t at = 0; at < SLOT_SIZE; at += sizeof(block)) {
		size_t count = SLOT_SIZE - at < sizeof(block) ? SLOT_SIZE - at : sizeof(block);
		if (pwrite(dfu->slot, block, count, at) != (ssize_t)count)
			simThrowErrno(the, zephyrErrno(errno), "DFU: erase failed: %s", strerror(errno));
	}
	if (ftruncate(dfu->slot, SLOT_SIZE) != 0)
		simThrowErrno(the, zephyrErrno(errno), "DFU: erase failed: %s", strerror(errno));
	dfu->written = 0;
	dfu->verified = 0;
	if (!writeProgress(dfu))
		simThrowErrno(the, zephyrErrno(errno), "DFU: cannot record the progress: %s", strerror(errno));
	dfu->erased = 1;
}

/* write(bytes): bytes written so far */
void xs_dfu_write(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (!dfu->erased)
		simThrowErrno(the, ZEPHYR_EACCES, "DFU: erase the slot before writing");
	if (xsmcArgc < 1)
		xsTypeError("DFU: write needs bytes");
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if ((uint64_t)dfu->written + length > dfu->size)
		xsRangeError("DFU: %u more bytes exceed the announced image size of %u", (unsigned)length, dfu->size);
	/* The slot bytes first, then the record that counts them. */
	if (pwrite(dfu->slot, data, length, dfu->written) != (ssize_t)length)
		simThrowErrno(the, zephyrErrno(errno), "DFU: write failed: %s", strerror(errno));
	dfu->written += (uint32_t)length;
	dfu->verified = 0;
	if (!writeProgress(dfu))
		simThrowErrno(the, zephyrErrno(errno), "DFU: cannot record the progress: %s", strerror(errno));
	xsmcSetInteger(xsResult, (xsIntegerValue)dfu->written);
}

void xs_dfu_get_written(xsMachine* the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)getDfu(the)->written);
}

static uint8_t* readSlot(int fd, uint32_t size)
{
	uint8_t* image = malloc(size ? size : 1);
	if (image && pread(fd, image, size, 0) != (ssize_t)size) {
		free(image);
		return NULL;
	}
	return image;
}

/* Everything a start checks before applying an image; NULL when it may be applied, else the reason. */
static const char* checkImage(int type, const uint8_t* image, uint32_t size, const uint8_t* digest, char* version, size_t versionSize)
{
	version[0] = 0;
	if (digest) {
		uint8_t actual[32];
		sha256(image, size, actual);
		if (memcmp(actual, digest, 32))
			return "SHA-256 of the image does not match";
	}
	if (type == TYPE_MODEM)
		return checkModemImage(image, size, version, versionSize);
	const uint8_t* payload = NULL;
	uint32_t payloadSize = 0;
	const char* problem = checkMcuboot(image, size, version, versionSize, &payload, &payloadSize);
	if (!problem && type == TYPE_APP)
		problem = walkArchive(payload, payloadSize, NULL, NULL);
	return problem;
}

/* verify(): the image version ("major.minor.revision+build"; the firmware name for modem images) */
void xs_dfu_verify(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	if (dfu->written != dfu->size)
		simThrowErrno(the, ZEPHYR_ENODATA, "DFU: %u of %u bytes written", dfu->written, dfu->size);
	uint8_t* image = readSlot(dfu->slot, dfu->size);
	if (!image)
		simThrowErrno(the, ZEPHYR_EIO, "DFU: cannot read the slot back");
	const char* problem = checkImage(dfu->type, image, dfu->size, dfu->hasDigest ? dfu->digest : NULL, dfu->version, sizeof(dfu->version));
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
	char digest[65] = "-";
	if (dfu->hasDigest)
		digestHex(dfu->digest, digest);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char record[256];
	/* The identity lets a start that was cut short tell an update it applied from a new one. */
	snprintf(record, sizeof(record), "%s %u %s %s %lx%lx%x\n", gTypeNames[dfu->type], dfu->size, dfu->version, digest,
		(unsigned long)now.tv_sec, (unsigned long)now.tv_nsec, (unsigned)getpid());
	if (!replaceDfuText("pending", record))
		simThrowErrno(the, zephyrErrno(errno), "DFU: cannot schedule: %s", strerror(errno));
}

/* cancel(): drop a scheduled update and the slot's content */
void xs_dfu_cancel(xsMachine* the)
{
	Dfu* dfu = getDfu(the);
	forgetSlot();
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

/* ---- the boot step ---- */

/* The running app image: generation (0: the app on the host's command line), version, state. */
typedef struct {
	unsigned generation;
	char version[48];
	unsigned previous;
	char previousVersion[48];
	uint32_t size;
	uint32_t previousSize;
	int confirmed;
	char applied[48];	/* identity of the pending record it came from */
} AppRecord;

static void readAppRecord(AppRecord* record)
{
	char text[512];
	memset(record, 0, sizeof(*record));
	record->confirmed = 1;
	snprintf(record->version, sizeof(record->version), "-");
	snprintf(record->previousVersion, sizeof(record->previousVersion), "-");
	snprintf(record->applied, sizeof(record->applied), "-");
	char state[16] = "confirmed";
	if (readDfuText("app", text, sizeof(text))
		&& sscanf(text, "%u %47s %u %u %47s %u %15s %47s", &record->generation, record->version, &record->size,
			&record->previous, record->previousVersion, &record->previousSize, state, record->applied) == 8)
		record->confirmed = strcmp(state, "test") != 0;
	else
		record->generation = record->previous = 0;
}

static int writeAppRecord(const AppRecord* record)
{
	char text[512];
	snprintf(text, sizeof(text), "%u %s %u %u %s %u %s %s\n", record->generation, record->version, record->size,
		record->previous, record->previousVersion, record->previousSize, record->confirmed ? "confirmed" : "test", record->applied);
	return replaceDfuText("app", text);
}

/* Removes app-<n>.bin and app-<n>/ for every n that is neither `keep` nor `keepToo`. */
static void removeOtherImages(unsigned keep, unsigned keepToo)
{
	char directory[PATH_SIZE];
	if (!dfuPath(directory, sizeof(directory), ""))
		return;
	DIR* dir = opendir(directory);
	if (!dir)
		return;
	struct dirent* entry;
	while ((entry = readdir(dir))) {
		unsigned n;
		char rest[16] = "";
		if (strncmp(entry->d_name, "app-", 4) || sscanf(entry->d_name + 4, "%u%15s", &n, rest) < 1 || n == keep || n == keepToo)
			continue;
		if (*rest && strcmp(rest, ".bin") && strcmp(rest, ".bin.tmp"))
			continue;
		char path[PATH_SIZE * 2];
		snprintf(path, sizeof(path), "%s/%s", directory, entry->d_name);
		removeTree(path);
	}
	closedir(dir);
}

static void writeLast(const char* type, uint32_t size, const char* version, const char* status, int confirmed, const char* reason)
{
	char text[512];
	formatUpdateRecord(text, sizeof(text) - 1, type, size, version, status, confirmed, reason);
	strcat(text, "\n");
	replaceDfuText("last", text);
}

static void note(const char* format, ...) __attribute__((format(printf, 1, 2)));
static void note(const char* format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	fprintf(stderr, "%s: DFU: ", gSimProgram);
	vfprintf(stderr, format, arguments);
	fputc('\n', stderr);
	va_end(arguments);
	fflush(stderr);
}

/* Installs an app image as the running one, unconfirmed; NULL or the reason it cannot run. */
static const char* applyApp(const uint8_t* image, uint32_t size, const char* version, const char* identity)
{
	AppRecord record;
	readAppRecord(&record);
	unsigned generation = (record.generation > record.previous ? record.generation : record.previous) + 1;
	char name[32], directory[PATH_SIZE], file[PATH_SIZE];
	snprintf(name, sizeof(name), "app-%u", generation);
	dfuPath(directory, sizeof(directory), name);
	snprintf(name, sizeof(name), "app-%u.bin", generation);
	dfuPath(file, sizeof(file), name);
	removeTree(directory);
	const uint8_t* payload = NULL;
	uint32_t payloadSize = 0;
	char ignored[48];
	checkMcuboot(image, size, ignored, sizeof(ignored), &payload, &payloadSize);
	if (mkdir(directory, 0700) != 0 || !replaceFile(file, image, size))
		return "cannot write the primary slot";
	const char* problem = walkArchive(payload, payloadSize, extractEntry, directory);
	if (problem)
		return problem;
	AppRecord next = record;
	next.previous = record.generation;
	snprintf(next.previousVersion, sizeof(next.previousVersion), "%s", record.version);
	next.previousSize = record.size;
	next.generation = generation;
	snprintf(next.version, sizeof(next.version), "%s", version);
	next.size = size;
	next.confirmed = 0;
	snprintf(next.applied, sizeof(next.applied), "%s", identity);
	writeLast("app", size, version, "applied", 0, NULL);
	if (!writeAppRecord(&next))
		return "cannot write the image record";
	removeOtherImages(next.generation, next.previous);
	return NULL;
}

/* The start after an unconfirmed one: the previous image comes back. */
static void revertApp(AppRecord* record)
{
	AppRecord next = *record;
	next.generation = record->previous;
	snprintf(next.version, sizeof(next.version), "%s", record->previousVersion);
	next.size = record->previousSize;
	next.previous = 0;
	snprintf(next.previousVersion, sizeof(next.previousVersion), "-");
	next.previousSize = 0;
	next.confirmed = 1;
	writeLast("app", record->size, record->version, "reverted", 0, "the image was not confirmed before the next start");
	if (writeAppRecord(&next)) {
		removeOtherImages(next.generation, next.generation);
		note("app image %s was not confirmed: reverted to %s", record->version, strcmp(next.version, "-") ? next.version : "the app on the command line");
	}
}

static const char* applyBoot(const uint8_t* image, uint32_t size)
{
	char text[16] = "0";
	int active = readDfuText("boot-slot", text, sizeof(text)) && text[0] == '1';
	char path[PATH_SIZE];
	dfuPath(path, sizeof(path), active ? "s0.bin" : "s1.bin");
	if (!replaceFile(path, image, size))
		return "cannot write the inactive bootloader slot";
	if (!replaceDfuText("boot-slot", active ? "0\n" : "1\n"))
		return "cannot switch the bootloader slot";
	return NULL;
}

static const char* applyModem(const char* firmware)
{
	char path[PATH_SIZE], text[128];
	snprintf(text, sizeof(text), "%s\n", firmware);
	if (!modemStatePath(path, sizeof(path), "firmware") || !replaceFile(path, text, strlen(text)))
		return "cannot install the modem firmware";
	return NULL;
}

typedef struct {
	int type;
	uint32_t size;
	char version[48];
	int hasDigest;
	uint8_t digest[32];
	char identity[48];
} Pending;

static int readPending(Pending* pending)
{
	char text[512], typeName[16], digest[72];
	if (!readDfuText("pending", text, sizeof(text)))
		return 0;
	memset(pending, 0, sizeof(*pending));
	if (sscanf(text, "%15s %u %47s %71s %47s", typeName, &pending->size, pending->version, digest, pending->identity) != 5)
		return -1;
	pending->type = typeFromName(typeName);
	pending->hasDigest = hexDigest(digest, pending->digest);
	return pending->type >= 0 && pending->size > 0 && pending->size <= SLOT_SIZE ? 1 : -1;
}

/* Applies the scheduled update in the slot (at a start, or a modem one at once); NULL or the reason it failed. */
static const char* applyPending(const Pending* pending, char* version, size_t versionSize)
{
	char path[PATH_SIZE];
	dfuPath(path, sizeof(path), "secondary.bin");
	int fd = open(path, O_RDONLY);
	uint8_t* image = fd >= 0 ? readSlot(fd, pending->size) : NULL;
	if (fd >= 0)
		close(fd);
	if (!image)
		return "secondary slot unreadable";
	const char* problem = checkImage(pending->type, image, pending->size, pending->hasDigest ? pending->digest : NULL, version, versionSize);
	if (!problem) {
		if (pending->type == TYPE_APP)
			problem = applyApp(image, pending->size, version, pending->identity);
		else if (pending->type == TYPE_BOOT)
			problem = applyBoot(image, pending->size);
		else
			problem = applyModem(version);
	}
	free(image);
	return problem;
}

static void finishPending(const Pending* pending, const char* version, const char* problem)
{
	if (problem) {
		writeLast(gTypeNames[pending->type], pending->size, pending->version, "failed", 0, problem);
		note("%s update failed: %s", gTypeNames[pending->type], problem);
	}
	else if (pending->type != TYPE_APP)
		writeLast(gTypeNames[pending->type], pending->size, version, "applied", 1, NULL);
	forgetSlot();
	if (!problem)
		note("%s image %s applied%s", gTypeNames[pending->type], version, pending->type == TYPE_APP ? ", not confirmed yet" : "");
}

/* What the bootloader does at a start, once per process. */
static int gBootChecked = 0;

static void bootCheck(void)
{
	if (gBootChecked || modemStateProblem())
		return;
	gBootChecked = 1;
	ensureDirectory();
	AppRecord record;
	readAppRecord(&record);
	Pending pending;
	int scheduled = readPending(&pending);
	if (scheduled > 0 && pending.type == TYPE_APP && !strcmp(pending.identity, record.applied)) {
		/* A start cut short after the swap: finish it and run the new image. */
		forgetSlot();
		return;
	}
	if (!record.confirmed)
		revertApp(&record);
	if (scheduled < 0) {
		writeLast("unknown", 0, "", "failed", 0, "unreadable pending record");
		forgetSlot();
	}
	else if (scheduled > 0) {
		char version[48];
		const char* problem = applyPending(&pending, version, sizeof(version));
		finishPending(&pending, version, problem);
	}
}

/* main.c: applies what was scheduled; returns 1 with the directory of the app image to run, 0 to run the command line's. */
int simDfuBoot(char* directory, size_t size)
{
	bootCheck();
	if (modemStateProblem())
		return 0;
	AppRecord record;
	readAppRecord(&record);
	if (!record.generation)
		return 0;
	char name[32];
	snprintf(name, sizeof(name), "app-%u", record.generation);
	return dfuPath(directory, size, name);
}

/*
 * lastUpdate(): the result of the most recent update, as { type, size, version,
 * status: "applied" | "reverted" | "failed", confirmed, reason? }, or undefined.
 */
void xs_dfu_last_update(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	char text[512];
	if (readDfuText("last", text, sizeof(text)))
		setUpdateResult(the, text);
}

/* clearLastUpdate(): forget the last result once it has been reported */
void xs_dfu_clear_last_update(xsMachine* the)
{
	char last[PATH_SIZE];
	modemRequireState(the);
	bootCheck();
	if (dfuPath(last, sizeof(last), "last"))
		unlink(last);
}

/* confirm(): the running app image stays (boot_write_img_confirmed); idempotent */
void xs_dfu_confirm(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	AppRecord record;
	readAppRecord(&record);
	if (record.confirmed)
		return;
	record.confirmed = 1;
	if (!writeAppRecord(&record))
		simThrowErrno(the, zephyrErrno(errno), "DFU: cannot confirm the image: %s", strerror(errno));
	char text[512];
	UpdateRecord last;
	if (readDfuText("last", text, sizeof(text)) && parseUpdateRecord(text, &last)
		&& !strcmp(last.type, "app") && !strcmp(last.status, "applied") && !strcmp(last.version, record.version))
		writeLast("app", last.size, last.version, "applied", 1, NULL);
}

/* runningImage(): { version, confirmed } of the running app image ("" for the command line's app) */
void xs_dfu_running_image(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	AppRecord record;
	readAppRecord(&record);
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), record.generation ? record.version : "");
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	xsmcSetBoolean(xsVar(0), record.confirmed);
	xsmcSet(xsResult, xsID("confirmed"), xsVar(0));
}

/* activeBootSlot(): 0 (S0) or 1 (S1) */
void xs_dfu_active_boot_slot(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	char text[16] = "0";
	xsmcSetInteger(xsResult, readDfuText("boot-slot", text, sizeof(text)) && text[0] == '1' ? 1 : 0);
}

/* applyModemUpdate(): a scheduled modem update installed now (the modem re-initialised); its result */
void xs_dfu_apply_modem_update(xsMachine* the)
{
	modemRequireState(the);
	bootCheck();
	Pending pending;
	if (readPending(&pending) <= 0 || pending.type != TYPE_MODEM)
		simThrowErrno(the, ZEPHYR_EACCES, "DFU: no modem update is scheduled");
	char version[48];
	const char* problem = applyPending(&pending, version, sizeof(version));
	finishPending(&pending, version, problem);
	xs_dfu_last_update(the);
}
