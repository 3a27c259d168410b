/*
 * What both bindings of the board's buttons, LEDs and orientation (posix,
 * nrf9160) share on the XS side: a small table of listeners (each a host
 * object and its callback, kept alive while listening), the checks of the
 * arguments, and the calls into JavaScript.
 */

#ifndef NRFCLOUD_UI_XS_H
#define NRFCLOUD_UI_XS_H

#include "xsmc.h"

#include <stdint.h>

#define UI_LISTENERS 4
#define UI_LEDS 4

typedef struct {
	xsSlot self;
	xsSlot callback;
	int used;
} UiListener;

typedef struct {
	UiListener entries[UI_LISTENERS];
	int count;
} UiListeners;

/* In a constructor whose argument 0 is the callback: a free entry of `table`, remembered; the host data points to it. */
static inline UiListener* uiListen(xsMachine* the, UiListeners* table, const char* what)
{
	if (xsmcArgc < 1 || !xsmcIsCallable(xsArg(0)))
		xsTypeError("%s: the callback must be a function", what);
	for (int i = 0; i < UI_LISTENERS; i++) {
		UiListener* entry = &table->entries[i];
		if (entry->used)
			continue;
		entry->used = 1;
		entry->self = xsThis;
		entry->callback = xsArg(0);
		xsRemember(entry->self);
		xsRemember(entry->callback);
		table->count++;
		xsmcSetHostData(xsThis, entry);
		return entry;
	}
	xsUnknownError("%s: at most %d open at once", what, UI_LISTENERS);
	return NULL;
}

/* close(): the entry is free again (idempotent); returns 1 when it was in use. */
static inline int uiUnlisten(xsMachine* the, UiListeners* table)
{
	UiListener* entry = xsmcGetHostData(xsThis);
	if (!entry || !entry->used)
		return 0;
	xsForget(entry->self);
	xsForget(entry->callback);
	entry->used = 0;
	table->count--;
	xsmcSetHostData(xsThis, NULL);
	return 1;
}

/* Calls one listener with `value`; an exception goes to `uncaught`. */
static inline void uiCall(xsMachine* the, UiListener* listener, int value, void (*uncaught)(xsMachine* the))
{
	xsBeginHost(the);
	{
		xsTry {
			xsmcVars(1);
			xsmcSetInteger(xsVar(0), value);
			xsCallFunction1(listener->callback, listener->self, xsVar(0));
		}
		xsCatch {
			uncaught(the);
		}
	}
	xsEndHost(the);
}

/* Calls every listener of `table` with `value`; a listener may close any entry meanwhile. */
static inline void uiNotify(xsMachine* the, UiListeners* table, int value, void (*uncaught)(xsMachine* the))
{
	for (int i = 0; i < UI_LISTENERS; i++)
		if (table->entries[i].used)
			uiCall(the, &table->entries[i], value, uncaught);
}

/* The LED number argument, 1 to UI_LEDS. */
static inline int uiLedArgument(xsMachine* the)
{
	if (xsmcArgc < 1 || (xsmcTypeOf(xsArg(0)) != xsIntegerType && xsmcTypeOf(xsArg(0)) != xsNumberType))
		xsTypeError("led: the LED number must be a number");
	xsNumberValue led = xsmcToNumber(xsArg(0));
	if (!(led >= 1 && led <= UI_LEDS) || led != (xsNumberValue)(int)led)
		xsRangeError("led: the LED number must be 1 to %d", UI_LEDS);
	return (int)led;
}

/* constructor(led): the LED number argument checked and kept as the host data; returns it. */
static inline int uiLedOpen(xsMachine* the)
{
	int led = uiLedArgument(the);
	xsmcSetHostData(xsThis, (void*)(intptr_t)led);
	return led;
}

/* The number of the LED `this` is; throws once it is closed. */
static inline int uiLedOf(xsMachine* the)
{
	int led = (int)(intptr_t)xsmcGetHostData(xsThis);
	if (!led)
		xsUnknownError("led: closed");
	return led;
}

/* The value argument of write(), 0 or 1. */
static inline int uiLedValue(xsMachine* the)
{
	if (xsmcArgc < 1)
		xsTypeError("led: write needs 0 or 1");
	xsNumberValue value = xsmcToNumber(xsArg(0));
	if (value != 0 && value != 1)
		xsRangeError("led: an LED takes 0 or 1");
	return (int)value;
}

/* Destructors of objects whose host data is a table entry or an LED number: nothing to free. */
static inline void uiNoDestructor(void* data)
{
	(void)data;
}

#endif
