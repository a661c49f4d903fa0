/*
 * smpdfu — POSIX port: strict parsing of numeric command-line values, shared
 * by the tools. A value is accepted only when all of it is a number inside
 * the stated range: no sign where none belongs, no trailing text, no
 * overflow, no NaN or infinity, nothing that rounds to a different meaning.
 */
#ifndef SMPDFU_POSIX_ARGS_H
#define SMPDFU_POSIX_ARGS_H

#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A whole number in lo..hi: decimal digits, or 0x followed by hex digits.
 * Returns 0 (*out set), SMPDFU_EUSAGE (not such a number: empty, a sign,
 * spaces, trailing text, a fraction) or SMPDFU_ERANGE (a number outside
 * lo..hi, overflow included). *out is untouched on failure. */
int smpdfu_posix_arg_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Like smpdfu_posix_arg_uint, and a K or M suffix (also k, m) multiplies by
 * 1024 or 1024*1024; the range applies to the product. */
int smpdfu_posix_arg_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* A finite decimal number (strtod syntax, no hex, no NaN/inf) in lo..hi.
 * Returns 0, SMPDFU_EUSAGE or SMPDFU_ERANGE as above. */
int smpdfu_posix_arg_real(const char *s, double lo, double hi, double *out);

/* Seconds (a real number in lo_s..hi_s) converted to whole milliseconds,
 * rounded to nearest. When lo_s > 0 a value that rounds to 0 ms is
 * SMPDFU_ERANGE (a "0.0001" timeout must not become "the default"). */
int smpdfu_posix_arg_seconds_ms(const char *s, double lo_s, double hi_s, uint32_t *ms);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_ARGS_H */
