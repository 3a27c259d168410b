/*
 * Services of the simulator host shared by its own files and by the native
 * bindings: the poll() watch list and exit requests, memory accounting, and
 * the table behind native() and Native().
 */

#ifndef SIM_H
#define SIM_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of the host; documented in hosts/sim/README.md. */
enum {
	SIM_EXIT_OK = 0,
	SIM_EXIT_UNCAUGHT = 1,
	SIM_EXIT_USAGE = 2,
	SIM_EXIT_ABORT = 3,
	SIM_EXIT_MEMORY = 4,
	SIM_EXIT_STACK = 5,
	SIM_EXIT_TIMEOUT = 6,
	SIM_EXIT_REBOOT = 75,
};

typedef struct SimWatch SimWatch;
/* Called on the XS thread when the descriptor is ready; `revents` as poll() gives them. */
typedef void (*SimWatchCallback)(void* refcon, int fd, short revents);

SimWatch* simWatchAdd(int fd, short events, SimWatchCallback callback, void* refcon);
void simWatchSetEvents(SimWatch* watch, short events);
void simWatchRemove(SimWatch* watch);

/* Reports the pending exception as uncaught (from `where`) and ends the run with status 1. */
void simUncaughtException(void* the, const char* where);

/* Ends the run loop after the current callback; the host exits with `status`. */
void simRequestExit(int status);

/*
 * Throws an Error whose `errno` property is a Zephyr errno (zephyr-errno.h),
 * so that JavaScript tells failures apart by number, never by message text.
 */
void simThrowErrno(void* the, int errnoValue, const char* format, ...) __attribute__((noreturn, format(printf, 3, 4)));

/* Milliseconds on a monotonic clock. */
double simNow(void);

typedef struct {
	size_t chunkCap;	/* 0: no cap */
	size_t slotCap;	/* bytes; 0: no cap */
	size_t chunkBytes;	/* allocated by XS for chunks, now */
	size_t slotBytes;	/* allocated by XS for slots, now */
	size_t chunkPeak;
	size_t slotPeak;
} SimMemory;

extern SimMemory gSimMemory;

/* The state directory of the emulated device (modem, storage, DFU slot); from --state. */
extern const char* gSimStateDirectory;

typedef void (*SimNativeCallback)(void* the);
typedef void (*SimNativeDestructor)(void* data);

typedef struct {
	const char* name;
	SimNativeCallback callback;
} SimNativeFunction;

typedef struct {
	const char* name;
	SimNativeDestructor destructor;
} SimNativeDestructorEntry;

/* Generated at build time from the xs_* functions of native/ (see the Makefile). */
extern const SimNativeFunction gSimNativeFunctions[];
extern const SimNativeDestructorEntry gSimNativeDestructors[];

#endif
