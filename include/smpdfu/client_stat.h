/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — statistics group requests (group 2, Zephyr stat_mgmt). Request
 * functions build and send one request and return 0 or the engine's error
 * (SMPDFU_EBUSY, SMPDFU_EOVERSIZE, SMPDFU_ECLOSED, SMPDFU_EINVAL); cb gets
 * the response once. Parsers read a successful response in place: strings
 * point into it (valid during the callback). Parse errors: SMPDFU_EINVAL
 * (not a success), SMPDFU_EPROTO (wrong shape), SMPDFU_ENOTFOUND (key
 * missing). Device errors (err group 2): 2 invalid group, 3 invalid name.
 */
#ifndef SMPDFU_CLIENT_STAT_H
#define SMPDFU_CLIENT_STAT_H

#include "smpdfu/client.h"
#include "smpdfu/client_iter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* List (id 1) -> {"stat_list": [name, ...]}. Walk the names with
 * smpdfu_stat_list_next(): 1 with a name, 0 at the end, SMPDFU_EPROTO. */
int smpdfu_stat_list(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_stat_list_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_stat_list_next(smpdfu_rsp_iter_t *it, const char **name, size_t *len);

/* Show (id 0) {"name": group} -> {"name", "fields": {FIELD: uint}}. Walk the
 * fields with smpdfu_stat_field_next(). name: 1..31 bytes, else SMPDFU_EINVAL. */
int smpdfu_stat_show(smpdfu_client_t *c, const char *name, const smpdfu_req_opts_t *o,
                     smpdfu_rsp_fn cb, void *arg);
int smpdfu_stat_fields_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_stat_field_next(smpdfu_rsp_iter_t *it, const char **field, size_t *len, uint64_t *value);

#ifdef __cplusplus
}
#endif
#endif
