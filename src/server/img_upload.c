/* SPDX-License-Identifier: Apache-2.0 */
/* The image group's upload command as Zephyr's img_mgmt answers it
 * (protocol.md §4.3): first-chunk checks, resume by `sha`, writes held back
 * to whole flash write units, the "already there" shortcut and the final
 * `match`. The session lives in img->s; img_record.c keeps it on flash. */
#include <string.h>

#include "img_priv.h"
#include "smpdfu/uplink.h" /* smpdfu_crc32 */

/* Append accepted bytes to the slot, holding back a partial write unit the
 * way Zephyr's flash_img buffers, flushing (padded) on the last chunk. */
static int write_data(smpdfu_img_group_t *img, const uint8_t *data, size_t len, bool last)
{
    smpdfu_img_session_t *s = &img->s;
    const smpdfu_flash_t *f = img_fl(img);
    uint32_t wa = f->write_align;
    uint32_t flushed = s->off - s->tail_len;
    int rc;

    if (s->tail_len > 0) {
        size_t take = wa - s->tail_len;
        if (take > len) {
            take = len;
        }
        memcpy(s->tail + s->tail_len, data, take);
        s->tail_len = (uint8_t)(s->tail_len + take);
        data += take;
        len -= take;
        if (s->tail_len == wa) {
            rc = smpdfu_flash_area_write(f, img_area(img, s->slot), flushed, s->tail, wa);
            if (rc < 0) {
                return rc;
            }
            s->crc = smpdfu_crc32(s->crc, s->tail, wa);
            flushed += wa;
            s->tail_len = 0;
        }
    }
    if (len >= wa) {
        size_t n = len - len % wa;
        rc = smpdfu_flash_area_write(f, img_area(img, s->slot), flushed, data, n);
        if (rc < 0) {
            return rc;
        }
        s->crc = smpdfu_crc32(s->crc, data, n);
        flushed += (uint32_t)n;
        data += n;
        len -= n;
    }
    if (len > 0) {
        memcpy(s->tail + s->tail_len, data, len);
        s->tail_len = (uint8_t)(s->tail_len + len);
    }
    if (last && s->tail_len > 0) {
        memset(s->tail + s->tail_len, f->erased_val, wa - s->tail_len);
        rc = smpdfu_flash_area_write(f, img_area(img, s->slot), flushed, s->tail, wa);
        if (rc < 0) {
            return rc;
        }
        flushed += wa;
        s->tail_len = 0;
    }
    img->bytes_written = flushed;
    if (!last) {
        smpdfu_img_rec_progress(img, flushed);
    }
    return 0;
}

/* SHA-256 of the first size bytes of a slot equals sha (flash_img_check). */
static bool slot_matches(smpdfu_img_group_t *img, int slot, uint32_t size, const uint8_t *sha)
{
    smpdfu_flash_area_reader_t rd = {img_fl(img), *img_area(img, slot)};
    uint8_t out[SMPDFU_HASH_MAX_LEN];
    if (img->boot->hash == NULL || size > rd.area.size) {
        return false;
    }
    if (smpdfu_hash_range(img->boot->hash, SMPDFU_HASH_SHA256, smpdfu_flash_area_reader, &rd, 0,
                          size, img->work, img->work_len, out) < 0) {
        return false;
    }
    return memcmp(out, sha, 32) == 0;
}

/* img_mgmt_get_unused_slot_area_id(). */
static int unused_slot(const smpdfu_img_group_t *img, uint64_t image)
{
    if (img->boot->image_count == 1) {
        for (int slot = 0; slot < 2; slot++) {
            if (!smpdfu_img_slot_in_use(img, slot)) {
                return slot;
            }
        }
        return -1;
    }
    if (image >= img->boot->image_count) {
        return -1; /* no partition for that image */
    }
    int slot = img_opposite_slot(img_active_slot((int)image));
    return smpdfu_img_slot_in_use(img, slot) ? -1 : slot;
}

/* Zephyr's img_mgmt_erase_image_data(): the pages the image will occupy,
 * and the trailer pages when they lie beyond. */
static int erase_for_upload(smpdfu_img_group_t *img, int slot, uint32_t len)
{
    const smpdfu_flash_t *f = img_fl(img);
    const smpdfu_flash_area_t *a = img_area(img, slot);
    uint32_t end = len ? smpdfu_flash_page_up(f, len) : 0;
    uint32_t tso;
    int rc;
    if (end > a->size) {
        end = a->size;
    }
    rc = smpdfu_flash_area_erase(f, a, 0, end);
    if (rc < 0) {
        return rc;
    }
    tso = smpdfu_boot_trailer_off(img->boot, (uint8_t)slot);
    if (tso >= end) {
        uint32_t start = smpdfu_flash_page_down(f, tso);
        rc = smpdfu_flash_area_erase(f, a, start, a->size - start);
    }
    return rc;
}

int smpdfu_img_upload_cmd(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_img_group_t *img = ctx;
    smpdfu_img_session_t *s = &img->s;
    uint64_t image = 0, len = UINT32_MAX, off = UINT32_MAX;
    smpdfu_cbor_slice_t data = {NULL, 0}, sha = {NULL, 0};
    bool upgrade = false;
    smpdfu_cbor_field_t f[] = {
        {"image", SMPDFU_CBOR_UINT, &image, NULL}, {"data", SMPDFU_CBOR_BSTR, &data, NULL},
        {"len", SMPDFU_CBOR_UINT, &len, NULL},     {"off", SMPDFU_CBOR_UINT, &off, NULL},
        {"sha", SMPDFU_CBOR_BSTR, &sha, NULL},     {"upgrade", SMPDFU_CBOR_BOOL, &upgrade, NULL},
    };
    int rc = 0;
    bool last = false, reset = false, match = false, erase = false;
    int slot;

    if (smpdfu_cbor_decode_map(&r->dec, f, 6) < 0 || image > UINT32_MAX || len > UINT32_MAX ||
        off > UINT32_MAX) {
        /* zcbor's uint32/size_t decoders fail on larger values (32-bit MCU). */
        return SMPDFU_MGMT_EINVAL;
    }

    /* ---- img_mgmt_upload_inspect() ---- */
    if (off == UINT32_MAX) {
        rc = SMPDFU_IMG_ERR_INVALID_OFFSET; /* absent (SIZE_MAX is the sentinel) */
        goto fail;
    }
    if (off == 0) {
        smpdfu_image_version_t cur;
        smpdfu_image_hdr_t nh;
        if (data.len < SMPDFU_IMAGE_HDR_LEN) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER;
            goto fail;
        }
        if (len == UINT32_MAX) {
            rc = SMPDFU_IMG_ERR_INVALID_LENGTH;
            goto fail;
        }
        /* img_mgmt_upload_inspect() looks at the magic only: a header that
         * fails the layout checks (SMPDFU_EIMG_HDR) is taken. */
        if (smpdfu_image_hdr_decode(data.ptr, data.len, &nh, NULL) == SMPDFU_EIMG_MAGIC) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
            goto fail;
        }
        if (sha.len > 32) {
            rc = SMPDFU_IMG_ERR_INVALID_HASH;
            goto fail;
        }
        if (sha.len > 0 && s->slot != SLOT_NONE && s->sha_len == sha.len &&
            memcmp(s->sha, sha.ptr, sha.len) == 0) {
            NOTE(r->note, sizeof(r->note), "off=0 len=%lu (resume) -> off=%lu",
                     (unsigned long)data.len, (unsigned long)s->off);
            goto good; /* resume: nothing written */
        }
        slot = unused_slot(img, image);
        if (slot < 0) {
            rc = SMPDFU_IMG_ERR_NO_FREE_SLOT;
            goto fail;
        }
        if (len > img_area(img, slot)->size) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_TOO_LARGE;
            goto fail;
        }
        if (upgrade) {
            if (smpdfu_img_read_info(img, img_active_slot(img_active_image()), &cur, NULL, NULL) != 0) {
                rc = SMPDFU_IMG_ERR_VERSION_GET_FAILED;
                goto fail;
            }
            if (smpdfu_image_version_cmp(&cur, &nh.version, false) >= 0) {
                rc = SMPDFU_IMG_ERR_CURRENT_VERSION_IS_NEWER;
                goto fail;
            }
        }
        rc = smpdfu_flash_area_is_erased(img_fl(img), img_area(img, slot), 0, img_area(img, slot)->size);
        if (rc < 0) {
            rc = SMPDFU_IMG_ERR_FLASH_READ_FAILED;
            goto fail;
        }
        erase = rc == 0;
        rc = 0;
        /* ---- new session ---- */
        smpdfu_img_group_reset_upload(img);
        s->slot = slot;
        s->size = (uint32_t)len;
        s->off = 0;
        s->sha_len = (uint8_t)sha.len;
        if (sha.len > 0) {
            memcpy(s->sha, sha.ptr, sha.len);
        }
        if (img->image_check && s->sha_len == 32 && slot_matches(img, slot, s->size, s->sha)) {
            /* Already on flash: skip the transfer. */
            s->off = s->size;
            last = reset = match = true;
            NOTE(r->note, sizeof(r->note), "off=0 len=%lu size=%lu (already there) -> off=%lu",
                     (unsigned long)data.len, (unsigned long)s->size, (unsigned long)s->off);
            goto good;
        }
        if (erase) {
            rc = erase_for_upload(img, slot, s->size);
            if (rc < 0) {
                rc = SMPDFU_IMG_ERR_FLASH_ERASE_FAILED;
                goto fail;
            }
        }
        smpdfu_img_rec_start(img);
    } else {
        if (off != s->off) {
            NOTE(r->note, sizeof(r->note), "off=%lu len=%lu (expected %lu) -> off=%lu",
                     (unsigned long)off, (unsigned long)data.len, (unsigned long)s->off,
                     (unsigned long)s->off);
            goto good; /* wrong offset: drop the data, say where we are */
        }
        if (off + data.len > s->size) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN;
            goto fail;
        }
    }

    /* ---- write ---- */
    if (data.len != 0) {
        uint32_t at = s->off;
        last = s->off + data.len == s->size;
        rc = write_data(img, data.ptr, data.len, last);
        if (rc < 0) {
            rc = SMPDFU_IMG_ERR_FLASH_WRITE_FAILED;
            goto fail;
        }
        s->off += (uint32_t)data.len;
        /* A one-image Zephyr ignores "image" (img_mgmt_get_unused_slot_area_id):
         * say so in the log, since the answer cannot. */
        bool ignored = at == 0 && image != 0 && img->boot->image_count == 1;
        NOTE(r->note, sizeof(r->note), "off=%lu len=%lu%s%.0lu%s -> off=%lu", (unsigned long)at,
                 (unsigned long)data.len,
                 ignored ? " (new; image " : at == 0 ? " (new)" : "",
                 ignored ? (unsigned long)image : 0ul, ignored ? " ignored: one image)" : "",
                 (unsigned long)s->off);
        if (s->off == s->size) {
            reset = true;
            if (img->image_check) {
                match = slot_matches(img, s->slot, s->size, s->sha);
            }
        }
    } else {
        NOTE(r->note, sizeof(r->note), "off=%lu len=0 -> off=%lu", (unsigned long)off,
                 (unsigned long)s->off);
    }

good:
    smpdfu_cbor_put_tstrz(r->enc, "off");
    smpdfu_cbor_put_uint(r->enc, s->off);
    if (last && img->image_check) {
        smpdfu_cbor_put_tstrz(r->enc, "match");
        smpdfu_cbor_put_bool(r->enc, match);
    }
    if (reset) {
        int done_slot = s->slot;
        bool check_ok = !img->image_check || s->sha_len != 32 || match;
        smpdfu_img_group_reset_upload(img);
        img->last_marked_test = false;
        if (img->test_on_upload && check_ok && done_slot != SLOT_NONE &&
            smpdfu_boot_validate(img->boot, (uint8_t)done_slot, img->work, img->work_len, NULL) == 0 &&
            smpdfu_img_set_next_boot_slot(img, done_slot, false) == 0) {
            img->last_marked_test = true;
            NOTE(r->note + strlen(r->note), sizeof(r->note) - strlen(r->note), " (marked for test)");
        }
    }
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;

fail:
    if (r->note[0] == 0) {
        NOTE(r->note, sizeof(r->note), "off=%lu len=%lu", off == UINT32_MAX ? 0ul : (unsigned long)off,
                 (unsigned long)data.len);
    }
    smpdfu_img_group_reset_upload(img);
    return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, (uint16_t)rc);
}
