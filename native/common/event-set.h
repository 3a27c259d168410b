/*
 * Coalesced events from other threads to the XS thread. A modem, LTE or
 * socket thread raises bits; only the first raise after a delivery asks its
 * caller to post a message, so each source has at most one message in the
 * XS machine's queue however many events arrive, and a thread never has to
 * wait for room in it. A post that was dropped (the queue was full, which
 * Moddable's Zephyr port does not report) is noticed as stale and repeated.
 *
 * Lock-free with GCC's __atomic builtins: the same code runs on the build
 * machine's pthreads and on the Cortex-M33 (LDREX/STREX).
 */

#ifndef NATIVE_EVENT_SET_H
#define NATIVE_EVENT_SET_H

#include <stdint.h>

typedef struct {
	uint32_t pending;	/* bits raised since the last take */
	uint32_t posted;	/* 1 while a message is on its way to the XS thread */
	uint32_t postedAt;	/* milliseconds, when that message was posted */
} EventSet;

void eventSetInit(EventSet* set);

/*
 * Adds `bits`. Returns 1 when the caller must post a message to the XS
 * thread (none is on its way), 0 when one already is.
 */
int eventSetRaise(EventSet* set, uint32_t bits, uint32_t nowMs);

/*
 * Returns 1 (and restamps the set) when bits are pending behind a message
 * posted more than `staleMs` ago that has not been delivered: the caller posts
 * again. Called from a thread's periodic loop.
 */
int eventSetRepostDue(EventSet* set, uint32_t nowMs, uint32_t staleMs);

/* On the XS thread, when the message arrives: takes every pending bit and allows the next post. */
uint32_t eventSetTake(EventSet* set);

/* The pending bits, without taking them. */
uint32_t eventSetPeek(const EventSet* set);

#endif
