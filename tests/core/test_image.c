/* SPDX-License-Identifier: Apache-2.0 */
/* MCUboot image parsing, TLV walk, hash and signature checks over images
 * built byte by byte here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/trailer.h"

/* ------------------------------------------------------------ image builder */

typedef struct {
    uint16_t type;
    uint16_t len;
    uint8_t val[80];
} tlv_t;

typedef struct {
    uint16_t hdr_size;
    uint32_t img_size;
    uint32_t flags;
    smpdfu_image_version_t ver;
    tlv_t prot[4];
    int nprot;
    tlv_t unprot[6]; /* after the hash TLV */
    int nunprot;
    bool no_hash;
    smpdfu_hash_alg_t alg;
} spec_t;

typedef struct {
    uint8_t b[16384];
    size_t len;
    size_t hashed;
} img_t;

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffffu);
    put16(p + 2, v >> 16);
}

static size_t put_tlv(uint8_t *p, const tlv_t *t)
{
    put16(p, t->type);
    put16(p + 2, t->len);
    memcpy(p + 4, t->val, t->len);
    return 4u + t->len;
}

static void build(const spec_t *s, img_t *im)
{
    memset(im, 0, sizeof(*im));
    uint8_t *b = im->b;
    size_t prot_len = 0;
    if (s->nprot) {
        prot_len = 4;
        for (int i = 0; i < s->nprot; i++) {
            prot_len += 4u + s->prot[i].len;
        }
    }
    put32(b, SMPDFU_IMAGE_MAGIC);
    put32(b + 4, 0);
    put16(b + 8, s->hdr_size);
    put16(b + 10, (uint32_t)prot_len);
    put32(b + 12, s->img_size);
    put32(b + 16, s->flags);
    b[20] = s->ver.major;
    b[21] = s->ver.minor;
    put16(b + 22, s->ver.revision);
    put32(b + 24, s->ver.build);
    memset(b + 32, 0xff, s->hdr_size - 32u);
    size_t at = s->hdr_size;
    for (uint32_t i = 0; i < s->img_size; i++) {
        b[at++] = (uint8_t)(i * 7u + 3u);
    }
    if (s->nprot) {
        put16(b + at, SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC);
        put16(b + at + 2, (uint32_t)prot_len);
        at += 4;
        for (int i = 0; i < s->nprot; i++) {
            at += put_tlv(b + at, &s->prot[i]);
        }
    }
    im->hashed = at;
    size_t info = at;
    at += 4;
    if (!s->no_hash) {
        tlv_t h = {(uint16_t)(SMPDFU_TLV_SHA256 + s->alg), (uint16_t)smpdfu_hash_len(s->alg), {0}};
        assert_int_equal(smpdfu_posix_digest(s->alg, b, im->hashed, h.val), 0);
        at += put_tlv(b + at, &h);
    }
    for (int i = 0; i < s->nunprot; i++) {
        at += put_tlv(b + at, &s->unprot[i]);
    }
    put16(b + info, SMPDFU_IMAGE_TLV_INFO_MAGIC);
    put16(b + info + 2, (uint32_t)(at - info));
    im->len = at;
}

static spec_t basic(void)
{
    spec_t s;
    memset(&s, 0, sizeof(s));
    s.hdr_size = 0x40;
    s.img_size = 100;
    s.ver = (smpdfu_image_version_t){1, 2, 3, 4};
    s.alg = SMPDFU_HASH_SHA256;
    return s;
}

static int parse(const img_t *im, smpdfu_image_info_t *info)
{
    return smpdfu_image_parse_buf(im->b, im->len, SMPDFU_IMAGE_PARSE_FILE, info);
}

static smpdfu_posix_hash_state_t g_hs;
static smpdfu_hash_t g_h;

static int verify_hash(const img_t *im, const smpdfu_image_info_t *info)
{
    smpdfu_image_buf_t b = {im->b, im->len};
    uint8_t scratch[37];
    return smpdfu_image_verify_hash(info, &g_h, smpdfu_image_buf_read, &b, scratch,
                                    sizeof(scratch), NULL);
}

/* ------------------------------------------------------------ tests */

static void test_parse_basic(void **state)
{
    (void)state;
    spec_t s = basic();
    s.nprot = 2;
    s.prot[0] = (tlv_t){SMPDFU_TLV_SEC_CNT, 4, {7, 0, 0, 0}};
    s.prot[1] = (tlv_t){0x00a5, 3, {1, 2, 3}};
    s.nunprot = 1;
    s.unprot[0] = (tlv_t){SMPDFU_TLV_KEYHASH, 32, {0xaa}};
    img_t im;
    build(&s, &im);
    smpdfu_image_info_t in;
    assert_int_equal(parse(&im, &in), 0);
    assert_int_equal(in.hdr.magic, SMPDFU_IMAGE_MAGIC);
    assert_int_equal(in.hdr.hdr_size, 0x40);
    assert_int_equal(in.hdr.img_size, 100);
    assert_int_equal(in.hdr.version.major, 1);
    assert_int_equal(in.hdr.version.minor, 2);
    assert_int_equal(in.hdr.version.revision, 3);
    assert_int_equal(in.hdr.version.build, 4);
    assert_int_equal(in.prot_off, 0x40 + 100);
    assert_int_equal(in.prot_len, 4 + 8 + 7);
    assert_int_equal(in.unprot_off, in.prot_off + in.prot_len);
    assert_int_equal(in.hashed_len, im.hashed);
    assert_int_equal(in.end, im.len);
    assert_int_equal(in.unprot_len, im.len - in.unprot_off);
    assert_int_equal(in.hash_tlv, SMPDFU_TLV_SHA256);
    assert_int_equal(in.hash_len, 32);
    assert_int_equal(in.hash_off, in.unprot_off + 8);
    assert_memory_equal(in.hash, im.b + in.hash_off, 32);
    assert_int_equal(in.key_tlv, SMPDFU_TLV_KEYHASH);
    assert_int_equal(in.key_len, 32);
    assert_int_equal(in.sig_tlv, 0);
    assert_int_equal(in.tlv_count, 4);
    assert_int_equal(verify_hash(&im, &in), 0);

    /* The walk gives every TLV once, in order, with its area. */
    smpdfu_image_buf_t b = {im.b, im.len};
    uint32_t pos = 0;
    smpdfu_image_tlv_t t;
    const uint16_t want_type[] = {SMPDFU_TLV_SEC_CNT, 0x00a5, SMPDFU_TLV_SHA256, SMPDFU_TLV_KEYHASH};
    const bool want_prot[] = {true, true, false, false};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(smpdfu_image_tlv_next(&in, smpdfu_image_buf_read, &b, &pos, &t), 1);
        assert_int_equal(t.type, want_type[i]);
        assert_int_equal(t.protected_area, want_prot[i]);
    }
    assert_int_equal(t.off, in.key_off);
    assert_int_equal(smpdfu_image_tlv_next(&in, smpdfu_image_buf_read, &b, &pos, &t), 0);
    assert_int_equal(smpdfu_image_tlv_next(&in, smpdfu_image_buf_read, &b, &pos, &t), 0);
}

static void test_sha384_512(void **state)
{
    (void)state;
    for (int a = SMPDFU_HASH_SHA384; a <= SMPDFU_HASH_SHA512; a++) {
        spec_t s = basic();
        s.alg = (smpdfu_hash_alg_t)a;
        img_t im;
        build(&s, &im);
        smpdfu_image_info_t in;
        assert_int_equal(parse(&im, &in), 0);
        assert_int_equal(in.hash_alg, a);
        assert_int_equal(in.hash_len, smpdfu_hash_len((smpdfu_hash_alg_t)a));
        assert_int_equal(verify_hash(&im, &in), 0);
        im.b[40] ^= 1;
        assert_int_equal(verify_hash(&im, &in), SMPDFU_EIMG_HASH_MISMATCH);
    }
}

static void test_header_errors(void **state)
{
    (void)state;
    spec_t s = basic();
    img_t im;
    smpdfu_image_info_t in;
    build(&s, &im);

    im.b[0] = 0x3c; /* the old V1 magic */
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_MAGIC);
    assert_int_equal(in.err_off, 0);
    im.b[0] = 0x3d;

    put16(im.b + 8, 31);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_HDR);
    assert_int_equal(in.err_off, 8);
    put16(im.b + 8, 0x40);

    /* img_size that would wrap a 32-bit sum. */
    put32(im.b + 12, 0xffffffffu);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRUNC);
    put32(im.b + 12, 0xffffffc0u);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRUNC);
    put32(im.b + 12, 100);

    /* protect_tlv_size too small to hold its own info header. */
    put16(im.b + 10, 2);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_HDR);
    put16(im.b + 10, 0xffff); /* past the end */
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRUNC);
    put16(im.b + 10, 8); /* points at the 0x6907 area: wrong magic for protected */
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_MAGIC);
    put16(im.b + 10, 0);

    assert_int_equal(smpdfu_image_parse_buf(im.b, 31, SMPDFU_IMAGE_PARSE_FILE, &in),
                     SMPDFU_EIMG_TRUNC);
    assert_int_equal(smpdfu_image_parse_buf(NULL, 0, SMPDFU_IMAGE_PARSE_FILE, &in),
                     SMPDFU_EIMG_TRUNC);
    assert_int_equal(smpdfu_image_parse_buf(im.b, im.len, (smpdfu_image_parse_mode_t)5, &in),
                     SMPDFU_EINVAL);
    assert_int_equal(parse(&im, &in), 0);
}

/* The header decoder alone: fields filled also when a check fails, checks
 * in order, the failing field's offset. */
static void test_hdr_decode(void **state)
{
    (void)state;
    uint8_t h[SMPDFU_IMAGE_HDR_LEN];
    smpdfu_image_hdr_t hd;
    uint32_t off = 99;
    memset(h, 0, sizeof(h));
    put32(h, SMPDFU_IMAGE_MAGIC);
    put32(h + 4, 0x10000);
    put16(h + 8, 0x200);
    put16(h + 10, 0);
    put32(h + 12, 0x1234);
    put32(h + 16, SMPDFU_IMAGE_F_NON_BOOTABLE);
    h[20] = 1;
    h[21] = 2;
    put16(h + 22, 3);
    put32(h + 24, 4);
    assert_int_equal(smpdfu_image_hdr_decode(h, sizeof(h), &hd, &off), 0);
    assert_int_equal(off, 99); /* untouched on success */
    assert_int_equal(hd.magic, SMPDFU_IMAGE_MAGIC);
    assert_int_equal(hd.load_addr, 0x10000);
    assert_int_equal(hd.hdr_size, 0x200);
    assert_int_equal(hd.img_size, 0x1234);
    assert_int_equal(hd.flags, SMPDFU_IMAGE_F_NON_BOOTABLE);
    assert_int_equal(hd.version.major, 1);
    assert_int_equal(hd.version.minor, 2);
    assert_int_equal(hd.version.revision, 3);
    assert_int_equal(hd.version.build, 4);

    assert_int_equal(smpdfu_image_hdr_decode(h, 31, &hd, &off), SMPDFU_EIMG_TRUNC);
    assert_int_equal(off, 31);
    assert_int_equal(smpdfu_image_hdr_decode(NULL, 32, &hd, NULL), SMPDFU_EINVAL);

    memset(h, 0xff, 4); /* erased: refused, yet the fields are there to look at */
    put16(h + 8, 8);
    assert_int_equal(smpdfu_image_hdr_decode(h, sizeof(h), &hd, &off), SMPDFU_EIMG_MAGIC);
    assert_int_equal(off, 0);
    assert_int_equal(hd.magic, 0xffffffffu);
    assert_int_equal(hd.hdr_size, 8);
    assert_int_equal(hd.version.build, 4);

    put32(h, SMPDFU_IMAGE_MAGIC); /* hdr_size 8 < 32 */
    assert_int_equal(smpdfu_image_hdr_decode(h, sizeof(h), &hd, &off), SMPDFU_EIMG_HDR);
    assert_int_equal(off, 8);
    put16(h + 8, 32);
    put16(h + 10, 3); /* cannot hold its 4-byte info */
    assert_int_equal(smpdfu_image_hdr_decode(h, sizeof(h), &hd, &off), SMPDFU_EIMG_HDR);
    assert_int_equal(off, 10);
    put16(h + 10, 4);
    assert_int_equal(smpdfu_image_hdr_decode(h, sizeof(h), &hd, NULL), 0);
}

static void test_tlv_values(void **state)
{
    (void)state;
    const uint8_t sc[4] = {0x2a, 0x01, 0, 0};
    const uint8_t dep[12] = {1, 0, 0, 0, 2, 3, 0x04, 0x01, 5, 0, 0, 0};
    uint32_t cnt = 0;
    smpdfu_image_dep_t d;
    assert_int_equal(smpdfu_image_tlv_sec_cnt(sc, 4, &cnt), 0);
    assert_int_equal(cnt, 0x12a);
    assert_int_equal(smpdfu_image_tlv_sec_cnt(sc, 3, &cnt), SMPDFU_EIMG_TLV_LEN);
    assert_int_equal(smpdfu_image_tlv_sec_cnt(sc, 4, NULL), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_image_tlv_dependency(dep, 12, &d), 0);
    assert_int_equal(d.image, 1);
    assert_int_equal(d.min_version.major, 2);
    assert_int_equal(d.min_version.minor, 3);
    assert_int_equal(d.min_version.revision, 0x104);
    assert_int_equal(d.min_version.build, 5);
    assert_int_equal(smpdfu_image_tlv_dependency(dep, 8, &d), SMPDFU_EIMG_TLV_LEN);
    assert_int_equal(smpdfu_image_tlv_dependency(NULL, 12, &d), SMPDFU_EINVAL);
}

static void test_tlv_errors(void **state)
{
    (void)state;
    smpdfu_image_info_t in;
    img_t im;
    spec_t s = basic();
    s.nprot = 1;
    s.prot[0] = (tlv_t){SMPDFU_TLV_SEC_CNT, 4, {1}};
    build(&s, &im);
    uint32_t prot = 0x40 + 100;

    /* Protected total disagreeing with the header. */
    put16(im.b + prot + 2, 16);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_HDR);
    assert_int_equal(in.err_off, prot + 2);
    put16(im.b + prot + 2, 12);
    /* Protected TLV longer than its area. */
    put16(im.b + prot + 6, 5);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_OVERRUN);
    assert_int_equal(in.err_off, prot + 4);
    put16(im.b + prot + 6, 4);
    /* Unprotected info magic. */
    uint32_t up = prot + 12;
    im.b[up] ^= 0x01;
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_MAGIC);
    assert_int_equal(in.err_off, up);
    im.b[up] ^= 0x01;
    /* Unprotected total beyond the file, and too small. */
    put16(im.b + up + 2, (uint32_t)(im.len - up + 1));
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRUNC);
    put16(im.b + up + 2, 3);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_MAGIC);
    put16(im.b + up + 2, (uint32_t)(im.len - up));
    /* Hash TLV with a wrong length. */
    put16(im.b + up + 6, 31);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_LEN);
    put16(im.b + up + 6, 33);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_OVERRUN);
    put16(im.b + up + 6, 32);
    assert_int_equal(parse(&im, &in), 0);
    /* Cut anywhere: refused as truncated, trailing or overrun, never read out of bounds. */
    for (size_t n = 0; n < im.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, im.b, n);
        int rc = smpdfu_image_parse_buf(copy, n, SMPDFU_IMAGE_PARSE_FILE, &in);
        assert_true(rc == SMPDFU_EIMG_TRUNC || rc == SMPDFU_EIMG_TLV_OVERRUN ||
                    rc == SMPDFU_EIMG_TLV_MAGIC);
        assert_true(in.err_off <= im.len);
        free(copy);
    }
}

static void test_hash_tlv_rules(void **state)
{
    (void)state;
    smpdfu_image_info_t in;
    img_t im;
    spec_t s = basic();

    s.no_hash = true;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_NO_HASH);

    s = basic();
    s.nunprot = 1;
    s.unprot[0] = (tlv_t){SMPDFU_TLV_SHA256, 32, {0}};
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_DUP_HASH);
    assert_int_equal(in.err_off, 0x40 + 100 + 4 + 36);

    s.unprot[0] = (tlv_t){SMPDFU_TLV_SHA512, 64, {0}};
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_DUP_HASH);

    s.unprot[0] = (tlv_t){SMPDFU_TLV_SHA384, 47, {0}};
    s.no_hash = true;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TLV_LEN);

    /* A hash in the protected area cannot be the image hash. */
    s = basic();
    s.no_hash = true;
    s.nprot = 1;
    s.prot[0] = (tlv_t){SMPDFU_TLV_SHA256, 32, {0}};
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_NO_HASH);
    s.no_hash = false;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_DUP_HASH);
}

static void test_padded_trailing(void **state)
{
    (void)state;
    smpdfu_image_info_t in;
    img_t im;
    spec_t s = basic();
    build(&s, &im);
    size_t len = im.len;

    /* Trailing erased bytes: refused for a file, ignored in a slot. */
    memset(im.b + len, 0xff, 200);
    im.len = len + 200;
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRAILING);
    assert_int_equal(in.err_off, len);
    assert_int_equal(smpdfu_image_parse_buf(im.b, im.len, SMPDFU_IMAGE_PARSE_SLOT, &in), 0);
    assert_int_equal(in.end, len);

    /* imgtool --pad: trailer magic at the end, for A = 8 and A = 32. */
    const uint32_t aligns[] = {8, 16, 32};
    for (int i = 0; i < 3; i++) {
        smpdfu_trailer_magic(aligns[i], im.b + im.len - 16);
        assert_int_equal(parse(&im, &in), SMPDFU_EIMG_PADDED);
        assert_int_equal(in.err_off, im.len - 16);
        assert_int_equal(in.end, len); /* the image in front is complete */
        assert_int_equal(smpdfu_image_parse_buf(im.b, im.len, SMPDFU_IMAGE_PARSE_SLOT, &in), 0);
    }
    /* Fewer than 16 trailing bytes: just trailing. */
    im.len = len + 5;
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_TRAILING);
}

static void test_encrypted(void **state)
{
    (void)state;
    smpdfu_image_info_t in;
    img_t im;
    spec_t s = basic();
    s.flags = SMPDFU_IMAGE_F_ENCRYPTED_AES128;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), SMPDFU_EIMG_ENC);
    s.nunprot = 1;
    s.unprot[0] = (tlv_t){SMPDFU_TLV_ENC_KW, 24, {0}};
    build(&s, &im);
    assert_int_equal(parse(&im, &in), 0);
    assert_true(in.encrypted);
    assert_int_equal(verify_hash(&im, &in), SMPDFU_ENOTSUP);
}

/* Every byte the hash covers matters. */
static void test_flip_every_hashed_byte(void **state)
{
    (void)state;
    spec_t s = basic();
    s.nprot = 1;
    s.prot[0] = (tlv_t){SMPDFU_TLV_SEC_CNT, 4, {9}};
    img_t im;
    build(&s, &im);
    for (size_t i = 0; i < im.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            img_t m = im;
            m.b[i] ^= (uint8_t)(1u << bit);
            smpdfu_image_info_t in;
            int rc = parse(&m, &in);
            if (rc == 0) {
                rc = verify_hash(&m, &in);
            }
            if (i < im.hashed || (i >= in.hash_off && i < in.hash_off + 32u)) {
                /* header, payload, protected TLVs, hash value: always refused */
                assert_int_not_equal(rc, 0);
            }
        }
    }
}

/* ------------------------------------------------------------ signatures */

typedef struct {
    int calls;
    uint16_t tlv;
    smpdfu_hash_alg_t alg;
    uint8_t digest[64];
    size_t digest_len;
    uint8_t sig[80];
    size_t sig_len;
    int rc;
} fake_t;

static int fake_verify(void *ctx, uint16_t sig_tlv, smpdfu_hash_alg_t alg, const uint8_t *digest,
                       size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    fake_t *f = ctx;
    f->calls++;
    f->tlv = sig_tlv;
    f->alg = alg;
    memcpy(f->digest, digest, digest_len);
    f->digest_len = digest_len;
    memcpy(f->sig, sig, sig_len);
    f->sig_len = sig_len;
    return f->rc;
}

static void test_verify_sig_hook(void **state)
{
    (void)state;
    static const uint8_t key_der[] = "pretend this is a SubjectPublicKeyInfo";
    spec_t s = basic();
    s.nunprot = 2;
    s.unprot[0].type = SMPDFU_TLV_KEYHASH;
    s.unprot[0].len = 32;
    assert_int_equal(smpdfu_posix_digest(SMPDFU_HASH_SHA256, key_der, sizeof(key_der), s.unprot[0].val), 0);
    s.unprot[1] = (tlv_t){SMPDFU_TLV_ECDSA_SIG, 6, {0x30, 4, 1, 2, 3, 4}};
    img_t im;
    build(&s, &im);
    smpdfu_image_info_t in;
    assert_int_equal(parse(&im, &in), 0);
    assert_int_equal(in.sig_tlv, SMPDFU_TLV_ECDSA_SIG);
    assert_int_equal(in.sig_len, 6);

    fake_t f;
    memset(&f, 0, sizeof(f));
    smpdfu_sig_verify_t sv = {fake_verify, &f, key_der, sizeof(key_der)};
    smpdfu_image_buf_t b = {im.b, im.len};
    uint8_t scratch[64];
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     0);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.tlv, SMPDFU_TLV_ECDSA_SIG);
    assert_int_equal(f.alg, SMPDFU_HASH_SHA256);
    assert_int_equal(f.digest_len, 32);
    assert_memory_equal(f.digest, in.hash, 32);
    assert_int_equal(f.sig_len, 6);
    assert_memory_equal(f.sig, s.unprot[1].val, 6);

    /* The hook's verdict comes back unchanged. */
    f.rc = SMPDFU_EIMG_SIG;
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_SIG);
    f.rc = 0;
    /* Another key: KEYHASH differs, the hook is never asked. */
    static const uint8_t other[] = "another key";
    smpdfu_sig_verify_t sv2 = {fake_verify, &f, other, sizeof(other)};
    f.calls = 0;
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv2, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_KEY);
    assert_int_equal(f.calls, 0);
    /* Scratch too small for the signature. */
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch, 5),
                     SMPDFU_ENOSPC);
    /* Corrupted payload: hash mismatch before any signature work. */
    img_t m = im;
    m.b[0x50] ^= 0x80;
    smpdfu_image_buf_t mb = {m.b, m.len};
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &mb, &sv, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_HASH_MISMATCH);

    /* PUBKEY instead of KEYHASH: compared byte for byte. */
    s.unprot[0].type = SMPDFU_TLV_PUBKEY;
    s.unprot[0].len = sizeof(key_der);
    memcpy(s.unprot[0].val, key_der, sizeof(key_der));
    build(&s, &im);
    assert_int_equal(parse(&im, &in), 0);
    b = (smpdfu_image_buf_t){im.b, im.len};
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     0);
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv2, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_KEY);

    /* No key TLV at all: MCUboot could not pick the key. */
    s.unprot[0] = s.unprot[1];
    s.nunprot = 1;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), 0);
    b = (smpdfu_image_buf_t){im.b, im.len};
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_KEY);

    /* Unsigned, and SIG_PURE. */
    s.nunprot = 0;
    build(&s, &im);
    assert_int_equal(parse(&im, &in), 0);
    b = (smpdfu_image_buf_t){im.b, im.len};
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     SMPDFU_EIMG_NO_SIG);
    s.nunprot = 1;
    s.unprot[0] = (tlv_t){SMPDFU_TLV_SIG_PURE, 1, {1}};
    build(&s, &im);
    assert_int_equal(parse(&im, &in), 0);
    assert_true(in.sig_pure);
    b = (smpdfu_image_buf_t){im.b, im.len};
    assert_int_equal(smpdfu_image_verify_sig(&in, &g_h, smpdfu_image_buf_read, &b, &sv, scratch,
                                             sizeof(scratch)),
                     SMPDFU_ENOTSUP);
}

/* ------------------------------------------------------------ file reader */

static void test_file_reader(void **state)
{
    (void)state;
    spec_t s = basic();
    img_t im;
    build(&s, &im);
    char path[] = "/tmp/smpdfu_test_image_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, im.b, im.len), (ssize_t)im.len);
    close(fd);

    smpdfu_posix_file_t f;
    assert_int_equal(smpdfu_posix_file_open(&f, path), 0);
    assert_int_equal(f.size, im.len);
    smpdfu_image_info_t a, b;
    assert_int_equal(smpdfu_image_parse(smpdfu_posix_file_read, &f, f.size,
                                        SMPDFU_IMAGE_PARSE_FILE, &a),
                     0);
    assert_int_equal(parse(&im, &b), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    uint8_t scratch[7];
    assert_int_equal(smpdfu_image_verify_hash(&a, &g_h, smpdfu_posix_file_read, &f, scratch,
                                              sizeof(scratch), NULL),
                     0);
    uint8_t buf[8];
    assert_int_equal(smpdfu_posix_file_read(&f, f.size - 4, buf, 4), 0);
    assert_memory_equal(buf, im.b + im.len - 4, 4);
    assert_int_equal(smpdfu_posix_file_read(&f, f.size - 4, buf, 5), SMPDFU_ETRUNC);
    assert_int_equal(smpdfu_posix_file_read(&f, 0xffffffffu, buf, 1), SMPDFU_ETRUNC);
    assert_int_equal(smpdfu_posix_file_read(&f, f.size, buf, 0), 0);
    smpdfu_posix_file_close(&f);
    smpdfu_posix_file_close(&f);
    assert_int_equal(smpdfu_posix_file_read(&f, 0, buf, 1), SMPDFU_EINVAL);
    unlink(path);
    assert_int_equal(smpdfu_posix_file_open(&f, path), SMPDFU_EFILE);
    assert_int_equal(smpdfu_posix_file_open(&f, "/tmp"), SMPDFU_EFILE);
}

/* ------------------------------------------------------------ versions, names */

static void test_versions(void **state)
{
    (void)state;
    char buf[32];
    smpdfu_image_version_t v = {1, 2, 3, 0};
    assert_int_equal(smpdfu_image_version_str(&v, buf, sizeof(buf)), 5);
    assert_string_equal(buf, "1.2.3");
    v.build = 4;
    assert_int_equal(smpdfu_image_version_str(&v, buf, sizeof(buf)), 7);
    assert_string_equal(buf, "1.2.3.4");
    v = (smpdfu_image_version_t){255, 255, 65535, 4294967295u};
    assert_int_equal(smpdfu_image_version_str(&v, buf, sizeof(buf)), 24);
    assert_string_equal(buf, "255.255.65535.4294967295");
    assert_int_equal(smpdfu_image_version_str(&v, buf, 25), 24);
    assert_int_equal(smpdfu_image_version_str(&v, buf, 24), SMPDFU_ENOSPC);
    assert_int_equal(strlen(buf), 23);
    assert_int_equal(smpdfu_image_version_str(&v, buf, 1), SMPDFU_ENOSPC);
    assert_string_equal(buf, "");

    smpdfu_image_version_t p;
    assert_int_equal(smpdfu_image_version_parse("1.2.3+4", &p), 0);
    assert_true(p.major == 1 && p.minor == 2 && p.revision == 3 && p.build == 4);
    assert_int_equal(smpdfu_image_version_parse("1.2.3.4", &p), 0);
    assert_true(p.build == 4);
    assert_int_equal(smpdfu_image_version_parse("7", &p), 0);
    assert_true(p.major == 7 && p.minor == 0 && p.revision == 0 && p.build == 0);
    assert_int_equal(smpdfu_image_version_parse("1.2", &p), 0);
    assert_int_equal(smpdfu_image_version_parse("255.255.65535+4294967295", &p), 0);
    assert_true(p.build == 4294967295u);
    assert_int_equal(smpdfu_image_version_parse("256.0.0", &p), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_image_version_parse("0.0.65536", &p), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_image_version_parse("0.0.0+4294967296", &p), SMPDFU_ERANGE);
    assert_int_equal(smpdfu_image_version_parse("", &p), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_image_version_parse("1.", &p), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_image_version_parse("1.2.3.4.5", &p), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_image_version_parse("1.2.3 ", &p), SMPDFU_EINVAL);
    assert_int_equal(smpdfu_image_version_parse("a.b", &p), SMPDFU_EINVAL);

    smpdfu_image_version_t a = {1, 2, 3, 4}, b = {1, 2, 3, 5};
    assert_int_equal(smpdfu_image_version_cmp(&a, &b, false), 0);
    assert_true(smpdfu_image_version_cmp(&a, &b, true) < 0);
    b = (smpdfu_image_version_t){1, 3, 0, 0};
    assert_true(smpdfu_image_version_cmp(&a, &b, false) < 0);
    assert_true(smpdfu_image_version_cmp(&b, &a, true) > 0);
    b = (smpdfu_image_version_t){1, 2, 2, 9};
    assert_true(smpdfu_image_version_cmp(&a, &b, true) > 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(smpdfu_image_tlv_name(0x10), "SHA256");
    assert_string_equal(smpdfu_image_tlv_name(0x22), "ECDSA_SIG");
    assert_string_equal(smpdfu_image_tlv_name(0x24), "ED25519");
    assert_string_equal(smpdfu_image_tlv_name(0x75), "UUID_CID");
    assert_string_equal(smpdfu_image_tlv_name(0x01a5), "vendor");
    assert_string_equal(smpdfu_image_tlv_name(0x0099), "unknown");
    assert_true(smpdfu_image_tlv_is_sig(0x20));
    assert_true(smpdfu_image_tlv_is_sig(0x24));
    assert_false(smpdfu_image_tlv_is_sig(0x25));
}

static int setup(void **state)
{
    (void)state;
    smpdfu_posix_hash_init(&g_hs, &g_h);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    smpdfu_posix_hash_free(&g_hs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_sha384_512),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_hdr_decode),
        cmocka_unit_test(test_tlv_values),
        cmocka_unit_test(test_tlv_errors),
        cmocka_unit_test(test_hash_tlv_rules),
        cmocka_unit_test(test_padded_trailing),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_flip_every_hashed_byte),
        cmocka_unit_test(test_verify_sig_hook),
        cmocka_unit_test(test_file_reader),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
