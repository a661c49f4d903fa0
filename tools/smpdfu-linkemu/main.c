/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-linkemu: link emulator between an SMP client and an SMP target.
 * Parses the command line and runs smpdfu_linkemu_run(); see docs/linkemu.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/error.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/version.h"
#include "smpdfu/linkemu.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smpdfu-linkemu serial [--target-pty PATH] [--baud B] [serial impairments] [common]\n"
            "       smpdfu-linkemu udp    [--listen H:P] [--target H:P] [udp impairments] [common]\n"
            "       smpdfu-linkemu ble    (udp options) [--mtu N] [--interval MS] [--pdus N] [--phy 1M|2M] [--ll-max N]\n"
            "       smpdfu-linkemu limits [--pkt N] [--overhead N] [--resp N] [--mtu N] [--interval MS] [--pdus N] [--phy 1M|2M]\n"
            "\n"
            "serial: prints 'client: PTY' (open it with the client) and 'target: PTY'. Without\n"
            "  --target-pty a second pty is created for the target to open.\n"
            "  --baud B          8N1 pacing, B/10 bytes per second each way (default 115200, 0 = none)\n"
            "  --loss P          probability a line (bytes up to \\n) is dropped\n"
            "  --flip P          probability a byte gets one bit flipped\n"
            "udp: relays datagrams from the client (to --listen, default 127.0.0.1:1338) to\n"
            "  --target (default 127.0.0.1:1337) and replies back. Loopback only unless --allow-remote.\n"
            "  --rate BPS        bandwidth in bytes/s (serialisation delay)\n"
            "  --jitter MS       +-uniform delay on top of --latency (order is kept)\n"
            "  --loss P, --dup P, --reorder P   per datagram; a reordered one is swapped with the next\n"
            "  --reorder-hold MS a held datagram goes out after this long if no other came (100)\n"
            "ble: udp with a BLE link model (defaults: MTU 247, 15 ms, 4 PDUs/event, 2M, LL 251).\n"
            "common:\n"
            "  --latency MS      one-way delay\n"
            "  --seed N          impairment random seed (default 0)\n"
            "  --stats-interval MS   print stats periodically\n"
            "  --duration S      stop after S seconds (else on SIGINT/SIGTERM)\n"
            "  --tick-us N       least time between wake-ups (default 500)\n"
            "  --trace FILE      one JSON line per carried byte (serial) or datagram (udp, ble):\n"
            "                    the times the model gave it, in us from the start (docs/linkemu.md)\n"
            "Impairment values take 'X' (both directions) or 'C2T,T2C'.\n"
            "  -h, --help        this text;  --version   print the version\n");
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
    return smpdfu_posix_arg_real(s, lo, hi, v) ? SMPDFU_EUSAGE : 0;
}

/* A count or an integer rate: "115200.5" baud is a typo, not a rate. */
static int parse_whole(const char *s, double lo, double hi, double *v)
{
    uint64_t x;
    if (smpdfu_posix_arg_uint(s, (uint64_t)lo, (uint64_t)hi, &x)) {
        return SMPDFU_EUSAGE;
    }
    *v = (double)x;
    return 0;
}

/* "X" or "C2T,T2C". */
static int parse_pair(const char *s, double lo, double hi, double v[2])
{
    char tmp[64];
    const char *comma = strchr(s, ',');
    if (!comma) {
        if (parse_num(s, lo, hi, &v[0])) {
            return SMPDFU_EUSAGE;
        }
        v[1] = v[0];
        return 0;
    }
    size_t n = (size_t)(comma - s);
    if (n >= sizeof(tmp)) {
        return SMPDFU_EUSAGE;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return (parse_num(tmp, lo, hi, &v[0]) || parse_num(comma + 1, lo, hi, &v[1])) ? SMPDFU_EUSAGE : 0;
}

typedef struct {
    double pkt, overhead, resp;
} limits_opts_t;

static int print_limits(const smpdfu_linkemu_cfg_t *cfg, const limits_opts_t *lo)
{
    static const uint32_t bauds[] = {115200, 1000000};
    smpdfu_linkemu_limit_t p = {.line_max = 127,
                                .pkt_len = (size_t)lo->pkt,
                                .overhead = (size_t)lo->overhead,
                                .resp_len = (size_t)lo->resp,
                                .ble = cfg->ble_cfg};
    printf("packet %zu B, %zu B of it not image data, response %zu B\n", p.pkt_len, p.overhead, p.resp_len);
    printf("%-44s %12s %12s\n", "link", "stop&wait", "pipelined");
    for (int kind = 0; kind < 3; kind++) {
        for (size_t b = 0; b < (kind == 2 ? 1 : sizeof(bauds) / sizeof(bauds[0])); b++) {
            char name[96];
            double v[2];
            p.kind = (smpdfu_linkemu_limit_kind_t)kind;
            p.baud = bauds[b];
            for (int pl = 0; pl < 2; pl++) {
                p.pipelined = pl;
                if (smpdfu_linkemu_limit_bps(&p, &v[pl])) {
                    fprintf(stderr, "smpdfu-linkemu: these parameters give no limit\n");
                    return 2;
                }
            }
            if (kind == 2) {
                snprintf(name, sizeof(name), "BLE %uM MTU %u LL %u, %.2f ms, %u PDUs/event",
                         p.ble.phy_mbps, p.ble.att_mtu, p.ble.ll_max, p.ble.interval_us / 1000.0,
                         p.ble.pdus_per_event);
            } else {
                snprintf(name, sizeof(name), "%s %u baud", kind == 0 ? "console" : "raw UART", p.baud);
            }
            printf("%-44s %8.2f KiB/s %8.2f KiB/s\n", name, v[0] / 1024.0, v[1] / 1024.0);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    smpdfu_linkemu_cfg_t cfg;
    smpdfu_linkemu_cfg_default(&cfg);
    limits_opts_t lo = {.pkt = 2048, .overhead = 20, .resp = 20};
    const char *trace = NULL;
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("smpdfu-linkemu %s\n", smpdfu_version());
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *mode = argv[1];
    bool limits = !strcmp(mode, "limits");
    if (!strcmp(mode, "serial")) {
        cfg.mode = SMPDFU_LINKEMU_SERIAL;
    } else if (!strcmp(mode, "udp") || !strcmp(mode, "ble")) {
        cfg.mode = SMPDFU_LINKEMU_UDP;
        cfg.ble = !strcmp(mode, "ble");
    } else if (!limits) {
        fprintf(stderr, "smpdfu-linkemu: unknown mode '%s' (serial, udp, ble, limits)\n", mode);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--allow-remote")) {
            cfg.allow_remote = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "smpdfu-linkemu: %s needs a value\n", a);
            return 2;
        }
        i++;
        double x = 0, pr[2] = {0, 0};
        int bad = 0;
        bool serial = cfg.mode == SMPDFU_LINKEMU_SERIAL && !limits;
        bool udp = cfg.mode == SMPDFU_LINKEMU_UDP && !limits;
        bool ble = cfg.ble || limits;
        if (!strcmp(a, "--target-pty") && serial) {
            cfg.target_pty = v;
        } else if (!strcmp(a, "--baud") && serial) {
            bad = parse_whole(v, 0, 100e6, &x);
            cfg.baud = (uint32_t)x;
        } else if (!strcmp(a, "--listen") && udp) {
            cfg.listen = v;
        } else if (!strcmp(a, "--target") && udp) {
            cfg.target = v;
        } else if (!strcmp(a, "--latency") && !limits) {
            bad = parse_pair(v, 0, 600000, pr);
            cfg.dir[0].latency_ms = pr[0], cfg.dir[1].latency_ms = pr[1];
        } else if (!strcmp(a, "--jitter") && udp) {
            bad = parse_pair(v, 0, 600000, pr);
            cfg.dir[0].jitter_ms = pr[0], cfg.dir[1].jitter_ms = pr[1];
        } else if (!strcmp(a, "--rate") && udp) {
            bad = parse_pair(v, 0, 1e12, pr);
            cfg.dir[0].rate_Bps = pr[0], cfg.dir[1].rate_Bps = pr[1];
        } else if (!strcmp(a, "--loss") && !limits) {
            bad = parse_pair(v, 0, 1, pr);
            cfg.dir[0].loss = pr[0], cfg.dir[1].loss = pr[1];
        } else if (!strcmp(a, "--flip") && serial) {
            bad = parse_pair(v, 0, 1, pr);
            cfg.dir[0].flip = pr[0], cfg.dir[1].flip = pr[1];
        } else if (!strcmp(a, "--dup") && udp) {
            bad = parse_pair(v, 0, 1, pr);
            cfg.dir[0].dup = pr[0], cfg.dir[1].dup = pr[1];
        } else if (!strcmp(a, "--reorder") && udp) {
            bad = parse_pair(v, 0, 1, pr);
            cfg.dir[0].reorder = pr[0], cfg.dir[1].reorder = pr[1];
        } else if (!strcmp(a, "--reorder-hold") && udp) {
            bad = parse_num(v, 0, 600000, &cfg.reorder_hold_ms);
        } else if (!strcmp(a, "--mtu") && ble) {
            bad = parse_whole(v, 23, 65535, &x);
            cfg.ble_cfg.att_mtu = (uint32_t)x;
        } else if (!strcmp(a, "--interval") && ble) {
            bad = parse_num(v, 7.5, 4000, &x);
            cfg.ble_cfg.interval_us = (uint32_t)(x * 1000.0 + 0.5);
        } else if (!strcmp(a, "--pdus") && ble) {
            bad = parse_whole(v, 1, 1000, &x);
            cfg.ble_cfg.pdus_per_event = (uint32_t)x;
        } else if (!strcmp(a, "--ll-max") && ble) {
            bad = parse_whole(v, 27, 251, &x);
            cfg.ble_cfg.ll_max = (uint32_t)x;
        } else if (!strcmp(a, "--phy") && ble) {
            bad = strcmp(v, "1M") && strcmp(v, "2M") ? SMPDFU_EUSAGE : 0;
            cfg.ble_cfg.phy_mbps = v[0] == '2' ? 2 : 1;
        } else if (!strcmp(a, "--seed") && !limits) {
            uint64_t seed = 0;
            bad = smpdfu_posix_arg_uint(v, 0, UINT64_MAX, &seed) ? SMPDFU_EUSAGE : 0;
            cfg.seed = seed;
        } else if (!strcmp(a, "--stats-interval") && !limits) {
            bad = parse_whole(v, 0, 3600000, &x);
            cfg.stats_interval_ms = (uint32_t)x;
        } else if (!strcmp(a, "--duration") && !limits) {
            bad = parse_num(v, 0, 1e7, &cfg.duration_s);
        } else if (!strcmp(a, "--trace") && !limits) {
            trace = v;
        } else if (!strcmp(a, "--tick-us") && !limits) {
            bad = parse_whole(v, 0, 1e6, &x);
            cfg.tick_us = (uint32_t)x;
        } else if (!strcmp(a, "--pkt") && limits) {
            bad = parse_whole(v, 9, 65535, &lo.pkt);
        } else if (!strcmp(a, "--overhead") && limits) {
            bad = parse_whole(v, 0, 65535, &lo.overhead);
        } else if (!strcmp(a, "--resp") && limits) {
            bad = parse_whole(v, 0, 65535, &lo.resp);
        } else {
            fprintf(stderr, "smpdfu-linkemu: option %s is not known in mode %s (see --help)\n", a, mode);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "smpdfu-linkemu: bad value '%s' for %s (a number in its range, see --help)\n",
                    v, a);
            return 2;
        }
    }
    if (limits) {
        return print_limits(&cfg, &lo);
    }
    /* Line-buffered so a parent reading our pipe sees each line at once. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (trace) {
        cfg.trace = fopen(trace, "w");
        if (!cfg.trace) {
            printf("error: cannot write the trace %s: %s\n", trace, strerror(errno));
            return 1;
        }
    }
    int rc = smpdfu_linkemu_run(&cfg, stdout);
    if (cfg.trace && fclose(cfg.trace)) {
        printf("error: cannot write the trace %s: %s\n", trace, strerror(errno));
        rc = rc ? rc : SMPDFU_EIO;
    }
    if (rc) {
        fprintf(stderr, "smpdfu-linkemu: %s\n", smpdfu_strerror(rc));
        return rc == SMPDFU_EINVAL ? 2 : 1;
    }
    return 0;
}
