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
	int accounted;	/* whether the host's allocators count the bytes below (xsnap build) */
	size_t chunkCap;	/* 0: no cap */
	size_t slotCap;	/* bytes; 0: no cap */
	size_t chunkBytes;	/* allocated by XS for chunks, now */
	size_t slotBytes;	/* allocated by XS for slots, now */
	size_t chunkPeak;
	size_t slotPeak;
	size_t freedKeys;	/* keys freed for reuse (XS 17's keyholes); 0 where the engine has none */
} SimMemory;

extern SimMemory gSimMemory;

/* --memory-at TEXT: print the memory figures whenever the app writes a line holding TEXT; 0 when full. */
int simAddMemoryMark(const char* text);

/*
 * The boot step of the DFU binding (native/dfu/posix/dfu.c), where it is linked:
 * applies a scheduled update or reverts an unconfirmed one; returns 1 with the
 * directory of the app image to run, 0 to run the app the command line names.
 */
int simDfuBoot(char* directory, size_t size) __attribute__((weak));

/* The state directory of the emulated device (modem, storage, DFU slot); from --state. */
extern const char* gSimStateDirectory;

/* The device's inputs (native/gnss/posix, native/ui/posix): the NMEA log of --gnss, its first fix (--gnss-offset), and --control stdin. */
extern const char* gSimGnssLog;
extern long gSimGnssOffset;
extern int gSimControlStdin;

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

/*
 * The engine seam. main.c (run loop, options, exit) and host.c (host functions)
 * serve both engines; what differs between them is behind these functions, in
 * one file per engine:
 * - platform.c (with debug.c): xsnap's XS 13.3, built by tools/build-sim.mjs.
 *   Modules are files, the prelude is a script, promise jobs are a flag.
 * - moddable.c: the Moddable SDK's XS 17, built by mcconfig -p x-cli-lin
 *   (npm run build:moddable). Modules and the prelude come from the archive xsl
 *   preloaded, promise jobs are GLib idle sources, mc/config takes --config.
 */
typedef struct SimOptionResult {
	int consumed;	/* arguments taken (option and value); 0: not an option of this engine */
	int status;	/* non-zero: bad usage, exit with this status */
} SimOptionResult;

/* The engine's name in usage and messages: "sim" or the Moddable program's. */
extern const char* gSimProgram;
/* Creation sizes before the command line's options: the host's defaults, or the manifest's. */
void simEngineDefaults(void* creation);
/* Options only one engine has (--modules, caps, --config, --main). */
SimOptionResult simEngineOption(const char* option, const char* value);
/* Lines of usage for those options. */
extern const char* gSimEngineUsage;
/* Whether the command line must name the main module (xsnap: a file) or may leave it to the archive. */
extern const int gSimMainRequired;
/* Creates the machine; NULL when it cannot be created. */
void* simCreateMachine(void* creation);
/* Inside a host frame: installs the globals, imports the main module; returns the import's promise in xsResult. */
void simStart(void* the, const char* mainModule);
/* Runs pending promise jobs until none is left (and other ready engine work); 1 if any ran. */
int simRunPromiseJobs(void* the);
/* Descriptors the engine itself waits on (the debugger's), added to the host's poll(); returns their count. */
int simEnginePollPrepare(struct pollfd* fds, int capacity, int* timeout);
/* After poll(): hands the engine its descriptors' events. */
void simEnginePollDispatch(struct pollfd* fds, int count);
/* Brings gSimMemory up to date where the engine, not the host, allocates. */
void simEngineMemory(void* the);
void simDeleteMachine(void* the);
/* Whether an XS abort status is a stack overflow (XS 13.3 has one, XS 17 a JavaScript and a native one). */
int simEngineStackOverflow(int status);
/*
 * Runs the app image in `directory` (its main.js, bare specifiers under it first)
 * instead of the command line's app; 0 where the engine cannot (the Moddable
 * build runs its preloaded archive).
 */
int simEngineUseApp(const char* directory);
/* The exit status and words for an XS abort status (XS_*_EXIT), shared by both fxAbort()s. */
int simAbortStatus(int status, const char** why);

#endif
