/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu switches for the footprint build (SMPDFU_CONFIG=footprint_config.h,
 * see include/smpdfu/config.h): no sentences, no printf. */
#define SMPDFU_NO_SENTENCES 1
#define SMPDFU_NO_PRINTF 1
/* The console framing only, and a state read of up to 4 slots (two images). */
#define SMPDFU_LINK_KINDS 0x1u
#define SMPDFU_IMG_STATE_MAX 4
