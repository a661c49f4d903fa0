/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the gateway's JSON tokenizer and job decoder over arbitrary
 * bytes (job messages come from the broker: untrusted). Every token must lie
 * inside the text with sane parent/next links, every string token must
 * decode within its buffer, a decoded job must hold only what the decoder
 * promises (job id characters, an http(s) URL as allowed), and a string
 * quoted back must tokenize as one string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/gw_job.h"
#include "smpdfu/gw_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static smpdfu_json_tok_t tok[256];

static void check_tokens(const char *text, size_t len, int n)
{
    for (int i = 0; i < n; i++) {
        const smpdfu_json_tok_t *t = &tok[i];
        if (t->start > t->end || t->end > len || t->parent >= i || t->next <= (uint32_t)i ||
            t->next > (uint32_t)n || t->type < SMPDFU_JSON_OBJECT || t->type > SMPDFU_JSON_NULL) {
            abort();
        }
        if (t->parent >= 0 && tok[t->parent].next < t->next) {
            abort(); /* a child runs past its container */
        }
        if (t->type == SMPDFU_JSON_STRING) {
            char out[64];
            int r = smpdfu_json_str(text, t, out, sizeof(out));
            if (r >= 0 && ((size_t)r >= sizeof(out) || out[r] != 0 || strlen(out) != (size_t)r)) {
                abort();
            }
            if (r >= 0) {
                char q[6 * sizeof(out) + 3];
                size_t ql = smpdfu_json_quote(q, sizeof(q), out);
                smpdfu_json_tok_t qt[2];
                if (smpdfu_json_parse(q, ql, qt, 2) != 1 || qt[0].type != SMPDFU_JSON_STRING) {
                    abort();
                }
                char back[64];
                if (smpdfu_json_str(q, &qt[0], back, sizeof(back)) != r || strcmp(back, out)) {
                    abort();
                }
            }
        }
        if (t->type == SMPDFU_JSON_NUMBER) {
            int64_t v;
            (void)smpdfu_json_int(text, t, INT64_MIN + 1, INT64_MAX, &v);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int n = smpdfu_json_parse(text, size, tok, sizeof(tok) / sizeof(tok[0]));
    if (n > 0) {
        check_tokens(text, size, n);
        (void)smpdfu_json_get(text, tok, n, 0, "execution");
    }
    for (int allow = 0; allow < 2; allow++) {
        smpdfu_gw_job_t job;
        char why[200];
        smpdfu_gw_msg_t m = smpdfu_gw_job_decode(text, size, allow != 0, &job, why, sizeof(why), tok,
                                                 sizeof(tok) / sizeof(tok[0]));
        if (memchr(why, 0, sizeof(why)) == NULL) {
            abort();
        }
        if (m == SMPDFU_GW_MSG_JOB || m == SMPDFU_GW_MSG_BAD_DOC) {
            size_t l = strnlen(job.job_id, sizeof(job.job_id));
            if (l == 0 || l >= sizeof(job.job_id) || strspn(job.job_id, "abcdefghijklmnopqrstuvwxyz"
                                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != l) {
                abort();
            }
        }
        if (m == SMPDFU_GW_MSG_JOB && job.op == SMPDFU_GW_OP_DFU) {
            if (strncmp(job.url, "https://", 8) && !(allow && !strncmp(job.url, "http://", 7))) {
                abort();
            }
            if (job.image > 15 || (job.size != -1 && job.size < 32)) {
                abort();
            }
        }
    }
    return 0;
}
