/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — build-time switches for the portable libraries (src/core,
 * src/client, src/server).
 *
 * Every switch has a default here, so a plain build needs nothing. To change
 * them without editing smpdfu, define SMPDFU_CONFIG to the name of your own
 * header when compiling the libraries and your code, e.g.
 *
 *     cc -DSMPDFU_CONFIG=my_smpdfu_config.h ...
 *
 * That header is included first, and whatever it defines wins; the rest keep
 * the defaults below. A switch can also be given on the command line
 * (-DSMPDFU_NO_SENTENCES=1). Use the same settings for the libraries and for
 * the code that calls them.
 */
#ifndef SMPDFU_CONFIG_H
#define SMPDFU_CONFIG_H

#define SMPDFU_STRINGIFY_(x) #x
#define SMPDFU_STRINGIFY(x) SMPDFU_STRINGIFY_(x)

#ifdef SMPDFU_CONFIG
#include SMPDFU_STRINGIFY(SMPDFU_CONFIG)
#endif

/* SMPDFU_NO_SENTENCES: 1 drops the sentences that explain error codes
 * (smpdfu_strerror's table in src/core/error.c, the device error tables in
 * src/core/smp.c). The stable names stay: smpdfu_strerror(err) then returns
 * smpdfu_err_name(err) ("SMPDFU_ETIMEOUT"), smpdfu_dev_err_text() gives the
 * name as the sentence as well ("IMG_ERR_NO_FREE_SLOT"), and
 * smpdfu_dev_err_format() writes "IMG_ERR_NO_FREE_SLOT (image group error 9)".
 * Default 0: sentences. */
#ifndef SMPDFU_NO_SENTENCES
#define SMPDFU_NO_SENTENCES 0
#endif

/* SMPDFU_NO_PRINTF: 1 keeps every printf-family call out of the portable
 * libraries. smpdfu_dev_err_format() never uses one (it has its own
 * formatter, whatever this says); the image group handler's log notes
 * (smpdfu_server_req_t.note, "off=0 len=512 -> off=512") are built with
 * snprintf, and under this switch they are left empty. Default 0. */
#ifndef SMPDFU_NO_PRINTF
#define SMPDFU_NO_PRINTF 0
#endif

/* SMPDFU_LINK_KINDS: the link kinds compiled into the link layer
 * (src/core/link.c), a mask of (1 << smpdfu_link_kind_t): bit 0 SERIAL
 * (console), 1 RAW_UART, 2 UDP, 3 BLE. A kind left out costs no code; a link
 * of that kind is refused (smpdfu_link_encode() and the decoder return
 * SMPDFU_ENOTSUP, smpdfu_link_max_packet() 0, so smpdfu_client_init() fails).
 * Default 0xf: all. A console-only central: 0x1. */
#ifndef SMPDFU_LINK_KINDS
#define SMPDFU_LINK_KINDS 0xfu
#endif

/* Also settable here: SMPDFU_IMG_STATE_MAX (client_img.h, default 8: the
 * image slots a state read keeps; sizes smpdfu_img_state_t and with it
 * smpdfu_dfu_t). A central for one or two images needs 2 or 4. */

/* A sentence literal in a table: the text, or NULL without sentences (the
 * code then falls back on the name). Wrap every new table's sentences in it. */
#if SMPDFU_NO_SENTENCES
#define SMPDFU_SENTENCE(text) NULL
#else
#define SMPDFU_SENTENCE(text) text
#endif

/* The default timeouts, retries and buffer sizes (SMPDFU_DEFAULT_*), after
 * the user's header so that it may change them too. */
#include "smpdfu/defaults.h"

#endif /* SMPDFU_CONFIG_H */
