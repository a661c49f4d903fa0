/* SPDX-License-Identifier: Apache-2.0 */
/* The image group's upload progress record (smpdfu's extension, not in
 * Zephyr): a flash page of its own holds a header (slot, size, sha of the
 * upload) and then one entry per flushed chunk (offset, CRC-32 of the bytes
 * written so far), so that after a restart smpdfu_img_group_restore() can
 * take the upload up where the flash says it stopped. */
#include <string.h>

#include "img_priv.h"
#include "smpdfu/uplink.h" /* smpdfu_crc32 */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#define REC_MAGIC 0x52504d53u /* "SMPR" */
#define REC_HDR_RAW 48u
#define REC_ENT_RAW 12u

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) / a * a;
}

static uint32_t rec_hdr_size(const smpdfu_img_group_t *img)
{
    return round_up(REC_HDR_RAW, img_fl(img)->write_align);
}

static uint32_t rec_ent_size(const smpdfu_img_group_t *img)
{
    return round_up(REC_ENT_RAW, img_fl(img)->write_align);
}

static int rec_erase(smpdfu_img_group_t *img)
{
    int e = smpdfu_flash_area_is_erased(img_fl(img), &img->progress, 0, img->progress.size);
    if (e < 0) {
        return e;
    }
    return e ? 0 : smpdfu_flash_area_erase(img_fl(img), &img->progress, 0, img->progress.size);
}

static int rec_write_entry(smpdfu_img_group_t *img, uint32_t off, uint32_t crc)
{
    uint8_t e[REC_ENT_RAW + SMPDFU_FLASH_MAX_ALIGN];
    uint32_t n = rec_ent_size(img);
    memset(e, img_fl(img)->erased_val, sizeof(e));
    put_le32(e, off);
    put_le32(e + 4, crc);
    put_le32(e + 8, smpdfu_crc32(0, e, 8));
    return smpdfu_flash_area_write(img_fl(img), &img->progress, img->s.rec_next, e, n);
}

static int rec_write_header(smpdfu_img_group_t *img)
{
    uint8_t h[REC_HDR_RAW + SMPDFU_FLASH_MAX_ALIGN];
    memset(h, img_fl(img)->erased_val, sizeof(h));
    put_le32(h, REC_MAGIC);
    h[4] = (uint8_t)img->s.slot;
    h[5] = img->s.sha_len;
    h[6] = 1; /* record version */
    h[7] = 0;
    put_le32(h + 8, img->s.size);
    memcpy(h + 12, img->s.sha, 32);
    put_le32(h + 44, smpdfu_crc32(0, h, 44));
    img->s.rec_next = rec_hdr_size(img);
    return smpdfu_flash_area_write(img_fl(img), &img->progress, 0, h, rec_hdr_size(img));
}

void smpdfu_img_rec_start(smpdfu_img_group_t *img)
{
    if (img->progress.size == 0) {
        return;
    }
    img->s.rec_active = false;
    if (rec_erase(img) == 0 && rec_write_header(img) == 0) {
        img->s.rec_active = true;
    }
}

void smpdfu_img_rec_progress(smpdfu_img_group_t *img, uint32_t flushed)
{
    if (!img->s.rec_active) {
        return;
    }
    if (img->s.rec_next + rec_ent_size(img) > img->progress.size) {
        /* Page full: start over with the header and this entry only. */
        if (rec_erase(img) != 0 || rec_write_header(img) != 0) {
            img->s.rec_active = false;
            return;
        }
    }
    if (rec_write_entry(img, flushed, img->s.crc) != 0) {
        img->s.rec_active = false;
        return;
    }
    img->s.rec_next += rec_ent_size(img);
}

uint32_t smpdfu_img_rec_min_size(const smpdfu_img_group_t *img)
{
    return rec_hdr_size(img) + rec_ent_size(img);
}

void smpdfu_img_group_reset_upload(smpdfu_img_group_t *img)
{
    bool had = img->s.rec_active;
    memset(&img->s, 0, sizeof(img->s));
    img->s.slot = SLOT_NONE;
    if (had) {
        (void)rec_erase(img);
    }
}

/* CRC-32 of slot bytes [from, to) continuing crc. */
static int crc_range(const smpdfu_img_group_t *img, int slot, uint32_t from, uint32_t to,
                     uint32_t *crc)
{
    uint8_t buf[128];
    while (from < to) {
        uint32_t n = to - from < sizeof(buf) ? to - from : (uint32_t)sizeof(buf);
        int rc = smpdfu_flash_area_read(img_fl(img), img_area(img, slot), from, buf, n);
        if (rc < 0) {
            return rc;
        }
        *crc = smpdfu_crc32(*crc, buf, n);
        from += n;
    }
    return 0;
}

int smpdfu_img_group_restore(smpdfu_img_group_t *img)
{
    uint8_t h[REC_HDR_RAW];
    uint8_t e[REC_ENT_RAW];
    uint32_t pos, best_off = 0, best_crc = 0, run_off = 0, run_crc = 0, size, resume, p;
    int slot, rc;
    bool have = false;

    smpdfu_img_group_reset_upload(img);
    if (img->progress.size == 0) {
        return 0;
    }
    rc = smpdfu_flash_area_read(img_fl(img), &img->progress, 0, h, sizeof(h));
    if (rc < 0) {
        return rc;
    }
    slot = h[4];
    size = le32(h + 8);
    if (le32(h) != REC_MAGIC || le32(h + 44) != smpdfu_crc32(0, h, 44) || h[6] != 1 ||
        slot >= img_nslots(img) || h[5] > 32 || size > img_area(img, slot)->size) {
        goto drop;
    }
    /* Walk the entries in order; keep the last one whose CRC matches what is
     * on flash now (a torn or stale tail entry is ignored). */
    for (pos = rec_hdr_size(img); pos + rec_ent_size(img) <= img->progress.size;
         pos += rec_ent_size(img)) {
        uint32_t off, crc;
        rc = smpdfu_flash_area_read(img_fl(img), &img->progress, pos, e, sizeof(e));
        if (rc < 0) {
            return rc;
        }
        off = le32(e);
        crc = le32(e + 4);
        if (le32(e + 8) != smpdfu_crc32(0, e, 8) || off < run_off || off > size) {
            break;
        }
        rc = crc_range(img, slot, run_off, off, &run_crc);
        if (rc < 0) {
            return rc;
        }
        run_off = off;
        if (run_crc != crc) {
            break;
        }
        best_off = off;
        best_crc = crc;
        have = true;
    }
    if (!have || best_off == 0 || best_off >= size) {
        goto drop; /* nothing useful, or the upload had completed */
    }
    /* A chunk may have been written after its entry was not: the bytes past
     * the saved offset must be erased for the client to resend them. If they
     * are not, fall back to the page boundary and erase from there. */
    resume = best_off;
    p = round_up(size, img_fl(img)->page_size);
    if (p > img_area(img, slot)->size) {
        p = img_area(img, slot)->size;
    }
    rc = smpdfu_flash_area_is_erased(img_fl(img), img_area(img, slot), resume, p - resume);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        resume = smpdfu_flash_page_down(img_fl(img), best_off);
        if (resume == 0) {
            goto drop;
        }
        rc = smpdfu_flash_area_erase(img_fl(img), img_area(img, slot), resume, p - resume);
        if (rc < 0) {
            return rc;
        }
        best_crc = 0;
        rc = crc_range(img, slot, 0, resume, &best_crc);
        if (rc < 0) {
            return rc;
        }
    }
    img->s.slot = slot;
    img->s.size = size;
    img->s.off = resume;
    img->s.sha_len = h[5];
    memcpy(img->s.sha, h + 12, 32);
    img->s.crc = best_crc;
    img->s.rec_active = true;
    if (resume != best_off) {
        /* Rewrite the record so it matches the new resume point. */
        smpdfu_img_rec_start(img);
        smpdfu_img_rec_progress(img, resume);
    } else {
        img->s.rec_next = pos;
        if (pos + rec_ent_size(img) <= img->progress.size) {
            /* pos may point at a torn entry: it is not erased, so start a
             * fresh record rather than write over it. */
            if (smpdfu_flash_area_is_erased(img_fl(img), &img->progress, pos, rec_ent_size(img)) != 1) {
                smpdfu_img_rec_start(img);
                smpdfu_img_rec_progress(img, resume);
            }
        }
    }
    return (int)resume;

drop:
    img->s.rec_active = true; /* makes reset_upload erase the page */
    smpdfu_img_group_reset_upload(img);
    return 0;
}
