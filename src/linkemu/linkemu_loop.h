/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: the event loop. It knows runners only through
 * linkemu_runner.h, never a mode by name. */
#ifndef SMPDFU_LINKEMU_LOOP_H
#define SMPDFU_LINKEMU_LOOP_H

#include <stdio.h>

#include "linkemu_runner.h"
#include "smpdfu/linkemu.h"

/* Run r until SIGINT/SIGTERM (blocked and taken through a signalfd for the
 * run), cfg->duration_s, or an error from r. Prints r's announcement and
 * "ready", the periodic stats (cfg->stats_interval_ms) and the final stats,
 * then flushes cfg->trace. Waits in ppoll until r's next due time, at least
 * cfg->tick_us apart. Does not close r. Returns 0 (stopped), r's error, or
 * SMPDFU_EIO (signalfd or ppoll failed; no stats are printed if the signalfd
 * could not be made). */
int smpdfu_linkemu_loop(const smpdfu_linkemu_cfg_t *cfg, const smpdfu_linkemu_runner_t *r, FILE *out);

#endif /* SMPDFU_LINKEMU_LOOP_H */
