/* SPDX-License-Identifier: Apache-2.0 */
/* SMP dispatcher and group registry, following Zephyr's smp.c
 * (smp_process_request_packet and friends), protocol.md §1.5/§2. */
#include "smpdfu/server.h"

#include <string.h>

int smpdfu_server_init(smpdfu_server_t *s, uint8_t *rsp, size_t rsp_cap)
{
    if (s == NULL || rsp == NULL || rsp_cap < 16) {
        return SMPDFU_EINVAL;
    }
    memset(s, 0, sizeof(*s));
    s->rsp = rsp;
    s->rsp_cap = rsp_cap;
    return 0;
}

static smpdfu_server_group_t *find_group(const smpdfu_server_t *s, uint16_t id)
{
    for (smpdfu_server_group_t *g = s->groups; g != NULL; g = g->next) {
        if (g->id == id) {
            return g;
        }
    }
    return NULL;
}

int smpdfu_server_register(smpdfu_server_t *s, smpdfu_server_group_t *g)
{
    if (s == NULL || g == NULL || (g->handlers == NULL && g->handler_count != 0) ||
        find_group(s, g->id) != NULL) {
        return SMPDFU_EINVAL;
    }
    smpdfu_server_group_t **tail = &s->groups;
    for (smpdfu_server_group_t *x = s->groups; x != NULL; x = x->next) {
        if (x == g) {
            return SMPDFU_EINVAL;
        }
        tail = &x->next;
    }
    /* Appended: Zephyr's enum group lists groups in registration order. */
    g->next = NULL;
    *tail = g;
    return 0;
}

int smpdfu_server_unregister(smpdfu_server_t *s, smpdfu_server_group_t *g)
{
    if (s == NULL || g == NULL) {
        return SMPDFU_EINVAL;
    }
    for (smpdfu_server_group_t **p = &s->groups; *p != NULL; p = &(*p)->next) {
        if (*p == g) {
            *p = g->next;
            g->next = NULL;
            return 0;
        }
    }
    return SMPDFU_ENOTFOUND;
}

void smpdfu_server_request_reset(smpdfu_server_t *s)
{
    s->reset_requested = true;
}

int smpdfu_server_add_err(smpdfu_server_req_t *req, uint16_t group, uint16_t rc)
{
    smpdfu_cbor_enc_t *e = req->enc;
    if (rc == 0) {
        return 0;
    }
    req->err_group = group;
    req->err_rc = rc;
    smpdfu_cbor_put_tstrz(e, "err");
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    smpdfu_cbor_put_tstrz(e, "group");
    smpdfu_cbor_put_uint(e, group);
    smpdfu_cbor_put_tstrz(e, "rc");
    smpdfu_cbor_put_uint(e, rc);
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static void put_hdr(smpdfu_server_t *s, const smpdfu_smp_hdr_t *req, size_t len)
{
    smpdfu_smp_hdr_t h;
    h.op = smpdfu_smp_rsp_op(req->op);
    h.version = req->version > SMPDFU_SMP_V2 ? SMPDFU_SMP_V2 : req->version;
    h.flags = 0;
    h.len = (uint16_t)len;
    h.group = req->group;
    h.seq = req->seq;
    h.id = req->id;
    smpdfu_smp_hdr_encode(&h, s->rsp);
}

static const char *cmd_name(const smpdfu_server_group_t *g, uint8_t id)
{
    if (g == NULL || g->cmd_names == NULL || id >= g->handler_count) {
        return NULL;
    }
    return g->cmd_names[id];
}

/* One request; on success the response is complete in s->rsp and its length
 * is stored in *out_len. Returns an MGMT_ERR_* value. */
static int handle_single(smpdfu_server_t *s, const smpdfu_smp_hdr_t *h, const uint8_t *payload,
                         smpdfu_server_req_t *req, size_t *out_len)
{
    smpdfu_cbor_enc_t enc;
    smpdfu_server_group_t *g;
    smpdfu_server_handler_fn fn = NULL;
    int rc;

    if (h->version > SMPDFU_SMP_V2) {
        return SMPDFU_MGMT_UNSUPPORTED_TOO_NEW;
    }
    g = find_group(s, h->group);
    if (g != NULL && h->id < g->handler_count) {
        fn = h->op == SMPDFU_OP_READ ? g->handlers[h->id].read : g->handlers[h->id].write;
    }
    if (fn == NULL) {
        return SMPDFU_MGMT_ENOTSUP;
    }
    smpdfu_cbor_enc_init(&enc, s->rsp + SMPDFU_SMP_HDR_LEN, s->rsp_cap - SMPDFU_SMP_HDR_LEN);
    req->enc = &enc;
    smpdfu_cbor_dec_init(&req->dec, payload, h->len);
    smpdfu_cbor_map_begin(&enc, SMPDFU_CBOR_INDEF);
    if (enc.err) {
        return SMPDFU_MGMT_EMSGSIZE;
    }
    rc = fn(req, g->ctx);
    smpdfu_cbor_put_break(&enc);
    if (rc == 0 && enc.err) {
        rc = SMPDFU_MGMT_EMSGSIZE;
    }
    if (rc != 0) {
        return rc;
    }
    if (req->err_rc != 0 && h->version == SMPDFU_SMP_V1) {
        /* Zephyr looks the translator up by the group that reported it. */
        smpdfu_server_group_t *eg = find_group(s, req->err_group);
        return (eg != NULL && eg->translate != NULL) ? eg->translate(req->err_rc)
                                                     : SMPDFU_MGMT_EUNKNOWN;
    }
    put_hdr(s, h, enc.len);
    *out_len = SMPDFU_SMP_HDR_LEN + enc.len;
    return 0;
}

/* {"rc": rc} in place of whatever was built. */
static size_t build_err(smpdfu_server_t *s, const smpdfu_smp_hdr_t *h, int rc)
{
    smpdfu_cbor_enc_t enc;
    smpdfu_cbor_enc_init(&enc, s->rsp + SMPDFU_SMP_HDR_LEN, s->rsp_cap - SMPDFU_SMP_HDR_LEN);
    smpdfu_cbor_map_begin(&enc, SMPDFU_CBOR_INDEF);
    smpdfu_cbor_put_tstrz(&enc, "rc");
    smpdfu_cbor_put_int(&enc, rc);
    smpdfu_cbor_put_break(&enc);
    put_hdr(s, h, enc.len);
    return SMPDFU_SMP_HDR_LEN + enc.len;
}

static void emit(smpdfu_server_t *s, const smpdfu_smp_hdr_t *h, int rc,
                 const smpdfu_server_req_t *req, bool answered)
{
    smpdfu_server_event_t ev;
    const smpdfu_server_group_t *g;
    if (s->on_event == NULL) {
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.hdr = h;
    g = h ? find_group(s, h->group) : NULL;
    ev.group_name = g ? g->name : NULL;
    ev.cmd_name = h ? cmd_name(g, h->id) : NULL;
    ev.rc = rc;
    ev.err_group = req ? req->err_group : 0;
    ev.err_rc = req ? req->err_rc : 0;
    ev.answered = answered;
    ev.note = req ? req->note : "";
    s->on_event(s->event_ctx, &ev);
}

int smpdfu_server_process(smpdfu_server_t *s, const uint8_t *pkt, size_t len,
                          smpdfu_server_send_fn send, void *send_ctx)
{
    size_t pos = 0;
    int sent = 0;
    int ret = 0;

    while (pos < len) {
        smpdfu_smp_hdr_t h;
        smpdfu_server_req_t req;
        size_t out = 0;
        int rc;

        if (smpdfu_smp_hdr_decode(pkt + pos, len - pos, &h) < 0) {
            /* Not even a header: Zephyr drops it without an answer. */
            s->errors++;
            emit(s, NULL, SMPDFU_MGMT_ECORRUPT, NULL, false);
            break;
        }
        pos += SMPDFU_SMP_HDR_LEN;
        s->requests++;
        {
            smpdfu_server_group_t *rg = find_group(s, h.group);
            if (rg != NULL) {
                rg->requests++;
            }
        }
        memset(&req, 0, sizeof(req));
        req.srv = s;
        req.hdr = &h;
        req.payload = pkt + pos;
        if (len - pos < h.len) {
            rc = SMPDFU_MGMT_ECORRUPT;
        } else if (h.op == SMPDFU_OP_READ || h.op == SMPDFU_OP_WRITE) {
            rc = handle_single(s, &h, pkt + pos, &req, &out);
        } else {
            rc = SMPDFU_MGMT_ENOTSUP; /* responses to a server without a client */
        }
        if (rc != 0) {
            s->errors++;
            out = build_err(s, &h, rc);
        }
        if (rc != 0 || req.err_rc != 0) {
            smpdfu_server_group_t *rg = find_group(s, h.group);
            if (rg != NULL) {
                rg->errors++;
            }
        }
        s->bytes_in += (uint32_t)(SMPDFU_SMP_HDR_LEN + (len - pos < h.len ? len - pos : h.len));
        ret = send(send_ctx, s->rsp, out);
        if (ret >= 0) {
            s->responses++;
            s->bytes_out += (uint32_t)out;
        }
        emit(s, &h, rc, &req, ret >= 0);
        if (ret < 0) {
            break;
        }
        sent++;
        if (rc != 0) {
            break;
        }
        pos += h.len;
    }
    if (s->reset_requested) {
        s->reset_requested = false;
        if (s->on_reset != NULL) {
            s->on_reset(s->reset_ctx);
        }
    }
    return ret < 0 ? ret : sent;
}
