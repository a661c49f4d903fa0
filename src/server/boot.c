/* Emulated MCUboot: trailer reads/writes as bootutil does them, the swap-type
 * table, validation, and the swap/overwrite end states (protocol.md §7). */
#include "smpdfu/boot.h"

#include <string.h>

/* MCUboot defaults that size the swap-status area in front of the trailer. */
#define BOOT_MAX_IMG_SECTORS 128u
#define BOOT_STATUS_STATES 3u

int smpdfu_boot_mode_value(smpdfu_boot_mode_t m)
{
    switch (m) {
    case SMPDFU_BOOT_SWAP_MOVE:
        return 3;
    case SMPDFU_BOOT_SWAP_SCRATCH:
        return 1;
    case SMPDFU_BOOT_OVERWRITE:
        return 2;
    }
    return -1;
}

const char *smpdfu_boot_swap_name(smpdfu_swap_type_t t)
{
    switch (t) {
    case SMPDFU_SWAP_NONE:
        return "none";
    case SMPDFU_SWAP_TEST:
        return "test";
    case SMPDFU_SWAP_PERM:
        return "perm";
    case SMPDFU_SWAP_REVERT:
        return "revert";
    case SMPDFU_SWAP_FAIL:
        return "fail";
    case SMPDFU_SWAP_PANIC:
        return "panic";
    }
    return "unknown";
}

static uint32_t write_size(const smpdfu_boot_cfg_t *cfg)
{
    return cfg->flash->write_align;
}

uint32_t smpdfu_boot_trailer_off(const smpdfu_boot_cfg_t *cfg, uint8_t slot)
{
    uint32_t t = smpdfu_trailer_total_size(cfg->max_align, BOOT_MAX_IMG_SECTORS,
                                           BOOT_STATUS_STATES, write_size(cfg));
    uint32_t s = cfg->slot[slot].size;
    return t < s ? s - t : 0;
}

int smpdfu_boot_cfg_check(const smpdfu_boot_cfg_t *cfg)
{
    if (cfg == NULL || smpdfu_flash_check(cfg->flash) != 0 || cfg->image_count < 1 ||
        cfg->image_count > SMPDFU_BOOT_MAX_IMAGES || cfg->max_align < cfg->flash->write_align) {
        return SMPDFU_EINVAL;
    }
    unsigned n = 2u * cfg->image_count;
    for (unsigned i = 0; i < n; i++) {
        const smpdfu_flash_area_t *a = &cfg->slot[i];
        smpdfu_trailer_layout_t lay;
        if (a->size == 0 || a->off % cfg->flash->page_size != 0 ||
            a->size % cfg->flash->page_size != 0 || a->off > cfg->flash->size ||
            a->size > cfg->flash->size - a->off) {
            return SMPDFU_EINVAL;
        }
        if (smpdfu_trailer_layout(a->size, cfg->max_align, &lay) != 0 ||
            smpdfu_boot_trailer_off(cfg, (uint8_t)i) < SMPDFU_IMAGE_HDR_LEN) {
            return SMPDFU_EINVAL;
        }
        for (unsigned j = 0; j < i; j++) {
            const smpdfu_flash_area_t *b = &cfg->slot[j];
            if (a->off < b->off + b->size && b->off < a->off + a->size) {
                return SMPDFU_EINVAL;
            }
        }
    }
    for (unsigned i = 0; i < cfg->image_count; i++) {
        if (cfg->slot[2 * i].size != cfg->slot[2 * i + 1].size) {
            return SMPDFU_EINVAL; /* the page-by-page swap needs equal slots */
        }
    }
    return 0;
}

int smpdfu_boot_read_state(const smpdfu_boot_cfg_t *cfg, uint8_t slot, smpdfu_trailer_state_t *st)
{
    const smpdfu_flash_area_t *a = &cfg->slot[slot];
    smpdfu_trailer_layout_t lay;
    uint8_t magic[SMPDFU_TRAILER_MAGIC_LEN];
    uint8_t b;
    uint8_t ev = cfg->flash->erased_val;
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    rc = smpdfu_flash_area_read(cfg->flash, a, lay.magic, magic, sizeof(magic));
    if (rc < 0) {
        return rc;
    }
    st->magic = smpdfu_trailer_magic_decode(magic, cfg->max_align, ev);
    rc = smpdfu_flash_area_read(cfg->flash, a, lay.image_ok, &b, 1);
    if (rc < 0) {
        return rc;
    }
    st->image_ok = smpdfu_trailer_flag_decode(b, ev);
    rc = smpdfu_flash_area_read(cfg->flash, a, lay.copy_done, &b, 1);
    if (rc < 0) {
        return rc;
    }
    st->copy_done = smpdfu_trailer_flag_decode(b, ev);
    rc = smpdfu_flash_area_read(cfg->flash, a, lay.swap_info, &b, 1);
    if (rc < 0) {
        return rc;
    }
    st->swap_type = smpdfu_trailer_swap_info_type(b, ev);
    return 0;
}

smpdfu_swap_type_t smpdfu_boot_swap_type(const smpdfu_boot_cfg_t *cfg, uint8_t image)
{
    smpdfu_trailer_state_t p, s;
    if (image >= cfg->image_count || smpdfu_boot_read_state(cfg, (uint8_t)(2 * image), &p) < 0 ||
        smpdfu_boot_read_state(cfg, (uint8_t)(2 * image + 1), &s) < 0) {
        return SMPDFU_SWAP_NONE;
    }
    smpdfu_swap_type_t t = smpdfu_trailer_swap_decision(&p, &s);
    if (cfg->mode == SMPDFU_BOOT_OVERWRITE && t == SMPDFU_SWAP_REVERT) {
        return SMPDFU_SWAP_NONE; /* overwrite-only has no way back */
    }
    return t;
}

/* Write `len` value bytes at `off` of the slot, padded with the erased value
 * to whole write units (bootutil pads every trailer write the same way). */
static int write_field(const smpdfu_boot_cfg_t *cfg, uint8_t slot, uint32_t off, const void *val,
                       size_t len)
{
    uint8_t buf[2 * SMPDFU_FLASH_MAX_ALIGN];
    uint32_t wa = write_size(cfg);
    uint32_t start = off - off % wa;
    uint32_t end = (uint32_t)(off + len);
    end = end % wa ? end + (wa - end % wa) : end;
    if (end - start > sizeof(buf)) {
        return SMPDFU_EINVAL;
    }
    memset(buf, cfg->flash->erased_val, sizeof(buf));
    memcpy(buf + (off - start), val, len);
    return smpdfu_flash_area_write(cfg->flash, &cfg->slot[slot], start, buf, end - start);
}

static int write_magic(const smpdfu_boot_cfg_t *cfg, uint8_t slot)
{
    smpdfu_trailer_layout_t lay;
    uint8_t m[SMPDFU_TRAILER_MAGIC_LEN];
    int rc = smpdfu_trailer_layout(cfg->slot[slot].size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    smpdfu_trailer_magic(cfg->max_align, m);
    return write_field(cfg, slot, lay.magic, m, sizeof(m));
}

enum { F_IMAGE_OK, F_COPY_DONE };

static int write_flag(const smpdfu_boot_cfg_t *cfg, uint8_t slot, int which)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v = SMPDFU_BOOT_FLAG_SET;
    int rc = smpdfu_trailer_layout(cfg->slot[slot].size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, slot, which == F_IMAGE_OK ? lay.image_ok : lay.copy_done, &v, 1);
}

static int write_swap_info(const smpdfu_boot_cfg_t *cfg, uint8_t slot, smpdfu_swap_type_t t,
                           uint8_t image)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v = smpdfu_trailer_swap_info(image, t);
    int rc = smpdfu_trailer_layout(cfg->slot[slot].size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, slot, lay.swap_info, &v, 1);
}

static int write_swap_size(const smpdfu_boot_cfg_t *cfg, uint8_t slot, uint32_t size)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v[4] = {(uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
                    (uint8_t)(size >> 24)};
    int rc = smpdfu_trailer_layout(cfg->slot[slot].size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, slot, lay.swap_size, v, sizeof(v));
}

int smpdfu_boot_set_next(const smpdfu_boot_cfg_t *cfg, uint8_t slot, bool active, bool confirm)
{
    smpdfu_trailer_state_t st;
    int rc;
    if (slot >= 2 * cfg->image_count) {
        return SMPDFU_EINVAL;
    }
    if (active) {
        confirm = true;
    }
    rc = smpdfu_boot_read_state(cfg, slot, &st);
    if (rc < 0) {
        return rc;
    }
    switch (st.magic) {
    case SMPDFU_MAGIC_GOOD:
        /* Non-active: a swap is already scheduled, nothing to do. */
        if (active && st.image_ok == SMPDFU_FLAG_UNSET) {
            return write_flag(cfg, slot, F_IMAGE_OK);
        }
        return 0;
    case SMPDFU_MAGIC_UNSET:
        if (active) {
            return 0; /* a factory image without trailer: already permanent */
        }
        rc = write_magic(cfg, slot);
        if (rc == 0 && confirm) {
            rc = write_flag(cfg, slot, F_IMAGE_OK);
        }
        if (rc == 0) {
            /* Recent bootutil tags it with the slot's image number
             * (flash_area_id_to_image); older releases wrote 0. */
            rc = write_swap_info(cfg, slot, confirm ? SMPDFU_SWAP_PERM : SMPDFU_SWAP_TEST,
                                 (uint8_t)(slot / 2));
        }
        return rc;
    case SMPDFU_MAGIC_BAD:
    default:
        if (active) {
            return SMPDFU_EBOOT_BADVECT;
        }
        /* bootutil erases a corrupt slot so that later uploads can work. */
        (void)smpdfu_flash_area_erase(cfg->flash, &cfg->slot[slot], 0, cfg->slot[slot].size);
        return SMPDFU_EBOOT_BADIMAGE;
    }
}

int smpdfu_boot_confirm(const smpdfu_boot_cfg_t *cfg, uint8_t image)
{
    if (image >= cfg->image_count) {
        return SMPDFU_EINVAL;
    }
    return smpdfu_boot_set_next(cfg, (uint8_t)(2 * image), true, true);
}

int smpdfu_boot_validate(const smpdfu_boot_cfg_t *cfg, uint8_t slot, uint8_t *work,
                         size_t work_len, smpdfu_image_info_t *info_out)
{
    smpdfu_image_info_t info;
    smpdfu_flash_area_reader_t rd;
    uint8_t digest[SMPDFU_HASH_MAX_LEN];
    int rc;
    if (slot >= 2 * cfg->image_count || work == NULL || work_len == 0 || cfg->hash == NULL) {
        return SMPDFU_EINVAL;
    }
    rd.flash = cfg->flash;
    rd.area = cfg->slot[slot];
    rc = smpdfu_flash_area_is_erased(cfg->flash, &rd.area, 0, SMPDFU_IMAGE_HDR_LEN);
    if (rc < 0) {
        return rc;
    }
    if (rc == 1) {
        return SMPDFU_ENOTFOUND;
    }
    rc = smpdfu_image_parse(smpdfu_flash_area_reader, &rd, rd.area.size, SMPDFU_IMAGE_PARSE_SLOT,
                            &info);
    if (rc < 0) {
        return rc;
    }
    if (info.end > smpdfu_boot_trailer_off(cfg, slot)) {
        return SMPDFU_EIMG_TRUNC; /* image runs into the trailer: MCUboot refuses it */
    }
    rc = smpdfu_image_verify_hash(&info, cfg->hash, smpdfu_flash_area_reader, &rd, work, work_len,
                                  digest);
    if (rc < 0) {
        return rc;
    }
    if (cfg->verify != NULL) {
        rc = cfg->verify(cfg->verify_ctx, &info, digest, smpdfu_flash_area_reader, &rd);
        if (rc < 0) {
            return rc;
        }
    }
    if (info_out != NULL) {
        *info_out = info;
    }
    return 0;
}

/* End of the image in a slot per its header (what a swap must move), or the
 * trailer offset when the slot does not parse (move everything). */
static uint32_t image_end(const smpdfu_boot_cfg_t *cfg, uint8_t slot)
{
    smpdfu_image_info_t info;
    smpdfu_flash_area_reader_t rd = {cfg->flash, cfg->slot[slot]};
    uint32_t tso = smpdfu_boot_trailer_off(cfg, slot);
    if (smpdfu_flash_area_is_erased(cfg->flash, &rd.area, 0, SMPDFU_IMAGE_HDR_LEN) == 1) {
        return 0;
    }
    if (smpdfu_image_parse(smpdfu_flash_area_reader, &rd, rd.area.size, SMPDFU_IMAGE_PARSE_SLOT,
                           &info) < 0 ||
        info.end > tso) {
        return tso;
    }
    return info.end;
}

/* Erase every page of the slot from the one holding the trailer start on,
 * skipping pages below `from_page` (those were rewritten already). */
static int erase_trailer_pages(const smpdfu_boot_cfg_t *cfg, uint8_t slot, uint32_t from)
{
    uint32_t p = cfg->flash->page_size;
    uint32_t tso = smpdfu_boot_trailer_off(cfg, slot);
    uint32_t start = tso - tso % p;
    if (start < from) {
        start = from;
    }
    if (start >= cfg->slot[slot].size) {
        return 0;
    }
    return smpdfu_flash_area_erase(cfg->flash, &cfg->slot[slot], start,
                                   cfg->slot[slot].size - start);
}

/* Exchange (swap) or copy (overwrite) the first n pages of secondary into the
 * primary. Bytes from the trailer on are left erased in both slots. */
static int move_pages(const smpdfu_boot_cfg_t *cfg, uint8_t pri, uint8_t sec, uint32_t npages,
                      bool exchange, uint8_t *work)
{
    const smpdfu_flash_t *f = cfg->flash;
    uint32_t p = f->page_size;
    uint32_t tso = smpdfu_boot_trailer_off(cfg, pri);
    uint8_t *a = work;
    uint8_t *b = work + p;
    for (uint32_t i = 0; i < npages; i++) {
        uint32_t off = i * p;
        int rc = smpdfu_flash_area_read(f, &cfg->slot[pri], off, a, p);
        if (rc == 0) {
            rc = smpdfu_flash_area_read(f, &cfg->slot[sec], off, b, p);
        }
        if (rc < 0) {
            return rc;
        }
        if (off + p > tso) {
            uint32_t keep = tso > off ? tso - off : 0;
            memset(a + keep, f->erased_val, p - keep);
            memset(b + keep, f->erased_val, p - keep);
        }
        rc = smpdfu_flash_area_erase(f, &cfg->slot[pri], off, p);
        if (rc == 0) {
            rc = smpdfu_flash_area_write(f, &cfg->slot[pri], off, b, p);
        }
        if (rc == 0 && exchange) {
            rc = smpdfu_flash_area_erase(f, &cfg->slot[sec], off, p);
            if (rc == 0) {
                rc = smpdfu_flash_area_write(f, &cfg->slot[sec], off, a, p);
            }
        }
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int do_swap(const smpdfu_boot_cfg_t *cfg, uint8_t image, smpdfu_swap_type_t t,
                   uint8_t *work)
{
    uint8_t pri = (uint8_t)(2 * image), sec = (uint8_t)(2 * image + 1);
    uint32_t p = cfg->flash->page_size;
    uint32_t ep = image_end(cfg, pri), es = image_end(cfg, sec);
    uint32_t bytes = ep > es ? ep : es;
    uint32_t npages = (bytes + p - 1) / p;
    int rc = move_pages(cfg, pri, sec, npages, true, work);
    if (rc == 0) {
        rc = erase_trailer_pages(cfg, pri, npages * p);
    }
    if (rc == 0) {
        rc = erase_trailer_pages(cfg, sec, npages * p);
    }
    /* The primary ends with MCUboot's finished-swap trailer: magic, swap
     * info and size, copy_done; image_ok too unless this was a test. */
    if (rc == 0) {
        rc = write_magic(cfg, pri);
    }
    if (rc == 0) {
        rc = write_swap_info(cfg, pri, t, image);
    }
    if (rc == 0) {
        rc = write_swap_size(cfg, pri, bytes);
    }
    if (rc == 0) {
        rc = write_flag(cfg, pri, F_COPY_DONE);
    }
    if (rc == 0 && t != SMPDFU_SWAP_TEST) {
        rc = write_flag(cfg, pri, F_IMAGE_OK);
    }
    return rc;
}

static int do_overwrite(const smpdfu_boot_cfg_t *cfg, uint8_t image, uint8_t *work)
{
    uint8_t pri = (uint8_t)(2 * image), sec = (uint8_t)(2 * image + 1);
    uint32_t p = cfg->flash->page_size;
    uint32_t npages = (image_end(cfg, sec) + p - 1) / p;
    int rc = smpdfu_flash_area_erase(cfg->flash, &cfg->slot[pri], 0, cfg->slot[pri].size);
    if (rc == 0) {
        rc = move_pages(cfg, pri, sec, npages, false, work);
    }
    if (rc == 0) {
        rc = smpdfu_flash_area_erase(cfg->flash, &cfg->slot[sec], 0, cfg->slot[sec].size);
    }
    return rc;
}

int smpdfu_boot_run(const smpdfu_boot_cfg_t *cfg, uint8_t *work, size_t work_len,
                    smpdfu_boot_result_t *res)
{
    if (cfg == NULL || res == NULL || work == NULL) {
        return SMPDFU_EINVAL;
    }
    if (work_len < 2u * cfg->flash->page_size) {
        return SMPDFU_ENOSPC;
    }
    memset(res, 0, sizeof(*res));
    for (uint8_t i = 0; i < cfg->image_count; i++) {
        uint8_t pri = (uint8_t)(2 * i), sec = (uint8_t)(2 * i + 1);
        smpdfu_swap_type_t t = smpdfu_boot_swap_type(cfg, i);
        int rc = 0;
        res->decided[i] = t;
        if (t == SMPDFU_SWAP_TEST || t == SMPDFU_SWAP_PERM || t == SMPDFU_SWAP_REVERT) {
            int v = smpdfu_boot_validate(cfg, sec, work, work_len, NULL);
            /* Recent bootutil (boot_validate_slot): an erased secondary
             * header loses its stale trailer, and in swap-using-move a
             * revert stuck on it loses the primary trailer too; an invalid
             * image is erased. Either way the swap type becomes NONE (older
             * releases answered FAIL and set the primary's image_ok). */
            if (v == SMPDFU_ENOTFOUND) {
                rc = erase_trailer_pages(cfg, sec, 0);
                if (rc == 0 && t == SMPDFU_SWAP_REVERT && cfg->mode == SMPDFU_BOOT_SWAP_MOVE) {
                    rc = erase_trailer_pages(cfg, pri, 0);
                }
                t = SMPDFU_SWAP_NONE;
            } else if (v < 0) {
                res->validate_err[i] = v;
                rc = smpdfu_flash_area_erase(cfg->flash, &cfg->slot[sec], 0, cfg->slot[sec].size);
                t = SMPDFU_SWAP_NONE;
            }
        }
        if (rc == 0 && (t == SMPDFU_SWAP_TEST || t == SMPDFU_SWAP_PERM || t == SMPDFU_SWAP_REVERT)) {
            rc = cfg->mode == SMPDFU_BOOT_OVERWRITE ? do_overwrite(cfg, i, work)
                                                    : do_swap(cfg, i, t, work);
        }
        res->performed[i] = t;
        if (rc < 0) {
            return rc;
        }
    }
    res->bootable = smpdfu_boot_validate(cfg, 0, work, work_len, NULL) == 0;
    return 0;
}
