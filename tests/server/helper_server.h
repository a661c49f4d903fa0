/* SPDX-License-Identifier: Apache-2.0 */
/* Shared fixtures for the server unit tests: a RAM flash device with one or
 * two images, an in-memory image builder, and a request/response helper. */
#ifndef HELPER_SERVER_H
#define HELPER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/boot.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/server.h"

#define H_SLOT (32u * 1024u)
#define H_PAGE 1024u
#define H_MAXRSP 2048

typedef struct {
    uint8_t mem[5 * H_SLOT + H_PAGE];
    smpdfu_ram_flash_t ram;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t hash;
    smpdfu_boot_cfg_t boot;
    smpdfu_flash_area_t progress;
    uint8_t work[2 * H_PAGE];
    uint8_t rsp[H_MAXRSP];
    smpdfu_server_t srv;
    smpdfu_os_group_t os;
    smpdfu_img_group_t img;
    int resets;
    /* last responses */
    uint8_t out[8][H_MAXRSP];
    size_t out_len[8];
    int nout;
} h_dev_t;

/* Fresh device: images 1 or 2, mode; flash erased. */
void h_dev_init(h_dev_t *d, int images, smpdfu_boot_mode_t mode, size_t buf_size);
/* Restart the server over the same flash (as after a reboot, without boot). */
void h_dev_restart(h_dev_t *d);
void h_dev_free(h_dev_t *d);

/* Build an unsigned MCUboot image in out; returns its size. hash gets the
 * SHA-256 TLV value, sha the SHA-256 of the whole file (either may be NULL). */
size_t h_make_image(uint8_t *out, size_t cap, uint8_t major, uint8_t minor, uint32_t payload,
                    uint8_t seed, uint8_t hash[32], uint8_t sha[32]);

/* Write an image straight into a slot (factory programming). */
void h_program(h_dev_t *d, int slot, const uint8_t *img, size_t len);

/* Send one request; returns the number of responses. */
int h_request(h_dev_t *d, uint8_t version, uint8_t op, uint16_t group, uint8_t id,
              const uint8_t *payload, size_t len);
/* Feed a raw packet. */
int h_packet(h_dev_t *d, const uint8_t *pkt, size_t len);

/* Look at response i: returns its CBOR payload and the header. */
const uint8_t *h_rsp(h_dev_t *d, int i, smpdfu_smp_hdr_t *h, size_t *len);
/* rc of a {"rc": n} response, -1 if none. */
int64_t h_rsp_rc(h_dev_t *d, int i);
/* err.rc of a v2 {"err": {...}} response, -1 if none; group via *group. */
int64_t h_rsp_err(h_dev_t *d, int i, uint64_t *group);
/* A uint key of the top map, -1 if absent. */
int64_t h_rsp_uint(h_dev_t *d, int i, const char *key);

/* Upload a whole image through the server in chunks; returns final off. */
int64_t h_upload(h_dev_t *d, const uint8_t *img, size_t len, const uint8_t *sha, size_t chunk);

#endif
