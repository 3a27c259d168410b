/*
 * SHA-256 (FIPS 180-4), incremental, for checking images as they stream in
 * (MCUboot's SHA-256 TLV, the digest given for a modem image) and the
 * credential fingerprints of AT%CMNG, the same code on the build machine and
 * on the device (where no crypto library is needed for it).
 */

#ifndef NATIVE_SHA256_H
#define NATIVE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t state[8];
	uint64_t bytes;
	uint8_t block[64];
	uint32_t used;
} Sha256;

void sha256Init(Sha256* hash);
void sha256Update(Sha256* hash, const void* data, size_t length);
void sha256Final(Sha256* hash, uint8_t digest[32]);
void sha256(const void* data, size_t length, uint8_t digest[32]);

#endif
