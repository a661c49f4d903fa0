/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: the modes, each a runner (linkemu_runner.h) the loop drives. */
#ifndef SMPDFU_LINKEMU_MODES_H
#define SMPDFU_LINKEMU_MODES_H

#include <stdio.h>

#include "linkemu_runner.h"
#include "smpdfu/linkemu.h"

/* Open a mode's descriptors and state for cfg (borrowed for the run) and fill
 * *r. Setup errors are printed as "error: ..." to out. Returns 0, or
 * SMPDFU_EINVAL (bad address), SMPDFU_ENOCONN (cannot open a pty or socket),
 * SMPDFU_ENOSPC (no memory); on error nothing is left open. On success the
 * caller ends with r->close(r->ctx). */
int smpdfu_linkemu_serial_open(const smpdfu_linkemu_cfg_t *cfg, FILE *out, smpdfu_linkemu_runner_t *r);
int smpdfu_linkemu_udp_open(const smpdfu_linkemu_cfg_t *cfg, FILE *out, smpdfu_linkemu_runner_t *r);

#endif /* SMPDFU_LINKEMU_MODES_H */
