/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — every default number in one place: the timeouts, retry counts and
 * buffer sizes that apply where a configuration leaves a field 0 (retries:
 * negative), for the portable libraries, the POSIX port, the tools and the
 * firmware. Code never writes these numbers bare; it names them here.
 *
 * config.h includes this file after the user's SMPDFU_CONFIG header, so
 * every public header sees the defaults, and a build changes one as it
 * changes a switch: define it in that header or on the command line
 * (-DSMPDFU_DEFAULT_TIMEOUT_MS=5000). Use the same values for the libraries
 * and the code that calls them. The smpdfu CLI states several of them in its
 * --help text; its build fails if an override makes that text wrong.
 *
 * Kept apart from config.h on purpose: config.h says which code is built,
 * this file says what the built code does when nobody says otherwise.
 */
#ifndef SMPDFU_DEFAULTS_H
#define SMPDFU_DEFAULTS_H

#include "smpdfu/config.h" /* the user's SMPDFU_CONFIG header comes first */

/* ------------------------------------------- what a Zephyr device has
 * The values of a Zephyr build that sets nothing. A client assumes them
 * for a device it knows nothing about; the emulated devices start with them. */

/* CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE: the largest SMP frame the device
 * takes, bytes (smpdfu_link_max_packet() with buf_size 0, the os group's
 * MCUmgr parameters, smpdfu-target --buf-size, the firmware target). */
#ifndef SMPDFU_DEFAULT_BUF_SIZE
#define SMPDFU_DEFAULT_BUF_SIZE 384u
#endif

/* CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT: frames the device buffers at once. */
#ifndef SMPDFU_DEFAULT_BUF_COUNT
#define SMPDFU_DEFAULT_BUF_COUNT 4u
#endif

/* CONFIG_MCUMGR_GRP_OS_RESET_MS: from the reset answer to the reboot, ms. */
#ifndef SMPDFU_DEFAULT_RESET_DELAY_MS
#define SMPDFU_DEFAULT_RESET_DELAY_MS 250u
#endif

/* ------------------------------------------------- one SMP request
 * smpdfu_client_cfg_t.timeout_ms 0 takes the link's default
 * (smpdfu_client_default_timeout_ms()): a round trip on UDP is short and a
 * lost datagram common, so it gets the shorter one; a serial line, TCP and
 * BLE carry long frames slowly. The smpdfu CLI and the gateway use the same
 * (docs/decisions.md, "Default request timeout"). */
#ifndef SMPDFU_DEFAULT_TIMEOUT_MS
#define SMPDFU_DEFAULT_TIMEOUT_MS 2000u     /* serial, raw UART, TCP, BLE */
#endif
#ifndef SMPDFU_DEFAULT_UDP_TIMEOUT_MS
#define SMPDFU_DEFAULT_UDP_TIMEOUT_MS 1000u
#endif

/* Retransmissions of a request that meets silence (cfg.retries < 0). */
#ifndef SMPDFU_DEFAULT_RETRIES
#define SMPDFU_DEFAULT_RETRIES 3
#endif

/* A request that erases a slot: the upload's first chunk
 * (smpdfu_upload_cfg_t.first_timeout_ms 0) and the image erase command.
 * Erasing takes seconds on real flash. */
#ifndef SMPDFU_DEFAULT_ERASE_TIMEOUT_MS
#define SMPDFU_DEFAULT_ERASE_TIMEOUT_MS 30000u
#endif

/* An upload or DFU gives up after the device has been silent this long
 * (silence_ms 0; the CLI's --give-up). */
#ifndef SMPDFU_DEFAULT_SILENCE_MS
#define SMPDFU_DEFAULT_SILENCE_MS 60000u
#endif

/* ------------------------------------------------- after a reset
 * The DFU, `smpdfu os reset` and the serial recovery wait the same way:
 * quiet while the device reboots (MCUboot may be swapping, and some targets
 * hang when spoken to then), then a parameters request with a growing pause
 * between tries, until it answers or the reboot timeout has passed. */
#ifndef SMPDFU_DEFAULT_QUIET_MS
#define SMPDFU_DEFAULT_QUIET_MS 1000u          /* smpdfu_dfu_cfg_t.quiet_ms 0 */
#endif
#ifndef SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS
#define SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS 60000u /* .reboot_timeout_ms 0 */
#endif
#ifndef SMPDFU_DEFAULT_POLL_TIMEOUT_MS
#define SMPDFU_DEFAULT_POLL_TIMEOUT_MS 1000u   /* one poll's timeout */
#endif
#ifndef SMPDFU_DEFAULT_POLL_FIRST_MS
#define SMPDFU_DEFAULT_POLL_FIRST_MS 250u      /* the first pause between polls */
#endif
#ifndef SMPDFU_DEFAULT_POLL_MAX_MS
#define SMPDFU_DEFAULT_POLL_MAX_MS 2000u       /* the pause doubles up to this */
#endif

/* ------------------------------------------------- the uplink
 * smpdfu_uplink_cfg_t (uplink.h): block 0 and timeout_ms 0. */
#ifndef SMPDFU_DEFAULT_UPLINK_BLOCK
#define SMPDFU_DEFAULT_UPLINK_BLOCK 512u
#endif
#ifndef SMPDFU_DEFAULT_UPLINK_TIMEOUT_MS
#define SMPDFU_DEFAULT_UPLINK_TIMEOUT_MS 500u
#endif

/* ------------------------------------------------- POSIX port */

/* smpdfu_posix_port_open() timeout 0: a TCP connect. */
#ifndef SMPDFU_DEFAULT_CONNECT_TIMEOUT_MS
#define SMPDFU_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#endif

/* ble:ADDRESS without ,timeout=SEC: scan and connect, in all. */
#ifndef SMPDFU_DEFAULT_BLE_TIMEOUT_MS
#define SMPDFU_DEFAULT_BLE_TIMEOUT_MS 30000u
#endif

/* HTTP(S) image sources (posix_http.h): the largest body, the connect
 * timeout and the whole transfer's timeout. */
#ifndef SMPDFU_DEFAULT_HTTP_MAX
#define SMPDFU_DEFAULT_HTTP_MAX (16u * 1024u * 1024u) /* bytes */
#endif
#ifndef SMPDFU_DEFAULT_HTTP_CONNECT_TIMEOUT_MS
#define SMPDFU_DEFAULT_HTTP_CONNECT_TIMEOUT_MS 10000u
#endif
#ifndef SMPDFU_DEFAULT_HTTP_TIMEOUT_MS
#define SMPDFU_DEFAULT_HTTP_TIMEOUT_MS 300000u
#endif
/* A streamed image (posix_stream.h) fails after this long without a byte;
 * seconds. */
#ifndef SMPDFU_DEFAULT_HTTP_STALL_S
#define SMPDFU_DEFAULT_HTTP_STALL_S 30u
#endif

#endif /* SMPDFU_DEFAULTS_H */
