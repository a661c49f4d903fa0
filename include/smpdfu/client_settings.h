/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — settings group requests (group 3, Zephyr settings_mgmt). Request
 * functions return 0 or the engine's error (SMPDFU_EBUSY, SMPDFU_EOVERSIZE,
 * SMPDFU_ECLOSED, SMPDFU_EINVAL for an empty name or NULL value); cb gets
 * the response once. Load, save and commit answer {} (a success with
 * nothing to parse). Device errors (err group 3): 2 key too long, 3 key not
 * found, 4 read not supported, 5 root key not found, 6 write, 7 delete, 8
 * save not supported.
 */
#ifndef SMPDFU_CLIENT_SETTINGS_H
#define SMPDFU_CLIENT_SETTINGS_H

#include "smpdfu/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Read (id 0, read) {"name", ["max_size"]} -> {"val": bytes, ["max_size"]}.
 * max_size 0: not sent (the device's limit). */
int smpdfu_settings_read(smpdfu_client_t *c, const char *name, uint32_t max_size,
                         const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
/* The value points into the response (valid during the callback). */
int smpdfu_settings_read_parse(const smpdfu_rsp_t *r, const uint8_t **val, size_t *len);

/* Write (id 0, write) {"name", "val": bytes}. */
int smpdfu_settings_write(smpdfu_client_t *c, const char *name, const uint8_t *val, size_t len,
                          const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
/* Delete (id 1, write) {"name"}: removes the stored value. */
int smpdfu_settings_delete(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                           smpdfu_rsp_fn cb, void *arg);
/* Commit (id 2, write), load (id 3, read), save (id 3, write): body {}.
 * (_req: the server side has smpdfu_settings_load().) */
int smpdfu_settings_commit_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                           void *arg);
int smpdfu_settings_load_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_settings_save_req(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
