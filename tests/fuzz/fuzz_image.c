/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: MCUboot image header decoder, parse (file and slot modes), TLV
 * walk and value decoders, hash and signature checks over arbitrary bytes.
 * Every offset the parser reports must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"

static int accept_all(void *ctx, uint16_t sig_tlv, smpdfu_hash_alg_t alg, const uint8_t *digest,
                      size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    (void)ctx;
    (void)sig_tlv;
    (void)alg;
    /* Touch every byte so ASan sees any out-of-bounds pointer. */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < digest_len; i++) {
        x ^= digest[i];
    }
    for (size_t i = 0; i < sig_len; i++) {
        x ^= sig[i];
    }
    return x == 0xff ? SMPDFU_EIMG_SIG : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smpdfu_posix_hash_state_t hs;
    static smpdfu_hash_t h;
    static int inited;
    if (!inited) {
        smpdfu_posix_hash_init(&hs, &h);
        inited = 1;
    }
    smpdfu_image_buf_t b = {data, size};
    /* The header decoder on its own (every header in smpdfu goes through it):
     * it must fill the fields whenever 32 bytes are there, and agree with
     * the parse on the fields. */
    smpdfu_image_hdr_t hd;
    uint32_t hoff = UINT32_MAX;
    static const uint8_t none[1];
    int hrc = smpdfu_image_hdr_decode(data ? data : none, size, &hd, &hoff);
    if (hrc != 0 && hrc != SMPDFU_EIMG_TRUNC && hrc != SMPDFU_EIMG_MAGIC &&
        hrc != SMPDFU_EIMG_HDR) {
        abort();
    }
    if (hrc != 0 && hoff > (size < SMPDFU_IMAGE_HDR_LEN ? size : SMPDFU_IMAGE_HDR_LEN)) {
        abort();
    }
    for (int mode = 0; mode < 2; mode++) {
        smpdfu_image_info_t in;
        int rc = smpdfu_image_parse(smpdfu_image_buf_read, &b, (uint32_t)size,
                                    (smpdfu_image_parse_mode_t)mode, &in);
        if (size >= SMPDFU_IMAGE_HDR_LEN && memcmp(&in.hdr, &hd, sizeof(hd)) != 0) {
            abort(); /* the parse decodes its header through the same decoder */
        }
        if (rc) {
            if (in.err_off > size) {
                abort();
            }
            continue;
        }
        if (in.end > size || in.hashed_len > in.end || in.hash_off + in.hash_len > in.end ||
            (in.sig_tlv && in.sig_off + in.sig_len > in.end) ||
            (in.key_tlv && in.key_off + in.key_len > in.end)) {
            abort();
        }
        uint32_t pos = 0;
        smpdfu_image_tlv_t t;
        unsigned n = 0;
        while ((rc = smpdfu_image_tlv_next(&in, smpdfu_image_buf_read, &b, &pos, &t)) == 1) {
            if (t.off + t.len > in.end) {
                abort();
            }
            /* The value decoders take exactly their size and nothing else. */
            uint32_t cnt;
            smpdfu_image_dep_t dep;
            int vrc = smpdfu_image_tlv_sec_cnt(data + t.off, t.len, &cnt);
            if ((vrc == 0) != (t.len == 4)) {
                abort();
            }
            vrc = smpdfu_image_tlv_dependency(data + t.off, t.len, &dep);
            if ((vrc == 0) != (t.len == 12)) {
                abort();
            }
            n++;
        }
        if (rc != 0 || n != in.tlv_count) {
            abort(); /* parse accepted what the walk cannot finish */
        }
        uint8_t scratch[61];
        (void)smpdfu_image_verify_hash(&in, &h, smpdfu_image_buf_read, &b, scratch,
                                       sizeof(scratch), NULL);
        static const uint8_t key[] = {0x30, 0x2a, 0x30, 0x05};
        smpdfu_sig_verify_t sv = {accept_all, NULL, key, sizeof(key)};
        uint8_t sscratch[600];
        (void)smpdfu_image_verify_sig(&in, &h, smpdfu_image_buf_read, &b, &sv, sscratch,
                                      sizeof(sscratch));
    }
    return 0;
}
