/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper (header only, shared by tests/core/test_cbor.c and
 * tests/progs/cbor_oracle.c): print one CBOR value in RFC 8949 diagnostic
 * notation using only the public pull decoder, iteratively.
 *
 * Differences from RFC diagnostic notation, because the decoder hides them:
 * tags are dropped (the decoder returns their content), floats and other
 * simple values print as `other`, an indefinite string prints as `h_(N)` or
 * `"_(N)"` with its total length. Text bytes outside printable ASCII, `"` and
 * `\` print as \xHH. Integers print in decimal down to -2^64.
 */
#ifndef SMPDFU_TEST_CBOR_DIAG_H
#define SMPDFU_TEST_CBOR_DIAG_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smpdfu/cbor.h"

typedef struct {
    char *out;
    size_t cap;
    size_t len;
    int err;
} diag_buf_t;

static void diag_printf(diag_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag_printf(diag_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->err != 0) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(b->out + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->err = SMPDFU_ENOSPC;
        return;
    }
    b->len += (size_t)n;
}

static void diag_item(diag_buf_t *b, const smpdfu_cbor_item_t *it)
{
    uint64_t i;

    switch (it->type) {
    case SMPDFU_CBOR_UINT:
        diag_printf(b, "%" PRIu64, it->u);
        break;
    case SMPDFU_CBOR_NINT:
        if (it->u == UINT64_MAX) {
            diag_printf(b, "-18446744073709551616");
        } else {
            diag_printf(b, "-%" PRIu64, it->u + 1);
        }
        break;
    case SMPDFU_CBOR_BSTR:
        if (it->indef) {
            diag_printf(b, "h_(%" PRIu64 ")", it->u);
            break;
        }
        diag_printf(b, "h'");
        for (i = 0; i < it->u; i++) {
            diag_printf(b, "%02x", it->ptr[i]);
        }
        diag_printf(b, "'");
        break;
    case SMPDFU_CBOR_TSTR:
        if (it->indef) {
            diag_printf(b, "\"_(%" PRIu64 ")\"", it->u);
            break;
        }
        diag_printf(b, "\"");
        for (i = 0; i < it->u; i++) {
            uint8_t c = it->ptr[i];
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                diag_printf(b, "\\x%02x", c);
            } else {
                diag_printf(b, "%c", c);
            }
        }
        diag_printf(b, "\"");
        break;
    case SMPDFU_CBOR_BOOL:
        diag_printf(b, "%s", it->u ? "true" : "false");
        break;
    case SMPDFU_CBOR_NULL:
        diag_printf(b, "null");
        break;
    case SMPDFU_CBOR_UNDEF:
        diag_printf(b, "undefined");
        break;
    default:
        diag_printf(b, "other");
        break;
    }
}

/* Print the value at d's position into out (NUL-terminated) and advance d
 * past it. Returns 0 or the decoder's error (EDEPTH past MAX_DEPTH levels,
 * ENOSPC when out is too small). */
static int cbor_diag(smpdfu_cbor_dec_t *d, char *out, size_t cap)
{
    struct {
        uint64_t left; /* items left (definite) */
        uint64_t n;    /* items printed so far */
        bool indef, map;
    } st[SMPDFU_CBOR_MAX_DEPTH];
    size_t depth = 0;
    diag_buf_t b = {out, cap, 0, 0};
    smpdfu_cbor_item_t it;
    int r;

    if (cap == 0) {
        return SMPDFU_ENOSPC;
    }
    out[0] = '\0';
    for (;;) {
        r = smpdfu_cbor_next(d, &it);
        if (r != 0) {
            return r;
        }
        if (it.type == SMPDFU_CBOR_BREAK) {
            if (depth == 0 || !st[depth - 1].indef || (st[depth - 1].map && st[depth - 1].n % 2)) {
                return SMPDFU_EMALFORMED;
            }
            diag_printf(&b, "%s", st[depth - 1].map ? "}" : "]");
            depth--;
        } else {
            if (depth > 0) {
                if (st[depth - 1].n > 0) {
                    diag_printf(&b, "%s", st[depth - 1].map && st[depth - 1].n % 2 ? ": " : ", ");
                }
                st[depth - 1].n++;
            }
            if (it.type == SMPDFU_CBOR_ARRAY || it.type == SMPDFU_CBOR_MAP) {
                bool map = it.type == SMPDFU_CBOR_MAP;
                if (depth == SMPDFU_CBOR_MAX_DEPTH) {
                    return SMPDFU_EDEPTH;
                }
                diag_printf(&b, "%s%s", map ? "{" : "[", it.indef ? "_ " : "");
                if (it.indef || it.u != 0) {
                    st[depth].left = map ? it.u * 2 : it.u;
                    st[depth].n = 0;
                    st[depth].indef = it.indef;
                    st[depth].map = map;
                    depth++;
                    continue;
                }
                diag_printf(&b, "%s", map ? "}" : "]");
            } else {
                diag_item(&b, &it);
            }
        }
        while (depth > 0 && !st[depth - 1].indef) {
            if (--st[depth - 1].left != 0) {
                break;
            }
            diag_printf(&b, "%s", st[depth - 1].map ? "}" : "]");
            depth--;
        }
        if (b.err != 0) {
            return b.err;
        }
        if (depth == 0) {
            return 0;
        }
    }
}

#endif /* SMPDFU_TEST_CBOR_DIAG_H */
