/* SPDX-License-Identifier: Apache-2.0 */
/* MCUboot's serial recovery SMP server (boot/boot_serial/src/boot_serial.c)
 * as the emulated bootloader answers it (protocol.md §19). */
#include "smpdfu/server_groups.h"

#include <string.h>

#include "smpdfu/image.h"

void smpdfu_bootserial_init(smpdfu_bootserial_t *b, const smpdfu_boot_cfg_t *boot, uint8_t *rsp,
                            size_t rsp_cap, uint8_t *work, size_t work_len)
{
    memset(b, 0, sizeof(*b));
    b->boot = boot;
    b->rsp = rsp;
    b->rsp_cap = rsp_cap;
    b->work = work;
    b->work_len = work_len;
    b->receive_size = 512;
    b->echo = true;
    b->params = true;
    b->hash = true;
    b->slot_info = true;
}

static void set_note(smpdfu_bootserial_t *b, const char *s)
{
    size_t n = strlen(s);
    if (n >= sizeof(b->note)) {
        n = sizeof(b->note) - 1;
    }
    memcpy(b->note, s, n);
    b->note[n] = 0;
}

/* bs_rc_rsp(): {"rc": rc}. */
static void put_rc(smpdfu_cbor_enc_t *e, int rc)
{
    smpdfu_cbor_put_tstrz(e, "rc");
    smpdfu_cbor_put_int(e, rc);
}

/* bs_list(): every slot holding a valid image (the same validation as a
 * boot), "image" only with two images, "hash" with IMG_GRP_HASH. */
static void bs_list(smpdfu_bootserial_t *b, smpdfu_cbor_enc_t *e)
{
    smpdfu_cbor_put_tstrz(e, "images");
    smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
    for (uint8_t img = 0; img < b->boot->image_count; img++) {
        for (uint8_t s = 0; s < 2; s++) {
            smpdfu_image_info_t info;
            char ver[32];
            uint8_t slot = (uint8_t)(2 * img + s);
            if (smpdfu_boot_validate(b->boot, slot, b->work, b->work_len, &info) != 0) {
                continue;
            }
            smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
            if (b->boot->image_count > 1) {
                smpdfu_cbor_put_tstrz(e, "image");
                smpdfu_cbor_put_uint(e, img);
            }
            smpdfu_cbor_put_tstrz(e, "slot");
            smpdfu_cbor_put_uint(e, s);
            if (b->hash && info.hash_len == 32) {
                smpdfu_cbor_put_tstrz(e, "hash");
                smpdfu_cbor_put_bstr(e, info.hash, 32);
            }
            /* bs_list_img_ver(): "1.2.3", ".build" only when non-zero. */
            smpdfu_image_version_t v = info.hdr.version;
            (void)smpdfu_image_version_str(&v, ver, sizeof(ver));
            char *plus = strchr(ver, '+');
            if (plus != NULL) {
                *plus = v.build != 0 ? '.' : 0;
            }
            smpdfu_cbor_put_tstrz(e, "version");
            smpdfu_cbor_put_tstrz(e, ver);
            smpdfu_cbor_put_break(e);
        }
    }
    smpdfu_cbor_put_break(e);
}

static void bs_slot_info(smpdfu_bootserial_t *b, smpdfu_cbor_enc_t *e)
{
    smpdfu_cbor_put_tstrz(e, "images");
    smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
    for (uint8_t img = 0; img < b->boot->image_count; img++) {
        smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
        smpdfu_cbor_put_tstrz(e, "image");
        smpdfu_cbor_put_uint(e, img);
        smpdfu_cbor_put_tstrz(e, "slots");
        smpdfu_cbor_array_begin(e, SMPDFU_CBOR_INDEF);
        for (uint8_t s = 0; s < 2; s++) {
            smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
            smpdfu_cbor_put_tstrz(e, "slot");
            smpdfu_cbor_put_uint(e, s);
            smpdfu_cbor_put_tstrz(e, "size");
            smpdfu_cbor_put_uint(e, b->boot->slot[2 * img + s].size);
            if (s == 0) {
                /* Without direct upload only the primary takes uploads. */
                smpdfu_cbor_put_tstrz(e, "upload_image_id");
                smpdfu_cbor_put_uint(e, img);
            }
            smpdfu_cbor_put_break(e);
        }
        smpdfu_cbor_put_break(e);
        smpdfu_cbor_put_break(e);
    }
    smpdfu_cbor_put_break(e);
}

/* bs_upload(). Returns the rc to answer; *off_out the offset to report. */
static int bs_upload(smpdfu_bootserial_t *b, smpdfu_cbor_dec_t *d)
{
    uint64_t image = 0, len = 0, off = 0;
    bool have_image = false, have_len = false, have_off = false, have_data = false;
    smpdfu_cbor_slice_t data = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"image", SMPDFU_CBOR_UINT, &image, &have_image},
                               {"data", SMPDFU_CBOR_BSTR, &data, &have_data},
                               {"len", SMPDFU_CBOR_UINT, &len, &have_len},
                               {"off", SMPDFU_CBOR_UINT, &off, &have_off}};
    const smpdfu_flash_t *fl = b->boot->flash;
    if (smpdfu_cbor_decode_map(d, f, 4) < 0 || image > UINT32_MAX) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (!have_off || !have_data) {
        return SMPDFU_MGMT_EINVAL; /* "Offset must be set in every block" */
    }
    if (off == 0) {
        b->img_num = have_image ? (uint32_t)image : 0;
    }
    /* MCUboot's bound is "> BOOT_IMAGE_NUMBER" (ENOENT); the image number
     * equal to the count fails to open its area instead (EINVAL). */
    if (b->img_num > b->boot->image_count) {
        return SMPDFU_MGMT_ENOENT;
    }
    if (b->img_num == b->boot->image_count) {
        return SMPDFU_MGMT_EINVAL;
    }
    const smpdfu_flash_area_t *a = &b->boot->slot[2 * b->img_num];
    size_t chunk = data.len;
    if (off == 0) {
        b->curr_off = 0;
        /* A missing "len" is SIZE_MAX there: larger than the slot. */
        if (!have_len || len > a->size) {
            return SMPDFU_MGMT_EINVAL;
        }
        if (smpdfu_flash_area_erase(fl, a, 0, a->size) != 0) {
            return SMPDFU_MGMT_EINVAL;
        }
        b->img_size = (uint32_t)len;
    } else if (off != b->curr_off) {
        return 0; /* answered with rc 0 and the expected offset */
    } else if (b->curr_off + chunk > b->img_size) {
        return SMPDFU_MGMT_EINVAL;
    }
    /* Writes are whole write units; a partial unit is dropped (and asked
     * again through "off") unless it is the end of the image. Note that the
     * first chunk is not checked against the length. */
    size_t align = fl->write_align;
    size_t rem = chunk % align;
    size_t whole = chunk - rem;
    if (b->curr_off + whole + rem < b->img_size) {
        rem = 0;
    }
    if (whole > 0 && smpdfu_flash_area_write(fl, a, b->curr_off, data.ptr, whole) != 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (rem > 0) {
        uint8_t pad[SMPDFU_FLASH_MAX_ALIGN];
        memset(pad, fl->erased_val, sizeof(pad));
        memcpy(pad, data.ptr + whole, rem);
        if (smpdfu_flash_area_write(fl, a, b->curr_off + (uint32_t)whole, pad, align) != 0) {
            return SMPDFU_MGMT_EINVAL;
        }
    }
    b->curr_off += (uint32_t)(whole + rem);
    return 0;
}

static bool echo_body(smpdfu_cbor_dec_t *d, smpdfu_cbor_slice_t *v)
{
    smpdfu_cbor_field_t f[] = {{"d", SMPDFU_CBOR_TSTR, v, NULL}};
    return smpdfu_cbor_decode_map(d, f, 1) == 0;
}

int smpdfu_bootserial_process(smpdfu_bootserial_t *b, const uint8_t *pkt, size_t len,
                              smpdfu_server_send_fn send, void *send_ctx)
{
    smpdfu_smp_hdr_t h;
    smpdfu_cbor_enc_t enc;
    smpdfu_cbor_dec_t dec;
    int rc = 0;
    bool list = false;
    b->note[0] = 0;
    /* boot_serial_input(): too short, an op other than read/write, or a
     * length field shorter than what came: no answer at all. */
    if (smpdfu_smp_hdr_decode(pkt, len, &h) < 0 ||
        (h.op != SMPDFU_OP_READ && h.op != SMPDFU_OP_WRITE) || h.len < len - SMPDFU_SMP_HDR_LEN) {
        if (b->on_event != NULL) {
            smpdfu_server_event_t ev;
            memset(&ev, 0, sizeof(ev));
            ev.note = "dropped by boot_serial";
            b->on_event(b->event_ctx, &ev);
        }
        return 0;
    }
    smpdfu_cbor_dec_init(&dec, pkt + SMPDFU_SMP_HDR_LEN, len - SMPDFU_SMP_HDR_LEN);
    smpdfu_cbor_enc_init(&enc, b->rsp + SMPDFU_SMP_HDR_LEN, b->rsp_cap - SMPDFU_SMP_HDR_LEN);
    smpdfu_cbor_map_begin(&enc, SMPDFU_CBOR_INDEF);
    const char *cmd = NULL;
    if (h.group == SMPDFU_GROUP_IMAGE && h.id == SMPDFU_IMG_STATE) {
        cmd = "img state";
        if (h.op == SMPDFU_OP_READ) {
            bs_list(b, &enc);
            list = true;
        } else {
            rc = SMPDFU_MGMT_ENOTSUP; /* no IMG_GRP_IMAGE_STATE */
        }
    } else if (h.group == SMPDFU_GROUP_IMAGE && h.id == SMPDFU_IMG_UPLOAD) {
        /* MCUboot does not look at the op here. */
        cmd = "img upload";
        rc = bs_upload(b, &dec);
        put_rc(&enc, rc);
        if (rc == 0) {
            smpdfu_cbor_put_tstrz(&enc, "off");
            smpdfu_cbor_put_uint(&enc, b->curr_off);
        }
        list = true; /* already complete */
    } else if (h.group == SMPDFU_GROUP_IMAGE && h.id == SMPDFU_IMG_SLOT_INFO && b->slot_info) {
        cmd = "img slot-info";
        if (h.op != SMPDFU_OP_READ) {
            rc = SMPDFU_MGMT_ENOTSUP;
        } else {
            bs_slot_info(b, &enc);
            list = true;
        }
    } else if (h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_ECHO && b->echo) {
        smpdfu_cbor_slice_t v = {NULL, 0};
        cmd = "os echo";
        if (!echo_body(&dec, &v)) {
            rc = SMPDFU_MGMT_EINVAL;
        } else {
            smpdfu_cbor_put_tstrz(&enc, "r");
            smpdfu_cbor_put_tstr(&enc, (const char *)v.ptr, v.len);
            list = true;
        }
    } else if (h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_CONSOLE_ECHO) {
        cmd = "os console-echo";
        put_rc(&enc, 0);
        list = true;
    } else if (h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_RESET) {
        cmd = "os reset";
        put_rc(&enc, 0);
        list = true;
        b->reset_requested = true;
    } else if (h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_PARAMS && b->params) {
        cmd = "os params";
        smpdfu_cbor_put_tstrz(&enc, "buf_size");
        smpdfu_cbor_put_uint(&enc, b->receive_size);
        smpdfu_cbor_put_tstrz(&enc, "buf_count");
        smpdfu_cbor_put_uint(&enc, 1);
        list = true;
    } else {
        rc = SMPDFU_MGMT_ENOTSUP;
    }
    if (!list) {
        enc.len = 0;
        enc.err = 0;
        smpdfu_cbor_map_begin(&enc, SMPDFU_CBOR_INDEF);
        put_rc(&enc, rc);
    }
    smpdfu_cbor_put_break(&enc);
    if (enc.err) {
        enc.len = 0;
        enc.err = 0;
        smpdfu_cbor_map_begin(&enc, SMPDFU_CBOR_INDEF);
        put_rc(&enc, SMPDFU_MGMT_ENOMEM);
        smpdfu_cbor_put_break(&enc);
    }
    /* boot_serial_output(): op + 1, flags 0, the rest of the header as it came. */
    smpdfu_smp_hdr_t rh = h;
    rh.op = (uint8_t)(h.op + 1);
    rh.flags = 0;
    rh.len = (uint16_t)enc.len;
    smpdfu_smp_hdr_encode(&rh, b->rsp);
    if (h.group == SMPDFU_GROUP_IMAGE && h.id == SMPDFU_IMG_UPLOAD) {
        char tmp[64];
        size_t n = 0;
        const char *w = rc == 0 ? "-> off " : "-> refused";
        while (*w && n < sizeof(tmp) - 12) {
            tmp[n++] = *w++;
        }
        if (rc == 0) {
            char dg[12];
            size_t k = 0;
            uint32_t v = b->curr_off;
            do {
                dg[k++] = (char)('0' + v % 10);
                v /= 10;
            } while (v != 0);
            while (k > 0) {
                tmp[n++] = dg[--k];
            }
        }
        tmp[n] = 0;
        set_note(b, tmp);
    }
    int ret = send(send_ctx, b->rsp, SMPDFU_SMP_HDR_LEN + enc.len);
    if (b->on_event != NULL) {
        smpdfu_server_event_t ev;
        memset(&ev, 0, sizeof(ev));
        ev.hdr = &h;
        ev.group_name = "boot_serial";
        ev.cmd_name = cmd;
        ev.rc = rc;
        ev.answered = ret >= 0;
        ev.note = b->note;
        b->on_event(b->event_ctx, &ev);
    }
    if (b->reset_requested) {
        b->reset_requested = false;
        if (b->on_reset != NULL) {
            b->on_reset(b->reset_ctx);
        }
    }
    return ret < 0 ? ret : 1;
}
