/* SPDX-License-Identifier: Apache-2.0 */
/* File system group (8) as Zephyr's fs_mgmt.c answers it (protocol.md §16):
 * download (read) and upload (write) of one file at a time with Zephyr's
 * offset rules, status, hash/checksum (crc32, sha256) and their list, and
 * close. The files are the port's (smpdfu_fs_port_t). */
#include "smpdfu/server_groups.h"

#include <string.h>

#include "smpdfu/uplink.h" /* smpdfu_crc32 */

enum { ST_NONE = 0, ST_UPLOAD = 1, ST_DOWNLOAD = 2 };

#define H_XFER 0
#define H_HASH 1

static void note(smpdfu_server_req_t *r, const char *what, uint64_t a, uint64_t b)
{
    /* "off=N len=M" style words for the log, without stdio. */
    char *p = r->note;
    size_t cap = sizeof(r->note) - 1;
    size_t n = 0;
    const char *parts[2] = {"off=", " n="};
    uint64_t vals[2] = {a, b};
    for (const char *s = what; *s && n < cap; s++) {
        p[n++] = *s;
    }
    for (int i = 0; i < 2; i++) {
        char tmp[24];
        size_t k = 0;
        for (const char *s = parts[i]; *s && n < cap; s++) {
            p[n++] = *s;
        }
        do {
            tmp[k++] = (char)('0' + vals[i] % 10);
            vals[i] /= 10;
        } while (vals[i] != 0);
        while (k > 0 && n < cap) {
            p[n++] = tmp[--k];
        }
    }
    p[n] = 0;
}

void smpdfu_fs_group_close(smpdfu_fs_group_t *fg)
{
    if (fg->state != ST_NONE) {
        fg->port->close(fg->port->ctx, H_XFER);
        fg->state = ST_NONE;
        fg->off = 0;
        fg->len = 0;
        memset(fg->path, 0, sizeof(fg->path));
    }
}

/* fs_mgmt_filelen(): 0 and the size, or an FS_MGMT_ERR_* code. */
static int filelen(smpdfu_fs_group_t *fg, const char *path, uint64_t *size)
{
    bool dir = false;
    int rc = fg->port->stat(fg->port->ctx, path, size, &dir);
    if (rc != 0) {
        return rc;
    }
    return dir ? SMPDFU_FS_ERR_FILE_IS_DIRECTORY : 0;
}

/* Copy a "name" into buf; false when empty or longer than PATH_LEN, or
 * holding a NUL (no file has such a name). */
static bool get_path(const smpdfu_cbor_slice_t *name, char *buf)
{
    if (name->len == 0 || name->len > SMPDFU_FS_PATH_LEN) {
        return false;
    }
    memcpy(buf, name->ptr, name->len);
    buf[name->len] = 0;
    return memchr(buf, 0, name->len) == NULL;
}

static void finish_check(smpdfu_fs_group_t *fg)
{
    if (fg->len > 0 && fg->off >= fg->len) {
        smpdfu_fs_group_close(fg);
    }
}

static int fs_download(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_fs_group_t *fg = ctx;
    uint64_t off = 0;
    bool have_off = false;
    smpdfu_cbor_slice_t name = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &off, &have_off},
                               {"name", SMPDFU_CBOR_TSTR, &name, NULL}};
    char path[SMPDFU_FS_PATH_LEN + 1];
    smpdfu_cbor_enc_t *e = r->enc;

    if (smpdfu_cbor_decode_map(&r->dec, f, 2) < 0 || !have_off || !get_path(&name, path)) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (fg->state != ST_DOWNLOAD || strcmp(path, fg->path) != 0) {
        smpdfu_fs_group_close(fg);
    }
    if (fg->state == ST_NONE) {
        int rc = filelen(fg, path, &fg->len);
        if (rc == 0) {
            rc = fg->port->open(fg->port->ctx, H_XFER, path, SMPDFU_FS_OPEN_READ);
        }
        if (rc != 0) {
            fg->len = 0;
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
        }
        memcpy(fg->path, path, sizeof(path));
        fg->state = ST_DOWNLOAD;
        fg->off = 0;
    }
    fg->off = off;
    /* The chunk is as large as the response buffer allows (Zephyr sizes
     * MCUMGR_GRP_FS_DL_CHUNK_SIZE from the net_buf size): room is kept for
     * the header, "off", the bstr head, "len" and the closing break. */
    size_t room = e->cap > e->len + 40 ? e->cap - e->len - 40 : 0;
    uint64_t left = fg->len > off ? fg->len - off : 0;
    size_t n = left < room ? (size_t)left : room;
    smpdfu_cbor_put_tstrz(e, "off");
    smpdfu_cbor_put_uint(e, off);
    smpdfu_cbor_put_tstrz(e, "data");
    uint8_t *dst = smpdfu_cbor_put_bstr_reserve(e, n);
    if (dst == NULL) {
        return SMPDFU_MGMT_EMSGSIZE;
    }
    long got = n > 0 ? fg->port->pread(fg->port->ctx, H_XFER, off, dst, n) : 0;
    if (got < 0 || (size_t)got != n) {
        /* A short read means the file changed under us: a read failure. */
        e->len = 0;
        smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
        smpdfu_fs_group_close(fg);
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_FILE_READ_FAILED);
    }
    if (off == 0) {
        smpdfu_cbor_put_tstrz(e, "len");
        smpdfu_cbor_put_uint(e, fg->len);
    }
    if (e->err) {
        return SMPDFU_MGMT_EMSGSIZE;
    }
    fg->off += n;
    fg->bytes_down += n;
    note(r, "", off, n);
    finish_check(fg);
    return 0;
}

static int fs_upload(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_fs_group_t *fg = ctx;
    uint64_t off = 0, len = 0;
    bool have_off = false, have_len = false;
    smpdfu_cbor_slice_t name = {NULL, 0};
    smpdfu_cbor_slice_t data = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"off", SMPDFU_CBOR_UINT, &off, &have_off},
                               {"name", SMPDFU_CBOR_TSTR, &name, NULL},
                               {"data", SMPDFU_CBOR_BSTR, &data, NULL},
                               {"len", SMPDFU_CBOR_UINT, &len, &have_len}};
    char path[SMPDFU_FS_PATH_LEN + 1];
    uint64_t existing = 0;
    int rc;

    if (smpdfu_cbor_decode_map(&r->dec, f, 4) < 0 || !have_off || !get_path(&name, path) ||
        (off == 0 && !have_len)) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (fg->state != ST_UPLOAD || strcmp(path, fg->path) != 0) {
        smpdfu_fs_group_close(fg);
    }
    if (fg->state == ST_NONE) {
        rc = fg->port->open(fg->port->ctx, H_XFER, path, SMPDFU_FS_OPEN_WRITE);
        if (rc != 0) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
        }
        memcpy(fg->path, path, sizeof(path));
        fg->state = ST_UPLOAD;
        fg->off = 0;
        fg->pos = 0;
        fg->len = 0;
    }
    if (off == 0) {
        /* The total length comes with the first chunk only; the file is
         * closed once that many bytes are in. */
        fg->len = len;
        rc = filelen(fg, path, &existing);
        if (rc != 0) {
            smpdfu_fs_group_close(fg);
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
        }
    } else if (fg->off == 0) {
        /* A transfer picked up after the state was lost (a restart, an
         * idle close): the file's size is where it goes on. */
        rc = filelen(fg, path, &fg->off);
        if (rc != 0) {
            smpdfu_fs_group_close(fg);
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
        }
    }
    if (off > 0 && off != fg->off) {
        /* Zephyr sends the err map and the file's length as "len", then
         * forgets the transfer. */
        uint64_t cur = fg->off;
        rc = smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_FILE_OFFSET_NOT_VALID);
        smpdfu_cbor_put_tstrz(r->enc, "len");
        smpdfu_cbor_put_uint(r->enc, cur);
        note(r, "offset mismatch ", off, cur);
        smpdfu_fs_group_close(fg);
        return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : rc;
    }
    if (data.len > 0) {
        if (off == 0 && existing != 0) {
            rc = fg->port->truncate(fg->port->ctx, H_XFER, 0);
            if (rc != 0) {
                smpdfu_fs_group_close(fg);
                return smpdfu_server_add_err(r, SMPDFU_GROUP_FS,
                                             SMPDFU_FS_ERR_FILE_TRUNCATE_FAILED);
            }
            fg->pos = 0;
        } else if (fg->pos != off) {
            /* Zephyr seeks to the end of the file when its position is not
             * the request's offset. */
            uint64_t size = 0;
            if (filelen(fg, path, &size) != 0) {
                smpdfu_fs_group_close(fg);
                return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_FILE_SEEK_FAILED);
            }
            fg->pos = size;
        }
        /* Written at the file position; "off" grows by the chunk even when
         * a restart at offset 0 of an open upload truncated the file (so it
         * then runs ahead of the file, as in Zephyr: close first). */
        rc = fg->port->pwrite(fg->port->ctx, H_XFER, fg->pos, data.ptr, data.len);
        if (rc != 0) {
            smpdfu_fs_group_close(fg);
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_FILE_WRITE_FAILED);
        }
        fg->off += data.len;
        fg->pos += data.len;
        fg->bytes_up += data.len;
    }
    smpdfu_cbor_put_tstrz(r->enc, "off");
    smpdfu_cbor_put_uint(r->enc, fg->off);
    note(r, "", off, data.len);
    if (r->enc->err) {
        return SMPDFU_MGMT_EMSGSIZE;
    }
    finish_check(fg);
    return 0;
}

static int fs_status(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_fs_group_t *fg = ctx;
    smpdfu_cbor_slice_t name = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &name, NULL}};
    char path[SMPDFU_FS_PATH_LEN + 1];
    uint64_t size = 0;
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || !get_path(&name, path)) {
        return SMPDFU_MGMT_EINVAL;
    }
    int rc = filelen(fg, path, &size);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
    }
    smpdfu_cbor_put_tstrz(r->enc, "len");
    smpdfu_cbor_put_uint(r->enc, size);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int fs_hash(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_fs_group_t *fg = ctx;
    smpdfu_cbor_slice_t type = {NULL, 0};
    smpdfu_cbor_slice_t name = {NULL, 0};
    uint64_t off = 0, len = UINT64_MAX;
    smpdfu_cbor_field_t f[] = {{"type", SMPDFU_CBOR_TSTR, &type, NULL},
                               {"name", SMPDFU_CBOR_TSTR, &name, NULL},
                               {"off", SMPDFU_CBOR_UINT, &off, NULL},
                               {"len", SMPDFU_CBOR_UINT, &len, NULL}};
    char path[SMPDFU_FS_PATH_LEN + 1];
    uint64_t size = 0;
    bool sha;

    if (smpdfu_cbor_decode_map(&r->dec, f, 4) < 0 || !get_path(&name, path) || type.len > 8 ||
        len == 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    /* Default type: crc32 (the first one registered). */
    if (type.len == 0 || smpdfu_cbor_str_eq((const char *)type.ptr, type.len, "crc32")) {
        sha = false;
    } else if (fg->hash != NULL && smpdfu_cbor_str_eq((const char *)type.ptr, type.len, "sha256")) {
        sha = true;
    } else {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_CHECKSUM_HASH_NOT_FOUND);
    }
    int rc = filelen(fg, path, &size);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
    }
    if (size <= off) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS,
                                     size == 0 ? SMPDFU_FS_ERR_FILE_EMPTY
                                               : SMPDFU_FS_ERR_FILE_OFFSET_LARGER_THAN_FILE);
    }
    rc = fg->port->open(fg->port->ctx, H_HASH, path, SMPDFU_FS_OPEN_READ);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, (uint16_t)rc);
    }
    uint64_t pos = off, done = 0;
    uint32_t crc = 0;
    uint8_t digest[32];
    if (sha && fg->hash->start(fg->hash->ctx, SMPDFU_HASH_SHA256) != 0) {
        fg->port->close(fg->port->ctx, H_HASH);
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_UNKNOWN);
    }
    while (done < len) {
        size_t want = fg->work_len;
        if (len - done < want) {
            want = (size_t)(len - done);
        }
        long got = fg->port->pread(fg->port->ctx, H_HASH, pos, fg->work, want);
        if (got < 0) {
            fg->port->close(fg->port->ctx, H_HASH);
            if (sha) {
                (void)fg->hash->finish(fg->hash->ctx, digest);
            }
            return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_FILE_READ_FAILED);
        }
        if (got == 0) {
            break;
        }
        if (sha) {
            fg->hash->update(fg->hash->ctx, fg->work, (size_t)got);
        } else {
            crc = smpdfu_crc32(crc, fg->work, (size_t)got);
        }
        pos += (uint64_t)got;
        done += (uint64_t)got;
    }
    fg->port->close(fg->port->ctx, H_HASH);
    if (sha && fg->hash->finish(fg->hash->ctx, digest) != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_FS, SMPDFU_FS_ERR_UNKNOWN);
    }
    smpdfu_cbor_put_tstrz(r->enc, "type");
    smpdfu_cbor_put_tstrz(r->enc, sha ? "sha256" : "crc32");
    if (off != 0) {
        smpdfu_cbor_put_tstrz(r->enc, "off");
        smpdfu_cbor_put_uint(r->enc, off);
    }
    smpdfu_cbor_put_tstrz(r->enc, "len");
    smpdfu_cbor_put_uint(r->enc, done);
    smpdfu_cbor_put_tstrz(r->enc, "output");
    if (sha) {
        smpdfu_cbor_put_bstr(r->enc, digest, 32);
    } else {
        smpdfu_cbor_put_uint(r->enc, crc);
    }
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static void put_type(smpdfu_cbor_enc_t *e, const char *name, unsigned format, unsigned size)
{
    smpdfu_cbor_put_tstrz(e, name);
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    smpdfu_cbor_put_tstrz(e, "format");
    smpdfu_cbor_put_uint(e, format);
    smpdfu_cbor_put_tstrz(e, "size");
    smpdfu_cbor_put_uint(e, size);
    smpdfu_cbor_put_break(e);
}

static int fs_types(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_fs_group_t *fg = ctx;
    smpdfu_cbor_put_tstrz(r->enc, "types");
    smpdfu_cbor_map_begin(r->enc, SMPDFU_CBOR_INDEF);
    /* format: 0 = a number, 1 = a byte string. */
    put_type(r->enc, "crc32", 0, 4);
    if (fg->hash != NULL) {
        put_type(r->enc, "sha256", 1, 32);
    }
    smpdfu_cbor_put_break(r->enc);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int fs_close(smpdfu_server_req_t *r, void *ctx)
{
    (void)r;
    smpdfu_fs_group_close(ctx);
    return 0;
}

static int fs_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_FS, rc);
}

static const smpdfu_server_handler_t fs_handlers[] = {
    [SMPDFU_FS_FILE] = {fs_download, fs_upload},
    [SMPDFU_FS_STAT] = {fs_status, NULL},
    [SMPDFU_FS_HASH_CHECKSUM] = {fs_hash, NULL},
    [SMPDFU_FS_SUPPORTED_HASH_CHECKSUM] = {fs_types, NULL},
    [SMPDFU_FS_OPENED_FILE] = {NULL, fs_close},
};

static const char *const fs_names[] = {
    [SMPDFU_FS_FILE] = "file",
    [SMPDFU_FS_STAT] = "status",
    [SMPDFU_FS_HASH_CHECKSUM] = "hash",
    [SMPDFU_FS_SUPPORTED_HASH_CHECKSUM] = "hash-types",
    [SMPDFU_FS_OPENED_FILE] = "close",
};

void smpdfu_fs_group_init(smpdfu_fs_group_t *fg, const smpdfu_fs_port_t *port,
                          const smpdfu_hash_t *hash, uint8_t *work, size_t work_len)
{
    memset(fg, 0, sizeof(*fg));
    fg->group.id = SMPDFU_GROUP_FS;
    fg->group.name = "fs";
    fg->group.details_name = "fs mgmt";
    fg->group.handlers = fs_handlers;
    fg->group.cmd_names = fs_names;
    fg->group.handler_count = sizeof(fs_handlers) / sizeof(fs_handlers[0]);
    fg->group.translate = fs_translate;
    fg->group.ctx = fg;
    fg->port = port;
    fg->hash = hash;
    fg->work = work;
    fg->work_len = work_len;
}
