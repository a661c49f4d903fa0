/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/client: request and response pieces the group modules
 * (enum.c, fs.c, img.c, os.c, settings.c) share. */
#ifndef SMPDFU_CLIENT_GRP_UTIL_H
#define SMPDFU_CLIENT_GRP_UTIL_H

#include "smpdfu/cbor.h"
#include "smpdfu/client.h"

/* Begin a request whose body is a map of `pairs` pairs; the caller adds
 * them through smpdfu_req_enc(*r). Returns smpdfu_client_req_begin()'s
 * result. */
int smpdfu_grp_begin_map(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                         uint64_t pairs, smpdfu_req_t **r);

/* Send a request whose body is {} (Zephyr wants a map, never an empty body). */
int smpdfu_grp_send_empty(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                          const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);

/* Begin a request with "name": name as the first pair (pairs counts it).
 * SMPDFU_EINVAL for a NULL or empty name. */
int smpdfu_grp_begin_named(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                           const char *name, uint64_t pairs, smpdfu_req_t **r);

/* Decode the fields f[0..n) of a successful response's top-level map.
 * SMPDFU_EINVAL: not a success, or no payload; SMPDFU_EPROTO: malformed. */
int smpdfu_grp_fields(const smpdfu_rsp_t *r, const smpdfu_cbor_field_t *f, size_t n);

/* A successful response's unsigned field `key`, which must be there and fit
 * 32 bits: 0, the errors above, SMPDFU_ENOTFOUND (absent) or SMPDFU_EPROTO
 * (too large). *v is written only on success. */
int smpdfu_grp_u32(const smpdfu_rsp_t *r, const char *key, uint32_t *v);

/* A successful response's field `key` of string type (SMPDFU_CBOR_TSTR or
 * _BSTR), which must be there: 0 with *v pointing into the payload, the
 * errors of smpdfu_grp_fields() or SMPDFU_ENOTFOUND. */
int smpdfu_grp_str(const smpdfu_rsp_t *r, const char *key, smpdfu_cbor_type_t type,
                   smpdfu_cbor_slice_t *v);

#endif /* SMPDFU_CLIENT_GRP_UTIL_H */
