/*
 * What both key-value bindings (posix, nrf9160) share on the XS side: the
 * checks of a domain or key argument (native/common/kv-name.h).
 */

#ifndef NRFCLOUD_STORAGE_XS_H
#define NRFCLOUD_STORAGE_XS_H

#include "xsmc.h"
#include "../common/kv-name.h"

/* The first argument as a domain ("path") or key; TypeError or RangeError when it is not one. */
static const char* nameArgument(xsMachine* the, const char* what)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("%s must be a string", what);
	const char* name = xsmcToString(xsArg(0));
	if (!kvValidName(name))
		xsRangeError("%s must be 1 to %d characters of A-Z a-z 0-9 _ - . not starting with a dot", what, KV_NAME_MAX);
	return name;
}

#endif
