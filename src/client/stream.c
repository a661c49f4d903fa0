/* SPDX-License-Identifier: Apache-2.0 */
/* A streamed image source: a window of the image, checked and hashed as it
 * passes, the final bytes held back until it verified (see stream.h). */
#include "smpdfu/stream.h"

#include <string.h>

#include "smpdfu/uplink.h"

#define TLV_INFO_LEN 4u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t smpdfu_stream_block_len(uint32_t size, size_t crc_n)
{
    if (crc_n == 0) {
        return 0;
    }
    uint64_t b = SMPDFU_STREAM_MIN_BLOCK;
    while (b * crc_n < size) {
        b <<= 1;
    }
    return b > UINT32_MAX ? 0 : (uint32_t)b;
}

size_t smpdfu_stream_crc_entries(uint32_t size, size_t window_len)
{
    if (window_len < 2u * SMPDFU_STREAM_MIN_BLOCK) {
        return 0;
    }
    size_t b = SMPDFU_STREAM_MIN_BLOCK;
    while (b * 2u <= window_len / 2u && b < 0x40000000u) {
        b *= 2u;
    }
    return (size_t)(((uint64_t)size + b - 1u) / b);
}

int smpdfu_stream_init(smpdfu_stream_t *s, const smpdfu_stream_cfg_t *cfg)
{
    if (!s || !cfg || cfg->size < SMPDFU_IMAGE_HDR_LEN || !cfg->window || !cfg->crc ||
        !cfg->crc_n || !cfg->hash || !cfg->hash->start || !cfg->hash->update ||
        !cfg->hash->finish || (cfg->sig && (!cfg->scratch || !cfg->scratch_len))) {
        return SMPDFU_EINVAL;
    }
    uint32_t block = smpdfu_stream_block_len(cfg->size, cfg->crc_n);
    if (block == 0 || cfg->window_len < 2u * (size_t)block) {
        return SMPDFU_ENOSPC;
    }
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->block = block;
    if (cfg->file_sha) {
        memcpy(s->file_sha, cfg->file_sha, 32);
        s->have_file_sha = true;
    }
    return 0;
}

smpdfu_source_t smpdfu_stream_source(smpdfu_stream_t *s)
{
    smpdfu_source_t src = {smpdfu_stream_read, s, s ? s->cfg.size : 0};
    return src;
}

static void ring_put(smpdfu_stream_t *s, uint32_t off, const uint8_t *p, size_t n)
{
    size_t w = s->cfg.window_len;
    size_t pos = off % w;
    size_t first = n < w - pos ? n : w - pos;
    memcpy(s->cfg.window + pos, p, first);
    memcpy(s->cfg.window, p + first, n - first);
}

static void ring_get(const smpdfu_stream_t *s, uint32_t off, uint8_t *p, size_t n)
{
    size_t w = s->cfg.window_len;
    size_t pos = off % w;
    size_t first = n < w - pos ? n : w - pos;
    memcpy(p, s->cfg.window + pos, first);
    memcpy(p + first, s->cfg.window, n - first);
}

void smpdfu_stream_fail(smpdfu_stream_t *s, int err)
{
    if (s && !s->err) {
        s->err = err < 0 ? err : SMPDFU_EIO;
    }
}

int smpdfu_stream_status(const smpdfu_stream_t *s)
{
    return s->err;
}

bool smpdfu_stream_verified(const smpdfu_stream_t *s)
{
    return s->verified;
}

const smpdfu_image_info_t *smpdfu_stream_info(const smpdfu_stream_t *s)
{
    return s->verified ? &s->info : NULL;
}

const uint8_t *smpdfu_stream_image_hash(const smpdfu_stream_t *s)
{
    return s->digest;
}

const uint8_t *smpdfu_stream_file_sha(const smpdfu_stream_t *s)
{
    return s->have_file_sha ? s->file_sha : NULL;
}

uint32_t smpdfu_stream_received(const smpdfu_stream_t *s)
{
    return s->pass;
}

/* Image parsing over what the stream still holds: the header copy and the
 * window. Anything else is gone (the TLV area did not fit the window). */
static int vread(void *ctx, uint32_t off, void *buf, size_t len)
{
    const smpdfu_stream_t *s = ctx;
    if ((uint64_t)off + len <= SMPDFU_IMAGE_HDR_LEN) {
        memcpy(buf, s->hdr + off, len);
        return 0;
    }
    if (off >= s->lo && (uint64_t)off + len <= s->hi) {
        ring_get(s, off, buf, len);
        return 0;
    }
    return SMPDFU_ENOSPC;
}

/* The header just arrived: the checks smpdfu_image_parse makes on it. */
static int check_header(smpdfu_stream_t *s)
{
    smpdfu_image_hdr_t h;
    uint32_t size = s->cfg.size;
    int rc = smpdfu_image_hdr_decode(s->hdr, SMPDFU_IMAGE_HDR_LEN, &h, NULL);
    if (rc) {
        return rc;
    }
    uint16_t prot = h.protect_tlv_size;
    uint64_t tlv_off = (uint64_t)h.hdr_size + h.img_size;
    if (tlv_off + prot + TLV_INFO_LEN > size) {
        return SMPDFU_EIMG_TRUNC;
    }
    s->hashed_len = (uint32_t)(tlv_off + prot);
    s->tlvi_off = (uint32_t)tlv_off;
    s->hdr_ok = true;
    return 0;
}

/* A TLV info header just arrived (at s->tlvi_off). */
static int check_tlv_info(smpdfu_stream_t *s)
{
    uint16_t prot = le16(s->hdr + 10);
    uint32_t tlv_off = s->hashed_len - prot;
    uint16_t magic = le16(s->tlvi), tot = le16(s->tlvi + 2);
    if (prot && s->tlvi_off == tlv_off) {
        if (magic != SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC) {
            return SMPDFU_EIMG_TLV_MAGIC;
        }
        if (tot != prot) {
            return SMPDFU_EIMG_HDR;
        }
        s->tlvi_off = s->hashed_len; /* the unprotected area's info comes next */
        return 0;
    }
    if (magic != SMPDFU_IMAGE_TLV_INFO_MAGIC || tot < TLV_INFO_LEN) {
        return SMPDFU_EIMG_TLV_MAGIC;
    }
    uint64_t end = (uint64_t)s->tlvi_off + tot;
    if (end > s->cfg.size) {
        return SMPDFU_EIMG_TRUNC;
    }
    if (end < s->cfg.size) {
        return SMPDFU_EIMG_TRAILING; /* a file to upload ends with its TLVs */
    }
    s->tlvi_off = 0;
    return 0;
}

static int fail(smpdfu_stream_t *s, int err)
{
    smpdfu_stream_fail(s, err);
    return s->err;
}

/* The last byte passed: the whole TLV area, the hash and the signature. */
static int verify(smpdfu_stream_t *s)
{
    const smpdfu_hash_t *h = s->cfg.hash;
    int rc = h->finish(h->ctx, s->digest);
    if (rc) {
        return fail(s, rc);
    }
    rc = smpdfu_image_parse(vread, s, s->cfg.size, SMPDFU_IMAGE_PARSE_FILE, &s->info);
    if (rc) {
        return fail(s, rc);
    }
    if (s->info.encrypted) {
        return fail(s, SMPDFU_ENOTSUP); /* hashed over the plaintext: only the bootloader can check */
    }
    /* img_mgmt lists (and state-write takes) only the SHA-256 TLV. */
    if (s->info.hash_tlv != SMPDFU_TLV_SHA256 || s->info.hash_len != 32) {
        return fail(s, SMPDFU_ENOTSUP);
    }
    if (s->info.hashed_len != s->hashed_len) {
        return fail(s, SMPDFU_EIMG_HDR);
    }
    if (memcmp(s->digest, s->info.hash, 32) != 0) {
        return fail(s, SMPDFU_EIMG_HASH_MISMATCH);
    }
    if (s->cfg.sig) {
        rc = smpdfu_image_verify_sig_digest(&s->info, h, s->digest, vread, s, s->cfg.sig,
                                            s->cfg.scratch, s->cfg.scratch_len);
        if (rc) {
            return fail(s, rc);
        }
    }
    s->verified = true;
    return 0;
}

/* First pass over [s->pass, s->pass + n): header, TLV info, hash, CRC. */
static int first_pass(smpdfu_stream_t *s, const uint8_t *p, size_t n)
{
    const smpdfu_hash_t *h = s->cfg.hash;
    int rc;
    if (s->pass == 0 && n > 0) {
        rc = h->start(h->ctx, SMPDFU_HASH_SHA256);
        if (rc) {
            return fail(s, rc);
        }
    }
    while (n > 0) {
        uint32_t at = s->pass;
        size_t k = n;
        /* Stop at each boundary that needs a decision. */
        uint32_t blk_end = (at / s->block + 1) * s->block;
        if (blk_end - at < k) {
            k = blk_end - at;
        }
        if (at < SMPDFU_IMAGE_HDR_LEN && SMPDFU_IMAGE_HDR_LEN - at < k) {
            k = SMPDFU_IMAGE_HDR_LEN - at;
        }
        if (s->hdr_ok && at < s->hashed_len && s->hashed_len - at < k) {
            k = s->hashed_len - at;
        }
        /* Hash: the header always, then up to hashed_len once it is known. */
        uint32_t hash_end = s->hdr_ok ? s->hashed_len : SMPDFU_IMAGE_HDR_LEN;
        if (at < hash_end) {
            rc = h->update(h->ctx, p, k);
            if (rc) {
                return fail(s, rc);
            }
        }
        if (at < SMPDFU_IMAGE_HDR_LEN) {
            memcpy(s->hdr + at, p, k);
        }
        /* Collect the TLV info header(s) byte by byte as they pass. */
        for (size_t i = 0; i < k && s->tlvi_off; i++) {
            uint32_t o = at + (uint32_t)i;
            if (o >= s->tlvi_off && o < s->tlvi_off + TLV_INFO_LEN) {
                s->tlvi[o - s->tlvi_off] = p[i];
                if (o == s->tlvi_off + TLV_INFO_LEN - 1) {
                    rc = check_tlv_info(s);
                    if (rc) {
                        return fail(s, rc);
                    }
                }
            }
        }
        s->run_crc = smpdfu_crc32(s->run_crc, p, k);
        s->pass += (uint32_t)k;
        if (s->pass == SMPDFU_IMAGE_HDR_LEN && !s->hdr_ok) {
            rc = check_header(s);
            if (rc) {
                return fail(s, rc);
            }
        }
        if (s->pass % s->block == 0 || s->pass == s->cfg.size) {
            s->cfg.crc[at / s->block] = s->run_crc;
            if (s->pass % s->block == 0) {
                s->run_crc = 0;
            }
        }
        p += k;
        n -= k;
    }
    return 0;
}

/* Re-read of [s->hi, s->hi + n), all below s->pass: checked block by block
 * (or up to the first-pass frontier inside its block). */
static int re_read(smpdfu_stream_t *s, uint32_t at, const uint8_t *p, size_t n)
{
    while (n > 0) {
        uint32_t blk = at / s->block;
        uint32_t blk_start = blk * s->block;
        uint32_t check = blk_start + s->block;
        if (check > s->pass) {
            check = s->pass;
        }
        size_t k = check - at < n ? check - at : n;
        s->rr_crc = smpdfu_crc32(s->rr_crc, p, k);
        at += (uint32_t)k;
        if (at == check) {
            /* A full block has its table entry; the block the first pass is
             * in the middle of has the running CRC. */
            uint32_t want = check == blk_start + s->block || check == s->cfg.size
                                ? s->cfg.crc[blk]
                                : s->run_crc;
            if (s->rr_crc != want) {
                return fail(s, SMPDFU_ECHANGED);
            }
            s->rr_crc = 0;
            s->ok_hi = check;
        }
        p += k;
        n -= k;
    }
    return 0;
}

bool smpdfu_stream_want(const smpdfu_stream_t *s, uint32_t *off, uint32_t *len)
{
    if (!s || s->err || s->hi >= s->cfg.size) {
        return false;
    }
    /* Bytes below what the upload reads next may be dropped for new ones. */
    uint32_t floor = s->need < s->hi ? s->need : s->hi;
    if (floor < s->lo) {
        floor = s->lo;
    }
    uint64_t top = (uint64_t)floor + s->cfg.window_len;
    if (top > s->cfg.size) {
        top = s->cfg.size;
    }
    if (top <= s->hi) {
        return false;
    }
    if (off) {
        *off = s->hi;
    }
    if (len) {
        *len = (uint32_t)(top - s->hi);
    }
    return true;
}

int smpdfu_stream_push(smpdfu_stream_t *s, uint32_t off, const uint8_t *data, size_t len)
{
    if (!s || (!data && len)) {
        return SMPDFU_EINVAL;
    }
    if (s->err) {
        return s->err;
    }
    uint32_t woff, wlen;
    if (len == 0 || !smpdfu_stream_want(s, &woff, &wlen) || off != woff) {
        return 0; /* not what we asked for: stale */
    }
    size_t take = len < wlen ? len : wlen;
    size_t done = 0;
    int rc;
    if (s->hi < s->pass) {
        size_t k = s->pass - s->hi < take ? s->pass - s->hi : take;
        rc = re_read(s, s->hi, data, k);
        if (rc) {
            return rc;
        }
        done = k;
    }
    if (done < take) {
        rc = first_pass(s, data + done, take - done);
        if (rc) {
            return rc;
        }
        s->ok_hi = s->pass;
    }
    ring_put(s, s->hi, data, take);
    s->hi += (uint32_t)take;
    if (s->hi - s->lo > s->cfg.window_len) {
        s->lo = s->hi - (uint32_t)s->cfg.window_len;
    }
    if (s->pass == s->cfg.size && !s->verified) {
        rc = verify(s);
        if (rc) {
            return rc;
        }
    }
    return (int)take;
}

static bool available(const smpdfu_stream_t *s, uint32_t off, size_t len)
{
    return off >= s->lo && (uint64_t)off + len <= s->ok_hi &&
           ((uint64_t)off + len < s->cfg.size || s->verified);
}

int smpdfu_stream_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_stream_t *s = ctx;
    if (!s || (!buf && len) || (uint64_t)off + len > s->cfg.size) {
        return SMPDFU_EINVAL;
    }
    if (s->err) {
        return s->err;
    }
    if (len > s->cfg.window_len - s->block) {
        return SMPDFU_ENOSPC;
    }
    if (off < s->lo) {
        /* Go-back below the window: ask again from the block start, and
         * while the first pass is unfinished from no later than the TLV
         * area, which must be whole in the window at the end. */
        uint32_t from = off;
        if (s->pass < s->cfg.size && s->hdr_ok && s->pass > s->hashed_len - le16(s->hdr + 10) &&
            s->hashed_len - le16(s->hdr + 10) < from) {
            from = s->hashed_len - le16(s->hdr + 10);
        }
        from -= from % s->block;
        s->lo = s->hi = s->ok_hi = from;
        s->rr_crc = 0;
    }
    s->need = off;
    uint32_t before = s->hi;
    while (!available(s, off, len)) {
        if (s->err) {
            return s->err;
        }
        if (!s->cfg.fetch || !smpdfu_stream_want(s, NULL, NULL)) {
            return SMPDFU_EAGAIN;
        }
        int rc = s->cfg.fetch(s->cfg.fetch_ctx, s);
        if (rc) {
            return fail(s, rc);
        }
        if (s->hi == before && !s->err) {
            return SMPDFU_EAGAIN; /* the feeder had nothing now */
        }
        before = s->hi;
    }
    ring_get(s, off, buf, len);
    s->need = off + (uint32_t)len;
    return 0;
}
