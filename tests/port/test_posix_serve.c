/* SPDX-License-Identifier: Apache-2.0 */
/* Hosting the SMP server through the POSIX port (posix_serve.h), as a
 * program would: a real UDP socket and a real pty, the client engine on the
 * other end, and every wait on the event it expects (a datagram, bytes on
 * the pty, the reboot), never on a sleep. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "smpdfu/client_os.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/posix_serve.h"
#include "smpdfu/server.h"

#define BUF 384

/* The device: a server with the OS group, and what the hooks saw. */
typedef struct {
    smpdfu_server_t srv;
    smpdfu_os_group_t os;
    uint8_t rsp[BUF];
    smpdfu_posix_serve_t serve;
    int reboots;
    int logs;
    char log[8][160];
} device_t;

static void dev_log(void *ctx, const char *line)
{
    device_t *d = ctx;
    snprintf(d->log[d->logs % 8], sizeof(d->log[0]), "%s", line);
    d->logs++;
}

static void dev_start(device_t *d)
{
    assert_int_equal(smpdfu_server_init(&d->srv, d->rsp, sizeof(d->rsp)), 0);
    smpdfu_os_group_init(&d->os);
    d->os.buf_size = BUF;
    smpdfu_server_register(&d->srv, &d->os.group);
    d->srv.on_reset = smpdfu_posix_serve_reset;
    d->srv.reset_ctx = &d->serve;
}

/* The reboot: the application starts again (its server from scratch). */
static void dev_reboot(void *ctx)
{
    device_t *d = ctx;
    d->reboots++;
    dev_start(d);
}

static bool logged(const device_t *d, const char *text)
{
    for (int i = 0; i < d->logs && i < 8; i++) {
        if (strstr(d->log[i], text)) {
            return true;
        }
    }
    return false;
}

/* The host: a client on a port. */
typedef struct {
    smpdfu_posix_port_t port;
    smpdfu_client_t c;
    smpdfu_req_t reqs[2];
    uint8_t req_mem[2 * BUF];
    uint8_t rx[BUF + 8];
    uint8_t tx[4 * BUF];
    bool got;
    int status;
    char echo[32];
} host_t;

static void host_open(host_t *h, const char *spec)
{
    memset(h, 0, sizeof(*h));
    assert_int_equal(smpdfu_posix_port_parse(&h->port, spec), 0);
    assert_int_equal(smpdfu_posix_port_open(&h->port, 2000), 0);
    smpdfu_client_cfg_t cfg;
    smpdfu_posix_client_cfg(&cfg, &h->port, h->reqs, 2, h->req_mem, sizeof(h->req_mem), h->rx,
                            sizeof(h->rx), h->tx, sizeof(h->tx));
    cfg.timeout_ms = 60000; /* never ticked: no retransmission hides a lost packet */
    cfg.retries = 0;
    assert_int_equal(smpdfu_client_init(&h->c, &cfg), 0);
}

static void on_rsp(void *arg, const smpdfu_rsp_t *r)
{
    host_t *h = arg;
    const char *t;
    size_t n;
    h->got = true;
    h->status = r->status;
    if (r->status == 0 && smpdfu_os_echo_parse(r, &t, &n) == 0 && n < sizeof(h->echo)) {
        memcpy(h->echo, t, n);
        h->echo[n] = 0;
    }
}

/* Turn the server's loop and read the host's side until the answer came:
 * each wait ends with the event (request in, answer out); the bound is only
 * there so a broken port fails instead of hanging. */
static void exchange(host_t *h, device_t *d)
{
    for (int i = 0; i < 200 && !h->got; i++) {
        assert_int_equal(smpdfu_posix_serve_step(&d->serve, 50, NULL), 0);
        struct pollfd pf = {h->port.fd, POLLIN, 0};
        if (poll(&pf, 1, 50) == 1) {
            uint8_t buf[1024];
            ssize_t n = read(h->port.fd, buf, sizeof(buf));
            if (n > 0) {
                smpdfu_client_feed_at(&h->c, buf, (size_t)n, smpdfu_posix_now_ms());
            }
        }
    }
    assert_true(h->got);
}

static void echo(host_t *h, device_t *d, const char *text)
{
    h->got = false;
    h->echo[0] = 0;
    assert_int_equal(smpdfu_os_echo(&h->c, text, NULL, on_rsp, h), 0);
    exchange(h, d);
    assert_int_equal(h->status, 0);
    assert_string_equal(h->echo, text);
}

/* Until the loop has rebooted the device (or logged `text`): each step
 * waits for the due time the loop computed itself. */
static void step_until(device_t *d, int reboots, const char *text)
{
    for (int i = 0; i < 50 && d->reboots < reboots; i++) {
        assert_int_equal(smpdfu_posix_serve_step(&d->serve, 1000, NULL), 0);
    }
    for (int i = 0; text && i < 50 && !logged(d, text); i++) {
        assert_int_equal(smpdfu_posix_serve_step(&d->serve, 1000, NULL), 0);
    }
    assert_int_equal(d->reboots, reboots);
    if (text) {
        assert_true(logged(d, text));
    }
}

/* What docs/porting.md shows: a server on UDP in a few lines. */
static void test_udp(void **state)
{
    (void)state;
    static device_t d;
    memset(&d, 0, sizeof(d));
    dev_start(&d);
    smpdfu_posix_serve_cfg_t cfg = {.buf_size = BUF, .server = &d.srv, .log = dev_log, .ctx = &d};
    assert_int_equal(smpdfu_posix_serve_init(&d.serve, &cfg), 0);
    char bound[64], spec[80];
    bool loopback = false;
    int g = -1;
    assert_int_equal(smpdfu_posix_serve_udp(&d.serve, "127.0.0.1:0", bound, sizeof(bound),
                                            &loopback, &g), 0);
    assert_int_equal(g, 0);
    assert_true(loopback);
    assert_memory_equal(bound, "127.0.0.1:", 10);
    assert_string_not_equal(bound, "127.0.0.1:0"); /* the port actually bound */

    static host_t h;
    snprintf(spec, sizeof(spec), "udp:%s", bound);
    host_open(&h, spec);
    echo(&h, &d, "hello");
    echo(&h, &d, "again");

    /* A datagram larger than the device's buffer is dropped, and said. */
    static uint8_t big[BUF + 16];
    memset(big, 0, sizeof(big));
    assert_int_equal(send(h.port.fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
    step_until(&d, 0, "[udp] datagram of 400 bytes larger than buf_size 384: dropped");
    echo(&h, &d, "still here");
    smpdfu_posix_port_close(&h.port);

    /* Addresses it refuses, and how many sockets it holds. */
    assert_int_equal(smpdfu_posix_serve_udp(&d.serve, "nonsense", NULL, 0, NULL, &g), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_serve_udp(&d.serve, "127.0.0.1:http", NULL, 0, NULL, &g),
                     SMPDFU_ENOCONN);
    assert_int_not_equal(g, 0);
    assert_int_equal(smpdfu_posix_serve_udp(&d.serve, ":0", bound, sizeof(bound), &loopback, NULL), 0);
    assert_false(loopback); /* the wildcard address: reachable from the network */
    for (int i = 2; i < SMPDFU_POSIX_SERVE_MAX_UDP; i++) {
        assert_int_equal(smpdfu_posix_serve_udp(&d.serve, "[::1]:0", NULL, 0, &loopback, NULL), 0);
        assert_true(loopback);
    }
    assert_int_equal(smpdfu_posix_serve_udp(&d.serve, "127.0.0.1:0", NULL, 0, NULL, NULL),
                     SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_serve_pty(&d.serve, SMPDFU_LINK_UDP), SMPDFU_EINVAL);
    assert_null(smpdfu_posix_serve_rx_stats(&d.serve)); /* no pty: no line buffers */

    volatile sig_atomic_t stop = 1;
    assert_int_equal(smpdfu_posix_serve_run(&d.serve, &stop, NULL), 0); /* stopped: returns */
    smpdfu_posix_serve_close(&d.serve);
    smpdfu_posix_serve_close(&d.serve); /* twice is harmless */
}

/* Console framing on a pty through Zephyr's receive line buffers; os reset
 * answered, then the reboot hook after the delay, and the device answers
 * again afterwards. */
static void test_pty_console_reset(void **state)
{
    (void)state;
    static device_t d;
    memset(&d, 0, sizeof(d));
    dev_start(&d);
    smpdfu_posix_serve_cfg_t cfg = {.buf_size = BUF, .server = &d.srv, .rx_bufs = 2,
                                    .rx_buf_size = 128, .reset_delay_ms = 0,
                                    .reboot = dev_reboot, .log = dev_log, .ctx = &d};
    assert_int_equal(smpdfu_posix_serve_init(&d.serve, &cfg), 0);
    assert_int_equal(smpdfu_posix_serve_pty(&d.serve, SMPDFU_LINK_SERIAL), 0);
    assert_int_equal(smpdfu_posix_serve_pty(&d.serve, SMPDFU_LINK_SERIAL), SMPDFU_EINVAL);
    char spec[200];
    snprintf(spec, sizeof(spec), "serial:%s", d.serve.pty.path);
    static host_t h;
    host_open(&h, spec);
    echo(&h, &d, "over the pty");

    h.got = false;
    assert_int_equal(smpdfu_os_reset(&h.c, false, NULL, on_rsp, &h), 0);
    exchange(&h, &d);
    assert_int_equal(h.status, 0);
    assert_true(logged(&d, "os reset: rebooting in 0 ms"));
    step_until(&d, 1, NULL);
    echo(&h, &d, "after the reset");

    const smpdfu_rxlines_stats_t *st = smpdfu_posix_serve_rx_stats(&d.serve);
    assert_non_null(st);
    assert_true(st->lines >= 1);
    assert_int_equal(st->no_buffer, 0);
    assert_int_equal(st->too_long, 0);
    smpdfu_posix_port_close(&h.port);
    smpdfu_posix_serve_close(&d.serve);
}

/* Raw UART: a partial packet (a header promising more than comes) is
 * dropped after the quiet gap, so the next request is understood. */
static void test_pty_raw_gap(void **state)
{
    (void)state;
    static device_t d;
    memset(&d, 0, sizeof(d));
    dev_start(&d);
    smpdfu_posix_serve_cfg_t cfg = {.buf_size = BUF, .server = &d.srv, .log = dev_log, .ctx = &d};
    assert_int_equal(smpdfu_posix_serve_init(&d.serve, &cfg), 0);
    assert_int_equal(smpdfu_posix_serve_pty(&d.serve, SMPDFU_LINK_RAW_UART), 0);
    char spec[200];
    snprintf(spec, sizeof(spec), "serial:%s,raw", d.serve.pty.path);
    static host_t h;
    host_open(&h, spec);
    echo(&h, &d, "raw");
    /* op 2 (write), group 0, id 0, len 100: then only 2 bytes */
    const uint8_t partial[] = {0x0a, 0, 0, 100, 0, 0, 0, 0, 0xa1, 0x61};
    assert_int_equal(write(h.port.fd, partial, sizeof(partial)), (ssize_t)sizeof(partial));
    step_until(&d, 0, "[serial] partial packet dropped after 100 ms without bytes (1 so far)");
    echo(&h, &d, "raw again");
    assert_null(smpdfu_posix_serve_rx_stats(&d.serve)); /* raw UART has no lines */
    smpdfu_posix_port_close(&h.port);
    smpdfu_posix_serve_close(&d.serve);
}

/* The quiet gap survives a reboot: the receiver made afresh for the new
 * image still drops a partial packet (it did not, once, and a raw-UART
 * device hit by line noise after its DFU's reset never answered again). */
static void test_pty_raw_gap_after_reset(void **state)
{
    (void)state;
    static device_t d;
    memset(&d, 0, sizeof(d));
    dev_start(&d);
    smpdfu_posix_serve_cfg_t cfg = {.buf_size = BUF, .server = &d.srv, .reset_delay_ms = 0,
                                    .reboot = dev_reboot, .log = dev_log, .ctx = &d};
    assert_int_equal(smpdfu_posix_serve_init(&d.serve, &cfg), 0);
    assert_int_equal(smpdfu_posix_serve_pty(&d.serve, SMPDFU_LINK_RAW_UART), 0);
    char spec[200];
    snprintf(spec, sizeof(spec), "serial:%s,raw", d.serve.pty.path);
    static host_t h;
    host_open(&h, spec);
    h.got = false;
    assert_int_equal(smpdfu_os_reset(&h.c, false, NULL, on_rsp, &h), 0);
    exchange(&h, &d);
    assert_int_equal(h.status, 0);
    step_until(&d, 1, NULL);
    const uint8_t partial[] = {0x0a, 0, 0, 100, 0, 0, 0, 0, 0xa1, 0x61};
    assert_int_equal(write(h.port.fd, partial, sizeof(partial)), (ssize_t)sizeof(partial));
    step_until(&d, 1, "[serial] partial packet dropped after 100 ms without bytes");
    echo(&h, &d, "raw after the reset");
    smpdfu_posix_port_close(&h.port);
    smpdfu_posix_serve_close(&d.serve);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_pty_console_reset),
        cmocka_unit_test(test_pty_raw_gap),
        cmocka_unit_test(test_pty_raw_gap_after_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
