/*
 * A single-producer, single-consumer ring of text lines, for AT notifications
 * going from the modem library's context to the XS thread: the producer never
 * waits and never allocates; when the ring is full the new line is dropped and
 * counted, so a burst of notifications costs lines, never a blocked thread.
 * Each line is stored as a 2-byte length and its bytes.
 */

#ifndef NATIVE_LINE_RING_H
#define NATIVE_LINE_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint8_t* storage;
	uint32_t capacity;	/* bytes of storage used: the largest power of two that fits */
	uint32_t head;	/* written by the producer: next byte to write (monotonic) */
	uint32_t tail;	/* written by the consumer: next byte to read (monotonic) */
	uint32_t dropped;	/* lines the producer could not store */
} LineRing;

void lineRingInit(LineRing* ring, uint8_t* storage, uint32_t capacity);

/* Producer: stores `length` bytes of `line`; 0 when it does not fit (counted in `dropped`). */
int lineRingPut(LineRing* ring, const char* line, size_t length);

/*
 * Consumer: copies the oldest line into `out` (NUL-terminated, cut to
 * `size` - 1 bytes) and removes it; returns its stored length, or -1 when the
 * ring is empty.
 */
int lineRingTake(LineRing* ring, char* out, size_t size);

/* Consumer: the lines dropped since the last call. */
uint32_t lineRingTakeDropped(LineRing* ring);

#endif
