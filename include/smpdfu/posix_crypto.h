/*
 * smpdfu — POSIX port: crypto hooks.
 *
 * smpdfu_posix_hash: a smpdfu_hash_t backed by mbedTLS (SHA-256, SHA-384,
 * SHA-512). smpdfu_posix_sigkey: a public key read from a PEM or DER file for
 * smpdfu_image_verify_sig(): ECDSA P-256/P-384 through mbedTLS, Ed25519
 * through libsodium when built with it (SMPDFU_HAVE_SODIUM).
 */
#ifndef SMPDFU_POSIX_CRYPTO_H
#define SMPDFU_POSIX_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "smpdfu/hash.h"
#include "smpdfu/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caller-owned state of one hash computation. */
typedef struct {
    smpdfu_hash_alg_t alg;
    bool started;
    mbedtls_sha256_context sha256;
    mbedtls_sha512_context sha512;
} smpdfu_posix_hash_state_t;

/* Initialise st and point h at it. Release with smpdfu_posix_hash_free(). */
void smpdfu_posix_hash_init(smpdfu_posix_hash_state_t *st, smpdfu_hash_t *h);
void smpdfu_posix_hash_free(smpdfu_posix_hash_state_t *st);

/* One-shot digest of a buffer. Returns 0, SMPDFU_EINVAL or SMPDFU_EHASH. */
int smpdfu_posix_digest(smpdfu_hash_alg_t alg, const void *data, size_t len, uint8_t *out);

typedef enum {
    SMPDFU_KEY_NONE = 0,
    SMPDFU_KEY_ECDSA_P256 = 1,
    SMPDFU_KEY_ECDSA_P384 = 2,
    SMPDFU_KEY_ED25519 = 3,
} smpdfu_key_kind_t;

#define SMPDFU_POSIX_KEY_DER_MAX 256

typedef struct {
    smpdfu_key_kind_t kind;
    mbedtls_pk_context pk;                 /* ECDSA keys */
    uint8_t ed25519[32];                   /* raw Ed25519 public key */
    uint8_t der[SMPDFU_POSIX_KEY_DER_MAX]; /* SubjectPublicKeyInfo DER */
    size_t der_len;
} smpdfu_posix_sigkey_t;

/* Load a public key (or a private key, whose public half is used) from a PEM
 * or DER file, and fill *sv for smpdfu_image_verify_sig (sv->ctx = k).
 * Returns 0, SMPDFU_EFILE (cannot read; errno says why: the open's error,
 * ENODATA for an empty file, EFBIG for one over 16 KiB), SMPDFU_ENOTSUP (key type we cannot
 * check, e.g. RSA or Ed25519 without libsodium) or SMPDFU_ECRYPTO (not a key).
 * Release with smpdfu_posix_sigkey_free() (also after a failed load). */
int smpdfu_posix_sigkey_load(smpdfu_posix_sigkey_t *k, const char *path, smpdfu_sig_verify_t *sv);
void smpdfu_posix_sigkey_free(smpdfu_posix_sigkey_t *k);

/* "ecdsa-p256", "ecdsa-p384", "ed25519" or "none". */
const char *smpdfu_posix_key_kind_name(smpdfu_key_kind_t kind);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_CRYPTO_H */
