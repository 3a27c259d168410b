/* Names of the key-value store; see kv-name.h. */

#include "kv-name.h"

#include <stdio.h>
#include <string.h>

int kvValidName(const char* name)
{
	size_t length = strlen(name);
	if (length == 0 || length > KV_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int kvJoin(char* out, size_t size, const char* domain, const char* key)
{
	int written = snprintf(out, size, "%s/%s", domain, key);
	return written >= 0 && (size_t)written < size;
}

int kvIsDirectKey(const char* rest)
{
	return rest && !strchr(rest, '/') && kvValidName(rest);
}
