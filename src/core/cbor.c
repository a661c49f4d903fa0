/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CBOR subset for SMP (RFC 8949): encoder with preferred heads and sticky
 * errors, pull decoder with strict bounds, iterative skip, map field tables.
 *
 * Every decoder entry point leaves d->pos unchanged when it fails, so a
 * caller can report the error and still know where parsing stopped.
 */
#include "smpdfu/cbor.h"

#include <string.h>

/* Major types (RFC 8949 section 3.1). */
enum {
    MT_UINT = 0,
    MT_NINT = 1,
    MT_BSTR = 2,
    MT_TSTR = 3,
    MT_ARRAY = 4,
    MT_MAP = 5,
    MT_TAG = 6,
    MT_SIMPLE = 7
};

#define AI_INDEF 31u

/* ---------------------------------------------------------------- encoder */

void smpdfu_cbor_enc_init(smpdfu_cbor_enc_t *e, uint8_t *buf, size_t cap)
{
    if (e == NULL) {
        return;
    }
    e->buf = buf;
    e->cap = buf != NULL ? cap : 0;
    e->len = 0;
    e->err = 0;
}

size_t smpdfu_cbor_head_len(uint64_t v)
{
    if (v < 24) {
        return 1;
    }
    if (v <= 0xffu) {
        return 2;
    }
    if (v <= 0xffffu) {
        return 3;
    }
    if (v <= 0xffffffffu) {
        return 5;
    }
    return 9;
}

static int fail(smpdfu_cbor_enc_t *e, int err)
{
    e->err = err;
    return err;
}

/* True when `n` more bytes fit; written so that no sum can overflow. */
static bool room(const smpdfu_cbor_enc_t *e, size_t n)
{
    return e->cap - e->len >= n;
}

/* Write the preferred (shortest) head for major type mt with argument v. */
static int put_head(smpdfu_cbor_enc_t *e, unsigned mt, uint64_t v)
{
    size_t hl = smpdfu_cbor_head_len(v);
    uint8_t *p;
    size_t i;

    if (e->err != 0) {
        return e->err;
    }
    if (!room(e, hl)) {
        return fail(e, SMPDFU_ENOSPC);
    }
    p = e->buf + e->len;
    switch (hl) {
    case 1:
        p[0] = (uint8_t)((mt << 5) | (unsigned)v);
        break;
    case 2:
        p[0] = (uint8_t)((mt << 5) | 24u);
        break;
    case 3:
        p[0] = (uint8_t)((mt << 5) | 25u);
        break;
    case 5:
        p[0] = (uint8_t)((mt << 5) | 26u);
        break;
    default:
        p[0] = (uint8_t)((mt << 5) | 27u);
        break;
    }
    /* Argument bytes, big-endian. */
    for (i = 1; i < hl; i++) {
        p[i] = (uint8_t)(v >> (8u * (unsigned)(hl - 1 - i)));
    }
    e->len += hl;
    return 0;
}

static int put_byte(smpdfu_cbor_enc_t *e, uint8_t b)
{
    if (e->err != 0) {
        return e->err;
    }
    if (!room(e, 1)) {
        return fail(e, SMPDFU_ENOSPC);
    }
    e->buf[e->len++] = b;
    return 0;
}

int smpdfu_cbor_put_uint(smpdfu_cbor_enc_t *e, uint64_t v)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    return put_head(e, MT_UINT, v);
}

int smpdfu_cbor_put_nint(smpdfu_cbor_enc_t *e, uint64_t u)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    return put_head(e, MT_NINT, u);
}

int smpdfu_cbor_put_int(smpdfu_cbor_enc_t *e, int64_t v)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (v >= 0) {
        return put_head(e, MT_UINT, (uint64_t)v);
    }
    /* -1 - v without overflow: v + 1 is >= INT64_MIN + 1, so it negates safely. */
    return put_head(e, MT_NINT, (uint64_t)(-(v + 1)));
}

static int put_string(smpdfu_cbor_enc_t *e, unsigned mt, const void *p, size_t n)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (e->err != 0) {
        return e->err;
    }
    if (p == NULL && n != 0) {
        return fail(e, SMPDFU_EINVAL);
    }
    /* Check head and body together so a failed string leaves no half item. */
    if (!room(e, smpdfu_cbor_head_len(n)) || e->cap - e->len - smpdfu_cbor_head_len(n) < n) {
        return fail(e, SMPDFU_ENOSPC);
    }
    (void)put_head(e, mt, n);
    if (n != 0) {
        memcpy(e->buf + e->len, p, n);
        e->len += n;
    }
    return 0;
}

int smpdfu_cbor_put_bstr(smpdfu_cbor_enc_t *e, const void *p, size_t n)
{
    return put_string(e, MT_BSTR, p, n);
}

int smpdfu_cbor_put_tstr(smpdfu_cbor_enc_t *e, const char *s, size_t n)
{
    return put_string(e, MT_TSTR, s, n);
}

int smpdfu_cbor_put_tstrz(smpdfu_cbor_enc_t *e, const char *s)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (e->err != 0) {
        return e->err;
    }
    if (s == NULL) {
        return fail(e, SMPDFU_EINVAL);
    }
    return put_string(e, MT_TSTR, s, strlen(s));
}

int smpdfu_cbor_put_bool(smpdfu_cbor_enc_t *e, bool v)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    return put_byte(e, v ? 0xf5 : 0xf4);
}

int smpdfu_cbor_put_null(smpdfu_cbor_enc_t *e)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    return put_byte(e, 0xf6);
}

int smpdfu_cbor_map_begin(smpdfu_cbor_enc_t *e, uint64_t n)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (n == SMPDFU_CBOR_INDEF) {
        return put_byte(e, (uint8_t)((MT_MAP << 5) | AI_INDEF));
    }
    return put_head(e, MT_MAP, n);
}

int smpdfu_cbor_array_begin(smpdfu_cbor_enc_t *e, uint64_t n)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (n == SMPDFU_CBOR_INDEF) {
        return put_byte(e, (uint8_t)((MT_ARRAY << 5) | AI_INDEF));
    }
    return put_head(e, MT_ARRAY, n);
}

int smpdfu_cbor_put_break(smpdfu_cbor_enc_t *e)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    return put_byte(e, 0xff);
}

int smpdfu_cbor_put_raw(smpdfu_cbor_enc_t *e, const void *p, size_t n)
{
    if (e == NULL) {
        return SMPDFU_EINVAL;
    }
    if (e->err != 0) {
        return e->err;
    }
    if (p == NULL && n != 0) {
        return fail(e, SMPDFU_EINVAL);
    }
    if (!room(e, n)) {
        return fail(e, SMPDFU_ENOSPC);
    }
    if (n != 0) {
        memcpy(e->buf + e->len, p, n);
        e->len += n;
    }
    return 0;
}

uint8_t *smpdfu_cbor_put_bstr_reserve(smpdfu_cbor_enc_t *e, size_t n)
{
    uint8_t *p;

    if (e == NULL || e->err != 0) {
        return NULL;
    }
    if (!room(e, smpdfu_cbor_head_len(n)) || e->cap - e->len - smpdfu_cbor_head_len(n) < n) {
        (void)fail(e, SMPDFU_ENOSPC);
        return NULL;
    }
    (void)put_head(e, MT_BSTR, n);
    p = e->buf + e->len;
    e->len += n;
    return p;
}

/* ---------------------------------------------------------------- decoder */

void smpdfu_cbor_dec_init(smpdfu_cbor_dec_t *d, const uint8_t *buf, size_t len)
{
    if (d == NULL) {
        return;
    }
    d->buf = buf;
    d->len = buf != NULL ? len : 0;
    d->pos = 0;
}

/* One raw head: major type, additional info and argument. */
typedef struct {
    unsigned mt;
    unsigned ai;
    uint64_t arg; /* 0 for indefinite (ai 31) */
} head_t;

/* Parse the head at *pos (advancing it). Checks only what every head needs:
 * bytes present, additional info not reserved. */
static int read_head(const uint8_t *buf, size_t len, size_t *pos, head_t *h)
{
    size_t p = *pos;
    size_t n, i;
    uint8_t ib;

    if (p >= len) {
        return SMPDFU_ETRUNC;
    }
    ib = buf[p++];
    h->mt = ib >> 5;
    h->ai = ib & 0x1fu;
    h->arg = 0;
    if (h->ai < 24) {
        h->arg = h->ai;
    } else if (h->ai <= 27) {
        n = (size_t)1 << (h->ai - 24); /* 1, 2, 4 or 8 argument bytes */
        if (len - p < n) {
            return SMPDFU_ETRUNC;
        }
        for (i = 0; i < n; i++) {
            h->arg = (h->arg << 8) | buf[p + i];
        }
        p += n;
    } else if (h->ai < AI_INDEF) {
        return SMPDFU_EMALFORMED; /* 28..30 are reserved */
    }
    *pos = p;
    return 0;
}

/* Consume the chunks of an indefinite string whose head was already read;
 * each chunk must be a definite string of the same major type. */
static int skip_indef_string(const uint8_t *buf, size_t len, size_t *pos, unsigned mt,
                             uint64_t *total)
{
    size_t p = *pos;
    head_t h;
    int r;

    *total = 0;
    for (;;) {
        r = read_head(buf, len, &p, &h);
        if (r != 0) {
            return r;
        }
        if (h.mt == MT_SIMPLE && h.ai == AI_INDEF) {
            break;
        }
        if (h.mt != mt || h.ai == AI_INDEF) {
            return SMPDFU_EMALFORMED;
        }
        if (h.arg > len - p) {
            return SMPDFU_ETRUNC;
        }
        p += (size_t)h.arg;
        *total += h.arg;
    }
    *pos = p;
    return 0;
}

/* Decode one item at *pos; on success advance *pos past it (whole string,
 * or container head only). Tags are consumed in front of their content. */
static int decode_item(const uint8_t *buf, size_t len, size_t *pos, smpdfu_cbor_item_t *it)
{
    size_t p = *pos;
    bool tagged = false;
    head_t h;
    int r;

    for (;;) {
        r = read_head(buf, len, &p, &h);
        if (r != 0) {
            return r;
        }
        if (h.mt != MT_TAG) {
            break;
        }
        if (h.ai == AI_INDEF) {
            return SMPDFU_EMALFORMED;
        }
        tagged = true;
    }

    it->indef = (h.ai == AI_INDEF);
    it->u = h.arg;
    it->ptr = NULL;
    switch (h.mt) {
    case MT_UINT:
    case MT_NINT:
        if (it->indef) {
            return SMPDFU_EMALFORMED;
        }
        it->type = h.mt == MT_UINT ? SMPDFU_CBOR_UINT : SMPDFU_CBOR_NINT;
        break;
    case MT_BSTR:
    case MT_TSTR:
        it->type = h.mt == MT_BSTR ? SMPDFU_CBOR_BSTR : SMPDFU_CBOR_TSTR;
        if (it->indef) {
            r = skip_indef_string(buf, len, &p, h.mt, &it->u);
            if (r != 0) {
                return r;
            }
        } else {
            /* Compare against what remains: p + arg could overflow. */
            if (h.arg > len - p) {
                return SMPDFU_ETRUNC;
            }
            it->ptr = buf + p;
            p += (size_t)h.arg;
        }
        break;
    case MT_ARRAY:
    case MT_MAP:
        it->type = h.mt == MT_ARRAY ? SMPDFU_CBOR_ARRAY : SMPDFU_CBOR_MAP;
        /* Every member takes at least one byte, so a count larger than the
         * rest of the input can never complete (and would make 2 * pairs
         * overflow for maps). */
        if (!it->indef) {
            uint64_t rest = len - p;
            if (h.mt == MT_MAP ? h.arg > rest / 2 : h.arg > rest) {
                return SMPDFU_ETRUNC;
            }
        }
        break;
    default: /* MT_SIMPLE */
        if (h.ai == AI_INDEF) {
            if (tagged) {
                return SMPDFU_EMALFORMED; /* a tag needs a content value */
            }
            it->type = SMPDFU_CBOR_BREAK;
        } else if (h.ai == 20 || h.ai == 21) {
            it->type = SMPDFU_CBOR_BOOL;
            it->u = h.ai - 20u;
        } else if (h.ai == 22) {
            it->type = SMPDFU_CBOR_NULL;
        } else if (h.ai == 23) {
            it->type = SMPDFU_CBOR_UNDEF;
        } else if (h.ai == 24 && h.arg < 32) {
            /* Simple values below 32 must use the one-byte form. */
            return SMPDFU_EMALFORMED;
        } else {
            it->type = SMPDFU_CBOR_OTHER; /* simple value or float */
        }
        break;
    }
    *pos = p;
    return 0;
}

int smpdfu_cbor_next(smpdfu_cbor_dec_t *d, smpdfu_cbor_item_t *it)
{
    smpdfu_cbor_item_t tmp;
    size_t p;
    int r;

    if (d == NULL || it == NULL || d->pos > d->len) {
        return SMPDFU_EINVAL;
    }
    p = d->pos;
    r = decode_item(d->buf, d->len, &p, &tmp);
    if (r != 0) {
        return r;
    }
    *it = tmp;
    d->pos = p;
    return 0;
}

int smpdfu_cbor_peek(const smpdfu_cbor_dec_t *d, smpdfu_cbor_item_t *it)
{
    smpdfu_cbor_dec_t c;

    if (d == NULL) {
        return SMPDFU_EINVAL;
    }
    c = *d;
    return smpdfu_cbor_next(&c, it);
}

/* One open container while skipping. */
typedef struct {
    uint64_t left; /* items (not pairs) still expected when definite */
    bool indef;
    bool map;
    bool odd;      /* indefinite map: a key was read, its value is pending */
} level_t;

int smpdfu_cbor_skip(smpdfu_cbor_dec_t *d)
{
    level_t stack[SMPDFU_CBOR_MAX_DEPTH];
    size_t depth = 0;
    smpdfu_cbor_item_t it;
    size_t p;
    int r;

    if (d == NULL || d->pos > d->len) {
        return SMPDFU_EINVAL;
    }
    p = d->pos;
    for (;;) {
        r = decode_item(d->buf, d->len, &p, &it);
        if (r != 0) {
            return r;
        }
        if (it.type == SMPDFU_CBOR_BREAK) {
            /* Only closes an indefinite container, and never between a
             * map key and its value. */
            if (depth == 0 || !stack[depth - 1].indef || stack[depth - 1].odd) {
                return SMPDFU_EMALFORMED;
            }
            depth--;
        } else if (it.type == SMPDFU_CBOR_ARRAY || it.type == SMPDFU_CBOR_MAP) {
            if (depth == SMPDFU_CBOR_MAX_DEPTH) {
                return SMPDFU_EDEPTH;
            }
            if (it.indef || it.u != 0) {
                level_t *l = &stack[depth++];
                l->indef = it.indef;
                l->map = it.type == SMPDFU_CBOR_MAP;
                l->odd = false;
                /* decode_item bounded u by the input size: no overflow. */
                l->left = l->map ? it.u * 2 : it.u;
                continue; /* members follow */
            }
        }
        /* A complete value ended here: count it in the enclosing levels,
         * closing every definite container it completes. */
        while (depth > 0) {
            level_t *l = &stack[depth - 1];
            if (l->indef) {
                if (l->map) {
                    l->odd = !l->odd;
                }
                break;
            }
            if (--l->left != 0) {
                break;
            }
            depth--;
        }
        if (depth == 0) {
            d->pos = p;
            return 0;
        }
    }
}

static int enter(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c, smpdfu_cbor_type_t want)
{
    smpdfu_cbor_item_t it;
    smpdfu_cbor_dec_t t;
    int r;

    if (d == NULL || c == NULL) {
        return SMPDFU_EINVAL;
    }
    t = *d;
    r = smpdfu_cbor_next(&t, &it);
    if (r != 0) {
        return r;
    }
    if (it.type != want) {
        return SMPDFU_ETYPE;
    }
    c->indef = it.indef;
    c->left = it.indef ? 0 : it.u;
    *d = t;
    return 0;
}

int smpdfu_cbor_enter_map(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c)
{
    return enter(d, c, SMPDFU_CBOR_MAP);
}

int smpdfu_cbor_enter_array(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c)
{
    return enter(d, c, SMPDFU_CBOR_ARRAY);
}

int smpdfu_cbor_more(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c)
{
    smpdfu_cbor_item_t it;
    int r;

    if (d == NULL || c == NULL) {
        return SMPDFU_EINVAL;
    }
    if (!c->indef) {
        if (c->left == 0) {
            return 0;
        }
        c->left--;
        return 1;
    }
    r = smpdfu_cbor_peek(d, &it);
    if (r != 0) {
        return r;
    }
    if (it.type == SMPDFU_CBOR_BREAK) {
        d->pos++; /* a break is always exactly one byte */
        return 0;
    }
    return 1;
}

/* Peek the next item and require a type; used by the typed reads. */
static int peek_type(const smpdfu_cbor_dec_t *d, smpdfu_cbor_item_t *it, size_t *end,
                     smpdfu_cbor_type_t want)
{
    size_t p;
    int r;

    if (d == NULL || d->pos > d->len) {
        return SMPDFU_EINVAL;
    }
    p = d->pos;
    r = decode_item(d->buf, d->len, &p, it);
    if (r != 0) {
        return r;
    }
    *end = p;
    return it->type == want ? 0 : SMPDFU_ETYPE;
}

/* Read and consume an item of type `want` whose whole value is it.u
 * (uint, bool); u may be NULL; the decoder does not move on an error. */
static int get_simple(smpdfu_cbor_dec_t *d, smpdfu_cbor_type_t want, uint64_t *u)
{
    smpdfu_cbor_item_t it;
    size_t end = 0;
    int r = peek_type(d, &it, &end, want);

    if (r != 0) {
        return r;
    }
    if (u != NULL) {
        *u = it.u;
    }
    d->pos = end;
    return 0;
}

int smpdfu_cbor_get_uint(smpdfu_cbor_dec_t *d, uint64_t *v)
{
    return get_simple(d, SMPDFU_CBOR_UINT, v);
}

int smpdfu_cbor_get_int(smpdfu_cbor_dec_t *d, int64_t *v)
{
    smpdfu_cbor_item_t it;
    size_t end = 0;
    int64_t x;
    int r = peek_type(d, &it, &end, SMPDFU_CBOR_UINT);

    if (r == SMPDFU_ETYPE && it.type == SMPDFU_CBOR_NINT) {
        r = 0;
    }
    if (r != 0) {
        return r;
    }
    if (it.u > (uint64_t)INT64_MAX) {
        return SMPDFU_ERANGE;
    }
    /* -1 - u >= INT64_MIN exactly when u <= INT64_MAX. */
    x = it.type == SMPDFU_CBOR_UINT ? (int64_t)it.u : -1 - (int64_t)it.u;
    if (v != NULL) {
        *v = x;
    }
    d->pos = end;
    return 0;
}

int smpdfu_cbor_get_bool(smpdfu_cbor_dec_t *d, bool *v)
{
    uint64_t u = 0;
    int r = get_simple(d, SMPDFU_CBOR_BOOL, &u);

    if (r == 0 && v != NULL) {
        *v = u != 0;
    }
    return r;
}

static int get_string(smpdfu_cbor_dec_t *d, smpdfu_cbor_type_t want, const uint8_t **p, size_t *n)
{
    smpdfu_cbor_item_t it;
    size_t end = 0;
    int r = peek_type(d, &it, &end, want);

    if (r != 0) {
        return r;
    }
    if (it.indef) {
        return SMPDFU_ENOTSUP; /* chunked strings have no single slice */
    }
    if (p != NULL) {
        *p = it.ptr;
    }
    if (n != NULL) {
        *n = (size_t)it.u; /* bounded by the input length */
    }
    d->pos = end;
    return 0;
}

int smpdfu_cbor_get_bstr(smpdfu_cbor_dec_t *d, const uint8_t **p, size_t *n)
{
    return get_string(d, SMPDFU_CBOR_BSTR, p, n);
}

int smpdfu_cbor_get_tstr(smpdfu_cbor_dec_t *d, const char **p, size_t *n)
{
    const uint8_t *q = NULL;
    int r = get_string(d, SMPDFU_CBOR_TSTR, &q, n);

    if (r == 0 && p != NULL) {
        *p = (const char *)q;
    }
    return r;
}

bool smpdfu_cbor_str_eq(const char *p, size_t n, const char *key)
{
    size_t i;

    if (key == NULL || (p == NULL && n != 0)) {
        return false;
    }
    /* Walk both so that a key shorter than n never reads past its NUL. */
    for (i = 0; i < n; i++) {
        if (key[i] == '\0' || key[i] != p[i]) {
            return false;
        }
    }
    return key[n] == '\0';
}

/* ------------------------------------------------------- map field tables */

/* Read the value of a matched field into its output. */
static int decode_field(smpdfu_cbor_dec_t *d, const smpdfu_cbor_field_t *f)
{
    smpdfu_cbor_item_t it;
    smpdfu_cbor_slice_t s;
    size_t start = d->pos;
    int r;

    switch (f->type) {
    case SMPDFU_CBOR_UINT:
        return smpdfu_cbor_get_uint(d, (uint64_t *)f->out);
    case SMPDFU_CBOR_NINT:
        return smpdfu_cbor_get_int(d, (int64_t *)f->out);
    case SMPDFU_CBOR_BOOL:
        return smpdfu_cbor_get_bool(d, (bool *)f->out);
    case SMPDFU_CBOR_BSTR:
    case SMPDFU_CBOR_TSTR:
        r = get_string(d, f->type, &s.ptr, &s.len);
        if (r == 0 && f->out != NULL) {
            *(smpdfu_cbor_slice_t *)f->out = s;
        }
        return r;
    case SMPDFU_CBOR_NULL:
    case SMPDFU_CBOR_UNDEF:
        r = smpdfu_cbor_peek(d, &it);
        if (r != 0) {
            return r;
        }
        return it.type == f->type ? smpdfu_cbor_next(d, &it) : SMPDFU_ETYPE;
    case SMPDFU_CBOR_MAP:
    case SMPDFU_CBOR_ARRAY:
    case SMPDFU_CBOR_OTHER:
    case SMPDFU_CBOR_ANY:
        r = smpdfu_cbor_peek(d, &it);
        if (r != 0) {
            return r;
        }
        if (f->type != SMPDFU_CBOR_ANY && it.type != f->type) {
            return SMPDFU_ETYPE;
        }
        r = smpdfu_cbor_skip(d);
        if (r != 0) {
            return r;
        }
        if (f->out != NULL) {
            s.ptr = d->buf + start;
            s.len = d->pos - start;
            *(smpdfu_cbor_slice_t *)f->out = s;
        }
        return 0;
    default: /* BREAK is not a value */
        return SMPDFU_EINVAL;
    }
}

int smpdfu_cbor_decode_map(smpdfu_cbor_dec_t *d, const smpdfu_cbor_field_t *fields, size_t n)
{
    smpdfu_cbor_container_t c;
    smpdfu_cbor_item_t key;
    uint64_t seen = 0; /* bit i: fields[i] was matched */
    size_t start, i;
    int r;

    if (d == NULL || (fields == NULL && n != 0) || n > SMPDFU_CBOR_MAX_FIELDS) {
        return SMPDFU_EINVAL;
    }
    for (i = 0; i < n; i++) {
        if (fields[i].found != NULL) {
            *fields[i].found = false;
        }
    }
    start = d->pos;
    r = smpdfu_cbor_enter_map(d, &c);
    if (r != 0) {
        return r;
    }
    while ((r = smpdfu_cbor_more(d, &c)) > 0) {
        r = smpdfu_cbor_peek(d, &key);
        if (r != 0) {
            break;
        }
        i = n;
        if (key.type == SMPDFU_CBOR_TSTR && !key.indef) {
            (void)smpdfu_cbor_next(d, &key);
            for (i = 0; i < n; i++) {
                if (smpdfu_cbor_str_eq((const char *)key.ptr, (size_t)key.u, fields[i].key)) {
                    break;
                }
            }
        } else {
            /* Other keys cannot name a field: skip them with their value. */
            r = smpdfu_cbor_skip(d);
            if (r != 0) {
                break;
            }
        }
        if (i == n) {
            r = smpdfu_cbor_skip(d);
        } else if (smpdfu_cbor_peek(d, &key) == 0 && key.type == SMPDFU_CBOR_BREAK) {
            r = SMPDFU_EMALFORMED; /* a key without a value */
        } else if (seen & ((uint64_t)1 << i)) {
            r = SMPDFU_EDUPLICATE;
        } else {
            seen |= (uint64_t)1 << i;
            r = decode_field(d, &fields[i]);
            if (r == 0 && fields[i].found != NULL) {
                *fields[i].found = true;
            }
        }
        if (r != 0) {
            break;
        }
    }
    if (r != 0) {
        d->pos = start;
        return r;
    }
    return 0;
}
