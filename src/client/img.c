/* SPDX-License-Identifier: Apache-2.0 */
/* Image management group requests and response parsers (protocol.md §4). */
#include "smpdfu/client_img.h"

#include <string.h>

#include "grp_util.h"
#include "req_opts.h"

int smpdfu_img_state_read(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                          void *arg)
{
    return smpdfu_opt_request(c, SMPDFU_OP_READ, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_STATE, o, cb, arg);
}

int smpdfu_img_state_write(smpdfu_client_t *c, const uint8_t *hash, size_t hash_len, bool confirm,
                           const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    if (hash && hash_len == 0) {
        return SMPDFU_EINVAL;
    }
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, SMPDFU_OP_WRITE, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_STATE, hash ? 2 : 1,
                                  &r);
    if (rc) {
        return rc;
    }
    smpdfu_cbor_enc_t *e = smpdfu_req_enc(r);
    if (hash) {
        /* Zephyr decodes the hash as a byte string (the doc says tstr). */
        smpdfu_cbor_put_tstrz(e, "hash");
        smpdfu_cbor_put_bstr(e, hash, hash_len);
    }
    smpdfu_cbor_put_tstrz(e, "confirm");
    smpdfu_cbor_put_bool(e, confirm);
    return smpdfu_opt_send(c, r, o, cb, arg);
}

/* Decode each element of a CBOR array (a slice holding the whole array) with
 * elem(); SMPDFU_EPROTO if the array or any element is malformed. */
static int each_elem(smpdfu_cbor_slice_t arr, int (*elem)(smpdfu_cbor_dec_t *d, void *ctx), void *ctx)
{
    smpdfu_cbor_dec_t a;
    smpdfu_cbor_container_t ct;
    smpdfu_cbor_dec_init(&a, arr.ptr, arr.len);
    if (smpdfu_cbor_enter_array(&a, &ct) < 0) {
        return SMPDFU_EPROTO;
    }
    int more;
    while ((more = smpdfu_cbor_more(&a, &ct)) > 0) {
        if (elem(&a, ctx) < 0) {
            return SMPDFU_EPROTO;
        }
    }
    return more < 0 ? SMPDFU_EPROTO : 0;
}

static int parse_slot(smpdfu_cbor_dec_t *d, smpdfu_img_slot_t *s)
{
    uint64_t image = 0, slot = 0;
    smpdfu_cbor_slice_t ver = {0}, hash = {0};
    bool f_image = false, f_slot = false, f_ver = false, f_hash = false;
    bool bootable = false, pending = false, confirmed = false, active = false, permanent = false;
    const smpdfu_cbor_field_t f[] = {
        {"image", SMPDFU_CBOR_UINT, &image, &f_image},
        {"slot", SMPDFU_CBOR_UINT, &slot, &f_slot},
        {"version", SMPDFU_CBOR_TSTR, &ver, &f_ver},
        {"hash", SMPDFU_CBOR_BSTR, &hash, &f_hash},
        {"bootable", SMPDFU_CBOR_BOOL, &bootable, NULL},
        {"pending", SMPDFU_CBOR_BOOL, &pending, NULL},
        {"confirmed", SMPDFU_CBOR_BOOL, &confirmed, NULL},
        {"active", SMPDFU_CBOR_BOOL, &active, NULL},
        {"permanent", SMPDFU_CBOR_BOOL, &permanent, NULL},
    };
    if (smpdfu_cbor_decode_map(d, f, sizeof(f) / sizeof(f[0])) < 0) {
        return SMPDFU_EPROTO;
    }
    if (!f_slot || image > UINT32_MAX || slot > UINT32_MAX || (f_hash && hash.len > 32)) {
        return SMPDFU_EPROTO;
    }
    if (!s) {
        return 0;
    }
    memset(s, 0, sizeof(*s));
    s->image = (uint32_t)image;
    s->slot = (uint32_t)slot;
    if (f_ver) {
        size_t n = ver.len < sizeof(s->version) - 1 ? ver.len : sizeof(s->version) - 1;
        memcpy(s->version, ver.ptr, n);
        s->version[n] = '\0';
    }
    if (f_hash) {
        memcpy(s->hash, hash.ptr, hash.len);
        s->hash_len = (uint8_t)hash.len;
    }
    s->bootable = bootable;
    s->pending = pending;
    s->confirmed = confirmed;
    s->active = active;
    s->permanent = permanent;
    return 0;
}

/* One "images" entry: kept while there is room, else counted as dropped. */
static int state_elem(smpdfu_cbor_dec_t *d, void *ctx)
{
    smpdfu_img_state_t *s = ctx;
    smpdfu_img_slot_t *slot = s->count < SMPDFU_IMG_STATE_MAX ? &s->slots[s->count] : NULL;
    int rc = parse_slot(d, slot);
    if (rc == 0) {
        if (slot) {
            s->count++;
        } else {
            s->dropped++;
        }
    }
    return rc;
}

int smpdfu_img_state_parse_buf(const uint8_t *cbor, size_t len, smpdfu_img_state_t *s)
{
    if (!s || (!cbor && len)) {
        return SMPDFU_EINVAL;
    }
    memset(s, 0, sizeof(*s));
    smpdfu_cbor_slice_t images = {0};
    bool f_images = false;
    int64_t split = 0;
    const smpdfu_cbor_field_t f[] = {
        {"images", SMPDFU_CBOR_ARRAY, &images, &f_images},
        {"splitStatus", SMPDFU_CBOR_NINT, &split, &s->has_split_status},
    };
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, cbor, len);
    if (smpdfu_cbor_decode_map(&d, f, 2) < 0) {
        return SMPDFU_EPROTO;
    }
    s->split_status = split;
    if (!f_images) {
        return 0; /* a device with no readable image lists nothing */
    }
    return each_elem(images, state_elem, s);
}

int smpdfu_img_state_parse(const smpdfu_rsp_t *r, smpdfu_img_state_t *s)
{
    if (!r || r->status != 0 || !r->payload) {
        return SMPDFU_EINVAL;
    }
    return smpdfu_img_state_parse_buf(r->payload, r->payload_len, s);
}

const smpdfu_img_slot_t *smpdfu_img_state_find(const smpdfu_img_state_t *s, uint32_t image,
                                               const uint8_t *hash)
{
    for (size_t i = 0; i < s->count; i++) {
        const smpdfu_img_slot_t *e = &s->slots[i];
        if (e->image == image && e->hash_len == 32 && !memcmp(e->hash, hash, 32)) {
            return e;
        }
    }
    return NULL;
}

const smpdfu_img_slot_t *smpdfu_img_state_slot(const smpdfu_img_state_t *s, uint32_t image,
                                               uint32_t slot)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->slots[i].image == image && s->slots[i].slot == slot) {
            return &s->slots[i];
        }
    }
    return NULL;
}

const smpdfu_img_slot_t *smpdfu_img_state_active(const smpdfu_img_state_t *s, uint32_t image)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->slots[i].image == image && s->slots[i].active) {
            return &s->slots[i];
        }
    }
    return NULL;
}

int smpdfu_img_erase(smpdfu_client_t *c, int32_t slot, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg)
{
    smpdfu_req_t *r;
    int rc = smpdfu_grp_begin_map(c, SMPDFU_OP_WRITE, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_ERASE, slot >= 0,
                                  &r);
    if (rc) {
        return rc;
    }
    if (slot >= 0) {
        smpdfu_cbor_put_tstrz(smpdfu_req_enc(r), "slot");
        smpdfu_cbor_put_uint(smpdfu_req_enc(r), (uint64_t)slot);
    }
    /* Erasing is synchronous on the device and may take seconds: callers
     * give a long timeout. */
    return smpdfu_opt_send(c, r, o, cb, arg);
}

int smpdfu_img_slot_info(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                         void *arg)
{
    return smpdfu_opt_request(c, SMPDFU_OP_READ, SMPDFU_GROUP_IMAGE, SMPDFU_IMG_SLOT_INFO, o, cb, arg);
}

static int parse_slotinfo_slot(smpdfu_cbor_dec_t *d, smpdfu_img_slotinfo_slot_t *s)
{
    uint64_t slot = 0, size = 0, uid = 0;
    int64_t rc = 0;
    bool f_slot = false, f_size = false;
    smpdfu_img_slotinfo_slot_t tmp;
    memset(&tmp, 0, sizeof(tmp));
    const smpdfu_cbor_field_t f[] = {
        {"slot", SMPDFU_CBOR_UINT, &slot, &f_slot},
        {"size", SMPDFU_CBOR_UINT, &size, &f_size},
        {"upload_image_id", SMPDFU_CBOR_UINT, &uid, &tmp.has_upload_image_id},
        {"rc", SMPDFU_CBOR_NINT, &rc, &tmp.has_rc},
    };
    if (smpdfu_cbor_decode_map(d, f, 4) < 0 || !f_slot || slot > UINT32_MAX || size > UINT32_MAX ||
        uid > UINT32_MAX || rc < INT32_MIN || rc > INT32_MAX) {
        return SMPDFU_EPROTO;
    }
    tmp.slot = (uint32_t)slot;
    tmp.size = (uint32_t)size;
    tmp.upload_image_id = (uint32_t)uid;
    tmp.rc = (int32_t)rc;
    if (s) {
        *s = tmp;
    }
    return 0;
}

/* One "slots" entry: the first two are kept, further ones only checked. */
static int slotinfo_slot_elem(smpdfu_cbor_dec_t *d, void *ctx)
{
    smpdfu_img_slotinfo_image_t *im = ctx;
    smpdfu_img_slotinfo_slot_t *s = im->nslots < 2 ? &im->slots[im->nslots] : NULL;
    int rc = parse_slotinfo_slot(d, s);
    if (rc == 0 && s) {
        im->nslots++;
    }
    return rc;
}

static int parse_slotinfo_image(smpdfu_cbor_dec_t *d, smpdfu_img_slotinfo_image_t *im)
{
    uint64_t image = 0, max = 0;
    smpdfu_cbor_slice_t slots = {0};
    bool f_image = false, f_slots = false, f_max = false;
    const smpdfu_cbor_field_t f[] = {
        {"image", SMPDFU_CBOR_UINT, &image, &f_image},
        {"slots", SMPDFU_CBOR_ARRAY, &slots, &f_slots},
        {"max_image_size", SMPDFU_CBOR_UINT, &max, &f_max},
    };
    if (smpdfu_cbor_decode_map(d, f, 3) < 0 || image > UINT32_MAX || max > UINT32_MAX) {
        return SMPDFU_EPROTO;
    }
    smpdfu_img_slotinfo_image_t tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.image = (uint32_t)image;
    tmp.has_max_image_size = f_max;
    tmp.max_image_size = (uint32_t)max;
    if (f_slots && each_elem(slots, slotinfo_slot_elem, &tmp) < 0) {
        return SMPDFU_EPROTO;
    }
    if (im) {
        *im = tmp;
    }
    return 0;
}

/* One "images" entry: kept while there is room, else counted as dropped. */
static int slotinfo_image_elem(smpdfu_cbor_dec_t *d, void *ctx)
{
    smpdfu_img_slotinfo_t *s = ctx;
    smpdfu_img_slotinfo_image_t *im = s->count < SMPDFU_IMG_SLOTINFO_MAX ? &s->images[s->count] : NULL;
    int rc = parse_slotinfo_image(d, im);
    if (rc == 0) {
        if (im) {
            s->count++;
        } else {
            s->dropped++;
        }
    }
    return rc;
}

int smpdfu_img_slot_info_parse(const smpdfu_rsp_t *r, smpdfu_img_slotinfo_t *s)
{
    if (!r || r->status != 0 || !r->payload || !s) {
        return SMPDFU_EINVAL;
    }
    memset(s, 0, sizeof(*s));
    smpdfu_cbor_slice_t images = {0};
    bool f_images = false;
    const smpdfu_cbor_field_t f[] = {{"images", SMPDFU_CBOR_ARRAY, &images, &f_images}};
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_dec_init(&d, r->payload, r->payload_len);
    if (smpdfu_cbor_decode_map(&d, f, 1) < 0) {
        return SMPDFU_EPROTO;
    }
    if (!f_images) {
        return SMPDFU_ENOTFOUND;
    }
    return each_elem(images, slotinfo_image_elem, s);
}
