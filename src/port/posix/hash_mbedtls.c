/* mbedTLS-backed hash hook and public-key signature checks for the POSIX port. */
#include "smpdfu/posix_crypto.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pem.h>
#include <mbedtls/version.h>

#ifdef SMPDFU_HAVE_SODIUM
#include <sodium.h>
#endif

/* mbedTLS 3 dropped the _ret suffix and changed parse_key's arguments. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA256_STARTS mbedtls_sha256_starts
#define SHA256_UPDATE mbedtls_sha256_update
#define SHA256_FINISH mbedtls_sha256_finish
#define SHA512_STARTS mbedtls_sha512_starts
#define SHA512_UPDATE mbedtls_sha512_update
#define SHA512_FINISH mbedtls_sha512_finish
#else
#define SHA256_STARTS mbedtls_sha256_starts_ret
#define SHA256_UPDATE mbedtls_sha256_update_ret
#define SHA256_FINISH mbedtls_sha256_finish_ret
#define SHA512_STARTS mbedtls_sha512_starts_ret
#define SHA512_UPDATE mbedtls_sha512_update_ret
#define SHA512_FINISH mbedtls_sha512_finish_ret
#endif

static int h_start(void *ctx, smpdfu_hash_alg_t alg)
{
    smpdfu_posix_hash_state_t *st = ctx;
    int rc;
    switch (alg) {
    case SMPDFU_HASH_SHA256:
        rc = SHA256_STARTS(&st->sha256, 0);
        break;
    case SMPDFU_HASH_SHA384:
        rc = SHA512_STARTS(&st->sha512, 1);
        break;
    case SMPDFU_HASH_SHA512:
        rc = SHA512_STARTS(&st->sha512, 0);
        break;
    default:
        return SMPDFU_ENOTSUP;
    }
    if (rc) {
        st->started = false;
        return SMPDFU_EHASH;
    }
    st->alg = alg;
    st->started = true;
    return 0;
}

static int h_update(void *ctx, const void *data, size_t len)
{
    smpdfu_posix_hash_state_t *st = ctx;
    if (!st->started) {
        return SMPDFU_ESTATE;
    }
    int rc = st->alg == SMPDFU_HASH_SHA256 ? SHA256_UPDATE(&st->sha256, data, len)
                                           : SHA512_UPDATE(&st->sha512, data, len);
    return rc ? SMPDFU_EHASH : 0;
}

static int h_finish(void *ctx, uint8_t *out)
{
    smpdfu_posix_hash_state_t *st = ctx;
    if (!st->started) {
        return SMPDFU_ESTATE;
    }
    st->started = false;
    if (st->alg == SMPDFU_HASH_SHA256) {
        return SHA256_FINISH(&st->sha256, out) ? SMPDFU_EHASH : 0;
    }
    /* SHA-384 is SHA-512 with other IVs, truncated; mbedTLS writes 48 bytes. */
    uint8_t full[64];
    if (SHA512_FINISH(&st->sha512, full)) {
        return SMPDFU_EHASH;
    }
    memcpy(out, full, smpdfu_hash_len(st->alg));
    return 0;
}

void smpdfu_posix_hash_init(smpdfu_posix_hash_state_t *st, smpdfu_hash_t *h)
{
    memset(st, 0, sizeof(*st));
    mbedtls_sha256_init(&st->sha256);
    mbedtls_sha512_init(&st->sha512);
    h->start = h_start;
    h->update = h_update;
    h->finish = h_finish;
    h->ctx = st;
}

void smpdfu_posix_hash_free(smpdfu_posix_hash_state_t *st)
{
    if (st) {
        mbedtls_sha256_free(&st->sha256);
        mbedtls_sha512_free(&st->sha512);
        st->started = false;
    }
}

int smpdfu_posix_digest(smpdfu_hash_alg_t alg, const void *data, size_t len, uint8_t *out)
{
    if ((!data && len) || !out) {
        return SMPDFU_EINVAL;
    }
    smpdfu_posix_hash_state_t st;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&st, &h);
    int rc = h.start(h.ctx, alg);
    if (!rc) {
        rc = h.update(h.ctx, data, len);
    }
    if (!rc) {
        rc = h.finish(h.ctx, out);
    }
    smpdfu_posix_hash_free(&st);
    return rc;
}

/* ------------------------------------------------------------ signatures */

/* DER prefixes of an Ed25519 SubjectPublicKeyInfo and PKCS#8 private key
 * (RFC 8410); the 32 key bytes follow. */
static const uint8_t ed_spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                           0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t ed_pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                            0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

const char *smpdfu_posix_key_kind_name(smpdfu_key_kind_t kind)
{
    switch (kind) {
    case SMPDFU_KEY_ECDSA_P256: return "ecdsa-p256";
    case SMPDFU_KEY_ECDSA_P384: return "ecdsa-p384";
    case SMPDFU_KEY_ED25519: return "ed25519";
    default: break;
    }
    return "none";
}

static int sig_verify(void *ctx, uint16_t sig_tlv, smpdfu_hash_alg_t alg, const uint8_t *digest,
                      size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    smpdfu_posix_sigkey_t *k = ctx;
    if (!k || !digest || (!sig && sig_len)) {
        return SMPDFU_EINVAL;
    }
    if (k->kind == SMPDFU_KEY_ECDSA_P256 || k->kind == SMPDFU_KEY_ECDSA_P384) {
        /* MCUboot pairs P-256 with SHA-256 and P-384 with SHA-384. */
        smpdfu_hash_alg_t want = k->kind == SMPDFU_KEY_ECDSA_P256 ? SMPDFU_HASH_SHA256
                                                                  : SMPDFU_HASH_SHA384;
        if (sig_tlv != SMPDFU_TLV_ECDSA_SIG || alg != want || digest_len != smpdfu_hash_len(want)) {
            return SMPDFU_EIMG_SIG;
        }
        /* Old imgtool padded DER signatures with zeros to a fixed length:
         * verify only the DER SEQUENCE, as MCUboot and imgtool do. */
        if (sig_len >= 2 && sig[0] == 0x30 && sig[1] < 0x80 && (size_t)sig[1] + 2 <= sig_len) {
            sig_len = (size_t)sig[1] + 2;
        }
        mbedtls_md_type_t md = want == SMPDFU_HASH_SHA256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA384;
        return mbedtls_pk_verify(&k->pk, md, digest, digest_len, sig, sig_len) ? SMPDFU_EIMG_SIG
                                                                                : 0;
    }
    if (k->kind == SMPDFU_KEY_ED25519) {
        /* imgtool signs the image digest (SHA-256 or SHA-512) with plain Ed25519. */
        if (sig_tlv != SMPDFU_TLV_ED25519 || sig_len != 64 ||
            (alg != SMPDFU_HASH_SHA256 && alg != SMPDFU_HASH_SHA512)) {
            return SMPDFU_EIMG_SIG;
        }
#ifdef SMPDFU_HAVE_SODIUM
        return crypto_sign_verify_detached(sig, digest, digest_len, k->ed25519) ? SMPDFU_EIMG_SIG
                                                                                 : 0;
#else
        return SMPDFU_ENOTSUP;
#endif
    }
    return SMPDFU_EINVAL;
}

/* Finish an mbedTLS EC key: curve check and SPKI DER. */
static int finish_ec(smpdfu_posix_sigkey_t *k)
{
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY) {
        return SMPDFU_ENOTSUP; /* RSA and friends: not checked here */
    }
    mbedtls_ecp_group_id gid = mbedtls_pk_ec(k->pk)->grp.id;
    if (gid == MBEDTLS_ECP_DP_SECP256R1) {
        k->kind = SMPDFU_KEY_ECDSA_P256;
    } else if (gid == MBEDTLS_ECP_DP_SECP384R1) {
        k->kind = SMPDFU_KEY_ECDSA_P384;
    } else {
        return SMPDFU_ENOTSUP;
    }
    uint8_t tmp[SMPDFU_POSIX_KEY_DER_MAX];
    int n = mbedtls_pk_write_pubkey_der(&k->pk, tmp, sizeof(tmp));
    if (n <= 0) {
        return SMPDFU_ECRYPTO;
    }
    /* mbedTLS writes at the end of the buffer. */
    memcpy(k->der, tmp + sizeof(tmp) - (size_t)n, (size_t)n);
    k->der_len = (size_t)n;
    return 0;
}

/* Ed25519 from DER (SPKI or PKCS#8); 0 or SMPDFU_ECRYPTO/ENOTSUP. */
static int load_ed25519(smpdfu_posix_sigkey_t *k, const uint8_t *der, size_t len)
{
    if (len == sizeof(ed_spki_prefix) + 32 && !memcmp(der, ed_spki_prefix, sizeof(ed_spki_prefix))) {
        memcpy(k->ed25519, der + sizeof(ed_spki_prefix), 32);
    } else if (len >= sizeof(ed_pkcs8_prefix) + 32 &&
               !memcmp(der, ed_pkcs8_prefix, sizeof(ed_pkcs8_prefix))) {
#ifdef SMPDFU_HAVE_SODIUM
        uint8_t sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_seed_keypair(k->ed25519, sk, der + sizeof(ed_pkcs8_prefix));
        sodium_memzero(sk, sizeof(sk));
#else
        return SMPDFU_ENOTSUP;
#endif
    } else {
        return SMPDFU_ECRYPTO;
    }
    memcpy(k->der, ed_spki_prefix, sizeof(ed_spki_prefix));
    memcpy(k->der + sizeof(ed_spki_prefix), k->ed25519, 32);
    k->der_len = sizeof(ed_spki_prefix) + 32;
    k->kind = SMPDFU_KEY_ED25519;
    return 0;
}

static int try_pem_ed25519(smpdfu_posix_sigkey_t *k, const unsigned char *pem)
{
    static const char *const kinds[2][2] = {
        {"-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----"},
        {"-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"},
    };
    for (int i = 0; i < 2; i++) {
        mbedtls_pem_context pc;
        size_t used = 0;
        mbedtls_pem_init(&pc);
        int rc = mbedtls_pem_read_buffer(&pc, kinds[i][0], kinds[i][1], pem, NULL, 0, &used);
        if (rc == 0) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
            size_t dlen = 0;
            const unsigned char *d = mbedtls_pem_get_buffer(&pc, &dlen);
#else
            size_t dlen = pc.buflen;
            const unsigned char *d = pc.buf;
#endif
            rc = load_ed25519(k, d, dlen);
            mbedtls_pem_free(&pc);
            return rc;
        }
        mbedtls_pem_free(&pc);
    }
    return SMPDFU_ECRYPTO;
}

int smpdfu_posix_sigkey_load(smpdfu_posix_sigkey_t *k, const char *path, smpdfu_sig_verify_t *sv)
{
    if (!k || !path || !sv) {
        return SMPDFU_EINVAL;
    }
    memset(k, 0, sizeof(*k));
    mbedtls_pk_init(&k->pk);
    memset(sv, 0, sizeof(*sv));

    unsigned char buf[16384 + 1];
    FILE *f = fopen(path, "rb");
    if (!f) {
        return SMPDFU_EFILE;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    int e = ferror(f) ? errno : !feof(f) ? EFBIG /* larger than a key file can be */
                            : n == 0     ? ENODATA
                                         : 0;
    fclose(f);
    if (e) {
        errno = e; /* a stale errno would name some earlier failure */
        return SMPDFU_EFILE;
    }
    buf[n] = '\0';
    /* mbedTLS wants the terminating NUL counted for PEM input. */
    bool pem = strstr((const char *)buf, "-----BEGIN") != NULL;
    size_t plen = pem ? n + 1 : n;

    int rc;
    if (mbedtls_pk_parse_public_key(&k->pk, buf, plen) == 0) {
        rc = finish_ec(k);
    } else {
        mbedtls_pk_free(&k->pk);
        mbedtls_pk_init(&k->pk);
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        int prc = mbedtls_pk_parse_key(&k->pk, buf, plen, NULL, 0, NULL, NULL);
#else
        int prc = mbedtls_pk_parse_key(&k->pk, buf, plen, NULL, 0);
#endif
        if (prc == 0) {
            rc = finish_ec(k);
        } else {
            mbedtls_pk_free(&k->pk);
            mbedtls_pk_init(&k->pk);
            rc = pem ? try_pem_ed25519(k, buf) : load_ed25519(k, buf, n);
        }
    }
    if (rc == 0 && k->kind == SMPDFU_KEY_ED25519) {
#ifdef SMPDFU_HAVE_SODIUM
        if (sodium_init() < 0) {
            rc = SMPDFU_ECRYPTO;
        }
#else
        rc = SMPDFU_ENOTSUP;
#endif
    }
    if (rc) {
        k->kind = SMPDFU_KEY_NONE;
        return rc;
    }
    sv->verify = sig_verify;
    sv->ctx = k;
    sv->key_der = k->der;
    sv->key_der_len = k->der_len;
    return 0;
}

void smpdfu_posix_sigkey_free(smpdfu_posix_sigkey_t *k)
{
    if (k) {
        mbedtls_pk_free(&k->pk);
        k->kind = SMPDFU_KEY_NONE;
    }
}
