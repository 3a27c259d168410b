/*
 * Names of the key-value store: a domain ("nrf_cloud") and its keys
 * ("p_sesh"), 1 to 64 characters of A-Z a-z 0-9 _ - . not starting with a dot.
 * On the nRF9160 the Zephyr settings name is "<domain>/<key>", the name
 * NCS's nrf_cloud library itself uses (nrf_cloud/p_sesh); in the simulator
 * host a file <domain>/<key>.
 */

#ifndef NATIVE_KV_NAME_H
#define NATIVE_KV_NAME_H

#include <stddef.h>

#define KV_NAME_MAX 64

/* Whether `name` is a valid domain or key. */
int kvValidName(const char* name);

/* "<domain>/<key>" into out; 0 when it does not fit. */
int kvJoin(char* out, size_t size, const char* domain, const char* key);

/*
 * For a name found while listing `domain` ("nrf_cloud/p_sesh" after the
 * "nrf_cloud" prefix, i.e. "p_sesh"): 1 when it is a key of the domain itself
 * (valid, no deeper '/'), else 0.
 */
int kvIsDirectKey(const char* rest);

#endif
