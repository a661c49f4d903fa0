/* SPDX-License-Identifier: Apache-2.0 */
/* Uplink block protocol: frames, CRC-32, a resynchronising decoder (uplink.h,
 * docs/uplink.md). Pure functions over caller buffers. */
#include "smpdfu/uplink.h"

#include <string.h>

/* Nibble table: 64 bytes of flash instead of 1 KiB. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t smpdfu_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0fu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0x0fu];
    }
    return ~crc;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Header and CRC around a payload already at out + HDR_LEN. */
static int seal(uint8_t type, uint8_t seq, size_t len, uint8_t *out)
{
    out[0] = SMPDFU_UPLINK_SYNC0;
    out[1] = SMPDFU_UPLINK_SYNC1;
    out[2] = type;
    out[3] = seq;
    put16(out + 4, (uint32_t)len);
    uint32_t crc = smpdfu_crc32(0, out + 2, SMPDFU_UPLINK_HDR_LEN - 2 + len);
    put32(out + SMPDFU_UPLINK_HDR_LEN + len, crc);
    return (int)SMPDFU_UPLINK_FRAME_LEN(len);
}

static int room(size_t len, uint8_t *out, size_t cap)
{
    if (!out) {
        return SMPDFU_EINVAL;
    }
    if (len > SMPDFU_UPLINK_MAX_PAYLOAD) {
        return SMPDFU_EOVERSIZE;
    }
    if (cap < SMPDFU_UPLINK_FRAME_LEN(len)) {
        return SMPDFU_ENOSPC;
    }
    return 0;
}

int smpdfu_uplink_encode(uint8_t type, uint8_t seq, const uint8_t *payload, size_t len,
                         uint8_t *out, size_t cap)
{
    int rc = room(len, out, cap);
    if (rc) {
        return rc;
    }
    if (len && !payload) {
        return SMPDFU_EINVAL;
    }
    if (len) {
        memmove(out + SMPDFU_UPLINK_HDR_LEN, payload, len);
    }
    return seal(type, seq, len, out);
}

int smpdfu_uplink_put_info_req(uint8_t seq, uint8_t *out, size_t cap)
{
    return smpdfu_uplink_encode(SMPDFU_UPLINK_INFO, seq, NULL, 0, out, cap);
}

int smpdfu_uplink_put_read(uint8_t seq, uint32_t off, uint16_t len, uint8_t *out, size_t cap)
{
    int rc = room(6, out, cap);
    if (rc) {
        return rc;
    }
    put32(out + SMPDFU_UPLINK_HDR_LEN, off);
    put16(out + SMPDFU_UPLINK_HDR_LEN + 4, len);
    return seal(SMPDFU_UPLINK_READ, seq, 6, out);
}

int smpdfu_uplink_put_info(uint8_t seq, const smpdfu_uplink_info_t *info, uint8_t *out, size_t cap)
{
    size_t len = info && info->has_sha ? 39 : 7;
    int rc = room(len, out, cap);
    if (rc || !info) {
        return rc ? rc : SMPDFU_EINVAL;
    }
    uint8_t *p = out + SMPDFU_UPLINK_HDR_LEN;
    put32(p, info->size);
    put16(p + 4, info->max_block);
    p[6] = info->has_sha ? SMPDFU_UPLINK_F_SHA : 0;
    if (info->has_sha) {
        memcpy(p + 7, info->sha, 32);
    }
    return seal(SMPDFU_UPLINK_INFO_RSP, seq, len, out);
}

int smpdfu_uplink_put_data(uint8_t seq, uint32_t off, const uint8_t *data, size_t n, uint8_t *out,
                           size_t cap)
{
    if (n > SMPDFU_UPLINK_MAX_BLOCK) {
        return SMPDFU_EOVERSIZE;
    }
    int rc = room(4 + n, out, cap);
    if (rc) {
        return rc;
    }
    put32(out + SMPDFU_UPLINK_HDR_LEN, off);
    if (data && n) {
        memmove(out + SMPDFU_UPLINK_HDR_LEN + 4, data, n);
    }
    return seal(SMPDFU_UPLINK_DATA, seq, 4 + n, out);
}

int smpdfu_uplink_put_err(uint8_t seq, uint16_t code, const char *text, uint8_t *out, size_t cap)
{
    size_t tl = 0;
    if (text) {
        while (tl < 64 && text[tl]) {
            tl++;
        }
    }
    int rc = room(2 + tl, out, cap);
    if (rc) {
        return rc;
    }
    put16(out + SMPDFU_UPLINK_HDR_LEN, code);
    if (tl) {
        memcpy(out + SMPDFU_UPLINK_HDR_LEN + 2, text, tl);
    }
    return seal(SMPDFU_UPLINK_ERR, seq, 2 + tl, out);
}

int smpdfu_uplink_parse_read(const smpdfu_uplink_frame_t *f, uint32_t *off, uint16_t *len)
{
    if (f->type != SMPDFU_UPLINK_READ) {
        return SMPDFU_ETYPE;
    }
    if (f->len != 6) {
        return SMPDFU_EMALFORMED;
    }
    *off = le32(f->payload);
    *len = le16(f->payload + 4);
    return 0;
}

int smpdfu_uplink_parse_info(const smpdfu_uplink_frame_t *f, smpdfu_uplink_info_t *info)
{
    if (f->type != SMPDFU_UPLINK_INFO_RSP) {
        return SMPDFU_ETYPE;
    }
    if (f->len < 7) {
        return SMPDFU_EMALFORMED;
    }
    memset(info, 0, sizeof(*info));
    info->size = le32(f->payload);
    info->max_block = le16(f->payload + 4);
    info->has_sha = (f->payload[6] & SMPDFU_UPLINK_F_SHA) != 0;
    if (f->len != (info->has_sha ? 39u : 7u)) {
        return SMPDFU_EMALFORMED;
    }
    if (info->has_sha) {
        memcpy(info->sha, f->payload + 7, 32);
    }
    return 0;
}

int smpdfu_uplink_parse_data(const smpdfu_uplink_frame_t *f, uint32_t *off, const uint8_t **data,
                             size_t *n)
{
    if (f->type != SMPDFU_UPLINK_DATA) {
        return SMPDFU_ETYPE;
    }
    if (f->len < 4) {
        return SMPDFU_EMALFORMED;
    }
    *off = le32(f->payload);
    *data = f->payload + 4;
    *n = f->len - 4u;
    return 0;
}

int smpdfu_uplink_parse_err(const smpdfu_uplink_frame_t *f, uint16_t *code, const uint8_t **text,
                            size_t *text_len)
{
    if (f->type != SMPDFU_UPLINK_ERR) {
        return SMPDFU_ETYPE;
    }
    if (f->len < 2) {
        return SMPDFU_EMALFORMED;
    }
    *code = le16(f->payload);
    if (text) {
        *text = f->payload + 2;
    }
    if (text_len) {
        *text_len = f->len - 2u;
    }
    return 0;
}

int smpdfu_uplink_dec_init(smpdfu_uplink_dec_t *d, uint8_t *buf, size_t cap)
{
    if (!d || !buf || cap < SMPDFU_UPLINK_OVERHEAD) {
        return SMPDFU_EINVAL;
    }
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = cap;
    return 0;
}

static void drop(smpdfu_uplink_dec_t *d, size_t k)
{
    memmove(d->buf, d->buf + k, d->n - k);
    d->n -= k;
}

/* Look for a whole frame at the start of the buffer, dropping noise and bad
 * frames. 1: a frame of *flen bytes is at buf[0]; 0: need more bytes. */
static int scan(smpdfu_uplink_dec_t *d, size_t *flen)
{
    for (;;) {
        size_t i = 0;
        while (i < d->n && d->buf[i] != SMPDFU_UPLINK_SYNC0) {
            i++;
        }
        if (i) {
            d->noise += (uint32_t)i;
            drop(d, i);
        }
        if (d->n < 2) {
            return 0;
        }
        if (d->buf[1] != SMPDFU_UPLINK_SYNC1) {
            d->noise++;
            drop(d, 1);
            continue;
        }
        if (d->n < SMPDFU_UPLINK_HDR_LEN) {
            return 0;
        }
        size_t len = le16(d->buf + 4);
        if (len > SMPDFU_UPLINK_MAX_PAYLOAD || SMPDFU_UPLINK_FRAME_LEN(len) > d->cap) {
            d->oversize++;
            drop(d, 1);
            continue;
        }
        size_t total = SMPDFU_UPLINK_FRAME_LEN(len);
        if (d->n < total) {
            return 0;
        }
        uint32_t crc = smpdfu_crc32(0, d->buf + 2, SMPDFU_UPLINK_HDR_LEN - 2 + len);
        if (crc != le32(d->buf + SMPDFU_UPLINK_HDR_LEN + len)) {
            /* Corrupt, or a false sync inside noise: look again one byte on. */
            d->bad_crc++;
            drop(d, 1);
            continue;
        }
        *flen = total;
        return 1;
    }
}

int smpdfu_uplink_dec_feed(smpdfu_uplink_dec_t *d, const uint8_t *in, size_t n, size_t *used,
                           smpdfu_uplink_frame_t *f)
{
    size_t u = 0;
    if (d->skip) {
        drop(d, d->skip);
        d->skip = 0;
    }
    for (;;) {
        size_t flen;
        if (scan(d, &flen)) {
            f->type = d->buf[2];
            f->seq = d->buf[3];
            f->len = le16(d->buf + 4);
            f->payload = d->buf + SMPDFU_UPLINK_HDR_LEN;
            d->skip = flen;
            if (used) {
                *used = u;
            }
            return 1;
        }
        if (u == n) {
            break;
        }
        size_t k = d->cap - d->n;
        if (k > n - u) {
            k = n - u;
        }
        /* scan() leaves at most one frame's worth (< cap) held, so k > 0. */
        memcpy(d->buf + d->n, in + u, k);
        d->n += k;
        u += k;
    }
    if (used) {
        *used = u;
    }
    return 0;
}

int smpdfu_uplink_answer(const smpdfu_uplink_frame_t *f, const smpdfu_uplink_info_t *info,
                         smpdfu_read_fn read, void *read_ctx, uint8_t *out, size_t cap,
                         smpdfu_uplink_answer_t *a)
{
    smpdfu_uplink_answer_t tmp;
    uint32_t off;
    uint16_t len;
    if (a == NULL) {
        a = &tmp;
    }
    memset(a, 0, sizeof(*a));
    a->type = SMPDFU_UPLINK_ERR;
    if (f->type == SMPDFU_UPLINK_INFO) {
        a->type = SMPDFU_UPLINK_INFO_RSP;
        return smpdfu_uplink_put_info(f->seq, info, out, cap);
    }
    if (f->type != SMPDFU_UPLINK_READ || smpdfu_uplink_parse_read(f, &off, &len) != 0) {
        a->code = SMPDFU_UPLINK_ERR_BAD;
        return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_BAD,
                                     "unknown or malformed request", out, cap);
    }
    a->off = off;
    a->len = len;
    if (len == 0 || off >= info->size) {
        a->code = SMPDFU_UPLINK_ERR_RANGE;
        return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_RANGE, "offset outside the image",
                                     out, cap);
    }
    uint32_t n = len;
    uint32_t block = info->max_block ? info->max_block : SMPDFU_UPLINK_MAX_BLOCK;
    if (n > block) {
        n = block;
    }
    if (n > info->size - off) {
        n = info->size - off;
    }
    if (cap < SMPDFU_UPLINK_FRAME_LEN(4u + n)) {
        return SMPDFU_ENOSPC;
    }
    /* Read straight into the frame: no copy of the block. */
    if (read(read_ctx, off, out + SMPDFU_UPLINK_HDR_LEN + 4, n) != 0) {
        a->code = SMPDFU_UPLINK_ERR_SOURCE;
        return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_SOURCE,
                                     "the host cannot read its image", out, cap);
    }
    a->type = SMPDFU_UPLINK_DATA;
    a->n = n;
    return smpdfu_uplink_put_data(f->seq, off, NULL, n, out, cap);
}
