/*
 * The xsbug connection of the debug build (mxDebug): the machine is the TCP
 * client of an xsbug-protocol debugger at XSBUG_HOST (default 127.0.0.1:5002).
 * Release builds get no-op stand-ins so the rest of the host needs no #ifdef.
 */

#include "xsAll.h"
#include "xs.h"
#include "sim.h"

#ifdef mxDebug

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

void fxConnect(txMachine* the)
{
	const char* setting = getenv("XSBUG_HOST");
	char host[256] = "127.0.0.1";
	char port[16] = "5002";
	if (setting && *setting) {
		const char* colon = strrchr(setting, ':');
		if (colon) {
			snprintf(host, sizeof(host), "%.*s", (int)(colon - setting), setting);
			snprintf(port, sizeof(port), "%s", colon + 1);
		}
		else
			snprintf(host, sizeof(host), "%s", setting);
	}
	if (getenv("XSBUG_PORT"))
		snprintf(port, sizeof(port), "%s", getenv("XSBUG_PORT"));
	struct addrinfo hints = { 0 };
	struct addrinfo* addresses = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &addresses) != 0 || !addresses)
		return;
	for (struct addrinfo* address = addresses; address; address = address->ai_next) {
		int fd = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, address->ai_addr, address->ai_addrlen) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			the->connection = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(addresses);
}

void fxDisconnect(txMachine* the)
{
	if (the->connection != mxNoSocket) {
		close(the->connection);
		the->connection = mxNoSocket;
	}
}

txBoolean fxIsConnected(txMachine* the)
{
	return the->connection != mxNoSocket;
}

txBoolean fxIsReadable(txMachine* the)
{
	if (the->connection == mxNoSocket)
		return 0;
	struct pollfd fd = { the->connection, POLLIN, 0 };
	return poll(&fd, 1, 0) > 0 && (fd.revents & POLLIN);
}

void fxReceive(txMachine* the)
{
	if (the->connection == mxNoSocket)
		return;
	for (;;) {
		ssize_t count = read(the->connection, the->debugBuffer, sizeof(the->debugBuffer) - 1);
		if (count < 0 && errno == EINTR)
			continue;
		if (count <= 0) {
			fxDisconnect(the);
			the->debugOffset = 0;
			return;
		}
		the->debugOffset = (txSize)count;
		the->debugBuffer[count] = 0;
		return;
	}
}

void fxSend(txMachine* the, txBoolean more)
{
	if (the->connection == mxNoSocket)
		return;
	const char* data = the->echoBuffer;
	size_t left = (size_t)the->echoOffset;
	while (left > 0) {
		ssize_t count = write(the->connection, data, left);
		if (count < 0 && errno == EINTR)
			continue;
		if (count <= 0) {
			fxDisconnect(the);
			return;
		}
		data += count;
		left -= (size_t)count;
	}
}

void simDebugLog(xsMachine* the, const char* text, size_t length)
{
	if (!fxIsConnected(the))
		return;
	char* copy = malloc(length + 1);
	if (!copy)
		return;
	memcpy(copy, text, length);
	copy[length] = 0;
	fxReport(the, "%s", copy);
	free(copy);
}

#else

void simDebugLog(xsMachine* the, const char* text, size_t length)
{
}

#endif
