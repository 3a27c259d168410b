/*
 * A byte queue for a socket's received and unsent bytes: append at the end,
 * take from the front, within a fixed limit. It grows on demand up to the limit
 * (the simulator host) or is given its storage once (the nRF9160, where the
 * heap is small and shared).
 */

#ifndef NATIVE_BYTE_QUEUE_H
#define NATIVE_BYTE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint8_t* data;
	size_t length;	/* bytes queued */
	size_t capacity;	/* bytes allocated */
	size_t limit;	/* most bytes ever queued */
	int owned;	/* data is malloc'd here and may grow */
} ByteQueue;

/* A queue that allocates as it fills, up to `limit` bytes. */
void byteQueueInit(ByteQueue* queue, size_t limit);

/* A queue over caller storage of `capacity` bytes; it never allocates. */
void byteQueueInitFixed(ByteQueue* queue, uint8_t* storage, size_t capacity);

void byteQueueFree(ByteQueue* queue);

/* Bytes that may still be appended. */
size_t byteQueueSpace(const ByteQueue* queue);

/*
 * Makes room for `count` more bytes at byteQueueEnd(); returns 0 when the
 * limit or memory does not allow it.
 */
int byteQueueReserve(ByteQueue* queue, size_t count);

/* Where the next bytes go, after byteQueueReserve(); byteQueueCommit() counts what was written there. */
uint8_t* byteQueueEnd(ByteQueue* queue);
void byteQueueCommit(ByteQueue* queue, size_t count);

/* Appends `count` bytes; returns 0 (and appends nothing) when they do not fit. */
int byteQueueAppend(ByteQueue* queue, const void* bytes, size_t count);

/* Drops `count` bytes from the front. */
void byteQueueConsume(ByteQueue* queue, size_t count);

#endif
