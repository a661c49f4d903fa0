/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the fleet gateway daemon (smpdfu-gw): takes update jobs over MQTT
 * in the AWS IoT Jobs shape and drives every device it serves from one poll
 * loop (docs/fleet.md). POSIX only; needs libmosquitto and SQLite (built
 * when both are found).
 *
 *   config file -> smpdfu_gw_config_load() -> smpdfu_gw_run() until *stop
 *
 * One thread: the MQTT socket (libmosquitto's loop_read/write/misc on its
 * descriptor) and every device link are polled together; each device has
 * its own client engine and DFU orchestrator. A SQLite journal records each
 * job and its step so a restarted gateway resumes unfinished jobs and sends
 * each final status once.
 */
#ifndef SMPDFU_GW_H
#define SMPDFU_GW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_GW_MAX_DEVICES 1024
#define SMPDFU_GW_PATH_MAX 512

typedef struct {
    char name[129];    /* the thing name */
    char conn[300];    /* a --conn spec (posix_loop.h) */
    uint32_t images;   /* images the device has (1, or 2 for an nRF5340) */
} smpdfu_gw_device_cfg_t;

typedef struct {
    char broker[SMPDFU_GW_PATH_MAX];   /* mqtt://host:port or mqtts://host:port */
    char client_id[129];
    char username[129];
    char password[257];
    char ca[SMPDFU_GW_PATH_MAX];       /* TLS: CA file (mqtts) */
    char cert[SMPDFU_GW_PATH_MAX];     /* TLS: client certificate (optional) */
    char key[SMPDFU_GW_PATH_MAX];      /* TLS: its private key */
    char cache_dir[SMPDFU_GW_PATH_MAX];
    char journal[SMPDFU_GW_PATH_MAX];  /* SQLite file; default <cache_dir>/journal.db */
    char sign_key[SMPDFU_GW_PATH_MAX]; /* public key every image must be signed with, or "" */
    char state_prefix[129];            /* retained state topic: <prefix>/<thing>/state */
    bool allow_http;
    uint32_t concurrency;              /* devices updated at once (default 8) */
    uint32_t progress_ms;              /* least time between progress updates (default 1000) */
    uint32_t timeout_ms;               /* per SMP request; 0 = the link's default
                                          (smpdfu_client_default_timeout_ms) */
    uint32_t reconnect_max_ms;         /* broker reconnect backoff cap (default 8000) */
    int verbose;
    smpdfu_gw_device_cfg_t *devices;   /* malloc'd by the loader */
    size_t ndevices;
} smpdfu_gw_config_t;

/* Read the config file (format in docs/fleet.md). Returns 0, or
 * SMPDFU_EFILE (cannot read) / SMPDFU_EUSAGE (a line it does not
 * understand, a missing setting) with a sentence in err. */
int smpdfu_gw_config_load(smpdfu_gw_config_t *cfg, const char *path, char *err, size_t cap);

/* Release what the loader allocated. */
void smpdfu_gw_config_free(smpdfu_gw_config_t *cfg);

/* Run the gateway until *stop becomes non-zero (a signal handler sets it).
 * Logs to stderr. Returns 0 after a clean stop, or an error when it could
 * not start (journal, broker settings, key file) with the reason logged. */
int smpdfu_gw_run(const smpdfu_gw_config_t *cfg, volatile sig_atomic_t *stop);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_GW_H */
