/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/client: smpdfu_req_opts_t handling shared by the group
 * request helpers (img.c, os.c). A NULL opts means the engine's defaults. */
#ifndef SMPDFU_CLIENT_REQ_OPTS_H
#define SMPDFU_CLIENT_REQ_OPTS_H

#include "smpdfu/client.h"

static inline uint32_t smpdfu_opt_timeout(const smpdfu_req_opts_t *o)
{
    return o ? o->timeout_ms : 0;
}

static inline int smpdfu_opt_retries(const smpdfu_req_opts_t *o)
{
    return o ? o->retries : -1;
}

static inline smpdfu_req_t **smpdfu_opt_out(const smpdfu_req_opts_t *o)
{
    return o ? o->out : NULL;
}

/* Send a begun request and hand its slot to o->out. */
static inline int smpdfu_opt_send(smpdfu_client_t *c, smpdfu_req_t *r, const smpdfu_req_opts_t *o,
                                  smpdfu_rsp_fn cb, void *arg)
{
    int rc = smpdfu_client_req_send(c, r, smpdfu_opt_timeout(o), smpdfu_opt_retries(o), 0, cb, arg);
    if (rc == 0 && smpdfu_opt_out(o)) {
        *smpdfu_opt_out(o) = r;
    }
    return rc;
}

/* A request with an empty map body ({}), in one call. */
static inline int smpdfu_opt_request(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                                     const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return smpdfu_client_request(c, op, group, id, NULL, 0, smpdfu_opt_timeout(o),
                                 smpdfu_opt_retries(o), cb, arg, smpdfu_opt_out(o));
}

#endif /* SMPDFU_CLIENT_REQ_OPTS_H */
