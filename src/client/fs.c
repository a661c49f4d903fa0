/* SPDX-License-Identifier: Apache-2.0 */
/* File system group requests, parsers and the windowed download (client_fs.h). */
#include "smpdfu/client_fs.h"

#include <string.h>

#include "grp_util.h"
#include "req_opts.h"

static bool name_ok(const char *name)
{
    return name && *name && strlen(name) <= SMPDFU_FS_PATH_MAX;
}

/* Begin a request whose map starts with "name": name; pairs counts it. */
static int begin_named(smpdfu_client_t *c, uint8_t op, uint8_t id, const char *name, uint64_t pairs,
                       smpdfu_req_t **r)
{
    if (!name_ok(name)) {
        return SMPDFU_EINVAL;
    }
    return smpdfu_grp_begin_named(c, op, SMPDFU_GROUP_FS, id, name, pairs, r);
}

static void put_uint(smpdfu_req_t *r, const char *k, uint64_t v)
{
    smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), k);
    smpdfu_cbor_put_uint(smpdfu_req_enc(r), v);
}

int smpdfu_fs_download_chunk(smpdfu_client_t *c, const char *name, uint32_t off,
                             const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = begin_named(c, SMPDFU_OP_READ, SMPDFU_FS_FILE, name, 2, &r);
    if (rc) {
        return rc;
    }
    put_uint(r, "off", off);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_fs_download_parse(const smpdfu_rsp_t *r, smpdfu_fs_chunk_t *ch)
{
    uint64_t off = 0, len = 0;
    bool fo = false, fd = false, fl = false;
    smpdfu_cbor_slice_t data = {0};
    const smpdfu_cbor_field_t f[] = {
        {"off", SMPDFU_CBOR_UINT, &off, &fo},
        {"data", SMPDFU_CBOR_BSTR, &data, &fd},
        {"len", SMPDFU_CBOR_UINT, &len, &fl},
    };
    int rc = smpdfu_grp_fields(r, f, 3);
    if (rc) {
        return rc;
    }
    if (!fo || !fd) {
        return SMPDFU_ENOTFOUND;
    }
    if (off > UINT32_MAX || len > UINT32_MAX || data.len > UINT32_MAX - off) {
        return SMPDFU_EPROTO;
    }
    ch->off = (uint32_t)off;
    ch->data = data.ptr;
    ch->data_len = data.len;
    ch->has_len = fl;
    ch->len = (uint32_t)len;
    return 0;
}

int smpdfu_fs_status(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = begin_named(c, SMPDFU_OP_READ, SMPDFU_FS_STAT, name, 1, &r);
    return rc ? rc : smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_fs_status_parse(const smpdfu_rsp_t *r, uint32_t *size)
{
    return smpdfu_grp_u32(r, "len", size);
}

int smpdfu_fs_hash(smpdfu_client_t *c, const char *name, const char *type, uint32_t off,
                   uint32_t len, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    bool t = type && *type;
    int rc = begin_named(c, SMPDFU_OP_READ, SMPDFU_FS_HASH_CHECKSUM, name,
                         1 + (uint64_t)t + (off != 0) + (len != 0), &r);
    if (rc) {
        return rc;
    }
    if (t) {
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), "type");
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), type);
    }
    if (off) {
        put_uint(r, "off", off);
    }
    if (len) {
        put_uint(r, "len", len);
    }
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_fs_hash_parse(const smpdfu_rsp_t *r, smpdfu_fs_hash_t *h)
{
    uint64_t off = 0, len = 0;
    bool ft = false, fo = false, fl = false, fout = false;
    smpdfu_cbor_slice_t type = {0}, out = {0};
    const smpdfu_cbor_field_t f[] = {
        {"type", SMPDFU_CBOR_TSTR, &type, &ft},
        {"off", SMPDFU_CBOR_UINT, &off, &fo},
        {"len", SMPDFU_CBOR_UINT, &len, &fl},
        {"output", SMPDFU_CBOR_ANY, &out, &fout},
    };
    int rc = smpdfu_grp_fields(r, f, 4);
    if (rc) {
        return rc;
    }
    if (!fout) {
        return SMPDFU_ENOTFOUND;
    }
    if (off > UINT32_MAX || len > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    memset(h, 0, sizeof(*h));
    if (ft) {
        h->type = (const char *)type.ptr;
        h->type_len = type.len;
    }
    h->off = (uint32_t)off;
    h->len = (uint32_t)len;
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, out.ptr, out.len);
    if (smpdfu_cbor_get_uint(&d, &h->number) == 0) {
        h->is_number = true;
        return 0;
    }
    return smpdfu_cbor_get_bstr(&d, &h->bytes, &h->bytes_len) < 0 ? SMPDFU_EPROTO : 0;
}

static int empty(smpdfu_client_t *c, uint8_t op, uint8_t id, const smpdfu_req_opts_t *o,
                 smpdfu_rsp_fn cb, void *arg)
{
    return smpdfu_grp_send_empty(c, op, SMPDFU_GROUP_FS, id, o, cb, arg);
}

int smpdfu_fs_types(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_OP_READ, SMPDFU_FS_SUPPORTED_HASH_CHECKSUM, o, cb, arg);
}

int smpdfu_fs_types_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it)
{
    return smpdfu_rsp_iter_init(it, r, "types", true);
}

int smpdfu_fs_types_next(smpdfu_rsp_iter_t *it, const char **name, size_t *name_len,
                         uint32_t *format, uint32_t *size)
{
    smpdfu_cbor_slice_t v;
    int rc = smpdfu_rsp_iter_next_pair(it, name, name_len, &v);
    if (rc <= 0) {
        return rc;
    }
    uint64_t fm = 0, sz = 0;
    const smpdfu_cbor_field_t f[] = {
        {"format", SMPDFU_CBOR_UINT, &fm, NULL},
        {"size", SMPDFU_CBOR_UINT, &sz, NULL},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, v.ptr, v.len);
    if (smpdfu_cbor_decode_map(&d, f, 2) < 0 || fm > UINT32_MAX || sz > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    *format = (uint32_t)fm;
    *size = (uint32_t)sz;
    return 1;
}

int smpdfu_fs_close(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return empty(c, SMPDFU_OP_WRITE, SMPDFU_FS_OPENED_FILE, o, cb, arg);
}

int smpdfu_fs_expected_off(const smpdfu_rsp_t *r, uint32_t *expected)
{
    if (!r || !r->payload) {
        return SMPDFU_EINVAL;
    }
    uint64_t len = 0;
    bool fl = false;
    const smpdfu_cbor_field_t f[] = {{"len", SMPDFU_CBOR_UINT, &len, &fl}};
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, r->payload, r->payload_len);
    if (smpdfu_cbor_decode_map(&d, f, 1) < 0 || len > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    if (!fl) {
        return SMPDFU_ENOTFOUND;
    }
    *expected = (uint32_t)len;
    return 0;
}

/* ---------------------------------------------------- windowed download */

static void dl_finish(smpdfu_fs_download_t *dl, int status)
{
    /* Asks go out in increasing order (a short chunk's rest stays live), so
     * everything below the lowest open ask has been written. */
    uint32_t contig = dl->sized ? dl->next : dl->cfg.start;
    if (status == 0) {
        contig = dl->res.size;
    }
    for (size_t i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        if (dl->live[i].req && dl->live[i].off < contig) {
            contig = dl->live[i].off;
        }
    }
    if (status != 0 && dl->failed_off < contig) {
        contig = dl->failed_off;
    }
    dl->res.contig = contig < dl->cfg.start ? dl->cfg.start : contig;
    for (size_t i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        if (dl->live[i].req) {
            smpdfu_client_req_cancel(dl->c, dl->live[i].req);
            dl->live[i].req = NULL;
        }
    }
    dl->busy = false;
    dl->res.status = status;
    if (dl->cfg.done) {
        dl->cfg.done(dl->cfg.arg, &dl->res);
    }
}

static void dl_on_chunk(void *arg, const smpdfu_rsp_t *rsp);
static void dl_on_status(void *arg, const smpdfu_rsp_t *rsp);

/* Ask for [off, off+len) (len 0: as much as the device gives). */
static int dl_ask(smpdfu_fs_download_t *dl, uint32_t off, uint32_t len)
{
    size_t slot = SMPDFU_FS_MAX_WINDOW;
    for (size_t i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        if (!dl->live[i].req) {
            slot = i;
            break;
        }
    }
    if (slot == SMPDFU_FS_MAX_WINDOW) {
        return SMPDFU_EBUSY;
    }
    smpdfu_req_opts_t o = {.timeout_ms = dl->cfg.timeout_ms, .retries = dl->cfg.retries,
                           .out = &dl->live[slot].req};
    int rc = smpdfu_fs_download_chunk(dl->c, dl->cfg.name, off, &o, dl_on_chunk, dl);
    if (rc) {
        dl->live[slot].req = NULL;
        return rc;
    }
    dl->live[slot].off = off;
    dl->live[slot].len = len;
    dl->res.requests++;
    return 0;
}

static size_t dl_live(const smpdfu_fs_download_t *dl)
{
    size_t n = 0;
    for (size_t i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        n += dl->live[i].req != NULL;
    }
    return n;
}

/* Keep the window full of chunk-sized asks. */
static int dl_refill(smpdfu_fs_download_t *dl)
{
    while (dl->next < dl->res.size && dl_live(dl) < dl->cfg.window &&
           smpdfu_client_free_slots(dl->c) > 0) {
        uint32_t n = dl->res.size - dl->next;
        if (n > dl->res.chunk) {
            n = dl->res.chunk;
        }
        int rc = dl_ask(dl, dl->next, n);
        if (rc) {
            return rc;
        }
        dl->next += n;
    }
    if (dl->res.got < dl->res.size - dl->res.start && dl_live(dl) == 0) {
        return SMPDFU_EBUSY; /* nothing in flight could wake us */
    }
    return 0;
}

static void dl_on_chunk(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_fs_download_t *dl = arg;
    size_t i;
    for (i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        if (dl->live[i].req == rsp->req) {
            break;
        }
    }
    if (i == SMPDFU_FS_MAX_WINDOW || !dl->busy) {
        return;
    }
    uint32_t want_off = dl->live[i].off, want_len = dl->live[i].len;
    dl->live[i].req = NULL;
    /* Until its bytes are written this ask bounds the whole prefix. */
    dl->failed_off = want_off;
    if (rsp->status == SMPDFU_EDEVICE) {
        dl->res.dev = rsp->dev;
        dl_finish(dl, SMPDFU_EDEVICE);
        return;
    }
    if (rsp->status) {
        dl_finish(dl, rsp->status);
        return;
    }
    smpdfu_fs_chunk_t ch;
    if (smpdfu_fs_download_parse(rsp, &ch) || ch.off != want_off) {
        dl_finish(dl, SMPDFU_EPROTO);
        return;
    }
    /* The first answer says the device's chunk size (and at offset 0 the
     * file's size): the window opens after it. */
    bool probe = dl->res.chunk == 0;
    if (!dl->sized) {
        if (!ch.has_len) {
            dl_finish(dl, SMPDFU_EPROTO);
            return;
        }
        dl->sized = true;
        dl->res.size = ch.len;
        want_len = ch.len;
    }
    if ((ch.data_len == 0 && want_len > 0) || (uint64_t)ch.off + ch.data_len > dl->res.size) {
        dl_finish(dl, SMPDFU_EPROTO); /* nothing, or past the end: the file changed */
        return;
    }
    if (ch.data_len > dl->res.chunk) {
        dl->res.chunk = (uint32_t)ch.data_len;
    }
    if (ch.data_len > want_len) {
        /* The device fills its buffer; the bytes after this ask belong to
         * another one (the rest of a short chunk is asked for alone). */
        ch.data_len = want_len;
    }
    if (ch.data_len) {
        int rc = dl->cfg.write(dl->cfg.ctx, ch.off, ch.data, ch.data_len);
        if (rc < 0) {
            dl_finish(dl, rc);
            return;
        }
    }
    dl->failed_off = UINT32_MAX;
    dl->res.got += (uint32_t)ch.data_len;
    if (probe) {
        dl->next = ch.off + (uint32_t)ch.data_len;
    } else if (ch.data_len < want_len) {
        /* A short chunk: the rest of that range is asked for on its own. */
        int rc = dl_ask(dl, ch.off + (uint32_t)ch.data_len, want_len - (uint32_t)ch.data_len);
        if (rc) {
            dl->failed_off = ch.off + (uint32_t)ch.data_len; /* the rest never went out */
            dl_finish(dl, rc);
            return;
        }
    }
    if (dl->cfg.progress) {
        dl->cfg.progress(dl->cfg.arg, dl->res.start + dl->res.got, dl->res.size);
    }
    if (dl->res.start + dl->res.got >= dl->res.size) {
        dl_finish(dl, 0);
        return;
    }
    int rc = dl_refill(dl);
    if (rc) {
        dl_finish(dl, rc);
    }
}

static void dl_on_status(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_fs_download_t *dl = arg;
    if (!dl->busy || rsp->req != dl->live[0].req) {
        return;
    }
    dl->live[0].req = NULL;
    if (rsp->status == SMPDFU_EDEVICE) {
        dl->res.dev = rsp->dev;
        dl_finish(dl, SMPDFU_EDEVICE);
        return;
    }
    uint32_t size;
    if (rsp->status || smpdfu_fs_status_parse(rsp, &size)) {
        dl_finish(dl, rsp->status ? rsp->status : SMPDFU_EPROTO);
        return;
    }
    if (dl->cfg.start > size) {
        dl_finish(dl, SMPDFU_EPROTO);
        return;
    }
    dl->sized = true;
    dl->res.size = size;
    if (size == dl->cfg.start) {
        dl_finish(dl, 0);
        return;
    }
    /* The chunk size is unknown until one answer: ask for one chunk first. */
    int rc = dl_ask(dl, dl->cfg.start, size - dl->cfg.start);
    if (rc) {
        dl_finish(dl, rc);
        return;
    }
    dl->next = size; /* refill waits until the chunk size is known */
}

int smpdfu_fs_download_start(smpdfu_fs_download_t *dl, smpdfu_client_t *c,
                             const smpdfu_fs_download_cfg_t *cfg)
{
    if (!dl || !c || !cfg || !name_ok(cfg->name) || !cfg->write ||
        cfg->window > SMPDFU_FS_MAX_WINDOW) {
        return SMPDFU_EINVAL;
    }
    memset(dl, 0, sizeof(*dl));
    dl->c = c;
    dl->cfg = *cfg;
    if (dl->cfg.window == 0) {
        dl->cfg.window = 1;
    }
    dl->res.start = cfg->start;
    dl->failed_off = UINT32_MAX;
    dl->busy = true;
    int rc;
    if (cfg->start == 0) {
        rc = dl_ask(dl, 0, 0);
    } else {
        smpdfu_req_opts_t o = {.timeout_ms = cfg->timeout_ms, .retries = cfg->retries,
                               .out = &dl->live[0].req};
        rc = smpdfu_fs_status(c, cfg->name, &o, dl_on_status, dl);
    }
    if (rc) {
        dl->busy = false;
    }
    return rc;
}

void smpdfu_fs_download_abort(smpdfu_fs_download_t *dl)
{
    for (size_t i = 0; i < SMPDFU_FS_MAX_WINDOW; i++) {
        if (dl->live[i].req) {
            smpdfu_client_req_cancel(dl->c, dl->live[i].req);
            dl->live[i].req = NULL;
        }
    }
    dl->busy = false;
}

bool smpdfu_fs_download_busy(const smpdfu_fs_download_t *dl)
{
    return dl->busy;
}

/* --------------------------------------- resume and verify by SHA-256 */

enum { M_IDLE, M_STATUS, M_HASH };

static void m_finish(smpdfu_fs_match_t *m)
{
    if (m->req) {
        smpdfu_client_req_cancel(m->c, m->req);
        m->req = NULL;
    }
    m->state = M_IDLE;
    m->cfg.done(m->cfg.arg, &m->res);
}

static void m_on_hash(void *arg, const smpdfu_rsp_t *rsp);

/* Ask the device's SHA-256 of [0, len). */
static void m_compare(smpdfu_fs_match_t *m, uint32_t len)
{
    m->len = len;
    m->state = M_HASH;
    smpdfu_req_opts_t o = {m->cfg.timeout_ms, m->cfg.retries, &m->req};
    if (smpdfu_fs_hash(m->c, m->cfg.name, "sha256", 0, len, &o, m_on_hash, m)) {
        m_finish(m); /* cannot ask: nothing known, start 0 / same 0 */
    }
}

static void m_on_hash(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_fs_match_t *m = arg;
    if (m->state != M_HASH || rsp->req != m->req) {
        return;
    }
    m->req = NULL;
    smpdfu_fs_hash_t h;
    uint8_t mine[32];
    /* Only a 32-byte sha256 over exactly the asked range says anything. */
    if (rsp->status || smpdfu_fs_hash_parse(rsp, &h) || h.is_number || h.bytes_len != 32 ||
        h.len != m->len ||
        smpdfu_hash_range(m->cfg.hash, SMPDFU_HASH_SHA256, m->cfg.read, m->cfg.read_ctx, 0,
                          m->len, m->scratch, sizeof(m->scratch), mine)) {
        m_finish(m);
        return;
    }
    bool same = !memcmp(h.bytes, mine, 32);
    if (m->cfg.mode == SMPDFU_FS_MATCH_VERIFY) {
        m->res.same = same ? 1 : -1;
    } else if (same) {
        m->res.start = m->len;
    }
    m_finish(m);
}

static void m_on_status(void *arg, const smpdfu_rsp_t *rsp)
{
    smpdfu_fs_match_t *m = arg;
    if (m->state != M_STATUS || rsp->req != m->req) {
        return;
    }
    m->req = NULL;
    uint32_t size = 0;
    bool sized = rsp->status == 0 && smpdfu_fs_status_parse(rsp, &size) == 0;
    if (sized) {
        m->res.remote_size = size;
    }
    if (m->cfg.mode == SMPDFU_FS_MATCH_UPLOAD_RESUME) {
        if (sized && size > 0 && size <= m->cfg.local_len) {
            m_compare(m, size);
            return;
        }
        if (rsp->status && rsp->status != SMPDFU_EDEVICE) {
            m->res.status = rsp->status; /* no file is not an error; silence is */
        }
    } else if (sized && m->cfg.local_len <= size) {
        m_compare(m, m->cfg.local_len);
        return;
    }
    m_finish(m);
}

int smpdfu_fs_match_start(smpdfu_fs_match_t *m, smpdfu_client_t *c,
                          const smpdfu_fs_match_cfg_t *cfg)
{
    if (!m || !c || !cfg || !cfg->done || !cfg->hash || !cfg->read || !name_ok(cfg->name) ||
        cfg->mode > SMPDFU_FS_MATCH_VERIFY) {
        return SMPDFU_EINVAL;
    }
    memset(m, 0, sizeof(*m));
    m->c = c;
    m->cfg = *cfg;
    if (cfg->mode == SMPDFU_FS_MATCH_VERIFY) {
        m->len = cfg->local_len;
        m->state = M_HASH;
        smpdfu_req_opts_t o = {cfg->timeout_ms, cfg->retries, &m->req};
        int rc = smpdfu_fs_hash(c, cfg->name, "sha256", 0, cfg->local_len, &o, m_on_hash, m);
        if (rc) {
            m->state = M_IDLE;
        }
        return rc;
    }
    m->state = M_STATUS;
    smpdfu_req_opts_t o = {cfg->timeout_ms, cfg->retries, &m->req};
    int rc = smpdfu_fs_status(c, cfg->name, &o, m_on_status, m);
    if (rc) {
        m->state = M_IDLE;
    }
    return rc;
}

void smpdfu_fs_match_abort(smpdfu_fs_match_t *m)
{
    if (m->req) {
        smpdfu_client_req_cancel(m->c, m->req);
        m->req = NULL;
    }
    m->state = M_IDLE;
}

bool smpdfu_fs_match_busy(const smpdfu_fs_match_t *m)
{
    return m->state != M_IDLE;
}
