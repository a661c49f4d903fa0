/* SPDX-License-Identifier: Apache-2.0 */
/* Scripted fake SMP device for client unit tests (see helper_fakedev.h). */
#include "helper_fakedev.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/ble.h"
#include "smpdfu/cbor.h"
#include "smpdfu/link.h"
#include "smpdfu/smp.h"

void fake_init(fake_dev_t *d, smpdfu_link_kind_t kind, uint32_t buf_size, uint32_t buf_count)
{
    memset(d, 0, sizeof(*d));
    d->link.kind = kind;
    d->buf_size = buf_size;
    d->buf_count = buf_count;
    d->min_full_req_len = (size_t)-1;
    smpdfu_link_dec_init(&d->dec, &d->link, d->dec_buf, sizeof(d->dec_buf));
    memset(d->running_hash, 0x11, 32);
    d->now = 1000;
}

size_t fake_packet(uint8_t *out, uint8_t version, uint8_t op, uint16_t group, uint8_t seq,
                   uint8_t id, const uint8_t *body, size_t body_len)
{
    smpdfu_smp_hdr_t h = {.op = op, .version = version, .flags = 0, .len = (uint16_t)body_len,
                          .group = group, .seq = seq, .id = id};
    smpdfu_smp_hdr_encode(&h, out);
    memcpy(out + SMPDFU_SMP_HDR_LEN, body, body_len);
    return SMPDFU_SMP_HDR_LEN + body_len;
}

void fake_queue_packet(fake_dev_t *d, const uint8_t *pkt, size_t len)
{
    if (d->now < d->busy_until && len <= sizeof(d->held[0])) {
        if (d->nheld < 16) { /* answered once the device is done */
            memcpy(d->held[d->nheld], pkt, len);
            d->held_len[d->nheld++] = len;
        }
        return;
    }
    if (d->qcount == FAKE_MAX_QUEUE) {
        return; /* device out of buffers: the answer is lost */
    }
    size_t slot = (d->qhead + d->qcount) % FAKE_MAX_QUEUE;
    int n = smpdfu_link_encode(&d->link, pkt, len, d->q[slot], sizeof(d->q[slot]));
    if (n <= 0) {
        return;
    }
    d->qlen[slot] = (size_t)n;
    d->qraw[slot] = false;
    d->qcount++;
    if (d->qcount > d->max_inflight) {
        d->max_inflight = (uint32_t)d->qcount;
    }
}

void fake_reboot(fake_dev_t *d)
{
    d->sess = false;
    d->off = 0;
    smpdfu_link_dec_reset(&d->dec);
}

static bool in_list(const uint32_t *l, uint32_t n)
{
    for (int i = 0; i < 16; i++) {
        if (l[i] == n) {
            return true;
        }
    }
    return false;
}

/* ----------------------------------------------------- response bodies */

static void map_begin(fake_dev_t *d, smpdfu_cbor_enc_t *e, uint64_t n)
{
    smpdfu_cbor_map_begin(e, d->indefinite ? SMPDFU_CBOR_INDEF : n);
}

static void map_end(fake_dev_t *d, smpdfu_cbor_enc_t *e)
{
    if (d->indefinite) {
        smpdfu_cbor_put_break(e);
    }
}

static size_t err_body(fake_dev_t *d, uint16_t group, uint16_t rc, uint8_t *out, size_t cap)
{
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, out, cap);
    if (d->v1_errors) {
        map_begin(d, &e, 1);
        smpdfu_cbor_put_tstrz(&e, "rc");
        smpdfu_cbor_put_uint(&e, (uint64_t)smpdfu_smp_err_to_v1(group, rc));
        map_end(d, &e);
    } else {
        map_begin(d, &e, 1);
        smpdfu_cbor_put_tstrz(&e, "err");
        map_begin(d, &e, 2);
        smpdfu_cbor_put_tstrz(&e, "group");
        smpdfu_cbor_put_uint(&e, group);
        smpdfu_cbor_put_tstrz(&e, "rc");
        smpdfu_cbor_put_uint(&e, rc);
        map_end(d, &e);
        map_end(d, &e);
    }
    return e.len;
}

static size_t rc_body(uint16_t rc, uint8_t *out, size_t cap)
{
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, out, cap);
    smpdfu_cbor_map_begin(&e, 1);
    smpdfu_cbor_put_tstrz(&e, "rc");
    smpdfu_cbor_put_uint(&e, rc);
    return e.len;
}

static size_t off_body(fake_dev_t *d, uint32_t off, bool match, uint8_t *out, size_t cap)
{
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, out, cap);
    map_begin(d, &e, match ? 2 : 1);
    smpdfu_cbor_put_tstrz(&e, "off");
    smpdfu_cbor_put_uint(&e, off);
    if (match) {
        smpdfu_cbor_put_tstrz(&e, "match");
        smpdfu_cbor_put_bool(&e, true);
    }
    map_end(d, &e);
    return e.len;
}

static void put_slot(fake_dev_t *d, smpdfu_cbor_enc_t *e, uint32_t slot, const char *ver,
                     const uint8_t *hash, bool active)
{
    map_begin(d, e, 8);
    smpdfu_cbor_put_tstrz(e, "slot");
    smpdfu_cbor_put_uint(e, slot);
    smpdfu_cbor_put_tstrz(e, "version");
    smpdfu_cbor_put_tstrz(e, ver);
    smpdfu_cbor_put_tstrz(e, "hash");
    smpdfu_cbor_put_bstr(e, hash, 32);
    smpdfu_cbor_put_tstrz(e, "bootable");
    smpdfu_cbor_put_bool(e, true);
    smpdfu_cbor_put_tstrz(e, "pending");
    smpdfu_cbor_put_bool(e, false);
    smpdfu_cbor_put_tstrz(e, "confirmed");
    smpdfu_cbor_put_bool(e, active);
    smpdfu_cbor_put_tstrz(e, "active");
    smpdfu_cbor_put_bool(e, active);
    smpdfu_cbor_put_tstrz(e, "permanent");
    smpdfu_cbor_put_bool(e, false);
    map_end(d, e);
}

static size_t state_body(fake_dev_t *d, uint8_t *out, size_t cap)
{
    smpdfu_cbor_enc_t e;
    smpdfu_cbor_enc_init(&e, out, cap);
    map_begin(d, &e, 2);
    smpdfu_cbor_put_tstrz(&e, "images");
    smpdfu_cbor_array_begin(&e, d->indefinite ? SMPDFU_CBOR_INDEF : (d->complete ? 2 : 1));
    put_slot(d, &e, 0, "1.0.0", d->running_hash, true);
    if (d->complete) {
        put_slot(d, &e, 1, "2.0.0", d->state_hash, false);
    }
    if (d->indefinite) {
        smpdfu_cbor_put_break(&e);
    }
    smpdfu_cbor_put_tstrz(&e, "splitStatus");
    smpdfu_cbor_put_uint(&e, 0);
    map_end(d, &e);
    return e.len;
}

static size_t upload(fake_dev_t *d, const uint8_t *body, size_t n, uint8_t *out, size_t cap)
{
    uint64_t off = 0, len = 0, image = 0;
    smpdfu_cbor_slice_t data = {0}, sha = {0};
    bool f_off = false, f_len = false, f_data = false, f_sha = false, upgrade = false;
    const smpdfu_cbor_field_t f[] = {
        {"off", SMPDFU_CBOR_UINT, &off, &f_off},     {"len", SMPDFU_CBOR_UINT, &len, &f_len},
        {"data", SMPDFU_CBOR_BSTR, &data, &f_data},  {"sha", SMPDFU_CBOR_BSTR, &sha, &f_sha},
        {"image", SMPDFU_CBOR_UINT, &image, NULL},   {"upgrade", SMPDFU_CBOR_BOOL, &upgrade, NULL},
    };
    smpdfu_cbor_dec_t dec;
    smpdfu_cbor_dec_init(&dec, body, n);
    if (smpdfu_cbor_decode_map(&dec, f, 6) < 0) {
        return rc_body(SMPDFU_MGMT_EINVAL, out, cap);
    }
    d->upload_reqs++;
    if (d->nchunks < 4096) {
        d->req_offs[d->nchunks++] = (uint32_t)off;
    }
    if (!f_off) {
        return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_OFFSET, out, cap);
    }
    if (off == 0) {
        d->first_chunks++;
        if (data.len < 32) {
            return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER, out, cap);
        }
        if (!f_len) {
            return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_LENGTH, out, cap);
        }
        if (sha.len > 32) {
            return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_HASH, out, cap);
        }
        if (len > FAKE_IMG_MAX) {
            return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_IMAGE_TOO_LARGE, out, cap);
        }
        if (f_sha && sha.len && d->sess && sha.len == d->sha_len && !memcmp(sha.ptr, d->sha, sha.len)) {
            return off_body(d, d->off, false, out, cap);
        }
        if (f_sha && sha.len && !d->sess && d->persistent && d->saved_size == len &&
            sha.len == d->saved_sha_len && !memcmp(sha.ptr, d->saved_sha, sha.len)) {
            d->sess = true;
            d->off = d->saved_off;
            d->size = d->saved_size;
            memcpy(d->sha, d->saved_sha, 32);
            d->sha_len = d->saved_sha_len;
            return off_body(d, d->off, false, out, cap);
        }
        d->sess = true;
        d->new_sessions++;
        if (d->erase_ms) {
            d->busy_until = d->now + d->erase_ms;
        }
        d->off = 0;
        d->size = (uint32_t)len;
        d->sha_len = sha.len;
        if (sha.len) {
            memcpy(d->sha, sha.ptr, sha.len);
        }
        d->complete = false;
    } else if (!d->sess || off != d->off) {
        return off_body(d, d->sess ? d->off : 0, false, out, cap);
    }
    if (data.len == 0) {
        d->empty_chunks++;
    }
    if (off + data.len > d->size) {
        d->sess = false;
        return err_body(d, 1, SMPDFU_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN, out, cap);
    }
    size_t take = data.len;
    if (d->serial_trim && off + take < d->size) {
        take &= ~(size_t)7;
    }
    memcpy(d->img + off, data.ptr, take);
    d->off = (uint32_t)off + (uint32_t)take;
    d->accepted_chunks++;
    d->saved_off = d->off;
    d->saved_size = d->size;
    memcpy(d->saved_sha, d->sha, 32);
    d->saved_sha_len = d->sha_len;
    if (d->off == d->size) {
        d->complete = true;
        d->img_len = d->size;
        d->sess = false; /* Zephyr clears the session on completion */
        d->saved_size = 0;
        uint32_t end = d->off;
        d->off = 0;
        return off_body(d, end, d->image_check, out, cap);
    }
    return off_body(d, d->off, false, out, cap);
}

static size_t handle(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body, uint8_t *out,
                     size_t cap)
{
    if (h->group == SMPDFU_GROUP_OS && h->id == SMPDFU_OS_PARAMS && h->op == SMPDFU_OP_READ) {
        if (d->no_params) {
            return rc_body(SMPDFU_MGMT_ENOTSUP, out, cap);
        }
        smpdfu_cbor_enc_t e;
        smpdfu_cbor_enc_init(&e, out, cap);
        map_begin(d, &e, 2);
        smpdfu_cbor_put_tstrz(&e, "buf_size");
        smpdfu_cbor_put_uint(&e, d->buf_size);
        smpdfu_cbor_put_tstrz(&e, "buf_count");
        smpdfu_cbor_put_uint(&e, d->buf_count);
        map_end(d, &e);
        return e.len;
    }
    if (h->group == SMPDFU_GROUP_OS && h->id == SMPDFU_OS_ECHO) {
        smpdfu_cbor_slice_t s = {0};
        bool found = false;
        const smpdfu_cbor_field_t f[] = {{"d", SMPDFU_CBOR_TSTR, &s, &found}};
        smpdfu_cbor_dec_t dec;
        smpdfu_cbor_dec_init(&dec, body, h->len);
        if (smpdfu_cbor_decode_map(&dec, f, 1) < 0 || !found) {
            return rc_body(SMPDFU_MGMT_EINVAL, out, cap);
        }
        smpdfu_cbor_enc_t e;
        smpdfu_cbor_enc_init(&e, out, cap);
        map_begin(d, &e, 1);
        smpdfu_cbor_put_tstrz(&e, "r");
        smpdfu_cbor_put_tstr(&e, (const char *)s.ptr, s.len);
        map_end(d, &e);
        return e.len;
    }
    if (h->group == SMPDFU_GROUP_OS && h->id == SMPDFU_OS_RESET) {
        fake_reboot(d);
        out[0] = 0xa0;
        return 1;
    }
    if (h->group == SMPDFU_GROUP_IMAGE && h->id == SMPDFU_IMG_STATE && h->op == SMPDFU_OP_READ) {
        return state_body(d, out, cap);
    }
    if (h->group == SMPDFU_GROUP_IMAGE && h->id == SMPDFU_IMG_UPLOAD && h->op == SMPDFU_OP_WRITE) {
        return upload(d, body, h->len, out, cap);
    }
    return rc_body(SMPDFU_MGMT_ENOTSUP, out, cap);
}

static void on_request(fake_dev_t *d, const uint8_t *pkt, size_t len)
{
    smpdfu_smp_hdr_t h;
    if (smpdfu_smp_hdr_decode(pkt, len, &h) < 0 || SMPDFU_SMP_HDR_LEN + (size_t)h.len > len) {
        return;
    }
    d->nreq++;
    if (d->silent_from && d->nreq >= d->silent_from) {
        return;
    }
    if (d->big_over && len > d->big_over && d->nreq < d->big_until) {
        d->big_lost++;
        return;
    }
    if (len > d->max_req_len) {
        d->max_req_len = len;
    }
    if (in_list(d->drop_req, d->nreq)) {
        return;
    }
    if (d->max_inflight_ok && d->qcount >= d->max_inflight_ok) {
        return; /* no buffer for it */
    }
    if (d->reboot_at_req == d->nreq) {
        fake_reboot(d);
    }
    static uint8_t body[FAKE_MAX_PKT];
    size_t n = 0;
    if (!(d->hook && d->hook(d, &h, pkt + SMPDFU_SMP_HDR_LEN, h.len, body, &n))) {
        n = handle(d, &h, pkt + SMPDFU_SMP_HDR_LEN, body, sizeof(body));
    }
    d->nrsp++;
    if (in_list(d->drop_rsp, d->nrsp)) {
        return;
    }
    static uint8_t rsp[FAKE_MAX_PKT + 8];
    size_t rl = fake_packet(rsp, d->rsp_v1 ? SMPDFU_SMP_V1 : h.version, smpdfu_smp_rsp_op(h.op),
                            h.group, h.seq, h.id, body, n);
    fake_queue_packet(d, rsp, rl);
}

/* One received console line through the line buffers: false = dropped. */
static bool line_buffer(fake_dev_t *d)
{
    uint32_t held = 0;
    for (uint32_t i = 0; i < d->rx_lines && i < 8; i++) {
        if (d->line_rel[i] > d->now) {
            held++;
        }
    }
    d->lines_in++;
    if (held >= d->rx_lines) {
        d->lines_dropped++;
        return false;
    }
    for (uint32_t i = 0; i < d->rx_lines && i < 8; i++) {
        if (d->line_rel[i] <= d->now) {
            uint64_t start = d->line_last_rel > d->now ? d->line_last_rel : d->now;
            d->line_rel[i] = start + d->line_ms;
            d->line_last_rel = d->line_rel[i];
            break;
        }
    }
    return true;
}

static void feed_dec(fake_dev_t *d, const uint8_t *data, size_t len);

int fake_send(void *ctx, const uint8_t *data, size_t len)
{
    fake_dev_t *d = ctx;
    if (d->rx_lines && d->link.kind == SMPDFU_LINK_SERIAL) {
        while (len > 0) {
            size_t n = 0;
            while (n < len && data[n] != '\n') {
                n++;
            }
            n += n < len;
            if (line_buffer(d)) {
                feed_dec(d, data, n);
            }
            data += n;
            len -= n;
        }
        return 0;
    }
    feed_dec(d, data, len);
    return 0;
}

static void feed_dec(fake_dev_t *d, const uint8_t *data, size_t len)
{
    while (len > 0) {
        size_t used = 0;
        int n = smpdfu_link_dec_feed(&d->dec, data, len, &used);
        if (used == 0) {
            used = len;
        }
        data += used;
        len -= used;
        if (n > 0) {
            on_request(d, smpdfu_link_dec_packet(&d->dec), (size_t)n);
        }
    }
}

static size_t ble_mtu(const fake_dev_t *d)
{
    return d->link.mtu != 0 ? d->link.mtu : 23u;
}

static uint32_t next_rand(fake_dev_t *d)
{
    /* xorshift32: reproducible per test */
    uint32_t x = d->rng != 0 ? d->rng : 0x2545f491u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    d->rng = x;
    return x;
}

/* One response packet as notifications, each fed separately. */
static void ble_notify(fake_dev_t *d, smpdfu_client_t *c, const uint8_t *pkt, size_t len)
{
    size_t max = smpdfu_ble_frag_max(ble_mtu(d));
    size_t lo = max < 20 ? max : 20;
    uint32_t count = 0;
    bool overshoot = ++d->ble_pkts_out == d->ble_overshoot_pkt;
    for (size_t off = 0; off < len;) {
        size_t n = max;
        if (d->ble_random) {
            n = lo + next_rand(d) % (max - lo + 1);
        }
        if (n > len - off) {
            n = len - off;
        }
        static uint8_t frag[FAKE_MAX_PKT];
        memcpy(frag, pkt + off, n);
        size_t fl = n;
        if (overshoot && off + n == len) {
            memset(frag + n, 0x5a, 3);
            fl += 3;
        }
        off += n;
        count++;
        d->ble_notifs++;
        if (fl > d->ble_max_notif) {
            d->ble_max_notif = fl;
        }
        smpdfu_client_feed(c, frag, fl);
    }
    d->ble_last_notifs = count;
}

bool fake_run(fake_dev_t *d, smpdfu_client_t *c, bool (*done)(void *), void *arg, uint64_t max_ms)
{
    uint64_t end = d->now + max_ms;
    while (!done(arg)) {
        if (d->nheld && d->now >= d->busy_until) {
            size_t n = d->nheld;
            d->nheld = 0;
            for (size_t i = 0; i < n; i++) {
                fake_queue_packet(d, d->held[i], d->held_len[i]);
            }
        }
        if (d->qcount > 0) {
            size_t slot = d->qhead;
            d->qhead = (d->qhead + 1) % FAKE_MAX_QUEUE;
            d->qcount--;
            /* Stream links get the frame in small pieces to exercise reassembly. */
            if (d->link.kind == SMPDFU_LINK_SERIAL || d->link.kind == SMPDFU_LINK_RAW_UART) {
                for (size_t i = 0; i < d->qlen[slot]; i += 7) {
                    size_t k = d->qlen[slot] - i < 7 ? d->qlen[slot] - i : 7;
                    smpdfu_client_feed(c, d->q[slot] + i, k);
                }
            } else if (d->link.kind == SMPDFU_LINK_BLE && !d->qraw[slot]) {
                ble_notify(d, c, d->q[slot], d->qlen[slot]);
            } else {
                smpdfu_client_feed(c, d->q[slot], d->qlen[slot]);
            }
            continue;
        }
        uint32_t t = smpdfu_client_next_timeout(c);
        if (d->nheld && d->busy_until > d->now && d->busy_until - d->now < t) {
            t = (uint32_t)(d->busy_until - d->now);
        }
        if (t == UINT32_MAX) {
            return done(arg);
        }
        if (t == 0) {
            t = 1;
        }
        if (d->now + t > end) {
            return false;
        }
        d->now += t;
        smpdfu_client_tick(c, d->now);
    }
    return true;
}

void fake_ble_setup(fake_dev_t *d, size_t att_mtu, bool reassembly)
{
    d->link.kind = SMPDFU_LINK_BLE;
    d->link.mtu = att_mtu;
    d->link.ble_reassembly = reassembly;
    /* Zephyr refuses a packet whose header announces more than buf_size. */
    size_t cap = d->buf_size < sizeof(d->dec_buf) ? d->buf_size : sizeof(d->dec_buf);
    smpdfu_link_dec_init(&d->dec, &d->link, d->dec_buf, cap);
}

int fake_ble_write(fake_dev_t *d, const uint8_t *data, size_t len)
{
    d->ble_writes++;
    if (len > d->ble_max_write) {
        d->ble_max_write = len;
    }
    if (len > smpdfu_ble_frag_max(ble_mtu(d))) {
        d->ble_bad_writes++;
        return SMPDFU_EINVAL;
    }
    if (!d->link.ble_reassembly) {
        /* Reassembly off: the write is the packet, whole or nothing. */
        smpdfu_smp_hdr_t h;
        if (smpdfu_smp_hdr_decode(data, len, &h) < 0 ||
            SMPDFU_SMP_HDR_LEN + (size_t)h.len != len) {
            d->ble_bad_writes++;
            return 0;
        }
        on_request(d, data, len);
        return 0;
    }
    int n = smpdfu_link_dec_feed(&d->dec, data, len, NULL);
    if (n < 0) {
        d->ble_bad_writes++;
    } else if (n > 0) {
        on_request(d, smpdfu_link_dec_packet(&d->dec), (size_t)n);
    }
    return 0;
}

int fake_ble_port_send(void *ctx, const uint8_t *data, size_t len)
{
    fake_dev_t *d = ctx;
    size_t mtu = ble_mtu(d);
    size_t n = smpdfu_ble_frag_count(len, mtu);
    d->ble_pkts_in++;
    if ((uint32_t)n > d->ble_max_writes_per_pkt) {
        d->ble_max_writes_per_pkt = (uint32_t)n;
    }
    for (size_t i = 0; i < n; i++) {
        size_t off, fl;
        int rc = smpdfu_ble_frag(len, mtu, i, &off, &fl);
        if (rc == 0) {
            rc = fake_ble_write(d, data + off, fl);
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

void fake_queue_notification(fake_dev_t *d, const uint8_t *data, size_t len)
{
    if (d->qcount == FAKE_MAX_QUEUE || len > sizeof(d->q[0])) {
        return;
    }
    size_t slot = (d->qhead + d->qcount) % FAKE_MAX_QUEUE;
    memcpy(d->q[slot], data, len);
    d->qlen[slot] = len;
    d->qraw[slot] = true;
    d->qcount++;
}

int fake_client_init(fake_client_t *fc, fake_dev_t *d, int retries, uint32_t timeout_ms)
{
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link = d->link;
    cfg.send = d->link.kind == SMPDFU_LINK_BLE ? fake_ble_port_send : fake_send;
    cfg.send_ctx = d;
    cfg.reqs = fc->reqs;
    cfg.nreqs = 10;
    cfg.req_mem = fc->req_mem;
    cfg.req_mem_len = sizeof(fc->req_mem);
    cfg.rx_buf = fc->rx;
    cfg.rx_cap = sizeof(fc->rx);
    cfg.tx_buf = fc->tx;
    cfg.tx_cap = sizeof(fc->tx);
    cfg.timeout_ms = timeout_ms;
    cfg.retries = retries;
    int rc = smpdfu_client_init(&fc->c, &cfg);
    if (rc == 0) {
        smpdfu_client_tick(&fc->c, d->now);
    }
    return rc;
}

size_t fake_state_body_for_test(fake_dev_t *d, uint8_t *out, size_t cap)
{
    return state_body(d, out, cap);
}
