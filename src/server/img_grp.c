/* Image management group (1) as Zephyr's img_mgmt answers it over an
 * emulated MCUboot (protocol.md §4): state read/write, upload, erase, slot
 * info. Plus smpdfu's extension: upload progress that survives a restart. */
#include "smpdfu/server.h"

#include <stdio.h>
#include <string.h>

#define IMAGE_HASH_LEN 32
#define SLOT_NONE (-1)

/* ---------------------------------------------------------------- helpers */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

static int nslots(const smpdfu_img_group_t *img)
{
    return 2 * img->boot->image_count;
}

static const smpdfu_flash_t *fl(const smpdfu_img_group_t *img)
{
    return img->boot->flash;
}

static const smpdfu_flash_area_t *area(const smpdfu_img_group_t *img, int slot)
{
    return &img->boot->slot[slot];
}

/* The running image is image 0 (the application core); in every swap mode it
 * runs from its primary slot. */
static int active_image(void)
{
    return 0;
}

static int active_slot(int image)
{
    return image * 2;
}

static int opposite_slot(int slot)
{
    return slot ^ 1;
}

static int img_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_IMAGE, rc);
}

/* --------------------------------------------------------- read info */

static int read_slot(const smpdfu_img_group_t *img, int slot, uint32_t off, void *buf, size_t len)
{
    return smpdfu_flash_area_read(fl(img), area(img, slot), off, buf, len) < 0
               ? SMPDFU_IMG_ERR_FLASH_READ_FAILED
               : 0;
}

/* Zephyr's img_mgmt_find_tlvs(). */
static int find_tlvs(const smpdfu_img_group_t *img, int slot, uint32_t *start, uint32_t *end,
                     uint16_t magic)
{
    uint8_t info[4];
    int rc = read_slot(img, slot, *start, info, sizeof(info));
    if (rc != 0) {
        return rc;
    }
    if (le16(info) != magic) {
        return SMPDFU_IMG_ERR_NO_TLVS;
    }
    *start += 4;
    *end = *start + le16(info + 2);
    return 0;
}

int smpdfu_img_read_info(const smpdfu_img_group_t *img, int slot, smpdfu_image_version_t *ver,
                         uint8_t hash[32], uint32_t *flags)
{
    uint8_t hdr[SMPDFU_IMAGE_HDR_LEN];
    uint8_t tlv[4];
    uint32_t magic, erased32, off, end;
    bool found = false;
    int rc;

    if (slot < 0 || slot >= nslots(img)) {
        return SMPDFU_IMG_ERR_INVALID_SLOT;
    }
    rc = read_slot(img, slot, 0, hdr, sizeof(hdr));
    if (rc != 0) {
        return rc;
    }
    magic = le32(hdr);
    erased32 = 0x01010101u * fl(img)->erased_val;
    if (magic == erased32) {
        return SMPDFU_IMG_ERR_NO_IMAGE;
    }
    if (magic != SMPDFU_IMAGE_MAGIC) {
        return SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
    }
    if (ver != NULL) {
        ver->major = hdr[20];
        ver->minor = hdr[21];
        ver->revision = le16(hdr + 22);
        ver->build = le32(hdr + 24);
    }
    if (flags != NULL) {
        *flags = le32(hdr + 16);
    }
    /* Protected TLVs first (optional), then the unprotected area that holds
     * the hash. Offsets are 32-bit like on the device. */
    off = (uint32_t)le16(hdr + 8) + le32(hdr + 12);
    if (find_tlvs(img, slot, &off, &end, SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC) == 0) {
        off = end - 4;
    }
    if (find_tlvs(img, slot, &off, &end, SMPDFU_IMAGE_TLV_INFO_MAGIC) != 0) {
        return SMPDFU_IMG_ERR_NO_TLVS;
    }
    while (off + 4 <= end && off + 4 > off) {
        uint16_t type, len;
        rc = read_slot(img, slot, off, tlv, sizeof(tlv));
        if (rc != 0) {
            return rc;
        }
        type = le16(tlv);
        len = le16(tlv + 2);
        if (type == 0xff && len == 0xffff) {
            return SMPDFU_IMG_ERR_INVALID_TLV;
        }
        if (type != SMPDFU_TLV_SHA256 || len != IMAGE_HASH_LEN) {
            off += 4u + len;
            continue;
        }
        if (found) {
            return SMPDFU_IMG_ERR_TLV_MULTIPLE_HASHES_FOUND;
        }
        found = true;
        off += 4;
        if (off + IMAGE_HASH_LEN > end) {
            return SMPDFU_IMG_ERR_TLV_INVALID_SIZE;
        }
        if (hash != NULL) {
            rc = read_slot(img, slot, off, hash, IMAGE_HASH_LEN);
            if (rc != 0) {
                return rc;
            }
        }
        /* Zephyr (2023) forgets to step over the hash value here and parses
         * it as the next TLV header; we step over it as intended. */
        off += IMAGE_HASH_LEN;
    }
    return found ? 0 : SMPDFU_IMG_ERR_HASH_NOT_FOUND;
}

static int find_by_hash(const smpdfu_img_group_t *img, const uint8_t *want)
{
    uint8_t h[IMAGE_HASH_LEN];
    for (int i = 0; i < nslots(img); i++) {
        if (smpdfu_img_read_info(img, i, NULL, h, NULL) != 0) {
            continue;
        }
        if (memcmp(h, want, IMAGE_HASH_LEN) == 0) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------- next boot slot */

enum { NEXT_NORMAL, NEXT_TEST, NEXT_REVERT };

static int next_boot_slot(const smpdfu_img_group_t *img, int image, int *type)
{
    int a = active_slot(image);
    int slot = opposite_slot(a);
    *type = NEXT_NORMAL;
    if (image >= img->boot->image_count) {
        *type = NEXT_NORMAL;
        return a;
    }
    switch (smpdfu_boot_swap_type(img->boot, (uint8_t)image)) {
    case SMPDFU_SWAP_NONE:
        slot = a;
        break;
    case SMPDFU_SWAP_PERM:
        break;
    case SMPDFU_SWAP_REVERT:
        *type = NEXT_REVERT;
        break;
    case SMPDFU_SWAP_TEST:
        *type = NEXT_TEST;
        break;
    default:
        return -1;
    }
    return slot;
}

bool smpdfu_img_slot_in_use(const smpdfu_img_group_t *img, int slot)
{
    int image = slot / 2;
    int a = active_slot(image);
    int type;
    int nbs = next_boot_slot(img, image, &type);
    if (slot == nbs && type == NEXT_REVERT) {
        return true;
    }
    /* CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING (default y): a slot marked
     * for test or permanent is not "in use". */
    return a == slot;
}

unsigned smpdfu_img_slot_flags(const smpdfu_img_group_t *img, int slot)
{
    int image = slot / 2;
    int a = active_slot(image);
    int type;
    int nbs = next_boot_slot(img, image, &type);
    unsigned fa = SMPDFU_IMG_F_ACTIVE, fo = 0;
    if (type != NEXT_REVERT) {
        fa |= SMPDFU_IMG_F_CONFIRMED;
    }
    if (nbs != a) {
        if (type == NEXT_NORMAL) {
            fo = SMPDFU_IMG_F_PENDING | SMPDFU_IMG_F_PERMANENT;
        } else if (type == NEXT_REVERT) {
            fo = SMPDFU_IMG_F_CONFIRMED;
        } else {
            fo = SMPDFU_IMG_F_PENDING;
        }
    }
    return slot == a ? fa : fo;
}

/* ---------------------------------------------------------- state read */

static bool encode_slot(const smpdfu_img_group_t *img, smpdfu_cbor_enc_t *e, int slot,
                        unsigned f)
{
    smpdfu_image_version_t ver;
    uint8_t hash[IMAGE_HASH_LEN];
    uint32_t flags;
    char vs[40];
    if (smpdfu_img_read_info(img, slot, &ver, hash, &flags) != 0) {
        return true; /* unreadable slots are silently left out */
    }
    if (smpdfu_image_version_str(&ver, vs, sizeof(vs)) < 0) {
        memcpy(vs, "<\?\?\?>", 6);
    }
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    if (img->boot->image_count > 1) {
        smpdfu_cbor_put_tstrz(e, "image");
        smpdfu_cbor_put_uint(e, (uint64_t)(slot >> 1));
    }
    smpdfu_cbor_put_tstrz(e, "slot");
    smpdfu_cbor_put_uint(e, (uint64_t)(slot % 2));
    smpdfu_cbor_put_tstrz(e, "version");
    smpdfu_cbor_put_tstrz(e, vs);
    smpdfu_cbor_put_tstrz(e, "hash");
    smpdfu_cbor_put_bstr(e, hash, sizeof(hash));
    smpdfu_cbor_put_tstrz(e, "bootable");
    smpdfu_cbor_put_bool(e, !(flags & SMPDFU_IMAGE_F_NON_BOOTABLE));
    smpdfu_cbor_put_tstrz(e, "pending");
    smpdfu_cbor_put_bool(e, (f & SMPDFU_IMG_F_PENDING) != 0);
    smpdfu_cbor_put_tstrz(e, "confirmed");
    smpdfu_cbor_put_bool(e, (f & SMPDFU_IMG_F_CONFIRMED) != 0);
    smpdfu_cbor_put_tstrz(e, "active");
    smpdfu_cbor_put_bool(e, (f & SMPDFU_IMG_F_ACTIVE) != 0);
    smpdfu_cbor_put_tstrz(e, "permanent");
    smpdfu_cbor_put_bool(e, (f & SMPDFU_IMG_F_PERMANENT) != 0);
    smpdfu_cbor_put_break(e);
    return e->err == 0;
}

static int state_encode(smpdfu_img_group_t *img, smpdfu_cbor_enc_t *e)
{
    bool ok = true;
    smpdfu_cbor_put_tstrz(e, "images");
    smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
    for (int i = 0; ok && i < img->boot->image_count; i++) {
        int a = active_slot(i);
        ok = encode_slot(img, e, a, smpdfu_img_slot_flags(img, a)) &&
             encode_slot(img, e, opposite_slot(a), smpdfu_img_slot_flags(img, opposite_slot(a)));
    }
    smpdfu_cbor_put_break(e);
    smpdfu_cbor_put_tstrz(e, "splitStatus");
    smpdfu_cbor_put_int(e, 0);
    return (ok && e->err == 0) ? 0 : SMPDFU_MGMT_EMSGSIZE;
}

static int img_state_read(smpdfu_server_req_t *r, void *ctx)
{
    return state_encode(ctx, r->enc);
}

/* --------------------------------------------------------- state write */

static int set_next_common(smpdfu_img_group_t *img, int slot, int a, bool confirm)
{
    int rc = smpdfu_boot_set_next(img->boot, (uint8_t)slot, slot == a, confirm);
    if (rc == 0) {
        return 0;
    }
    if (rc == SMPDFU_EBOOT_BADVECT) {
        return SMPDFU_IMG_ERR_INVALID_IMAGE_VECTOR_TABLE;
    }
    if (rc == SMPDFU_EBOOT_BADIMAGE) {
        return SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
    }
    if (rc <= SMPDFU_EFLASH_BOUNDS && rc >= SMPDFU_EFLASH_IO) {
        return SMPDFU_IMG_ERR_FLASH_WRITE_FAILED;
    }
    return SMPDFU_IMG_ERR_UNKNOWN;
}

int smpdfu_img_set_next_boot_slot(smpdfu_img_group_t *img, int slot, bool confirm)
{
    int image = slot / 2;
    int a = active_slot(image);
    int type;
    int nbs;

    if (slot < 0 || slot >= nslots(img)) {
        return SMPDFU_IMG_ERR_INVALID_SLOT;
    }
    nbs = next_boot_slot(img, image, &type);
    /* 1. Confirming a slot of an image that is not running: only its
     * secondary (CONFIG_..._ALLOW_CONFIRM_NON_ACTIVE_IMAGE_SECONDARY=y). */
    if (confirm && image != active_image() && slot == a) {
        return SMPDFU_IMG_ERR_IMAGE_CONFIRMATION_DENIED;
    }
    /* 2. Testing the running slot. */
    if (!confirm && slot == a) {
        return SMPDFU_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED;
    }
    /* 3. A test is already set up. */
    if (type == NEXT_TEST) {
        if (!confirm && slot == nbs) {
            return 0;
        }
        return SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING;
    }
    /* 4. Normal boot (NONE or PERM). */
    if (type == NEXT_NORMAL) {
        if (confirm && slot == nbs) {
            return 0;
        }
        if ((slot == a && a != nbs) || (!confirm && slot != a && slot == nbs)) {
            return SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING;
        }
    }
    /* 5. Running an unconfirmed test image. */
    if (type == NEXT_REVERT) {
        if (confirm && slot == nbs) {
            return 0;
        }
        if (!confirm) {
            return SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING;
        }
    }
    return set_next_common(img, slot, a, confirm);
}

static int img_state_write(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_img_group_t *img = ctx;
    smpdfu_cbor_slice_t hash = {NULL, 0};
    bool confirm = false;
    smpdfu_cbor_field_t f[] = {
        {"hash", SMPDFU_CBOR_BSTR, &hash, NULL},
        {"confirm", SMPDFU_CBOR_BOOL, &confirm, NULL},
    };
    int slot, rc;

    if (smpdfu_cbor_decode_map(&r->dec, f, 2) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (hash.len == 0) {
        if (!confirm) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_INVALID_HASH);
        }
        slot = active_slot(active_image());
    } else if (hash.len != IMAGE_HASH_LEN) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_INVALID_HASH);
    } else {
        slot = find_by_hash(img, hash.ptr);
        if (slot < 0) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_HASH_NOT_FOUND);
        }
    }
    snprintf(r->note, sizeof(r->note), "%s slot=%d", confirm ? "confirm" : "test", slot);
    rc = smpdfu_img_set_next_boot_slot(img, slot, confirm);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, (uint16_t)rc);
    }
    return state_encode(img, r->enc);
}

/* ------------------------------------------------- progress record (smpdfu) */

#define REC_MAGIC 0x52504d53u /* "SMPR" */
#define REC_HDR_RAW 48u
#define REC_ENT_RAW 12u

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) / a * a;
}

static uint32_t rec_hdr_size(const smpdfu_img_group_t *img)
{
    return round_up(REC_HDR_RAW, fl(img)->write_align);
}

static uint32_t rec_ent_size(const smpdfu_img_group_t *img)
{
    return round_up(REC_ENT_RAW, fl(img)->write_align);
}

static int rec_erase(smpdfu_img_group_t *img)
{
    int e = smpdfu_flash_area_is_erased(fl(img), &img->progress, 0, img->progress.size);
    if (e < 0) {
        return e;
    }
    return e ? 0 : smpdfu_flash_area_erase(fl(img), &img->progress, 0, img->progress.size);
}

static int rec_write_entry(smpdfu_img_group_t *img, uint32_t off, uint32_t crc)
{
    uint8_t e[REC_ENT_RAW + SMPDFU_FLASH_MAX_ALIGN];
    uint32_t n = rec_ent_size(img);
    memset(e, fl(img)->erased_val, sizeof(e));
    put_le32(e, off);
    put_le32(e + 4, crc);
    put_le32(e + 8, crc32_update(0, e, 8));
    return smpdfu_flash_area_write(fl(img), &img->progress, img->s.rec_next, e, n);
}

static int rec_write_header(smpdfu_img_group_t *img)
{
    uint8_t h[REC_HDR_RAW + SMPDFU_FLASH_MAX_ALIGN];
    memset(h, fl(img)->erased_val, sizeof(h));
    put_le32(h, REC_MAGIC);
    h[4] = (uint8_t)img->s.slot;
    h[5] = img->s.sha_len;
    h[6] = 1; /* record version */
    h[7] = 0;
    put_le32(h + 8, img->s.size);
    memcpy(h + 12, img->s.sha, 32);
    put_le32(h + 44, crc32_update(0, h, 44));
    img->s.rec_next = rec_hdr_size(img);
    return smpdfu_flash_area_write(fl(img), &img->progress, 0, h, rec_hdr_size(img));
}

/* Start a record for a new session (after the slot was erased). Failures
 * only cost the extension, never the upload. */
static void rec_start(smpdfu_img_group_t *img)
{
    if (img->progress.size == 0) {
        return;
    }
    img->s.rec_active = false;
    if (rec_erase(img) == 0 && rec_write_header(img) == 0) {
        img->s.rec_active = true;
    }
}

static void rec_progress(smpdfu_img_group_t *img, uint32_t flushed)
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
        int rc = smpdfu_flash_area_read(fl(img), area(img, slot), from, buf, n);
        if (rc < 0) {
            return rc;
        }
        *crc = crc32_update(*crc, buf, n);
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
    rc = smpdfu_flash_area_read(fl(img), &img->progress, 0, h, sizeof(h));
    if (rc < 0) {
        return rc;
    }
    slot = h[4];
    size = le32(h + 8);
    if (le32(h) != REC_MAGIC || le32(h + 44) != crc32_update(0, h, 44) || h[6] != 1 ||
        slot >= nslots(img) || h[5] > 32 || size > area(img, slot)->size) {
        goto drop;
    }
    /* Walk the entries in order; keep the last one whose CRC matches what is
     * on flash now (a torn or stale tail entry is ignored). */
    for (pos = rec_hdr_size(img); pos + rec_ent_size(img) <= img->progress.size;
         pos += rec_ent_size(img)) {
        uint32_t off, crc;
        rc = smpdfu_flash_area_read(fl(img), &img->progress, pos, e, sizeof(e));
        if (rc < 0) {
            return rc;
        }
        off = le32(e);
        crc = le32(e + 4);
        if (le32(e + 8) != crc32_update(0, e, 8) || off < run_off || off > size) {
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
    p = round_up(size, fl(img)->page_size);
    if (p > area(img, slot)->size) {
        p = area(img, slot)->size;
    }
    rc = smpdfu_flash_area_is_erased(fl(img), area(img, slot), resume, p - resume);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        resume = smpdfu_flash_page_down(fl(img), best_off);
        if (resume == 0) {
            goto drop;
        }
        rc = smpdfu_flash_area_erase(fl(img), area(img, slot), resume, p - resume);
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
        rec_start(img);
        rec_progress(img, resume);
    } else {
        img->s.rec_next = pos;
        if (pos + rec_ent_size(img) <= img->progress.size) {
            /* pos may point at a torn entry: it is not erased, so start a
             * fresh record rather than write over it. */
            if (smpdfu_flash_area_is_erased(fl(img), &img->progress, pos, rec_ent_size(img)) != 1) {
                rec_start(img);
                rec_progress(img, resume);
            }
        }
    }
    return (int)resume;

drop:
    img->s.rec_active = true; /* makes reset_upload erase the page */
    smpdfu_img_group_reset_upload(img);
    return 0;
}

/* ----------------------------------------------------------------- upload */

/* Append accepted bytes to the slot, holding back a partial write unit the
 * way Zephyr's flash_img buffers, flushing (padded) on the last chunk. */
static int write_data(smpdfu_img_group_t *img, const uint8_t *data, size_t len, bool last)
{
    smpdfu_img_session_t *s = &img->s;
    const smpdfu_flash_t *f = fl(img);
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
            rc = smpdfu_flash_area_write(f, area(img, s->slot), flushed, s->tail, wa);
            if (rc < 0) {
                return rc;
            }
            s->crc = crc32_update(s->crc, s->tail, wa);
            flushed += wa;
            s->tail_len = 0;
        }
    }
    if (len >= wa) {
        size_t n = len - len % wa;
        rc = smpdfu_flash_area_write(f, area(img, s->slot), flushed, data, n);
        if (rc < 0) {
            return rc;
        }
        s->crc = crc32_update(s->crc, data, n);
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
        rc = smpdfu_flash_area_write(f, area(img, s->slot), flushed, s->tail, wa);
        if (rc < 0) {
            return rc;
        }
        flushed += wa;
        s->tail_len = 0;
    }
    img->bytes_written = flushed;
    if (!last) {
        rec_progress(img, flushed);
    }
    return 0;
}

/* SHA-256 of the first size bytes of a slot equals sha (flash_img_check). */
static bool slot_matches(smpdfu_img_group_t *img, int slot, uint32_t size, const uint8_t *sha)
{
    smpdfu_flash_area_reader_t rd = {fl(img), *area(img, slot)};
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
    int slot = opposite_slot(active_slot((int)image));
    return smpdfu_img_slot_in_use(img, slot) ? -1 : slot;
}

/* Zephyr's img_mgmt_erase_image_data(): the pages the image will occupy,
 * and the trailer pages when they lie beyond. */
static int erase_for_upload(smpdfu_img_group_t *img, int slot, uint32_t len)
{
    const smpdfu_flash_t *f = fl(img);
    const smpdfu_flash_area_t *a = area(img, slot);
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

static int img_upload(smpdfu_server_req_t *r, void *ctx)
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
        smpdfu_image_version_t cur, nv;
        if (data.len < SMPDFU_IMAGE_HDR_LEN) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER;
            goto fail;
        }
        if (len == UINT32_MAX) {
            rc = SMPDFU_IMG_ERR_INVALID_LENGTH;
            goto fail;
        }
        if (le32(data.ptr) != SMPDFU_IMAGE_MAGIC) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
            goto fail;
        }
        if (sha.len > 32) {
            rc = SMPDFU_IMG_ERR_INVALID_HASH;
            goto fail;
        }
        if (sha.len > 0 && s->slot != SLOT_NONE && s->sha_len == sha.len &&
            memcmp(s->sha, sha.ptr, sha.len) == 0) {
            snprintf(r->note, sizeof(r->note), "off=0 len=%lu (resume) -> off=%lu",
                     (unsigned long)data.len, (unsigned long)s->off);
            goto good; /* resume: nothing written */
        }
        slot = unused_slot(img, image);
        if (slot < 0) {
            rc = SMPDFU_IMG_ERR_NO_FREE_SLOT;
            goto fail;
        }
        if (len > area(img, slot)->size) {
            rc = SMPDFU_IMG_ERR_INVALID_IMAGE_TOO_LARGE;
            goto fail;
        }
        if (upgrade) {
            if (smpdfu_img_read_info(img, active_slot(active_image()), &cur, NULL, NULL) != 0) {
                rc = SMPDFU_IMG_ERR_VERSION_GET_FAILED;
                goto fail;
            }
            nv.major = data.ptr[20];
            nv.minor = data.ptr[21];
            nv.revision = le16(data.ptr + 22);
            nv.build = le32(data.ptr + 24);
            if (smpdfu_image_version_cmp(&cur, &nv, false) >= 0) {
                rc = SMPDFU_IMG_ERR_CURRENT_VERSION_IS_NEWER;
                goto fail;
            }
        }
        rc = smpdfu_flash_area_is_erased(fl(img), area(img, slot), 0, area(img, slot)->size);
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
            snprintf(r->note, sizeof(r->note), "off=0 len=%lu size=%lu (already there) -> off=%lu",
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
        rec_start(img);
    } else {
        if (off != s->off) {
            snprintf(r->note, sizeof(r->note), "off=%lu len=%lu (expected %lu) -> off=%lu",
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
        snprintf(r->note, sizeof(r->note), "off=%lu len=%lu%s%.0lu%s -> off=%lu", (unsigned long)at,
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
        snprintf(r->note, sizeof(r->note), "off=%lu len=0 -> off=%lu", (unsigned long)off,
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
            size_t n = strlen(r->note);
            snprintf(r->note + n, sizeof(r->note) - n, " (marked for test)");
        }
    }
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;

fail:
    if (r->note[0] == 0) {
        snprintf(r->note, sizeof(r->note), "off=%lu len=%lu", off == UINT32_MAX ? 0ul : (unsigned long)off,
                 (unsigned long)data.len);
    }
    smpdfu_img_group_reset_upload(img);
    return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, (uint16_t)rc);
}

/* ------------------------------------------------------------------ erase */

static int img_erase(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_img_group_t *img = ctx;
    uint64_t slot = (uint64_t)opposite_slot(active_slot(active_image()));
    smpdfu_cbor_field_t f[] = {{"slot", SMPDFU_CBOR_UINT, &slot, NULL}};
    smpdfu_image_version_t ver;
    int rc;

    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || slot > UINT32_MAX) {
        return SMPDFU_MGMT_EINVAL;
    }
    snprintf(r->note, sizeof(r->note), "slot=%lu", (unsigned long)slot);
    if (slot < (uint64_t)nslots(img) && smpdfu_img_read_info(img, (int)slot, &ver, NULL, NULL) == 0 &&
        smpdfu_img_slot_in_use(img, (int)slot)) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_NO_FREE_SLOT);
    }
    if (slot >= (uint64_t)nslots(img)) {
        rc = SMPDFU_IMG_ERR_INVALID_SLOT;
    } else {
        const smpdfu_flash_area_t *a = area(img, (int)slot);
        rc = smpdfu_flash_area_is_erased(fl(img), a, 0, a->size);
        if (rc < 0) {
            rc = SMPDFU_IMG_ERR_FLASH_READ_FAILED;
        } else if (rc == 0) {
            rc = smpdfu_flash_area_erase(fl(img), a, 0, a->size) < 0
                     ? SMPDFU_IMG_ERR_FLASH_ERASE_FAILED
                     : 0;
        } else {
            rc = 0; /* already blank */
        }
    }
    smpdfu_img_group_reset_upload(img);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, (uint16_t)rc);
    }
    return 0;
}

/* -------------------------------------------------------------- slot info */

static int img_slot_info(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_img_group_t *img = ctx;
    smpdfu_cbor_enc_t *e = r->enc;
    smpdfu_cbor_put_tstrz(e, "images");
    smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
    for (int i = 0; i < img->boot->image_count; i++) {
        smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_tstrz(e, "image");
        smpdfu_cbor_put_uint(e, (uint64_t)i);
        smpdfu_cbor_put_tstrz(e, "slots");
        smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
        for (int k = 0; k < 2; k++) {
            int slot = 2 * i + k;
            smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
            smpdfu_cbor_put_tstrz(e, "slot");
            smpdfu_cbor_put_uint(e, (uint64_t)k);
            smpdfu_cbor_put_tstrz(e, "size");
            smpdfu_cbor_put_uint(e, area(img, slot)->size);
            if (slot != active_slot(i)) {
                smpdfu_cbor_put_tstrz(e, "upload_image_id");
                smpdfu_cbor_put_uint(e, (uint64_t)i);
            }
            smpdfu_cbor_put_break(e);
        }
        smpdfu_cbor_put_break(e);
        smpdfu_cbor_put_break(e);
    }
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

/* ------------------------------------------------------------------- init */

static const smpdfu_server_handler_t img_handlers[] = {
    [SMPDFU_IMG_STATE] = {img_state_read, img_state_write},
    [SMPDFU_IMG_UPLOAD] = {NULL, img_upload},
    [SMPDFU_IMG_ERASE] = {NULL, img_erase},
    [SMPDFU_IMG_SLOT_INFO] = {img_slot_info, NULL},
};

static const char *const img_names[] = {
    [SMPDFU_IMG_STATE] = "state",       [SMPDFU_IMG_UPLOAD] = "upload",
    [SMPDFU_IMG_FILE] = "file",         [SMPDFU_IMG_CORELIST] = "corelist",
    [SMPDFU_IMG_CORELOAD] = "coreload", [SMPDFU_IMG_ERASE] = "erase",
    [SMPDFU_IMG_SLOT_INFO] = "slot-info",
};

int smpdfu_img_group_init(smpdfu_img_group_t *img, const smpdfu_boot_cfg_t *boot,
                          const smpdfu_flash_area_t *progress, uint8_t *work, size_t work_len)
{
    if (img == NULL || smpdfu_boot_cfg_check(boot) != 0 || work == NULL || work_len < 64) {
        return SMPDFU_EINVAL;
    }
    memset(img, 0, sizeof(*img));
    img->group.id = SMPDFU_GROUP_IMAGE;
    img->group.name = "img";
    img->group.handlers = img_handlers;
    img->group.cmd_names = img_names;
    img->group.handler_count = sizeof(img_handlers) / sizeof(img_handlers[0]);
    img->group.translate = img_translate;
    img->group.ctx = img;
    img->boot = boot;
    img->image_check = true;
    img->work = work;
    img->work_len = work_len;
    img->s.slot = SLOT_NONE;
    if (progress != NULL && progress->size != 0) {
        const smpdfu_flash_t *f = boot->flash;
        if (progress->off % f->page_size || progress->size % f->page_size ||
            progress->off > f->size || progress->size > f->size - progress->off ||
            progress->size < rec_hdr_size(img) + rec_ent_size(img)) {
            return SMPDFU_EINVAL;
        }
        for (int i = 0; i < 2 * boot->image_count; i++) {
            const smpdfu_flash_area_t *a = &boot->slot[i];
            if (progress->off < a->off + a->size && a->off < progress->off + progress->size) {
                return SMPDFU_EINVAL;
            }
        }
        img->progress = *progress;
    }
    return 0;
}
