/* Sending in pieces of at most one modem TLS record; see tls-chunk.h. */

#include "tls-chunk.h"

size_t tlsChunkSize(size_t length, size_t limit)
{
	return length < limit ? length : limit;
}

int tlsChunkFlush(ByteQueue* queue, size_t limit, TlsChunkSend send, void* context)
{
	while (queue->length > 0) {
		int taken = send(context, queue->data, tlsChunkSize(queue->length, limit));
		if (taken == TLS_CHUNK_WOULD_BLOCK)
			return 1;
		if (taken < 0)
			return 0;
		byteQueueConsume(queue, (size_t)taken);
	}
	return 1;
}
