/*
 * What both modem bindings (posix, nrf9160) share on the XS side: the
 * security tag and credential type arguments of key management, and the
 * JavaScript callbacks a binding keeps for notifications and LTE statuses.
 */

#ifndef NRFCLOUD_MODEM_XS_H
#define NRFCLOUD_MODEM_XS_H

#include "xsmc.h"

/* keyExists(tag, type) and keyMatches(tag, type, pem): tag 0..2147483647, type 0..4 (modem_key_mgmt_cred_type). */
static void keyArguments(xsMachine* the, long* tag, int* type)
{
	double value = xsmcArgc > 0 ? xsmcToNumber(xsArg(0)) : -1;
	if (!(value >= 0 && value <= 2147483647.0) || value != (double)(long)value)
		xsRangeError("security tag must be an integer from 0 to 2147483647");
	xsIntegerValue kind = xsmcArgc > 1 ? xsmcToInteger(xsArg(1)) : -1;
	if (kind < 0 || kind > 4)
		xsRangeError("credential type must be 0 to 4");
	*tag = (long)value;
	*type = (int)kind;
}

/* A callback kept alive while set: replaces `*slot` with `callback` (or clears it when that is not callable). */
static void keepCallback(xsMachine* the, xsSlot* slot, int* set, xsSlot* callback)
{
	if (*set) {
		xsForget(*slot);
		*set = 0;
	}
	if (callback && xsmcIsCallable(*callback)) {
		*slot = *callback;
		xsRemember(*slot);
		*set = 1;
	}
}

#endif
