/* SPDX-License-Identifier: Apache-2.0 */
/* What the three files of the image group share (private to src/server):
 *   img_grp.c    dispatch, slot state and the next-boot decision, state
 *                read/write, erase, slot info;
 *   img_upload.c the upload command and the session it writes into;
 *   img_record.c the progress record (the flash page that lets an upload
 *                resume after a restart).
 * The record's checksum is the core's CRC-32 (smpdfu_crc32, uplink.h).
 * Functions here return 0 or a negative smpdfu_err_t; the command handlers
 * turn what they get into IMG_MGMT_ERR_* codes for the answer. */
#ifndef SMPDFU_SERVER_IMG_PRIV_H
#define SMPDFU_SERVER_IMG_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smpdfu/config.h"
#include "smpdfu/server.h"

/* The log notes (req.note) are the only printf here: a build without printf
 * leaves them empty (config.h). */
#if SMPDFU_NO_PRINTF
static inline void smpdfu_img_note_drop(char *buf, size_t cap, const char *fmt, ...)
{
    (void)buf;
    (void)cap;
    (void)fmt;
}
#define NOTE(...) smpdfu_img_note_drop(__VA_ARGS__)
#else
#define NOTE(...) ((void)snprintf(__VA_ARGS__))
#endif

#define IMAGE_HASH_LEN 32
#define SLOT_NONE (-1)

static inline int img_nslots(const smpdfu_img_group_t *img)
{
    return 2 * img->boot->image_count;
}

static inline const smpdfu_flash_t *img_fl(const smpdfu_img_group_t *img)
{
    return img->boot->flash;
}

static inline const smpdfu_flash_area_t *img_area(const smpdfu_img_group_t *img, int slot)
{
    return &img->boot->slot[slot];
}

/* The running image is image 0 (the application core); in every swap mode it
 * runs from its primary slot. */
static inline int img_active_image(void)
{
    return 0;
}

static inline int img_active_slot(int image)
{
    return image * 2;
}

static inline int img_opposite_slot(int slot)
{
    return slot ^ 1;
}

/* img_record.c */

/* Smallest progress area the record fits in (header and one entry). */
uint32_t smpdfu_img_rec_min_size(const smpdfu_img_group_t *img);

/* Start a record for the new session in img->s (after its slot was erased),
 * and append an entry once `flushed` bytes are on flash. Failures only cost
 * the resume extension, never the upload: they switch the record off. */
void smpdfu_img_rec_start(smpdfu_img_group_t *img);
void smpdfu_img_rec_progress(smpdfu_img_group_t *img, uint32_t flushed);

/* img_upload.c: the upload command (write op of SMPDFU_IMG_UPLOAD). */
int smpdfu_img_upload_cmd(smpdfu_server_req_t *r, void *ctx);

#endif /* SMPDFU_SERVER_IMG_PRIV_H */
