#include "helper_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int capture(void *ctx, const uint8_t *p, size_t n)
{
    h_dev_t *d = ctx;
    if (d->nout < 8) {
        memcpy(d->out[d->nout], p, n);
        d->out_len[d->nout] = n;
        d->nout++;
    }
    return 0;
}

static void on_reset(void *ctx)
{
    ((h_dev_t *)ctx)->resets++;
}

void h_dev_restart(h_dev_t *d)
{
    size_t bs = d->os.buf_size ? d->os.buf_size : 384;
    smpdfu_server_init(&d->srv, d->rsp, bs);
    smpdfu_os_group_init(&d->os);
    d->os.buf_size = (uint32_t)bs;
    d->os.bootloader_mode = smpdfu_boot_mode_value(d->boot.mode);
    d->srv.on_reset = on_reset;
    d->srv.reset_ctx = d;
    if (smpdfu_img_group_init(&d->img, &d->boot, &d->progress, d->work, sizeof(d->work)) != 0) {
        abort();
    }
    smpdfu_server_register(&d->srv, &d->os.group);
    smpdfu_server_register(&d->srv, &d->img.group);
    smpdfu_img_group_restore(&d->img);
}

void h_dev_init(h_dev_t *d, int images, smpdfu_boot_mode_t mode, size_t buf_size)
{
    memset(d, 0, sizeof(*d));
    if (smpdfu_ram_flash_init(&d->ram, d->mem, sizeof(d->mem), H_PAGE, 4, 0xff) != 0) {
        abort();
    }
    smpdfu_posix_hash_init(&d->hs, &d->hash);
    d->boot.flash = &d->ram.flash;
    d->boot.image_count = (uint8_t)images;
    for (int i = 0; i < 2 * images; i++) {
        d->boot.slot[i].off = (uint32_t)i * H_SLOT;
        d->boot.slot[i].size = H_SLOT;
    }
    d->boot.mode = mode;
    d->boot.max_align = 8;
    d->boot.hash = &d->hash;
    d->progress.off = 4 * H_SLOT;
    d->progress.size = H_PAGE;
    /* swap-using-scratch: two pages (the 1584-byte trailer spans two). */
    d->boot.scratch.off = 4 * H_SLOT + H_PAGE;
    d->boot.scratch.size = 2 * H_PAGE;
    d->os.buf_size = (uint32_t)buf_size;
    h_dev_restart(d);
}

void h_dev_free(h_dev_t *d)
{
    smpdfu_posix_hash_free(&d->hs);
}

size_t h_make_image(uint8_t *out, size_t cap, uint8_t major, uint8_t minor, uint32_t payload,
                    uint8_t seed, uint8_t hash[32], uint8_t sha[32])
{
    const uint32_t hdr = 0x200;
    size_t n = hdr + payload + 4 + 4 + 32;
    uint8_t h[32];
    if (n > cap) {
        abort();
    }
    memset(out, 0, hdr);
    out[0] = 0x3d;
    out[1] = 0xb8;
    out[2] = 0xf3;
    out[3] = 0x96;
    out[8] = (uint8_t)hdr;
    out[9] = (uint8_t)(hdr >> 8);
    out[12] = (uint8_t)payload;
    out[13] = (uint8_t)(payload >> 8);
    out[14] = (uint8_t)(payload >> 16);
    out[20] = major;
    out[21] = minor;
    for (uint32_t i = 0; i < payload; i++) {
        out[hdr + i] = (uint8_t)(i * 7u + seed);
    }
    smpdfu_posix_digest(SMPDFU_HASH_SHA256, out, hdr + payload, h);
    uint8_t *t = out + hdr + payload;
    t[0] = 0x07;
    t[1] = 0x69;
    t[2] = 40;
    t[3] = 0;
    t[4] = 0x10;
    t[5] = 0;
    t[6] = 32;
    t[7] = 0;
    memcpy(t + 8, h, 32);
    if (hash) {
        memcpy(hash, h, 32);
    }
    if (sha) {
        smpdfu_posix_digest(SMPDFU_HASH_SHA256, out, n, sha);
    }
    return n;
}

void h_program(h_dev_t *d, int slot, const uint8_t *img, size_t len)
{
    size_t whole = len / 4 * 4;
    uint8_t tail[4] = {0xff, 0xff, 0xff, 0xff};
    if (smpdfu_flash_area_write(&d->ram.flash, &d->boot.slot[slot], 0, img, whole) != 0) {
        abort();
    }
    if (whole < len) {
        memcpy(tail, img + whole, len - whole);
        smpdfu_flash_area_write(&d->ram.flash, &d->boot.slot[slot], (uint32_t)whole, tail, 4);
    }
}

int h_packet(h_dev_t *d, const uint8_t *pkt, size_t len)
{
    d->nout = 0;
    return smpdfu_server_process(&d->srv, pkt, len, capture, d);
}

int h_request(h_dev_t *d, uint8_t version, uint8_t op, uint16_t group, uint8_t id,
              const uint8_t *payload, size_t len)
{
    static uint8_t pkt[8 + 4096];
    smpdfu_smp_hdr_t h = {op, version, 0, (uint16_t)len, group, 1, id};
    smpdfu_smp_hdr_encode(&h, pkt);
    if (len > 0) {
        memcpy(pkt + 8, payload, len);
    }
    return h_packet(d, pkt, 8 + len);
}

const uint8_t *h_rsp(h_dev_t *d, int i, smpdfu_smp_hdr_t *h, size_t *len)
{
    smpdfu_smp_hdr_t hh;
    smpdfu_smp_hdr_decode(d->out[i], d->out_len[i], h ? h : &hh);
    *len = d->out_len[i] - 8;
    return d->out[i] + 8;
}

static int64_t get_uint(const uint8_t *p, size_t n, const char *key)
{
    uint64_t v = 0;
    bool found = false;
    smpdfu_cbor_dec_t dec;
    smpdfu_cbor_field_t f[] = {{key, SMPDFU_CBOR_UINT, &v, &found}};
    smpdfu_cbor_dec_init(&dec, p, n);
    if (smpdfu_cbor_decode_map(&dec, f, 1) < 0 || !found) {
        return -1;
    }
    return (int64_t)v;
}

int64_t h_rsp_uint(h_dev_t *d, int i, const char *key)
{
    size_t n;
    const uint8_t *p = h_rsp(d, i, NULL, &n);
    return get_uint(p, n, key);
}

int64_t h_rsp_rc(h_dev_t *d, int i)
{
    return h_rsp_uint(d, i, "rc");
}

int64_t h_rsp_err(h_dev_t *d, int i, uint64_t *group)
{
    size_t n;
    const uint8_t *p = h_rsp(d, i, NULL, &n);
    smpdfu_cbor_slice_t err = {NULL, 0};
    bool found = false;
    smpdfu_cbor_dec_t dec;
    smpdfu_cbor_field_t f[] = {{"err", SMPDFU_CBOR_MAP, &err, &found}};
    smpdfu_cbor_dec_init(&dec, p, n);
    if (smpdfu_cbor_decode_map(&dec, f, 1) < 0 || !found) {
        return -1;
    }
    if (group) {
        *group = (uint64_t)get_uint(err.ptr, err.len, "group");
    }
    return get_uint(err.ptr, err.len, "rc");
}

int64_t h_upload(h_dev_t *d, const uint8_t *img, size_t len, const uint8_t *sha, size_t chunk)
{
    size_t off = 0;
    uint8_t body[1024];
    while (off < len) {
        smpdfu_cbor_enc_t e;
        size_t n = len - off < chunk ? len - off : chunk;
        smpdfu_cbor_enc_init(&e, body, sizeof(body));
        smpdfu_cbor_map_begin(&e, off == 0 ? (sha ? 4 : 3) : 2);
        smpdfu_cbor_put_tstrz(&e, "off");
        smpdfu_cbor_put_uint(&e, off);
        smpdfu_cbor_put_tstrz(&e, "data");
        smpdfu_cbor_put_bstr(&e, img + off, n);
        if (off == 0) {
            smpdfu_cbor_put_tstrz(&e, "len");
            smpdfu_cbor_put_uint(&e, len);
            if (sha) {
                smpdfu_cbor_put_tstrz(&e, "sha");
                smpdfu_cbor_put_bstr(&e, sha, 32);
            }
        }
        if (h_request(d, 1, 2, 1, 1, body, e.len) != 1) {
            return -2;
        }
        int64_t next = h_rsp_uint(d, 0, "off");
        if (next < 0 || (size_t)next <= off) {
            return next;
        }
        off = (size_t)next;
    }
    return (int64_t)off;
}
