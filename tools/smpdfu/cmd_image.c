/* SPDX-License-Identifier: Apache-2.0 */
/* `smpdfu image info FILE [--key PUBKEY.pem] [--json]`: parse an MCUboot
 * image offline, check its hash (and signature with --key), and show the two
 * hashes a DFU needs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/error.h"
#include "smpdfu/image.h"
#include "smpdfu/posix_crypto.h"
#include "source.h"

#define VALUE_MAX 256 /* TLV bytes shown in full; longer ones are cut */

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    {SMPDFU_IMAGE_F_PIC, "PIC"},
    {SMPDFU_IMAGE_F_ENCRYPTED_AES128, "ENCRYPTED_AES128"},
    {SMPDFU_IMAGE_F_ENCRYPTED_AES256, "ENCRYPTED_AES256"},
    {SMPDFU_IMAGE_F_NON_BOOTABLE, "NON_BOOTABLE"},
    {SMPDFU_IMAGE_F_RAM_LOAD, "RAM_LOAD"},
    {SMPDFU_IMAGE_F_ROM_FIXED, "ROM_FIXED"},
    {SMPDFU_IMAGE_F_COMPRESSED_LZMA1, "COMPRESSED_LZMA1"},
    {SMPDFU_IMAGE_F_COMPRESSED_LZMA2, "COMPRESSED_LZMA2"},
    {SMPDFU_IMAGE_F_COMPRESSED_ARM_THUMB, "COMPRESSED_ARM_THUMB"},
};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

static const char *alg_name(smpdfu_hash_alg_t a)
{
    return a == SMPDFU_HASH_SHA256 ? "sha256" : a == SMPDFU_HASH_SHA384 ? "sha384" : "sha512";
}

/* Everything the command learned, printed at the end in one of two forms. */
typedef struct {
    const char *path;
    uint32_t size;
    int parse_rc;
    bool parsed; /* info complete (also for a padded file or trailing bytes) */
    smpdfu_image_info_t info;
    int hash_rc; /* 1 = not run */
    uint8_t computed[SMPDFU_HASH_MAX_LEN];
    int file_rc;
    uint8_t file_sha[32];
    const char *key_path;
    smpdfu_key_kind_t key_kind;
    int sig_rc; /* 1 = not run */
    int err;    /* first error: decides the exit status */
    int warn;   /* SMPDFU_EIMG_PADDED: fine to show and flash, not to upload */
    uint32_t warn_off;
    uint32_t err_off;
    bool err_has_off;
} report_t;

static void set_err(report_t *r, int err, bool has_off, uint32_t off)
{
    if (!r->err && err) {
        r->err = err;
        r->err_has_off = has_off;
        r->err_off = off;
    }
}

static void print_flags_text(uint32_t flags)
{
    bool any = false;
    for (size_t i = 0; i < NFLAGS; i++) {
        if (flags & flag_names[i].bit) {
            printf("%s%s", any ? " " : "", flag_names[i].name);
            any = true;
            flags &= ~flag_names[i].bit;
        }
    }
    if (flags) {
        printf("%sunknown(0x%x)", any ? " " : "", (unsigned)flags);
        any = true;
    }
    if (!any) {
        printf("none");
    }
}

static void print_error(const report_t *r)
{
    if (r->err_has_off) {
        smpdfu_cli_error("%s: %s (%s, at offset 0x%x)", r->path, smpdfu_strerror(r->err),
                         smpdfu_err_name(r->err), (unsigned)r->err_off);
    } else {
        smpdfu_cli_error("%s: %s (%s)", r->path, smpdfu_strerror(r->err), smpdfu_err_name(r->err));
    }
}

/* A short decoded form of well-known TLV values, or NULL. */
static const char *decode_value(uint16_t type, const uint8_t *v, uint16_t len, char *buf, size_t cap)
{
    uint32_t cnt;
    smpdfu_image_dep_t dep;
    if (type == SMPDFU_TLV_SEC_CNT && smpdfu_image_tlv_sec_cnt(v, len, &cnt) == 0) {
        snprintf(buf, cap, "security counter %u", (unsigned)cnt);
        return buf;
    }
    if (type == SMPDFU_TLV_DEPENDENCY && smpdfu_image_tlv_dependency(v, len, &dep) == 0) {
        char vs[32];
        smpdfu_image_version_str(&dep.min_version, vs, sizeof(vs));
        snprintf(buf, cap, "needs image %u at version >= %s", dep.image, vs);
        return buf;
    }
    return NULL;
}

static void print_tlvs(const report_t *r, const smpdfu_source_t *f, bool json)
{
    uint32_t pos = 0;
    smpdfu_image_tlv_t t;
    bool first = true;
    while (smpdfu_image_tlv_next(&r->info, f->read, f->ctx, &pos, &t) == 1) {
        uint8_t v[VALUE_MAX];
        uint16_t n = t.len > VALUE_MAX ? VALUE_MAX : t.len;
        if (f->read(f->ctx, t.off, v, n)) {
            n = 0;
        }
        char dec[96];
        const char *d = decode_value(t.type, v, n, dec, sizeof(dec));
        if (json) {
            printf("%s\n    {\"type\": %u, \"name\": ", first ? "" : ",", t.type);
            smpdfu_cli_json_str(stdout, smpdfu_image_tlv_name(t.type));
            printf(", \"area\": \"%s\", \"off\": %u, \"len\": %u, \"value\": \"",
                   t.protected_area ? "protected" : "unprotected", (unsigned)t.off, t.len);
            smpdfu_cli_hex(stdout, v, n);
            printf("\", \"truncated\": %s", n < t.len ? "true" : "false");
            if (d) {
                printf(", \"decoded\": ");
                smpdfu_cli_json_str(stdout, d);
            }
            printf("}");
        } else {
            uint16_t shown = n > 16 ? 16 : n;
            printf("  %-6s 0x%04x %-17s %4u bytes at 0x%-6x ",
                   t.protected_area ? "prot" : "unprot", t.type, smpdfu_image_tlv_name(t.type), t.len,
                   (unsigned)t.off);
            if (t.type >= SMPDFU_TLV_SHA256 && t.type <= SMPDFU_TLV_SHA512) {
                smpdfu_cli_hex(stdout, v, n); /* hashes in full: people compare them */
            } else {
                smpdfu_cli_hex(stdout, v, shown);
                if (shown < t.len) {
                    printf("...");
                }
            }
            if (d) {
                printf("  (%s)", d);
            }
            printf("\n");
        }
        first = false;
    }
}

static void print_text(const report_t *r, const smpdfu_source_t *f)
{
    const smpdfu_image_info_t *in = &r->info;
    const smpdfu_image_hdr_t *h = &in->hdr;
    printf("image      %s (%u bytes)\n", r->path, (unsigned)r->size);
    if (!r->parsed) {
        return;
    }
    char ver[32];
    smpdfu_image_version_str(&h->version, ver, sizeof(ver));
    printf("version    %s\n", ver);
    printf("header     magic 0x%08x, header %u bytes, payload %u bytes, protected TLVs %u bytes\n",
           (unsigned)h->magic, h->hdr_size, (unsigned)h->img_size, h->protect_tlv_size);
    printf("           load address 0x%08x, flags 0x%08x (", (unsigned)h->load_addr,
           (unsigned)h->flags);
    print_flags_text(h->flags);
    printf(")\n");
    printf("TLVs       %u", in->tlv_count);
    if (in->prot_len) {
        printf(", protected area 0x%x..0x%x", (unsigned)in->prot_off,
               (unsigned)(in->prot_off + in->prot_len));
    }
    printf(", unprotected area 0x%x..0x%x\n", (unsigned)in->unprot_off, (unsigned)in->end);
    print_tlvs(r, f, false);
    printf("image hash ");
    smpdfu_cli_hex(stdout, in->hash, in->hash_len);
    printf("  (%s", alg_name(in->hash_alg));
    if (r->hash_rc == 0) {
        printf(", matches the contents)\n");
    } else if (r->hash_rc == SMPDFU_ENOTSUP) {
        printf(", not checked: the payload is encrypted)\n");
    } else if (r->hash_rc == SMPDFU_EIMG_HASH_MISMATCH) {
        printf(", DOES NOT MATCH the contents, which hash to ");
        smpdfu_cli_hex(stdout, r->computed, in->hash_len);
        printf(")\n");
    } else {
        printf(", not checked)\n");
    }
    printf("           = the hash TLV over header+payload+protected TLVs: what a device shows in\n"
           "             `image list` and what `image test`/`confirm` take\n");
    if (r->file_rc == 0) {
        printf("file sha   ");
        smpdfu_cli_hex(stdout, r->file_sha, sizeof(r->file_sha));
        printf("\n           = SHA-256 of the whole file: the `sha` an upload sends\n");
    }
    if (in->sig_tlv) {
        printf("signature  %s, %u bytes", smpdfu_image_tlv_name(in->sig_tlv), in->sig_len);
        if (r->sig_rc == 0) {
            printf(", verified with %s (%s)\n", r->key_path, smpdfu_posix_key_kind_name(r->key_kind));
        } else if (r->sig_rc == 1) {
            printf(", not checked (give --key PUBKEY.pem)\n");
        } else {
            printf(", NOT VERIFIED: %s\n", smpdfu_strerror(r->sig_rc));
        }
    } else {
        printf("signature  none (unsigned image)%s\n", in->sig_pure ? ", SIG_PURE present" : "");
    }
}

static void print_json(const report_t *r, const smpdfu_source_t *f)
{
    const smpdfu_image_info_t *in = &r->info;
    const smpdfu_image_hdr_t *h = &in->hdr;
    printf("{\n  \"file\": ");
    smpdfu_cli_json_str(stdout, r->path);
    printf(",\n  \"size\": %u,\n  \"ok\": %s", (unsigned)r->size, r->err ? "false" : "true");
    if (r->warn) {
        char why[600];
        smpdfu_cli_padded_reason(why, sizeof(why), r->warn, r->size, r->info.end);
        printf(",\n  \"uploadable\": false,\n  \"warning\": {\"code\": %d, \"name\": \"%s\", "
               "\"offset\": %u, \"message\": ",
               r->warn, smpdfu_err_name(r->warn), (unsigned)r->warn_off);
        smpdfu_cli_json_str(stdout, why);
        printf("}");
    }
    if (r->err) {
        printf(",\n  \"error\": {\"code\": %d, \"name\": \"%s\", \"message\": ", r->err,
               smpdfu_err_name(r->err));
        smpdfu_cli_json_str(stdout, smpdfu_strerror(r->err));
        if (r->err_has_off) {
            printf(", \"offset\": %u", (unsigned)r->err_off);
        }
        printf("}");
    }
    if (r->file_rc == 0) {
        printf(",\n  \"file_sha256\": \"");
        smpdfu_cli_hex(stdout, r->file_sha, sizeof(r->file_sha));
        printf("\"");
    }
    if (!r->parsed) {
        printf("\n}\n");
        return;
    }
    char ver[32];
    smpdfu_image_version_str(&h->version, ver, sizeof(ver));
    printf(",\n  \"header\": {\"magic\": %u, \"load_addr\": %u, \"hdr_size\": %u, "
           "\"protect_tlv_size\": %u, \"img_size\": %u, \"flags\": %u, \"flag_names\": [",
           (unsigned)h->magic, (unsigned)h->load_addr, h->hdr_size, h->protect_tlv_size,
           (unsigned)h->img_size, (unsigned)h->flags);
    bool first = true;
    for (size_t i = 0; i < NFLAGS; i++) {
        if (h->flags & flag_names[i].bit) {
            printf("%s\"%s\"", first ? "" : ", ", flag_names[i].name);
            first = false;
        }
    }
    printf("]},\n  \"version\": \"%s\",\n  \"version_fields\": {\"major\": %u, \"minor\": %u, "
           "\"revision\": %u, \"build\": %u},\n",
           ver, h->version.major, h->version.minor, h->version.revision,
           (unsigned)h->version.build);
    printf("  \"areas\": {\"prot_off\": %u, \"prot_len\": %u, \"unprot_off\": %u, "
           "\"unprot_len\": %u, \"end\": %u, \"hashed_len\": %u},\n",
           (unsigned)in->prot_off, (unsigned)in->prot_len, (unsigned)in->unprot_off,
           (unsigned)in->unprot_len, (unsigned)in->end, (unsigned)in->hashed_len);
    printf("  \"tlvs\": [");
    print_tlvs(r, f, true);
    printf("\n  ],\n  \"image_hash\": \"");
    smpdfu_cli_hex(stdout, in->hash, in->hash_len);
    printf("\",\n  \"hash\": {\"alg\": \"%s\", \"tlv\": %u, \"checked\": %s, \"match\": %s",
           alg_name(in->hash_alg), in->hash_tlv,
           (r->hash_rc == 0 || r->hash_rc == SMPDFU_EIMG_HASH_MISMATCH) ? "true" : "false",
           r->hash_rc == 0 ? "true" : "false");
    if (r->hash_rc == 0 || r->hash_rc == SMPDFU_EIMG_HASH_MISMATCH) {
        printf(", \"computed\": \"");
        smpdfu_cli_hex(stdout, r->computed, in->hash_len);
        printf("\"");
    }
    printf("},\n  \"signature\": {\"tlv\": %u, \"name\": \"%s\", \"len\": %u, \"pure\": %s, "
           "\"checked\": %s, \"verified\": %s",
           in->sig_tlv, in->sig_tlv ? smpdfu_image_tlv_name(in->sig_tlv) : "none", in->sig_len,
           in->sig_pure ? "true" : "false", r->sig_rc != 1 ? "true" : "false",
           r->sig_rc == 0 ? "true" : "false");
    if (r->key_path) {
        printf(", \"key\": ");
        smpdfu_cli_json_str(stdout, r->key_path);
        printf(", \"key_type\": \"%s\"", smpdfu_posix_key_kind_name(r->key_kind));
    }
    printf("}\n}\n");
}

static int usage_err(const char *msg, const char *arg)
{
    smpdfu_cli_error("image info: %s%s%s (usage: smpdfu [--json] image info FILE [--key PUBKEY.pem])",
                     msg, arg ? " " : "", arg ? arg : "");
    return SMPDFU_EXIT_USAGE;
}

int smpdfu_cmd_image_info(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *path = NULL;
    const char *key_path = NULL;
    bool json = cli->json;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--key") || !strcmp(argv[i], "-k")) {
            if (i + 1 >= argc) {
                return usage_err("--key needs a file", NULL);
            }
            key_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_err("unknown option", argv[i]);
        } else if (path) {
            return usage_err("more than one file:", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        return usage_err("no image file given", NULL);
    }

    report_t r;
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.key_path = key_path;
    r.hash_rc = 1;
    r.sig_rc = 1;
    r.file_rc = 1;

    smpdfu_cli_t qcli = *cli;
    qcli.json = json; /* `image info URL --json` keeps stderr quiet too */
    img_source_t is;
    if (img_source_open(&is, &qcli, path)) {
        return SMPDFU_EXIT_FAIL;
    }
    const smpdfu_source_t f = is.src;
    r.size = f.size;
    int rc;

    smpdfu_posix_sigkey_t key;
    smpdfu_sig_verify_t sv;
    memset(&key, 0, sizeof(key));
    if (key_path) {
        rc = smpdfu_posix_sigkey_load(&key, key_path, &sv);
        if (rc) {
            if (rc == SMPDFU_EFILE) {
                int e = errno;
                smpdfu_cli_error("cannot read key %s: %s", key_path,
                                 e == ENODATA ? "the file is empty"
                                 : e == EFBIG ? "larger than a key file can be (16 KiB)"
                                              : strerror(e));
            } else {
                smpdfu_cli_error("key %s: %s%s", key_path, smpdfu_strerror(rc),
                                 rc == SMPDFU_ENOTSUP ? " (ECDSA P-256/P-384 and Ed25519 are)"
                                                      : " (not a PEM/DER public or private key)");
            }
            smpdfu_posix_sigkey_free(&key);
            img_source_close(&is);
            return SMPDFU_EXIT_FAIL;
        }
        r.key_kind = key.kind;
    }

    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    static uint8_t scratch[4096];

    r.file_rc = smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, f.read, f.ctx, 0, f.size,
                                  scratch, sizeof(scratch), r.file_sha);
    set_err(&r, r.file_rc, false, 0);

    r.parse_rc = smpdfu_image_parse(f.read, f.ctx, f.size, SMPDFU_IMAGE_PARSE_FILE,
                                    &r.info);
    if (r.parse_rc == SMPDFU_EIMG_PADDED) {
        /* A sound image for a programmer, refused only for an upload:
         * shown in full, with a warning, and no failure. */
        r.warn = r.parse_rc;
        r.warn_off = r.info.err_off;
    } else {
        set_err(&r, r.parse_rc, true, r.info.err_off);
    }
    /* A padded file or one with trailing bytes still has a complete image in
     * front: show it, and refuse it all the same. */
    r.parsed = r.parse_rc == 0 || r.parse_rc == SMPDFU_EIMG_PADDED ||
               r.parse_rc == SMPDFU_EIMG_TRAILING;
    if (r.parsed) {
        r.hash_rc = smpdfu_image_verify_hash(&r.info, &h, f.read, f.ctx, scratch,
                                             sizeof(scratch), r.computed);
        /* An encrypted payload cannot be checked here; that alone is no refusal. */
        if (r.hash_rc != SMPDFU_ENOTSUP) {
            set_err(&r, r.hash_rc, true, r.info.hash_off);
        }
        if (key_path) {
            r.sig_rc = smpdfu_image_verify_sig(&r.info, &h, f.read, f.ctx, &sv,
                                               scratch, sizeof(scratch));
            uint32_t where = r.sig_rc != SMPDFU_EIMG_KEY ? r.info.sig_off
                             : r.info.key_tlv                ? r.info.key_off
                                                             : r.info.unprot_off;
            set_err(&r, r.sig_rc, r.info.sig_tlv != 0 && r.sig_rc != SMPDFU_ENOTSUP, where);
        }
    }

    if (json) {
        print_json(&r, &f);
    } else {
        print_text(&r, &f);
    }
    if (r.err) {
        print_error(&r);
    }
    if (r.warn) {
        char why[600];
        smpdfu_cli_padded_reason(why, sizeof(why), r.warn, r.size, r.info.end);
        fprintf(stderr, "smpdfu: warning: %s: %s; `image upload` and `dfu` refuse it without --force\n",
                path, why);
    }
    smpdfu_posix_hash_free(&hs);
    smpdfu_posix_sigkey_free(&key);
    img_source_close(&is);
    return r.err ? SMPDFU_EXIT_FAIL : SMPDFU_EXIT_OK;
}
