/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu serve-image FILE|URL --conn SPEC: the host end of the uplink block
 * protocol (docs/uplink.md). A gateway pulls the image block by block over
 * a serial line (a pty, a UART adapter) or a TCP socket (QEMU's chardev).
 * The host is stateless: every good request gets its answer; a link that
 * goes away is opened again until the process is stopped. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/uplink.h"
#include "source.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

typedef struct {
    const smpdfu_cli_t *cli;
    const char *path;
    img_source_t src;
    smpdfu_uplink_info_t info;
    smpdfu_uplink_dec_t dec;
    bool announced;
    uint32_t requests, bytes_sent;
} serve_t;

static uint8_t rxbuf[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
static uint8_t out[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];

static void opened(void *ctx, smpdfu_posix_port_t *p)
{
    serve_t *sv = ctx;
    (void)p;
    smpdfu_uplink_dec_init(&sv->dec, rxbuf, sizeof(rxbuf));
    if (!sv->cli->quiet) {
        fprintf(stderr, "serve-image: %u bytes of %s on %s\n", sv->info.size, sv->path,
                sv->cli->conn);
    }
    if (!sv->announced) {
        printf("ready\n");
        fflush(stdout);
        sv->announced = true;
    }
}

static void closed(void *ctx, smpdfu_posix_port_t *p)
{
    serve_t *sv = ctx;
    (void)p;
    if (!sv->cli->quiet) {
        fprintf(stderr, "serve-image: %s closed, opening it again\n", sv->cli->conn);
    }
}

static void say(const serve_t *sv, const smpdfu_uplink_frame_t *f, const smpdfu_uplink_answer_t *a)
{
    if (!sv->cli->verbose) {
        return;
    }
    if (a->type == SMPDFU_UPLINK_INFO_RSP) {
        fprintf(stderr, "serve-image: INFO seq=%u -> size %u\n", f->seq, sv->info.size);
    } else if (a->type == SMPDFU_UPLINK_DATA) {
        fprintf(stderr, "serve-image: READ seq=%u off=%u len=%u -> %u bytes\n", f->seq, a->off,
                a->len, a->n);
    } else if (a->code == SMPDFU_UPLINK_ERR_RANGE) {
        fprintf(stderr, "serve-image: READ seq=%u off=%u len=%u -> out of range\n", f->seq,
                a->off, a->len);
    }
}

static void received(void *ctx, smpdfu_posix_port_t *p, const uint8_t *in, size_t len)
{
    serve_t *sv = ctx;
    size_t pos = 0;
    for (;;) { /* until the decoder has no whole frame left, even after all of in */
        size_t used = 0;
        smpdfu_uplink_frame_t f;
        int got = smpdfu_uplink_dec_feed(&sv->dec, in + pos, len - pos, &used, &f);
        pos += used;
        if (!got) {
            break;
        }
        smpdfu_uplink_answer_t a;
        int n = smpdfu_uplink_answer(&f, &sv->info, sv->src.src.read, sv->src.src.ctx, out,
                                     sizeof(out), &a);
        if (a.type == SMPDFU_UPLINK_DATA) {
            sv->requests++;
            sv->bytes_sent += a.n;
        }
        say(sv, &f, &a);
        /* Wait as long as the peer takes to read; a failure is seen as the
         * hang-up by the next read. */
        if (n > 0 && smpdfu_posix_port_write(p, out, (size_t)n, -1) != 0) {
            break;
        }
    }
}

int smpdfu_cmd_serve_image(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *path = NULL;
    uint32_t block = SMPDFU_UPLINK_MAX_BLOCK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--block") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > SMPDFU_UPLINK_MAX_BLOCK) {
                smpdfu_cli_error("--block wants a number from 1 to %u, not '%s'",
                                 SMPDFU_UPLINK_MAX_BLOCK, argv[i]);
                return SMPDFU_EXIT_USAGE;
            }
            block = (uint32_t)v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            smpdfu_cli_error("serve-image: unknown option '%s'", argv[i]);
            return SMPDFU_EXIT_USAGE;
        } else if (!path) {
            path = argv[i];
        } else {
            smpdfu_cli_error("serve-image takes one FILE or URL");
            return SMPDFU_EXIT_USAGE;
        }
    }
    if (!path) {
        smpdfu_cli_error("usage: smpdfu --conn SPEC serve-image FILE|URL [--block N]");
        return SMPDFU_EXIT_USAGE;
    }
    if (!cli->conn || !*cli->conn) {
        smpdfu_cli_error("serve-image needs --conn serial:DEVICE or tcp:HOST:PORT (the gateway's "
                         "uplink UART)");
        return SMPDFU_EXIT_USAGE;
    }
    smpdfu_posix_port_t port;
    memset(&port, 0, sizeof(port));
    port.fd = -1;
    if (smpdfu_posix_port_parse(&port, cli->conn) || port.kind == SMPDFU_POSIX_UDP) {
        smpdfu_cli_error("cannot serve on '%s': expected serial:DEVICE[,baud=N] or tcp:HOST:PORT",
                         cli->conn);
        return SMPDFU_EXIT_USAGE;
    }

    static serve_t sv;
    memset(&sv, 0, sizeof(sv));
    sv.cli = cli;
    sv.path = path;
    if (img_source_open(&sv.src, cli, path)) {
        return SMPDFU_EXIT_FAIL;
    }
    sv.info.size = sv.src.src.size;
    sv.info.max_block = (uint16_t)block;
    /* The host holds the whole file: it can give its SHA-256, so the
     * gateway's upload can send `sha` and a device can resume. */
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    uint8_t scratch[4096];
    if (smpdfu_hash_range(&h, SMPDFU_HASH_SHA256, sv.src.src.read, sv.src.src.ctx, 0,
                          sv.info.size, scratch, sizeof(scratch), sv.info.sha) == 0) {
        sv.info.has_sha = true;
    }
    smpdfu_posix_hash_free(&hs);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    smpdfu_posix_peer_t peer = {&sv, opened, received, closed};
    int status = smpdfu_posix_port_serve(&port, &peer, &stop) == 0 ? SMPDFU_EXIT_OK
                                                                     : SMPDFU_EXIT_FAIL;
    if (!cli->quiet) {
        fprintf(stderr, "serve-image: served %u blocks, %u bytes\n", sv.requests, sv.bytes_sent);
    }
    img_source_close(&sv.src);
    return status;
}
