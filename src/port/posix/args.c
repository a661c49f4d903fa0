/* Strict numeric command-line values (see posix_args.h). strtoull and
 * strtod alone accept "-1" (wrapped), " 5", "nan", "inf" and "1e400". */
#include "smpdfu/posix_args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int digit(char c, unsigned base)
{
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return v < (int)base ? v : -1;
}

/* Digits of s (decimal or 0x hex) up to the first non-digit; *end points
 * there. 1 on overflow, -1 without a digit, 0 otherwise. */
static int scan_uint(const char *s, uint64_t *v, const char **end)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t x = 0;
    int n = 0, over = 0;
    for (; digit(*s, base) >= 0; s++, n++) {
        unsigned d = (unsigned)digit(*s, base);
        if (x > (UINT64_MAX - d) / base) {
            over = 1;
        } else {
            x = x * base + d;
        }
    }
    *end = s;
    *v = x;
    return n == 0 ? -1 : over;
}

int smpdfu_posix_arg_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (!s || !out) {
        return SMPDFU_EINVAL;
    }
    int rc = scan_uint(s, &v, &end);
    if (rc < 0 || *end) {
        return SMPDFU_EUSAGE;
    }
    if (rc > 0 || v < lo || v > hi) {
        return SMPDFU_ERANGE;
    }
    *out = v;
    return 0;
}

int smpdfu_posix_arg_size(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (!s || !out) {
        return SMPDFU_EINVAL;
    }
    int rc = scan_uint(s, &v, &end);
    if (rc < 0) {
        return SMPDFU_EUSAGE;
    }
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K') {
        mul = 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        mul = 1024 * 1024;
        end++;
    }
    if (*end) {
        return SMPDFU_EUSAGE;
    }
    if (rc > 0 || v > UINT64_MAX / mul) {
        return SMPDFU_ERANGE;
    }
    v *= mul;
    if (v < lo || v > hi) {
        return SMPDFU_ERANGE;
    }
    *out = v;
    return 0;
}

int smpdfu_posix_arg_real(const char *s, double lo, double hi, double *out)
{
    if (!s || !out) {
        return SMPDFU_EINVAL;
    }
    /* strtod also reads hex floats, "nan", "inf" and leading spaces: only
     * [+-]digits[.digits][e[+-]digits] is a number here. */
    const char *p = s;
    if (*p == '+' || *p == '-') {
        p++;
    }
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        digits++;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            digits++;
        }
    }
    if (!digits) {
        return SMPDFU_EUSAGE;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!(*p >= '0' && *p <= '9')) {
            return SMPDFU_EUSAGE;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (*p) {
        return SMPDFU_EUSAGE;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || (errno == ERANGE && v != 0)) {
        return SMPDFU_ERANGE; /* 1e400 */
    }
    if (!(v >= lo && v <= hi)) {
        return SMPDFU_ERANGE;
    }
    *out = v;
    return 0;
}

int smpdfu_posix_arg_seconds_ms(const char *s, double lo_s, double hi_s, uint32_t *ms)
{
    double v;
    if (!ms || hi_s > 4294967.0) {
        return SMPDFU_EINVAL;
    }
    int rc = smpdfu_posix_arg_real(s, lo_s, hi_s, &v);
    if (rc) {
        return rc;
    }
    double m = floor(v * 1000.0 + 0.5);
    if (lo_s > 0 && m < 1) {
        return SMPDFU_ERANGE;
    }
    *ms = (uint32_t)m;
    return 0;
}
