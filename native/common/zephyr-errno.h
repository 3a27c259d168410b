/*
 * Zephyr's errno numbers (minimal libc), as modules/platform/errno.ts has them:
 * what JavaScript compares. The bindings run on C libraries whose <errno.h>
 * numbers differ (glibc in the simulator host, newlib on the nRF9160:
 * ECONNREFUSED is 111 in both, 61 here), so they report these instead,
 * through zephyrErrno() (errno-map.c).
 * tests/sim-errno.test.ts keeps the two lists equal.
 */

#ifndef ZEPHYR_ERRNO_H
#define ZEPHYR_ERRNO_H

#define ZEPHYR_ENOENT 2
#define ZEPHYR_EIO 5
#define ZEPHYR_ENOEXEC 8
#define ZEPHYR_ECHILD 10
#define ZEPHYR_EAGAIN 11
#define ZEPHYR_ENOMEM 12
#define ZEPHYR_EACCES 13
#define ZEPHYR_EBUSY 16
#define ZEPHYR_EINVAL 22
#define ZEPHYR_ENAMETOOLONG 26
#define ZEPHYR_ENOSPC 28
#define ZEPHYR_EPIPE 32
#define ZEPHYR_ENOTSUP 35
#define ZEPHYR_EMSGSIZE 36
#define ZEPHYR_EOPNOTSUPP 45
#define ZEPHYR_ENETUNREACH 51
#define ZEPHYR_ECONNABORTED 53
#define ZEPHYR_ECONNRESET 54
#define ZEPHYR_ENOTCONN 57
#define ZEPHYR_ETIMEDOUT 60
#define ZEPHYR_ECONNREFUSED 61
#define ZEPHYR_ENETDOWN 62
#define ZEPHYR_EHOSTUNREACH 65
#define ZEPHYR_EHOSTDOWN 67
#define ZEPHYR_EINPROGRESS 68
#define ZEPHYR_EPROTO 76
#define ZEPHYR_ENODATA 78

/* The Zephyr number of the C library's errno (glibc, newlib); EIO for those without a counterpart here. */
int zephyrErrno(int libcErrno);

#endif
