/*
 * Host functions of the simulator, for both engines: the clock and timer arming
 * used by the prelude, output, memory figures, exit, the app's arguments, and
 * errors with a Zephyr errno for the bindings.
 */

#include "xsAll.h"
#include "xs.h"
#include "sim.h"
#include "../../native/common/zephyr-errno.h"

#include <errno.h>
#include <stdarg.h>

extern double gSimTimerDeadline;
extern xsSlot gSimFireTimers;
extern int gSimFireTimersInstalled;
extern int gSimArgc;
extern char** gSimArgv;
extern void simDebugLog(xsMachine* the, const char* text, size_t length);

void xs_sim_now(xsMachine* the)
{
	xsResult = xsNumber(simNow());
}

void xs_sim_timer_arm(xsMachine* the)
{
	gSimTimerDeadline = xsToNumber(xsArg(0));
}

void xs_sim_timers_install(xsMachine* the)
{
	if (gSimFireTimersInstalled)
		xsUnknownError("timers already installed");
	gSimFireTimers = xsArg(0);
	xsRemember(gSimFireTimers);
	gSimFireTimersInstalled = 1;
}

void xs_sim_sleep(xsMachine* the)
{
	double milliseconds = xsToNumber(xsArg(0));
	if (milliseconds > 0)
		usleep((useconds_t)(milliseconds * 1000));
}

static void printMemoryMarks(xsMachine* the, const char* text);

void xs_sim_write(xsMachine* the)
{
	xsIntegerValue fd = xsToInteger(xsArg(0));
	xsStringValue text = xsToString(xsArg(1));
	size_t length = strlen(text);
	if (fd != 1 && fd != 2)
		xsRangeError("write: fd must be 1 or 2");
	fwrite(text, 1, length, fd == 1 ? stdout : stderr);
	fflush(fd == 1 ? stdout : stderr);
	simDebugLog(the, text, length);
	printMemoryMarks(the, text);
}

void xs_sim_exit(xsMachine* the)
{
	xsIntegerValue status = xsToInteger(xsArgc) > 0 ? xsToInteger(xsArg(0)) : 0;
	if (status < 0 || status > 255)
		xsRangeError("exit status must be 0 to 255");
	simRequestExit(status);
}

static void setNumber(xsMachine* the, const char* name, double value)
{
	xsIdentifier id = xsID((char*)name);
	xsVar(0) = xsNumber(value);
	xsSet(xsResult, id, xsVar(0));
}

/*
 * Memory figures: what the host's allocators hold (chunkBytes, slotBytes, their
 * peaks and caps; in the Moddable build what the engine allocated), what the
 * machine uses of it now and at its peak (chunks in bytes, slots in slots),
 * keys made at run time, and the stack in slots (its peak where the engine is
 * built with mxInstrument; -1 otherwise).
 */
typedef struct {
	const char* name;
	double value;
} SimFigure;

#define SIM_FIGURES 16

static int sampleMemory(xsMachine* the, SimFigure* figures)
{
	simEngineMemory(the);
	int n = 0;
	figures[n++] = (SimFigure){ "chunkBytes", (double)gSimMemory.chunkBytes };
	figures[n++] = (SimFigure){ "chunkPeak", (double)gSimMemory.chunkPeak };
	figures[n++] = (SimFigure){ "chunkCap", (double)gSimMemory.chunkCap };
	figures[n++] = (SimFigure){ "slotBytes", (double)gSimMemory.slotBytes };
	figures[n++] = (SimFigure){ "slotPeak", (double)gSimMemory.slotPeak };
	figures[n++] = (SimFigure){ "slotCap", (double)gSimMemory.slotCap };
	figures[n++] = (SimFigure){ "slotSize", (double)sizeof(txSlot) };
	figures[n++] = (SimFigure){ "chunksUsed", (double)the->currentChunksSize };
	figures[n++] = (SimFigure){ "chunksUsedPeak", (double)the->peakChunksSize };
	figures[n++] = (SimFigure){ "slotsUsed", (double)the->currentHeapCount };
	figures[n++] = (SimFigure){ "slotsUsedPeak", (double)the->peakHeapCount };
	figures[n++] = (SimFigure){ "keysUsed", (double)(the->keyIndex - the->keyOffset) - (double)gSimMemory.freedKeys };
	figures[n++] = (SimFigure){ "keysAvailable", (double)(the->keyCount - the->keyOffset) };
	figures[n++] = (SimFigure){ "stackSize", (double)(the->stackTop - the->stackBottom) };
	figures[n++] = (SimFigure){ "stackUsed", (double)(the->stackTop - the->stack) };
#ifdef mxInstrument
	figures[n++] = (SimFigure){ "stackPeak", (double)(the->stackTop - the->stackPeak) };
#else
	figures[n++] = (SimFigure){ "stackPeak", -1 };
#endif
	return n;
}

void xs_sim_memory(xsMachine* the)
{
	SimFigure figures[SIM_FIGURES];
	xsVars(1);
	int count = sampleMemory(the, figures);
	xsResult = xsNewObject();
	for (int i = 0; i < count; i++)
		setNumber(the, figures[i].name, figures[i].value);
}

/* ---- memory marks: figures on standard error when the app prints a given text (--memory-at) ---- */

#define SIM_MAX_MARKS 8
static const char* gMemoryMarks[SIM_MAX_MARKS];
static int gMemoryMarkCount = 0;

int simAddMemoryMark(const char* text)
{
	if (gMemoryMarkCount == SIM_MAX_MARKS || !*text)
		return 0;
	gMemoryMarks[gMemoryMarkCount++] = text;
	return 1;
}

/* One line, "<program>: memory at <mark>: {...}": the figures as they are, then "live" ones after a collection. */
static void printMemory(xsMachine* the, const char* mark)
{
	SimFigure figures[SIM_FIGURES];
	int count = sampleMemory(the, figures);
	fprintf(stderr, "%s: memory at \"%s\": {", gSimProgram, mark);
	for (int i = 0; i < count; i++)
		fprintf(stderr, "%s\"%s\":%.0f", i ? "," : "", figures[i].name, figures[i].value);
	xsCollectGarbage();
	fprintf(stderr, ",\"chunksLive\":%ld,\"slotsLive\":%ld}\n", (long)the->currentChunksSize, (long)the->currentHeapCount);
	fflush(stderr);
}

static void printMemoryMarks(xsMachine* the, const char* text)
{
	for (int i = 0; i < gMemoryMarkCount; i++) {
		if (strstr(text, gMemoryMarks[i]))
			printMemory(the, gMemoryMarks[i]);
	}
}

void xs_sim_gc(xsMachine* the)
{
	xsCollectGarbage();
}

void xs_sim_args(xsMachine* the)
{
	xsVars(1);
	xsResult = xsNewArray(0);
	xsIdentifier push = xsID("push");
	for (int i = 0; i < gSimArgc; i++) {
		xsVar(0) = xsString(gSimArgv[i]);
		xsCall1(xsResult, push, xsVar(0));
	}
}

/* ---- errors with an errno, for the bindings ---- */

void simThrowErrno(void* machine, int errnoValue, const char* format, ...)
{
	xsMachine* the = machine;
	char message[512];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	/* The result slot is about to be thrown: it holds the error while its errno is set. */
	xsResult = xsNew1(xsGlobal, xsID("Error"), xsString(message));
	xsSet(xsResult, xsID("errno"), xsInteger(errnoValue));
	xsThrow(xsResult);
}
