/*
 * Key-value storage of the nRF9160 (the module storage/key-value) on Zephyr
 * settings: key K of domain D is the settings name "D/K", the name NCS's
 * nrf_cloud library gives its own settings (nrf_cloud/p_sesh), so a device
 * keeps them across a change between the two. Values are at most 4 KB.
 * Settings backends that append records may hold several of one name
 * (native/nrf9160/settings-value.h): the newest decides.
 *
 * Everything runs on the XS thread: settings calls write flash and may wait,
 * as the simulator host's file writes do.
 */

#include "../../nrf9160/binding.h"
#include "../../common/kv-name.h"
#include "../../nrf9160/settings-value.h"

#include <stdlib.h>
#include <string.h>

#define MAX_VALUE 4096
#define MAX_KEYS 64

typedef struct {
	char domain[KV_NAME_MAX + 1];
} Store;

static int gSettingsReady;

static void ensureSettings(xsMachine* the)
{
	if (gSettingsReady)
		return;
	int result = settings_subsys_init();
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "settings: initialisation failed (errno %d)", -result);
	gSettingsReady = 1;
}

void xs_kv_destructor(void* data)
{
	k_free(data);
}

static Store* getStore(xsMachine* the)
{
	Store* store = xsmcGetHostData(xsThis);
	if (!store)
		nrfThrowErrno(the, ZEPHYR_EACCES, "key-value store is closed");
	return store;
}

static void settingsName(xsMachine* the, Store* store, char* out, size_t size)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("key must be a string");
	const char* key = xsmcToString(xsArg(0));
	if (!kvValidName(key))
		xsRangeError("key must be 1 to %d characters of A-Z a-z 0-9 _ - . not starting with a dot", KV_NAME_MAX);
	kvJoin(out, size, store->domain, key);
}

/* constructor(domain) */
void xs_kv_constructor(xsMachine* the)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("path must be a string");
	const char* domain = xsmcToString(xsArg(0));
	if (!kvValidName(domain))
		xsRangeError("path must be 1 to %d characters of A-Z a-z 0-9 _ - . not starting with a dot", KV_NAME_MAX);
	ensureSettings(the);
	Store* store = k_malloc(sizeof(Store));
	if (!store)
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	strcpy(store->domain, xsmcToString(xsArg(0)));
	xsmcSetHostData(xsThis, store);
}

void xs_kv_close(xsMachine* the)
{
	Store* store = xsmcGetHostData(xsThis);
	if (store) {
		k_free(store);
		xsmcSetHostData(xsThis, NULL);
	}
}

/* read(key): ArrayBuffer or undefined */
void xs_kv_read(xsMachine* the)
{
	char name[2 * KV_NAME_MAX + 2];
	Store* store = getStore(the);
	settingsName(the, store, name, sizeof(name));
	uint8_t* value = k_malloc(MAX_VALUE);
	if (!value)
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	SettingsValue state;
	int result = settingsValueRead(name, value, MAX_VALUE, &state);
	if (result || state.failed) {
		k_free(value);
		nrfThrowErrno(the, result ? zephyrErrno(-result) : ZEPHYR_EIO, "cannot read key");
	}
	if (state.length >= 0)
		xsmcSetArrayBuffer(xsResult, value, (xsIntegerValue)state.length);
	k_free(value);
}

/* write(key, bytes) */
void xs_kv_write(xsMachine* the)
{
	char name[2 * KV_NAME_MAX + 2];
	Store* store = getStore(the);
	settingsName(the, store, name, sizeof(name));
	if (xsmcArgc < 2)
		xsTypeError("value required");
	void* data;
	xsUnsignedValue length;
	xsmcGetBufferReadable(xsArg(1), &data, &length);
	if (length > MAX_VALUE)
		xsRangeError("value of %u bytes exceeds %d", (unsigned)length, MAX_VALUE);
	if (length == 0)
		xsRangeError("value must not be empty: Zephyr settings store an empty value as deleted");
	int result = settings_save_one(name, data, length);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "cannot write key: errno %d", -result);
}

typedef struct {
	int present;
} PresenceState;

static int presence(const char* key, size_t length, settings_read_cb read, void* argument, void* parameter)
{
	(void)read;
	(void)argument;
	if (key == NULL)
		((PresenceState*)parameter)->present = length > 0;
	return 0;
}

/* delete(key): true if it existed */
void xs_kv_delete(xsMachine* the)
{
	char name[2 * KV_NAME_MAX + 2];
	Store* store = getStore(the);
	settingsName(the, store, name, sizeof(name));
	PresenceState state = { 0 };
	settings_load_subtree_direct(name, presence, &state);
	int result = settings_delete(name);
	if (result)
		nrfThrowErrno(the, zephyrErrno(-result), "cannot delete key: errno %d", -result);
	xsmcSetBoolean(xsResult, state.present);
}

typedef struct {
	char names[MAX_KEYS][KV_NAME_MAX + 1];
	uint8_t present[MAX_KEYS];
	int count;
} KeysState;

static int collectKey(const char* key, size_t length, settings_read_cb read, void* argument, void* parameter)
{
	KeysState* state = parameter;
	(void)read;
	(void)argument;
	if (!kvIsDirectKey(key))
		return 0;
	int i = 0;
	while (i < state->count && strcmp(state->names[i], key))
		i++;
	if (i == state->count) {
		if (state->count == MAX_KEYS)
			return 0;
		strcpy(state->names[state->count++], key);
	}
	state->present[i] = length > 0;	/* the newest record of a name decides */
	return 0;
}

static int compareNames(const void* a, const void* b)
{
	return strcmp(a, b);
}

/* keys(): the keys, sorted */
void xs_kv_keys(xsMachine* the)
{
	Store* store = getStore(the);
	KeysState* state = k_malloc(sizeof(KeysState));
	if (!state)
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	state->count = 0;
	int result = settings_load_subtree_direct(store->domain, collectKey, state);
	if (result) {
		k_free(state);
		nrfThrowErrno(the, zephyrErrno(-result), "cannot list keys: errno %d", -result);
	}
	int kept = 0;
	for (int i = 0; i < state->count; i++)
		if (state->present[i])
			memmove(state->names[kept++], state->names[i], KV_NAME_MAX + 1);
	qsort(state->names, (size_t)kept, KV_NAME_MAX + 1, compareNames);
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 0);
	for (int i = 0; i < kept; i++) {
		xsmcSetString(xsVar(0), state->names[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
	k_free(state);
}
