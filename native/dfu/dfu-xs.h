/*
 * What both DFU bindings (posix, nrf9160) share on the XS side: the image
 * types, the SHA-256 argument, and the result record "type size version
 * status [reason]" turned into the object lastUpdate() returns.
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

/* xsResult = { type, size, version, status, reason? } from a result record; left undefined when it does not parse. */
static void setUpdateResult(xsMachine* the, const char* record)
{
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

#endif
