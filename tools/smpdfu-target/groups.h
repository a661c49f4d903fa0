/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-target: the groups beyond OS and image (stat, settings, fs, shell,
 * enum, taskstat/mpstat/datetime, reset boot_mode) and MCUboot's serial
 * recovery mode. Kept out of main.c so that file only calls in here. */
#ifndef SMPDFU_TARGET_GROUPS_H
#define SMPDFU_TARGET_GROUPS_H

#include <stdbool.h>
#include <stdio.h>

#include "smpdfu/boot.h"
#include "smpdfu/server.h"

typedef struct target_groups target_groups_t;

/* Take this file's options out of argv (before getopt sees it):
 * --fs-root DIR, --no-group NAME (repeatable), --reset-needs-force,
 * --recovery-buf-size N, --recovery-no-app. Exits with status 2 on a bad value. */
target_groups_t *tg_take_args(int *argc, char **argv);
void tg_usage(FILE *f);

/* Bytes the flash layout needs after the progress page (the settings). */
uint32_t tg_flash_extra(const target_groups_t *g, uint32_t page_size);
/* Once the flash is open: settings area at `settings_off`. */
void tg_setup(target_groups_t *g, const smpdfu_flash_t *flash, uint32_t settings_off,
              const smpdfu_hash_t *hash);

/* At every boot, before MCUboot runs: true when the last reset asked for
 * boot_mode 1, so MCUboot stays in serial recovery (no swap, no
 * application): the device answers through tg_serve() until a reset. */
bool tg_boot_recovery(target_groups_t *g, const smpdfu_boot_cfg_t *boot, uint8_t *rsp,
                      size_t rsp_cap, uint8_t *work, size_t work_len, void (*on_reset)(void *),
                      void (*on_event)(void *, const smpdfu_server_event_t *), void *ctx);
/* After MCUboot found nothing bootable: true (and in recovery) with
 * --recovery-no-app, else the device halts. */
bool tg_no_app_recovery(target_groups_t *g);

/* After the application registered os and img: the rest, and the hooks. */
void tg_register(target_groups_t *g, smpdfu_server_t *srv, smpdfu_os_group_t *os,
                 smpdfu_server_group_t *img);
/* In recovery: answer the packet as boot_serial and return true. */
bool tg_serve(target_groups_t *g, const uint8_t *pkt, size_t len, smpdfu_server_send_fn send,
              void *send_ctx);

/* Largest packet the receiver takes now (the application's buf_size, or
 * MCUboot's receive buffer in recovery), and the most it can ever take. */
uint32_t tg_rx_size(const target_groups_t *g, uint32_t app_buf);
uint32_t tg_rx_max(const target_groups_t *g, uint32_t app_buf);

/* Close the fs root and free g (at exit). */
void tg_free(target_groups_t *g);

/* What runs after a boot, for the log. */
const char *tg_running(const target_groups_t *g);

#endif
