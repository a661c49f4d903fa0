/* SPDX-License-Identifier: Apache-2.0 */
/* Job messages in the AWS IoT Jobs shape: decode and refuse with reasons. */
#include "smpdfu/gw_job.h"

#include <stdio.h>
#include <string.h>

#include "smpdfu/gw_json.h"

const char *smpdfu_gw_op_name(smpdfu_gw_op_t op)
{
    switch (op) {
    case SMPDFU_GW_OP_DFU: return "dfu";
    case SMPDFU_GW_OP_RESET: return "reset";
    case SMPDFU_GW_OP_LIST: return "image-list";
    default: return "none";
    }
}

int smpdfu_gw_hex32(const char *hex, uint8_t *out)
{
    if (strlen(hex) != 64) {
        return SMPDFU_EMALFORMED;
    }
    for (int i = 0; i < 32; i++) {
        int a = smpdfu_json_hex_digit(hex[2 * i]), b = smpdfu_json_hex_digit(hex[2 * i + 1]);
        if (a < 0 || b < 0) {
            return SMPDFU_EMALFORMED;
        }
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

void smpdfu_gw_tohex(const uint8_t *b, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = 0;
}

#define WHY(...) (snprintf(reason, reason_cap, __VA_ARGS__), SMPDFU_GW_MSG_BAD_DOC)

smpdfu_gw_msg_t smpdfu_gw_job_decode(const char *payload, size_t len, bool allow_http,
                                     smpdfu_gw_job_t *job, char *reason, size_t reason_cap,
                                     void *tokmem, size_t ntok)
{
    smpdfu_json_tok_t *tok = tokmem;
    memset(job, 0, sizeof(*job));
    job->version = -1;
    job->size = -1;
    if (reason_cap) {
        reason[0] = 0;
    }
    int n = smpdfu_json_parse(payload, len, tok, ntok);
    if (n < 0) {
        snprintf(reason, reason_cap, "the job message is not JSON (%s)", smpdfu_strerror(n));
        return SMPDFU_GW_MSG_MALFORMED;
    }
    int ex = smpdfu_json_get(payload, tok, n, 0, "execution");
    if (tok[0].type != SMPDFU_JSON_OBJECT) {
        snprintf(reason, reason_cap, "the job message is not a JSON object");
        return SMPDFU_GW_MSG_MALFORMED;
    }
    if (ex < 0) {
        return SMPDFU_GW_MSG_NONE; /* no job pending */
    }
    int id = smpdfu_json_get(payload, tok, n, ex, "jobId");
    if (id < 0 || smpdfu_json_str(payload, &tok[id], job->job_id, sizeof(job->job_id)) <= 0) {
        snprintf(reason, reason_cap, "the job execution has no jobId string of 1 to 64 characters");
        return SMPDFU_GW_MSG_MALFORMED;
    }
    for (const char *c = job->job_id; *c; c++) {
        /* AWS: [a-zA-Z0-9_-]+; it becomes part of a topic, so nothing else. */
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-')) {
            job->job_id[0] = 0;
            snprintf(reason, reason_cap, "the jobId holds characters other than letters, digits, '_' and '-'");
            return SMPDFU_GW_MSG_MALFORMED;
        }
    }
    int vn = smpdfu_json_get(payload, tok, n, ex, "versionNumber");
    if (vn >= 0) {
        smpdfu_json_int(payload, &tok[vn], 0, INT64_MAX, &job->version);
    }
    int doc = smpdfu_json_get(payload, tok, n, ex, "jobDocument");
    if (doc < 0 || tok[doc].type != SMPDFU_JSON_OBJECT) {
        return WHY("the job has no jobDocument object");
    }
    char op[32];
    int t = smpdfu_json_get(payload, tok, n, doc, "operation");
    if (t < 0 || smpdfu_json_str(payload, &tok[t], op, sizeof(op)) < 0) {
        return WHY("the job document has no \"operation\" string");
    }
    if (!strcmp(op, "reset")) {
        job->op = SMPDFU_GW_OP_RESET;
        return SMPDFU_GW_MSG_JOB;
    }
    if (!strcmp(op, "image-list")) {
        job->op = SMPDFU_GW_OP_LIST;
        return SMPDFU_GW_MSG_JOB;
    }
    if (strcmp(op, "dfu")) {
        return WHY("unknown operation \"%s\": this gateway knows dfu, reset and image-list", op);
    }
    job->op = SMPDFU_GW_OP_DFU;
    job->mode = SMPDFU_DFU_TEST_CONFIRM;
    t = smpdfu_json_get(payload, tok, n, doc, "mode");
    if (t >= 0) {
        char m[32];
        if (smpdfu_json_str(payload, &tok[t], m, sizeof(m)) < 0 || smpdfu_dfu_mode_parse(m, &job->mode)) {
            return WHY("the dfu mode must be test-confirm, confirm-only, test-only or upload-only");
        }
    }
    t = smpdfu_json_get(payload, tok, n, doc, "image");
    if (t >= 0) {
        int64_t v;
        if (smpdfu_json_int(payload, &tok[t], 0, 15, &v)) {
            return WHY("the image number must be a whole number from 0 to 15");
        }
        job->image = (uint32_t)v;
    }
    t = smpdfu_json_get(payload, tok, n, doc, "size");
    if (t >= 0 && smpdfu_json_int(payload, &tok[t], 32, 0x7fffffff, &job->size)) {
        return WHY("the image size must be a whole number of bytes from 32 to 2^31-1");
    }
    t = smpdfu_json_get(payload, tok, n, doc, "url");
    int ul = t >= 0 ? smpdfu_json_str(payload, &tok[t], job->url, sizeof(job->url)) : -1;
    if (ul <= 0) {
        return WHY("the dfu job has no image \"url\" string (up to %u characters)",
                   (unsigned)sizeof(job->url) - 1);
    }
    for (int i = 0; i < ul; i++) {
        if ((unsigned char)job->url[i] <= ' ' || job->url[i] == 0x7f) {
            return WHY("the image URL holds spaces or control characters");
        }
    }
    if (!strncmp(job->url, "http://", 7)) {
        if (!allow_http) {
            return WHY("the image URL is not https:// (plain http is refused unless the "
                       "configuration says allow_http = true)");
        }
    } else if (strncmp(job->url, "https://", 8)) {
        return WHY("the image URL must be https:// (or http:// when allowed)");
    }
    char hex[80];
    t = smpdfu_json_get(payload, tok, n, doc, "sha256");
    if (t < 0 || smpdfu_json_str(payload, &tok[t], hex, sizeof(hex)) < 0 ||
        smpdfu_gw_hex32(hex, job->sha256)) {
        return WHY("the dfu job needs \"sha256\": the image file's SHA-256 as 64 hex digits");
    }
    return SMPDFU_GW_MSG_JOB;
}
