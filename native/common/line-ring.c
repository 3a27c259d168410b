/* Single-producer, single-consumer ring of text lines; see line-ring.h. */

#include "line-ring.h"

void lineRingInit(LineRing* ring, uint8_t* storage, uint32_t capacity)
{
	/* A power of two, so that positions stay right when the 32-bit counters wrap. */
	uint32_t size = 1;
	while (size <= capacity / 2)
		size *= 2;
	ring->storage = storage;
	ring->capacity = capacity ? size : 0;
	ring->head = ring->tail = ring->dropped = 0;
}

static void copyIn(LineRing* ring, uint32_t at, const uint8_t* bytes, uint32_t length)
{
	for (uint32_t i = 0; i < length; i++)
		ring->storage[(at + i) & (ring->capacity - 1)] = bytes[i];
}

int lineRingPut(LineRing* ring, const char* line, size_t length)
{
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
	uint32_t used = head - tail;
	if (length > 0xFFFF || 2 + length > ring->capacity - used) {
		__atomic_fetch_add(&ring->dropped, 1, __ATOMIC_RELAXED);
		return 0;
	}
	uint8_t prefix[2] = { (uint8_t)(length & 0xFF), (uint8_t)(length >> 8) };
	copyIn(ring, head, prefix, 2);
	copyIn(ring, head + 2, (const uint8_t*)line, (uint32_t)length);
	/* Publish the bytes before the new head. */
	__atomic_store_n(&ring->head, head + 2 + (uint32_t)length, __ATOMIC_RELEASE);
	return 1;
}

int lineRingTake(LineRing* ring, char* out, size_t size)
{
	uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
	if (head == tail)
		return -1;
	uint32_t length = ring->storage[tail & (ring->capacity - 1)] | ((uint32_t)ring->storage[(tail + 1) & (ring->capacity - 1)] << 8);
	size_t copied = size ? (length < size - 1 ? length : size - 1) : 0;
	for (size_t i = 0; i < copied; i++)
		out[i] = (char)ring->storage[(tail + 2 + i) & (ring->capacity - 1)];
	if (size)
		out[copied] = 0;
	__atomic_store_n(&ring->tail, tail + 2 + length, __ATOMIC_RELEASE);
	return (int)length;
}

uint32_t lineRingTakeDropped(LineRing* ring)
{
	return __atomic_exchange_n(&ring->dropped, 0, __ATOMIC_ACQ_REL);
}
