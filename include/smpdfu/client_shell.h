/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — shell group request (group 9, Zephyr shell_mgmt). Returns 0 or
 * the engine's error (SMPDFU_EBUSY, SMPDFU_EOVERSIZE, SMPDFU_ECLOSED,
 * SMPDFU_EINVAL: no words). Device errors (err group 9): 2 command too long
 * (the joined line exceeds the device's shell buffer, 256 by default), 3
 * empty command.
 */
#ifndef SMPDFU_CLIENT_SHELL_H
#define SMPDFU_CLIENT_SHELL_H

#include "smpdfu/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exec (id 0, write) {"argv": [word, ...]} -> {"o": output, "ret": int}.
 * The device joins the words with spaces and runs the line. */
int smpdfu_shell_exec(smpdfu_client_t *c, const char *const *argv, int argc,
                      const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg);
/* output points into the response (valid during the callback); *ret is
 * the command's return (0 success, e.g. -8 for an unknown command).
 * Missing "ret": 0 (older devices sent only "o"). */
int smpdfu_shell_exec_parse(const smpdfu_rsp_t *r, const char **output, size_t *len, int32_t *ret);

#ifdef __cplusplus
}
#endif
#endif
