/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the CBOR subset SMP uses (RFC 8949).
 *
 * Encoder: writes into a caller-owned buffer. Errors are sticky: after the
 * first failure every later call does nothing and returns the same error, so
 * a request can be built with a run of calls and checked once at the end.
 *
 * Decoder: a pull parser over a caller-owned buffer; it never copies strings
 * (items point into the input) and never recurses: skipping nested values
 * keeps a fixed-size stack of at most SMPDFU_CBOR_MAX_DEPTH levels.
 *
 * Supported: unsigned/negative integers up to 64 bits, byte and text strings
 * (definite; indefinite strings are skipped but not returned), definite and
 * indefinite arrays and maps, false/true/null/undefined, break. Tags are
 * skipped transparently (their content is returned). Floats and other simple
 * values can be skipped but not returned as values.
 */
#ifndef SMPDFU_CBOR_H
#define SMPDFU_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays/maps the decoder accepts (SMP needs 4). */
#ifndef SMPDFU_CBOR_MAX_DEPTH
#define SMPDFU_CBOR_MAX_DEPTH 16
#endif

/* Pass as the count to map/array begin for an indefinite-length container. */
#define SMPDFU_CBOR_INDEF UINT64_MAX

/* ---------------------------------------------------------------- encoder */

typedef struct {
    uint8_t *buf; /* caller-owned output */
    size_t cap;   /* capacity of buf */
    size_t len;   /* bytes written so far */
    int err;      /* first error (0 while all calls succeeded) */
} smpdfu_cbor_enc_t;

/* Start encoding into buf[0..cap). */
void smpdfu_cbor_enc_init(smpdfu_cbor_enc_t *e, uint8_t *buf, size_t cap);

/* Each put returns 0 or the sticky error (SMPDFU_ENOSPC when buf is full,
 * SMPDFU_EINVAL for a NULL pointer with a non-zero length). */
int smpdfu_cbor_put_uint(smpdfu_cbor_enc_t *e, uint64_t v);
int smpdfu_cbor_put_int(smpdfu_cbor_enc_t *e, int64_t v);
/* Negative integer -1 - u (major 1), for values below INT64_MIN down to -2^64. */
int smpdfu_cbor_put_nint(smpdfu_cbor_enc_t *e, uint64_t u);
int smpdfu_cbor_put_bstr(smpdfu_cbor_enc_t *e, const void *p, size_t n);
int smpdfu_cbor_put_tstr(smpdfu_cbor_enc_t *e, const char *s, size_t n);
int smpdfu_cbor_put_tstrz(smpdfu_cbor_enc_t *e, const char *s); /* NUL-terminated */
int smpdfu_cbor_put_bool(smpdfu_cbor_enc_t *e, bool v);
int smpdfu_cbor_put_null(smpdfu_cbor_enc_t *e);
/* n = number of pairs (map) or items (array), or SMPDFU_CBOR_INDEF; an
 * indefinite container must be closed with smpdfu_cbor_put_break(). */
int smpdfu_cbor_map_begin(smpdfu_cbor_enc_t *e, uint64_t n);
int smpdfu_cbor_array_begin(smpdfu_cbor_enc_t *e, uint64_t n);
int smpdfu_cbor_put_break(smpdfu_cbor_enc_t *e);
/* Copy an already-encoded CBOR value verbatim. */
int smpdfu_cbor_put_raw(smpdfu_cbor_enc_t *e, const void *p, size_t n);
/* Reserve n bytes of a byte string and return a pointer to fill them in place
 * (lets an upload chunk be read from its source straight into the packet).
 * Returns NULL and sets the sticky error when it does not fit. */
uint8_t *smpdfu_cbor_put_bstr_reserve(smpdfu_cbor_enc_t *e, size_t n);

/* Bytes needed for the head of an item with argument v (1, 2, 3, 5 or 9). */
size_t smpdfu_cbor_head_len(uint64_t v);

/* ---------------------------------------------------------------- decoder */

typedef enum {
    SMPDFU_CBOR_UINT,   /* major 0: item.u */
    SMPDFU_CBOR_NINT,   /* major 1: value is -1 - item.u */
    SMPDFU_CBOR_BSTR,   /* major 2: item.ptr, item.u = length */
    SMPDFU_CBOR_TSTR,   /* major 3: item.ptr, item.u = length (UTF-8 not checked) */
    SMPDFU_CBOR_ARRAY,  /* major 4: item.u = count, or item.indef */
    SMPDFU_CBOR_MAP,    /* major 5: item.u = number of pairs, or item.indef */
    SMPDFU_CBOR_BOOL,   /* item.u = 0 / 1 */
    SMPDFU_CBOR_NULL,
    SMPDFU_CBOR_UNDEF,
    SMPDFU_CBOR_BREAK,  /* 0xff */
    SMPDFU_CBOR_OTHER,  /* float or other simple value: can only be skipped */
    SMPDFU_CBOR_ANY     /* for field tables: accept any type (see below) */
} smpdfu_cbor_type_t;

typedef struct {
    smpdfu_cbor_type_t type;
    bool indef;          /* indefinite array/map (or skipped indefinite string) */
    uint64_t u;          /* argument: value, length or count */
    const uint8_t *ptr;  /* strings: first byte, inside the input buffer */
} smpdfu_cbor_item_t;

typedef struct {
    const uint8_t *buf; /* caller-owned input, must outlive the decoder */
    size_t len;
    size_t pos;         /* next byte to read */
} smpdfu_cbor_dec_t;

void smpdfu_cbor_dec_init(smpdfu_cbor_dec_t *d, const uint8_t *buf, size_t len);

/* Read the next item head (for strings: the whole string) and advance past it.
 * For arrays/maps only the head is consumed; the caller reads the members.
 * Errors: SMPDFU_ETRUNC (also for a length, or a definite array/map count,
 * larger than the rest of the input), SMPDFU_EMALFORMED (reserved additional
 * info, ...). An indefinite string is consumed whole: type BSTR/TSTR,
 * indef = true, u = total length, ptr = NULL. */
int smpdfu_cbor_next(smpdfu_cbor_dec_t *d, smpdfu_cbor_item_t *it);

/* All decoder functions leave d->pos unchanged when they fail. */

/* Look at the next item without consuming it. */
int smpdfu_cbor_peek(const smpdfu_cbor_dec_t *d, smpdfu_cbor_item_t *it);

/* Skip exactly one complete value (including everything nested in it),
 * iteratively. Errors: ETRUNC, EMALFORMED, EDEPTH. A BREAK here is EMALFORMED. */
int smpdfu_cbor_skip(smpdfu_cbor_dec_t *d);

/* Container iteration. enter_* consumes the head and fills c; then
 *   while ((r = smpdfu_cbor_more(d, &c)) > 0) { read key+value or item }
 * more() returns 1 while members remain, 0 at the end (consuming the break of
 * an indefinite container), or a negative error. */
typedef struct {
    uint64_t left; /* members left (pairs for a map) when definite */
    bool indef;
} smpdfu_cbor_container_t;

int smpdfu_cbor_enter_map(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c);
int smpdfu_cbor_enter_array(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c);
int smpdfu_cbor_more(smpdfu_cbor_dec_t *d, smpdfu_cbor_container_t *c);

/* Typed reads; SMPDFU_ETYPE if the next item has another type (nothing is
 * consumed then), SMPDFU_ERANGE if it does not fit. Output pointers may be
 * NULL. get_bstr/get_tstr on an indefinite (chunked) string: SMPDFU_ENOTSUP. */
int smpdfu_cbor_get_uint(smpdfu_cbor_dec_t *d, uint64_t *v);
int smpdfu_cbor_get_int(smpdfu_cbor_dec_t *d, int64_t *v);
int smpdfu_cbor_get_bool(smpdfu_cbor_dec_t *d, bool *v);
int smpdfu_cbor_get_bstr(smpdfu_cbor_dec_t *d, const uint8_t **p, size_t *n);
int smpdfu_cbor_get_tstr(smpdfu_cbor_dec_t *d, const char **p, size_t *n);

/* True when the text string (p, n) equals the NUL-terminated key. */
bool smpdfu_cbor_str_eq(const char *p, size_t n, const char *key);

/* ------------------------------------------------------- map field tables */

/* A slice of the input: a string's bytes, or the encoded bytes of a value. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} smpdfu_cbor_slice_t;

/* Most fields one decode_map call can take (duplicates are tracked in a
 * 64-bit mask, so no memory is needed per field). */
#define SMPDFU_CBOR_MAX_FIELDS 64

/* One expected key of a map with text keys. `out` by type:
 *   UINT  -> uint64_t*        NINT/INT: use SMPDFU_CBOR_NINT -> int64_t* (accepts major 0 and 1)
 *   BSTR, TSTR -> smpdfu_cbor_slice_t* (the string bytes)
 *   BOOL  -> bool*
 *   MAP, ARRAY, ANY -> smpdfu_cbor_slice_t* (the complete encoded value, to
 *                      decode later with a new decoder)
 *   OTHER -> smpdfu_cbor_slice_t* (encoded float/simple value)
 *   NULL, UNDEF -> out unused (the value must be null/undefined)
 * `out` may be NULL (the value is checked and skipped). Indefinite strings
 * for BSTR/TSTR fields give SMPDFU_ENOTSUP.
 * `found` (may be NULL) is set false at the start of decode_map and true
 * when the key was present. */
typedef struct {
    const char *key;
    smpdfu_cbor_type_t type;
    void *out;
    bool *found;
} smpdfu_cbor_field_t;

/* Decode one map from the decoder's position, filling the fields it names.
 * Unknown keys (and non-text keys) are skipped. A known key present twice
 * gives SMPDFU_EDUPLICATE, a known key with the wrong type SMPDFU_ETYPE
 * (Zephyr's zcbor_bulk rules, which answer both with MGMT_ERR_EINVAL).
 * Not a map: SMPDFU_ETYPE. More than SMPDFU_CBOR_MAX_FIELDS fields, or a
 * BREAK field type: SMPDFU_EINVAL. Other errors as smpdfu_cbor_next/skip.
 * On error d->pos is restored; outputs may be partly written. On success the
 * decoder is positioned after the map. */
int smpdfu_cbor_decode_map(smpdfu_cbor_dec_t *d, const smpdfu_cbor_field_t *fields, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CBOR_H */
