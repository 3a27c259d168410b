/*
 * Sending a queue of bytes in pieces no larger than one TLS record the
 * nRF9160 modem accepts (NRF_SOCKET_TLS_MAX_MESSAGE_SIZE, 2 KB): a larger send
 * on a modem TLS socket fails with EMSGSIZE. The simulator host cuts its
 * mbedTLS writes the same way, so both put the same records on the wire.
 */

#ifndef NATIVE_TLS_CHUNK_H
#define NATIVE_TLS_CHUNK_H

#include "byte-queue.h"

#include <stddef.h>
#include <stdint.h>

/* The nRF9160 modem's largest TLS send (nrf_socket.h NRF_SOCKET_TLS_MAX_MESSAGE_SIZE). */
#define TLS_CHUNK_LIMIT 2048

/* What a send function reports for one piece. */
enum {
	TLS_CHUNK_WOULD_BLOCK = -1,	/* nothing taken now: try again when writable */
	TLS_CHUNK_FAILED = -2,	/* the connection failed: the function has recorded why */
};

/* Sends up to `length` bytes (never more than the limit); returns the bytes taken (>= 1) or TLS_CHUNK_*. */
typedef int (*TlsChunkSend)(void* context, const uint8_t* bytes, size_t length);

/* The size of the next piece of `length` bytes. */
size_t tlsChunkSize(size_t length, size_t limit);

/*
 * Sends the queue's bytes piece by piece and drops what was taken, until the
 * queue is empty, a piece would block or the send fails. Returns 0 on
 * TLS_CHUNK_FAILED, 1 otherwise.
 */
int tlsChunkFlush(ByteQueue* queue, size_t limit, TlsChunkSend send, void* context);

#endif
