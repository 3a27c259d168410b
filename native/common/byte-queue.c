/* Byte queue of a socket; see byte-queue.h. */

#include "byte-queue.h"

#include <stdlib.h>
#include <string.h>

void byteQueueInit(ByteQueue* queue, size_t limit)
{
	queue->data = NULL;
	queue->length = queue->capacity = 0;
	queue->limit = limit;
	queue->owned = 1;
}

void byteQueueInitFixed(ByteQueue* queue, uint8_t* storage, size_t capacity)
{
	queue->data = storage;
	queue->length = 0;
	queue->capacity = queue->limit = capacity;
	queue->owned = 0;
}

void byteQueueFree(ByteQueue* queue)
{
	if (queue->owned)
		free(queue->data);
	queue->data = NULL;
	queue->length = queue->capacity = 0;
}

size_t byteQueueSpace(const ByteQueue* queue)
{
	return queue->limit - queue->length;
}

int byteQueueReserve(ByteQueue* queue, size_t count)
{
	if (count > queue->limit - queue->length)
		return 0;
	if (queue->capacity - queue->length >= count)
		return 1;
	if (!queue->owned)
		return 0;
	size_t capacity = queue->capacity ? queue->capacity : 1024;
	while (capacity - queue->length < count)
		capacity *= 2;
	if (capacity > queue->limit)
		capacity = queue->limit;
	uint8_t* data = realloc(queue->data, capacity);
	if (!data)
		return 0;
	queue->data = data;
	queue->capacity = capacity;
	return 1;
}

uint8_t* byteQueueEnd(ByteQueue* queue)
{
	return queue->data + queue->length;
}

void byteQueueCommit(ByteQueue* queue, size_t count)
{
	queue->length += count;
}

int byteQueueAppend(ByteQueue* queue, const void* bytes, size_t count)
{
	if (!byteQueueReserve(queue, count))
		return 0;
	if (count)
		memcpy(queue->data + queue->length, bytes, count);
	queue->length += count;
	return 1;
}

void byteQueueConsume(ByteQueue* queue, size_t count)
{
	if (count >= queue->length) {
		queue->length = 0;
		return;
	}
	memmove(queue->data, queue->data + count, queue->length - count);
	queue->length -= count;
}
