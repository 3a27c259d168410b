/*
 * The simulator host: runs the project's compiled modules in the XS engine on
 * Linux the way the nRF9160 runs them, with the native bindings of native/.
 *
 *   sim [options] main.js [app arguments]
 *
 * The run loop drains promise jobs, fires due timers and sleeps in poll() on the
 * descriptors the bindings watch until the next timer; it ends when nothing is
 * left to wait for, or when the app calls the host's exit.
 *
 * A stop request: an app that registers a callback with xs_sim_on_stop gets
 * SIGINT and SIGTERM as a call of it (so it can leave the cloud with a
 * DISCONNECT) instead of being killed. The signals are blocked except while the
 * loop sleeps in ppoll(), so one never slips in between the check and the
 * sleep; a second signal kills the host as before.
 *
 * The same file is the main program of the Moddable build (x-cli-lin); what
 * differs between the engines is behind the seam declared in sim.h.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* ppoll() */
#endif
#include "xsAll.h"
#include "xs.h"
#include "sim.h"

#include <limits.h>
#include <math.h>
#include <signal.h>

double gSimTimerDeadline = -1;
xsSlot gSimFireTimers;
int gSimFireTimersInstalled = 0;
int gSimArgc = 0;
char** gSimArgv = NULL;
const char* gSimStateDirectory = NULL;
const char* gSimGnssLog = NULL;
long gSimGnssOffset = 0;
int gSimControlStdin = 0;

static int gExitRequested = 0;
static int gExitStatus = SIM_EXIT_OK;

static volatile sig_atomic_t gStopSignal = 0;
static int gStopInstalled = 0;
static int gStopDelivered = 0;
static xsSlot gStopCallback;
/* The signal mask while the loop sleeps: the stop signals open, once a callback is registered. */
static sigset_t gSleepMask;

static void onStopSignal(int signo)
{
	gStopSignal = signo;
}

/* xs_sim_on_stop(callback): SIGINT and SIGTERM call it once, on the XS thread. */
void xs_sim_on_stop(xsMachine* the)
{
	if (xsTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("the stop callback must be a function");
	if (gStopInstalled)
		xsUnknownError("a stop callback is already registered");
	gStopCallback = xsArg(0);
	xsRemember(gStopCallback);
	gStopInstalled = 1;
	sigset_t stops;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &gSleepMask);
	sigdelset(&gSleepMask, SIGINT);
	sigdelset(&gSleepMask, SIGTERM);
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = onStopSignal;
	action.sa_flags = SA_RESETHAND;	/* the second signal has the default action: the host ends */
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
}

struct SimWatch {
	SimWatch* next;
	int fd;
	short events;
	int removed;
	SimWatchCallback callback;
	void* refcon;
};

static SimWatch* gWatches = NULL;

/* Room in the poll() set for the engine's own descriptors (the debugger connection). */
#define SIM_ENGINE_FDS 8
static int gDispatching = 0;

SimWatch* simWatchAdd(int fd, short events, SimWatchCallback callback, void* refcon)
{
	SimWatch* watch = calloc(1, sizeof(SimWatch));
	if (!watch)
		return NULL;
	watch->fd = fd;
	watch->events = events;
	watch->callback = callback;
	watch->refcon = refcon;
	watch->next = gWatches;
	gWatches = watch;
	return watch;
}

void simWatchSetEvents(SimWatch* watch, short events)
{
	if (watch)
		watch->events = events;
}

void simWatchRemove(SimWatch* watch)
{
	if (watch)
		watch->removed = 1;
}

/* Frees removed watches; only outside dispatch, so callbacks may remove any watch. */
static int pruneWatches(void)
{
	int count = 0;
	SimWatch** link = &gWatches;
	while (*link) {
		SimWatch* watch = *link;
		if (watch->removed && !gDispatching) {
			*link = watch->next;
			free(watch);
		}
		else {
			if (!watch->removed)
				count++;
			link = &watch->next;
		}
	}
	return count;
}

void simRequestExit(int status)
{
	if (!gExitRequested) {
		gExitRequested = 1;
		gExitStatus = status;
	}
}

double simNow(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1000000.0;
}

extern void simDebugLog(xsMachine* the, const char* text, size_t length);

static void reportException(xsMachine* the, const char* where)
{
	char line[512];
	/* A frame of its own: XS 17 takes xsVars() only first thing in a frame. */
	xsSlot exception = xsException;
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = exception;
		snprintf(line, sizeof(line), "%s: uncaught exception in %s: %s\n", gSimProgram, where, xsToString(xsVar(0)));
		fputs(line, stderr);
		simDebugLog(the, line, strlen(line));
		if (xsTypeOf(xsVar(0)) == xsReferenceType) {
			xsIdentifier stack = xsID("stack");
			xsVar(1) = xsGet(xsVar(0), stack);
			if (xsTypeOf(xsVar(1)) == xsStringType) {
				const char* stackText = xsToString(xsVar(1));
				fprintf(stderr, "%s\n", stackText);
				simDebugLog(the, stackText, strlen(stackText));
			}
		}
	}
	xsEndHost(the);
	fflush(stderr);
}

void simUncaughtException(void* machine, const char* where)
{
	xsMachine* the = machine;
	reportException(the, where);
	simRequestExit(SIM_EXIT_UNCAUGHT);
}

static void onMainRejected(xsMachine* the)
{
	xsException = xsArg(0);
	reportException(the, "main module");
	simRequestExit(SIM_EXIT_UNCAUGHT);
}

static void onMainFulfilled(xsMachine* the)
{
}

static void fireTimers(xsMachine* the)
{
	xsBeginHost(the);
	{
		xsTry {
			xsCallFunction0(gSimFireTimers, xsUndefined);
		}
		xsCatch {
			reportException(the, "timer callback");
			simRequestExit(SIM_EXIT_UNCAUGHT);
		}
	}
	xsEndHost(the);
}

static void deliverStop(xsMachine* the)
{
	gStopDelivered = 1;
	fprintf(stderr, "%s: stop requested (%s)\n", gSimProgram, gStopSignal == SIGINT ? "SIGINT" : "SIGTERM");
	fflush(stderr);
	xsBeginHost(the);
	{
		xsTry {
			xsCallFunction0(gStopCallback, xsUndefined);
		}
		xsCatch {
			reportException(the, "stop callback");
			simRequestExit(SIM_EXIT_UNCAUGHT);
		}
	}
	xsEndHost(the);
}

static int runLoop(xsMachine* the, double wallClockLimit)
{
	struct pollfd* fds = NULL;
	SimWatch** owners = NULL;
	int capacity = 0;
	for (;;) {
		simRunPromiseJobs(the);
		if (gExitRequested)
			break;
		if (gStopSignal && !gStopDelivered) {
			deliverStop(the);
			continue;
		}
		double now = simNow();
		if (wallClockLimit > 0 && now >= wallClockLimit) {
			fprintf(stderr, "%s: wall-clock limit reached\n", gSimProgram);
			simRequestExit(SIM_EXIT_TIMEOUT);
			break;
		}
		if (gSimTimerDeadline >= 0 && gSimTimerDeadline <= now) {
			fireTimers(the);
			continue;
		}
		int count = pruneWatches();
		if (count == 0 && gSimTimerDeadline < 0)
			break;
		if (count + SIM_ENGINE_FDS > capacity) {
			capacity = (count + SIM_ENGINE_FDS) * 2;
			fds = realloc(fds, capacity * sizeof(struct pollfd));
			owners = realloc(owners, capacity * sizeof(SimWatch*));
		}
		int n = 0;
		for (SimWatch* watch = gWatches; watch; watch = watch->next) {
			if (watch->removed)
				continue;
			fds[n].fd = watch->fd;
			fds[n].events = watch->events;
			fds[n].revents = 0;
			owners[n++] = watch;
		}
		double wait = -1;
		if (gSimTimerDeadline >= 0)
			wait = ceil(gSimTimerDeadline - now);
		if (wallClockLimit > 0 && (wait < 0 || wait > wallClockLimit - now))
			wait = ceil(wallClockLimit - now);
		int engineWait = -1;
		int engineCount = simEnginePollPrepare(fds + n, SIM_ENGINE_FDS, &engineWait);
		if (engineWait >= 0 && (wait < 0 || engineWait < wait))
			wait = engineWait;
		int ready;
		if (gStopInstalled) {
			struct timespec sleep = { 0, 0 };
			if (wait >= 0) {
				double bounded = wait > 2147483647 ? 2147483647 : wait;
				sleep.tv_sec = (time_t)(bounded / 1000);
				sleep.tv_nsec = (long)fmod(bounded, 1000) * 1000000L;
			}
			ready = ppoll(fds, n + engineCount, wait < 0 ? NULL : &sleep, &gSleepMask);
		}
		else
			ready = poll(fds, n + engineCount, wait < 0 ? -1 : (int)(wait > 2147483647 ? 2147483647 : wait));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", gSimProgram, strerror(errno));
			simRequestExit(SIM_EXIT_ABORT);
			break;
		}
		simEnginePollDispatch(fds + n, engineCount);
		gDispatching = 1;
		for (int i = 0; i < n && ready > 0; i++) {
			if (!fds[i].revents)
				continue;
			ready--;
			SimWatch* watch = owners[i];
			if (watch->removed)
				continue;
			watch->callback(watch->refcon, watch->fd, fds[i].revents);
			simRunPromiseJobs(the);
			if (gExitRequested)
				break;
		}
		gDispatching = 0;
		if (gExitRequested)
			break;
	}
	free(fds);
	free(owners);
	return gExitStatus;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [options] %s[arguments]\n"
		"  --state DIR          state directory of the emulated device (modem, security tags,\n"
		"                       storage, DFU); without it they refuse to run\n"
		"  --chunk BYTES        initial chunk heap      --slots COUNT      initial slot heap\n"
		"  --stack COUNT        stack slots             --keys COUNT       initial keys\n"
		"  --timeout SECONDS    wall-clock limit (exit status 6)\n"
		"  --memory-report      print memory figures on exit\n"
		"  --memory-at TEXT     print memory figures whenever the app writes a line holding TEXT\n"
		"  --gnss FILE          the GNSS receiver replays this NMEA log (GGA and RMC), a fix a second, looping\n"
		"  --gnss-offset N      ... starting at its fix N (0: the first)\n"
		"  --control stdin      read button and flip lines on standard input (button N, flip NORMAL|UPSIDE_DOWN)\n"
		"%s", gSimProgram, gSimMainRequired ? "main.js " : "", gSimEngineUsage);
}

static long parseNumber(const char* option, const char* value)
{
	char* end;
	if (!value) {
		fprintf(stderr, "%s: %s needs a value\n", gSimProgram, option);
		exit(SIM_EXIT_USAGE);
	}
	long number = strtol(value, &end, 10);
	if (*end || number < 0) {
		fprintf(stderr, "%s: %s: bad number \"%s\"\n", gSimProgram, option, value);
		exit(SIM_EXIT_USAGE);
	}
	return number;
}

void simMemoryReport(xsMachine* the)
{
	simEngineMemory(the);
	fprintf(stderr, "%s: memory: chunks %zu bytes (peak %zu), slots %zu bytes (peak %zu), slot size %zu; in use: chunks peak %ld bytes, slots peak %ld\n",
		gSimProgram, gSimMemory.chunkBytes, gSimMemory.chunkPeak, gSimMemory.slotBytes, gSimMemory.slotPeak, sizeof(txSlot),
		(long)the->peakChunksSize, (long)the->peakHeapCount);
}

int simAbortStatus(int status, const char** why)
{
	if (simEngineStackOverflow(status)) {
		*why = "stack overflow";
		return SIM_EXIT_STACK;
	}
	switch (status) {
	case XS_NOT_ENOUGH_MEMORY_EXIT: *why = "memory full"; return SIM_EXIT_MEMORY;
	case XS_NO_MORE_KEYS_EXIT: *why = "not enough keys"; return SIM_EXIT_MEMORY;
	case XS_DEAD_STRIP_EXIT: *why = "dead strip"; return SIM_EXIT_ABORT;
	case XS_DEBUGGER_EXIT: *why = "aborted from the debugger"; return SIM_EXIT_ABORT;
	case XS_FATAL_CHECK_EXIT: *why = "fatal check"; return SIM_EXIT_ABORT;
	case XS_UNHANDLED_EXCEPTION_EXIT: *why = "unhandled exception"; return SIM_EXIT_UNCAUGHT;
	case XS_UNHANDLED_REJECTION_EXIT: *why = "unhandled rejection"; return SIM_EXIT_UNCAUGHT;
	case XS_TOO_MUCH_COMPUTATION_EXIT: *why = "too much computation"; return SIM_EXIT_ABORT;
	default: *why = "unknown abort"; return SIM_EXIT_ABORT;
	}
}

int main(int argc, char** argv)
{
	xsCreation creation;
	memset(&creation, 0, sizeof(creation));
	simEngineDefaults(&creation);
	double timeout = 0;
	volatile int report = getenv("SIM_MEMORY_REPORT") != NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char* option = argv[i];
		const char* value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(option, "--state")) { if (!value) { usage(); return SIM_EXIT_USAGE; } gSimStateDirectory = value; i++; }
		else if (!strcmp(option, "--chunk")) { creation.initialChunkSize = (xsIntegerValue)parseNumber(option, value); i++; }
		else if (!strcmp(option, "--slots")) { creation.initialHeapCount = (xsIntegerValue)parseNumber(option, value); i++; }
		else if (!strcmp(option, "--stack")) { creation.stackCount = (xsIntegerValue)parseNumber(option, value); i++; }
		else if (!strcmp(option, "--keys")) { creation.initialKeyCount = (xsIntegerValue)parseNumber(option, value); i++; }
		else if (!strcmp(option, "--timeout")) { timeout = (double)parseNumber(option, value) * 1000.0; i++; }
		else if (!strcmp(option, "--memory-report")) report = 1;
		else if (!strcmp(option, "--memory-at")) {
			if (!value || !simAddMemoryMark(value)) { fprintf(stderr, "%s: --memory-at needs a text (at most 8 of them)\n", gSimProgram); return SIM_EXIT_USAGE; }
			i++;
		}
		else if (!strcmp(option, "--gnss")) { if (!value) { usage(); return SIM_EXIT_USAGE; } gSimGnssLog = value; i++; }
		else if (!strcmp(option, "--gnss-offset")) { gSimGnssOffset = parseNumber(option, value); i++; }
		else if (!strcmp(option, "--control")) {
			if (!value || strcmp(value, "stdin")) { fprintf(stderr, "%s: --control takes stdin (the one control channel)\n", gSimProgram); return SIM_EXIT_USAGE; }
			gSimControlStdin = 1;
			i++;
		}
		else if (!strcmp(option, "--help")) { usage(); return SIM_EXIT_OK; }
		else {
			SimOptionResult result = simEngineOption(option, value);
			if (result.status) { usage(); return result.status; }
			if (!result.consumed) { fprintf(stderr, "%s: unknown option %s\n", gSimProgram, option); usage(); return SIM_EXIT_USAGE; }
			i += result.consumed - 1;
		}
	}
	const char* mainModule = NULL;
	char mainReal[PATH_MAX];
	/* The bootloader's step: an applied app image runs instead of the command line's app. */
	char appDirectory[PATH_MAX];
	char appMain[PATH_MAX + 16];
	int fromImage = gSimStateDirectory && simDfuBoot && simDfuBoot(appDirectory, sizeof(appDirectory)) && simEngineUseApp(appDirectory);
	if (gSimMainRequired) {
		if (i >= argc) {
			usage();
			return SIM_EXIT_USAGE;
		}
		const char* mainPath = argv[i++];
		if (fromImage) {
			snprintf(appMain, sizeof(appMain), "%s/main.js", appDirectory);
			mainPath = appMain;
		}
		if (!realpath(mainPath, mainReal)) {
			fprintf(stderr, "%s: cannot open %s: %s\n", gSimProgram, mainPath, strerror(errno));
			return SIM_EXIT_USAGE;
		}
		mainModule = mainReal;
	}
	gSimArgc = argc - i;
	gSimArgv = argv + i;
	double wallClockLimit = timeout > 0 ? simNow() + timeout : 0;

	xsMachine* the = simCreateMachine(&creation);
	if (!the) {
		fprintf(stderr, "%s: cannot create the XS machine (memory cap too small?)\n", gSimProgram);
		return SIM_EXIT_MEMORY;
	}
	int status = SIM_EXIT_OK;
	xsBeginHost(the);
	{
		xsVars(3);
		xsTry {
			simStart(the, mainModule);
			xsVar(0) = xsResult;
			xsVar(1) = xsNewHostFunction(onMainFulfilled, 1);
			xsVar(2) = xsNewHostFunction(onMainRejected, 1);
			xsIdentifier name = xsID("then");
			xsCall2(xsVar(0), name, xsVar(1), xsVar(2));
		}
		xsCatch {
			reportException(the, "start-up");
			status = SIM_EXIT_UNCAUGHT;
		}
	}
	xsEndHost(the);
	if (status == SIM_EXIT_OK)
		status = runLoop(the, wallClockLimit);
	if (report)
		simMemoryReport(the);
	fflush(stdout);
	fflush(stderr);
	if (gSimFireTimersInstalled || gStopInstalled) {
		xsBeginHost(the);
		if (gSimFireTimersInstalled)
			xsForget(gSimFireTimers);
		if (gStopInstalled)
			xsForget(gStopCallback);
		xsEndHost(the);
	}
	simDeleteMachine(the);
	return status;
}
