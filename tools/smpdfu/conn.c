/* smpdfu CLI: connection, synchronous requests, error words, progress. */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smpdfu/posix.h"
#include "smpdfu/smp.h"

static void trace(void *arg, bool tx, const uint8_t *pkt, size_t len)
{
    conn_t *k = arg;
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
        smpdfu_cli_error("cannot open %s: %s (%s)", cli->conn, smpdfu_strerror(rc), strerror(errno));
        return SMPDFU_EXIT_FAIL;
    }
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link = k->port.link;
    cfg.send = smpdfu_posix_port_send;
    cfg.send_ctx = &k->port;
    cfg.reqs = k->reqs;
    cfg.nreqs = CONN_SLOTS;
    cfg.req_mem = k->req_mem;
    cfg.req_mem_len = sizeof(k->req_mem);
    cfg.rx_buf = k->rx;
    cfg.rx_cap = sizeof(k->rx);
    cfg.tx_buf = k->tx;
    cfg.tx_cap = sizeof(k->tx);
    cfg.timeout_ms = conn_timeout(k);
    cfg.retries = conn_retries(k);
    /* A fresh sequence per run so a previous run's late answers do not match. */
    cfg.first_seq = (uint8_t)(getpid() ^ smpdfu_posix_now_ms());
    if (cli->verbose) {
        cfg.trace = trace;
        cfg.trace_arg = k;
    }
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
    return k->port.kind == SMPDFU_POSIX_UDP ? 1000u : 2000u;
}

int conn_retries(const conn_t *k)
{
    return k->cli->retries >= 0 ? k->cli->retries : 3;
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
    } else if (status == SMPDFU_ETIMEOUT) {
        snprintf(msg, sizeof(msg),
                 "%s: no answer from %s (waited %.1f s per try, %d tries): is the device there "
                 "and is this the right port?",
                 what, k->cli->conn, conn_timeout(k) / 1000.0, conn_retries(k) + 1);
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
