/* Streaming MCUboot image check; see mcuboot-image.h. */

#include "mcuboot-image.h"

#include <stdio.h>
#include <string.h>

static uint32_t le32(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static uint16_t le16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }

void mcubootCheckInit(McubootCheck* check)
{
	memset(check, 0, sizeof(*check));
	sha256Init(&check->hash);
}

static void parseHeader(McubootCheck* check)
{
	check->headerParsed = 1;
	check->headerSize = le16(check->header + 8);
	check->protectedSize = le16(check->header + 10);
	check->imageSize = le32(check->header + 12);
	check->hashed = (uint64_t)check->headerSize + check->imageSize + check->protectedSize;
}

void mcubootCheckFeed(McubootCheck* check, const uint8_t* bytes, size_t length)
{
	for (size_t i = 0; i < length;) {
		uint64_t at = check->offset;
		if (at < sizeof(check->header)) {
			check->header[at] = bytes[i];
			if (at + 1 == sizeof(check->header))
				parseHeader(check);
		}
		if (!check->headerParsed || at < check->hashed) {
			/* Hash the run of bytes up to the end of the hashed region (or of the header, which decides that end). */
			uint64_t end = check->headerParsed ? check->hashed : sizeof(check->header);
			size_t run = (size_t)(end - at) < length - i ? (size_t)(end - at) : length - i;
			if (check->headerParsed && check->protectedSize) {
				uint64_t magicAt = (uint64_t)check->headerSize + check->imageSize;
				for (size_t j = 0; j < run; j++)
					if (at + j >= magicAt && at + j < magicAt + 2)
						check->protectedMagic[at + j - magicAt] = bytes[i + j];
			}
			if (!check->headerParsed) {
				/* Inside the header: one byte at a time, so the header is parsed where it ends. */
				run = 1;
			}
			sha256Update(&check->hash, bytes + i, run);
			check->offset += (uint32_t)run;
			i += run;
			continue;
		}
		if (check->tlvLength < sizeof(check->tlv))
			check->tlv[check->tlvLength++] = bytes[i];
		else
			check->tlvOverflow = 1;
		check->offset++;
		i++;
	}
}

const char* mcubootCheckFinish(McubootCheck* check, char* version, size_t versionSize)
{
	if (!check->headerParsed || le32(check->header) != MCUBOOT_IMAGE_MAGIC)
		return "not an MCUboot image (bad header magic)";
	const uint8_t* h = check->header;
	snprintf(version, versionSize, "%u.%u.%u+%lu", h[20], h[21], le16(h + 22), (unsigned long)le32(h + 24));
	if (check->headerSize < 32 || check->hashed + 4 > check->offset)
		return "MCUboot header sizes exceed the image";
	if (check->protectedSize && le16(check->protectedMagic) != MCUBOOT_TLV_PROTECTED_MAGIC)
		return "bad protected TLV area";
	if (le16(check->tlv) != MCUBOOT_TLV_INFO_MAGIC)
		return "missing TLV area";
	uint32_t total = le16(check->tlv + 2);
	if (total < 4 || check->hashed + total > check->offset)
		return "TLV area exceeds the image";
	if (total > check->tlvLength)
		return "TLV area too large to check";
	uint8_t digest[32];
	sha256Final(&check->hash, digest);
	const uint8_t* tlv = check->tlv + 4;
	const uint8_t* end = check->tlv + total;
	while (tlv + 4 <= end) {
		uint16_t type = le16(tlv);
		uint16_t length = le16(tlv + 2);
		if (tlv + 4 + length > end)
			return "truncated TLV";
		if (type == MCUBOOT_TLV_SHA256) {
			if (length != 32)
				return "bad SHA-256 TLV length";
			return memcmp(digest, tlv + 4, 32) ? "SHA-256 of the image does not match its TLV" : NULL;
		}
		tlv += 4 + length;
	}
	return "no SHA-256 TLV";
}
