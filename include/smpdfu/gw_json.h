/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — a small JSON tokenizer for the gateway's job documents (untrusted
 * input from MQTT). It checks the whole text against RFC 8259's grammar and
 * lays the values out as tokens in a caller-owned array (no malloc, no
 * recursion: nesting is followed with a counter and parent links, up to
 * SMPDFU_JSON_MAX_DEPTH levels). Lookups then walk the array.
 *
 * Portable C99, no I/O, no global state.
 */
#ifndef SMPDFU_GW_JSON_H
#define SMPDFU_GW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_JSON_MAX_DEPTH 32

typedef enum {
    SMPDFU_JSON_OBJECT = 1,
    SMPDFU_JSON_ARRAY,
    SMPDFU_JSON_STRING, /* start/end exclude the quotes; escapes left as they are */
    SMPDFU_JSON_NUMBER,
    SMPDFU_JSON_TRUE,
    SMPDFU_JSON_FALSE,
    SMPDFU_JSON_NULL,
} smpdfu_json_type_t;

typedef struct {
    uint8_t type;     /* smpdfu_json_type_t */
    uint32_t start;   /* byte offsets into the text */
    uint32_t end;     /* one past the last byte (a container: its closing bracket + 1) */
    int32_t parent;   /* token index of the container, -1 at the top */
    uint32_t next;    /* index of the token after this value and everything inside it */
} smpdfu_json_tok_t;

/* The value of one hexadecimal digit (0-9, a-f, A-F), or -1 for any other
 * character. Shared by the tokenizer (\\u escapes) and the job decoder (hashes). */
int smpdfu_json_hex_digit(char c);

/* Tokenize text[0, len). Object keys are STRING tokens followed by their
 * value token. Returns the number of tokens (>= 1), or SMPDFU_EMALFORMED
 * (not JSON, trailing bytes, a raw control character in a string, a bad
 * escape or UTF-8 left unchecked), SMPDFU_EDEPTH (deeper than
 * SMPDFU_JSON_MAX_DEPTH), SMPDFU_ENOSPC (more than ntok tokens), SMPDFU_EINVAL
 * (NULL arguments, len over 16 MiB). */
int smpdfu_json_parse(const char *text, size_t len, smpdfu_json_tok_t *tok, size_t ntok);

/* The value token of `key` in the object at index obj (first match), or -1
 * when obj is not an object or has no such key. Keys compare byte for byte
 * (escaped keys never match). */
int smpdfu_json_get(const char *text, const smpdfu_json_tok_t *tok, int ntok, int obj,
                    const char *key);

/* Copy a STRING token's value, escapes decoded (\u escapes below 0x80 only;
 * others give SMPDFU_ERANGE), into out (cap bytes, NUL-terminated).
 * Returns the length, SMPDFU_EINVAL when the token is not a string or holds
 * a NUL, SMPDFU_ENOSPC when it does not fit. */
int smpdfu_json_str(const char *text, const smpdfu_json_tok_t *t, char *out, size_t cap);

/* A NUMBER token that is a whole number in [min, max] (no fraction, no
 * exponent). Returns 0 or SMPDFU_ERANGE / SMPDFU_EINVAL. */
int smpdfu_json_int(const char *text, const smpdfu_json_tok_t *t, int64_t min, int64_t max,
                    int64_t *out);

/* Write s as a JSON string (quotes and escapes) into out; returns the
 * length written (NUL-terminated, truncated to fit cap, never cut inside an
 * escape). */
size_t smpdfu_json_quote(char *out, size_t cap, const char *s);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_GW_JSON_H */
