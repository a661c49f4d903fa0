/* SPDX-License-Identifier: Apache-2.0 */
/* Image management group (1) as Zephyr's img_mgmt answers it over an
 * emulated MCUboot (protocol.md §4): dispatch, slot state and the next-boot
 * decision (state read/write), erase, slot info. The upload command is in
 * img_upload.c, smpdfu's upload progress record in img_record.c. */
#include "smpdfu/server.h"

#include <string.h>

#include "img_priv.h"

static int img_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_IMAGE, rc);
}

/* --------------------------------------------------------- read info */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int read_slot(const smpdfu_img_group_t *img, int slot, uint32_t off, void *buf, size_t len)
{
    int rc = smpdfu_flash_area_read(img_fl(img), img_area(img, slot), off, buf, len);
    return rc < 0 ? rc : 0;
}

/* Zephyr's img_mgmt_find_tlvs(): the TLV info at *start has magic; on
 * success [*start, *end) are its entries. */
static int find_tlvs(const smpdfu_img_group_t *img, int slot, uint32_t *start, uint32_t *end,
                     uint16_t magic)
{
    uint8_t info[4];
    int rc = read_slot(img, slot, *start, info, sizeof(info));
    if (rc != 0) {
        return rc;
    }
    if (le16(info) != magic) {
        return SMPDFU_EIMG_TLV_MAGIC;
    }
    *start += 4;
    *end = *start + le16(info + 2);
    return 0;
}

/* The header goes through the core's decoder; the TLV walk stays Zephyr's own
 * (laxer than smpdfu_image_parse(): it looks only for the SHA-256 TLV and
 * stops quietly at an entry that runs past the area), as a device answers. */
int smpdfu_img_read_info(const smpdfu_img_group_t *img, int slot, smpdfu_image_version_t *ver,
                         uint8_t hash[32], uint32_t *flags)
{
    uint8_t raw[SMPDFU_IMAGE_HDR_LEN];
    uint8_t tlv[4];
    smpdfu_image_hdr_t hdr;
    uint32_t off, end;
    bool found = false;
    int rc;

    if (slot < 0 || slot >= img_nslots(img)) {
        return SMPDFU_ERANGE;
    }
    rc = read_slot(img, slot, 0, raw, sizeof(raw));
    if (rc != 0) {
        return rc;
    }
    /* img_mgmt checks the magic only (SMPDFU_EIMG_HDR is no refusal here). */
    if (smpdfu_image_hdr_decode(raw, sizeof(raw), &hdr, NULL) == SMPDFU_EIMG_MAGIC) {
        return hdr.magic == 0x01010101u * img_fl(img)->erased_val ? SMPDFU_ENOTFOUND
                                                                   : SMPDFU_EIMG_MAGIC;
    }
    if (ver != NULL) {
        *ver = hdr.version;
    }
    if (flags != NULL) {
        *flags = hdr.flags;
    }
    /* Protected TLVs first (optional), then the unprotected area that holds
     * the hash. Offsets are 32-bit like on the device. */
    off = (uint32_t)hdr.hdr_size + hdr.img_size;
    if (find_tlvs(img, slot, &off, &end, SMPDFU_IMAGE_TLV_PROT_INFO_MAGIC) == 0) {
        off = end - 4;
    }
    if (find_tlvs(img, slot, &off, &end, SMPDFU_IMAGE_TLV_INFO_MAGIC) != 0) {
        return SMPDFU_EIMG_TLV_MAGIC;
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
            return SMPDFU_EMALFORMED; /* an erased entry */
        }
        if (type != SMPDFU_TLV_SHA256 || len != IMAGE_HASH_LEN) {
            off += 4u + len;
            continue;
        }
        if (found) {
            return SMPDFU_EIMG_DUP_HASH;
        }
        found = true;
        off += 4;
        if (off + IMAGE_HASH_LEN > end) {
            return SMPDFU_EIMG_TLV_OVERRUN;
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
    return found ? 0 : SMPDFU_EIMG_NO_HASH;
}

static int find_by_hash(const smpdfu_img_group_t *img, const uint8_t *want)
{
    uint8_t h[IMAGE_HASH_LEN];
    for (int i = 0; i < img_nslots(img); i++) {
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
    int a = img_active_slot(image);
    int slot = img_opposite_slot(a);
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
    int a = img_active_slot(image);
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
    int a = img_active_slot(image);
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
        int a = img_active_slot(i);
        ok = encode_slot(img, e, a, smpdfu_img_slot_flags(img, a)) &&
             encode_slot(img, e, img_opposite_slot(a), smpdfu_img_slot_flags(img, img_opposite_slot(a)));
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

uint16_t smpdfu_img_mgmt_err(int err)
{
    switch (err) {
    case 0:
        return SMPDFU_IMG_ERR_OK;
    case SMPDFU_ERANGE:
        return SMPDFU_IMG_ERR_INVALID_SLOT;
    case SMPDFU_EBOOT_CONFIRM_DENIED:
        return SMPDFU_IMG_ERR_IMAGE_CONFIRMATION_DENIED;
    case SMPDFU_EBOOT_TEST_ACTIVE:
        return SMPDFU_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED;
    case SMPDFU_EBOOT_PENDING:
        return SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING;
    case SMPDFU_EBOOT_BADVECT:
        return SMPDFU_IMG_ERR_INVALID_IMAGE_VECTOR_TABLE;
    case SMPDFU_EBOOT_BADIMAGE:
        return SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
    default:
        break;
    }
    /* The trailer writes of boot_set_next() failed. */
    if (err <= SMPDFU_EFLASH_BOUNDS && err >= SMPDFU_EFLASH_IO) {
        return SMPDFU_IMG_ERR_FLASH_WRITE_FAILED;
    }
    return SMPDFU_IMG_ERR_UNKNOWN;
}

int smpdfu_img_set_next_boot_slot(smpdfu_img_group_t *img, int slot, bool confirm)
{
    int image = slot / 2;
    int a = img_active_slot(image);
    int type;
    int nbs;

    if (slot < 0 || slot >= img_nslots(img)) {
        return SMPDFU_ERANGE;
    }
    nbs = next_boot_slot(img, image, &type);
    /* 1. Confirming a slot of an image that is not running: only its
     * secondary (CONFIG_..._ALLOW_CONFIRM_NON_ACTIVE_IMAGE_SECONDARY=y). */
    if (confirm && image != img_active_image() && slot == a) {
        return SMPDFU_EBOOT_CONFIRM_DENIED;
    }
    /* 2. Testing the running slot. */
    if (!confirm && slot == a) {
        return SMPDFU_EBOOT_TEST_ACTIVE;
    }
    /* 3. A test is already set up. */
    if (type == NEXT_TEST) {
        if (!confirm && slot == nbs) {
            return 0;
        }
        return SMPDFU_EBOOT_PENDING;
    }
    /* 4. Normal boot (NONE or PERM). */
    if (type == NEXT_NORMAL) {
        if (confirm && slot == nbs) {
            return 0;
        }
        if ((slot == a && a != nbs) || (!confirm && slot != a && slot == nbs)) {
            return SMPDFU_EBOOT_PENDING;
        }
    }
    /* 5. Running an unconfirmed test image. */
    if (type == NEXT_REVERT) {
        if (confirm && slot == nbs) {
            return 0;
        }
        if (!confirm) {
            return SMPDFU_EBOOT_PENDING;
        }
    }
    return smpdfu_boot_set_next(img->boot, (uint8_t)slot, slot == a, confirm);
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
        slot = img_active_slot(img_active_image());
    } else if (hash.len != IMAGE_HASH_LEN) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_INVALID_HASH);
    } else {
        slot = find_by_hash(img, hash.ptr);
        if (slot < 0) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_HASH_NOT_FOUND);
        }
    }
    NOTE(r->note, sizeof(r->note), "%s slot=%d", confirm ? "confirm" : "test", slot);
    rc = smpdfu_img_set_next_boot_slot(img, slot, confirm);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, smpdfu_img_mgmt_err(rc));
    }
    return state_encode(img, r->enc);
}

/* ------------------------------------------------------------------ erase */

static int img_erase(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_img_group_t *img = ctx;
    uint64_t slot = (uint64_t)img_opposite_slot(img_active_slot(img_active_image()));
    smpdfu_cbor_field_t f[] = {{"slot", SMPDFU_CBOR_UINT, &slot, NULL}};
    smpdfu_image_version_t ver;
    int rc;

    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || slot > UINT32_MAX) {
        return SMPDFU_MGMT_EINVAL;
    }
    NOTE(r->note, sizeof(r->note), "slot=%lu", (unsigned long)slot);
    if (slot < (uint64_t)img_nslots(img) && smpdfu_img_read_info(img, (int)slot, &ver, NULL, NULL) == 0 &&
        smpdfu_img_slot_in_use(img, (int)slot)) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERR_NO_FREE_SLOT);
    }
    if (slot >= (uint64_t)img_nslots(img)) {
        rc = SMPDFU_IMG_ERR_INVALID_SLOT;
    } else {
        const smpdfu_flash_area_t *a = img_area(img, (int)slot);
        rc = smpdfu_flash_area_is_erased(img_fl(img), a, 0, a->size);
        if (rc < 0) {
            rc = SMPDFU_IMG_ERR_FLASH_READ_FAILED;
        } else if (rc == 0) {
            rc = smpdfu_flash_area_erase(img_fl(img), a, 0, a->size) < 0
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
            smpdfu_cbor_put_uint(e, img_area(img, slot)->size);
            if (slot != img_active_slot(i)) {
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
    [SMPDFU_IMG_UPLOAD] = {NULL, smpdfu_img_upload_cmd},
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
    img->group.details_name = "img mgmt";
    img->boot = boot;
    img->image_check = true;
    img->work = work;
    img->work_len = work_len;
    img->s.slot = SLOT_NONE;
    if (progress != NULL && progress->size != 0) {
        const smpdfu_flash_t *f = boot->flash;
        if (progress->off % f->page_size || progress->size % f->page_size ||
            progress->off > f->size || progress->size > f->size - progress->off ||
            progress->size < smpdfu_img_rec_min_size(img)) {
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
