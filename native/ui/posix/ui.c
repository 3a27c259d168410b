/*
 * The board's buttons, LEDs and orientation in the simulator host. With
 * --control stdin the host reads control lines on standard input through its
 * poll() loop while a Buttons or Orientation object is open:
 *
 *   button N                 a press of button N (1 to 32)
 *   flip NORMAL              the board right way up
 *   flip UPSIDE_DOWN         the board upside down
 *
 * Anything else is named on standard error and ignored. At the end of input
 * the host stops reading. An LED change is a line "sim: LED n on|off" on
 * standard error.
 */

#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../ui-xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LENGTH 128

static UiListeners gButtons;
static UiListeners gOrientations;
static int gUpsideDown;
static int gLeds[UI_LEDS];
static xsMachine* gMachine;
static SimWatch* gControlWatch;
static int gControlEnded;
static char gLine[LINE_MAX_LENGTH + 1];
static size_t gLineLength;
static int gLineTooLong;

static void uncaught(xsMachine* the)
{
	simUncaughtException(the, "input callback");
}

static void controlLine(char* line)
{
	size_t length = strlen(line);
	while (length > 0 && (line[length - 1] == '\r' || line[length - 1] == ' ' || line[length - 1] == '\t'))
		line[--length] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line)
		return;
	char* end;
	if (!strncmp(line, "button ", 7)) {
		long button = strtol(line + 7, &end, 10);
		if (!*end && end != line + 7 && button >= 1 && button <= 32) {
			uiNotify(gMachine, &gButtons, (int)button, uncaught);
			return;
		}
	}
	else if (!strcmp(line, "flip NORMAL") || !strcmp(line, "flip UPSIDE_DOWN")) {
		int upsideDown = line[5] == 'U';
		if (upsideDown != gUpsideDown) {
			gUpsideDown = upsideDown;
			uiNotify(gMachine, &gOrientations, upsideDown, uncaught);
		}
		return;
	}
	fprintf(stderr, "%s: control: ignored \"%s\": the lines are button N (1 to 32), flip NORMAL, flip UPSIDE_DOWN\n", gSimProgram, line);
}

static void stopReading(void)
{
	if (gControlWatch) {
		simWatchRemove(gControlWatch);
		gControlWatch = NULL;
	}
}

static void onControl(void* refcon, int fd, short revents)
{
	char buffer[512];
	(void)refcon;
	(void)revents;
	ssize_t count = read(fd, buffer, sizeof(buffer));
	if (count < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (count <= 0) {
		if (gLineLength && !gLineTooLong) {
			gLine[gLineLength] = 0;
			controlLine(gLine);
		}
		gLineLength = 0;
		gControlEnded = 1;
		stopReading();
		return;
	}
	for (ssize_t i = 0; i < count; i++) {
		char c = buffer[i];
		if (c == '\n') {
			gLine[gLineLength] = 0;
			if (gLineTooLong)
				fprintf(stderr, "%s: control: ignored a line longer than %d characters\n", gSimProgram, LINE_MAX_LENGTH);
			else
				controlLine(gLine);
			gLineLength = 0;
			gLineTooLong = 0;
		}
		else if (gLineLength < LINE_MAX_LENGTH)
			gLine[gLineLength++] = c;
		else
			gLineTooLong = 1;
	}
}

/* Reads control lines while a listener is open (so an app that closes its inputs lets the host end). */
static void updateControl(xsMachine* the)
{
	gMachine = the;
	int wanted = gSimControlStdin && !gControlEnded && (gButtons.count + gOrientations.count) > 0;
	if (wanted && !gControlWatch) {
		gControlWatch = simWatchAdd(0, POLLIN, onControl, NULL);
		if (!gControlWatch)
			simThrowErrno(the, ZEPHYR_ENOMEM, "control: out of memory");
	}
	else if (!wanted)
		stopReading();
}

void xs_buttons_destructor(void* data)
{
	uiNoDestructor(data);
}

/* constructor(onPress) */
void xs_buttons_constructor(xsMachine* the)
{
	uiListen(the, &gButtons, "buttons");
	updateControl(the);
}

void xs_buttons_close(xsMachine* the)
{
	if (uiUnlisten(the, &gButtons))
		updateControl(the);
}

void xs_orientation_destructor(void* data)
{
	uiNoDestructor(data);
}

/* constructor(onChange) */
void xs_orientation_constructor(xsMachine* the)
{
	uiListen(the, &gOrientations, "orientation");
	updateControl(the);
}

/* read(): 1 while upside down */
void xs_orientation_read(xsMachine* the)
{
	xsmcSetInteger(xsResult, gUpsideDown);
}

void xs_orientation_close(xsMachine* the)
{
	if (uiUnlisten(the, &gOrientations))
		updateControl(the);
}

void xs_led_destructor(void* data)
{
	uiNoDestructor(data);
}

/* constructor(led): the host data is the LED's number */
void xs_led_constructor(xsMachine* the)
{
	uiLedOpen(the);
}

void xs_led_write(xsMachine* the)
{
	int led = uiLedOf(the);
	int value = uiLedValue(the);
	if (gLeds[led - 1] == value)
		return;
	gLeds[led - 1] = value;
	fprintf(stderr, "%s: LED %d %s\n", gSimProgram, led, value ? "on" : "off");
	fflush(stderr);
}

void xs_led_close(xsMachine* the)
{
	xsmcSetHostData(xsThis, NULL);
}
