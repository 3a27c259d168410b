/*
 * Platform header for compiling the XS engine's sources for the nRF9160's
 * Cortex-M33 without an SDK (CI's cross-compile and the footprint in
 * npm run bench), selected with -DINCLUDE_XSPLATFORM
 * -DXSPLATFORM=\"xs-platform.h\". It makes the choices Moddable's Zephyr port
 * makes for a device build: little endian, newlib, no threads or files, the
 * machine carrying the port's message queue, and the engine's own shared
 * chunks (-DmxUseDefaultSharedChunks in the port's CMake prefix); the port's
 * files (xsHost.c, xsPlatform.c) supply the rest in the firmware.
 */

#ifndef NRFCLOUD_XS_PLATFORM_H
#define NRFCLOUD_XS_PLATFORM_H

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XS_FUNCTION_NORETURN __attribute__((noreturn))
#define mxMisalignedSettersCrash 1
#define mxUseDefaultSharedChunks 1

typedef int txSocket;
#define mxNoSocket (-1)

/* The machine's share of the port: its heap and the queue other threads post to (xsPlatform.h of the port). */
#define mxMachinePlatform \
	void* host; \
	uint8_t* heap; \
	uint8_t* heap_ptr; \
	uint8_t* heap_pend; \
	void* msgQueue; \
	void* task;

#endif
