/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32): the
 * check value of records the library stores, so a torn or damaged one is
 * recognised when it is read back.
 */

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
	if (table !== undefined) return table;
	const t = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c >>> 0;
	}
	table = t;
	return t;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
	const t = crcTable();
	let c = 0xFFFFFFFF;
	for (let i = start; i < end; i++) c = t[(c ^ bytes[i]!) & 0xFF]! ^ (c >>> 8);
	return (c ^ 0xFFFFFFFF) >>> 0;
}
