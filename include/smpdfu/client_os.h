/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — OS management group requests (group 0, protocol.md §3) for the
 * client engine. Each request function builds and sends one request and
 * returns 0 or the engine's error (SMPDFU_EBUSY: no free slot,
 * SMPDFU_EOVERSIZE, SMPDFU_ECLOSED, SMPDFU_EINVAL); cb is then called once
 * with the response. The *_parse functions read a successful response inside
 * that callback; strings they return point into the response and are valid
 * only during the callback. Parse errors: SMPDFU_EPROTO (not a map, wrong
 * types), SMPDFU_ENOTFOUND (a required key is absent).
 */
#ifndef SMPDFU_CLIENT_OS_H
#define SMPDFU_CLIENT_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/client_iter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Echo {"d": text} (write op) -> {"r": text}. */
int smpdfu_os_echo(smpdfu_client_t *c, const char *text, const smpdfu_req_opts_t *o,
                   smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_echo_parse(const smpdfu_rsp_t *r, const char **text, size_t *len);

/* Reset: {} or {"force": true}. The device answers, then reboots ~250 ms later. */
int smpdfu_os_reset(smpdfu_client_t *c, bool force, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                    void *arg);

/* MCUmgr params -> {"buf_size", "buf_count"}. */
typedef struct {
    uint32_t buf_size;
    uint32_t buf_count;
} smpdfu_os_params_t;
int smpdfu_os_params(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_params_parse(const smpdfu_rsp_t *r, smpdfu_os_params_t *p);

/* OS/application info: format NULL or "" sends {} (device default "s"). */
int smpdfu_os_info(smpdfu_client_t *c, const char *format, const smpdfu_req_opts_t *o,
                   smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_info_parse(const smpdfu_rsp_t *r, const char **output, size_t *len);

/* Bootloader info: query NULL -> {"bootloader": name}; query "mode" ->
 * {"mode": int, ["no-downgrade": bool]}. */
typedef struct {
    const char *name; /* not NUL-terminated; NULL when absent */
    size_t name_len;
    bool has_mode;
    int32_t mode;     /* enum mcuboot_mode, -1 unknown */
    bool no_downgrade;
} smpdfu_os_bootloader_t;
int smpdfu_os_bootloader_info(smpdfu_client_t *c, const char *query, const smpdfu_req_opts_t *o,
                              smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_bootloader_parse(const smpdfu_rsp_t *r, smpdfu_os_bootloader_t *b);

/* Reset with Zephyr's options: {"force": true} when force, {"boot_mode": n}
 * when boot_mode >= 0 (1 = stay in the bootloader: MCUboot serial recovery
 * on devices built with CONFIG_BOOT_SERIAL_BOOT_MODE). boot_mode > 255:
 * SMPDFU_EINVAL (Zephyr would answer rc 3). */
int smpdfu_os_reset_ex(smpdfu_client_t *c, bool force, int boot_mode, const smpdfu_req_opts_t *o,
                       smpdfu_rsp_fn cb, void *arg);

/* Task statistics (id 2, read) -> {"tasks": {NAME: {prio, tid, state,
 * stksiz, stkuse, runtime, [cswcnt, last_checkin, next_checkin]}}}.
 * Walk with smpdfu_os_task_next() over an iterator started by
 * smpdfu_os_tasks_begin(); a key the device left out reads as 0 with its
 * has_ flag false. */
typedef struct {
    const char *name; /* not NUL-terminated, points into the response */
    size_t name_len;
    int64_t prio;
    uint64_t tid, state, stksiz, stkuse, runtime, cswcnt, last_checkin, next_checkin;
    bool has_runtime, has_cswcnt, has_checkin;
} smpdfu_os_task_info_t;
int smpdfu_os_taskstat(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_tasks_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
/* 1 with a task in *t, 0 at the end, SMPDFU_EPROTO for a malformed entry. */
int smpdfu_os_task_next(smpdfu_rsp_iter_t *it, smpdfu_os_task_info_t *t);

/* Memory pool statistics (id 3, read; Mynewt's format, Zephyr 4.x answers
 * rc 8) -> {"mpools": {NAME: {blksiz, nblks, nfree, min}}}. */
typedef struct {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    uint64_t blksiz, nblks, nfree, min;
} smpdfu_os_mpool_info_t;
int smpdfu_os_mpstat(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_mpools_begin(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it);
int smpdfu_os_mpool_next(smpdfu_rsp_iter_t *it, smpdfu_os_mpool_info_t *p);

/* Date and time (id 4). Get (read) -> {"datetime": "YYYY-MM-DDTHH:MM:SS[.m]"};
 * set (write) {"datetime": text}, answered {}. Errors from the device: rc 4
 * (group 0) the clock was never set; rc 5 the RTC refused the value. */
int smpdfu_os_datetime_get(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                           void *arg);
int smpdfu_os_datetime_set(smpdfu_client_t *c, const char *datetime, const smpdfu_req_opts_t *o,
                           smpdfu_rsp_fn cb, void *arg);
int smpdfu_os_datetime_parse(const smpdfu_rsp_t *r, const char **text, size_t *len);

/* Words for an MCUboot mode value ("swap using move", ...; "unknown"). */
const char *smpdfu_os_boot_mode_name(int32_t mode);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CLIENT_OS_H */
