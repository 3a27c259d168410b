/*
 * TCP and TLS client socket of the simulator host in the ECMA-419 shape:
 * non-blocking, driven by the host's poll() loop, with onReadable, onWritable
 * and onError callbacks. TLS is mbedTLS 2.28 (Debian's libmbedtls), TLS 1.2
 * only, with the CA, client certificate and private key taken from a security
 * tag of the emulated modem, SNI, and required peer verification, as the
 * nRF9160 modem's TLS sockets do.
 *
 * Failures carry a Zephyr errno with the words the nRF9160's connect path
 * would use, because the nRF Cloud library turns the errno (never the message)
 * into its connect result: name resolution failed or no usable address
 * EHOSTUNREACH; private key missing or unparseable EINVAL; CA or client
 * certificate missing or unparseable, or the server certificate not verified
 * EOPNOTSUPP; connection refused or the TLS handshake failed ECONNREFUSED;
 * ETIMEDOUT; ENOMEM; ECONNRESET or EPIPE once connected; EIO for the rest.
 *
 * A host name may resolve to several addresses: each is tried in turn, as
 * getaddrinfo users do, and the last failure is reported when none connects.
 *
 * TLS sessions are resumed, as the modem's TLS session cache does: the
 * session of the last handshake of each security tag, host name, port and
 * verification mode is kept, in memory and in a file of the state directory
 * (mode 0600; see "kept sessions" below), and offered on the next connect (a
 * session ticket when the server issued one, else the server's session ID).
 * A server that no longer knows it answers with a full handshake. A session
 * is dropped when the tag's credentials change, and after a handshake that
 * offered it failed. `resumed` tells whether the last handshake of a socket
 * was an abbreviated one.
 */

#include "xsmc.h"
#include "sim.h"
#include "../../common/zephyr-errno.h"
#include "../../common/byte-queue.h"
#include "../../common/tls-chunk.h"
#include "../../common/sha256.h"
#include "../socket-xs.h"
#ifndef SIM_NO_TLS
#include "../../modem/posix/modem.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* SIM_NO_TLS: plain TCP only, for builds without mbedTLS (the 32-bit memory-measurement host). */
#ifndef SIM_NO_TLS
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#endif

#define TX_CAPACITY 16384
#define RX_LIMIT 65536
#define READ_CHUNK 4096
/* Addresses of one host name that are tried; more are ignored. */
#define MAX_ADDRESSES 16

enum { STATE_CONNECTING, STATE_HANDSHAKE, STATE_OPEN, STATE_CLOSED };

typedef struct {
	xsMachine* the;
	SocketCallbacks js;
	int fd;
	SimWatch* watch;
	int state;
	int secure;
	int peerClosed;
	int reported;	/* onError was called; nothing follows */
	int readPaused;
	int ioError;	/* Linux errno of the last failed send or receive under TLS */
	int resumed;	/* the handshake, now over, resumed a kept session */
	int offered;	/* a kept session was offered in the handshake */
	int abbreviated;	/* the server's answer to the offer: an abbreviated handshake follows */
	/* Connecting: the candidate addresses, the next to try, and why the last one failed. */
	struct sockaddr_storage addresses[MAX_ADDRESSES];
	socklen_t addressLengths[MAX_ADDRESSES];
	int addressCount;
	int nextAddress;
	int lastErrno;
	char lastError[200];
#ifndef SIM_NO_TLS
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config config;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt certificate;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	/* What the kept session is looked up by. */
	long tag;
	int port;
	int verify;
	char hostname[256];
	uint8_t credentials[32];	/* SHA-256 of the tag's CA, certificate and key */
#endif
	ByteQueue rx;	/* grows up to RX_LIMIT */
	ByteQueue tx;	/* over txStorage */
	uint8_t txStorage[TX_CAPACITY];
} Socket;

static void socketEvent(void* refcon, int fd, short revents);

static void releaseResources(Socket* s)
{
	if (s->watch) {
		simWatchRemove(s->watch);
		s->watch = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
#ifndef SIM_NO_TLS
	if (s->secure) {
		mbedtls_ssl_free(&s->ssl);
		mbedtls_ssl_config_free(&s->config);
		mbedtls_x509_crt_free(&s->ca);
		mbedtls_x509_crt_free(&s->certificate);
		mbedtls_pk_free(&s->key);
		mbedtls_ctr_drbg_free(&s->drbg);
		mbedtls_entropy_free(&s->entropy);
		s->secure = 0;
	}
#endif
	byteQueueFree(&s->rx);
	byteQueueFree(&s->tx);
	s->state = STATE_CLOSED;
}

static void forget(Socket* s)
{
	forgetCallbacks(s->the, &s->js);
}

void xs_tcp_destructor(void* data)
{
	Socket* s = data;
	if (!s)
		return;
	releaseResources(s);
	free(s);
}

/* Calls a JavaScript callback with `this` = the socket; an exception ends the run as uncaught. */
/* Calls onReadable or onWritable with a count, with `this` = the socket; an exception ends the run as uncaught. */
static void callBack(Socket* s, xsSlot* callback, xsIntegerValue count)
{
	xsMachine* the = s->the;
	xsBeginHost(the);
	{
		xsTry {
			xsmcVars(1);
			xsmcSetInteger(xsVar(0), count);
			xsCallFunction1(*callback, s->js.self, xsVar(0));
		}
		xsCatch {
			simUncaughtException(the, "socket callback");
		}
	}
	xsEndHost(the);
}

/* Calls onError(errno, message), or onError() for a close by the peer (errno 0). */
static void callError(Socket* s, int errnoValue, const char* message)
{
	xsMachine* the = s->the;
	xsBeginHost(the);
	{
		xsTry {
			if (errnoValue) {
				xsmcVars(2);
				xsmcSetInteger(xsVar(0), errnoValue);
				xsmcSetString(xsVar(1), (char*)message);
				xsCallFunction2(s->js.onError, s->js.self, xsVar(0), xsVar(1));
			}
			else
				xsCallFunction0(s->js.onError, s->js.self);
		}
		xsCatch {
			simUncaughtException(the, "socket callback");
		}
	}
	xsEndHost(the);
}

/* Reports the end of the connection once: with an errno and a message for an error, without for a peer close. */
static void fail(Socket* s, int errnoValue, const char* message)
{
	if (s->reported || s->state == STATE_CLOSED)
		return;
	s->reported = 1;
	releaseResources(s);
	callError(s, errnoValue, message);
	forget(s);
}

/* fail() for a system call's Linux errno, with "what: reason" as the message. */
static void failSystem(Socket* s, const char* what, int linuxErrno)
{
	char message[200];
	snprintf(message, sizeof(message), "%s: %s", what, strerror(linuxErrno));
	fail(s, zephyrErrno(linuxErrno), message);
}

#ifndef SIM_NO_TLS
static int isAllocationFailure(int code)
{
	return code == MBEDTLS_ERR_SSL_ALLOC_FAILED || code == MBEDTLS_ERR_X509_ALLOC_FAILED || code == MBEDTLS_ERR_PK_ALLOC_FAILED;
}

/* The errno of an mbedTLS failure on an open socket or during the handshake. */
static int tlsErrno(Socket* s, int code)
{
	if (isAllocationFailure(code))
		return ZEPHYR_ENOMEM;
	if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
		return ZEPHYR_EOPNOTSUPP;	/* the server's certificate: not from the tag's CA, or for another name */
	if (s->state == STATE_HANDSHAKE)
		return ZEPHYR_ECONNREFUSED;	/* an alert, a close or a reset before the session was up */
	if (code == MBEDTLS_ERR_NET_SEND_FAILED || code == MBEDTLS_ERR_NET_RECV_FAILED)
		return zephyrErrno(s->ioError);
	return ZEPHYR_EIO;
}

static void failTls(Socket* s, const char* what, int code)
{
	char detail[200];
	char message[400];
	mbedtls_strerror(code, detail, sizeof(detail));
	if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && s->secure) {
		char verify[200];
		uint32_t flags = mbedtls_ssl_get_verify_result(&s->ssl);
		mbedtls_x509_crt_verify_info(verify, sizeof(verify), "", flags);
		size_t n = strlen(verify);
		while (n > 0 && verify[n - 1] == '\n')
			verify[--n] = 0;
		/* A message cut short is still a message: the errno is what callers compare. */
		if (snprintf(message, sizeof(message), "%s: %s (%s)", what, detail, verify) >= (int)sizeof(message))
			message[sizeof(message) - 1] = 0;
	}
	else if (snprintf(message, sizeof(message), "%s: %s", what, detail) >= (int)sizeof(message))
		message[sizeof(message) - 1] = 0;
	fail(s, tlsErrno(s, code), message);
}

static int tlsSend(void* context, const unsigned char* data, size_t length)
{
	Socket* s = context;
	ssize_t count = send(s->fd, data, length, MSG_NOSIGNAL);
	if (count >= 0)
		return (int)count;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	s->ioError = errno;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int tlsReceive(void* context, unsigned char* data, size_t length)
{
	Socket* s = context;
	ssize_t count = recv(s->fd, data, length, 0);
	if (count > 0)
		return (int)count;
	if (count == 0)
		return MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;	/* TCP closed: treated like close_notify */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	s->ioError = errno;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---- kept sessions ---- */

/* Security tags times servers a device talks to with TLS: few (nRF Cloud's MQTT and HTTP hosts). */
#define KEPT_SESSIONS 8

typedef struct {
	int used;
	unsigned long lastUse;
	long tag;
	int port;
	int verify;
	char hostname[256];
	uint8_t credentials[32];
	mbedtls_ssl_session session;
} KeptSession;

static KeptSession gKept[KEPT_SESSIONS];
static unsigned long gKeptClock;

/*
 * A kept session also goes to <state>/tls-sessions/, so that it survives a
 * restart of the host (a reboot of the device). It is secret (it holds the
 * session's master secret): the directory is made 0700 and each file 0600.
 * A file is: "NCTS1", the 32-byte credentials digest, the host name's length
 * (one byte) and the host name, then mbedtls_ssl_session_save's bytes. A file
 * that does not load (damaged, another mbedTLS build, other credentials) is
 * deleted, and the handshake is a full one.
 */
#define SESSION_MAGIC "NCTS1"
#define SESSION_MAGIC_LENGTH 5
#define SESSION_FILE_LIMIT 16384

/* <state>/tls-sessions/<tag>-<port>-<verify>-<the host name's SHA-256, first 8 bytes in hex>; 0 without a state directory. */
static int sessionPath(const Socket* s, char* out, size_t size)
{
	uint8_t digest[32];
	char relative[112];
	sha256(s->hostname, strlen(s->hostname), digest);
	int n = snprintf(relative, sizeof(relative), "tls-sessions/%ld-%d-%d-", s->tag, s->port, s->verify);
	for (int i = 0; i < 8; i++)
		n += snprintf(relative + n, sizeof(relative) - n, "%02x", digest[i]);
	return modemStatePath(out, size, relative);
}

static void deleteSessionFile(const Socket* s)
{
	char path[1024];
	if (sessionPath(s, path, sizeof(path)))
		unlink(path);
}

static void saveSessionFile(const Socket* s, const mbedtls_ssl_session* session)
{
	char path[1024];
	char temporary[1100];
	char directory[1024];
	size_t needed = 0;
	size_t hostLength = strlen(s->hostname);
	if (hostLength > 255 || !sessionPath(s, path, sizeof(path)) || !modemStatePath(directory, sizeof(directory), "tls-sessions"))
		return;
	if (mbedtls_ssl_session_save(session, NULL, 0, &needed) != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL || needed > SESSION_FILE_LIMIT)
		return;
	size_t header = SESSION_MAGIC_LENGTH + 32 + 1 + hostLength;
	uint8_t* data = malloc(header + needed);
	if (!data)
		return;
	memcpy(data, SESSION_MAGIC, SESSION_MAGIC_LENGTH);
	memcpy(data + SESSION_MAGIC_LENGTH, s->credentials, 32);
	data[SESSION_MAGIC_LENGTH + 32] = (uint8_t)hostLength;
	memcpy(data + SESSION_MAGIC_LENGTH + 33, s->hostname, hostLength);
	int ok = mbedtls_ssl_session_save(session, data + header, needed, &needed) == 0;
	if (ok && modemEnsureStateDirectory() && (mkdir(directory, 0700) == 0 || errno == EEXIST)) {
		snprintf(temporary, sizeof(temporary), "%s.tmp", path);
		int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ok = fchmod(fd, 0600) == 0 && write(fd, data, header + needed) == (ssize_t)(header + needed);
			ok = close(fd) == 0 && ok;
			if (!ok || rename(temporary, path) != 0)
				unlink(temporary);
		}
	}
	mbedtls_platform_zeroize(data, header + needed);
	free(data);
}

/* The session in the socket's file, when it is one of the socket's credentials and host name and loads. */
static int loadSessionFile(const Socket* s, mbedtls_ssl_session* session)
{
	char path[1024];
	if (!sessionPath(s, path, sizeof(path)))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uint8_t* data = malloc(SESSION_FILE_LIMIT + 512);
	ssize_t length = data ? read(fd, data, SESSION_FILE_LIMIT + 512) : -1;
	close(fd);
	size_t hostLength = strlen(s->hostname);
	size_t header = SESSION_MAGIC_LENGTH + 33 + hostLength;
	int ok = length > (ssize_t)header
		&& !memcmp(data, SESSION_MAGIC, SESSION_MAGIC_LENGTH)
		&& !memcmp(data + SESSION_MAGIC_LENGTH, s->credentials, 32)
		&& data[SESSION_MAGIC_LENGTH + 32] == hostLength
		&& !memcmp(data + SESSION_MAGIC_LENGTH + 33, s->hostname, hostLength)
		&& mbedtls_ssl_session_load(session, data + header, (size_t)length - header) == 0;
	if (data) {
		if (length > 0)
			mbedtls_platform_zeroize(data, (size_t)length);
		free(data);
	}
	if (!ok) {
		mbedtls_ssl_session_free(session);
		mbedtls_ssl_session_init(session);
		unlink(path);
	}
	return ok;
}

/* A free slot, or the least recently used one emptied. */
static KeptSession* freeSlot(void)
{
	KeptSession* k = &gKept[0];
	for (int i = 0; i < KEPT_SESSIONS; i++) {
		if (!gKept[i].used) {
			k = &gKept[i];
			break;
		}
		if (gKept[i].lastUse < k->lastUse)
			k = &gKept[i];
	}
	if (k->used)
		mbedtls_ssl_session_free(&k->session);
	k->used = 0;
	mbedtls_ssl_session_init(&k->session);
	return k;
}

static void fillSlot(KeptSession* k, const Socket* s)
{
	k->used = 1;
	k->lastUse = ++gKeptClock;
	k->tag = s->tag;
	k->port = s->port;
	k->verify = s->verify;
	snprintf(k->hostname, sizeof(k->hostname), "%s", s->hostname);
	memcpy(k->credentials, s->credentials, sizeof(k->credentials));
}

/*
 * The kept session of the socket's tag, host name, port and verification mode, made
 * with its current credentials: in memory, else from its file.
 */
static KeptSession* keptSession(const Socket* s)
{
	for (int i = 0; i < KEPT_SESSIONS; i++) {
		KeptSession* k = &gKept[i];
		if (k->used && k->tag == s->tag && k->port == s->port && k->verify == s->verify && !strcmp(k->hostname, s->hostname)) {
			if (!memcmp(k->credentials, s->credentials, sizeof(k->credentials)))
				return k;
			/* The tag was written since: a session of other credentials is never offered. */
			mbedtls_ssl_session_free(&k->session);
			k->used = 0;
		}
	}
	mbedtls_ssl_session loaded;
	mbedtls_ssl_session_init(&loaded);
	if (!loadSessionFile(s, &loaded))
		return NULL;
	KeptSession* k = freeSlot();
	k->session = loaded;	/* the slot owns what the loaded session points to */
	fillSlot(k, s);
	return k;
}

static void forgetSession(const Socket* s)
{
	KeptSession* k = keptSession(s);
	if (k) {
		mbedtls_ssl_session_free(&k->session);
		k->used = 0;
	}
	deleteSessionFile(s);
}

/* After a successful handshake: keeps its session, in memory and in its file. */
static void keepSession(const Socket* s)
{
	KeptSession* k = keptSession(s);
	if (k) {
		mbedtls_ssl_session_free(&k->session);
		k->used = 0;
		mbedtls_ssl_session_init(&k->session);
	}
	else
		k = freeSlot();
	if (mbedtls_ssl_get_session(&s->ssl, &k->session) != 0) {
		mbedtls_ssl_session_free(&k->session);
		deleteSessionFile(s);
		return;	/* no session to keep: the next handshake is a full one */
	}
	fillSlot(k, s);
	saveSessionFile(s, &k->session);
}

/* Offers the kept session in the coming handshake; one that mbedTLS does not take is dropped, never fatal. */
static void offerSession(Socket* s)
{
	KeptSession* k = keptSession(s);
	if (!k)
		return;
	if (mbedtls_ssl_set_session(&s->ssl, &k->session) != 0) {
		forgetSession(s);
		return;
	}
	k->lastUse = ++gKeptClock;
	s->offered = 1;
}

#endif

static void updateWatch(Socket* s, short events)
{
	simWatchSetEvents(s->watch, events);
}

static short readEvents(Socket* s)
{
	return s->readPaused ? 0 : POLLIN;
}

/* One piece of at most one modem TLS record, as the nRF9160 sends them (native/common/tls-chunk.h). */
static int sendPiece(void* context, const uint8_t* bytes, size_t length)
{
	Socket* s = context;
#ifndef SIM_NO_TLS
	if (s->secure) {
		int count = mbedtls_ssl_write(&s->ssl, bytes, length);
		if (count == MBEDTLS_ERR_SSL_WANT_WRITE || count == MBEDTLS_ERR_SSL_WANT_READ)
			return TLS_CHUNK_WOULD_BLOCK;
		if (count < 0) {
			failTls(s, "TLS write failed", count);
			return TLS_CHUNK_FAILED;
		}
		return count;
	}
#endif
	ssize_t sent = send(s->fd, bytes, length, MSG_NOSIGNAL);
	if (sent < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return TLS_CHUNK_WOULD_BLOCK;
		failSystem(s, "send failed", errno);
		return TLS_CHUNK_FAILED;
	}
	return (int)sent;
}

/* Sends what it can of the transmit queue; returns 0 after a fatal error. */
static int flush(Socket* s)
{
	if (!tlsChunkFlush(&s->tx, TLS_CHUNK_LIMIT, sendPiece, s))
		return 0;
	updateWatch(s, readEvents(s) | (s->tx.length ? POLLOUT : 0));
	return 1;
}

/* Reads what is available into the receive buffer, up to RX_LIMIT; returns 0 after a fatal error. */
static int receive(Socket* s)
{
	while (byteQueueSpace(&s->rx) > 0) {
		size_t room = byteQueueSpace(&s->rx) < READ_CHUNK ? byteQueueSpace(&s->rx) : READ_CHUNK;
		if (!byteQueueReserve(&s->rx, room)) {
			fail(s, ZEPHYR_ENOMEM, "out of memory for received bytes");
			return 0;
		}
		int count;
#ifndef SIM_NO_TLS
		if (s->secure) {
			count = mbedtls_ssl_read(&s->ssl, byteQueueEnd(&s->rx), room);
			if (count == MBEDTLS_ERR_SSL_WANT_READ || count == MBEDTLS_ERR_SSL_WANT_WRITE)
				return 1;
			if (count == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || count == 0) {
				s->peerClosed = 1;
				return 1;
			}
			if (count < 0) {
				failTls(s, "TLS read failed", count);
				return 0;
			}
		}
		else
#endif
		{
			ssize_t got = recv(s->fd, byteQueueEnd(&s->rx), room, 0);
			if (got < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					return 1;
				failSystem(s, "receive failed", errno);
				return 0;
			}
			if (got == 0) {
				s->peerClosed = 1;
				return 1;
			}
			count = (int)got;
		}
		byteQueueCommit(&s->rx, (size_t)count);
	}
	s->readPaused = 1;	/* the app reads before more is taken in */
	return 1;
}

static void becomeOpen(Socket* s)
{
	s->state = STATE_OPEN;
	updateWatch(s, POLLIN);
	callBack(s, &s->js.onWritable, TX_CAPACITY);
}

#ifndef SIM_NO_TLS
/*
 * Steps the handshake as far as the socket allows. Stepping (what
 * mbedtls_ssl_handshake does in a loop) shows where the ServerHello leads: to
 * the server's ChangeCipherSpec when the server resumed the offered session,
 * to its Certificate for a full handshake.
 */
static void handshake(Socket* s)
{
	int result = 0;
	while (s->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
		int before = s->ssl.state;
		result = mbedtls_ssl_handshake_step(&s->ssl);
		if (before == MBEDTLS_SSL_SERVER_HELLO && s->ssl.state != before)
			s->abbreviated = s->offered && s->ssl.state == MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC;
		if (result != 0)
			break;
	}
	if (result == 0) {
		s->resumed = s->abbreviated;
		keepSession(s);
		becomeOpen(s);
		return;
	}
	if (result == MBEDTLS_ERR_SSL_WANT_READ)
		updateWatch(s, POLLIN);
	else if (result == MBEDTLS_ERR_SSL_WANT_WRITE)
		updateWatch(s, POLLOUT);
	else {
		/* A session that ended in a failed handshake is not offered again: the next connect is a full handshake. */
		if (s->offered)
			forgetSession(s);
		failTls(s, "TLS handshake failed", result);
	}
}

/* Why TLS could not be set up: an errno and a message. */
typedef struct {
	int errnoValue;
	char message[300];
} SetupError;

static int setupFailed(SetupError* error, int errnoValue, const char* format, ...) __attribute__((format(printf, 3, 4)));
static int setupFailed(SetupError* error, int errnoValue, const char* format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(error->message, sizeof(error->message), format, arguments);
	va_end(arguments);
	error->errnoValue = errnoValue;
	return 0;
}

/* EOPNOTSUPP for a certificate that does not parse, ENOMEM when parsing ran out of memory. */
static int certificateErrno(int code)
{
	return isAllocationFailure(code) ? ZEPHYR_ENOMEM : ZEPHYR_EOPNOTSUPP;
}

static int setUpTls(Socket* s, long tag, const char* hostname, int port, int verify, SetupError* error)
{
	size_t length;
	char* pem;
	int result;
	mbedtls_ssl_init(&s->ssl);
	mbedtls_ssl_config_init(&s->config);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_x509_crt_init(&s->certificate);
	mbedtls_pk_init(&s->key);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	s->secure = 1;
	const char* problem = modemStateProblem();
	if (problem)
		return setupFailed(error, ZEPHYR_ENOENT, "security tag %ld: %s", tag, problem);
	Sha256 digest;
	sha256Init(&digest);
	const char* personal = "nrfcloud-sim-tls";
	if ((result = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy, (const unsigned char*)personal, strlen(personal))))
		return setupFailed(error, ZEPHYR_EIO, "TLS random generator failed (-0x%04x)", -result);
	pem = modemReadCredential(tag, 0, &length);
	if (pem) {
		sha256Update(&digest, pem, length + 1);
		result = mbedtls_x509_crt_parse(&s->ca, (const unsigned char*)pem, length + 1);
		free(pem);
		if (result)
			return setupFailed(error, certificateErrno(result), "security tag %ld: the CA certificate does not parse (-0x%04x)", tag, -result);
	}
	else if (verify)
		return setupFailed(error, ZEPHYR_EOPNOTSUPP, "security tag %ld has no CA certificate to verify the server with", tag);
	char* certificate = modemReadCredential(tag, 1, &length);
	if (certificate) {
		sha256Update(&digest, certificate, length + 1);
		result = mbedtls_x509_crt_parse(&s->certificate, (const unsigned char*)certificate, length + 1);
		free(certificate);
		if (result)
			return setupFailed(error, certificateErrno(result), "security tag %ld: the client certificate does not parse (-0x%04x)", tag, -result);
		pem = modemReadCredential(tag, 2, &length);
		if (!pem)
			return setupFailed(error, ZEPHYR_EINVAL, "security tag %ld has a client certificate but no private key", tag);
		sha256Update(&digest, pem, length + 1);
		result = mbedtls_pk_parse_key(&s->key, (const unsigned char*)pem, length + 1, NULL, 0);
		free(pem);
		if (result)
			return setupFailed(error, isAllocationFailure(result) ? ZEPHYR_ENOMEM : ZEPHYR_EINVAL, "security tag %ld: the private key does not parse (-0x%04x)", tag, -result);
	}
	if ((result = mbedtls_ssl_config_defaults(&s->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)))
		return setupFailed(error, isAllocationFailure(result) ? ZEPHYR_ENOMEM : ZEPHYR_EIO, "TLS configuration failed (-0x%04x)", -result);
	mbedtls_ssl_conf_min_version(&s->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&s->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_authmode(&s->config, verify ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_ca_chain(&s->config, &s->ca, NULL);
	mbedtls_ssl_conf_rng(&s->config, mbedtls_ctr_drbg_random, &s->drbg);
	if (s->certificate.version && (result = mbedtls_ssl_conf_own_cert(&s->config, &s->certificate, &s->key)))
		return setupFailed(error, certificateErrno(result), "TLS client certificate rejected (-0x%04x)", -result);
	if ((result = mbedtls_ssl_setup(&s->ssl, &s->config)))
		return setupFailed(error, isAllocationFailure(result) ? ZEPHYR_ENOMEM : ZEPHYR_EIO, "TLS setup failed (-0x%04x)", -result);
	if ((result = mbedtls_ssl_set_hostname(&s->ssl, hostname)))
		return setupFailed(error, isAllocationFailure(result) ? ZEPHYR_ENOMEM : ZEPHYR_EIO, "TLS host name failed (-0x%04x)", -result);
	mbedtls_ssl_set_bio(&s->ssl, s, tlsSend, tlsReceive, NULL);
	sha256Final(&digest, s->credentials);
	s->tag = tag;
	s->port = port;
	s->verify = verify;
	snprintf(s->hostname, sizeof(s->hostname), "%s", hostname);
	offerSession(s);
	return 1;
}

#endif

/* "[::1]:8883" or "127.0.0.1:8883" for messages. */
static void describeAddress(const struct sockaddr_storage* address, char* out, size_t size)
{
	char text[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (address->ss_family == AF_INET6) {
		const struct sockaddr_in6* v6 = (const struct sockaddr_in6*)address;
		inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
		port = ntohs(v6->sin6_port);
		snprintf(out, size, "[%s]:%d", text, port);
	}
	else {
		const struct sockaddr_in* v4 = (const struct sockaddr_in*)address;
		inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
		port = ntohs(v4->sin_port);
		snprintf(out, size, "%s:%d", text, port);
	}
}

/* Remembers why the current candidate failed; reported if no later one connects. */
static void candidateFailed(Socket* s, int index, const char* what, int linuxErrno)
{
	char address[INET6_ADDRSTRLEN + 16];
	describeAddress(&s->addresses[index], address, sizeof(address));
	s->lastErrno = zephyrErrno(linuxErrno);
	snprintf(s->lastError, sizeof(s->lastError), "%s %s: %s", what, address, strerror(linuxErrno));
}

/*
 * Starts a non-blocking connect to the next candidate address that does not
 * fail at once. Returns 1 with s->fd connecting, or 0 when no candidate is
 * left (s->lastErrno and s->lastError say why the last one failed).
 */
static int connectNext(Socket* s)
{
	while (s->nextAddress < s->addressCount) {
		int index = s->nextAddress++;
		const struct sockaddr* address = (const struct sockaddr*)&s->addresses[index];
		int fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			candidateFailed(s, index, "socket for", errno);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, address, s->addressLengths[index]) == 0 || errno == EINPROGRESS) {
			s->fd = fd;
			return 1;
		}
		candidateFailed(s, index, "connect to", errno);
		close(fd);
	}
	return 0;
}

/* The TCP connect to the current candidate ended: go on with TLS, or with the next candidate. */
static void connected(Socket* s)
{
	int problem = 0;
	socklen_t size = sizeof(problem);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &problem, &size) != 0)
		problem = errno;
	if (problem) {
		candidateFailed(s, s->nextAddress - 1, "connect to", problem);
		simWatchRemove(s->watch);
		s->watch = NULL;
		close(s->fd);
		s->fd = -1;
		if (!connectNext(s)) {
			fail(s, s->lastErrno, s->lastError);
			return;
		}
		s->watch = simWatchAdd(s->fd, POLLOUT, socketEvent, s);
		if (!s->watch)
			fail(s, ZEPHYR_ENOMEM, "tcp: out of memory");
		return;
	}
#ifndef SIM_NO_TLS
	if (s->secure) {
		s->state = STATE_HANDSHAKE;
		handshake(s);
		return;
	}
#endif
	becomeOpen(s);
}

static void socketEvent(void* refcon, int fd, short revents)
{
	Socket* s = refcon;
	if (s->state == STATE_CLOSED)
		return;
	if (s->state == STATE_CONNECTING) {
		connected(s);
		return;
	}
#ifndef SIM_NO_TLS
	if (s->state == STATE_HANDSHAKE) {
		handshake(s);
		return;
	}
#endif
	if (revents & POLLOUT) {
		int hadPending = s->tx.length > 0;
		if (!flush(s))
			return;
		if (hadPending && s->tx.length == 0) {
			callBack(s, &s->js.onWritable, TX_CAPACITY);
			if (s->state == STATE_CLOSED)
				return;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (!receive(s))
			return;
		if (s->readPaused)
			updateWatch(s, s->tx.length ? POLLOUT : 0);
		if (s->rx.length > 0) {
			callBack(s, &s->js.onReadable, (xsIntegerValue)s->rx.length);
			if (s->state == STATE_CLOSED)
				return;
		}
		if (s->peerClosed && s->rx.length == 0)
			fail(s, 0, NULL);
	}
}

static Socket* getSocket(xsMachine* the, int mustBeOpen)
{
	Socket* s = xsmcGetHostData(xsThis);
	if (!s || (mustBeOpen && s->state == STATE_CLOSED))
		xsUnknownError("socket is closed");
	return s;
}

/* Vars of the constructor. */
enum { VAR_VALUE, VAR_ENTRY, VAR_ERRNO, VAR_MESSAGE, VAR_COUNT };
#define FACTORY_ARG 4

/*
 * Throws the SocketError made by makeError(errno, message), the constructor's
 * fifth argument, after releasing what the socket holds.
 */
static void throwSocketError(xsMachine* the, Socket* s, int errnoValue, const char* format, ...) __attribute__((noreturn, format(printf, 4, 5)));
static void throwSocketError(xsMachine* the, Socket* s, int errnoValue, const char* format, ...)
{
	char message[400];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	if (s)
		releaseResources(s);
	xsmcSetInteger(xsVar(VAR_ERRNO), errnoValue);
	xsmcSetString(xsVar(VAR_MESSAGE), message);
	xsResult = xsCallFunction2(xsArg(FACTORY_ARG), xsUndefined, xsVar(VAR_ERRNO), xsVar(VAR_MESSAGE));
	xsThrow(xsResult);
}

/* Adds a resolved address to the candidates; returns 0 when the list is full. */
static int addCandidate(Socket* s, const struct addrinfo* entry)
{
	if (s->addressCount >= MAX_ADDRESSES || entry->ai_addrlen > sizeof(struct sockaddr_storage))
		return 0;
	memcpy(&s->addresses[s->addressCount], entry->ai_addr, entry->ai_addrlen);
	s->addressLengths[s->addressCount] = entry->ai_addrlen;
	s->addressCount++;
	return 1;
}

/* The candidates: every address of `host` in getaddrinfo's order. */
static void resolve(xsMachine* the, Socket* s, const char* host, const char* port)
{
	struct addrinfo hints = { 0 };
	struct addrinfo* addresses = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int resolved = getaddrinfo(host, port, &hints, &addresses);
	if (resolved != 0 || !addresses) {
		if (addresses)
			freeaddrinfo(addresses);
		throwSocketError(the, s, resolved == EAI_MEMORY ? ZEPHYR_ENOMEM : ZEPHYR_EHOSTUNREACH, "tcp: cannot resolve %s: %s", host, gai_strerror(resolved));
	}
	for (const struct addrinfo* entry = addresses; entry && addCandidate(s, entry); entry = entry->ai_next)
		;
	freeaddrinfo(addresses);
	if (!s->addressCount)
		throwSocketError(the, s, ZEPHYR_EHOSTUNREACH, "tcp: %s has no usable address", host);
}

/*
 * The candidates from `addresses`, numeric addresses in the order given: the
 * simulator's way to test the loop over several addresses without a resolver
 * that returns several, which the test machines' /etc/hosts do not have.
 */
static void numericCandidates(xsMachine* the, Socket* s, xsSlot* list, const char* port)
{
	if (xsmcTypeOf(*list) != xsReferenceType || !xsmcIsInstanceOf(*list, xsArrayPrototype))
		xsTypeError("tcp: addresses must be an array of numeric addresses");
	xsmcGet(xsVar(VAR_ENTRY), *list, xsID("length"));
	xsIntegerValue count = xsmcToInteger(xsVar(VAR_ENTRY));
	if (count < 1 || count > MAX_ADDRESSES)
		xsRangeError("tcp: addresses must hold 1 to %d numeric addresses", MAX_ADDRESSES);
	for (xsIntegerValue i = 0; i < count; i++) {
		char text[INET6_ADDRSTRLEN + 1];
		xsmcGetIndex(xsVar(VAR_ENTRY), *list, i);
		if (xsmcTypeOf(xsVar(VAR_ENTRY)) != xsStringType)
			xsTypeError("tcp: addresses[%d] must be a string", (int)i);
		xsmcToStringBuffer(xsVar(VAR_ENTRY), text, sizeof(text));
		struct addrinfo hints = { 0 };
		struct addrinfo* address = NULL;
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(text, port, &hints, &address) != 0 || !address) {
			if (address)
				freeaddrinfo(address);
			xsRangeError("tcp: addresses[%d] \"%s\" is not a numeric IPv4 or IPv6 address", (int)i, text);
		}
		addCandidate(s, address);
		freeaddrinfo(address);
	}
}

/*
 * constructor({ host | address, addresses?, port, secTag?, hostname?, verify? },
 *   onReadable, onWritable, onError, makeError)
 */
void xs_tcp_constructor(xsMachine* the)
{
	char host[256];
	char port[16];
	char hostname[256];
	xsmcVars(VAR_COUNT);
	if (xsmcArgc < 5 || xsmcTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("tcp: options, three callbacks and an error factory required");
	for (int i = 1; i <= FACTORY_ARG; i++)
		if (!xsmcIsCallable(xsArg(i)))
			xsTypeError("tcp: callbacks must be functions");
	host[0] = 0;
	if (xsmcHas(xsArg(0), xsID("address"))) {
		xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("address"));
		xsmcToStringBuffer(xsVar(VAR_VALUE), host, sizeof(host));
	}
	else if (xsmcHas(xsArg(0), xsID("host"))) {
		xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("host"));
		xsmcToStringBuffer(xsVar(VAR_VALUE), host, sizeof(host));
	}
	if (!host[0])
		xsTypeError("tcp: host or address required");
	xsIntegerValue portNumber = portOption(the, &xsArg(0), &xsVar(VAR_VALUE));
	snprintf(port, sizeof(port), "%d", (int)portNumber);
	long tag = secTagOption(the, &xsArg(0), &xsVar(VAR_VALUE));
	int verify = 1;
	snprintf(hostname, sizeof(hostname), "%s", host);
	if (xsmcHas(xsArg(0), xsID("hostname"))) {
		xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("hostname"));
		if (xsmcTypeOf(xsVar(VAR_VALUE)) != xsUndefinedType)
			xsmcToStringBuffer(xsVar(VAR_VALUE), hostname, sizeof(hostname));
	}
	if (xsmcHas(xsArg(0), xsID("verify"))) {
		xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("verify"));
		if (xsmcTypeOf(xsVar(VAR_VALUE)) != xsUndefinedType)
			verify = xsmcTest(xsVar(VAR_VALUE));
	}
	xsmcGet(xsVar(VAR_VALUE), xsArg(0), xsID("addresses"));
	int numeric = xsmcTypeOf(xsVar(VAR_VALUE)) != xsUndefinedType;

	Socket* s = calloc(1, sizeof(Socket));
	if (!s)
		throwSocketError(the, NULL, ZEPHYR_ENOMEM, "tcp: out of memory");
	s->the = the;
	s->fd = -1;
	byteQueueInit(&s->rx, RX_LIMIT);
	byteQueueInitFixed(&s->tx, s->txStorage, TX_CAPACITY);
	s->state = STATE_CONNECTING;
	xsmcSetHostData(xsThis, s);
	if (numeric)
		numericCandidates(the, s, &xsVar(VAR_VALUE), port);
#ifndef SIM_NO_TLS
	SetupError error;
	if (tag >= 0 && !setUpTls(s, tag, hostname, (int)portNumber, verify, &error))
		throwSocketError(the, s, error.errnoValue, "%s", error.message);
#else
	if (tag >= 0)
		throwSocketError(the, s, ZEPHYR_EOPNOTSUPP, "tcp: this host was built without TLS");
	(void)verify;
#endif
	if (!numeric)
		resolve(the, s, host, port);
	if (!connectNext(s))
		throwSocketError(the, s, s->lastErrno, "tcp: %s", s->lastError);
	s->watch = simWatchAdd(s->fd, POLLOUT, socketEvent, s);
	if (!s->watch)
		throwSocketError(the, s, ZEPHYR_ENOMEM, "tcp: out of memory");
	rememberCallbacks(the, &s->js);
}

/* read(count?): an ArrayBuffer of received bytes, or undefined */
void xs_tcp_read(xsMachine* the)
{
	Socket* s = getSocket(the, 0);
	if (s->rx.length == 0)
		return;
	takeReceived(the, &s->rx);
	if (s->readPaused && s->rx.length < RX_LIMIT / 2 && s->state == STATE_OPEN) {
		s->readPaused = 0;
		updateWatch(s, POLLIN | (s->tx.length ? POLLOUT : 0));
	}
	if (s->peerClosed && s->rx.length == 0 && s->state == STATE_OPEN) {
		/* the close is reported from the loop, after the app has read everything */
		updateWatch(s, POLLIN);
	}
}

/* write(bytes): the bytes that may still be written */
void xs_tcp_write(xsMachine* the)
{
	Socket* s = getSocket(the, 1);
	if (s->state != STATE_OPEN)
		xsUnknownError("tcp: not connected yet");
	queueWritten(the, &s->tx);
	if (!flush(s))
		return;
	xsmcSetInteger(xsResult, (xsIntegerValue)byteQueueSpace(&s->tx));
}

/* resumed(): whether the TLS handshake resumed a kept session; false before it ended and for plain TCP. */
void xs_tcp_resumed(xsMachine* the)
{
	Socket* s = getSocket(the, 0);
	xsmcSetBoolean(xsResult, s->resumed);
}

void xs_tcp_close(xsMachine* the)
{
	Socket* s = xsmcGetHostData(xsThis);
	if (!s || s->state == STATE_CLOSED) {
		if (s)
			forget(s);
		return;
	}
#ifndef SIM_NO_TLS
	if (s->secure && s->state == STATE_OPEN)
		mbedtls_ssl_close_notify(&s->ssl);
#endif
	s->reported = 1;
	releaseResources(s);
	forget(s);
}
