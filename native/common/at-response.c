/* AT status lines and AT%CMNG arguments; see at-response.h. */

#include "at-response.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int atStatusLine(int result, char* line, size_t size)
{
	int written;
	if (result < 0)
		return 0;
	if (result == 0)
		written = snprintf(line, size, "OK");
	else {
		int type = (result & 0x00ff0000) >> 16;
		int code = result & 0xff00ffff;
		if (type == AT_RESULT_CME_ERROR)
			written = snprintf(line, size, "+CME ERROR: %d", code);
		else if (type == AT_RESULT_CMS_ERROR)
			written = snprintf(line, size, "+CMS ERROR: %d", code);
		else
			written = snprintf(line, size, "ERROR");
	}
	return written >= 0 && (size_t)written < size;
}

/* Whether `line` (length bytes, no line end) is a final status line. */
static int isStatusLine(const char* line, size_t length)
{
	return (length == 2 && !memcmp(line, "OK", 2)) || (length == 5 && !memcmp(line, "ERROR", 5))
		|| (length > 12 && (!memcmp(line, "+CME ERROR: ", 12) || !memcmp(line, "+CMS ERROR: ", 12)));
}

int atResponseFinish(char* buffer, size_t size, int result)
{
	char status[32];
	if (!size)
		return 0;
	if (!atStatusLine(result, status, sizeof(status)))
		status[0] = 0;
	size_t length = 0;
	while (length < size - 1 && buffer[length])
		length++;
	buffer[length] = 0;
	/* Drop line ends, then a status line the modem put last. */
	while (length > 0 && (buffer[length - 1] == '\r' || buffer[length - 1] == '\n'))
		length--;
	size_t start = length;
	while (start > 0 && buffer[start - 1] != '\n')
		start--;
	if (isStatusLine(buffer + start, length - start))
		length = start;
	while (length > 0 && (buffer[length - 1] == '\r' || buffer[length - 1] == '\n'))
		length--;
	size_t statusLength = strlen(status);
	size_t separator = length ? 2 : 0;
	if (length + separator + statusLength + 2 >= size) {
		if (statusLength + 2 < size) {
			memcpy(buffer, status, statusLength);
			memcpy(buffer + statusLength, "\r\n", 3);
		}
		else
			buffer[0] = 0;
		return 0;
	}
	if (separator)
		memcpy(buffer + length, "\r\n", 2);
	memcpy(buffer + length + separator, status, statusLength);
	memcpy(buffer + length + separator + statusLength, "\r\n", 3);
	return 1;
}

int atParseNumber(const char** p, long* value)
{
	const char* s = *p;
	if (!isdigit((unsigned char)*s))
		return 0;
	long v = 0;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v > 2147483647L)
			return 0;
		s++;
	}
	*value = v;
	*p = s;
	return 1;
}

int atParseQuoted(const char** p, const char** text, size_t* length)
{
	const char* s = *p;
	if (*s != '"')
		return 0;
	const char* end = strchr(s + 1, '"');
	if (!end)
		return 0;
	*text = s + 1;
	*length = (size_t)(end - s - 1);
	*p = end + 1;
	return 1;
}

int atParseCmng(const char* command, AtCmng* out)
{
	static const char prefix[] = "AT%CMNG=";
	for (size_t i = 0; i < sizeof(prefix) - 1; i++)
		if (toupper((unsigned char)command[i]) != prefix[i])
			return 0;
	const char* p = command + sizeof(prefix) - 1;
	out->tag = out->type = -1;
	out->content = NULL;
	out->contentLength = 0;
	out->hasPassphrase = 0;
	if (!atParseNumber(&p, &out->opcode))
		return -1;
	if (*p == ',') {
		p++;
		if (!atParseNumber(&p, &out->tag))
			return -1;
		if (*p == ',') {
			p++;
			if (!atParseNumber(&p, &out->type) || out->type > 6)
				return -1;
			if (*p == ',') {
				p++;
				if (!atParseQuoted(&p, &out->content, &out->contentLength))
					return -1;
				if (*p == ',') {
					const char* passphrase;
					size_t ignored;
					p++;
					if (!atParseQuoted(&p, &passphrase, &ignored))
						return -1;
					out->hasPassphrase = 1;
				}
			}
		}
	}
	return *p ? -1 : 1;
}
