/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types and helpers the pure parts of the module (timesync.c,
 * clock_model.c) use, so that the very same files build in the kernel and
 * on the host for unit tests and fuzzing.
 */
#ifndef HV_PTP_EXT_TYPES_H
#define HV_PTP_EXT_TYPES_H

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define U64_MAX		UINT64_MAX
#define S64_MAX		INT64_MAX
#define S64_MIN		INT64_MIN
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BIT_ULL(n)	(1ULL << (n))

static inline u64 mul_u64_u64_shr(u64 a, u64 b, unsigned int shift)
{
	return (u64)(((__uint128_t)a * b) >> shift);
}

/* As on x86-64 (divq raises #DE), a quotient beyond 64 bits traps. */
static inline u64 mul_u64_u64_div_u64(u64 a, u64 b, u64 c)
{
	__uint128_t q = (__uint128_t)a * b / c;

	if (q >> 64)
		__builtin_trap();
	return (u64)q;
}

static inline u64 div64_u64(u64 a, u64 b)
{
	return a / b;
}

static inline s64 div64_s64(s64 a, s64 b)
{
	return a / b;
}
#endif

#endif /* HV_PTP_EXT_TYPES_H */
