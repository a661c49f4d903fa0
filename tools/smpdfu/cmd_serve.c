/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu serve-image FILE|URL --conn SPEC: the host end of the uplink block
 * protocol (docs/uplink.md). A gateway pulls the image block by block over
 * a serial line (a pty, a UART adapter) or a TCP socket (QEMU's chardev).
 * The host is stateless: every good request gets its answer; a link that
 * goes away is opened again until the process is stopped. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void pause_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct {
    const smpdfu_cli_t *cli;
    img_source_t src;
    smpdfu_uplink_info_t info;
    uint32_t max_block;
    uint32_t requests, bytes_sent;
} serve_t;

static int answer(serve_t *sv, const smpdfu_uplink_frame_t *f, uint8_t *out, size_t cap)
{
    uint32_t off;
    uint16_t len;
    switch (f->type) {
    case SMPDFU_UPLINK_INFO:
        if (sv->cli->verbose) {
            fprintf(stderr, "serve-image: INFO seq=%u -> size %u\n", f->seq, sv->info.size);
        }
        return smpdfu_uplink_put_info(f->seq, &sv->info, out, cap);
    case SMPDFU_UPLINK_READ:
        if (smpdfu_uplink_parse_read(f, &off, &len) != 0) {
            break;
        }
        if (len == 0 || off >= sv->info.size) {
            if (sv->cli->verbose) {
                fprintf(stderr, "serve-image: READ seq=%u off=%u len=%u -> out of range\n", f->seq,
                        off, len);
            }
            return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_RANGE, "offset outside the image",
                                         out, cap);
        } else {
            uint32_t n = len;
            if (n > sv->max_block) {
                n = sv->max_block;
            }
            if (n > sv->info.size - off) {
                n = sv->info.size - off;
            }
            uint8_t *dst = out + SMPDFU_UPLINK_HDR_LEN + 4;
            int rc = sv->src.src.read(sv->src.src.ctx, off, dst, n);
            if (rc) {
                return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_SOURCE,
                                             "the host cannot read its image", out, cap);
            }
            sv->requests++;
            sv->bytes_sent += n;
            if (sv->cli->verbose) {
                fprintf(stderr, "serve-image: READ seq=%u off=%u len=%u -> %u bytes\n", f->seq, off,
                        len, n);
            }
            return smpdfu_uplink_put_data(f->seq, off, NULL, n, out, cap);
        }
    default:
        break;
    }
    return smpdfu_uplink_put_err(f->seq, SMPDFU_UPLINK_ERR_BAD, "unknown or malformed request", out,
                                 cap);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 1000);
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
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
    sv.max_block = block;
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
    static uint8_t rxbuf[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
    static uint8_t out[SMPDFU_UPLINK_FRAME_LEN(SMPDFU_UPLINK_MAX_PAYLOAD)];
    smpdfu_uplink_dec_t dec;
    smpdfu_uplink_dec_init(&dec, rxbuf, sizeof(rxbuf));
    bool announced = false;
    int status = SMPDFU_EXIT_OK;
    while (!stop) {
        if (port.fd < 0) {
            if (smpdfu_posix_port_open(&port, SMPDFU_DEFAULT_TIMEOUT_MS) != 0) {
                /* The gateway is not there (yet, or again): try again. */
                pause_ms(100);
                continue;
            }
            port.closed = false;
            smpdfu_uplink_dec_init(&dec, rxbuf, sizeof(rxbuf));
            if (!cli->quiet) {
                fprintf(stderr, "serve-image: %u bytes of %s on %s\n", sv.info.size, path,
                        cli->conn);
            }
            if (!announced) {
                printf("ready\n");
                fflush(stdout);
                announced = true;
            }
        }
        struct pollfd pf = {port.fd, POLLIN, 0};
        int pr = poll(&pf, 1, 200);
        if (pr < 0) {
            if (errno == EINTR) {
                continue;
            }
            status = SMPDFU_EXIT_FAIL;
            break;
        }
        if (pr == 0) {
            continue;
        }
        uint8_t in[512];
        ssize_t r = read(port.fd, in, sizeof(in));
        if (r <= 0) {
            if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            /* EOF or hang-up: the gateway went away; wait for it again. */
            if (!cli->quiet) {
                fprintf(stderr, "serve-image: %s closed, opening it again\n", cli->conn);
            }
            smpdfu_posix_port_close(&port);
            port.fd = -1;
            pause_ms(100);
            continue;
        }
        size_t pos = 0;
        for (;;) { /* until the decoder has no whole frame left, even after all of in */
            size_t used = 0;
            smpdfu_uplink_frame_t f;
            int got = smpdfu_uplink_dec_feed(&dec, in + pos, (size_t)r - pos, &used, &f);
            pos += used;
            if (!got) {
                break;
            }
            int n = answer(&sv, &f, out, sizeof(out));
            if (n > 0 && write_all(port.fd, out, (size_t)n) != 0) {
                break; /* the next read sees the hang-up */
            }
        }
    }
    if (!cli->quiet) {
        fprintf(stderr, "serve-image: served %u blocks, %u bytes\n", sv.requests, sv.bytes_sent);
    }
    smpdfu_posix_port_close(&port);
    img_source_close(&sv.src);
    return status;
}
