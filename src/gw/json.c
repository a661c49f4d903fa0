/* SPDX-License-Identifier: Apache-2.0 */
/* JSON tokenizer for job documents: iterative, bounded depth, caller-owned
 * tokens. */
#include "smpdfu/gw_json.h"

#include <string.h>

#define MAX_TEXT (16u * 1024u * 1024u)

typedef struct {
    const char *s;
    size_t n, i;
    smpdfu_json_tok_t *tok;
    size_t ntok, used;
} jp_t;

static void skip_ws(jp_t *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r')) {
        p->i++;
    }
}

int smpdfu_json_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* At an opening quote: past the closing one. */
static int scan_string(jp_t *p, uint32_t *start, uint32_t *end)
{
    p->i++;
    *start = (uint32_t)p->i;
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            *end = (uint32_t)p->i;
            p->i++;
            return 0;
        }
        if (c < 0x20) {
            return SMPDFU_EMALFORMED;
        }
        if (c == '\\') {
            if (p->i + 1 >= p->n) {
                return SMPDFU_EMALFORMED;
            }
            char e = p->s[p->i + 1];
            if (e == 'u') {
                if (p->i + 5 >= p->n) {
                    return SMPDFU_EMALFORMED;
                }
                for (int k = 2; k < 6; k++) {
                    if (smpdfu_json_hex_digit(p->s[p->i + (size_t)k]) < 0) {
                        return SMPDFU_EMALFORMED;
                    }
                }
                p->i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0) {
                return SMPDFU_EMALFORMED;
            }
            p->i += 2;
            continue;
        }
        p->i++;
    }
    return SMPDFU_EMALFORMED;
}

static int scan_number(jp_t *p)
{
    size_t i = p->i;
    if (i < p->n && p->s[i] == '-') {
        i++;
    }
    if (i >= p->n) {
        return SMPDFU_EMALFORMED;
    }
    if (p->s[i] == '0') {
        i++;
    } else if (p->s[i] >= '1' && p->s[i] <= '9') {
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') {
            i++;
        }
    } else {
        return SMPDFU_EMALFORMED;
    }
    if (i < p->n && p->s[i] == '.') {
        i++;
        size_t d = i;
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return SMPDFU_EMALFORMED;
        }
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) {
            i++;
        }
        size_t d = i;
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return SMPDFU_EMALFORMED;
        }
    }
    p->i = i;
    return 0;
}

static int add_tok(jp_t *p, uint8_t type, uint32_t start, uint32_t end, int32_t parent)
{
    if (p->used >= p->ntok) {
        return SMPDFU_ENOSPC;
    }
    smpdfu_json_tok_t *t = &p->tok[p->used];
    t->type = type;
    t->start = start;
    t->end = end;
    t->parent = parent;
    t->next = (uint32_t)p->used + 1;
    return (int)p->used++;
}

/* Close a container: its end and `next` are known now. */
static void close_tok(jp_t *p, int idx)
{
    p->tok[idx].end = (uint32_t)p->i;
    p->tok[idx].next = (uint32_t)p->used;
}

int smpdfu_json_parse(const char *text, size_t len, smpdfu_json_tok_t *tok, size_t ntok)
{
    if (!text || !tok || ntok == 0 || len > MAX_TEXT) {
        return SMPDFU_EINVAL;
    }
    jp_t p = {text, len, 0, tok, ntok, 0};
    int32_t cur = -1;  /* open container */
    int depth = 0;
    /* What may come next inside cur: a value, a key, ':' or ',' / close. */
    enum { VALUE, KEY_OR_CLOSE, KEY, COLON, COMMA_OR_CLOSE, VALUE_OR_CLOSE } want = VALUE;
    bool top_done = false;
    for (;;) {
        skip_ws(&p);
        if (top_done) {
            return p.i == p.n ? (int)p.used : SMPDFU_EMALFORMED;
        }
        if (p.i >= p.n) {
            return SMPDFU_EMALFORMED;
        }
        char c = p.s[p.i];
        int rc;
        if (want == COLON) {
            if (c != ':') {
                return SMPDFU_EMALFORMED;
            }
            p.i++;
            want = VALUE;
            continue;
        }
        if (want == COMMA_OR_CLOSE || ((want == KEY_OR_CLOSE || want == VALUE_OR_CLOSE) &&
                                       (c == '}' || c == ']'))) {
            bool obj = p.tok[cur].type == SMPDFU_JSON_OBJECT;
            if (c == ',') {
                p.i++;
                want = obj ? KEY : VALUE;
                continue;
            }
            if ((obj && c != '}') || (!obj && c != ']')) {
                return SMPDFU_EMALFORMED;
            }
            p.i++;
            close_tok(&p, cur);
            depth--;
            cur = p.tok[cur].parent;
        } else if (want == KEY || want == KEY_OR_CLOSE) {
            if (c != '"') {
                return SMPDFU_EMALFORMED;
            }
            uint32_t s, e;
            if ((rc = scan_string(&p, &s, &e)) || (rc = add_tok(&p, SMPDFU_JSON_STRING, s, e, cur)) < 0) {
                return rc;
            }
            want = COLON;
            continue;
        } else { /* a value */
            uint32_t start = (uint32_t)p.i;
            if (c == '{' || c == '[') {
                if (++depth > SMPDFU_JSON_MAX_DEPTH) {
                    return SMPDFU_EDEPTH;
                }
                if ((rc = add_tok(&p, c == '{' ? SMPDFU_JSON_OBJECT : SMPDFU_JSON_ARRAY, start, start,
                                  cur)) < 0) {
                    return rc;
                }
                cur = rc;
                p.i++;
                want = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
                continue;
            }
            if (c == '"') {
                uint32_t s, e;
                if ((rc = scan_string(&p, &s, &e)) ||
                    (rc = add_tok(&p, SMPDFU_JSON_STRING, s, e, cur)) < 0) {
                    return rc;
                }
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                if ((rc = scan_number(&p)) ||
                    (rc = add_tok(&p, SMPDFU_JSON_NUMBER, start, (uint32_t)p.i, cur)) < 0) {
                    return rc;
                }
            } else {
                static const char *const lit[] = {"true", "false", "null"};
                static const uint8_t lty[] = {SMPDFU_JSON_TRUE, SMPDFU_JSON_FALSE, SMPDFU_JSON_NULL};
                int k = c == 't' ? 0 : c == 'f' ? 1 : c == 'n' ? 2 : -1;
                size_t ll = k >= 0 ? strlen(lit[k]) : 0;
                if (k < 0 || p.n - p.i < ll || memcmp(p.s + p.i, lit[k], ll)) {
                    return SMPDFU_EMALFORMED;
                }
                p.i += ll;
                if ((rc = add_tok(&p, lty[k], start, (uint32_t)p.i, cur)) < 0) {
                    return rc;
                }
            }
        }
        /* A value (or a container) just ended. */
        if (cur < 0) {
            top_done = true;
        } else {
            want = COMMA_OR_CLOSE;
        }
    }
}

int smpdfu_json_get(const char *text, const smpdfu_json_tok_t *tok, int ntok, int obj,
                    const char *key)
{
    if (obj < 0 || obj >= ntok || tok[obj].type != SMPDFU_JSON_OBJECT) {
        return -1;
    }
    size_t kl = strlen(key);
    int i = obj + 1;
    while (i < (int)tok[obj].next && i + 1 < ntok) {
        const smpdfu_json_tok_t *k = &tok[i];
        if (k->end - k->start == kl && !memcmp(text + k->start, key, kl)) {
            return i + 1;
        }
        i = (int)tok[i + 1].next;
    }
    return -1;
}

int smpdfu_json_str(const char *text, const smpdfu_json_tok_t *t, char *out, size_t cap)
{
    if (!t || t->type != SMPDFU_JSON_STRING || !out || cap == 0) {
        return SMPDFU_EINVAL;
    }
    size_t o = 0;
    for (uint32_t i = t->start; i < t->end; i++) {
        char c = text[i];
        if (c == '\\') {
            char e = text[++i];
            switch (e) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                int v = 0;
                for (int k = 1; k <= 4; k++) {
                    v = v * 16 + smpdfu_json_hex_digit(text[i + (uint32_t)k]);
                }
                if (v >= 0x80) {
                    return SMPDFU_ERANGE;
                }
                c = (char)v;
                i += 4;
                break;
            }
            default: c = e; break;
            }
        }
        if (c == 0) {
            return SMPDFU_EINVAL;
        }
        if (o + 1 >= cap) {
            return SMPDFU_ENOSPC;
        }
        out[o++] = c;
    }
    out[o] = 0;
    return (int)o;
}

int smpdfu_json_int(const char *text, const smpdfu_json_tok_t *t, int64_t min, int64_t max,
                    int64_t *out)
{
    if (!t || t->type != SMPDFU_JSON_NUMBER) {
        return SMPDFU_EINVAL;
    }
    uint32_t i = t->start;
    bool neg = text[i] == '-';
    if (neg) {
        i++;
    }
    int64_t v = 0;
    for (; i < t->end; i++) {
        char c = text[i];
        if (c < '0' || c > '9') {
            return SMPDFU_ERANGE; /* fraction or exponent */
        }
        if (v > (INT64_MAX - (c - '0')) / 10) {
            return SMPDFU_ERANGE;
        }
        v = v * 10 + (c - '0');
    }
    if (neg) {
        v = -v;
    }
    if (v < min || v > max) {
        return SMPDFU_ERANGE;
    }
    *out = v;
    return 0;
}

size_t smpdfu_json_quote(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    if (cap < 3) {
        if (cap) {
            out[0] = 0;
        }
        return 0;
    }
    out[o++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        size_t el;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            el = 2;
        } else if (c < 0x20) {
            static const char hx[] = "0123456789abcdef";
            memcpy(esc, "\\u00", 4);
            esc[4] = hx[c >> 4];
            esc[5] = hx[c & 15];
            el = 6;
        } else {
            esc[0] = (char)c;
            el = 1;
        }
        if (o + el + 2 > cap) {
            break;
        }
        memcpy(out + o, esc, el);
        o += el;
    }
    out[o++] = '"';
    out[o] = 0;
    return o;
}
