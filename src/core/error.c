/* SPDX-License-Identifier: Apache-2.0 */
/* Names and sentences for smpdfu_err_t. A table, so adding a code is one line. */
#include "smpdfu/config.h"
#include "smpdfu/error.h"

#include <stddef.h>

struct err_text {
    int code;
    const char *name;
    const char *text;
};

/* SMPDFU_SENTENCE: NULL when built without sentences (smpdfu/config.h). */
#define E(c, t) { c, #c, SMPDFU_SENTENCE(t) }
static const struct err_text err_table[] = {
    E(SMPDFU_OK, "success"),
    E(SMPDFU_EINVAL, "invalid argument"),
    E(SMPDFU_ENOSPC, "buffer too small"),
    E(SMPDFU_ETRUNC, "input ended too early"),
    E(SMPDFU_EMALFORMED, "input is malformed"),
    E(SMPDFU_EDEPTH, "input is nested too deeply"),
    E(SMPDFU_ETYPE, "a value has the wrong type"),
    E(SMPDFU_ENOTFOUND, "a required item is missing"),
    E(SMPDFU_EDUPLICATE, "an item appears twice"),
    E(SMPDFU_ERANGE, "a number is out of range"),
    E(SMPDFU_ENOTSUP, "not supported"),
    E(SMPDFU_EBUSY, "busy with another operation"),
    E(SMPDFU_ESTATE, "not allowed in the current state"),
    E(SMPDFU_ECRC, "checksum mismatch"),
    E(SMPDFU_EBASE64, "invalid base64 text"),
    E(SMPDFU_EOVERSIZE, "frame or packet too large"),
    E(SMPDFU_EHEADER, "invalid SMP header"),
    E(SMPDFU_EIMG_TRUNC, "the image file is shorter than its header says"),
    E(SMPDFU_EIMG_MAGIC, "not an MCUboot image (bad header magic)"),
    E(SMPDFU_EIMG_HDR, "the image header is inconsistent"),
    E(SMPDFU_EIMG_TLV_MAGIC, "the image has no valid TLV area after its payload"),
    E(SMPDFU_EIMG_TLV_OVERRUN, "an image TLV runs past the end of its area"),
    E(SMPDFU_EIMG_NO_HASH, "the image carries no hash TLV"),
    E(SMPDFU_EIMG_DUP_HASH, "the image carries more than one hash TLV"),
    E(SMPDFU_EIMG_HASH_MISMATCH, "the image hash does not match its contents (corrupted image)"),
    E(SMPDFU_EIMG_PADDED, "the image is padded and already carries an MCUboot trailer; upload the unpadded signed image"),
    E(SMPDFU_EIMG_SIG, "the image signature does not verify"),
    E(SMPDFU_EIMG_TRAILING, "unexpected bytes after the image's TLV area"),
    E(SMPDFU_EIMG_TLV_LEN, "an image TLV has the wrong length for its type"),
    E(SMPDFU_EIMG_KEY, "the image's KEYHASH/PUBKEY TLV is missing or names a different signing key"),
    E(SMPDFU_EIMG_NO_SIG, "the image carries no signature TLV"),
    E(SMPDFU_EIMG_ENC, "the header says the image is encrypted but it carries no encrypted-key TLV"),
    E(SMPDFU_EHASH, "the hash function failed"),
    E(SMPDFU_ECRYPTO, "a cryptographic operation failed"),
    E(SMPDFU_EFLASH_BOUNDS, "flash access outside the area"),
    E(SMPDFU_EFLASH_ALIGN, "flash access not aligned"),
    E(SMPDFU_EFLASH_NOT_ERASED, "flash write over bytes that are not erased"),
    E(SMPDFU_EFLASH_IO, "flash storage failed"),
    E(SMPDFU_ETIMEOUT, "the device did not answer in time"),
    E(SMPDFU_EIO, "input/output error on the connection"),
    E(SMPDFU_EDEVICE, "the device reported an error"),
    E(SMPDFU_EPROTO, "the device's answer breaks the SMP protocol"),
    E(SMPDFU_ECANCELLED, "cancelled"),
    E(SMPDFU_ECLOSED, "the connection was closed"),
    E(SMPDFU_EMISMATCH, "the device reports something other than expected"),
    E(SMPDFU_ENOCONN, "cannot open or reach the connection"),
    E(SMPDFU_EUSAGE, "bad command line"),
    E(SMPDFU_EFILE, "a file could not be read or written"),
    E(SMPDFU_EBOOT_BADVECT, "the running slot's trailer magic is corrupt"),
    E(SMPDFU_EBOOT_BADIMAGE, "the slot's trailer magic is corrupt"),
    E(SMPDFU_EBOOT_NOT_BOOTABLE, "no valid image in the primary slot (the bootloader would halt)"),
    E(SMPDFU_EBOOT_PENDING, "another slot is already marked for the next boot"),
    E(SMPDFU_EBOOT_CONFIRM_DENIED, "that slot may not be confirmed: of an image that is not running only the secondary slot may"),
    E(SMPDFU_EBOOT_TEST_ACTIVE, "the running slot cannot be marked for a test boot"),
    E(SMPDFU_ENOTBOOTED, "the device does not run the new image after the reset (MCUboot kept or restored the old one)"),
    E(SMPDFU_ENOTCONFIRMED, "the device did not confirm the new image"),
    E(SMPDFU_ENOTINSLOT, "the uploaded image is not listed in the device's secondary slot"),
    E(SMPDFU_ESILENT, "the device stopped answering in the middle of the transfer"),
    E(SMPDFU_EAGAIN, "the image bytes are not there yet (the stream is still fetching them)"),
    E(SMPDFU_ENOSEEK, "the image source cannot go back to bytes it already passed (standard input cannot be read twice)"),
    E(SMPDFU_ECHANGED, "the image source gave different bytes when they were read again (the image changed during the transfer)"),
};
#undef E

static const struct err_text *find(int err)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
        if (err_table[i].code == err) {
            return &err_table[i];
        }
    }
    return NULL;
}

const char *smpdfu_err_name(int err)
{
    const struct err_text *e = find(err);
    return e ? e->name : "SMPDFU_EUNKNOWN";
}

const char *smpdfu_strerror(int err)
{
    const struct err_text *e = find(err);
#if SMPDFU_NO_SENTENCES
    /* No sentences: the name is the text (config.h). */
    return e ? e->name : "SMPDFU_EUNKNOWN";
#else
    return e ? e->text : "unknown error";
#endif
}
