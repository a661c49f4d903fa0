/* SPDX-License-Identifier: Apache-2.0 */
/* A gateway on a host, for the uplink end-to-end tests: it pulls an image
 * over the uplink block protocol (the portable uplink client feeding a
 * smpdfu_stream_t, as the gateway firmware does) and relays it with the DFU
 * orchestrator to an SMP device (smpdfu-target).
 *
 *   uplink_gateway --target udp:127.0.0.1:1337 --uplink tcp|pty
 *                  [--mode test-confirm|...|upload-only] [--window N]
 *                  [--crc-n N] [--block N] [--timeout-ms N] [--key PUB.pem]
 *
 * stdout, one line each: "uplink: tcp:127.0.0.1:PORT" (or "uplink:
 * serial:/dev/pts/N") for `smpdfu serve-image --conn ...`, "info size=N
 * sha=0|1", "uplink retry N" / "uplink back OFF" / "uplink refetch OFF",
 * "connected" / "disconnected" (tcp), "progress OFF/SIZE", "event: TEXT",
 * "ram: ..." (bytes the stream and uplink use), and last "result: ok" or
 * "result: ERRNAME: sentence". Exit 0 only on success. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "smpdfu/dfu.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/uplink.h"

#define NREQS 12
#define SLOT 2100

static smpdfu_client_t cl;
static smpdfu_req_t reqs[NREQS];
static uint8_t req_mem[NREQS * SLOT], rx[SLOT + 64], tx[2 * SLOT + 256];
static smpdfu_dfu_t dfu;
static smpdfu_stream_t st;
static smpdfu_uplink_t ul;
static uint8_t window[64 * 1024];
static uint32_t crc[4096];
static uint8_t sig_scratch[512];
static uint8_t ul_rx[SMPDFU_UPLINK_FRAME_LEN(4 + SMPDFU_UPLINK_MAX_BLOCK)], ul_tx[32];
static int up_fd = -1, listen_fd = -1;
static bool done;
static smpdfu_dfu_result_t result;

static int up_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    if (up_fd < 0) {
        return SMPDFU_EIO; /* no host now: a lost frame, resent on timeout */
    }
    while (n) {
        ssize_t w = write(up_fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return SMPDFU_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void on_uplink(void *arg, smpdfu_uplink_ev_t ev, uint32_t v)
{
    (void)arg;
    switch (ev) {
    case SMPDFU_UPLINK_EV_RETRY:
        printf("uplink retry %u\n", v);
        break;
    case SMPDFU_UPLINK_EV_BACK:
        printf("uplink back %u\n", v);
        break;
    case SMPDFU_UPLINK_EV_REFETCH:
        printf("uplink refetch %u\n", v);
        break;
    case SMPDFU_UPLINK_EV_FAILED:
        printf("uplink failed: %s\n", smpdfu_strerror(-(int)v));
        break;
    default:
        break;
    }
    fflush(stdout);
}

static void on_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    (void)arg;
    printf("event: %s\n", ev->text);
    fflush(stdout);
}

static void on_progress(void *arg, int image, uint32_t off, uint32_t size)
{
    (void)arg;
    (void)image;
    printf("progress %u/%u\n", off, size);
    fflush(stdout);
}

static void on_done(void *arg, const smpdfu_dfu_result_t *res)
{
    (void)arg;
    done = true;
    result = *res;
}

static int open_uplink(const char *kind)
{
    if (!strcmp(kind, "tcp")) {
        listen_fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int one = 1;
        setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) || listen(listen_fd, 1)) {
            return -1;
        }
        socklen_t l = sizeof(a);
        getsockname(listen_fd, (struct sockaddr *)&a, &l);
        printf("uplink: tcp:127.0.0.1:%u\n", ntohs(a.sin_port));
        return 0;
    }
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        return -1;
    }
    const char *name = ptsname(m);
    /* Keep the slave open ourselves: the master then never reports a
     * hang-up while the host program is not there. */
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0) {
        return -1;
    }
    struct termios t;
    tcgetattr(s, &t);
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
    up_fd = m;
    printf("uplink: serial:%s\n", name);
    return 0;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *uplink = "tcp", *key = NULL;
    smpdfu_dfu_mode_t mode = SMPDFU_DFU_TEST_CONFIRM;
    size_t win = 8192, crc_n = 0; /* 0: what the size needs */
    unsigned block = 1024;
    uint32_t up_timeout = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--target")) {
            target = argv[i + 1];
        } else if (!strcmp(argv[i], "--uplink")) {
            uplink = argv[i + 1];
        } else if (!strcmp(argv[i], "--mode")) {
            if (smpdfu_dfu_mode_parse(argv[i + 1], &mode)) {
                return 2;
            }
        } else if (!strcmp(argv[i], "--window")) {
            win = strtoul(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--crc-n")) {
            crc_n = strtoul(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--block")) {
            block = (unsigned)strtoul(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--timeout-ms")) {
            up_timeout = (uint32_t)strtoul(argv[i + 1], NULL, 0);
        } else if (!strcmp(argv[i], "--key")) {
            key = argv[i + 1];
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!target || win > sizeof(window) || crc_n > sizeof(crc) / sizeof(crc[0])) {
        fprintf(stderr, "usage: uplink_gateway --target SPEC [--uplink tcp|pty] ...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    smpdfu_posix_port_t port;
    memset(&port, 0, sizeof(port));
    port.fd = -1;
    if (smpdfu_posix_port_parse(&port, target) || smpdfu_posix_port_open(&port, 2000)) {
        printf("result: cannot open %s\n", target);
        return 1;
    }
    smpdfu_client_cfg_t cc;
    smpdfu_posix_client_cfg(&cc, &port, reqs, NREQS, req_mem, sizeof(req_mem), rx, sizeof(rx), tx,
                            sizeof(tx));
    cc.timeout_ms = 1000;
    cc.retries = 5;
    if (smpdfu_client_init(&cl, &cc)) {
        return 1;
    }
    if (open_uplink(uplink)) {
        printf("result: cannot open the uplink\n");
        return 1;
    }
    smpdfu_uplink_cfg_t uc = {0};
    uc.send = up_send;
    uc.rx_buf = ul_rx;
    uc.rx_cap = sizeof(ul_rx);
    uc.tx_buf = ul_tx;
    uc.tx_cap = sizeof(ul_tx);
    uc.block = (uint16_t)block;
    uc.timeout_ms = up_timeout;
    uc.retries = -1; /* a cut uplink is waited for */
    uc.event = on_uplink;
    smpdfu_uplink_init(&ul, &uc);
    smpdfu_uplink_request_info(&ul);

    smpdfu_posix_hash_state_t hs_stream, hs_dfu;
    smpdfu_hash_t h_stream, h_dfu;
    smpdfu_posix_hash_init(&hs_stream, &h_stream);
    smpdfu_posix_hash_init(&hs_dfu, &h_dfu);
    smpdfu_posix_sigkey_t sk;
    smpdfu_sig_verify_t sv;
    if (key) {
        if (smpdfu_posix_sigkey_load(&sk, key, &sv)) {
            printf("result: cannot load key %s\n", key);
            return 1;
        }
    }
    bool started = false;
    for (;;) {
        uint64_t now = smpdfu_posix_now_ms();
        smpdfu_client_tick(&cl, now);
        smpdfu_uplink_tick(&ul, now);
        if (!started && smpdfu_uplink_info(&ul)) {
            const smpdfu_uplink_info_t *info = smpdfu_uplink_info(&ul);
            printf("info size=%u sha=%d\n", info->size, info->has_sha);
            smpdfu_stream_cfg_t sc = {0};
            sc.size = info->size;
            sc.window = window;
            sc.window_len = win;
            if (!crc_n) {
                crc_n = smpdfu_stream_crc_entries(info->size, win);
            }
            sc.crc = crc;
            sc.crc_n = crc_n;
            sc.hash = &h_stream;
            sc.file_sha = info->has_sha ? info->sha : NULL;
            if (key) {
                sc.sig = &sv;
                sc.scratch = sig_scratch;
                sc.scratch_len = sizeof(sig_scratch);
            }
            int rc = smpdfu_stream_init(&st, &sc);
            if (rc) {
                printf("result: %s: %s\n", smpdfu_err_name(rc), smpdfu_strerror(rc));
                return 1;
            }
            printf("ram: stream %zu window %zu crc %zu scratch %zu uplink %zu uplink_rx %zu "
                   "uplink_tx %zu total %zu (block %u)\n",
                   sizeof(st), win, crc_n * 4, key ? sizeof(sig_scratch) : (size_t)0, sizeof(ul),
                   sizeof(ul_rx), sizeof(ul_tx),
                   sizeof(st) + win + crc_n * 4 + (key ? sizeof(sig_scratch) : 0) + sizeof(ul) +
                       sizeof(ul_rx) + sizeof(ul_tx),
                   st.block);
            smpdfu_uplink_attach(&ul, &st);
            smpdfu_dfu_cfg_t d = {0};
            d.images[0].src = smpdfu_stream_source(&st);
            d.images[0].stream = &st;
            d.nimages = 1;
            d.mode = mode;
            d.hash = &h_dfu;
            d.retries = -1;
            d.event = on_event;
            d.progress = on_progress;
            d.done = on_done;
            rc = smpdfu_dfu_start(&dfu, &cl, &d);
            if (rc) {
                printf("result: %s: %s\n", smpdfu_err_name(rc), smpdfu_strerror(rc));
                return 1;
            }
            started = true;
            smpdfu_uplink_tick(&ul, now);
        }
        if (done) {
            break;
        }
        uint32_t t1 = smpdfu_client_next_timeout(&cl), t2 = smpdfu_uplink_next_timeout(&ul);
        uint32_t t = t1 < t2 ? t1 : t2;
        struct pollfd pf[3];
        int n = 0;
        pf[n++] = (struct pollfd){port.fd, POLLIN, 0};
        if (up_fd >= 0) {
            pf[n++] = (struct pollfd){up_fd, POLLIN, 0};
        } else if (listen_fd >= 0) {
            pf[n++] = (struct pollfd){listen_fd, POLLIN, 0};
        }
        int pr = poll(pf, (nfds_t)n, t > 1000 ? 1000 : (int)t);
        if (pr < 0 && errno != EINTR) {
            printf("result: poll failed\n");
            return 1;
        }
        if (pr <= 0) {
            continue;
        }
        uint8_t buf[4096];
        if (pf[0].revents) {
            ssize_t r = read(port.fd, buf, sizeof(buf));
            if (r > 0) {
                smpdfu_client_feed(&cl, buf, (size_t)r);
            }
        }
        if (n > 1 && pf[1].revents) {
            if (up_fd < 0) {
                up_fd = accept(listen_fd, NULL, NULL);
                if (up_fd >= 0) {
                    printf("connected\n");
                }
            } else {
                ssize_t r = read(up_fd, buf, sizeof(buf));
                if (r > 0) {
                    if (smpdfu_uplink_feed(&ul, buf, (size_t)r) != 0) {
                        smpdfu_dfu_kick(&dfu);
                    }
                } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                    if (listen_fd >= 0) {
                        close(up_fd);
                        up_fd = -1;
                        printf("disconnected\n");
                    }
                }
            }
        }
        /* The stream may have failed or got bytes: let the upload look. */
        if (started) {
            smpdfu_dfu_kick(&dfu);
        }
    }
    smpdfu_posix_hash_free(&hs_stream);
    smpdfu_posix_hash_free(&hs_dfu);
    if (key) {
        smpdfu_posix_sigkey_free(&sk);
    }
    smpdfu_posix_port_close(&port);
    const smpdfu_upload_result_t *u = &result.upload[0];
    printf("uplink retries %u dropped %u; upload go_backs %u restarts %u resumed %d\n",
           ul.retries_total, ul.frames_dropped, u->go_backs, u->restarts, u->resumed);
    if (result.status) {
        printf("result: %s: %s\n", smpdfu_err_name(result.status), smpdfu_strerror(result.status));
        return 1;
    }
    printf("result: ok\n");
    return 0;
}
