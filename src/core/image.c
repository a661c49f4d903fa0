/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MCUboot image parsing (protocol.md §6). Every offset is computed in 64 bits
 * and checked against the image size before anything is read, so a hostile
 * header cannot make us read outside [0, size).
 */
#include "smpdfu/image.h"

#include <string.h>

#include "smpdfu/trailer.h"

#define TLV_HDR_LEN 4u
#define TLV_INFO_LEN 4u

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Version fields as the header (bytes 20..27) and DEPENDENCY TLV lay them out. */
static void version_decode(const uint8_t *p, smpdfu_image_version_t *v)
{
    v->major = p[0];
    v->minor = p[1];
    v->revision = le16(p + 2);
    v->build = le32(p + 4);
}

int smpdfu_image_hdr_decode(const uint8_t *buf, size_t len, smpdfu_image_hdr_t *hdr,
                            uint32_t *err_off)
{
    uint32_t off = 0;
    int rc = 0;
    if (!buf || !hdr) {
        return SMPDFU_EINVAL;
    }
    if (len < SMPDFU_IMAGE_HDR_LEN) {
        rc = SMPDFU_EIMG_TRUNC;
        off = (uint32_t)len;
        goto out;
    }
    hdr->magic = le32(buf);
    hdr->load_addr = le32(buf + 4);
    hdr->hdr_size = le16(buf + 8);
    hdr->protect_tlv_size = le16(buf + 10);
    hdr->img_size = le32(buf + 12);
    hdr->flags = le32(buf + 16);
    version_decode(buf + 20, &hdr->version);
    if (hdr->magic != SMPDFU_IMAGE_MAGIC) {
        rc = SMPDFU_EIMG_MAGIC;
    } else if (hdr->hdr_size < SMPDFU_IMAGE_HDR_LEN) {
        rc = SMPDFU_EIMG_HDR;
        off = 8;
    } else if (hdr->protect_tlv_size != 0 && hdr->protect_tlv_size < TLV_INFO_LEN) {
        rc = SMPDFU_EIMG_HDR;
        off = 10;
    }
out:
    if (rc && err_off) {
        *err_off = off;
    }
    return rc;
}

int smpdfu_image_tlv_sec_cnt(const uint8_t *v, size_t len, uint32_t *counter)
{
    if (!v || !counter) {
        return SMPDFU_EINVAL;
    }
    if (len != 4) {
        return SMPDFU_EIMG_TLV_LEN;
    }
    *counter = le32(v);
    return 0;
}

int smpdfu_image_tlv_dependency(const uint8_t *v, size_t len, smpdfu_image_dep_t *dep)
{
    if (!v || !dep) {
        return SMPDFU_EINVAL;
    }
    if (len != 12) {
        return SMPDFU_EIMG_TLV_LEN;
    }
    dep->image = v[0];
    version_decode(v + 4, &dep->min_version);
    return 0;
}

int smpdfu_image_buf_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    const smpdfu_image_buf_t *b = ctx;
    if (!b || (!buf && len)) {
        return SMPDFU_EINVAL;
    }
    if (off > b->len || len > b->len - off) {
        return SMPDFU_ETRUNC;
    }
    if (len) {
        memcpy(buf, b->data + off, len);
    }
    return 0;
}

bool smpdfu_image_tlv_is_sig(uint16_t type)
{
    return type >= SMPDFU_TLV_RSA2048_PSS && type <= SMPDFU_TLV_ED25519;
}

static bool is_hash_tlv(uint16_t type)
{
    return type == SMPDFU_TLV_SHA256 || type == SMPDFU_TLV_SHA384 || type == SMPDFU_TLV_SHA512;
}

static bool is_enc_tlv(uint16_t type)
{
    return type >= SMPDFU_TLV_ENC_RSA2048 && type <= SMPDFU_TLV_ENC_X25519_SHA512;
}

static int fail(smpdfu_image_info_t *info, int err, uint64_t off)
{
    info->err_off = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
    return err;
}

/* The trailer magic of any BOOT_MAX_ALIGN: the A == 8 form, or the generic
 * form whose bytes 2..15 are fixed (bytes 0..1 hold A). */
static bool is_trailer_magic(const uint8_t m[SMPDFU_TRAILER_MAGIC_LEN])
{
    uint8_t ref[SMPDFU_TRAILER_MAGIC_LEN];
    smpdfu_trailer_magic(8, ref);
    if (!memcmp(m, ref, sizeof(ref))) {
        return true;
    }
    smpdfu_trailer_magic(16, ref);
    return !memcmp(m + 2, ref + 2, sizeof(ref) - 2);
}

/* Walk one TLV area's entries [start, end) (after its info header). */
static int walk_area(smpdfu_read_fn read, void *ctx, uint32_t start, uint32_t end, bool prot,
                     smpdfu_image_info_t *info, int *hash_count)
{
    uint32_t pos = start;
    while (pos < end) {
        uint8_t th[TLV_HDR_LEN];
        if (end - pos < TLV_HDR_LEN) {
            return fail(info, SMPDFU_EIMG_TLV_OVERRUN, pos);
        }
        int rc = read(ctx, pos, th, sizeof(th));
        if (rc) {
            return fail(info, rc, pos);
        }
        uint16_t type = le16(th);
        uint16_t len = le16(th + 2);
        uint32_t voff = pos + TLV_HDR_LEN;
        if (len > end - voff) {
            return fail(info, SMPDFU_EIMG_TLV_OVERRUN, pos);
        }
        if (info->tlv_count < UINT16_MAX) {
            info->tlv_count++;
        }
        if (is_hash_tlv(type)) {
            (*hash_count)++;
            if (*hash_count > 1) {
                return fail(info, SMPDFU_EIMG_DUP_HASH, pos);
            }
            smpdfu_hash_alg_t alg = type == SMPDFU_TLV_SHA256   ? SMPDFU_HASH_SHA256
                                    : type == SMPDFU_TLV_SHA384 ? SMPDFU_HASH_SHA384
                                                                : SMPDFU_HASH_SHA512;
            if (len != smpdfu_hash_len(alg)) {
                return fail(info, SMPDFU_EIMG_TLV_LEN, pos);
            }
            if (!prot) {
                rc = read(ctx, voff, info->hash, len);
                if (rc) {
                    return fail(info, rc, voff);
                }
                info->hash_alg = alg;
                info->hash_tlv = type;
                info->hash_len = (uint8_t)len;
                info->hash_off = voff;
            }
        } else if (smpdfu_image_tlv_is_sig(type) && !prot) {
            if (!info->sig_tlv) {
                info->sig_tlv = type;
                info->sig_off = voff;
                info->sig_len = len;
            }
        } else if (type == SMPDFU_TLV_SIG_PURE && !prot) {
            info->sig_pure = true;
        } else if ((type == SMPDFU_TLV_KEYHASH || type == SMPDFU_TLV_PUBKEY) && !prot) {
            if (!info->key_tlv) {
                info->key_tlv = type;
                info->key_off = voff;
                info->key_len = len;
            }
        }
        pos = voff + len;
    }
    return 0;
}

static bool has_enc_tlv(smpdfu_read_fn read, void *ctx, const smpdfu_image_info_t *info)
{
    uint32_t pos = 0;
    smpdfu_image_tlv_t t;
    while (smpdfu_image_tlv_next(info, read, ctx, &pos, &t) == 1) {
        if (is_enc_tlv(t.type)) {
            return true;
        }
    }
    return false;
}

int smpdfu_image_parse(smpdfu_read_fn read, void *ctx, uint32_t size,
                       smpdfu_image_parse_mode_t mode, smpdfu_image_info_t *info)
{
    if (!read || !info || (mode != SMPDFU_IMAGE_PARSE_FILE && mode != SMPDFU_IMAGE_PARSE_SLOT)) {
        return SMPDFU_EINVAL;
    }
    memset(info, 0, sizeof(*info));
    if (size < SMPDFU_IMAGE_HDR_LEN) {
        return fail(info, SMPDFU_EIMG_TRUNC, size);
    }
    uint8_t h[SMPDFU_IMAGE_HDR_LEN];
    int rc = read(ctx, 0, h, sizeof(h));
    if (rc) {
        return fail(info, rc, 0);
    }
    smpdfu_image_hdr_t *hdr = &info->hdr;
    uint32_t off = 0;
    rc = smpdfu_image_hdr_decode(h, sizeof(h), hdr, &off);
    info->encrypted =
        (hdr->flags & (SMPDFU_IMAGE_F_ENCRYPTED_AES128 | SMPDFU_IMAGE_F_ENCRYPTED_AES256)) != 0;
    if (rc) {
        return fail(info, rc, off);
    }
    /* 64-bit sums: hdr_size + img_size + prot may exceed 32 bits. */
    uint64_t tlv_off = (uint64_t)hdr->hdr_size + hdr->img_size;
    uint64_t unprot_off = tlv_off + hdr->protect_tlv_size;
    if (hdr->hdr_size > size) {
        return fail(info, SMPDFU_EIMG_TRUNC, 8);
    }
    if (tlv_off > size) {
        return fail(info, SMPDFU_EIMG_TRUNC, 12);
    }
    int hash_count = 0;
    if (hdr->protect_tlv_size) {
        if (unprot_off > size) {
            return fail(info, SMPDFU_EIMG_TRUNC, tlv_off);
        }
        uint8_t pi[TLV_INFO_LEN];
        rc = read(ctx, (uint32_t)tlv_off, pi, sizeof(pi));
        if (rc) {
            return fail(info, rc, tlv_off);
        }
        if (le16(pi) != SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC) {
            return fail(info, SMPDFU_EIMG_TLV_MAGIC, tlv_off);
        }
        /* MCUboot insists the protected info total equals the header field. */
        if (le16(pi + 2) != hdr->protect_tlv_size) {
            return fail(info, SMPDFU_EIMG_HDR, tlv_off + 2);
        }
        info->prot_off = (uint32_t)tlv_off;
        info->prot_len = hdr->protect_tlv_size;
        rc = walk_area(read, ctx, (uint32_t)tlv_off + TLV_INFO_LEN, (uint32_t)unprot_off, true, info,
                       &hash_count);
        if (rc) {
            return rc;
        }
    }
    info->hashed_len = (uint32_t)unprot_off;
    if (unprot_off + TLV_INFO_LEN > size) {
        return fail(info, SMPDFU_EIMG_TRUNC, unprot_off);
    }
    uint8_t ui[TLV_INFO_LEN];
    rc = read(ctx, (uint32_t)unprot_off, ui, sizeof(ui));
    if (rc) {
        return fail(info, rc, unprot_off);
    }
    if (le16(ui) != SMPDFU_IMAGE_TLV_INFO_MAGIC) {
        return fail(info, SMPDFU_EIMG_TLV_MAGIC, unprot_off);
    }
    uint16_t tot = le16(ui + 2);
    if (tot < TLV_INFO_LEN) {
        return fail(info, SMPDFU_EIMG_TLV_MAGIC, unprot_off + 2);
    }
    uint64_t end = unprot_off + tot;
    if (end > size) {
        return fail(info, SMPDFU_EIMG_TRUNC, unprot_off + 2);
    }
    info->unprot_off = (uint32_t)unprot_off;
    info->unprot_len = tot;
    info->end = (uint32_t)end;
    rc = walk_area(read, ctx, (uint32_t)unprot_off + TLV_INFO_LEN, (uint32_t)end, false, info,
                   &hash_count);
    if (rc) {
        return rc;
    }
    if (!info->hash_tlv) {
        return fail(info, SMPDFU_EIMG_NO_HASH, unprot_off);
    }
    if (info->encrypted && !has_enc_tlv(read, ctx, info)) {
        return fail(info, SMPDFU_EIMG_ENC, 16);
    }
    if (mode == SMPDFU_IMAGE_PARSE_FILE && end < size) {
        /* imgtool --pad ends the file with the trailer magic at the slot end. */
        if (size - end >= SMPDFU_TRAILER_MAGIC_LEN) {
            uint8_t m[SMPDFU_TRAILER_MAGIC_LEN];
            rc = read(ctx, size - SMPDFU_TRAILER_MAGIC_LEN, m, sizeof(m));
            if (rc) {
                return fail(info, rc, size - SMPDFU_TRAILER_MAGIC_LEN);
            }
            if (is_trailer_magic(m)) {
                return fail(info, SMPDFU_EIMG_PADDED, size - SMPDFU_TRAILER_MAGIC_LEN);
            }
        }
        return fail(info, SMPDFU_EIMG_TRAILING, end);
    }
    return 0;
}

int smpdfu_image_parse_buf(const uint8_t *img, size_t len, smpdfu_image_parse_mode_t mode,
                           smpdfu_image_info_t *info)
{
    if ((!img && len) || !info) {
        return SMPDFU_EINVAL;
    }
    if (len > UINT32_MAX) {
        return SMPDFU_ERANGE;
    }
    smpdfu_image_buf_t b = {img, len};
    return smpdfu_image_parse(smpdfu_image_buf_read, &b, (uint32_t)len, mode, info);
}

int smpdfu_image_verify_hash(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                             smpdfu_read_fn read, void *ctx, uint8_t *scratch,
                             size_t scratch_len, uint8_t *computed)
{
    if (!info || !h || !read || !scratch || !scratch_len || !info->hash_tlv ||
        info->hash_len != smpdfu_hash_len(info->hash_alg)) {
        return SMPDFU_EINVAL;
    }
    if (info->encrypted) {
        return SMPDFU_ENOTSUP;
    }
    uint8_t d[SMPDFU_HASH_MAX_LEN];
    int rc = smpdfu_hash_range(h, info->hash_alg, read, ctx, 0, info->hashed_len, scratch,
                               scratch_len, d);
    if (rc) {
        return rc;
    }
    if (computed) {
        memcpy(computed, d, info->hash_len);
    }
    return memcmp(d, info->hash, info->hash_len) ? SMPDFU_EIMG_HASH_MISMATCH : 0;
}

int smpdfu_image_verify_sig(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                            smpdfu_read_fn read, void *ctx, const smpdfu_sig_verify_t *sv,
                            uint8_t *scratch, size_t scratch_len)
{
    if (!info || !h || !read || !sv || !sv->verify || !sv->key_der || !sv->key_der_len ||
        !scratch || !scratch_len) {
        return SMPDFU_EINVAL;
    }
    if (info->sig_pure) {
        return SMPDFU_ENOTSUP;
    }
    if (!info->sig_tlv) {
        return SMPDFU_EIMG_NO_SIG;
    }
    uint8_t digest[SMPDFU_HASH_MAX_LEN];
    int rc = smpdfu_image_verify_hash(info, h, read, ctx, scratch, scratch_len, digest);
    if (rc) {
        return rc;
    }
    return smpdfu_image_verify_sig_digest(info, h, digest, read, ctx, sv, scratch, scratch_len);
}

int smpdfu_image_verify_sig_digest(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                                   const uint8_t *digest, smpdfu_read_fn read, void *ctx,
                                   const smpdfu_sig_verify_t *sv, uint8_t *scratch,
                                   size_t scratch_len)
{
    if (!info || !h || !digest || !read || !sv || !sv->verify || !sv->key_der ||
        !sv->key_der_len || !scratch || !scratch_len) {
        return SMPDFU_EINVAL;
    }
    if (info->sig_pure || info->encrypted) {
        return SMPDFU_ENOTSUP;
    }
    if (!info->sig_tlv) {
        return SMPDFU_EIMG_NO_SIG;
    }
    int rc;
    /* MCUboot picks the key through KEYHASH (or PUBKEY): without one that
     * names our key, the image would not boot with it. */
    if (!info->key_tlv) {
        return SMPDFU_EIMG_KEY;
    }
    if (info->key_len > scratch_len || info->sig_len > scratch_len) {
        return SMPDFU_ENOSPC;
    }
    if (info->key_tlv == SMPDFU_TLV_KEYHASH) {
        size_t khl = smpdfu_hash_len(info->hash_alg);
        uint8_t want[SMPDFU_HASH_MAX_LEN];
        uint8_t got[SMPDFU_HASH_MAX_LEN];
        if (info->key_len != khl || sv->key_der_len > UINT32_MAX) {
            return SMPDFU_EIMG_KEY;
        }
        rc = read(ctx, info->key_off, want, khl);
        if (rc) {
            return rc;
        }
        smpdfu_image_buf_t kb = {sv->key_der, sv->key_der_len};
        rc = smpdfu_hash_range(h, info->hash_alg, smpdfu_image_buf_read, &kb, 0,
                               (uint32_t)sv->key_der_len, scratch, scratch_len, got);
        if (rc) {
            return rc;
        }
        if (memcmp(got, want, khl)) {
            return SMPDFU_EIMG_KEY;
        }
    } else {
        if (info->key_len != sv->key_der_len) {
            return SMPDFU_EIMG_KEY;
        }
        rc = read(ctx, info->key_off, scratch, info->key_len);
        if (rc) {
            return rc;
        }
        if (memcmp(scratch, sv->key_der, info->key_len)) {
            return SMPDFU_EIMG_KEY;
        }
    }
    rc = read(ctx, info->sig_off, scratch, info->sig_len);
    if (rc) {
        return rc;
    }
    return sv->verify(sv->ctx, info->sig_tlv, info->hash_alg, digest, info->hash_len, scratch,
                      info->sig_len);
}

int smpdfu_image_tlv_next(const smpdfu_image_info_t *info, smpdfu_read_fn read, void *ctx,
                          uint32_t *pos, smpdfu_image_tlv_t *tlv)
{
    if (!info || !read || !pos || !tlv) {
        return SMPDFU_EINVAL;
    }
    uint32_t p = *pos;
    uint32_t prot_end = info->prot_off + info->prot_len;
    uint32_t unprot_end = info->unprot_off + info->unprot_len;
    if (prot_end < info->prot_off || unprot_end < info->unprot_off) {
        return SMPDFU_EINVAL;
    }
    if (p == 0) {
        p = info->prot_len ? info->prot_off + TLV_INFO_LEN : info->unprot_off + TLV_INFO_LEN;
    }
    if (info->prot_len && p >= prot_end && p < info->unprot_off + TLV_INFO_LEN) {
        p = info->unprot_off + TLV_INFO_LEN;
    }
    bool prot = info->prot_len && p < prot_end;
    uint32_t end = prot ? prot_end : unprot_end;
    if (p >= end) {
        *pos = p;
        return 0;
    }
    if (end - p < TLV_HDR_LEN) {
        return SMPDFU_EIMG_TLV_OVERRUN;
    }
    uint8_t th[TLV_HDR_LEN];
    int rc = read(ctx, p, th, sizeof(th));
    if (rc) {
        return rc;
    }
    tlv->type = le16(th);
    tlv->len = le16(th + 2);
    tlv->off = p + TLV_HDR_LEN;
    tlv->protected_area = prot;
    if (tlv->len > end - tlv->off) {
        return SMPDFU_EIMG_TLV_OVERRUN;
    }
    *pos = tlv->off + tlv->len;
    return 1;
}

/* Decimal without printf (keeps newlib-nano's printf out of MCU builds). */
static size_t put_uint(char *buf, size_t cap, size_t at, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        if (at + 1 < cap) {
            buf[at] = tmp[n - 1];
        }
        at++;
        n--;
    }
    return at;
}

int smpdfu_image_version_str(const smpdfu_image_version_t *v, char *buf, size_t cap)
{
    if (!v || (!buf && cap)) {
        return SMPDFU_EINVAL;
    }
    size_t at = 0;
    at = put_uint(buf, cap, at, v->major);
    if (at + 1 < cap) {
        buf[at] = '.';
    }
    at = put_uint(buf, cap, at + 1, v->minor);
    if (at + 1 < cap) {
        buf[at] = '.';
    }
    at = put_uint(buf, cap, at + 1, v->revision);
    if (v->build) {
        if (at + 1 < cap) {
            buf[at] = '.';
        }
        at = put_uint(buf, cap, at + 1, v->build);
    }
    if (cap) {
        buf[at < cap ? at : cap - 1] = '\0';
    }
    if (at >= cap) {
        return SMPDFU_ENOSPC;
    }
    return (int)at;
}

static int parse_num(const char **s, uint32_t max, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') {
        return SMPDFU_EINVAL;
    }
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max) {
            return SMPDFU_ERANGE;
        }
        p++;
    }
    *s = p;
    *out = (uint32_t)v;
    return 0;
}

int smpdfu_image_version_parse(const char *s, smpdfu_image_version_t *v)
{
    if (!s || !v) {
        return SMPDFU_EINVAL;
    }
    static const uint32_t max[4] = {0xffu, 0xffu, 0xffffu, 0xffffffffu};
    uint32_t f[4] = {0, 0, 0, 0};
    int rc;
    /* "1", "1.2", "1.2.3", then "+4" or ".4" for the build number (imgtool's forms). */
    int i = 0;
    for (; i < 3; i++) {
        rc = parse_num(&s, max[i], &f[i]);
        if (rc) {
            return rc;
        }
        if (*s != '.' || i == 2) {
            break;
        }
        s++;
    }
    if (*s == '+' || (*s == '.' && i == 2)) {
        s++;
        rc = parse_num(&s, max[3], &f[3]);
        if (rc) {
            return rc;
        }
    }
    if (*s) {
        return SMPDFU_EINVAL;
    }
    v->major = (uint8_t)f[0];
    v->minor = (uint8_t)f[1];
    v->revision = (uint16_t)f[2];
    v->build = f[3];
    return 0;
}

int smpdfu_image_version_cmp(const smpdfu_image_version_t *a, const smpdfu_image_version_t *b,
                             bool use_build)
{
    if (a->major != b->major) {
        return a->major < b->major ? -1 : 1;
    }
    if (a->minor != b->minor) {
        return a->minor < b->minor ? -1 : 1;
    }
    if (a->revision != b->revision) {
        return a->revision < b->revision ? -1 : 1;
    }
    if (use_build && a->build != b->build) {
        return a->build < b->build ? -1 : 1;
    }
    return 0;
}

const char *smpdfu_image_tlv_name(uint16_t type)
{
    switch (type) {
    case SMPDFU_TLV_KEYHASH: return "KEYHASH";
    case SMPDFU_TLV_PUBKEY: return "PUBKEY";
    case SMPDFU_TLV_SHA256: return "SHA256";
    case SMPDFU_TLV_SHA384: return "SHA384";
    case SMPDFU_TLV_SHA512: return "SHA512";
    case SMPDFU_TLV_RSA2048_PSS: return "RSA2048_PSS";
    case SMPDFU_TLV_ECDSA224: return "ECDSA224";
    case SMPDFU_TLV_ECDSA_SIG: return "ECDSA_SIG";
    case SMPDFU_TLV_RSA3072_PSS: return "RSA3072_PSS";
    case SMPDFU_TLV_ED25519: return "ED25519";
    case SMPDFU_TLV_SIG_PURE: return "SIG_PURE";
    case SMPDFU_TLV_ENC_RSA2048: return "ENC_RSA2048";
    case SMPDFU_TLV_ENC_KW: return "ENC_KW";
    case SMPDFU_TLV_ENC_EC256: return "ENC_EC256";
    case SMPDFU_TLV_ENC_X25519: return "ENC_X25519";
    case SMPDFU_TLV_ENC_X25519_SHA512: return "ENC_X25519_SHA512";
    case SMPDFU_TLV_DEPENDENCY: return "DEPENDENCY";
    case SMPDFU_TLV_SEC_CNT: return "SEC_CNT";
    case SMPDFU_TLV_BOOT_RECORD: return "BOOT_RECORD";
    case SMPDFU_TLV_DECOMP_SIZE: return "DECOMP_SIZE";
    case SMPDFU_TLV_DECOMP_SHA: return "DECOMP_SHA";
    case SMPDFU_TLV_DECOMP_SIGNATURE: return "DECOMP_SIGNATURE";
    case SMPDFU_TLV_COMP_DEC_SIZE: return "COMP_DEC_SIZE";
    case SMPDFU_TLV_UUID_VID: return "UUID_VID";
    case SMPDFU_TLV_UUID_CID: return "UUID_CID";
    default: break;
    }
    return (type & 0xffu) >= 0xa0u && type != 0xffffu ? "vendor" : "unknown";
}
