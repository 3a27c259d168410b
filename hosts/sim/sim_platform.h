/*
 * Platform header of the simulator host, included by the XS engine through
 * -DINCLUDE_XSPLATFORM -DXSPLATFORM="sim_platform.h". It chooses which engine
 * defaults the host takes and what each machine carries for the host.
 */

#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#undef mxLinux
#define mxLinux 1

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <stdbool.h>
#include <sys/time.h>

#define mxUseGCCAtomics 1
#define mxUsePOSIXThreads 1

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
/*
 * The engine's own fxCStackLimit() asks pthread_getattr_np() on every call, which
 * for the main thread reads and parses /proc/self/maps; XS calls it each time it
 * compiles a regular expression (every evaluation of a literal). platform.c
 * computes the limit once: the host runs the machine on its one thread.
 */
#define mxUseDefaultCStackLimit 0

#define mxMachinePlatform \
	void* host; \
	void* waiterCondition; \
	void* waiterData; \
	void* waiterLink; \
	int promiseJobsQueued; \
	int connection;

/* No debugger connection. */
#define mxNoSocket (-1)

#ifdef mxDebug
	#define MODDEF_XS_TEST 1
#endif

#endif
