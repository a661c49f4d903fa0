/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — MCUboot image parsing and hashing (protocol.md §6).
 *
 * Images are read through a smpdfu_read_fn, so a file, a flash slot or a
 * buffer all work and nothing needs the whole image in RAM. All multi-byte
 * fields are little-endian.
 */
#ifndef SMPDFU_IMAGE_H
#define SMPDFU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_IMAGE_MAGIC 0x96f3b83du
#define SMPDFU_IMAGE_MAGIC_V1 0x96f3b83cu
#define SMPDFU_IMAGE_HDR_LEN 32
#define SMPDFU_IMAGE_TLV_INFO_MAGIC 0x6907u
#define SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC 0x6908u

/* Header flags (§6.2). */
#define SMPDFU_IMAGE_F_PIC 0x00000001u
#define SMPDFU_IMAGE_F_ENCRYPTED_AES128 0x00000004u
#define SMPDFU_IMAGE_F_ENCRYPTED_AES256 0x00000008u
#define SMPDFU_IMAGE_F_NON_BOOTABLE 0x00000010u
#define SMPDFU_IMAGE_F_RAM_LOAD 0x00000020u
#define SMPDFU_IMAGE_F_ROM_FIXED 0x00000100u
#define SMPDFU_IMAGE_F_COMPRESSED_LZMA1 0x00000200u
#define SMPDFU_IMAGE_F_COMPRESSED_LZMA2 0x00000400u
#define SMPDFU_IMAGE_F_COMPRESSED_ARM_THUMB 0x00000800u

/* TLV types (§6.4). */
enum {
    SMPDFU_TLV_KEYHASH = 0x01,
    SMPDFU_TLV_PUBKEY = 0x02,
    SMPDFU_TLV_SHA256 = 0x10,
    SMPDFU_TLV_SHA384 = 0x11,
    SMPDFU_TLV_SHA512 = 0x12,
    SMPDFU_TLV_RSA2048_PSS = 0x20,
    SMPDFU_TLV_ECDSA224 = 0x21,
    SMPDFU_TLV_ECDSA_SIG = 0x22,
    SMPDFU_TLV_RSA3072_PSS = 0x23,
    SMPDFU_TLV_ED25519 = 0x24,
    SMPDFU_TLV_SIG_PURE = 0x25,
    SMPDFU_TLV_ENC_RSA2048 = 0x30,
    SMPDFU_TLV_ENC_KW = 0x31,
    SMPDFU_TLV_ENC_EC256 = 0x32,
    SMPDFU_TLV_ENC_X25519 = 0x33,
    SMPDFU_TLV_ENC_X25519_SHA512 = 0x34,
    SMPDFU_TLV_DEPENDENCY = 0x40,
    SMPDFU_TLV_SEC_CNT = 0x50,
    SMPDFU_TLV_BOOT_RECORD = 0x60,
    SMPDFU_TLV_DECOMP_SIZE = 0x70,
    SMPDFU_TLV_DECOMP_SHA = 0x71,
    SMPDFU_TLV_DECOMP_SIGNATURE = 0x72,
    SMPDFU_TLV_COMP_DEC_SIZE = 0x73,
    SMPDFU_TLV_UUID_VID = 0x74,
    SMPDFU_TLV_UUID_CID = 0x75,
};

typedef struct {
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint32_t build;
} smpdfu_image_version_t;

typedef struct {
    uint32_t magic;
    uint32_t load_addr;
    uint16_t hdr_size;
    uint16_t protect_tlv_size;
    uint32_t img_size;
    uint32_t flags;
    smpdfu_image_version_t version;
} smpdfu_image_hdr_t;

/* Decode the 32-byte image header at buf (protocol.md §6.1; every image
 * header in smpdfu is read through here). hdr is filled in whenever
 * len >= 32, also when a check below fails, so that a reader with laxer
 * rules (the emulated Zephyr img_mgmt looks at the magic only) can take the
 * fields and a caller can tell an erased header (hdr->magic all 0xff) from a
 * corrupt one. Checks, first failure returned: SMPDFU_EINVAL (buf or hdr
 * NULL), SMPDFU_EIMG_TRUNC (len < 32; hdr untouched), SMPDFU_EIMG_MAGIC
 * (magic is not SMPDFU_IMAGE_MAGIC), SMPDFU_EIMG_HDR (hdr_size < 32, or a
 * non-zero protect_tlv_size too small for its 4-byte info header). err_off
 * (may be NULL) gets the offset of the field that failed. Sizes are not
 * checked against any file or slot: smpdfu_image_parse() does that. */
int smpdfu_image_hdr_decode(const uint8_t *buf, size_t len, smpdfu_image_hdr_t *hdr,
                            uint32_t *err_off);

/* Everything the parser learned. Offsets are from the image start. */
typedef struct {
    smpdfu_image_hdr_t hdr;
    uint32_t prot_off;    /* protected TLV area (incl. 4-byte info), 0 len if none */
    uint32_t prot_len;
    uint32_t unprot_off;  /* unprotected TLV area (incl. 4-byte info) */
    uint32_t unprot_len;
    uint32_t end;         /* first byte after the TLVs: size of an unpadded .bin */
    uint32_t hashed_len;  /* bytes the image hash covers: hdr_size + img_size + prot */
    smpdfu_hash_alg_t hash_alg;
    uint16_t hash_tlv;    /* 0x10, 0x11 or 0x12 */
    uint8_t hash_len;
    uint8_t hash[SMPDFU_HASH_MAX_LEN]; /* the TLV value (what `image list` shows for SHA-256) */
    uint16_t sig_tlv;     /* first signature TLV type found, 0 if unsigned */
    uint32_t sig_off;     /* value offset and length of that TLV */
    uint16_t sig_len;
    uint16_t key_tlv;     /* KEYHASH or PUBKEY, 0 if none */
    uint32_t key_off;
    uint16_t key_len;
    uint16_t tlv_count;   /* TLVs in both areas */
    /* Additions (image branch): */
    uint32_t hash_off;    /* value offset of the hash TLV */
    bool sig_pure;        /* a SIG_PURE TLV is present (signature over the bytes, not the digest) */
    bool encrypted;       /* an ENCRYPTED flag is set (hash is over the plaintext) */
    uint32_t err_off;     /* on a parse error: offset of the offending bytes (best effort) */
} smpdfu_image_info_t;

typedef enum {
    /* A file to upload: bytes after the TLV area are refused, with
     * SMPDFU_EIMG_PADDED when they hold an MCUboot trailer magic at the end
     * (imgtool --pad) and SMPDFU_EIMG_TRAILING otherwise. */
    SMPDFU_IMAGE_PARSE_FILE = 0,
    /* A flash slot: `size` is the slot size; anything after the TLVs is
     * free space or trailer and is ignored. */
    SMPDFU_IMAGE_PARSE_SLOT = 1,
} smpdfu_image_parse_mode_t;

/* Parse header and both TLV areas with strict bounds. Errors (first found):
 * SMPDFU_EIMG_TRUNC (size < 32 or shorter than the header says),
 * SMPDFU_EIMG_MAGIC, SMPDFU_EIMG_HDR (hdr_size < 32, sizes overflow),
 * SMPDFU_EIMG_TLV_MAGIC, SMPDFU_EIMG_TLV_OVERRUN, SMPDFU_EIMG_TLV_LEN (hash
 * TLV of the wrong length), SMPDFU_EIMG_NO_HASH, SMPDFU_EIMG_DUP_HASH,
 * SMPDFU_EIMG_ENC (encrypted flag without an ENC_* TLV),
 * SMPDFU_EIMG_PADDED / SMPDFU_EIMG_TRAILING (FILE mode), or the read error.
 * On any error info->err_off tells where (the other fields are partial).
 * Hash TLVs count in both areas for SMPDFU_EIMG_DUP_HASH, but the image hash
 * must be in the unprotected area (it cannot cover itself). The first
 * signature TLV (0x20..0x24) and first KEYHASH/PUBKEY are recorded. */
int smpdfu_image_parse(smpdfu_read_fn read, void *ctx, uint32_t size,
                       smpdfu_image_parse_mode_t mode, smpdfu_image_info_t *info);

/* Same over a buffer. */
int smpdfu_image_parse_buf(const uint8_t *img, size_t len, smpdfu_image_parse_mode_t mode,
                           smpdfu_image_info_t *info);

/* Recompute the image hash over [0, hashed_len) and compare it with the TLV.
 * Returns 0, SMPDFU_EIMG_HASH_MISMATCH, or a hook/read error. scratch is a
 * caller-owned read buffer of any size. computed (may be NULL) gets the digest.
 * Encrypted images (info->encrypted) give SMPDFU_ENOTSUP: their hash is over
 * the plaintext, which only the bootloader can recover. */
int smpdfu_image_verify_hash(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                             smpdfu_read_fn read, void *ctx, uint8_t *scratch,
                             size_t scratch_len, uint8_t *computed);

/* Walk the TLVs of both areas, in order. Start with *pos = 0; each call sets
 * type, len, value offset and whether it is in the protected area and
 * returns 1, or 0 at the end, or a negative read error. */
typedef struct {
    uint16_t type;
    uint16_t len;
    uint32_t off;   /* value offset from the image start */
    bool protected_area;
} smpdfu_image_tlv_t;

int smpdfu_image_tlv_next(const smpdfu_image_info_t *info, smpdfu_read_fn read, void *ctx,
                          uint32_t *pos, smpdfu_image_tlv_t *tlv);

/* Zephyr's version text: "%u.%u.%u" plus ".%u" when build != 0.
 * Returns the length written (buf always NUL-terminated when cap > 0) or
 * SMPDFU_ENOSPC. 32 bytes always suffice. */
int smpdfu_image_version_str(const smpdfu_image_version_t *v, char *buf, size_t cap);

/* Parse "1.2.3" or "1.2.3+4" / "1.2.3.4". Returns 0 or SMPDFU_EINVAL/ERANGE. */
int smpdfu_image_version_parse(const char *s, smpdfu_image_version_t *v);

/* <0, 0, >0 like strcmp; build number only compared when use_build. */
int smpdfu_image_version_cmp(const smpdfu_image_version_t *a, const smpdfu_image_version_t *b,
                             bool use_build);

/* Decoders of TLV values (the bytes at smpdfu_image_tlv_t.off, len bytes).
 * Each returns 0, SMPDFU_EIMG_TLV_LEN when len is not the value's size, or
 * SMPDFU_EINVAL for NULL pointers. */

/* SEC_CNT (imgtool --security-counter): 4 bytes, the security counter. */
int smpdfu_image_tlv_sec_cnt(const uint8_t *v, size_t len, uint32_t *counter);

/* DEPENDENCY (imgtool --dependencies): 12 bytes, the image number this
 * image needs (byte 0) and the lowest version of it (bytes 4..11, laid out
 * as in the header). */
typedef struct {
    uint8_t image;
    smpdfu_image_version_t min_version;
} smpdfu_image_dep_t;
int smpdfu_image_tlv_dependency(const uint8_t *v, size_t len, smpdfu_image_dep_t *dep);

/* Name of a TLV type ("SHA256", "ECDSA_SIG", ...) or "unknown". */
const char *smpdfu_image_tlv_name(uint16_t type);

/* Signature check hook: the core finds the TLVs and the digest, the hook
 * does the public-key maths (mbedTLS/libsodium on POSIX, a crypto engine on
 * an MCU). verify() gets the signature TLV type (ECDSA_SIG, ED25519, ...),
 * the image digest (the hash TLV's algorithm) and the signature bytes; it
 * returns 0 when they verify, SMPDFU_EIMG_SIG when they do not (also for a
 * TLV type that does not fit the key), SMPDFU_ENOTSUP for an algorithm it
 * lacks. key_der/key_der_len is the public key as DER SubjectPublicKeyInfo,
 * the bytes imgtool hashes into KEYHASH (or stores as PUBKEY). */
typedef struct {
    int (*verify)(void *ctx, uint16_t sig_tlv, smpdfu_hash_alg_t alg, const uint8_t *digest,
                  size_t digest_len, const uint8_t *sig, size_t sig_len);
    void *ctx;
    const uint8_t *key_der;
    size_t key_der_len;
} smpdfu_sig_verify_t;

/* Check the image's signature against one public key, as MCUboot does:
 * recompute the hash (SMPDFU_EIMG_HASH_MISMATCH), require a KEYHASH equal to
 * hash(key_der) with the image's hash algorithm or a PUBKEY equal to key_der
 * (SMPDFU_EIMG_KEY), then verify the first signature TLV over the digest
 * (SMPDFU_EIMG_SIG). SMPDFU_EIMG_NO_SIG when the image is unsigned;
 * SMPDFU_ENOTSUP for SIG_PURE (signature over the whole covered bytes) and
 * encrypted images. scratch (caller-owned) must hold the signature and the
 * key TLV value (>= 512 bytes always does); else SMPDFU_ENOSPC. */
int smpdfu_image_verify_sig(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                            smpdfu_read_fn read, void *ctx, const smpdfu_sig_verify_t *sv,
                            uint8_t *scratch, size_t scratch_len);

/* The same checks as smpdfu_image_verify_sig() with the image digest
 * already computed (a streamed image hashed as it passed): KEYHASH/PUBKEY
 * against the key (the hook h hashes the key for KEYHASH), then the
 * signature over digest (smpdfu_hash_len(info->hash_alg) bytes). read needs
 * to reach only the key and signature TLV values. Same errors, without
 * SMPDFU_EIMG_HASH_MISMATCH. */
int smpdfu_image_verify_sig_digest(const smpdfu_image_info_t *info, const smpdfu_hash_t *h,
                                   const uint8_t *digest, smpdfu_read_fn read, void *ctx,
                                   const smpdfu_sig_verify_t *sv, uint8_t *scratch,
                                   size_t scratch_len);

/* True for the signature TLV types 0x20..0x24. */
bool smpdfu_image_tlv_is_sig(uint16_t type);

/* smpdfu_read_fn over a memory buffer; ctx points to a smpdfu_image_buf_t. */
typedef struct {
    const uint8_t *data;
    size_t len;
} smpdfu_image_buf_t;
int smpdfu_image_buf_read(void *ctx, uint32_t off, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_IMAGE_H */
