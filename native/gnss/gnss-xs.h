/*
 * What both GNSS bindings (posix, nrf9160) share on the XS side: the
 * receiver's two callbacks (the sentences of a fix, a final error), checked
 * and kept alive while the receiver may call them, and the calls themselves.
 */

#ifndef NRFCLOUD_GNSS_XS_H
#define NRFCLOUD_GNSS_XS_H

#include "xsmc.h"

typedef struct {
	xsSlot self;
	xsSlot onSentences;
	xsSlot onError;
	int remembered;
} GnssCallbacks;

/* In the constructor: onSentences(text) and onError(message) are its arguments 0 and 1. */
static inline void gnssCheckCallbacks(xsMachine* the)
{
	if (xsmcArgc < 2 || !xsmcIsCallable(xsArg(0)) || !xsmcIsCallable(xsArg(1)))
		xsTypeError("gnss: onSentences and onError must be functions");
}

static inline void gnssRemember(xsMachine* the, GnssCallbacks* js)
{
	js->self = xsThis;
	js->onSentences = xsArg(0);
	js->onError = xsArg(1);
	xsRemember(js->self);
	xsRemember(js->onSentences);
	xsRemember(js->onError);
	js->remembered = 1;
}

static inline void gnssForget(xsMachine* the, GnssCallbacks* js)
{
	if (!js->remembered)
		return;
	xsForget(js->self);
	xsForget(js->onSentences);
	xsForget(js->onError);
	js->remembered = 0;
}

/* Calls `callback` (onSentences or onError) with `length` characters of `text`, `this` the receiver. */
static inline void gnssCall(xsMachine* the, GnssCallbacks* js, xsSlot* callback, const char* text, size_t length)
{
	xsBeginHost(the);
	{
		xsmcVars(1);
		xsmcSetStringBuffer(xsVar(0), (char*)text, (xsIntegerValue)length);
		xsCallFunction1(*callback, js->self, xsVar(0));
	}
	xsEndHost(the);
}

#endif
