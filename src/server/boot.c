/* SPDX-License-Identifier: Apache-2.0 */
/* Emulated MCUboot: trailer reads/writes as bootutil does them, the swap-type
 * table, validation, and the swap/overwrite end states (protocol.md §7). */
#include "smpdfu/boot.h"

#include <string.h>

/* MCUboot's default BOOT_MAX_IMG_SECTORS, and BOOT_STATUS_STATE_COUNT (3 for
 * scratch; 1 move + 2 swap states for move): they size the swap-status area
 * in front of the trailer. */
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

static uint32_t max_sectors(const smpdfu_boot_cfg_t *cfg)
{
    return cfg->max_sectors ? cfg->max_sectors : BOOT_MAX_IMG_SECTORS;
}

/* boot_trailer_sz(): status for every sector plus the trailer info. */
static uint32_t trailer_sz(const smpdfu_boot_cfg_t *cfg)
{
    return smpdfu_trailer_total_size(cfg->max_align, max_sectors(cfg), BOOT_STATUS_STATES,
                                     write_size(cfg));
}

uint32_t smpdfu_boot_trailer_off(const smpdfu_boot_cfg_t *cfg, uint8_t slot)
{
    uint32_t t = trailer_sz(cfg);
    uint32_t s = cfg->slot[slot].size;
    return t < s ? s - t : 0;
}

/* Pages at the end of a slot that hold (part of) the trailer. */
static uint32_t trailer_pages(const smpdfu_boot_cfg_t *cfg)
{
    uint32_t p = cfg->flash->page_size;
    return (trailer_sz(cfg) + p - 1) / p;
}

/* boot_scratch_trailer_sz(): one sector's status entries plus the info. */
static uint32_t scratch_trailer_sz(const smpdfu_boot_cfg_t *cfg)
{
    return smpdfu_trailer_total_size(cfg->max_align, 1, BOOT_STATUS_STATES, write_size(cfg));
}

static bool area_ok(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a)
{
    return a->size != 0 && a->off % cfg->flash->page_size == 0 &&
           a->size % cfg->flash->page_size == 0 && a->off <= cfg->flash->size &&
           a->size <= cfg->flash->size - a->off;
}

static bool overlap(const smpdfu_flash_area_t *a, const smpdfu_flash_area_t *b)
{
    return a->off < b->off + b->size && b->off < a->off + a->size;
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
        if (!area_ok(cfg, a)) {
            return SMPDFU_EINVAL;
        }
        if (smpdfu_trailer_layout(a->size, cfg->max_align, &lay) != 0 ||
            smpdfu_boot_trailer_off(cfg, (uint8_t)i) < SMPDFU_IMAGE_HDR_LEN) {
            return SMPDFU_EINVAL;
        }
        /* One status entry per sector: a slot with more sectors than
         * BOOT_MAX_IMG_SECTORS cannot be swapped (boot_slots_compatible). */
        if (cfg->mode != SMPDFU_BOOT_OVERWRITE &&
            a->size / cfg->flash->page_size > max_sectors(cfg)) {
            return SMPDFU_EINVAL;
        }
        for (unsigned j = 0; j < i; j++) {
            if (overlap(a, &cfg->slot[j])) {
                return SMPDFU_EINVAL;
            }
        }
    }
    if (cfg->mode == SMPDFU_BOOT_SWAP_SCRATCH) {
        /* The scratch holds one swap step, which must take in the whole
         * trailer when the images reach it, and its own small trailer. */
        const smpdfu_flash_area_t *sc = &cfg->scratch;
        smpdfu_trailer_layout_t lay;
        if (!area_ok(cfg, sc) || smpdfu_trailer_layout(sc->size, cfg->max_align, &lay) != 0 ||
            sc->size < trailer_pages(cfg) * cfg->flash->page_size ||
            sc->size < scratch_trailer_sz(cfg)) {
            return SMPDFU_EINVAL;
        }
        for (unsigned j = 0; j < n; j++) {
            if (overlap(sc, &cfg->slot[j])) {
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

/* boot_read_swap_state() of any area (slot or scratch); image_num may be NULL. */
static int area_state(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a,
                      smpdfu_trailer_state_t *st, uint8_t *image_num)
{
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
    if (image_num != NULL) {
        *image_num = smpdfu_trailer_swap_info_image(b, ev);
    }
    return 0;
}

int smpdfu_boot_read_state(const smpdfu_boot_cfg_t *cfg, uint8_t slot, smpdfu_trailer_state_t *st)
{
    return area_state(cfg, &cfg->slot[slot], st, NULL);
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

/* Write `len` value bytes at `off` of an area, padded with the erased value
 * to whole write units (bootutil pads every trailer write the same way). */
static int write_field(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a, uint32_t off,
                       const void *val, size_t len)
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
    return smpdfu_flash_area_write(cfg->flash, a, start, buf, end - start);
}

static int write_magic(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a)
{
    smpdfu_trailer_layout_t lay;
    uint8_t m[SMPDFU_TRAILER_MAGIC_LEN];
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    smpdfu_trailer_magic(cfg->max_align, m);
    return write_field(cfg, a, lay.magic, m, sizeof(m));
}

enum { F_IMAGE_OK, F_COPY_DONE };

static int write_flag(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a, int which)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v = SMPDFU_BOOT_FLAG_SET;
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, a, which == F_IMAGE_OK ? lay.image_ok : lay.copy_done, &v, 1);
}

static int write_swap_info(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a,
                           smpdfu_swap_type_t t, uint8_t image)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v = smpdfu_trailer_swap_info(image, t);
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, a, lay.swap_info, &v, 1);
}

static int write_swap_size(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a,
                           uint32_t size)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v[4] = {(uint8_t)size, (uint8_t)(size >> 8), (uint8_t)(size >> 16),
                    (uint8_t)(size >> 24)};
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc < 0) {
        return rc;
    }
    return write_field(cfg, a, lay.swap_size, v, sizeof(v));
}

static int read_swap_size(const smpdfu_boot_cfg_t *cfg, const smpdfu_flash_area_t *a,
                          uint32_t *size)
{
    smpdfu_trailer_layout_t lay;
    uint8_t v[4];
    int rc = smpdfu_trailer_layout(a->size, cfg->max_align, &lay);
    if (rc == 0) {
        rc = smpdfu_flash_area_read(cfg->flash, a, lay.swap_size, v, sizeof(v));
    }
    if (rc == 0) {
        *size = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
                (uint32_t)v[3] << 24;
    }
    return rc;
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
            return write_flag(cfg, &cfg->slot[slot], F_IMAGE_OK);
        }
        return 0;
    case SMPDFU_MAGIC_UNSET:
        if (active) {
            return 0; /* a factory image without trailer: already permanent */
        }
        rc = write_magic(cfg, &cfg->slot[slot]);
        if (rc == 0 && confirm) {
            rc = write_flag(cfg, &cfg->slot[slot], F_IMAGE_OK);
        }
        if (rc == 0) {
            /* Recent bootutil tags it with the slot's image number
             * (flash_area_id_to_image); older releases wrote 0. */
            rc = write_swap_info(cfg, &cfg->slot[slot], confirm ? SMPDFU_SWAP_PERM : SMPDFU_SWAP_TEST,
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


/* ======================================================================
 * The swap, power-fail safe as bootutil makes it: every step is recorded in
 * the swap-status area in front of the trailer (one write unit per step,
 * holding the state number), and the next boot finds the last recorded step
 * and goes on from there (swap_move.c, swap_scratch.c, swap_misc.c,
 * loader.c boot_complete_partial_swap()).
 * ====================================================================== */

enum { SRC_NONE = 0, SRC_SCRATCH = 1, SRC_PRIMARY = 2 }; /* BOOT_STATUS_SOURCE_* */
enum { OP_MOVE = 1, OP_SWAP = 2 };                       /* BOOT_STATUS_OP_* */

/* struct boot_status: where a swap is (idx and state count from 1). */
typedef struct {
    uint32_t idx;
    uint8_t state;
    uint8_t op;
    bool use_scratch; /* this step keeps its status in the scratch trailer */
    smpdfu_swap_type_t swap_type;
    uint32_t swap_size;
    int source;
} bstat_t;

/* One run's context. */
typedef struct {
    const smpdfu_boot_cfg_t *cfg;
    uint8_t image;
    const smpdfu_flash_area_t *pri, *sec, *scr;
    uint8_t *work;
    size_t work_len;
} swapctx_t;

static void bs_reset(bstat_t *bs)
{
    memset(bs, 0, sizeof(*bs));
    bs->op = OP_MOVE;
    bs->idx = 1;
    bs->state = 1;
    bs->swap_type = SMPDFU_SWAP_NONE;
    bs->source = SRC_NONE;
}

static bool bs_is_reset(const bstat_t *bs)
{
    return bs->op == OP_MOVE && bs->idx == 1 && bs->state == 1;
}

static uint32_t page(const swapctx_t *x)
{
    return x->cfg->flash->page_size;
}

static uint32_t nsectors(const swapctx_t *x)
{
    return x->pri->size / page(x);
}

/* boot_status_off(): the status area starts at the trailer offset of a slot,
 * or at the scratch trailer offset of the scratch. */
static uint32_t status_off(const swapctx_t *x, const smpdfu_flash_area_t *a)
{
    if (a == x->scr) {
        return a->size - scratch_trailer_sz(x->cfg);
    }
    uint32_t t = trailer_sz(x->cfg);
    return a->size - t;
}

/* boot_status_internal_off(): move keeps BOOT_MAX_IMG_SECTORS one-state move
 * entries, then two-state swap entries; scratch three states per step. */
static uint32_t status_internal_off(const swapctx_t *x, const bstat_t *bs)
{
    uint32_t ws = write_size(x->cfg);
    if (x->cfg->mode == SMPDFU_BOOT_SWAP_MOVE) {
        if (bs->op == OP_MOVE) {
            return (bs->idx - 1) * ws;
        }
        return max_sectors(x->cfg) * ws + (bs->idx - 1) * 2 * ws + (bs->state - 1u) * ws;
    }
    return (bs->idx - 1) * BOOT_STATUS_STATES * ws + (bs->state - 1u) * ws;
}

/* boot_write_status(): the state number, padded to one write unit. */
static int write_status(const swapctx_t *x, const bstat_t *bs)
{
    const smpdfu_flash_area_t *a = bs->use_scratch ? x->scr : x->pri;
    uint8_t v = bs->state;
    return write_field(x->cfg, a, status_off(x, a) + status_internal_off(x, bs), &v, 1);
}

/* swap_read_status_bytes(): the first byte of each entry, erased or not. */
static int read_status_bytes(const swapctx_t *x, const smpdfu_flash_area_t *a, bstat_t *bs)
{
    const smpdfu_boot_cfg_t *cfg = x->cfg;
    uint32_t ws = write_size(cfg);
    uint32_t off = status_off(x, a);
    uint32_t max = a == x->scr ? BOOT_STATUS_STATES : BOOT_STATUS_STATES * max_sectors(cfg);
    uint8_t b;
    int rc;
    if (cfg->mode == SMPDFU_BOOT_SWAP_MOVE) {
        /* The last written entry, searching from the end. */
        uint32_t found = 0;
        for (uint32_t i = max; i > 0 && found == 0; i--) {
            rc = smpdfu_flash_area_read(cfg->flash, a, off + (i - 1) * ws, &b, 1);
            if (rc < 0) {
                return rc;
            }
            if (b != cfg->flash->erased_val) {
                found = i;
            }
        }
        uint32_t moves = max_sectors(cfg);
        if (found == 0) {
            return 0;
        }
        if (found < moves) {
            bs->op = OP_MOVE;
            bs->idx = found + 1;
            bs->state = 1;
        } else {
            bs->op = OP_SWAP;
            bs->idx = (found - moves) / 2 + 1;
            bs->state = (uint8_t)((found - moves) % 2 + 1);
        }
        return 0;
    }
    /* Scratch: the first erased entry after the written ones. */
    bool seen = false;
    uint32_t next = 0;
    uint32_t i;
    for (i = 0; i < max; i++) {
        rc = smpdfu_flash_area_read(cfg->flash, a, off + i * ws, &b, 1);
        if (rc < 0) {
            return rc;
        }
        if (b == cfg->flash->erased_val) {
            if (seen && next == 0) {
                next = i;
            }
        } else if (!seen) {
            seen = true;
        } else if (next != 0) {
            break; /* inconsistent status: bootutil goes on with what it found */
        }
    }
    if (seen) {
        if (next == 0) {
            next = i;
        }
        bs->idx = next / BOOT_STATUS_STATES + 1;
        bs->state = (uint8_t)(next % BOOT_STATUS_STATES + 1);
    }
    return 0;
}

/* swap_status_source(): which trailer holds the status of an unfinished
 * swap (swap_move.c, and swap_scratch.c's boot_status_tables). */
static int status_source(const swapctx_t *x, int *src)
{
    smpdfu_trailer_state_t p, s;
    int rc = area_state(x->cfg, x->pri, &p, NULL);
    if (rc < 0) {
        return rc;
    }
    *src = SRC_NONE;
    if (x->cfg->mode == SMPDFU_BOOT_SWAP_MOVE) {
        rc = area_state(x->cfg, x->sec, &s, NULL);
        if (rc == 0 && p.magic == SMPDFU_MAGIC_GOOD && p.copy_done == SMPDFU_FLAG_UNSET &&
            s.magic != SMPDFU_MAGIC_GOOD) {
            *src = SRC_PRIMARY;
        }
        return rc;
    }
    uint8_t scr_image = 0;
    rc = area_state(x->cfg, x->scr, &s, &scr_image);
    if (rc < 0) {
        return rc;
    }
    if (p.magic == SMPDFU_MAGIC_GOOD && s.magic != SMPDFU_MAGIC_GOOD &&
        p.copy_done == SMPDFU_FLAG_SET) {
        *src = SRC_NONE;
    } else if (p.magic == SMPDFU_MAGIC_GOOD && s.magic != SMPDFU_MAGIC_GOOD &&
               p.copy_done == SMPDFU_FLAG_UNSET) {
        *src = SRC_PRIMARY;
    } else if (s.magic == SMPDFU_MAGIC_GOOD) {
        /* With two images the scratch may hold the other image's status. */
        *src = x->cfg->image_count > 1 && scr_image != x->image ? SRC_NONE : SRC_SCRATCH;
    } else if (p.magic == SMPDFU_MAGIC_UNSET && p.copy_done == SMPDFU_FLAG_UNSET) {
        *src = SRC_PRIMARY; /* no swap ever, or a revert just started */
    }
    return 0;
}

/* swap_read_status(): source, progress and the swap type it records. */
static int read_status(const swapctx_t *x, bstat_t *bs)
{
    smpdfu_trailer_state_t st;
    int rc = status_source(x, &bs->source);
    if (rc < 0 || bs->source == SRC_NONE) {
        return rc;
    }
    const smpdfu_flash_area_t *a = bs->source == SRC_SCRATCH ? x->scr : x->pri;
    rc = read_status_bytes(x, a, bs);
    if (rc == 0) {
        rc = area_state(x->cfg, a, &st, NULL);
    }
    if (rc == 0) {
        bs->swap_type = st.swap_type;
    }
    return rc;
}

/* boot_find_status() + boot_read_swap_size(): the size recorded by the
 * trailer with a good magic, the scratch first. SMPDFU_ENOTFOUND when
 * neither has one (bootutil asserts there). */
static int recorded_swap_size(const swapctx_t *x, uint32_t *size)
{
    smpdfu_trailer_state_t st;
    int rc;
    if (x->scr != NULL && area_state(x->cfg, x->scr, &st, NULL) == 0 &&
        st.magic == SMPDFU_MAGIC_GOOD) {
        return read_swap_size(x->cfg, x->scr, size);
    }
    rc = area_state(x->cfg, x->pri, &st, NULL);
    if (rc < 0) {
        return rc;
    }
    return st.magic == SMPDFU_MAGIC_GOOD ? read_swap_size(x->cfg, x->pri, size)
                                         : SMPDFU_ENOTFOUND;
}

/* swap_erase_trailer_sectors(): the pages holding the trailer, last first. */
static int erase_trailer_sectors(const swapctx_t *x, const smpdfu_flash_area_t *a)
{
    uint32_t p = page(x);
    for (uint32_t k = 1; k <= trailer_pages(x->cfg); k++) {
        int rc = smpdfu_flash_area_erase(x->cfg->flash, a, a->size - k * p, p);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* swap_status_init(): what a swap in progress needs to know, magic last. */
static int status_init(const swapctx_t *x, const smpdfu_flash_area_t *a, const bstat_t *bs)
{
    smpdfu_trailer_state_t sec;
    int rc = area_state(x->cfg, x->sec, &sec, NULL);
    if (rc == 0 && bs->swap_type != SMPDFU_SWAP_NONE) {
        rc = write_swap_info(x->cfg, a, bs->swap_type, x->image);
    }
    if (rc == 0 && sec.image_ok == SMPDFU_FLAG_SET) {
        rc = write_flag(x->cfg, a, F_IMAGE_OK);
    }
    if (rc == 0) {
        rc = write_swap_size(x->cfg, a, bs->swap_size);
    }
    if (rc == 0) {
        rc = write_magic(x->cfg, a);
    }
    return rc;
}

/* boot_copy_region(): page-sized pieces through the work buffer. */
static int copy_region(const swapctx_t *x, const smpdfu_flash_area_t *src, uint32_t soff,
                       const smpdfu_flash_area_t *dst, uint32_t doff, uint32_t len)
{
    uint32_t chunk = page(x);
    while (len > 0) {
        uint32_t n = len < chunk ? len : chunk;
        int rc = smpdfu_flash_area_read(x->cfg->flash, src, soff, x->work, n);
        if (rc == 0) {
            rc = smpdfu_flash_area_write(x->cfg->flash, dst, doff, x->work, n);
        }
        if (rc < 0) {
            return rc;
        }
        soff += n;
        doff += n;
        len -= n;
    }
    return 0;
}

static int erase_region(const swapctx_t *x, const smpdfu_flash_area_t *a, uint32_t off,
                        uint32_t len)
{
    return smpdfu_flash_area_erase(x->cfg->flash, a, off, len);
}

/* ------------------------------------------------------ swap-using-move */

/* fixup_revert(): a revert about to start makes the secondary look like a
 * permanent upgrade, so that a cut before the primary status exists still
 * finishes it. */
static int move_fixup_revert(const swapctx_t *x, const bstat_t *bs)
{
    smpdfu_trailer_state_t sec;
    int rc;
    if (bs->swap_type != SMPDFU_SWAP_REVERT || bs->op != OP_MOVE || bs->idx != 1) {
        return 0;
    }
    rc = area_state(x->cfg, x->sec, &sec, NULL);
    if (rc < 0 || sec.magic != SMPDFU_MAGIC_UNSET) {
        return rc;
    }
    rc = erase_trailer_sectors(x, x->sec);
    if (rc == 0) {
        rc = write_flag(x->cfg, x->sec, F_IMAGE_OK);
    }
    if (rc == 0) {
        rc = write_swap_size(x->cfg, x->sec, bs->swap_size);
    }
    if (rc == 0) {
        rc = write_magic(x->cfg, x->sec);
    }
    return rc;
}

/* boot_move_sector_up(): primary sector idx-1 to idx. */
static int move_sector_up(const swapctx_t *x, uint32_t idx, bstat_t *bs)
{
    uint32_t p = page(x);
    int rc = 0;
    if (bs->idx == 1) {
        if (bs->source != SRC_PRIMARY) {
            rc = erase_trailer_sectors(x, x->pri);
            if (rc == 0) {
                rc = status_init(x, x->pri, bs);
            }
        }
        if (rc == 0) {
            rc = erase_trailer_sectors(x, x->sec);
        }
    }
    if (rc == 0) {
        rc = erase_region(x, x->pri, idx * p, p);
    }
    if (rc == 0) {
        rc = copy_region(x, x->pri, (idx - 1) * p, x->pri, idx * p, p);
    }
    if (rc == 0) {
        rc = write_status(x, bs);
    }
    bs->idx++;
    return rc;
}

/* boot_swap_sectors() of move: secondary idx-1 into primary idx-1, then
 * the moved-up primary idx into secondary idx-1. */
static int move_swap_sectors(const swapctx_t *x, uint32_t idx, bstat_t *bs)
{
    uint32_t p = page(x);
    int rc = 0;
    if (bs->state == 1) {
        rc = erase_region(x, x->pri, (idx - 1) * p, p);
        if (rc == 0) {
            rc = copy_region(x, x->sec, (idx - 1) * p, x->pri, (idx - 1) * p, p);
        }
        if (rc == 0) {
            rc = write_status(x, bs);
        }
        if (rc < 0) {
            return rc;
        }
        bs->state = 2;
    }
    if (bs->state == 2) {
        rc = erase_region(x, x->sec, (idx - 1) * p, p);
        if (rc == 0) {
            rc = copy_region(x, x->pri, idx * p, x->sec, (idx - 1) * p, p);
        }
        if (rc == 0) {
            rc = write_status(x, bs);
        }
        bs->idx++;
        bs->state = 1;
    }
    return rc;
}

/* Sectors a swap of copy_size bytes covers (at least one). */
static uint32_t sectors_for(const swapctx_t *x, uint32_t copy_size)
{
    uint32_t n = (copy_size + page(x) - 1) / page(x);
    return n ? n : 1;
}

/* Largest swap move mode can do: the image sectors move up by one and must
 * stay clear of the trailer sectors. */
static uint32_t move_room(const swapctx_t *x)
{
    uint32_t first_trailer = nsectors(x) - trailer_pages(x->cfg);
    return first_trailer > 1 ? (first_trailer - 1) * page(x) : 0;
}

/* swap_run() of move. Returns 1 when a new swap does not fit. */
static int move_run(const swapctx_t *x, bstat_t *bs, uint32_t copy_size)
{
    uint32_t last = sectors_for(x, copy_size);
    int rc;
    if (bs_is_reset(bs) && copy_size > move_room(x)) {
        return 1; /* "Not enough free space to run swap upgrade" */
    }
    rc = move_fixup_revert(x, bs);
    if (rc < 0) {
        return rc;
    }
    if (bs->op == OP_MOVE) {
        for (uint32_t idx = last; idx > 0; idx--) {
            if ((int64_t)idx <= (int64_t)last - (int64_t)bs->idx + 1) {
                rc = move_sector_up(x, idx, bs);
                if (rc < 0) {
                    return rc;
                }
            }
        }
        bs->idx = 1;
    }
    bs->op = OP_SWAP;
    for (uint32_t idx = 1; idx <= last; idx++) {
        if (idx >= bs->idx) {
            rc = move_swap_sectors(x, idx, bs);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* --------------------------------------------------- swap-using-scratch */

/* Erase erase_len bytes of dst at doff, then copy copy_len bytes of src at
 * soff there (a scratch step's move of sectors). */
static int erase_copy(const swapctx_t *x, const smpdfu_flash_area_t *src, uint32_t soff,
                      const smpdfu_flash_area_t *dst, uint32_t doff, uint32_t erase_len,
                      uint32_t copy_len)
{
    int rc = erase_region(x, dst, doff, erase_len);
    return rc == 0 ? copy_region(x, src, soff, dst, doff, copy_len) : rc;
}

/* A scratch step that went well (rc 0) is recorded in the status before
 * the swap moves on to state next; a failed one stays where it was. */
static int step_done(const swapctx_t *x, bstat_t *bs, int rc, uint8_t next)
{
    if (rc == 0) {
        rc = write_status(x, bs);
    }
    if (rc >= 0) {
        bs->state = next;
    }
    return rc;
}

/* boot_swap_sectors() of scratch: secondary to scratch, primary to
 * secondary, scratch to primary, for sectors [first, first + n). The step
 * that reaches the trailer leaves the trailer out of the data and keeps its
 * status in the scratch trailer until the primary has its own again. */
static int scratch_swap_sectors(const swapctx_t *x, uint32_t first, uint32_t n, bstat_t *bs)
{
    const smpdfu_boot_cfg_t *cfg = x->cfg;
    uint32_t p = page(x);
    uint32_t img_off = first * p, sz = n * p, copy_sz = sz;
    uint32_t first_trailer = nsectors(x) - trailer_pages(cfg);
    bool erase_scratch;
    int rc = 0;
    if (img_off + sz > first_trailer * p) {
        copy_sz = status_off(x, x->pri) - img_off;
    }
    bs->use_scratch = bs->idx == 1 && copy_sz != sz;
    if (bs->state == 1) {
        rc = erase_region(x, x->scr, 0, x->scr->size);
        if (rc == 0 && bs->idx == 1) {
            /* The swap type needs a home while the primary trailer is
             * erased, even when the status will live in the primary. */
            rc = status_init(x, x->scr, bs);
            if (rc == 0 && !bs->use_scratch) {
                rc = erase_trailer_sectors(x, x->pri);
                if (rc == 0) {
                    rc = status_init(x, x->pri, bs);
                }
                if (rc == 0) {
                    rc = erase_region(x, x->scr, 0, x->scr->size);
                }
            }
        }
        if (rc == 0) {
            rc = copy_region(x, x->sec, img_off, x->scr, 0, copy_sz);
        }
        if ((rc = step_done(x, bs, rc, 2)) < 0) {
            return rc;
        }
    }
    if (bs->state == 2) {
        rc = erase_copy(x, x->pri, img_off, x->sec, img_off, sz, copy_sz);
        if (rc == 0 && bs->idx == 1 && !bs->use_scratch) {
            rc = erase_trailer_sectors(x, x->sec);
        }
        if ((rc = step_done(x, bs, rc, 3)) < 0) {
            return rc;
        }
    }
    if (bs->state == 3) {
        rc = erase_copy(x, x->scr, 0, x->pri, img_off, sz, copy_sz);
        if (rc == 0 && bs->use_scratch) {
            smpdfu_trailer_state_t st;
            rc = copy_region(x, x->scr, status_off(x, x->scr), x->pri, img_off + copy_sz,
                             (BOOT_STATUS_STATES - 1) * write_size(cfg));
            if (rc == 0) {
                rc = area_state(cfg, x->scr, &st, NULL);
            }
            if (rc == 0 && st.image_ok == SMPDFU_FLAG_SET) {
                rc = write_flag(cfg, x->pri, F_IMAGE_OK);
            }
            if (rc == 0 && st.swap_type != SMPDFU_SWAP_NONE) {
                rc = write_swap_info(cfg, x->pri, st.swap_type, x->image);
            }
            if (rc == 0) {
                rc = write_swap_size(cfg, x->pri, bs->swap_size);
            }
            if (rc == 0) {
                rc = write_magic(cfg, x->pri);
            }
        }
        erase_scratch = bs->use_scratch;
        bs->use_scratch = false;
        if (rc == 0) {
            rc = write_status(x, bs);
        }
        /* The scratch trailer goes only now, or a reset would find a stale
         * status there. */
        if (rc == 0 && erase_scratch) {
            rc = erase_region(x, x->scr, 0, x->scr->size);
        }
        bs->idx++;
        bs->state = 1;
    }
    return rc;
}

/* swap_run() of scratch: from the last sector to swap down to sector 0, as
 * many sectors per step as the scratch holds. */
static int scratch_run(const swapctx_t *x, bstat_t *bs, uint32_t copy_size)
{
    uint32_t per = x->scr->size / page(x);
    uint32_t first_trailer = nsectors(x) - trailer_pages(x->cfg);
    int64_t last = (int64_t)sectors_for(x, copy_size) - 1;
    uint32_t step = 0;
    /* A step that reaches the trailer takes all of it (identical to bootutil
     * when the trailer fits the last sector). */
    if (last >= (int64_t)first_trailer) {
        last = (int64_t)nsectors(x) - 1;
    }
    while (last >= 0) {
        int64_t first = last - (int64_t)per + 1;
        if (first < 0) {
            first = 0;
        }
        if (step >= bs->idx - 1) {
            int rc = scratch_swap_sectors(x, (uint32_t)first, (uint32_t)(last - first + 1), bs);
            if (rc < 0) {
                return rc;
            }
        }
        last = first - 1;
        step++;
    }
    return 0;
}

/* ---------------------------------------------------------- boot_run */

/* End of the image in a slot per its header (what a swap must move): 0 for
 * an erased header, the trailer offset when the slot does not parse. */
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

/* Erase the pages from the one holding the trailer start to the slot end,
 * the last (magic) first, as bootutil's swap_scramble_trailer_sectors(). */
static int erase_trailer_pages(const smpdfu_boot_cfg_t *cfg, uint8_t slot)
{
    uint32_t p = cfg->flash->page_size;
    uint32_t tso = smpdfu_boot_trailer_off(cfg, slot);
    uint32_t start = tso - tso % p;
    for (uint32_t off = cfg->slot[slot].size; off > start; off -= p) {
        int rc = smpdfu_flash_area_erase(cfg->flash, &cfg->slot[slot], off - p, p);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static bool is_upgrade(smpdfu_swap_type_t t)
{
    return t == SMPDFU_SWAP_TEST || t == SMPDFU_SWAP_PERM || t == SMPDFU_SWAP_REVERT;
}

/* boot_swap_image() + the flag writes of boot_perform_update() and
 * boot_complete_partial_swap(). Returns 1 when a new swap does not fit. */
static int swap_image(const swapctx_t *x, bstat_t *bs)
{
    int rc;
    if (bs_is_reset(bs)) {
        uint32_t ep = image_end(x->cfg, (uint8_t)(2 * x->image));
        uint32_t es = image_end(x->cfg, (uint8_t)(2 * x->image + 1));
        bs->swap_size = ep > es ? ep : es;
    } else {
        rc = recorded_swap_size(x, &bs->swap_size);
        if (rc < 0) {
            return rc;
        }
    }
    rc = x->cfg->mode == SMPDFU_BOOT_SWAP_MOVE ? move_run(x, bs, bs->swap_size)
                                                : scratch_run(x, bs, bs->swap_size);
    if (rc != 0) {
        return rc;
    }
    if (bs->swap_type == SMPDFU_SWAP_REVERT || bs->swap_type == SMPDFU_SWAP_PERM) {
        smpdfu_trailer_state_t st;
        rc = area_state(x->cfg, x->pri, &st, NULL);
        if (rc == 0 && st.image_ok == SMPDFU_FLAG_UNSET) {
            rc = write_flag(x->cfg, x->pri, F_IMAGE_OK);
        }
    }
    if (rc == 0 && is_upgrade(bs->swap_type)) {
        rc = write_flag(x->cfg, x->pri, F_COPY_DONE);
    }
    return rc;
}

/* boot_copy_image() of overwrite-only: the secondary keeps its trailer (and
 * so its swap type) until the copy is complete, so a cut anywhere makes the
 * next boot start over. */
static int overwrite_image(const swapctx_t *x)
{
    uint32_t p = page(x);
    uint32_t n = sectors_for(x, image_end(x->cfg, (uint8_t)(2 * x->image + 1)));
    uint32_t len = n * p;
    uint32_t tso = status_off(x, x->sec);
    int rc = 0;
    /* Image pages only, never the secondary's trailer. */
    if (len > tso) {
        len = tso;
    }
    for (uint32_t i = 0; rc == 0 && i < nsectors(x); i++) {
        rc = erase_region(x, x->pri, i * p, p);
    }
    if (rc == 0) {
        rc = copy_region(x, x->sec, 0, x->pri, 0, len);
    }
    /* The header page first: a cut after it leaves an erased header, whose
     * stale trailer the next boot clears. */
    if (rc == 0) {
        rc = erase_region(x, x->sec, 0, x->sec->size);
    }
    return rc;
}

/* boot_validated_swap_type() with recent bootutil's boot_validate_slot():
 * an erased secondary header loses its trailer (and in move mode a stuck
 * revert the primary trailer too), an invalid image is erased; both give
 * NONE. */
static int validated_type(const swapctx_t *x, smpdfu_swap_type_t t, smpdfu_swap_type_t *out,
                          int *verr)
{
    const smpdfu_boot_cfg_t *cfg = x->cfg;
    uint8_t pri = (uint8_t)(2 * x->image), sec = (uint8_t)(2 * x->image + 1);
    int rc = 0;
    *out = t;
    if (t != SMPDFU_SWAP_TEST && t != SMPDFU_SWAP_PERM && t != SMPDFU_SWAP_REVERT) {
        return 0;
    }
    int v = smpdfu_boot_validate(cfg, sec, x->work, x->work_len, NULL);
    if (v == SMPDFU_ENOTFOUND) {
        rc = erase_trailer_pages(cfg, sec);
        if (rc == 0 && t == SMPDFU_SWAP_REVERT && cfg->mode == SMPDFU_BOOT_SWAP_MOVE) {
            rc = erase_trailer_pages(cfg, pri);
        }
        *out = SMPDFU_SWAP_NONE;
    } else if (v < 0) {
        *verr = v;
        rc = smpdfu_flash_area_erase(cfg->flash, &cfg->slot[sec], 0, cfg->slot[sec].size);
        *out = SMPDFU_SWAP_NONE;
    }
    return rc;
}

int smpdfu_boot_run(const smpdfu_boot_cfg_t *cfg, uint8_t *work, size_t work_len,
                    smpdfu_boot_result_t *res)
{
    bstat_t bs[SMPDFU_BOOT_MAX_IMAGES];
    smpdfu_swap_type_t type[SMPDFU_BOOT_MAX_IMAGES];
    swapctx_t x[SMPDFU_BOOT_MAX_IMAGES];
    int rc;
    if (cfg == NULL || res == NULL || work == NULL) {
        return SMPDFU_EINVAL;
    }
    if (work_len < 2u * cfg->flash->page_size) {
        return SMPDFU_ENOSPC;
    }
    memset(res, 0, sizeof(*res));
    /* Pass 1 (boot_prepare_image_for_update): finish any interrupted swap,
     * else decide and validate. */
    for (uint8_t i = 0; i < cfg->image_count; i++) {
        x[i].cfg = cfg;
        x[i].image = i;
        x[i].pri = &cfg->slot[2 * i];
        x[i].sec = &cfg->slot[2 * i + 1];
        x[i].scr = cfg->mode == SMPDFU_BOOT_SWAP_SCRATCH ? &cfg->scratch : NULL;
        x[i].work = work;
        x[i].work_len = work_len;
        bs_reset(&bs[i]);
        type[i] = SMPDFU_SWAP_NONE;
        if (cfg->mode != SMPDFU_BOOT_OVERWRITE) {
            rc = read_status(&x[i], &bs[i]);
            if (rc < 0) {
                return rc;
            }
        }
        if (!bs_is_reset(&bs[i])) {
            /* Status entries without a swap type or a trailer that records
             * the size are left over from an older swap whose trailer was
             * half erased (a revert cut twice early in scratch mode with a
             * trailer over two pages): bootutil asserts on them; there is
             * nothing to finish, so decide afresh. */
            uint32_t size = 0;
            int found = recorded_swap_size(&x[i], &size);
            /* A recorded size no image can have is no swap of ours either. */
            if (found == 0 && size > smpdfu_boot_trailer_off(cfg, (uint8_t)(2 * i))) {
                found = SMPDFU_ENOTFOUND;
            }
            if (found == SMPDFU_ENOTFOUND || bs[i].swap_type == SMPDFU_SWAP_NONE) {
                int source = bs[i].source;
                bs_reset(&bs[i]);
                bs[i].source = source;
            } else if (found < 0) {
                return found;
            }
        }
        if (!bs_is_reset(&bs[i])) {
            res->decided[i] = bs[i].swap_type;
            res->resumed[i] = true;
            rc = swap_image(&x[i], &bs[i]);
            if (rc < 0) {
                return rc;
            }
            res->performed[i] = bs[i].swap_type;
            /* A swap cut short means earlier images were not really
             * updated and tested: their REVERT is bogus
             * (boot_review_image_swap_types). */
            for (uint8_t j = 0; j < i; j++) {
                if (type[j] == SMPDFU_SWAP_REVERT) {
                    type[j] = SMPDFU_SWAP_NONE;
                }
            }
            continue;
        }
        if (bs[i].swap_type == SMPDFU_SWAP_NONE) {
            smpdfu_swap_type_t t = smpdfu_boot_swap_type(cfg, i);
            res->decided[i] = t;
            rc = validated_type(&x[i], t, &type[i], &res->validate_err[i]);
        } else {
            /* Status set up but no step recorded: start over with the
             * recorded type if the secondary still validates. */
            smpdfu_swap_type_t t = bs[i].swap_type;
            res->decided[i] = t;
            rc = validated_type(&x[i], t, &type[i], &res->validate_err[i]);
            if (type[i] == SMPDFU_SWAP_NONE) {
                type[i] = SMPDFU_SWAP_FAIL;
            }
        }
        if (rc < 0) {
            return rc;
        }
        if (type[i] != SMPDFU_SWAP_NONE && type[i] != SMPDFU_SWAP_REVERT) {
            for (uint8_t j = 0; j < i; j++) {
                if (type[j] == SMPDFU_SWAP_REVERT) {
                    type[j] = SMPDFU_SWAP_NONE;
                }
            }
        }
    }
    /* Pass 2: the updates decided. */
    for (uint8_t i = 0; i < cfg->image_count; i++) {
        smpdfu_swap_type_t t = type[i];
        if (res->resumed[i]) {
            continue;
        }
        res->performed[i] = SMPDFU_SWAP_NONE;
        if (t == SMPDFU_SWAP_FAIL) {
            /* "Pretend we reverted": the primary stays, confirmed. */
            smpdfu_trailer_state_t st;
            rc = cfg->mode == SMPDFU_BOOT_OVERWRITE ? 0 : area_state(cfg, x[i].pri, &st, NULL);
            if (rc == 0 && cfg->mode != SMPDFU_BOOT_OVERWRITE &&
                st.image_ok == SMPDFU_FLAG_UNSET) {
                rc = write_flag(cfg, x[i].pri, F_IMAGE_OK);
            }
        } else if (!is_upgrade(t)) {
            rc = 0;
        } else if (cfg->mode == SMPDFU_BOOT_OVERWRITE) {
            rc = overwrite_image(&x[i]);
            res->performed[i] = t;
        } else {
            int source = bs[i].source;
            bs_reset(&bs[i]);
            /* Single image: bootutil keeps the status source found in pass
             * 1; with more images it starts from a reset status. */
            bs[i].source = cfg->image_count == 1 ? source : SRC_NONE;
            bs[i].swap_type = t;
            rc = swap_image(&x[i], &bs[i]);
            if (rc == 1) {
                res->no_room[i] = true;
                rc = 0;
            } else {
                res->performed[i] = t;
            }
        }
        if (rc < 0) {
            return rc;
        }
    }
    res->bootable = smpdfu_boot_validate(cfg, 0, work, work_len, NULL) == 0;
    return 0;
}
