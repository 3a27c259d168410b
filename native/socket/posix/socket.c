/*
 * TCP and TLS client socket of the simulator host in the ECMA-419 shape:
 * non-blocking, driven by the host's poll() loop, with onReadable, onWritable
 * and onError callbacks. TLS is mbedTLS 2.28 (Debian's libmbedtls), TLS 1.2
 * only, with the CA, client certificate and private key taken from a security
 * tag of the emulated modem, SNI, and required peer verification, as the
 * nRF9160 modem's TLS sockets do.
 */

#include "xsmc.h"
#include "sim.h"
#ifndef SIM_NO_TLS
#include "../../modem/posix/modem.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* SIM_NO_TLS: plain TCP only, for builds without mbedTLS (the 32-bit memory-measurement host). */
#ifndef SIM_NO_TLS
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#endif

#define TX_CAPACITY 16384
#define RX_LIMIT 65536
#define READ_CHUNK 4096

enum { STATE_CONNECTING, STATE_HANDSHAKE, STATE_OPEN, STATE_CLOSED };

typedef struct {
	xsMachine* the;
	xsSlot self;
	xsSlot onReadable;
	xsSlot onWritable;
	xsSlot onError;
	int remembered;
	int fd;
	SimWatch* watch;
	int state;
	int secure;
	int peerClosed;
	int reported;	/* onError was called; nothing follows */
	int readPaused;
#ifndef SIM_NO_TLS
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config config;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt certificate;
	mbedtls_pk_context key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
#endif
	uint8_t* rx;
	size_t rxLength;
	size_t rxCapacity;
	uint8_t tx[TX_CAPACITY];
	size_t txLength;
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
	free(s->rx);
	s->rx = NULL;
	s->rxLength = s->rxCapacity = 0;
	s->state = STATE_CLOSED;
}

static void forget(Socket* s)
{
	if (s->remembered) {
		xsMachine* the = s->the;
		xsForget(s->self);
		xsForget(s->onReadable);
		xsForget(s->onWritable);
		xsForget(s->onError);
		s->remembered = 0;
	}
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
static void callBack(Socket* s, xsSlot* callback, int withArgument, xsIntegerValue count, const char* message)
{
	xsMachine* the = s->the;
	xsBeginHost(the);
	{
		xsTry {
			xsmcVars(1);
			if (message) {
				xsmcSetString(xsVar(0), (char*)message);
				xsCallFunction1(*callback, s->self, xsVar(0));
			}
			else if (withArgument) {
				xsmcSetInteger(xsVar(0), count);
				xsCallFunction1(*callback, s->self, xsVar(0));
			}
			else
				xsCallFunction0(*callback, s->self);
		}
		xsCatch {
			simUncaughtException(the, "socket callback");
		}
	}
	xsEndHost(the);
}

/* Reports the end of the connection once: with a message for an error, without for a peer close. */
static void fail(Socket* s, const char* message)
{
	if (s->reported || s->state == STATE_CLOSED)
		return;
	s->reported = 1;
	releaseResources(s);
	callBack(s, &s->onError, 0, 0, message);
	forget(s);
}

#ifndef SIM_NO_TLS
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
		snprintf(message, sizeof(message), "%s: %s (%s)", what, detail, verify);
	}
	else
		snprintf(message, sizeof(message), "%s: %s", what, detail);
	fail(s, message);
}

static int tlsSend(void* context, const unsigned char* data, size_t length)
{
	Socket* s = context;
	ssize_t count = send(s->fd, data, length, MSG_NOSIGNAL);
	if (count >= 0)
		return (int)count;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
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
	return MBEDTLS_ERR_NET_RECV_FAILED;
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

/* Sends what it can of the transmit buffer; returns 0 after a fatal error. */
static int flush(Socket* s)
{
	while (s->txLength > 0) {
		int count;
#ifndef SIM_NO_TLS
		if (s->secure) {
			count = mbedtls_ssl_write(&s->ssl, s->tx, s->txLength);
			if (count == MBEDTLS_ERR_SSL_WANT_WRITE || count == MBEDTLS_ERR_SSL_WANT_READ)
				break;
			if (count < 0) {
				failTls(s, "TLS write failed", count);
				return 0;
			}
		}
		else
#endif
		{
			ssize_t sent = send(s->fd, s->tx, s->txLength, MSG_NOSIGNAL);
			if (sent < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				char message[128];
				snprintf(message, sizeof(message), "send failed: %s", strerror(errno));
				fail(s, message);
				return 0;
			}
			count = (int)sent;
		}
		memmove(s->tx, s->tx + count, s->txLength - (size_t)count);
		s->txLength -= (size_t)count;
	}
	updateWatch(s, readEvents(s) | (s->txLength ? POLLOUT : 0));
	return 1;
}

static int growReceive(Socket* s, size_t needed)
{
	if (s->rxCapacity - s->rxLength >= needed)
		return 1;
	size_t capacity = s->rxCapacity ? s->rxCapacity * 2 : READ_CHUNK * 2;
	while (capacity - s->rxLength < needed)
		capacity *= 2;
	uint8_t* rx = realloc(s->rx, capacity);
	if (!rx)
		return 0;
	s->rx = rx;
	s->rxCapacity = capacity;
	return 1;
}

/* Reads what is available into the receive buffer, up to RX_LIMIT; returns 0 after a fatal error. */
static int receive(Socket* s)
{
	while (s->rxLength < RX_LIMIT) {
		if (!growReceive(s, READ_CHUNK)) {
			fail(s, "out of memory");
			return 0;
		}
		int count;
#ifndef SIM_NO_TLS
		if (s->secure) {
			count = mbedtls_ssl_read(&s->ssl, s->rx + s->rxLength, READ_CHUNK);
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
			ssize_t got = recv(s->fd, s->rx + s->rxLength, READ_CHUNK, 0);
			if (got < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					return 1;
				char message[128];
				snprintf(message, sizeof(message), "receive failed: %s", strerror(errno));
				fail(s, message);
				return 0;
			}
			if (got == 0) {
				s->peerClosed = 1;
				return 1;
			}
			count = (int)got;
		}
		s->rxLength += (size_t)count;
	}
	s->readPaused = 1;	/* the app reads before more is taken in */
	return 1;
}

static void becomeOpen(Socket* s)
{
	s->state = STATE_OPEN;
	updateWatch(s, POLLIN);
	callBack(s, &s->onWritable, 1, TX_CAPACITY, NULL);
}

#ifndef SIM_NO_TLS
static void handshake(Socket* s)
{
	int result = mbedtls_ssl_handshake(&s->ssl);
	if (result == 0) {
		becomeOpen(s);
		return;
	}
	if (result == MBEDTLS_ERR_SSL_WANT_READ)
		updateWatch(s, POLLIN);
	else if (result == MBEDTLS_ERR_SSL_WANT_WRITE)
		updateWatch(s, POLLOUT);
	else
		failTls(s, "TLS handshake failed", result);
}

static int setUpTls(Socket* s, long tag, const char* hostname, int verify, char* error, size_t errorSize)
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
	const char* personal = "nrfcloud-sim-tls";
	if ((result = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy, (const unsigned char*)personal, strlen(personal)))) {
		snprintf(error, errorSize, "TLS random generator failed (-0x%04x)", -result);
		return 0;
	}
	pem = modemReadCredential(tag, 0, &length);
	if (pem) {
		result = mbedtls_x509_crt_parse(&s->ca, (const unsigned char*)pem, length + 1);
		free(pem);
		if (result) {
			snprintf(error, errorSize, "security tag %ld: the CA certificate does not parse (-0x%04x)", tag, -result);
			return 0;
		}
	}
	else if (verify) {
		snprintf(error, errorSize, "security tag %ld has no CA certificate to verify the server with", tag);
		return 0;
	}
	char* certificate = modemReadCredential(tag, 1, &length);
	if (certificate) {
		result = mbedtls_x509_crt_parse(&s->certificate, (const unsigned char*)certificate, length + 1);
		free(certificate);
		if (result) {
			snprintf(error, errorSize, "security tag %ld: the client certificate does not parse (-0x%04x)", tag, -result);
			return 0;
		}
		pem = modemReadCredential(tag, 2, &length);
		if (!pem) {
			snprintf(error, errorSize, "security tag %ld has a client certificate but no private key", tag);
			return 0;
		}
		result = mbedtls_pk_parse_key(&s->key, (const unsigned char*)pem, length + 1, NULL, 0);
		free(pem);
		if (result) {
			snprintf(error, errorSize, "security tag %ld: the private key does not parse (-0x%04x)", tag, -result);
			return 0;
		}
	}
	if ((result = mbedtls_ssl_config_defaults(&s->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT))) {
		snprintf(error, errorSize, "TLS configuration failed (-0x%04x)", -result);
		return 0;
	}
	mbedtls_ssl_conf_min_version(&s->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&s->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_authmode(&s->config, verify ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_ca_chain(&s->config, &s->ca, NULL);
	mbedtls_ssl_conf_rng(&s->config, mbedtls_ctr_drbg_random, &s->drbg);
	if (s->certificate.version && (result = mbedtls_ssl_conf_own_cert(&s->config, &s->certificate, &s->key))) {
		snprintf(error, errorSize, "TLS client certificate rejected (-0x%04x)", -result);
		return 0;
	}
	if ((result = mbedtls_ssl_setup(&s->ssl, &s->config))) {
		snprintf(error, errorSize, "TLS setup failed (-0x%04x)", -result);
		return 0;
	}
	if ((result = mbedtls_ssl_set_hostname(&s->ssl, hostname))) {
		snprintf(error, errorSize, "TLS host name failed (-0x%04x)", -result);
		return 0;
	}
	mbedtls_ssl_set_bio(&s->ssl, s, tlsSend, tlsReceive, NULL);
	return 1;
}

#endif

static void socketEvent(void* refcon, int fd, short revents)
{
	Socket* s = refcon;
	if (s->state == STATE_CLOSED)
		return;
	if (s->state == STATE_CONNECTING) {
		int problem = 0;
		socklen_t size = sizeof(problem);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &problem, &size) != 0)
			problem = errno;
		if (problem) {
			char message[160];
			snprintf(message, sizeof(message), "connect failed: %s", strerror(problem));
			fail(s, message);
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
		return;
	}
#ifndef SIM_NO_TLS
	if (s->state == STATE_HANDSHAKE) {
		handshake(s);
		return;
	}
#endif
	if (revents & POLLOUT) {
		int hadPending = s->txLength > 0;
		if (!flush(s))
			return;
		if (hadPending && s->txLength == 0) {
			callBack(s, &s->onWritable, 1, TX_CAPACITY, NULL);
			if (s->state == STATE_CLOSED)
				return;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (!receive(s))
			return;
		if (s->readPaused)
			updateWatch(s, s->txLength ? POLLOUT : 0);
		if (s->rxLength > 0) {
			callBack(s, &s->onReadable, 1, (xsIntegerValue)s->rxLength, NULL);
			if (s->state == STATE_CLOSED)
				return;
		}
		if (s->peerClosed && s->rxLength == 0)
			fail(s, NULL);
	}
}

static Socket* getSocket(xsMachine* the, int mustBeOpen)
{
	Socket* s = xsmcGetHostData(xsThis);
	if (!s || (mustBeOpen && s->state == STATE_CLOSED))
		xsUnknownError("socket is closed");
	return s;
}

/* constructor({ host | address, port, secTag?, hostname?, verify? }, onReadable, onWritable, onError) */
void xs_tcp_constructor(xsMachine* the)
{
	char host[256];
	char port[16];
	char hostname[256];
	char error[300];
	xsmcVars(2);
	if (xsmcArgc < 4 || xsmcTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("tcp: options and three callbacks required");
	for (int i = 1; i <= 3; i++)
		if (!xsmcIsCallable(xsArg(i)))
			xsTypeError("tcp: callbacks must be functions");
	host[0] = 0;
	if (xsmcHas(xsArg(0), xsID("address"))) {
		xsmcGet(xsVar(0), xsArg(0), xsID("address"));
		xsmcToStringBuffer(xsVar(0), host, sizeof(host));
	}
	else if (xsmcHas(xsArg(0), xsID("host"))) {
		xsmcGet(xsVar(0), xsArg(0), xsID("host"));
		xsmcToStringBuffer(xsVar(0), host, sizeof(host));
	}
	if (!host[0])
		xsTypeError("tcp: host or address required");
	xsmcGet(xsVar(0), xsArg(0), xsID("port"));
	xsIntegerValue portNumber = xsmcToInteger(xsVar(0));
	if (portNumber < 1 || portNumber > 65535)
		xsRangeError("tcp: invalid port");
	snprintf(port, sizeof(port), "%d", (int)portNumber);
	long tag = -1;
	int verify = 1;
	snprintf(hostname, sizeof(hostname), "%s", host);
	if (xsmcHas(xsArg(0), xsID("secTag"))) {
		xsmcGet(xsVar(0), xsArg(0), xsID("secTag"));
		if (xsmcTypeOf(xsVar(0)) != xsUndefinedType) {
			double value = xsmcToNumber(xsVar(0));
			if (!(value >= 0 && value <= 2147483647.0) || value != (double)(long)value)
				xsRangeError("tcp: secTag must be an integer from 0 to 2147483647");
			tag = (long)value;
		}
	}
	if (xsmcHas(xsArg(0), xsID("hostname"))) {
		xsmcGet(xsVar(0), xsArg(0), xsID("hostname"));
		if (xsmcTypeOf(xsVar(0)) != xsUndefinedType)
			xsmcToStringBuffer(xsVar(0), hostname, sizeof(hostname));
	}
	if (xsmcHas(xsArg(0), xsID("verify"))) {
		xsmcGet(xsVar(0), xsArg(0), xsID("verify"));
		if (xsmcTypeOf(xsVar(0)) != xsUndefinedType)
			verify = xsmcTest(xsVar(0));
	}

	Socket* s = calloc(1, sizeof(Socket));
	if (!s)
		xsUnknownError("tcp: out of memory");
	s->the = the;
	s->fd = -1;
	s->state = STATE_CONNECTING;
	xsmcSetHostData(xsThis, s);
#ifndef SIM_NO_TLS
	if (tag >= 0 && !setUpTls(s, tag, hostname, verify, error, sizeof(error))) {
		releaseResources(s);
		xsUnknownError("%s", error);
	}
#else
	if (tag >= 0) {
		releaseResources(s);
		xsUnknownError("tcp: this host was built without TLS");
	}
	(void)verify;
	(void)error;
#endif

	struct addrinfo hints = { 0 };
	struct addrinfo* addresses = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int resolved = getaddrinfo(host, port, &hints, &addresses);
	if (resolved != 0 || !addresses) {
		releaseResources(s);
		xsUnknownError("tcp: cannot resolve %s: %s", host, gai_strerror(resolved));
	}
	s->fd = socket(addresses->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		freeaddrinfo(addresses);
		releaseResources(s);
		xsUnknownError("tcp: socket: %s", strerror(errno));
	}
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int connected = connect(s->fd, addresses->ai_addr, addresses->ai_addrlen);
	int connectError = errno;
	freeaddrinfo(addresses);
	if (connected != 0 && connectError != EINPROGRESS) {
		releaseResources(s);
		xsUnknownError("tcp: connect to %s:%s: %s", host, port, strerror(connectError));
	}
	s->watch = simWatchAdd(s->fd, POLLOUT, socketEvent, s);
	if (!s->watch) {
		releaseResources(s);
		xsUnknownError("tcp: out of memory");
	}
	s->self = xsThis;
	s->onReadable = xsArg(1);
	s->onWritable = xsArg(2);
	s->onError = xsArg(3);
	xsRemember(s->self);
	xsRemember(s->onReadable);
	xsRemember(s->onWritable);
	xsRemember(s->onError);
	s->remembered = 1;
}

/* read(count?): an ArrayBuffer of received bytes, or undefined */
void xs_tcp_read(xsMachine* the)
{
	Socket* s = getSocket(the, 0);
	if (s->rxLength == 0)
		return;
	size_t count = s->rxLength;
	if (xsmcArgc > 0 && xsmcTypeOf(xsArg(0)) != xsUndefinedType) {
		xsIntegerValue wanted = xsmcToInteger(xsArg(0));
		if (wanted < 0)
			xsRangeError("tcp: read count must not be negative");
		if ((size_t)wanted < count)
			count = (size_t)wanted;
	}
	xsmcSetArrayBuffer(xsResult, s->rx, (xsIntegerValue)count);
	memmove(s->rx, s->rx + count, s->rxLength - count);
	s->rxLength -= count;
	if (s->readPaused && s->rxLength < RX_LIMIT / 2 && s->state == STATE_OPEN) {
		s->readPaused = 0;
		updateWatch(s, POLLIN | (s->txLength ? POLLOUT : 0));
	}
	if (s->peerClosed && s->rxLength == 0 && s->state == STATE_OPEN) {
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
	void* data;
	xsUnsignedValue length;
	if (xsmcArgc < 1)
		xsTypeError("tcp: write needs bytes");
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (length > TX_CAPACITY - s->txLength)
		xsRangeError("tcp: write of %u bytes exceeds the %u writable", (unsigned)length, (unsigned)(TX_CAPACITY - s->txLength));
	memcpy(s->tx + s->txLength, data, length);
	s->txLength += length;
	if (!flush(s))
		return;
	xsmcSetInteger(xsResult, (xsIntegerValue)(TX_CAPACITY - s->txLength));
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
