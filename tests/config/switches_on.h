/* SPDX-License-Identifier: Apache-2.0 */
/* Every footprint switch on (include/smpdfu/config.h), for
 * test_config_switches.py. */
#define SMPDFU_NO_SENTENCES 1
#define SMPDFU_NO_PRINTF 1
#define SMPDFU_LINK_KINDS 0x1u
