/*
 * Zephyr's errno numbers (minimal libc), the values NCS functions return negated
 * on the nRF9160. Every layer that reports an errno takes it from here, so the
 * MQTT stack, the socket and storage bindings, the nRF Cloud library and the
 * Cloud API agree on what a number means.
 */

export const Errno = Object.freeze({
	ENOENT: 2,
	EIO: 5,
	ENOEXEC: 8,
	ECHILD: 10,
	EAGAIN: 11,
	ENOMEM: 12,
	EACCES: 13,
	EBUSY: 16,
	EINVAL: 22,
	ENAMETOOLONG: 26,
	ENOSPC: 28,
	EPIPE: 32,
	ENOTSUP: 35,
	EMSGSIZE: 36,
	EOPNOTSUPP: 45,
	ENETUNREACH: 51,
	ECONNABORTED: 53,
	ECONNRESET: 54,
	ENOTCONN: 57,
	ETIMEDOUT: 60,
	ECONNREFUSED: 61,
	ENETDOWN: 62,
	EHOSTUNREACH: 65,
	EHOSTDOWN: 67,
	EINPROGRESS: 68,
	EPROTO: 76,
	ENODATA: 78,
} as const);
export type ErrnoName = keyof typeof Errno;
export type ErrnoValue = typeof Errno[ErrnoName];

/** "ECONNREFUSED" for 61; the number itself for one this table does not name. */
export function errnoName(errno: number): string {
	for (const name in Errno) if (Errno[name as ErrnoName] === errno) return name;
	return String(errno);
}
