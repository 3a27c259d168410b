/* The emulated modem's services for other bindings of the simulator host (the TLS socket). */

#ifndef SIM_MODEM_H
#define SIM_MODEM_H

#include <stddef.h>

/* Runs one AT command; returns the response (malloc'd) or NULL when out of memory. */
char* modemAt(const char* command);

/* Reads credential `type` (0 CA, 1 client certificate, 2 private key) of `tag`; malloc'd, NUL-terminated, or NULL. */
char* modemReadCredential(long tag, int type, size_t* length);

int modemStatePath(char* out, size_t size, const char* relative);

/* Creates the state directory (--state) when it does not exist yet. */
void modemEnsureStateDirectory(void);

#endif
