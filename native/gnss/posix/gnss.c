/*
 * The GNSS receiver of the simulator host: replays the NMEA log of --gnss
 * FILE at one fix a second, from fix --gnss-offset N, looping at its end. A
 * fix is the GGA and RMC sentences of one time stamp (consecutive sentences
 * with the same hhmmss.ss); other sentences and lines are left out. A timerfd
 * in the host's poll() loop paces it: the first fix comes at once, then one a
 * second.
 *
 * Without --gnss, or with a log that cannot be read or holds no fix, the
 * constructor throws an Error whose errno says why; bad arguments throw a
 * TypeError.
 */

#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../gnss-xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOG_LIMIT (16 * 1024 * 1024)
#define FIX_PERIOD_MS 1000

typedef struct {
	xsMachine* the;
	GnssCallbacks js;
	int fd;
	SimWatch* watch;
	char* text;	/* the fixes' sentences, each line ending in "\n" */
	size_t* starts;	/* fix i is text[starts[i]] to text[starts[i + 1]] */
	size_t count;
	size_t next;
} Gnss;

static void release(Gnss* g)
{
	if (g->watch) {
		simWatchRemove(g->watch);
		g->watch = NULL;
	}
	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
	free(g->text);
	g->text = NULL;
	free(g->starts);
	g->starts = NULL;
}

void xs_gnss_destructor(void* data)
{
	Gnss* g = data;
	if (!g)
		return;
	release(g);
	free(g);
}

/* The time stamp field of a GGA or RMC line ("$GPGGA,141856.00,..."): its start and length; 0 for other lines. */
static size_t timeField(const char* line, size_t length, const char** start)
{
	if (length < 7 || line[0] != '$' || line[6] != ',' || (memcmp(line + 3, "GGA", 3) && memcmp(line + 3, "RMC", 3)))
		return 0;
	const char* field = line + 7;
	const char* end = memchr(field, ',', length - 7);
	if (!end)
		return 0;
	*start = field;
	return (size_t)(end - field);
}

/* Splits the log into fixes; returns 0 (and frees nothing of `log`) when it holds none. */
static int indexFixes(Gnss* g, char* log, size_t size)
{
	size_t capacity = 64;
	g->text = malloc(size + 1);
	g->starts = malloc(capacity * sizeof(size_t));
	if (!g->text || !g->starts)
		return -1;
	size_t used = 0;
	const char* lastTime = NULL;
	size_t lastLength = 0;
	for (char* line = log; line < log + size;) {
		char* end = memchr(line, '\n', (size_t)(log + size - line));
		size_t length = end ? (size_t)(end - line) : (size_t)(log + size - line);
		char* next = end ? end + 1 : log + size;
		while (length > 0 && (line[length - 1] == '\r' || line[length - 1] == ' '))
			length--;
		const char* time;
		size_t timeLength = timeField(line, length, &time);
		if (timeLength) {
			if (!lastTime || timeLength != lastLength || memcmp(time, lastTime, timeLength)) {
				if (g->count + 2 > capacity) {
					capacity *= 2;
					size_t* grown = realloc(g->starts, capacity * sizeof(size_t));
					if (!grown)
						return -1;
					g->starts = grown;
				}
				g->starts[g->count++] = used;
			}
			lastTime = time;
			lastLength = timeLength;
			memcpy(g->text + used, line, length);
			used += length;
			g->text[used++] = '\n';
		}
		line = next;
	}
	g->starts[g->count] = used;
	return g->count > 0;
}

static void deliver(Gnss* g)
{
	size_t start = g->starts[g->next];
	size_t length = g->starts[g->next + 1] - start;
	g->next = (g->next + 1) % g->count;
	xsMachine* the = g->the;
	xsBeginHost(the);
	{
		xsTry {
			/* Without the final "\n": the lines of one fix, separated. */
			gnssCall(the, &g->js, &g->js.onSentences, g->text + start, length - 1);
		}
		xsCatch {
			simUncaughtException(the, "GNSS callback");
		}
	}
	xsEndHost(the);
}

static void onTimer(void* refcon, int fd, short revents)
{
	Gnss* g = refcon;
	uint64_t expirations;
	(void)revents;
	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	/* One fix per tick even after a late tick: a receiver reports the fix of now, never a burst. */
	deliver(g);
}

static void failConstruction(xsMachine* the, Gnss* g, int errnoValue, const char* format, const char* detail)
{
	release(g);
	free(g);
	xsmcSetHostData(xsThis, NULL);
	simThrowErrno(the, errnoValue, format, gSimGnssLog, detail);
}

/* constructor(onSentences, onError) */
void xs_gnss_constructor(xsMachine* the)
{
	gnssCheckCallbacks(the);
	if (!gSimGnssLog)
		simThrowErrno(the, ZEPHYR_ENOTSUP, "gnss: no receiver: start the host with --gnss FILE (an NMEA log of GGA and RMC sentences)");
	Gnss* g = calloc(1, sizeof(Gnss));
	if (!g)
		simThrowErrno(the, ZEPHYR_ENOMEM, "gnss: out of memory");
	g->the = the;
	g->fd = -1;
	xsmcSetHostData(xsThis, g);
	FILE* file = fopen(gSimGnssLog, "rb");
	if (!file)
		failConstruction(the, g, zephyrErrno(errno), "gnss: cannot open %s: %s", strerror(errno));
	char* log = malloc(LOG_LIMIT);
	size_t size = log ? fread(log, 1, LOG_LIMIT, file) : 0;
	int tooLong = log && size == LOG_LIMIT && fgetc(file) != EOF;
	int failed = ferror(file);
	fclose(file);
	if (!log)
		failConstruction(the, g, ZEPHYR_ENOMEM, "gnss: %s: %s", "out of memory");
	if (failed || tooLong) {
		free(log);
		failConstruction(the, g, failed ? ZEPHYR_EIO : ZEPHYR_EMSGSIZE, "gnss: cannot read %s: %s", failed ? "read error" : "larger than 16 MB");
	}
	int indexed = indexFixes(g, log, size);
	free(log);
	if (indexed < 0)
		failConstruction(the, g, ZEPHYR_ENOMEM, "gnss: %s: %s", "out of memory");
	if (indexed == 0)
		failConstruction(the, g, ZEPHYR_EINVAL, "gnss: %s %s", "holds no GGA or RMC sentence");
	if ((size_t)gSimGnssOffset >= g->count) {
		char detail[64];
		snprintf(detail, sizeof(detail), "%zu fixes, --gnss-offset %ld is past them", g->count, gSimGnssOffset);
		failConstruction(the, g, ZEPHYR_EINVAL, "gnss: %s has %s", detail);
	}
	g->next = (size_t)gSimGnssOffset;
	g->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec period = { .it_interval = { FIX_PERIOD_MS / 1000, 0 }, .it_value = { 0, 1000000 } };
	if (g->fd < 0 || timerfd_settime(g->fd, 0, &period, NULL) != 0)
		failConstruction(the, g, zephyrErrno(errno), "gnss: %s: timer: %s", strerror(errno));
	g->watch = simWatchAdd(g->fd, POLLIN, onTimer, g);
	if (!g->watch)
		failConstruction(the, g, ZEPHYR_ENOMEM, "gnss: %s: %s", "out of memory");
	gnssRemember(the, &g->js);
}

void xs_gnss_close(xsMachine* the)
{
	Gnss* g = xsmcGetHostData(xsThis);
	if (!g)
		return;
	release(g);
	gnssForget(the, &g->js);
}
