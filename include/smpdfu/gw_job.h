/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — gateway jobs: what an AWS IoT Jobs execution asks of a device,
 * decoded from the JSON the broker delivers (untrusted), and the words the
 * gateway answers with. Topic names follow AWS IoT Jobs' MQTT API
 * (docs/fleet.md).
 *
 * Job document (the execution's "jobDocument"):
 *   {"operation": "dfu", "url": "https://host/app.bin", "sha256": "<64 hex>",
 *    "mode": "test-confirm", "image": 0, "size": 123456}
 *   {"operation": "reset"}
 *   {"operation": "image-list"}
 * sha256 is the SHA-256 of the whole image file (what `smpdfu image info`
 * prints as "file sha256"); mode and image are optional (test-confirm, 0);
 * size is optional (checked against the download when given).
 *
 * Portable C99: no malloc, no I/O, no global state.
 */
#ifndef SMPDFU_GW_JOB_H
#define SMPDFU_GW_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/dfu.h"
#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_GW_JOBID_MAX 65    /* AWS job ids: up to 64 characters */
#define SMPDFU_GW_URL_MAX 1024
#define SMPDFU_GW_THING_MAX 129   /* AWS thing names: up to 128 characters */

typedef enum {
    SMPDFU_GW_OP_NONE = 0,
    SMPDFU_GW_OP_DFU,
    SMPDFU_GW_OP_RESET,
    SMPDFU_GW_OP_LIST,
} smpdfu_gw_op_t;

typedef struct {
    char job_id[SMPDFU_GW_JOBID_MAX];
    int64_t version;           /* execution versionNumber, -1 when absent */
    smpdfu_gw_op_t op;
    smpdfu_dfu_mode_t mode;
    uint32_t image;
    char url[SMPDFU_GW_URL_MAX];
    uint8_t sha256[32];
    int64_t size;              /* -1 when not given */
} smpdfu_gw_job_t;

typedef enum {
    SMPDFU_GW_MSG_NONE = 0,    /* an execution-less answer: nothing to do */
    SMPDFU_GW_MSG_JOB,         /* a job with a sound document: job filled */
    SMPDFU_GW_MSG_BAD_DOC,     /* a job id, but its document is refused: reason says why */
    SMPDFU_GW_MSG_MALFORMED,   /* not even a job id: reason says why, nothing to report */
} smpdfu_gw_msg_t;

/* Decode a notify-next or $next/get/accepted message (payload of len
 * bytes): {"execution": {"jobId": ..., "versionNumber": n, "jobDocument":
 * {...}}, ...}. allow_http lets http:// URLs through (else only https://).
 * Fills job (job_id always when a jobId was found) and reason (a sentence,
 * NUL-terminated, for the REJECTED statusDetails or the log). tok/ntok is
 * the tokenizer's scratch (64 tokens are plenty for a job message). */
smpdfu_gw_msg_t smpdfu_gw_job_decode(const char *payload, size_t len, bool allow_http,
                                     smpdfu_gw_job_t *job, char *reason, size_t reason_cap,
                                     void *tok, size_t ntok);

/* Name of an operation as job documents spell it ("dfu", "reset", "image-list"). */
const char *smpdfu_gw_op_name(smpdfu_gw_op_t op);

/* 64 hex digits into 32 bytes. Returns 0 or SMPDFU_EMALFORMED. */
int smpdfu_gw_hex32(const char *hex, uint8_t *out);

/* 32 bytes into 64 lower-case hex digits + NUL (out: 65 bytes). */
void smpdfu_gw_tohex(const uint8_t *b, size_t n, char *out);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_GW_JOB_H */
