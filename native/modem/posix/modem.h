/* The emulated modem's services for other bindings of the simulator host (the TLS socket). */

#ifndef SIM_MODEM_H
#define SIM_MODEM_H

#include <stddef.h>

/* Runs one AT command; returns the response (malloc'd) or NULL when out of memory. */
char* modemAt(const char* command);

/* Reads credential `type` (0 CA, 1 client certificate, 2 private key) of `tag`; malloc'd, NUL-terminated, or NULL. */
char* modemReadCredential(long tag, int type, size_t* length);

/* <state>/relative into out; 0 without a state directory or when it does not fit. */
int modemStatePath(char* out, size_t size, const char* relative);

/* Creates the state directory (--state) when it does not exist yet; 0 without one or when that fails. */
int modemEnsureStateDirectory(void);

/* NULL when the host was given a state directory (--state), else why the emulated device cannot run. */
const char* modemStateProblem(void);

/* Throws an Error with errno ENOENT, naming --state, when there is no state directory. */
struct xsMachineRecord;
void modemRequireState(struct xsMachineRecord* the);

#endif
