/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu CLI: connection, synchronous requests, error words, progress. */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smpdfu/posix.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/smp.h"
#include "smpdfu/upload.h"

static void trace(void *arg, bool tx, const uint8_t *pkt, size_t len)
{
    conn_t *k = arg;
    if (!tx) {
        /* What was heard decides how a later silence is worded. */
        k->rx_pkts++;
        k->last_rx_ms = smpdfu_posix_now_ms();
    }
    if (!k->cli->verbose) {
        return;
    }
    smpdfu_smp_hdr_t h;
    if (smpdfu_smp_hdr_decode(pkt, len, &h) < 0) {
        return;
    }
    fprintf(stderr, "%s op=%u v=%u group=%u id=%u seq=%u len=%u\n", tx ? "->" : "<-", h.op, h.version,
            h.group, h.id, h.seq, h.len);
    if (k->cli->verbose > 1) {
        fputs("   ", stderr);
        for (size_t i = 0; i < len; i++) {
            fprintf(stderr, "%02x", pkt[i]);
        }
        fputc('\n', stderr);
    }
}

/* --conn ble:...: find, connect and acquire through BlueZ. 0 or an exit status. */
static int conn_open_ble(conn_t *k)
{
#ifdef SMPDFU_HAVE_BLUEZ
    if (smpdfu_bluez_parse(&k->ble, k->cli->conn)) {
        smpdfu_cli_error("cannot understand --conn '%s': expected ble:AA:BB:CC:DD:EE:FF or ble:NAME, "
                         "then ,adapter=hciN ,timeout=SEC ,mtu=N ,reassembly",
                         k->cli->conn);
        return SMPDFU_EXIT_USAGE;
    }
    const char *why = "";
    int rc = smpdfu_bluez_open(&k->ble, &k->port, &why);
    if (rc) {
        smpdfu_cli_error("cannot open %s: %s", k->cli->conn, why);
        return SMPDFU_EXIT_FAIL;
    }
    if (k->cli->verbose) {
        fprintf(stderr, "ble: %s, ATT MTU %u (fragments of %zu), %s, %s\n", k->ble.dev_path, k->ble.att_mtu,
                k->port.link.mtu - 3, k->ble.write_acquired ? "AcquireWrite" : "WriteValue(command)",
                k->ble.notify_acquired ? "AcquireNotify" : "StartNotify");
    }
    return 0;
#else
    smpdfu_cli_error("cannot open %s: this smpdfu was built without BlueZ support (libsystemd-dev was "
                     "missing when it was built)",
                     k->cli->conn);
    return SMPDFU_EXIT_FAIL;
#endif
}

int conn_open(conn_t *k, const smpdfu_cli_t *cli)
{
    memset(k, 0, sizeof(*k));
    k->cli = cli;
    k->port.fd = -1;
    if (!cli->conn || !*cli->conn) {
        smpdfu_cli_error("no connection given: use --conn serial:/dev/ttyACM0, tcp:HOST:PORT or "
                         "udp:HOST:PORT (or set SMPDFU_CONN)");
        return SMPDFU_EXIT_USAGE;
    }
    if (!strncmp(cli->conn, "ble:", 4)) {
        int brc = conn_open_ble(k);
        if (brc) {
            return brc;
        }
    } else if (smpdfu_posix_port_parse(&k->port, cli->conn)) {
        smpdfu_cli_error("cannot understand --conn '%s': expected serial:DEVICE[,baud=N][,raw], "
                         "tcp:HOST:PORT[,raw], udp:HOST:PORT or ble:ADDRESS|NAME[,adapter=hciN][,timeout=SEC]",
                         cli->conn);
        return SMPDFU_EXIT_USAGE;
    }
    int rc = smpdfu_posix_port_open(&k->port, conn_timeout(k));
    if (rc && k->port.kind != SMPDFU_POSIX_EXT) {
        int e = errno;
        if (k->port.gai_err) {
            smpdfu_cli_error("cannot open %s: cannot resolve host name '%s' (%s)", cli->conn,
                             k->port.host, gai_strerror(k->port.gai_err));
        } else {
            smpdfu_cli_error("cannot open %s: %s (%s)", cli->conn, smpdfu_strerror(rc),
                             e ? strerror(e) : "no reason given");
        }
        return SMPDFU_EXIT_FAIL;
    }
    smpdfu_client_cfg_t cfg;
    smpdfu_posix_client_cfg(&cfg, &k->port, k->reqs, CONN_SLOTS, k->req_mem, sizeof(k->req_mem),
                            k->rx, sizeof(k->rx), k->tx, sizeof(k->tx));
    cfg.timeout_ms = conn_timeout(k);
    cfg.retries = conn_retries(k);
    if (k->port.kind == SMPDFU_POSIX_SERIAL) {
        cfg.baud = k->port.baud; /* line pacing counts each line's time on the wire */
    }
    /* A fresh sequence per run so a previous run's late answers do not match. */
    cfg.first_seq = (uint8_t)(getpid() ^ smpdfu_posix_now_ms());
    cfg.trace = trace;
    cfg.trace_arg = k;
    rc = smpdfu_client_init(&k->c, &cfg);
    if (rc) {
        smpdfu_posix_port_close(&k->port);
        return smpdfu_cli_fail("cannot set up the client", rc);
    }
    smpdfu_client_tick(&k->c, smpdfu_posix_now_ms());
    return 0;
}

void conn_close(conn_t *k)
{
    if (k->cli->verbose && k->port.reconnects) {
        fprintf(stderr, "link re-established %u time(s)\n", (unsigned)k->port.reconnects);
    }
    smpdfu_posix_port_close(&k->port);
}

uint32_t conn_timeout(const conn_t *k)
{
    if (k->cli->timeout_ms > 0) {
        return (uint32_t)k->cli->timeout_ms;
    }
    return smpdfu_client_default_timeout_ms(k->port.link.kind);
}

int conn_retries(const conn_t *k)
{
    return k->cli->retries >= 0 ? k->cli->retries : SMPDFU_DEFAULT_RETRIES;
}

smpdfu_req_opts_t conn_opts(const conn_t *k)
{
    smpdfu_req_opts_t o = {conn_timeout(k), conn_retries(k), NULL};
    return o;
}

void conn_on_rsp(void *arg, const smpdfu_rsp_t *rsp)
{
    conn_t *k = arg;
    k->got = true;
    k->rsp = *rsp;
    if (rsp->payload && rsp->payload_len <= sizeof(k->payload)) {
        memcpy(k->payload, rsp->payload, rsp->payload_len);
        k->rsp.payload = k->payload;
    } else {
        k->rsp.payload = NULL;
        k->rsp.payload_len = 0;
    }
    k->rsp.rsn = NULL;
    if (rsp->rsn) {
        size_t n = rsp->rsn_len < sizeof(k->rsn) - 1 ? rsp->rsn_len : sizeof(k->rsn) - 1;
        memcpy(k->rsn, rsp->rsn, n);
        k->rsn[n] = 0;
        k->rsp.rsn = k->rsn;
        k->rsp.rsn_len = n;
    }
}

static bool got_done(void *arg)
{
    return ((conn_t *)arg)->got;
}

int conn_run(conn_t *k, bool (*done)(void *), void *arg)
{
    return smpdfu_posix_loop_run(&k->port, &k->c, done, arg, 0);
}

int conn_wait_rsp(conn_t *k)
{
    int rc = conn_run(k, got_done, k);
    if (rc) {
        return rc;
    }
    return k->rsp.status;
}

int conn_finish(conn_t *k, const char *what, int rc)
{
    if (rc == 0) {
        rc = conn_wait_rsp(k);
    }
    if (rc) {
        int ex = conn_fail(k, what, rc, &k->rsp.dev);
        conn_close(k);
        return ex;
    }
    return 0;
}

int conn_fail(conn_t *k, const char *what, int status, const smpdfu_dev_err_t *dev)
{
    char msg[512];
    if (status == SMPDFU_EDEVICE && dev) {
        char d[300];
        smpdfu_dev_err_format(dev, d, sizeof(d));
        if (k->rsp.rsn && k->rsp.status == SMPDFU_EDEVICE) {
            snprintf(msg, sizeof(msg), "the device refused %s: %s; it says \"%s\"", what, d, k->rsp.rsn);
        } else {
            snprintf(msg, sizeof(msg), "the device refused %s: %s", what, d);
        }
    } else if (status == SMPDFU_ETIMEOUT && k->rx_pkts > 0) {
        /* It answered before: the port is right, the device went quiet. */
        snprintf(msg, sizeof(msg),
                 "%s: the device stopped answering on %s (waited %.1f s per try, %d tries; it "
                 "had sent %u answers, the last %.1f s before giving up)",
                 what, k->cli->conn, conn_timeout(k) / 1000.0, conn_retries(k) + 1, k->rx_pkts,
                 (smpdfu_posix_now_ms() - k->last_rx_ms) / 1000.0);
    } else if (status == SMPDFU_ETIMEOUT && k->port.rx_bytes > 0) {
        snprintf(msg, sizeof(msg),
                 "%s: no SMP answer from %s (waited %.1f s per try, %d tries), though %u bytes "
                 "that were not SMP answers arrived: is SMP enabled on this port, and is the "
                 "framing right (console framing, or ,raw)?",
                 what, k->cli->conn, conn_timeout(k) / 1000.0, conn_retries(k) + 1,
                 (unsigned)k->port.rx_bytes);
    } else if (status == SMPDFU_ETIMEOUT) {
        snprintf(msg, sizeof(msg),
                 "%s: no answer from %s (waited %.1f s per try, %d tries): is the device there "
                 "and is this the right port?",
                 what, k->cli->conn, conn_timeout(k) / 1000.0, conn_retries(k) + 1);
    } else if (status == SMPDFU_ESILENT && k->detail[0]) {
        snprintf(msg, sizeof(msg), "%s: %s", what, k->detail);
    } else if (status == SMPDFU_EOVERSIZE && k->port.link.kind == SMPDFU_LINK_BLE) {
        snprintf(msg, sizeof(msg),
                 "%s: the BLE link's ATT MTU is %zu, so one write carries %zu bytes, too few for this "
                 "request (the device does not reassemble requests split over writes): the device or "
                 "the adapter must allow a larger MTU (Zephyr: CONFIG_BT_L2CAP_TX_MTU/BT_BUF_ACL_RX_SIZE "
                 "of 252 or more), or use ,reassembly if the device is built with "
                 "CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY",
                 what, k->port.link.mtu, k->port.link.mtu - 3);
    } else if (status == SMPDFU_ECLOSED) {
        snprintf(msg, sizeof(msg), "%s: the connection %s was closed", what, k->cli->conn);
    } else {
        snprintf(msg, sizeof(msg), "%s: %s", what, smpdfu_strerror(status));
    }
    return conn_fail_msg(k, msg, status, dev);
}

int conn_fail_msg(conn_t *k, const char *msg, int status, const smpdfu_dev_err_t *dev)
{
    conn_progress_end(k);
    smpdfu_cli_error("%s", msg);
    if (k->cli->json) {
        printf("{\"error\": ");
        smpdfu_cli_json_str(stdout, msg);
        printf(", \"code\": ");
        smpdfu_cli_json_str(stdout, smpdfu_err_name(status));
        if (status == SMPDFU_EDEVICE && dev) {
            printf(", \"device\": {\"group\": %u, \"rc\": %ld, \"group_error\": %s}", dev->group,
                   (long)dev->rc, dev->group_err ? "true" : "false");
        }
        printf("}\n");
    }
    return SMPDFU_EXIT_FAIL;
}

uint32_t conn_silence_ms(const conn_t *k)
{
    return k->cli->give_up_ms > 0 ? (uint32_t)k->cli->give_up_ms : 0;
}

size_t conn_packet_size(const conn_t *k)
{
    return k->cli->packet_size > 0 ? (size_t)k->cli->packet_size : 0;
}

uint32_t conn_pace_us(const conn_t *k)
{
    if (k->cli->pace_us < 0) {
        return 0; /* detect */
    }
    return k->cli->pace_us == 0 ? SMPDFU_UPLOAD_PACE_OFF : (uint32_t)k->cli->pace_us;
}

static const char *heard_text(uint8_t what)
{
    switch (what) {
    case SMPDFU_UPLOAD_HEARD_PARAMS:
        return "its buffer parameters";
    case SMPDFU_UPLOAD_HEARD_FIRST:
        return "the answer to the first chunk";
    case SMPDFU_UPLOAD_HEARD_CHUNK:
        return "the answer to a chunk";
    case SMPDFU_UPLOAD_HEARD_PROBE:
        return "the answer to an offset probe";
    case SMPDFU_UPLOAD_HEARD_STATE:
        return "its image list";
    case SMPDFU_UPLOAD_HEARD_OTHER:
        return "a late answer to an earlier request";
    default:
        return "nothing";
    }
}

void conn_upload_summary(conn_t *k, const char *label, const void *result)
{
    const smpdfu_upload_result_t *r = result;
    if (r->status == SMPDFU_ESILENT) {
        double g = (k->cli->give_up_ms > 0 ? k->cli->give_up_ms : (int)SMPDFU_DEFAULT_SILENCE_MS) / 1000.0;
        if (r->heard) {
            snprintf(k->detail, sizeof(k->detail),
                     "the device has been silent for %.1f s (--give-up %.0f); it last answered %.1f s "
                     "into the upload with %s (offset %u of %u): is it still powered and connected?",
                     r->silent_ms / 1000.0, g, r->heard_ms / 1000.0, heard_text(r->heard_what),
                     r->heard_off, r->size);
        } else {
            snprintf(k->detail, sizeof(k->detail),
                     "the device has been silent for %.1f s (--give-up %.0f) and said nothing during "
                     "the upload: is it still powered and connected?",
                     r->silent_ms / 1000.0, g);
        }
    }
    if (k->cli->verbose && !k->cli->quiet) {
        char pace[32] = "off";
        if (r->pace_us) {
            snprintf(pace, sizeof(pace), "%u us", r->pace_us);
        }
        conn_progress_end(k);
        fprintf(stderr,
                "%s: %zu-byte packets, window %u (1..%u, least %u), line pacing %s, %u "
                "retransmissions, %u probes, %u first-chunk resends, size %u down / %u up, "
                "timeout %u ms\n",
                label, r->max_packet, r->window, r->window_max, r->window_min, pace, r->retransmits,
                r->probes, r->first_again, r->shrinks, r->grows, r->rto_ms);
    }
}

void conn_upload_json(const void *result)
{
    const smpdfu_upload_result_t *r = result;
    printf("\"packet_size\": %zu, \"window\": %u, \"window_min\": %u, \"window_max\": %u, "
           "\"pace_us\": %u, \"retransmits\": %u, \"probes\": %u, \"first_again\": %u, "
           "\"shrinks\": %u, \"grows\": %u, \"go_backs\": %u, \"rto_ms\": %u",
           r->max_packet, r->window, r->window_min, r->window_max, r->pace_us, r->retransmits,
           r->probes, r->first_again, r->shrinks, r->grows, r->go_backs, r->rto_ms);
}

void conn_upload_note(conn_t *k, const char *label, const void *note)
{
    const smpdfu_upload_note_t *n = note;
    if (!k->cli->verbose || k->cli->quiet) {
        return;
    }
    conn_progress_end(k);
    switch (n->kind) {
    case SMPDFU_UPLOAD_NOTE_SHRINK:
    case SMPDFU_UPLOAD_NOTE_GROW:
        fprintf(stderr, "%s: %s (%u bytes, at offset %u)\n", label, n->text, n->value, n->off);
        break;
    case SMPDFU_UPLOAD_NOTE_PACE:
        if (n->value) {
            fprintf(stderr, "%s: %s (%u us after each line)\n", label, n->text, n->value);
        } else {
            fprintf(stderr, "%s: longer pauses between lines did not help (the link loses long "
                            "frames): line pacing off\n", label);
        }
        break;
    default:
        fprintf(stderr, "%s: %s (offset %u)\n", label, n->text, n->off);
        break;
    }
}

void conn_rate(char *buf, size_t cap, uint64_t bytes, uint64_t ms)
{
    if (ms == 0) {
        snprintf(buf, cap, "-- B/s"); /* too fast to time, not zero */
        return;
    }
    double r = (double)bytes * 1000.0 / (double)ms;
    if (r >= 1e6) {
        snprintf(buf, cap, "%.2f MB/s", r / 1e6);
    } else if (r >= 1e3) {
        snprintf(buf, cap, "%.1f kB/s", r / 1e3);
    } else {
        snprintf(buf, cap, "%.0f B/s", r);
    }
}

void conn_progress(conn_t *k, const char *label, uint32_t off, uint32_t size)
{
    uint64_t now = smpdfu_posix_now_ms();
    if (!k->prog_start) {
        k->prog_start = now;
        k->prog_first_off = off;
    }
    k->prog_now = now;
    k->prog_off = off;
    if (k->cli->quiet) {
        return;
    }
    bool tty = isatty(2);
    if (!tty || k->cli->json) {
        /* Not a terminal: no bar; with -v one line per step (for logs and tests). */
        if (k->cli->verbose) {
            fprintf(stderr, "progress %s %u/%u\n", label, off, size);
            fflush(stderr);
        }
        return;
    }
    if (off < size && now - k->prog_last < 100) {
        return;
    }
    k->prog_last = now;
    uint64_t ms = now - k->prog_start;
    uint64_t done = off - k->prog_first_off;
    double left = (ms && done) ? (double)(size - off) * (double)ms / (double)done / 1000.0 : 0;
    char rate[32];
    conn_rate(rate, sizeof(rate), done, ms);
    unsigned pct = size ? (unsigned)((uint64_t)off * 100 / size) : 100;
    char bar[31];
    unsigned fill = size ? (unsigned)((uint64_t)off * 30 / size) : 30;
    for (unsigned i = 0; i < 30; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[30] = 0;
    fprintf(stderr, "\r%s [%s] %3u%%  %u/%u B  %s  %d:%02d left ", label, bar, pct, off, size, rate,
            (int)left / 60, (int)left % 60);
    k->prog_shown = true;
    if (off >= size) {
        conn_progress_end(k);
    }
}

void conn_progress_end(conn_t *k)
{
    if (k->prog_shown) {
        fputc('\n', stderr);
        k->prog_shown = false;
    }
    if (k->prog_start) {
        /* Kept for the summary line: what this upload moved and how long it took. */
        k->sum_bytes += k->prog_off - k->prog_first_off;
        k->sum_ms += k->prog_now - k->prog_start;
    }
    k->prog_start = 0;
}

/* One synchronous request on an open connection; 0, or the failure already
 * reported (exit status). *answered tells whether the device understood it
 * (a device error such as "not supported" is no failure here). */
static int ask(conn_t *k, const char *what, int rc, bool *answered)
{
    if (rc == 0) {
        rc = conn_wait_rsp(k);
    }
    *answered = rc == 0;
    if (rc == 0 || rc == SMPDFU_EDEVICE) {
        return 0;
    }
    return conn_fail(k, what, rc, &k->rsp.dev);
}

int conn_check_target(conn_t *k, long image, long *window, bool force)
{
    smpdfu_req_opts_t o = conn_opts(k);
    bool ok;
    int ex;
    if (*window > 0) {
        k->got = false;
        if ((ex = ask(k, "reading the parameters", smpdfu_os_params(&k->c, &o, conn_on_rsp, k),
                      &ok))) {
            return ex;
        }
        smpdfu_os_params_t p;
        if (ok && smpdfu_os_params_parse(&k->rsp, &p) == 0) {
            smpdfu_client_set_params(&k->c, p.buf_size, p.buf_count);
            if (p.buf_count >= 1 && (uint32_t)*window > p.buf_count) {
                /* Zephyr drops what arrives while all its buffers are taken. */
                smpdfu_cli_error("warning: --window %ld is more than the device's %u SMP buffers "
                                 "(os params buf_count): it would drop the extra chunks, so %u "
                                 "are sent at a time",
                                 *window, p.buf_count, p.buf_count);
                *window = (long)p.buf_count;
            }
        }
    }
    if (image <= 0 || force) {
        return 0;
    }
    /* A one-image Zephyr ignores "image" and writes image 0's secondary
     * slot; a multi-image one answers "no free slot". Ask first. */
    static smpdfu_img_slotinfo_t si;
    k->got = false;
    if ((ex = ask(k, "reading the slot info", smpdfu_img_slot_info(&k->c, &o, conn_on_rsp, k),
                  &ok))) {
        return ex;
    }
    long highest = -1;
    if (ok && smpdfu_img_slot_info_parse(&k->rsp, &si) == 0) {
        if (si.dropped) {
            return 0; /* more images than we can hold: no verdict */
        }
        for (size_t i = 0; i < si.count; i++) {
            if (si.images[i].image == (uint32_t)image) {
                return 0;
            }
            highest = (long)si.images[i].image > highest ? (long)si.images[i].image : highest;
        }
    } else {
        /* No slot info (CONFIG_MCUMGR_GRP_IMG_SLOT_INFO=n): the image list. */
        static smpdfu_img_state_t st;
        k->got = false;
        if ((ex = ask(k, "reading the image list", smpdfu_img_state_read(&k->c, &o, conn_on_rsp, k),
                      &ok))) {
            return ex;
        }
        if (!ok || smpdfu_img_state_parse(&k->rsp, &st) != 0 || st.dropped) {
            return 0;
        }
        for (size_t i = 0; i < st.count; i++) {
            if (st.slots[i].image == (uint32_t)image) {
                return 0;
            }
            highest = (long)st.slots[i].image > highest ? (long)st.slots[i].image : highest;
        }
    }
    char has[64], msg[400];
    if (highest > 0) {
        snprintf(has, sizeof(has), "it has images 0 to %ld", highest);
    } else {
        snprintf(has, sizeof(has), "it has %s", highest == 0 ? "image 0 only" : "no image listed");
    }
    snprintf(msg, sizeof(msg),
             "the device has no image %ld (%s): a Zephyr device with one image ignores the image "
             "number and would write the file over image 0's secondary slot; nothing was sent "
             "(--force sends it anyway)",
             image, has);
    return conn_fail_msg(k, msg, SMPDFU_ENOTFOUND, NULL);
}
