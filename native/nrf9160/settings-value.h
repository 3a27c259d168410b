/*
 * One Zephyr settings value by its whole name, for the key-value store and
 * the DFU binding's records. Backends that append records may hand the loader
 * several records of one name, the newest last, and a deleted one as a record
 * of length 0: the last record read wins, an empty one means absent.
 */

#ifndef NRFCLOUD_SETTINGS_VALUE_H
#define NRFCLOUD_SETTINGS_VALUE_H

#include "ncs.h"

typedef struct {
	uint8_t* value;
	size_t size;
	ssize_t length;	/* -1: absent */
	int failed;	/* a record larger than size, or a read error */
} SettingsValue;

static int settingsValueLoad(const char* key, size_t length, settings_read_cb read, void* argument, void* parameter)
{
	SettingsValue* state = parameter;
	if (key != NULL)
		return 0;	/* a deeper name under this one */
	if (length == 0) {
		state->length = -1;	/* deleted */
		return 0;
	}
	if (length > state->size) {
		state->failed = 1;
		return 0;
	}
	ssize_t got = read(argument, state->value, length);
	state->failed = got < 0;
	state->length = got < 0 ? -1 : got;
	return 0;
}

/* Reads `name` into value[0..size); returns 0 or a negative errno, with state->length -1 when absent. */
static inline int settingsValueRead(const char* name, uint8_t* value, size_t size, SettingsValue* state)
{
	state->value = value;
	state->size = size;
	state->length = -1;
	state->failed = 0;
	return settings_load_subtree_direct(name, settingsValueLoad, state);
}

#endif
