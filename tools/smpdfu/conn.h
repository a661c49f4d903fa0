/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu CLI: the connection shared by the device commands (open the port
 * named by --conn, run the engine, wait for one answer), error words and the
 * progress bar. */
#ifndef SMPDFU_CONN_H
#define SMPDFU_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "smpdfu/client.h"
#include "smpdfu/posix_loop.h"
#ifdef SMPDFU_HAVE_BLUEZ
#include "smpdfu/posix_bluez.h"
#endif

#define CONN_SLOTS 12
#define CONN_SLOT_SIZE 2048

typedef struct {
    const smpdfu_cli_t *cli;
    smpdfu_posix_port_t port;
#ifdef SMPDFU_HAVE_BLUEZ
    smpdfu_bluez_t ble; /* --conn ble:... */
#endif
    smpdfu_client_t c;
    smpdfu_req_t reqs[CONN_SLOTS];
    uint8_t req_mem[CONN_SLOTS * CONN_SLOT_SIZE];
    uint8_t rx[65536 + 8];
    uint8_t tx[2 * CONN_SLOT_SIZE + 256];
    /* one synchronous answer */
    bool got;
    smpdfu_rsp_t rsp;
    uint8_t payload[65536];
    char rsn[256];
    /* what was heard: decides how a silence is reported */
    uint32_t rx_pkts;
    uint64_t last_rx_ms;
    char detail[400];  /* a fuller sentence for the failure conn_fail reports */
    /* progress */
    uint64_t prog_start;
    uint64_t prog_last;
    uint32_t prog_first_off;
    uint32_t prog_off;
    uint64_t prog_now;
    bool prog_shown;
    /* finished uploads, for the summary line */
    uint64_t sum_bytes;
    uint64_t sum_ms;
} conn_t;

/* Open --conn (or $SMPDFU_CONN) and set up the engine. On failure prints
 * the reason and returns an exit status (non-zero). */
int conn_open(conn_t *k, const smpdfu_cli_t *cli);
void conn_close(conn_t *k);

/* Per-request timeout and retries from the command line, or defaults. */
uint32_t conn_timeout(const conn_t *k);
int conn_retries(const conn_t *k);
smpdfu_req_opts_t conn_opts(const conn_t *k);

/* Callback for a synchronous request: stores (a copy of) the answer. */
void conn_on_rsp(void *arg, const smpdfu_rsp_t *rsp);

/* Wait for the answer to the request just started with conn_on_rsp.
 * Returns its status (0, SMPDFU_EDEVICE, SMPDFU_ETIMEOUT, ...); k->rsp
 * holds it, payload copied so it survives further feeding. */
int conn_wait_rsp(conn_t *k);

/* Finish a synchronous request: rc is what starting it (with conn_on_rsp)
 * returned. Returns 0 when the answer is a success (k->rsp holds it, the
 * connection stays open); else reports the failure (conn_fail), closes the
 * connection and returns the exit status. `what` names the operation. */
int conn_finish(conn_t *k, const char *what, int rc);

/* Run the loop until done(arg) (no overall limit beyond the engine's own
 * timeouts). Returns 0 or SMPDFU_ECLOSED / SMPDFU_EIO. */
int conn_run(conn_t *k, bool (*done)(void *), void *arg);

/* Report a failed request in words ("the device refused the test: ...")
 * on stderr, and as {"error": ...} on stdout with --json. Returns
 * SMPDFU_EXIT_FAIL. `what` names the operation ("the test"). */
int conn_fail(conn_t *k, const char *what, int status, const smpdfu_dev_err_t *dev);

/* conn_fail with the sentence already made (msg): the same stderr line and
 * --json document. Returns SMPDFU_EXIT_FAIL. */
int conn_fail_msg(conn_t *k, const char *msg, int status, const smpdfu_dev_err_t *dev);

/* Before an upload: with *window > 0, read the device's buffer count and
 * lower *window to it with a warning (more would be dropped); with image > 0
 * and !force, make sure the device has that image (slot info, else the image
 * list), since a one-image Zephyr ignores the number. Returns 0, or the exit
 * status after reporting the refusal or a failed request. */
int conn_check_target(conn_t *k, long image, long *window, bool force);
struct smpdfu_upload_result;
/* Upload tuning from the command line into an upload config's fields. */
uint32_t conn_silence_ms(const conn_t *k);
size_t conn_packet_size(const conn_t *k);
uint32_t conn_pace_us(const conn_t *k);

/* After an upload: with -v one stderr line on what the link got (packet
 * size, window, pacing, retransmissions, probes); for SMPDFU_ESILENT the
 * sentence conn_fail prints (how long, what was heard last). */
void conn_upload_summary(conn_t *k, const char *label, const void *upload_result);
/* The upload's fields as JSON members (no braces): "packet_size": ..., */
void conn_upload_json(const void *upload_result);
/* -v: one stderr line per decision the upload takes. */
void conn_upload_note(conn_t *k, const char *label, const void *note);

/* Progress of an upload: a bar on a terminal (percent, bytes, speed, time
 * left); with -v and no terminal, one line per step; else nothing. */
void conn_progress(conn_t *k, const char *label, uint32_t off, uint32_t size);
void conn_progress_end(conn_t *k);

/* "12.3 kB/s" (B/s, kB/s or MB/s as fits) for bytes in ms; "-- B/s" when ms
 * is 0 (too fast to time). */
void conn_rate(char *buf, size_t cap, uint64_t bytes, uint64_t ms);

/* Print an enum-details answer as a group table (or {"groups": [...]} with
 * --json), shared by `enum details` and `os groups`; name_fallback names
 * groups the device left unnamed by their well-known names. Returns 0, or -1
 * when the answer is malformed (the caller reports it). */
int smpdfu_cli_print_groups(const smpdfu_cli_t *cli, const smpdfu_rsp_t *rsp, bool name_fallback);

#endif
