/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator: smpdfu_linkemu_run(), the one place that knows both the
 * modes and the loop: it checks the config, opens the mode's runner, hands it
 * to the loop and closes it. */
#include "linkemu_loop.h"
#include "linkemu_modes.h"
#include "smpdfu/linkemu.h"

int smpdfu_linkemu_run(const smpdfu_linkemu_cfg_t *cfg, FILE *out)
{
    if (!cfg || !out) {
        return SMPDFU_EINVAL;
    }
    for (int d = 0; d < 2; d++) {
        const smpdfu_linkemu_dir_t *x = &cfg->dir[d];
        if (x->latency_ms < 0 || x->jitter_ms < 0 || x->rate_Bps < 0 || x->loss < 0 || x->loss > 1 ||
            x->flip < 0 || x->flip > 1 || x->dup < 0 || x->dup > 1 || x->reorder < 0 || x->reorder > 1) {
            return SMPDFU_EINVAL;
        }
    }
    smpdfu_linkemu_runner_t r;
    int rc;
    switch (cfg->mode) {
    case SMPDFU_LINKEMU_SERIAL:
        rc = smpdfu_linkemu_serial_open(cfg, out, &r);
        break;
    case SMPDFU_LINKEMU_UDP:
        if (cfg->ble && smpdfu_linkemu_ble_check(&cfg->ble_cfg)) {
            return SMPDFU_EINVAL;
        }
        rc = smpdfu_linkemu_udp_open(cfg, out, &r);
        break;
    default:
        return SMPDFU_EINVAL;
    }
    if (rc) {
        return rc;
    }
    rc = smpdfu_linkemu_loop(cfg, &r, out);
    r.close(r.ctx);
    return rc;
}
