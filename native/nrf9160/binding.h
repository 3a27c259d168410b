/*
 * What every nRF9160 binding shares on the XS side: errors with a project
 * errno (the counterpart of the simulator host's simThrowErrno), and the
 * engine and SDK headers in the order they need.
 */

#ifndef NRFCLOUD_BINDING_H
#define NRFCLOUD_BINDING_H

#include "xsmc.h"
#include "ncs.h"
#if defined(__ZEPHYR__)
#include "xsHost.h"
#endif
#include "../common/zephyr-errno.h"

#include <stdarg.h>
#include <stdio.h>

/* Throws an Error whose `errno` property is the project's (Zephyr) errno, as the simulator host's bindings do. */
static void nrfThrowErrno(xsMachine* the, int errnoValue, const char* format, ...) __attribute__((noreturn, format(printf, 3, 4), unused));
static void nrfThrowErrno(xsMachine* the, int errnoValue, const char* format, ...)
{
	char message[160];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	/* xsResult is about to be thrown: it holds the error, and the error its errno. */
	xsResult = xsNew1(xsGlobal, xsID("Error"), xsString(message));
	xsSlot number = xsInteger(errnoValue);
	xsmcSet(xsResult, xsID("errno"), number);
	xsThrow(xsResult);
}

/* Milliseconds since boot, for the staleness of posted events. */
static inline uint32_t nrfNow(void)
{
	return k_uptime_get_32();
}

#endif
