/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu dfu --recovery (cmd_recovery.c). */
#ifndef SMPDFU_CLI_RECOVERY_H
#define SMPDFU_CLI_RECOVERY_H

#include <stdint.h>

#include "cli.h"

/* Update image 0 from path (and image 1 from net, when not NULL) through
 * MCUboot's serial recovery; returns an exit status. quiet_ms/reboot_ms 0:
 * 1 s / 60 s. */
int smpdfu_dfu_recovery(const smpdfu_cli_t *cli, const char *path, const char *net,
                        uint32_t quiet_ms, uint32_t reboot_ms);

#endif
