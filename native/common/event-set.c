/* Coalesced events from other threads to the XS thread; see event-set.h. */

#include "event-set.h"

void eventSetInit(EventSet* set)
{
	__atomic_store_n(&set->pending, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&set->postedAt, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&set->posted, 0, __ATOMIC_RELEASE);
}

int eventSetRaise(EventSet* set, uint32_t bits, uint32_t nowMs)
{
	__atomic_fetch_or(&set->pending, bits, __ATOMIC_ACQ_REL);
	/* Exactly one raiser wins the 0 -> 1 exchange and posts; the message then takes every bit raised before it is delivered. */
	if (__atomic_exchange_n(&set->posted, 1, __ATOMIC_ACQ_REL) == 0) {
		__atomic_store_n(&set->postedAt, nowMs, __ATOMIC_RELEASE);
		return 1;
	}
	return 0;
}

int eventSetRepostDue(EventSet* set, uint32_t nowMs, uint32_t staleMs)
{
	if (!__atomic_load_n(&set->posted, __ATOMIC_ACQUIRE) || !__atomic_load_n(&set->pending, __ATOMIC_ACQUIRE))
		return 0;
	uint32_t at = __atomic_load_n(&set->postedAt, __ATOMIC_ACQUIRE);
	if ((uint32_t)(nowMs - at) <= staleMs)
		return 0;
	/* Only one thread restamps a given stale message, so only one reposts it. */
	return __atomic_compare_exchange_n(&set->postedAt, &at, nowMs, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

uint32_t eventSetTake(EventSet* set)
{
	/* Allow the next post before taking: a bit raised in between then posts again rather than being left behind. */
	__atomic_store_n(&set->posted, 0, __ATOMIC_RELEASE);
	return __atomic_exchange_n(&set->pending, 0, __ATOMIC_ACQ_REL);
}

uint32_t eventSetPeek(const EventSet* set)
{
	return __atomic_load_n(&set->pending, __ATOMIC_ACQUIRE);
}
