/*
 * Packet identifiers (MQTT 3.1.1 section 2.3.1): the one check of what is a
 * valid id, used by the encoder and the session, and the session's allocator,
 * which skips ids in flight and any the owner reserves for requests of its own.
 */

export const MAX_PACKET_ID = 0xFFFF;

/** An integer from 1 to 65535. */
export function isPacketId(value: unknown): value is number {
	return typeof value === "number" && (value | 0) === value && value >= 1 && value <= MAX_PACKET_ID;
}

export class PacketIdAllocator {
	#next = 1;
	readonly #reserved: (id: number) => boolean;

	/** `reserved` ids are never handed out; they stay available to callers who ask for them by number. */
	constructor(reserved: (id: number) => boolean = () => false) {
		if (typeof reserved !== "function") throw new TypeError("reserved must be a function");
		this.#reserved = reserved;
	}

	/** The next id that is neither reserved nor `inUse`, or 0 when there is none. */
	allocate(inUse: (id: number) => boolean): number {
		for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
			const id = this.#next;
			this.#next = id === MAX_PACKET_ID ? 1 : id + 1;
			if (!this.#reserved(id) && !inUse(id)) return id;
		}
		return 0;
	}
}
