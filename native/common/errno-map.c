/*
 * The project's errno numbers for a C library's errno: what NCS reports on the
 * device and what JavaScript compares (modules/platform/errno.ts) are Zephyr's
 * minimal-libc numbers, while the C library under a binding has its own (glibc
 * in the simulator host, newlib on the nRF9160: ECONNREFUSED is 111 in both,
 * 61 here). Every binding reports through this one table.
 */

#include "zephyr-errno.h"

#include <errno.h>

int zephyrErrno(int libcErrno)
{
	switch (libcErrno) {
	case ENOENT: return ZEPHYR_ENOENT;
	case EIO: return ZEPHYR_EIO;
	case ENOEXEC: return ZEPHYR_ENOEXEC;
	case ECHILD: return ZEPHYR_ECHILD;
	case EAGAIN: return ZEPHYR_EAGAIN;
	case ENOMEM:
	case ENOBUFS: return ZEPHYR_ENOMEM;
	case EACCES:
	case EPERM: return ZEPHYR_EACCES;
	case EBUSY: return ZEPHYR_EBUSY;
	case EINVAL: return ZEPHYR_EINVAL;
	case ENAMETOOLONG: return ZEPHYR_ENAMETOOLONG;
#ifdef EDQUOT
	case EDQUOT:
#endif
	case ENOSPC: return ZEPHYR_ENOSPC;
	case EPIPE: return ZEPHYR_EPIPE;
	case ENOTSUP: return ZEPHYR_ENOTSUP;
#if EOPNOTSUPP != ENOTSUP
	case EOPNOTSUPP: return ZEPHYR_EOPNOTSUPP;	/* newlib tells them apart, glibc does not */
#endif
	case EMSGSIZE: return ZEPHYR_EMSGSIZE;
	case ENETUNREACH: return ZEPHYR_ENETUNREACH;
	case ECONNABORTED: return ZEPHYR_ECONNABORTED;
	case ECONNRESET: return ZEPHYR_ECONNRESET;
	case ENOTCONN: return ZEPHYR_ENOTCONN;
	case ETIMEDOUT: return ZEPHYR_ETIMEDOUT;
	case ECONNREFUSED: return ZEPHYR_ECONNREFUSED;
	case ENETDOWN: return ZEPHYR_ENETDOWN;
	/* No route to the address, or an address this machine cannot use: the host is unreachable. */
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT: return ZEPHYR_EHOSTUNREACH;
	case EHOSTDOWN: return ZEPHYR_EHOSTDOWN;
	case EINPROGRESS: return ZEPHYR_EINPROGRESS;
	case EPROTO: return ZEPHYR_EPROTO;
	case ENODATA: return ZEPHYR_ENODATA;
	default: return ZEPHYR_EIO;
	}
}
