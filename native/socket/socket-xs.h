/*
 * What both socket bindings (posix, nrf9160) share on the XS side: the
 * port and security tag options, and moving bytes between JavaScript and the
 * socket's queues (native/common/byte-queue.h).
 */

#ifndef NRFCLOUD_SOCKET_XS_H
#define NRFCLOUD_SOCKET_XS_H

#include "xsmc.h"
#include "../common/byte-queue.h"

/* The object and its three callbacks, kept alive while the socket may call them. */
typedef struct {
	xsSlot self;
	xsSlot onReadable;
	xsSlot onWritable;
	xsSlot onError;
	int remembered;
} SocketCallbacks;

/* In the constructor (onReadable, onWritable, onError are its arguments 1 to 3). */
static void rememberCallbacks(xsMachine* the, SocketCallbacks* js)
{
	js->self = xsThis;
	js->onReadable = xsArg(1);
	js->onWritable = xsArg(2);
	js->onError = xsArg(3);
	xsRemember(js->self);
	xsRemember(js->onReadable);
	xsRemember(js->onWritable);
	xsRemember(js->onError);
	js->remembered = 1;
}

static void forgetCallbacks(xsMachine* the, SocketCallbacks* js)
{
	if (!js->remembered)
		return;
	xsForget(js->self);
	xsForget(js->onReadable);
	xsForget(js->onWritable);
	xsForget(js->onError);
	js->remembered = 0;
}

/* options.port, 1..65535, read through `scratch`. */
static xsIntegerValue portOption(xsMachine* the, xsSlot* options, xsSlot* scratch)
{
	xsmcGet(*scratch, *options, xsID("port"));
	xsIntegerValue port = xsmcToInteger(*scratch);
	if (port < 1 || port > 65535)
		xsRangeError("tcp: invalid port");
	return port;
}

/* options.secTag, 0..2147483647, or -1 when absent (plain TCP). */
static long secTagOption(xsMachine* the, xsSlot* options, xsSlot* scratch)
{
	xsmcGet(*scratch, *options, xsID("secTag"));
	if (xsmcTypeOf(*scratch) == xsUndefinedType)
		return -1;
	double value = xsmcToNumber(*scratch);
	if (!(value >= 0 && value <= 2147483647.0) || value != (double)(long)value)
		xsRangeError("tcp: secTag must be an integer from 0 to 2147483647");
	return (long)value;
}

/* read(count?): xsResult = up to count received bytes (all without it), taken from the queue; undefined when none. */
static void takeReceived(xsMachine* the, ByteQueue* rx)
{
	if (rx->length == 0)
		return;
	size_t count = rx->length;
	if (xsmcArgc > 0 && xsmcTypeOf(xsArg(0)) != xsUndefinedType) {
		xsIntegerValue wanted = xsmcToInteger(xsArg(0));
		if (wanted < 0)
			xsRangeError("tcp: read count must not be negative");
		if ((size_t)wanted < count)
			count = (size_t)wanted;
	}
	xsmcSetArrayBuffer(xsResult, rx->data, (xsIntegerValue)count);
	byteQueueConsume(rx, count);
}

/* write(bytes): queues all of them, or throws a RangeError naming what may still be written. */
static void queueWritten(xsMachine* the, ByteQueue* tx)
{
	void* data;
	xsUnsignedValue length;
	if (xsmcArgc < 1)
		xsTypeError("tcp: write needs bytes");
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (!byteQueueAppend(tx, data, length))
		xsRangeError("tcp: write of %u bytes exceeds the %u writable", (unsigned)length, (unsigned)byteQueueSpace(tx));
}

#endif
