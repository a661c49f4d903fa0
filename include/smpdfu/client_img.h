/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — image management group requests (group 1, protocol.md §4) for
 * the client engine: state read/write (test, confirm), erase, slot info.
 * Upload lives in upload.h. Same conventions as client_os.h: request
 * functions return 0 or the engine's error and call cb once; parse functions
 * read a successful response (SMPDFU_EPROTO for a malformed one).
 */
#ifndef SMPDFU_CLIENT_IMG_H
#define SMPDFU_CLIENT_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Slots a parsed state keeps (4 images x 2 slots); more are counted in
 * `dropped`. */
#ifndef SMPDFU_IMG_STATE_MAX
#define SMPDFU_IMG_STATE_MAX 8
#endif

/* One entry of the state read "images" list. Absent flags read as false
 * (FRUGAL_LIST servers omit false ones). */
typedef struct {
    uint32_t image;     /* 0 when the device omits "image" (single image) */
    uint32_t slot;      /* 0 primary, 1 secondary (within the image) */
    char version[32];   /* as sent, NUL-terminated (truncated if longer) */
    uint8_t hash[32];
    uint8_t hash_len;   /* 0 when absent */
    bool bootable;
    bool pending;
    bool confirmed;
    bool active;
    bool permanent;
} smpdfu_img_slot_t;

typedef struct {
    smpdfu_img_slot_t slots[SMPDFU_IMG_STATE_MAX];
    size_t count;
    size_t dropped;
    bool has_split_status;
    int64_t split_status;
} smpdfu_img_state_t;

int smpdfu_img_state_read(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                          void *arg);

/* State write: test = (hash, confirm false); confirm = (hash or NULL,
 * confirm true). hash_len is normally 32. The success response is the state
 * map, so smpdfu_img_state_parse() works on it too. */
int smpdfu_img_state_write(smpdfu_client_t *c, const uint8_t *hash, size_t hash_len, bool confirm,
                           const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);

/* Parse a state response (definite or indefinite CBOR, any key order). */
int smpdfu_img_state_parse(const smpdfu_rsp_t *r, smpdfu_img_state_t *s);
int smpdfu_img_state_parse_buf(const uint8_t *cbor, size_t len, smpdfu_img_state_t *s);

/* The entry of `image` holding this 32-byte hash, or NULL. */
const smpdfu_img_slot_t *smpdfu_img_state_find(const smpdfu_img_state_t *s, uint32_t image,
                                               const uint8_t *hash);
/* The entry of (image, slot), or NULL. */
const smpdfu_img_slot_t *smpdfu_img_state_slot(const smpdfu_img_state_t *s, uint32_t image,
                                               uint32_t slot);
/* The active entry of image, or NULL. */
const smpdfu_img_slot_t *smpdfu_img_state_active(const smpdfu_img_state_t *s, uint32_t image);

/* Erase: slot < 0 sends {} (device default: the non-running slot). */
int smpdfu_img_erase(smpdfu_client_t *c, int32_t slot, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg);

/* Slot info. */
#ifndef SMPDFU_IMG_SLOTINFO_MAX
#define SMPDFU_IMG_SLOTINFO_MAX 4
#endif
typedef struct {
    uint32_t slot;
    uint32_t size;
    bool has_upload_image_id;
    uint32_t upload_image_id;
    bool has_rc;
    int32_t rc;
} smpdfu_img_slotinfo_slot_t;

typedef struct {
    uint32_t image;
    smpdfu_img_slotinfo_slot_t slots[2];
    size_t nslots;
    bool has_max_image_size;
    uint32_t max_image_size;
} smpdfu_img_slotinfo_image_t;

typedef struct {
    smpdfu_img_slotinfo_image_t images[SMPDFU_IMG_SLOTINFO_MAX];
    size_t count;
    size_t dropped;
} smpdfu_img_slotinfo_t;

int smpdfu_img_slot_info(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                         void *arg);
int smpdfu_img_slot_info_parse(const smpdfu_rsp_t *r, smpdfu_img_slotinfo_t *s);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CLIENT_IMG_H */
