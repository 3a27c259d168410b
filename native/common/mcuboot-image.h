/*
 * Checks an MCUboot image as it streams into a DFU slot, without reading the
 * slot back: the header (magic, sizes, version), then the SHA-256 of header,
 * image and protected TLVs against the SHA-256 TLV of the unprotected TLV
 * area. The simulator host feeds it the slot's content at once; the nRF9160
 * feeds it each piece dfu_target is given, so an image whose digest does not
 * match is never scheduled for MCUboot.
 */

#ifndef NATIVE_MCUBOOT_IMAGE_H
#define NATIVE_MCUBOOT_IMAGE_H

#include "sha256.h"

#include <stddef.h>
#include <stdint.h>

#define MCUBOOT_IMAGE_MAGIC 0x96f3b83dU
#define MCUBOOT_TLV_INFO_MAGIC 0x6907
#define MCUBOOT_TLV_PROTECTED_MAGIC 0x6908
#define MCUBOOT_TLV_SHA256 0x10
/* The TLV area kept for the check: room for a SHA-256, a key hash and an RSA-3072 signature. */
#define MCUBOOT_TLV_CAPTURE 1024

typedef struct {
	uint32_t offset;	/* bytes fed so far */
	uint8_t header[32];
	int headerParsed;
	uint32_t headerSize;
	uint32_t protectedSize;
	uint32_t imageSize;
	uint64_t hashed;	/* header + image + protected TLVs */
	Sha256 hash;
	uint8_t protectedMagic[2];
	uint8_t tlv[MCUBOOT_TLV_CAPTURE];
	uint32_t tlvLength;	/* bytes of tlv[] kept */
	int tlvOverflow;
} McubootCheck;

void mcubootCheckInit(McubootCheck* check);
void mcubootCheckFeed(McubootCheck* check, const uint8_t* bytes, size_t length);

/*
 * After the whole image: NULL when it is a valid MCUboot image (its version
 * "major.minor.revision+build" in `version`), else why not.
 */
const char* mcubootCheckFinish(McubootCheck* check, char* version, size_t versionSize);

#endif
