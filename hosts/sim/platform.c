/*
 * The engine seam of sim.h for xsnap's XS 13.3 (the simulator host built by
 * tools/build-sim.mjs): allocators with caps and accounting, module resolution
 * and loading from files (with source maps, so errors name TypeScript lines),
 * the prelude run as a script, native() and Native() as globals over the table
 * of C functions generated at build time, promise job draining, aborts.
 * moddable.c is the same seam for the Moddable SDK's XS.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pthread_getattr_np() */
#endif
#include "xsAll.h"
#include "xsScript.h"
#include "xs.h"
#include "sim.h"

#include <limits.h>
#include <sys/stat.h>

SimMemory gSimMemory = { .accounted = 1 };

const char* gSimProgram = "sim";
const int gSimMainRequired = 1;
const char* gSimEngineUsage =
	"  --modules DIR        resolve bare module specifiers in DIR (repeatable)\n"
	"  --chunk-cap BYTES    hard cap on chunk memory\n"
	"  --slot-cap BYTES     hard cap on slot memory\n";

extern const char gSimPrelude[];
void simAddModuleRoot(const char* directory);
void simRunScriptString(txMachine* the, const char* source, const char* path);

/* Allocation sizes are kept in a header so frees can be accounted. */
typedef struct {
	size_t size;
	size_t pad;
} SimBlockHeader;

static void* simAllocate(size_t size, size_t* current, size_t* peak, size_t cap)
{
	if (cap && (*current + size > cap))
		return NULL;
	SimBlockHeader* header = malloc(sizeof(SimBlockHeader) + size);
	if (!header)
		return NULL;
	header->size = size;
	*current += size;
	if (*current > *peak)
		*peak = *current;
	return header + 1;
}

static void simRelease(void* block, size_t* current)
{
	if (!block)
		return;
	SimBlockHeader* header = ((SimBlockHeader*)block) - 1;
	*current -= header->size;
	free(header);
}

void* fxAllocateChunks(txMachine* the, txSize size)
{
	return simAllocate((size_t)size, &gSimMemory.chunkBytes, &gSimMemory.chunkPeak, gSimMemory.chunkCap);
}

void fxFreeChunks(txMachine* the, void* chunks)
{
	simRelease(chunks, &gSimMemory.chunkBytes);
}

txSlot* fxAllocateSlots(txMachine* the, txSize count)
{
	return simAllocate((size_t)count * sizeof(txSlot), &gSimMemory.slotBytes, &gSimMemory.slotPeak, gSimMemory.slotCap);
}

void fxFreeSlots(txMachine* the, void* slots)
{
	simRelease(slots, &gSimMemory.slotBytes);
}

/*
 * The lowest address the engine lets the C stack reach, 128 KB above the end of
 * the thread's stack as the engine's default has it; computed on the first call
 * only (sim_platform.h says why).
 */
char* fxCStackLimit(void)
{
	static char* limit = NULL;
	static int computed = 0;
	if (!computed) {
		pthread_attr_t attributes;
		void* address;
		size_t size;
		pthread_attr_init(&attributes);
		if (pthread_getattr_np(pthread_self(), &attributes) == 0 && pthread_attr_getstack(&attributes, &address, &size) == 0)
			limit = (char*)address + (128 * 1024);
		pthread_attr_destroy(&attributes);
		computed = 1;
	}
	return limit;
}

void fxCreateMachinePlatform(txMachine* the)
{
	the->host = NULL;
	the->promiseJobsQueued = 0;
#ifdef mxDebug
	the->connection = mxNoSocket;
#endif
}

void fxDeleteMachinePlatform(txMachine* the)
{
}

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobsQueued = 1;
}

/* Runs promise jobs until none is left; returns 1 if any ran. */
int simRunPromiseJobs(void* machine)
{
	txMachine* the = machine;
	int ran = 0;
	do {
		while (the->promiseJobsQueued) {
			the->promiseJobsQueued = 0;
			fxRunPromiseJobs(the);
			ran = 1;
		}
		fxEndJob(the);
	} while (the->promiseJobsQueued);
	/* Like Node: a rejection still unhandled once the job queue is empty is fatal. */
	fxCheckUnhandledRejections(the, 1);
	return ran;
}

void fxAbort(txMachine* the, int status)
{
	const char* why;
	int exitStatus = simAbortStatus(status, &why);
	if ((status == XS_UNHANDLED_EXCEPTION_EXIT || status == XS_UNHANDLED_REJECTION_EXIT) && mxException.kind != XS_UNDEFINED_KIND) {
		fprintf(stderr, "sim: %s: %s\n", why, fxToString(the, &mxException));
	}
	else if (status == XS_NOT_ENOUGH_MEMORY_EXIT) {
		fprintf(stderr, "sim: memory full: chunks %zu of %zu bytes, slots %zu of %zu bytes\n",
			gSimMemory.chunkBytes, gSimMemory.chunkCap, gSimMemory.slotBytes, gSimMemory.slotCap);
	}
	else
		fprintf(stderr, "sim: %s\n", why);
	fflush(stdout);
	fflush(stderr);
	_exit(exitStatus);
}

/* ---- the seam ---- */

void simEngineDefaults(void* it)
{
	xsCreation* creation = it;
	creation->initialChunkSize = 32 * 1024;
	creation->incrementalChunkSize = 16 * 1024;
	creation->initialHeapCount = 4096;
	creation->incrementalHeapCount = 1024;
	creation->stackCount = 4096;
	creation->initialKeyCount = 2048;
	creation->incrementalKeyCount = 512;
	creation->nameModulo = 1993;
	creation->symbolModulo = 127;
	creation->parserBufferSize = 64 * 1024;
	creation->parserTableModulo = 1993;
	creation->staticSize = 0;
}

static int parseSize(const char* option, const char* value, size_t* result)
{
	char* end;
	long number = value ? strtol(value, &end, 10) : -1;
	if (!value || *end || number < 0) {
		fprintf(stderr, "sim: %s needs a non-negative number\n", option);
		return 0;
	}
	*result = (size_t)number;
	return 1;
}

SimOptionResult simEngineOption(const char* option, const char* value)
{
	SimOptionResult result = { 0, 0 };
	if (!strcmp(option, "--modules")) {
		if (!value) { result.status = SIM_EXIT_USAGE; return result; }
		simAddModuleRoot(value);
		result.consumed = 2;
	}
	else if (!strcmp(option, "--chunk-cap")) {
		if (!parseSize(option, value, &gSimMemory.chunkCap)) { result.status = SIM_EXIT_USAGE; return result; }
		result.consumed = 2;
	}
	else if (!strcmp(option, "--slot-cap")) {
		if (!parseSize(option, value, &gSimMemory.slotCap)) { result.status = SIM_EXIT_USAGE; return result; }
		result.consumed = 2;
	}
	return result;
}

void* simCreateMachine(void* creation)
{
	return xsCreateMachine((xsCreation*)creation, "sim", NULL);
}

void simDeleteMachine(void* the)
{
	xsDeleteMachine((xsMachine*)the);
}

extern void xs_sim_native(xsMachine* the);
extern void xs_sim_Native(xsMachine* the);

void simStart(void* machine, const char* mainModule)
{
	xsMachine* the = machine;
	xsIdentifier name = xsID("native");
	xsResult = xsNewHostFunction(xs_sim_native, 1);
	xsDefine(xsGlobal, name, xsResult, xsDontEnum);
	name = xsID("Native");
	xsResult = xsNewHostFunction(xs_sim_Native, 1);
	xsDefine(xsGlobal, name, xsResult, xsDontEnum);
	simRunScriptString(the, gSimPrelude, "sim/prelude.js");
	xsResult = xsAwaitImport(mainModule, XS_IMPORT_ASYNC);
}

int simEnginePollPrepare(struct pollfd* fds, int capacity, int* timeout)
{
	/* The debugger connection is polled by the engine itself (debug.c), between jobs. */
	return 0;
}

void simEnginePollDispatch(struct pollfd* fds, int count)
{
}

int simEngineStackOverflow(int status)
{
	return status == XS_STACK_OVERFLOW_EXIT;
}

void simEngineMemory(void* the)
{
}

/* ---- native() and Native() over the generated table ---- */

void xs_sim_native(xsMachine* the)
{
	xsStringValue name = xsToString(xsArg(0));
	for (const SimNativeFunction* entry = gSimNativeFunctions; entry->name; entry++) {
		if (!strcmp(entry->name, name)) {
			xsResult = xsNewHostFunction((xsCallback)entry->callback, 0);
			return;
		}
	}
	xsTypeError("no native function %s in this host", name);
}

/* Constructor behind every Native() class: the instance comes from new.target's prototype. */
static void simNativeConstruct(xsMachine* the)
{
	xsVars(1);
	xsIdentifier prototype = xsID("prototype");
	xsVar(0) = xsGet(xsTarget, prototype);
	xsResult = xsNewHostInstance(xsVar(0));
}

void xs_sim_Native(xsMachine* the)
{
	xsStringValue name = xsToString(xsArg(0));
	for (const SimNativeDestructorEntry* entry = gSimNativeDestructors; entry->name; entry++) {
		if (!strcmp(entry->name, name)) {
			xsVars(1);
			xsVar(0) = xsNewHostObject((xsDestructor)entry->destructor);
			xsResult = xsNewHostConstructor(simNativeConstruct, 0, xsVar(0));
			return;
		}
	}
	xsTypeError("no native destructor %s in this host", name);
}

/* ---- modules ---- */

#define SIM_MAX_ROOTS 8
static const char* gModuleRoots[SIM_MAX_ROOTS];
static int gModuleRootCount = 0;

int simEngineUseApp(const char* directory)
{
	/* The image's modules come before every --modules root: its library is the one it was built with. */
	char* copy = strdup(directory);
	if (!copy || gModuleRootCount == SIM_MAX_ROOTS)
		return 0;
	memmove(gModuleRoots + 1, gModuleRoots, gModuleRootCount * sizeof(gModuleRoots[0]));
	gModuleRoots[0] = copy;
	gModuleRootCount++;
	return 1;
}

void simAddModuleRoot(const char* directory)
{
	if (gModuleRootCount < SIM_MAX_ROOTS)
		gModuleRoots[gModuleRootCount++] = directory;
}

static int isFile(const char* path)
{
	struct stat info;
	return (stat(path, &info) == 0) && S_ISREG(info.st_mode);
}

/* Resolves `path` (maybe without .js) to a real file path in `out`; 1 on success. */
static int resolveFile(const char* path, char* out)
{
	char candidate[PATH_MAX];
	if (snprintf(candidate, sizeof(candidate), "%s", path) >= (int)sizeof(candidate))
		return 0;
	if (!isFile(candidate)) {
		if (snprintf(candidate, sizeof(candidate), "%s.js", path) >= (int)sizeof(candidate))
			return 0;
		if (!isFile(candidate))
			return 0;
	}
	return realpath(candidate, out) != NULL;
}

txID fxFindModule(txMachine* the, txSlot* realm, txID moduleID, txSlot* slot)
{
	char specifier[PATH_MAX];
	char joined[PATH_MAX * 2];
	char resolved[PATH_MAX];
	fxToStringBuffer(the, slot, specifier, sizeof(specifier));
	if (!strncmp(specifier, "./", 2) || !strncmp(specifier, "../", 3)) {
		if (moduleID == XS_NO_ID)
			snprintf(joined, sizeof(joined), "%s", specifier);
		else {
			const char* importer = fxGetKeyName(the, moduleID);
			const char* slash = strrchr(importer, '/');
			int length = slash ? (int)(slash - importer) : 0;
			snprintf(joined, sizeof(joined), "%.*s/%s", length, importer, specifier);
		}
		if (resolveFile(joined, resolved))
			return fxNewNameC(the, resolved);
		return XS_NO_ID;
	}
	if (specifier[0] == '/') {
		if (resolveFile(specifier, resolved))
			return fxNewNameC(the, resolved);
		return XS_NO_ID;
	}
	for (int i = 0; i < gModuleRootCount; i++) {
		snprintf(joined, sizeof(joined), "%s/%s", gModuleRoots[i], specifier);
		if (resolveFile(joined, resolved))
			return fxNewNameC(the, resolved);
	}
	return XS_NO_ID;
}

static txScript* simParseFile(txMachine* the, const char* path, txUnsigned flags)
{
	txParser parserRecord;
	txParser* parser = &parserRecord;
	txParserJump jump;
	FILE* volatile file = NULL;
	txString name = NULL;
	char map[PATH_MAX];
	txScript* volatile script = NULL;
	fxInitializeParser(parser, the, the->parserBufferSize, the->parserTableModulo);
	parser->firstJump = &jump;
	if (c_setjmp(jump.jmp_buf) == 0) {
		file = fopen(path, "r");
		mxParserThrowElse(file);
		parser->path = fxNewParserSymbol(parser, (txString)path);
		fxParserTree(parser, file, (txGetter)fgetc, flags, &name);
		fclose(file);
		file = NULL;
		if (name) {
			/* A missing or unreadable source map only costs the TypeScript line numbers. */
			if (realpath(fxCombinePath(parser, (txString)path, name), map)) {
				FILE* mapFile = fopen(map, "r");
				if (mapFile) {
					parser->path = fxNewParserSymbol(parser, map);
					file = mapFile;
					fxParserSourceMap(parser, file, (txGetter)fgetc, flags, &name);
					fclose(file);
					file = NULL;
					if ((parser->errorCount == 0) && name && realpath(fxCombinePath(parser, map, name), map))
						parser->path = fxNewParserSymbol(parser, map);
					else
						parser->path = fxNewParserSymbol(parser, (txString)path);
				}
			}
		}
		fxParserHoist(parser);
		fxParserBind(parser);
		script = fxParserCode(parser);
	}
	if (file)
		fclose(file);
	fxTerminateParser(parser);
	return script;
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
	const char* path = fxGetKeyName(the, moduleID);
	txScript* script = simParseFile(the, path, mxDebugFlag);
	if (script)
		fxResolveModule(the, module, moduleID, script, C_NULL, C_NULL);
}

/* Runs JavaScript source as a sloppy script in the global scope. */
void simRunScriptString(txMachine* the, const char* source, const char* path)
{
	txStringCStream stream;
	stream.buffer = (txString)source;
	stream.offset = 0;
	stream.size = (txSize)strlen(source);
	txSlot* realm = mxModuleInstanceInternal(mxProgram.value.reference)->value.module.realm;
	txParser parserRecord;
	txParser* parser = &parserRecord;
	txParserJump jump;
	txScript* volatile script = NULL;
	fxInitializeParser(parser, the, the->parserBufferSize, the->parserTableModulo);
	parser->firstJump = &jump;
	if (c_setjmp(jump.jmp_buf) == 0) {
		parser->path = fxNewParserSymbol(parser, (txString)path);
		fxParserTree(parser, &stream, fxStringCGetter, mxProgramFlag | mxDebugFlag, NULL);
		fxParserHoist(parser);
		fxParserBind(parser);
		script = fxParserCode(parser);
	}
	fxTerminateParser(parser);
	fxRunScript(the, script, mxRealmGlobal(realm), C_NULL, mxRealmClosures(realm)->value.reference, C_NULL, mxProgram.value.reference);
}
