/*
 * TCP and TLS client socket of the nRF9160 in the ECMA-419 shape (the module
 * socket/tcp): the modem's offloaded sockets through Zephyr's zsock_* calls,
 * TLS inside the modem with the credentials of a security tag, the host name
 * for SNI and verification, required peer verification and the modem's TLS
 * session cache.
 *
 * Threads. Nothing here that can wait runs on the XS thread:
 * - the connect worker resolves the name (zsock_getaddrinfo) and connects
 *   (the modem's TLS handshake happens in zsock_connect), one request after
 *   the other, trying every address of the name in turn;
 * - the poll thread waits on the open sockets (zsock_poll) and raises each
 *   socket's events.
 * Neither touches XS: they raise bits in the socket's EventSet
 * (native/common/event-set.h), and only the first raise after a delivery
 * posts to the XS thread through the port's queue with
 * modMessagePostToMachineFromISR, which never waits. So however fast events
 * come, a socket has at most one message in the queue; a message lost to a
 * full queue is posted again by the poll thread once it is stale.
 * The XS thread receives and sends with ZSOCK_MSG_DONTWAIT, which never
 * blocks, in pieces of at most one modem TLS record (native/common/tls-chunk.h).
 *
 * A socket is a slot of a fixed table (the modem has 8 sockets); messages and
 * the JavaScript object name it by index and generation, so a message or an
 * object that outlives its socket finds nothing rather than a reused slot.
 *
 * Failures carry the project's errno (Zephyr numbering): a name that does not
 * resolve EHOSTUNREACH, out of memory ENOMEM, else what the modem's socket
 * call set (ECONNREFUSED, ETIMEDOUT, ...), as the simulator host reports them.
 */

#include "../../nrf9160/binding.h"
#include "../../common/byte-queue.h"
#include "../../common/event-set.h"
#include "../../common/tls-chunk.h"
#include "../socket-xs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_SOCKETS 8	/* the modem's socket count (NRF_MODEM_MAX_SOCKET_COUNT) */
#define TX_CAPACITY 4096
#define RX_CAPACITY 4096
#define POLL_INTERVAL_MS 50	/* how soon the poll thread sees sockets opened or closed */
#define STALE_POST_MS 250	/* a posted message not delivered after this long was dropped */
#define WORKER_STACK 2048
#define POLL_STACK 1536
#define THREAD_PRIORITY 5

enum { EVENT_CONNECTED = 1, EVENT_FAILED = 2, EVENT_READABLE = 4, EVENT_WRITABLE = 8, EVENT_HANGUP = 16 };
enum { STATE_FREE, STATE_CONNECTING, STATE_OPEN, STATE_FAILED, STATE_CLOSING };

typedef struct {
	/* Shared between the threads (atomic). */
	uint32_t state;
	uint32_t generation;
	uint32_t wanted;	/* poll events the XS thread wants */
	int fd;
	EventSet events;
	/* Written by the XS thread before the connect request, then read by the worker. */
	char host[128];
	char port[8];
	char hostname[128];
	sec_tag_t tag;
	int secure;
	int verify;
	/* Written by the worker before EVENT_FAILED. */
	int failErrno;
	char failMessage[160];
	/* The XS thread's alone. */
	SocketCallbacks js;
	int peerClosed;
	ByteQueue rx;
	ByteQueue tx;
	uint8_t* buffers;
} Socket;

static Socket gSockets[MAX_SOCKETS];
static xsMachine* gMachine;
static uint32_t gConnectRequests;	/* bit i: slot i waits for the worker */
K_SEM_DEFINE(gConnectSemaphore, 0, 1);

static uint32_t loadState(Socket* s)
{
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
}

static int moveState(Socket* s, uint32_t from, uint32_t to)
{
	return __atomic_compare_exchange_n(&s->state, &from, to, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Index and generation in one non-zero word: the host data of the object and the refcon of messages. */
static void* handleOf(Socket* s)
{
	return (void*)(uintptr_t)(((s - gSockets) + 1) | (__atomic_load_n(&s->generation, __ATOMIC_ACQUIRE) << 4));
}

static Socket* socketOf(void* handle)
{
	uintptr_t value = (uintptr_t)handle;
	uintptr_t index = (value & 0xF) - 1;
	if (!value || index >= MAX_SOCKETS)
		return NULL;
	Socket* s = &gSockets[index];
	return (value >> 4) == (__atomic_load_n(&s->generation, __ATOMIC_ACQUIRE) & 0x0FFFFFFF) ? s : NULL;
}

static void deliver(void* the, void* refcon, uint8_t* message, uint16_t length);

static void post(Socket* s)
{
	modMessagePostToMachineFromISR(gMachine, deliver, handleOf(s));
}

static void raise(Socket* s, uint32_t bits)
{
	if (eventSetRaise(&s->events, bits, nrfNow()))
		post(s);
}

/* ---- the connect worker ---- */

static void connectFailed(Socket* s, int errnoValue, const char* what)
{
	s->failErrno = errnoValue;
	snprintf(s->failMessage, sizeof(s->failMessage), "%s %s: errno %d", what, s->host, errnoValue);
	if (moveState(s, STATE_CONNECTING, STATE_FAILED))
		raise(s, EVENT_FAILED);
	else
		__atomic_store_n(&s->state, STATE_FREE, __ATOMIC_RELEASE);	/* closed meanwhile: nobody waits for the failure */
}

/* Sets the TLS options of a new socket; 0 (errno set) when the modem refuses one. */
static int setUpTls(Socket* s, int fd)
{
	sec_tag_t tags[1] = { s->tag };
	int verify = s->verify ? ZSOCK_TLS_PEER_VERIFY_REQUIRED : ZSOCK_TLS_PEER_VERIFY_NONE;
	int cache = ZSOCK_TLS_SESSION_CACHE_ENABLED;
	return zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_SEC_TAG_LIST, tags, sizeof(tags)) == 0
		&& zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_HOSTNAME, s->hostname, (net_socklen_t)strlen(s->hostname)) == 0
		&& zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_PEER_VERIFY, &verify, sizeof(verify)) == 0
		&& zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_SESSION_CACHE, &cache, sizeof(cache)) == 0;
}

static void connectSocket(Socket* s)
{
	struct zsock_addrinfo hints;
	struct zsock_addrinfo* addresses = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = NET_AF_UNSPEC;
	hints.ai_socktype = NET_SOCK_STREAM;
	int resolved = zsock_getaddrinfo(s->host, s->port, &hints, &addresses);
	if (resolved != 0 || !addresses) {
		if (addresses)
			zsock_freeaddrinfo(addresses);
		connectFailed(s, resolved == DNS_EAI_MEMORY ? ZEPHYR_ENOMEM : ZEPHYR_EHOSTUNREACH, "cannot resolve");
		return;
	}
	int lastErrno = ZEPHYR_EHOSTUNREACH;
	const char* what = "no usable address for";
	for (struct zsock_addrinfo* address = addresses; address; address = address->ai_next) {
		if (loadState(s) != STATE_CONNECTING)
			break;
		int fd = zsock_socket(address->ai_family, NET_SOCK_STREAM, s->secure ? NET_IPPROTO_TLS_1_2 : NET_IPPROTO_TCP);
		if (fd < 0) {
			lastErrno = zephyrErrno(errno);
			what = "socket for";
			continue;
		}
		if (s->secure && !setUpTls(s, fd)) {
			lastErrno = zephyrErrno(errno);
			what = "TLS options for";
			zsock_close(fd);
			continue;
		}
		if (zsock_connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
			lastErrno = zephyrErrno(errno);
			what = "connect to";
			zsock_close(fd);
			continue;
		}
		zsock_freeaddrinfo(addresses);
		s->fd = fd;
		if (moveState(s, STATE_CONNECTING, STATE_OPEN))
			raise(s, EVENT_CONNECTED);
		else {
			zsock_close(fd);	/* closed while connecting */
			s->fd = -1;
			__atomic_store_n(&s->state, STATE_FREE, __ATOMIC_RELEASE);
		}
		return;
	}
	zsock_freeaddrinfo(addresses);
	connectFailed(s, lastErrno, what);
}

static void connectWorker(void* p1, void* p2, void* p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (;;) {
		k_sem_take(&gConnectSemaphore, K_FOREVER);
		uint32_t requests;
		while ((requests = __atomic_exchange_n(&gConnectRequests, 0, __ATOMIC_ACQ_REL)) != 0)
			for (int i = 0; i < MAX_SOCKETS; i++)
				if (requests & (1u << i))
					connectSocket(&gSockets[i]);
	}
}

K_THREAD_DEFINE(gSocketConnectWorker, WORKER_STACK, connectWorker, NULL, NULL, NULL, K_PRIO_PREEMPT(THREAD_PRIORITY), 0, 0);

/* ---- the poll thread ---- */

static void pollLoop(void* p1, void* p2, void* p3)
{
	(void)p1;
	(void)p2;
	(void)p3;
	for (;;) {
		struct zsock_pollfd fds[MAX_SOCKETS];
		int slots[MAX_SOCKETS];
		int count = 0;
		for (int i = 0; i < MAX_SOCKETS; i++) {
			Socket* s = &gSockets[i];
			uint32_t state = loadState(s);
			if (state == STATE_CLOSING && s->fd >= 0) {
				/* Closed by the XS thread while open: this thread owns the descriptor's end. */
				zsock_close(s->fd);
				s->fd = -1;
				__atomic_store_n(&s->state, STATE_FREE, __ATOMIC_RELEASE);
				continue;
			}
			if (state != STATE_OPEN && state != STATE_FAILED && state != STATE_CONNECTING)
				continue;
			if (eventSetRepostDue(&s->events, nrfNow(), STALE_POST_MS))
				post(s);
			uint32_t wanted = __atomic_load_n(&s->wanted, __ATOMIC_ACQUIRE);
			if (state == STATE_OPEN && wanted) {
				fds[count].fd = s->fd;
				fds[count].events = (short)wanted;
				fds[count].revents = 0;
				slots[count++] = i;
			}
		}
		if (!count) {
			k_sleep(K_MSEC(POLL_INTERVAL_MS));
			continue;
		}
		if (zsock_poll(fds, count, POLL_INTERVAL_MS) <= 0)
			continue;
		for (int j = 0; j < count; j++) {
			Socket* s = &gSockets[slots[j]];
			short revents = fds[j].revents;
			uint32_t bits = 0;
			if (revents & ZSOCK_POLLIN)
				bits |= EVENT_READABLE;
			if (revents & ZSOCK_POLLOUT)
				bits |= EVENT_WRITABLE;
			if (revents & (ZSOCK_POLLERR | ZSOCK_POLLHUP | ZSOCK_POLLNVAL))
				bits |= EVENT_HANGUP;
			if (!bits)
				continue;
			/* Stop waiting for what was reported until the XS thread asks again. */
			__atomic_fetch_and(&s->wanted, ~(uint32_t)(revents | ZSOCK_POLLOUT | ((bits & EVENT_HANGUP) ? ZSOCK_POLLIN : 0)), __ATOMIC_ACQ_REL);
			raise(s, bits);
		}
	}
}

K_THREAD_DEFINE(gSocketPollThread, POLL_STACK, pollLoop, NULL, NULL, NULL, K_PRIO_PREEMPT(THREAD_PRIORITY), 0, 0);

/* ---- the XS thread ---- */

static void forget(Socket* s)
{
	forgetCallbacks(gMachine, &s->js);
}

/* Gives the slot back (the poll thread or the worker closes the descriptor) and frees the buffers. */
static void release(Socket* s)
{
	__atomic_store_n(&s->wanted, 0, __ATOMIC_RELEASE);
	if (!moveState(s, STATE_OPEN, STATE_CLOSING) && !moveState(s, STATE_CONNECTING, STATE_CLOSING))
		moveState(s, STATE_FAILED, STATE_FREE);
	byteQueueFree(&s->rx);
	byteQueueFree(&s->tx);
	k_free(s->buffers);
	s->buffers = NULL;
}

static void callCount(Socket* s, xsSlot* callback, xsIntegerValue count)
{
	xsMachine* the = gMachine;
	xsBeginHost(the);
	{
		xsmcVars(1);
		xsmcSetInteger(xsVar(0), count);
		xsCallFunction1(*callback, s->js.self, xsVar(0));
	}
	xsEndHost(the);
}

/* Reports the end once: onError(errno, message), or onError() for a close by the peer. */
static void fail(Socket* s, int errnoValue, const char* message)
{
	xsMachine* the = gMachine;
	release(s);
	xsBeginHost(the);
	{
		if (errnoValue) {
			xsmcVars(2);
			xsmcSetInteger(xsVar(0), errnoValue);
			xsmcSetString(xsVar(1), (char*)message);
			xsCallFunction2(s->js.onError, s->js.self, xsVar(0), xsVar(1));
		}
		else
			xsCallFunction0(s->js.onError, s->js.self);
	}
	xsEndHost(the);
	forget(s);
}

static int sendPiece(void* context, const uint8_t* bytes, size_t length)
{
	Socket* s = context;
	ssize_t sent = zsock_send(s->fd, bytes, length, ZSOCK_MSG_DONTWAIT);
	if (sent > 0)
		return (int)sent;
	if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return TLS_CHUNK_WOULD_BLOCK;
	return TLS_CHUNK_FAILED;
}

static void updateWanted(Socket* s)
{
	uint32_t wanted = (byteQueueSpace(&s->rx) > RX_CAPACITY / 2 && !s->peerClosed ? ZSOCK_POLLIN : 0) | (s->tx.length ? ZSOCK_POLLOUT : 0);
	__atomic_store_n(&s->wanted, wanted, __ATOMIC_RELEASE);
}

/* Sends what the modem takes now; 0 after reporting a failure. */
static int flush(Socket* s)
{
	if (!tlsChunkFlush(&s->tx, TLS_CHUNK_LIMIT, sendPiece, s)) {
		char message[64];
		int errnoValue = zephyrErrno(errno);
		snprintf(message, sizeof(message), "send failed: errno %d", errnoValue);
		fail(s, errnoValue, message);
		return 0;
	}
	return 1;
}

/* Takes what has arrived into the receive queue; 0 after reporting a failure. */
static int receive(Socket* s)
{
	while (byteQueueReserve(&s->rx, 1)) {
		size_t room = byteQueueSpace(&s->rx);
		ssize_t got = zsock_recv(s->fd, byteQueueEnd(&s->rx), room, ZSOCK_MSG_DONTWAIT);
		if (got > 0) {
			byteQueueCommit(&s->rx, (size_t)got);
			continue;
		}
		if (got == 0)
			s->peerClosed = 1;
		else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			char message[64];
			int errnoValue = zephyrErrno(errno);
			snprintf(message, sizeof(message), "receive failed: errno %d", errnoValue);
			fail(s, errnoValue, message);
			return 0;
		}
		break;
	}
	return 1;
}

static void deliver(void* machine, void* refcon, uint8_t* message, uint16_t length)
{
	(void)machine;
	(void)message;
	(void)length;
	Socket* s = socketOf(refcon);
	if (!s || !s->js.remembered)
		return;
	uint32_t bits = eventSetTake(&s->events);
	uint32_t state = loadState(s);
	if (state == STATE_FAILED) {
		fail(s, s->failErrno, s->failMessage);
		return;
	}
	if (state != STATE_OPEN)
		return;
	if (bits & EVENT_CONNECTED) {
		updateWanted(s);
		callCount(s, &s->js.onWritable, (xsIntegerValue)byteQueueSpace(&s->tx));
		if (!s->js.remembered)
			return;
	}
	if (bits & EVENT_WRITABLE) {
		size_t before = s->tx.length;
		if (!flush(s))
			return;
		if (before && !s->tx.length) {
			callCount(s, &s->js.onWritable, (xsIntegerValue)byteQueueSpace(&s->tx));
			if (!s->js.remembered)
				return;
		}
	}
	if (bits & (EVENT_READABLE | EVENT_HANGUP)) {
		if (!receive(s))
			return;
		if (s->rx.length) {
			callCount(s, &s->js.onReadable, (xsIntegerValue)s->rx.length);
			if (!s->js.remembered)
				return;
		}
		if (s->peerClosed && !s->rx.length) {
			fail(s, 0, NULL);
			return;
		}
	}
	updateWanted(s);
}

void xs_tcp_destructor(void* data)
{
	Socket* s = socketOf(data);
	if (s)
		release(s);
}

static Socket* getSocket(xsMachine* the)
{
	Socket* s = socketOf(xsmcGetHostData(xsThis));
	if (!s || !s->js.remembered)
		xsUnknownError("socket is closed");
	return s;
}

enum { VAR_VALUE, VAR_ERRNO, VAR_MESSAGE, VAR_COUNT };
#define FACTORY_ARG 4

/* Throws the SocketError made by the constructor's fifth argument, makeError(errno, message). */
static void throwSocketError(xsMachine* the, int errnoValue, const char* message) __attribute__((noreturn));
static void throwSocketError(xsMachine* the, int errnoValue, const char* message)
{
	xsmcSetInteger(xsVar(VAR_ERRNO), errnoValue);
	xsmcSetString(xsVar(VAR_MESSAGE), (char*)message);
	xsResult = xsCallFunction2(xsArg(FACTORY_ARG), xsUndefined, xsVar(VAR_ERRNO), xsVar(VAR_MESSAGE));
	xsThrow(xsResult);
}

static void copyOption(xsMachine* the, const char* name, char* out, size_t size)
{
	if (!xsmcHas(xsArg(0), xsID(name)))
		return;
	xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID(name));
	if (xsmcTypeOf(xsVar(VAR_VALUE)) == xsUndefinedType)
		return;
	if (xsmcTypeOf(xsVar(VAR_VALUE)) != xsStringType)
		xsTypeError("tcp: %s must be a string", name);
	const char* text = xsmcToString(xsVar(VAR_VALUE));
	if (strlen(text) >= size)
		xsRangeError("tcp: %s is longer than %u characters", name, (unsigned)(size - 1));
	strcpy(out, text);
}

/*
 * constructor({ address, port, secTag?, hostname?, verify? },
 *   onReadable, onWritable, onError, makeError)
 */
void xs_tcp_constructor(xsMachine* the)
{
	char host[128] = "";
	char hostname[128] = "";
	xsmcVars(VAR_COUNT);
	if (xsmcArgc < 5 || xsmcTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("tcp: options, three callbacks and an error factory required");
	for (int i = 1; i <= FACTORY_ARG; i++)
		if (!xsmcIsCallable(xsArg(i)))
			xsTypeError("tcp: callbacks must be functions");
	copyOption(the, "address", host, sizeof(host));
	if (!host[0])
		xsTypeError("tcp: host or address required");
	xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("addresses"));
	if (xsmcTypeOf(xsVar(VAR_VALUE)) != xsUndefinedType)
		xsTypeError("tcp: addresses is a simulator option; the modem resolves host itself");
	xsIntegerValue port = portOption(the, &xsArg(0), &xsVar(VAR_VALUE));
	long tag = secTagOption(the, &xsArg(0), &xsVar(VAR_VALUE));
	strcpy(hostname, host);
	copyOption(the, "hostname", hostname, sizeof(hostname));
	int verify = 1;
	xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("verify"));
	if (xsmcTypeOf(xsVar(VAR_VALUE)) != xsUndefinedType)
		verify = xsmcTest(xsVar(VAR_VALUE));

	Socket* s = NULL;
	for (int i = 0; i < MAX_SOCKETS && !s; i++)
		if (moveState(&gSockets[i], STATE_FREE, STATE_CONNECTING))
			s = &gSockets[i];
	if (!s)
		throwSocketError(the, ZEPHYR_ENOMEM, "tcp: all of the modem's sockets are in use");
	uint8_t* buffers = k_malloc(TX_CAPACITY + RX_CAPACITY);
	if (!buffers) {
		__atomic_store_n(&s->state, STATE_FREE, __ATOMIC_RELEASE);
		throwSocketError(the, ZEPHYR_ENOMEM, "tcp: out of memory");
	}
	__atomic_fetch_add(&s->generation, 1, __ATOMIC_ACQ_REL);
	gMachine = the;
	s->fd = -1;
	s->buffers = buffers;
	byteQueueInitFixed(&s->tx, buffers, TX_CAPACITY);
	byteQueueInitFixed(&s->rx, buffers + TX_CAPACITY, RX_CAPACITY);
	eventSetInit(&s->events);
	__atomic_store_n(&s->wanted, 0, __ATOMIC_RELEASE);
	s->peerClosed = 0;
	strcpy(s->host, host);
	strcpy(s->hostname, hostname);
	snprintf(s->port, sizeof(s->port), "%d", (int)port);
	s->secure = tag >= 0;
	s->tag = (sec_tag_t)tag;
	s->verify = verify;
	rememberCallbacks(the, &s->js);
	xsmcSetHostData(xsThis, handleOf(s));
	__atomic_fetch_or(&gConnectRequests, 1u << (s - gSockets), __ATOMIC_ACQ_REL);
	k_sem_give(&gConnectSemaphore);
}

/* read(count?): an ArrayBuffer of received bytes, or undefined */
void xs_tcp_read(xsMachine* the)
{
	Socket* s = getSocket(the);
	if (!s->rx.length)
		return;
	takeReceived(the, &s->rx);
	if (s->peerClosed && !s->rx.length)
		raise(s, EVENT_HANGUP);	/* the close is reported after the app has read everything */
	else
		updateWanted(s);
}

/* write(bytes): the bytes that may still be written */
void xs_tcp_write(xsMachine* the)
{
	Socket* s = getSocket(the);
	if (loadState(s) != STATE_OPEN)
		xsUnknownError("tcp: not connected yet");
	queueWritten(the, &s->tx);
	if (!flush(s))
		return;
	updateWanted(s);
	xsmcSetInteger(xsResult, (xsIntegerValue)byteQueueSpace(&s->tx));
}

/*
 * resumed(): undefined. The modem keeps the session of a handshake and offers
 * it on the next connect to the same host (TLS_SESSION_CACHE, set in
 * setUpTls), but no socket option tells whether the server took it.
 */
void xs_tcp_resumed(xsMachine* the)
{
	(void)the;
}

void xs_tcp_close(xsMachine* the)
{
	Socket* s = socketOf(xsmcGetHostData(xsThis));
	if (!s || !s->js.remembered)
		return;
	release(s);
	forget(s);
	xsmcSetHostData(xsThis, NULL);
}
