/*
 * AT text shared by the emulated modem and the nRF9160's AT binding: the
 * final status line of a response (OK, ERROR, +CME ERROR: n, +CMS ERROR: n)
 * made from the modem library's result code, so JavaScript reads the same text
 * from both; and the arguments of AT%CMNG, which the emulated modem executes
 * and the nRF9160 binding hands to the modem's key management.
 */

#ifndef NATIVE_AT_RESPONSE_H
#define NATIVE_AT_RESPONSE_H

#include <stddef.h>

/* Error types in bits 16..23 of a positive nrf_modem_at_cmd() result (nrf_modem_at.h). */
#define AT_RESULT_ERROR 1
#define AT_RESULT_CME_ERROR 2
#define AT_RESULT_CMS_ERROR 3

/*
 * The status line for a result of nrf_modem_at_cmd(): 0 "OK", a positive
 * result "ERROR", "+CME ERROR: n" or "+CMS ERROR: n". Returns 0 for a
 * negative result (the library failed: no status line), else 1.
 */
int atStatusLine(int result, char* line, size_t size);

/*
 * Rewrites the response in `buffer` (NUL-terminated, `size` bytes) so it ends
 * in exactly the status line of `result`, after the information lines the
 * modem gave: whatever status line the text already ends in is replaced.
 * Returns 0 when the status line does not fit (the buffer then holds only it
 * if that fits, else is empty).
 */
int atResponseFinish(char* buffer, size_t size, int result);

/* AT%CMNG=<opcode>[,<sec_tag>[,<type>[,"<content>"[,"<passphrase>"]]]] */
typedef struct {
	long opcode;	/* 0 write, 1 list, 2 read, 3 delete */
	long tag;	/* -1 when absent */
	long type;	/* -1 when absent; 0..6 */
	const char* content;	/* inside the command, not NUL-terminated; NULL when absent */
	size_t contentLength;
	int hasPassphrase;
} AtCmng;

/*
 * Parses `command` ("AT%CMNG=...", any letter case, without line end).
 * Returns 1 with `out` filled, 0 when it is not AT%CMNG, -1 when it is but
 * malformed (the modem answers ERROR).
 */
int atParseCmng(const char* command, AtCmng* out);

/* A non-negative decimal at *p (at most 2147483647), advancing past it; 0 when there is none. */
int atParseNumber(const char** p, long* value);

/* A double-quoted string at *p (no escapes, as the modem takes PEM text), advancing past it; 0 when there is none. */
int atParseQuoted(const char** p, const char** text, size_t* length);

#endif
