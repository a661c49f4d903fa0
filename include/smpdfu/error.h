/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — local error codes.
 *
 * Every smpdfu function that can fail returns one of these (negative) values,
 * or 0 / a non-negative count on success. Nothing returns a bare -1.
 * Errors reported *by the device* (SMP `rc` or v2 `err {group, rc}`) are not
 * in this enum: they arrive as SMPDFU_EDEVICE plus a smpdfu_dev_err_t (see
 * smp.h), so the caller can tell "we failed" from "the device said no".
 *
 * One kind of function returns the wire's codes instead, because its result
 * is the answer: an SMP command handler (smpdfu_server_handler_fn) and the
 * port hooks it calls return MGMT_ERR_* or a group's *_MGMT_ERR_* (> 0),
 * as server.h and server_groups.h say at each. The functions around them
 * (e.g. smpdfu_img_set_next_boot_slot()) return these negative codes, and
 * the handler maps them (smpdfu_img_mgmt_err()).
 *
 * Values are stable: they may be printed, logged and compared across builds.
 * New codes are only ever added, never renumbered.
 */
#ifndef SMPDFU_ERROR_H
#define SMPDFU_ERROR_H

#include "smpdfu/config.h" /* build switches: every header sees them */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SMPDFU_OK = 0,

    /* Generic (-1 .. -19) */
    SMPDFU_EINVAL = -1,        /* an argument is out of range or NULL */
    SMPDFU_ENOSPC = -2,        /* a caller-owned buffer is too small */
    SMPDFU_ETRUNC = -3,        /* input ended before the item was complete */
    SMPDFU_EMALFORMED = -4,    /* input is not well formed */
    SMPDFU_EDEPTH = -5,        /* nesting deeper than the configured limit */
    SMPDFU_ETYPE = -6,         /* a value has an unexpected type */
    SMPDFU_ENOTFOUND = -7,     /* a required item is missing */
    SMPDFU_EDUPLICATE = -8,    /* an item that must be unique appears twice */
    SMPDFU_ERANGE = -9,        /* a number does not fit where it must go */
    SMPDFU_ENOTSUP = -10,      /* feature or variant not supported */
    SMPDFU_EBUSY = -11,        /* the object is busy with another operation */
    SMPDFU_ESTATE = -12,       /* the call is not allowed in the current state */

    /* Framing (-20 .. -29) */
    SMPDFU_ECRC = -20,         /* checksum mismatch */
    SMPDFU_EBASE64 = -21,      /* invalid base64 text */
    SMPDFU_EOVERSIZE = -22,    /* frame or packet larger than allowed */
    SMPDFU_EHEADER = -23,      /* SMP header invalid (reserved bits, version) */

    /* MCUboot images (-30 .. -49) */
    SMPDFU_EIMG_TRUNC = -30,       /* file shorter than its header says */
    SMPDFU_EIMG_MAGIC = -31,       /* header magic is not 0x96f3b83d */
    SMPDFU_EIMG_HDR = -32,         /* header fields are inconsistent */
    SMPDFU_EIMG_TLV_MAGIC = -33,   /* TLV info magic missing or wrong */
    SMPDFU_EIMG_TLV_OVERRUN = -34, /* a TLV runs past its area or the file */
    SMPDFU_EIMG_NO_HASH = -35,     /* no SHA-256/384/512 TLV */
    SMPDFU_EIMG_DUP_HASH = -36,    /* more than one hash TLV */
    SMPDFU_EIMG_HASH_MISMATCH = -37, /* computed hash differs from the TLV */
    SMPDFU_EIMG_PADDED = -38,      /* file carries an MCUboot trailer (imgtool --pad) */
    SMPDFU_EIMG_SIG = -39,         /* signature does not verify */
    SMPDFU_EIMG_TRAILING = -40,    /* unexpected bytes after the TLV area */
    SMPDFU_EIMG_TLV_LEN = -41,     /* a TLV has the wrong length for its type */
    SMPDFU_EIMG_KEY = -42,         /* KEYHASH/PUBKEY missing or not the given key */
    SMPDFU_EIMG_NO_SIG = -43,      /* a signature was asked for but the image has none */
    SMPDFU_EIMG_ENC = -44,         /* header says encrypted but no encrypted-key TLV */

    /* Hash / crypto hook (-50 .. -59) */
    SMPDFU_EHASH = -50,        /* the hash hook failed */
    SMPDFU_ECRYPTO = -51,      /* signature/key operation failed */

    /* Flash (-60 .. -69) */
    SMPDFU_EFLASH_BOUNDS = -60,  /* access outside the flash area */
    SMPDFU_EFLASH_ALIGN = -61,   /* offset/length not aligned as the flash needs */
    SMPDFU_EFLASH_NOT_ERASED = -62, /* write over bytes that are not erased (NOR rule) */
    SMPDFU_EFLASH_IO = -63,      /* the backing store failed */

    /* Link / session (-70 .. -89) */
    SMPDFU_ETIMEOUT = -70,     /* no answer within the timeout, retries used up */
    SMPDFU_EIO = -71,          /* the port failed to send or receive */
    SMPDFU_EDEVICE = -72,      /* the device answered with an error (see smpdfu_dev_err_t) */
    SMPDFU_EPROTO = -73,       /* the device's answer breaks the protocol */
    SMPDFU_ECANCELLED = -74,   /* the operation was cancelled */
    SMPDFU_ECLOSED = -75,      /* the link went away */
    SMPDFU_EMISMATCH = -76,    /* the device reports something other than expected */
    SMPDFU_ENOCONN = -77,      /* cannot open or reach the connection */

    /* Command line / host (-90 .. -99) */
    SMPDFU_EUSAGE = -90,       /* bad command line */
    SMPDFU_EFILE = -91,        /* a file could not be read or written */

    /* Server / boot emulation (-100 .. -109) */
    SMPDFU_EBOOT_BADVECT = -100,  /* running slot's trailer magic is corrupt (BOOT_EBADVECT) */
    SMPDFU_EBOOT_BADIMAGE = -101, /* slot's trailer magic is corrupt (BOOT_EBADIMAGE) */
    SMPDFU_EBOOT_NOT_BOOTABLE = -102, /* no valid image in the primary slot: MCUboot halts */
    SMPDFU_EBOOT_PENDING = -103,  /* another slot is already marked for the next boot */
    SMPDFU_EBOOT_CONFIRM_DENIED = -104, /* that slot may not be confirmed (not running, not a secondary) */
    SMPDFU_EBOOT_TEST_ACTIVE = -105, /* the running slot cannot be marked for a test boot */

    /* Client / DFU (-110 .. -119) */
    SMPDFU_ENOTBOOTED = -110,    /* after the reset the device does not run the new image */
    SMPDFU_ENOTCONFIRMED = -111, /* the device did not confirm the image */
    SMPDFU_ENOTINSLOT = -112,    /* after the upload the image is not in the secondary slot */
    SMPDFU_ESILENT = -113,       /* the device stopped answering for longer than allowed */

    /* Streamed sources (-120 .. -129) */
    SMPDFU_EAGAIN = -120,        /* the bytes are not there yet (a streamed source is fetching them) */
    SMPDFU_ENOSEEK = -121,       /* the source cannot go back to bytes it already passed (stdin) */
    SMPDFU_ECHANGED = -122,      /* the source gave different bytes when read again */
} smpdfu_err_t;

/* Stable identifier of an error code, e.g. "SMPDFU_ECRC". Never NULL. */
const char *smpdfu_err_name(int err);

/* One sentence a person understands, e.g. "checksum mismatch". Never NULL;
 * unknown codes give "unknown error". Built with SMPDFU_NO_SENTENCES
 * (config.h): the name instead, as smpdfu_err_name() ("SMPDFU_EUNKNOWN" for
 * an unknown code). */
const char *smpdfu_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_ERROR_H */
