/*
 * Key-value storage of the simulator host, the counterpart of the Zephyr
 * settings the nRF Cloud library keeps (persistent-session flag, pending FOTA
 * job): one file per key under <state>/storage/<domain>/, replaced atomically
 * (write a temporary file, rename it over the key) so a kill never leaves half
 * a value. What the host emulates is the device's power cut, a kill of the
 * host: the page cache outlives that, so the files are not synced to the disk
 * (a sync per write cost more than the rest of a message's work, and a crash
 * of the machine itself is outside what the host promises, as for DFU).
 *
 * Failures of the store itself throw an Error whose errno (Zephyr numbering)
 * says what happened; bad arguments are TypeError and RangeError.
 */

#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../../modem/posix/modem.h"
#include "../../common/kv-name.h"
#include "../storage-xs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_VALUE 4096

typedef struct {
	char directory[1024];
} Store;

void xs_kv_destructor(void* data)
{
	free(data);
}

static Store* getStore(xsMachine* the)
{
	Store* store = xsmcGetHostData(xsThis);
	if (!store)
		simThrowErrno(the, ZEPHYR_EACCES, "key-value store is closed");
	return store;
}

static void keyPath(xsMachine* the, Store* store, char* out, size_t size)
{
	const char* key = nameArgument(the, "key");
	snprintf(out, size, "%s/%s", store->directory, key);
}

/* constructor(domain) */
void xs_kv_constructor(xsMachine* the)
{
	const char* domain = nameArgument(the, "path");
	modemRequireState(the);
	char storage[1024];
	if (!modemEnsureStateDirectory() || !modemStatePath(storage, sizeof(storage), "storage"))
		simThrowErrno(the, zephyrErrno(errno), "cannot create the state directory: %s", strerror(errno));
	mkdir(storage, 0700);
	Store* store = calloc(1, sizeof(Store));
	if (!store)
		simThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	int length = snprintf(store->directory, sizeof(store->directory), "%s/%s", storage, domain);
	if (length < 0 || (size_t)length >= sizeof(store->directory)) {
		free(store);
		simThrowErrno(the, ZEPHYR_ENAMETOOLONG, "the storage path for %s is too long", domain);
	}
	if (mkdir(store->directory, 0700) != 0 && errno != EEXIST) {
		int problem = errno;
		free(store);
		simThrowErrno(the, zephyrErrno(problem), "cannot create %s: %s", storage, strerror(problem));
	}
	xsmcSetHostData(xsThis, store);
}

void xs_kv_close(xsMachine* the)
{
	Store* store = xsmcGetHostData(xsThis);
	if (store) {
		free(store);
		xsmcSetHostData(xsThis, NULL);
	}
}

/* read(key): ArrayBuffer or undefined */
void xs_kv_read(xsMachine* the)
{
	char path[1200];
	Store* store = getStore(the);
	keyPath(the, store, path, sizeof(path));
	FILE* file = fopen(path, "rb");
	if (!file)
		return;
	uint8_t buffer[MAX_VALUE];
	size_t count = fread(buffer, 1, sizeof(buffer), file);
	int failed = ferror(file);
	fclose(file);
	if (failed)
		simThrowErrno(the, ZEPHYR_EIO, "cannot read key");
	xsmcSetArrayBuffer(xsResult, buffer, (xsIntegerValue)count);
}

/* write(key, bytes) */
void xs_kv_write(xsMachine* the)
{
	char path[1200];
	char temporary[1300];
	Store* store = getStore(the);
	keyPath(the, store, path, sizeof(path));
	if (xsmcArgc < 2)
		xsTypeError("value required");
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(1), &data, &length);
	if (length > MAX_VALUE)
		xsRangeError("value of %u bytes exceeds %d", (unsigned)length, MAX_VALUE);
	uint8_t copy[MAX_VALUE];
	memcpy(copy, data, length);
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		simThrowErrno(the, zephyrErrno(errno), "cannot write key: %s", strerror(errno));
	errno = 0;
	int ok = write(fd, copy, length) == (ssize_t)length;
	ok = (close(fd) == 0) && ok;
	if (!ok || rename(temporary, path) != 0) {
		int problem = errno ? errno : ENOSPC;	/* a short write without an error means the disk is full */
		unlink(temporary);
		simThrowErrno(the, zephyrErrno(problem), "cannot write key: %s", strerror(problem));
	}
}

/* delete(key): true if it existed */
void xs_kv_delete(xsMachine* the)
{
	char path[1200];
	Store* store = getStore(the);
	keyPath(the, store, path, sizeof(path));
	xsmcSetBoolean(xsResult, unlink(path) == 0);
}

/* keys(): the keys, sorted */
void xs_kv_keys(xsMachine* the)
{
	Store* store = getStore(the);
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 0);
	DIR* directory = opendir(store->directory);
	if (!directory)
		return;
	char names[256][KV_NAME_MAX + 1];
	int count = 0;
	struct dirent* entry;
	while ((entry = readdir(directory)) && count < 256) {
		size_t length = strlen(entry->d_name);
		if (!kvValidName(entry->d_name) || (length > 4 && !strcmp(entry->d_name + length - 4, ".tmp")))
			continue;
		/* kvValidName() has checked the length: it fits. */
		memcpy(names[count++], entry->d_name, length + 1);
	}
	closedir(directory);
	qsort(names, (size_t)count, sizeof(names[0]), (int (*)(const void*, const void*))strcmp);
	for (int i = 0; i < count; i++) {
		xsmcSetString(xsVar(0), names[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
}
