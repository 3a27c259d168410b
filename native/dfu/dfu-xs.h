/*
 * What both DFU bindings (posix, nrf9160) share on the XS side: the image
 * types, the SHA-256 argument, and the result record "type size version
 * status confirmed|unconfirmed [reason]", written and read by both, and
 * turned into the object lastUpdate() returns.
 */

#ifndef NRFCLOUD_DFU_XS_H
#define NRFCLOUD_DFU_XS_H

#include "xsmc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { TYPE_APP, TYPE_MODEM, TYPE_BOOT };
static const char* const gTypeNames[] = { "app", "modem", "boot" };

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

/* A result record "type size version status confirmed|unconfirmed [reason]" ("-" for no version), as both bindings write it. */
typedef struct {
	char type[16];
	unsigned size;
	char version[48];
	char status[16];
	int confirmed;
	int hasReason;
	char reason[200];
} UpdateRecord;

/* 1 when `text` is a result record, filled into `record`; 0 when it does not parse. */
static int parseUpdateRecord(const char* text, UpdateRecord* record)
{
	char confirmed[16] = "";
	memset(record, 0, sizeof(*record));
	int fields = sscanf(text, "%15s %u %47s %15s %15s %199[^\n]", record->type, &record->size, record->version, record->status, confirmed, record->reason);
	if (fields < 5 || (strcmp(confirmed, "confirmed") && strcmp(confirmed, "unconfirmed")))
		return 0;
	if (!strcmp(record->version, "-"))
		record->version[0] = 0;
	record->confirmed = !strcmp(confirmed, "confirmed");
	record->hasReason = fields == 6;
	return 1;
}

/* The record's text; `version` "" and `reason` NULL or "" are written as none. */
static int formatUpdateRecord(char* out, size_t size, const char* type, unsigned imageSize, const char* version, const char* status, int confirmed, const char* reason)
{
	return snprintf(out, size, "%s %u %s %s %s%s%s", type, imageSize, version && *version ? version : "-", status,
		confirmed ? "confirmed" : "unconfirmed", reason && *reason ? " " : "", reason && *reason ? reason : "");
}

/* xsResult = { type, size, version, status, confirmed, reason? } from a result record; left undefined when it does not parse. */
static void setUpdateResult(xsMachine* the, const char* text)
{
	UpdateRecord record;
	if (!parseUpdateRecord(text, &record))
		return;
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), record.type);
	xsmcSet(xsResult, xsID("type"), xsVar(0));
	xsmcSetInteger(xsVar(0), (xsIntegerValue)record.size);
	xsmcSet(xsResult, xsID("size"), xsVar(0));
	xsmcSetString(xsVar(0), record.version);
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	xsmcSetString(xsVar(0), record.status);
	xsmcSet(xsResult, xsID("status"), xsVar(0));
	xsmcSetBoolean(xsVar(0), record.confirmed);
	xsmcSet(xsResult, xsID("confirmed"), xsVar(0));
	if (record.hasReason) {
		xsmcSetString(xsVar(0), record.reason);
		xsmcSet(xsResult, xsID("reason"), xsVar(0));
	}
}

#endif
