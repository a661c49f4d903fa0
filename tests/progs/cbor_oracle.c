/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor_oracle: the C side of the cross-check against python3-cbor2
 * (tests/core/test_cbor_oracle.py).
 *
 *   cbor_oracle decode        one hex document per stdin line; prints per line
 *                             "OK <skip length> <re-encoded hex> <diagnostic>"
 *                             or "ERR <error name>"
 *   cbor_oracle gen SEED N    N random documents built with the encoder; prints
 *                             per line "<hex> <JSON description>"
 *
 * Re-encoding walks the items the decoder returns and writes each back with
 * the matching encoder call (container heads keep definite/indefinite); items
 * the decoder cannot return as values (floats, undefined, chunked strings)
 * are copied raw. Tags are dropped, as the decoder hides them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cbor_diag.h"
#include "smpdfu/cbor.h"

#define MAX_DOC 65536

static int unhex(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    size_t i;

    if (n % 2 != 0 || n / 2 > cap) {
        return SMPDFU_EINVAL;
    }
    for (i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return SMPDFU_EINVAL;
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

/* Re-encode the value at buf[0..end) item by item. */
static int reencode(const uint8_t *buf, size_t end, smpdfu_cbor_enc_t *e)
{
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_item_t it;
    int r;

    smpdfu_cbor_dec_init(&d, buf, end);
    while (d.pos < end) {
        size_t start = d.pos;
        r = smpdfu_cbor_next(&d, &it);
        if (r != 0) {
            return r;
        }
        switch (it.type) {
        case SMPDFU_CBOR_UINT:
            smpdfu_cbor_put_uint(e, it.u);
            break;
        case SMPDFU_CBOR_NINT:
            smpdfu_cbor_put_nint(e, it.u);
            break;
        case SMPDFU_CBOR_BSTR:
        case SMPDFU_CBOR_TSTR:
            if (it.indef) {
                smpdfu_cbor_put_raw(e, buf + start, d.pos - start);
            } else if (it.type == SMPDFU_CBOR_BSTR) {
                smpdfu_cbor_put_bstr(e, it.ptr, (size_t)it.u);
            } else {
                smpdfu_cbor_put_tstr(e, (const char *)it.ptr, (size_t)it.u);
            }
            break;
        case SMPDFU_CBOR_ARRAY:
            smpdfu_cbor_array_begin(e, it.indef ? SMPDFU_CBOR_INDEF : it.u);
            break;
        case SMPDFU_CBOR_MAP:
            smpdfu_cbor_map_begin(e, it.indef ? SMPDFU_CBOR_INDEF : it.u);
            break;
        case SMPDFU_CBOR_BOOL:
            smpdfu_cbor_put_bool(e, it.u != 0);
            break;
        case SMPDFU_CBOR_NULL:
            smpdfu_cbor_put_null(e);
            break;
        case SMPDFU_CBOR_BREAK:
            smpdfu_cbor_put_break(e);
            break;
        default: /* undefined, floats, simple values */
            smpdfu_cbor_put_raw(e, buf + start, d.pos - start);
            break;
        }
    }
    return e->err;
}

static int cmd_decode(void)
{
    static char line[2 * MAX_DOC + 16];
    static uint8_t doc[MAX_DOC];
    static uint8_t out[2 * MAX_DOC];
    static char diag[16 * MAX_DOC];

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strcspn(line, "\r\n");
        size_t len, end;
        smpdfu_cbor_dec_t d;
        smpdfu_cbor_enc_t e;
        int r;

        if (unhex(line, n, doc, sizeof(doc), &len) != 0) {
            printf("ERR bad-hex\n");
            continue;
        }
        smpdfu_cbor_dec_init(&d, doc, len);
        r = smpdfu_cbor_skip(&d);
        if (r != 0) {
            printf("ERR %s\n", smpdfu_err_name(r));
            continue;
        }
        end = d.pos;
        smpdfu_cbor_dec_init(&d, doc, len);
        r = cbor_diag(&d, diag, sizeof(diag));
        if (r == 0 && d.pos != end) {
            r = SMPDFU_EMALFORMED; /* skip and the item walk disagree */
        }
        if (r == 0) {
            smpdfu_cbor_enc_init(&e, out, sizeof(out));
            r = reencode(doc, end, &e);
        }
        if (r != 0) {
            printf("ERR %s\n", smpdfu_err_name(r));
            continue;
        }
        printf("OK %zu ", end);
        print_hex(out, e.len);
        printf(" %s\n", diag);
    }
    return 0;
}

/* ------------------------------------------------------------ generator */

static uint64_t rng;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic per seed, good enough to pick shapes */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

static uint64_t rnd_arg(void)
{
    static const uint64_t edges[] = {0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffull,
                                     0x100000000ull, 0x7fffffffffffffffull,
                                     0x8000000000000000ull, UINT64_MAX};
    switch (rnd_below(3)) {
    case 0:
        return edges[rnd_below(sizeof(edges) / sizeof(edges[0]))];
    case 1:
        return rnd_below(1000);
    default:
        return rnd() >> rnd_below(64);
    }
}

typedef struct {
    char *p;
    size_t cap, len;
} text_t;

static void tput(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(text_t *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        fprintf(stderr, "description too long\n");
        exit(2);
    }
    t->len += (size_t)n;
}

static void thex(text_t *t, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        tput(t, "%02x", p[i]);
    }
}

static void gen_text(uint8_t *s, size_t *n, size_t max)
{
    /* ASCII plus 2-, 3- and 4-byte UTF-8 sequences, always valid UTF-8 */
    static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "\xc3\xbc", "\xe6\xb0\xb4",
                                         "\xf0\x90\x85\x91", "\x7f", "\x01"};
    size_t k = 0, count = (size_t)rnd_below(max + 1);
    while (count-- > 0) {
        const char *pc = pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))];
        size_t l = strlen(pc);
        if (k + l > max) {
            break;
        }
        memcpy(s + k, pc, l);
        k += l;
    }
    *n = k;
}

static void gen_value(smpdfu_cbor_enc_t *e, text_t *t, int depth);

static void gen_leaf(smpdfu_cbor_enc_t *e, text_t *t)
{
    uint8_t s[300] = {0};
    size_t n, i;
    uint64_t u;

    switch (rnd_below(8)) {
    case 0:
        u = rnd_arg();
        smpdfu_cbor_put_uint(e, u);
        tput(t, "{\"i\": %" PRIu64 "}", u);
        break;
    case 1: {
        int64_t v = (int64_t)rnd_arg();
        smpdfu_cbor_put_int(e, v);
        tput(t, "{\"i\": %" PRId64 "}", v);
        break;
    }
    case 2:
        u = rnd_arg();
        smpdfu_cbor_put_nint(e, u);
        if (u == UINT64_MAX) {
            tput(t, "{\"i\": -18446744073709551616}");
        } else {
            tput(t, "{\"i\": -%" PRIu64 "}", u + 1);
        }
        break;
    case 3:
        n = rnd_below(4) == 0 ? (size_t)rnd_below(300) : (size_t)rnd_below(30);
        for (i = 0; i < n; i++) {
            s[i] = (uint8_t)rnd();
        }
        if (rnd_below(2)) {
            smpdfu_cbor_put_bstr(e, s, n);
        } else {
            uint8_t *p = smpdfu_cbor_put_bstr_reserve(e, n);
            if (p != NULL) {
                memcpy(p, s, n);
            }
        }
        tput(t, "{\"b\": \"");
        thex(t, s, n);
        tput(t, "\"}");
        break;
    case 4:
        gen_text(s, &n, rnd_below(4) == 0 ? 280 : 20);
        smpdfu_cbor_put_tstr(e, (const char *)s, n);
        tput(t, "{\"t\": \"");
        thex(t, s, n);
        tput(t, "\"}");
        break;
    case 5:
        u = rnd_below(2);
        smpdfu_cbor_put_bool(e, u != 0);
        tput(t, "{\"bool\": %s}", u ? "true" : "false");
        break;
    case 6:
        smpdfu_cbor_put_null(e);
        tput(t, "{\"null\": 0}");
        break;
    default: {
        /* NUL-terminated text through put_tstrz */
        char z[24];
        size_t k = (size_t)rnd_below(sizeof(z) - 1);
        for (i = 0; i < k; i++) {
            z[i] = (char)('a' + rnd_below(26));
        }
        z[k] = '\0';
        smpdfu_cbor_put_tstrz(e, z);
        tput(t, "{\"t\": \"");
        thex(t, (const uint8_t *)z, k);
        tput(t, "\"}");
        break;
    }
    }
}

static void gen_value(smpdfu_cbor_enc_t *e, text_t *t, int depth)
{
    uint64_t n, i;
    bool indef;

    if (depth >= 6 || rnd_below(3) != 0) {
        gen_leaf(e, t);
        return;
    }
    n = rnd_below(6);
    indef = rnd_below(2) != 0;
    if (rnd_below(2)) {
        smpdfu_cbor_array_begin(e, indef ? SMPDFU_CBOR_INDEF : n);
        tput(t, "{\"indef\": %d, \"a\": [", indef);
        for (i = 0; i < n; i++) {
            tput(t, "%s", i ? ", " : "");
            gen_value(e, t, depth + 1);
        }
    } else {
        smpdfu_cbor_map_begin(e, indef ? SMPDFU_CBOR_INDEF : n);
        tput(t, "{\"indef\": %d, \"m\": [", indef);
        for (i = 0; i < n; i++) {
            /* distinct keys, text or integer, so dict comparison is exact */
            tput(t, "%s[", i ? ", " : "");
            if (rnd_below(2)) {
                char k[24];
                snprintf(k, sizeof(k), "k%" PRIu64, i);
                smpdfu_cbor_put_tstrz(e, k);
                tput(t, "{\"t\": \"");
                thex(t, (const uint8_t *)k, strlen(k));
                tput(t, "\"}");
            } else {
                smpdfu_cbor_put_int(e, (int64_t)i - 2);
                tput(t, "{\"i\": %" PRId64 "}", (int64_t)i - 2);
            }
            tput(t, ", ");
            gen_value(e, t, depth + 1);
            tput(t, "]");
        }
    }
    if (indef) {
        smpdfu_cbor_put_break(e);
    }
    tput(t, "]}");
}

static int cmd_gen(uint64_t seed, unsigned long count)
{
    static uint8_t buf[MAX_DOC];
    static char desc[8 * MAX_DOC];
    unsigned long k;

    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    for (k = 0; k < count; k++) {
        smpdfu_cbor_enc_t e;
        text_t t = {desc, sizeof(desc), 0};

        smpdfu_cbor_enc_init(&e, buf, sizeof(buf));
        gen_value(&e, &t, 0);
        if (e.err != 0) {
            fprintf(stderr, "encoder: %s\n", smpdfu_err_name(e.err));
            return 1;
        }
        print_hex(buf, e.len);
        printf(" %s\n", desc);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "decode") == 0) {
        return cmd_decode();
    }
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        return cmd_gen(strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
    }
    fprintf(stderr, "usage: cbor_oracle decode | cbor_oracle gen SEED COUNT\n");
    return 2;
}
