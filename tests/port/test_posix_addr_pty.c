/* SPDX-License-Identifier: Apache-2.0 */
/* The one HOST:PORT parser (posix_addr.h), the connection specs built on
 * it, and the one pty creator (posix_pty.h), on a real pty. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "smpdfu/posix_addr.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/posix_pty.h"

static int split(const char *spec, char *host, char *port)
{
    return smpdfu_posix_addr_split(spec, strlen(spec), host, 64, port, 16);
}

static void test_split(void **state)
{
    (void)state;
    char h[64], p[16];
    assert_int_equal(split("127.0.0.1:1337", h, p), 0);
    assert_string_equal(h, "127.0.0.1");
    assert_string_equal(p, "1337");
    assert_int_equal(split("[::1]:1337", h, p), 0);
    assert_string_equal(h, "::1");
    assert_string_equal(p, "1337");
    /* unbracketed IPv6: the last colon splits */
    assert_int_equal(split("::1:80", h, p), 0);
    assert_string_equal(h, "::1");
    assert_string_equal(p, "80");
    assert_int_equal(split("localhost:", h, p), 0); /* the port is the caller's to judge */
    assert_string_equal(h, "localhost");
    assert_string_equal(p, "");
    assert_int_equal(split(":0", h, p), 0);
    assert_string_equal(h, "");
    assert_string_equal(p, "0");
    /* only the first n bytes: the rest of a connection spec is not the address */
    assert_int_equal(smpdfu_posix_addr_split("h:7,raw", 3, h, sizeof(h), p, sizeof(p)), 0);
    assert_string_equal(h, "h");
    assert_string_equal(p, "7");
    /* a colon after the bracket is enough: the port is empty */
    assert_int_equal(split("[::1]:", h, p), 0);
    assert_string_equal(h, "::1");
    assert_string_equal(p, "");
    const char *bad[] = {"", "localhost", "[::1]", "[::1]1337", "[::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(split(bad[i], h, p), SMPDFU_EUSAGE);
    }
    /* parts that do not fit the caller's buffers */
    assert_int_equal(smpdfu_posix_addr_split("abcd:1", 6, h, 4, p, sizeof(p)), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_addr_split("a:12345", 7, h, sizeof(h), p, 5), SMPDFU_EUSAGE);
    assert_int_equal(smpdfu_posix_addr_split("abc:1", 5, h, 4, p, 2), 0);
}

static void test_resolve(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    int g = 1;
    char txt[64];
    assert_int_equal(smpdfu_posix_addr_resolve("127.0.0.1:1337", SOCK_DGRAM, false, &ss, &len, &g), 0);
    assert_int_equal(g, 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_true(smpdfu_posix_addr_is_loopback(&ss));
    assert_int_equal(smpdfu_posix_addr_format(&ss, len, txt, sizeof(txt)), 0);
    assert_string_equal(txt, "127.0.0.1:1337");
    assert_int_equal(smpdfu_posix_addr_format(&ss, len, txt, 8), SMPDFU_EINVAL);

    assert_int_equal(smpdfu_posix_addr_resolve("[::1]:7", SOCK_DGRAM, false, &ss, &len, NULL), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_true(smpdfu_posix_addr_is_loopback(&ss));
    assert_int_equal(smpdfu_posix_addr_format(&ss, len, txt, sizeof(txt)), 0);
    assert_string_equal(txt, "[::1]:7");

    /* IPv4 loopback mapped into IPv6 stays on this machine too */
    assert_int_equal(smpdfu_posix_addr_resolve("[::ffff:127.0.0.2]:7", SOCK_DGRAM, false, &ss, &len, NULL), 0);
    assert_true(smpdfu_posix_addr_is_loopback(&ss));
    /* anything else, the wildcard included, is reachable from the network */
    assert_int_equal(smpdfu_posix_addr_resolve("10.1.2.3:7", SOCK_DGRAM, false, &ss, &len, NULL), 0);
    assert_false(smpdfu_posix_addr_is_loopback(&ss));
    assert_int_equal(smpdfu_posix_addr_resolve("[::ffff:10.0.0.1]:7", SOCK_DGRAM, false, &ss, &len, NULL), 0);
    assert_false(smpdfu_posix_addr_is_loopback(&ss));
    /* passive: an empty host is the wildcard, port 0 any free port */
    assert_int_equal(smpdfu_posix_addr_resolve(":0", SOCK_DGRAM, true, &ss, &len, NULL), 0);
    assert_false(smpdfu_posix_addr_is_loopback(&ss));
    assert_int_equal(smpdfu_posix_addr_resolve("0.0.0.0:0", SOCK_DGRAM, true, &ss, &len, NULL), 0);
    assert_false(smpdfu_posix_addr_is_loopback(&ss));

    /* malformed, and a port getaddrinfo refuses (numeric only: no lookup) */
    assert_int_equal(smpdfu_posix_addr_resolve("127.0.0.1", SOCK_DGRAM, true, &ss, &len, &g),
                     SMPDFU_EUSAGE);
    assert_int_equal(g, 0);
    assert_int_equal(smpdfu_posix_addr_resolve("127.0.0.1:http", SOCK_DGRAM, true, &ss, &len, &g),
                     SMPDFU_ENOCONN);
    assert_int_not_equal(g, 0);
}

/* Connection specs take their address from the same parser, then want a
 * host and a port 1..65535. */
static void test_port_spec(void **state)
{
    (void)state;
    smpdfu_posix_port_t p;
    assert_int_equal(smpdfu_posix_port_parse(&p, "udp:[::1]:1337"), 0);
    assert_string_equal(p.host, "::1");
    assert_string_equal(p.port, "1337");
    assert_int_equal(smpdfu_posix_port_parse(&p, "tcp:localhost:0004000,raw"), 0);
    assert_string_equal(p.host, "localhost");
    assert_string_equal(p.port, "4000");
    assert_int_equal(p.link.kind, SMPDFU_LINK_RAW_UART);
    const char *bad[] = {"udp::1337", "udp:h:0", "udp:h:65536", "udp:h:", "tcp:[::1]", "udp:h:-1",
                         "udp:h: 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smpdfu_posix_port_parse(&p, bad[i]), SMPDFU_EUSAGE);
    }
}

/* Wait (poll) for fd to be readable and read what is there. */
static ssize_t read_wait(int fd, uint8_t *buf, size_t cap)
{
    struct pollfd pf = {fd, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 5000), 1);
    return read(fd, buf, cap);
}

static void test_pty(void **state)
{
    (void)state;
    smpdfu_posix_pty_t p;
    assert_int_equal(smpdfu_posix_pty_open(&p), 0);
    assert_true(p.master >= 0 && p.slave >= 0);
    assert_memory_equal(p.path, "/dev/pts/", 9);
    assert_true(fcntl(p.master, F_GETFL) & O_NONBLOCK);
    /* the master does not block while nothing was written */
    uint8_t buf[64];
    assert_int_equal(read(p.master, buf, sizeof(buf)), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

    /* A client opens the path as its serial line. Raw both ways: no
     * newline translation, no echo, control bytes pass. */
    int c = open(p.path, O_RDWR | O_NOCTTY);
    assert_true(c >= 0);
    assert_int_equal(smpdfu_posix_tty_raw(c), 0);
    const uint8_t up[] = {0x06, 0x09, 'a', '\r', '\n', 0x03, 0x04, 0x7f};
    assert_int_equal(write(c, up, sizeof(up)), sizeof(up));
    size_t got = 0;
    while (got < sizeof(up)) {
        ssize_t n = read_wait(p.master, buf + got, sizeof(buf) - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, sizeof(up));
    assert_memory_equal(buf, up, sizeof(up));
    const uint8_t down[] = {'o', 'k', '\n', 0x00};
    assert_int_equal(write(p.master, down, sizeof(down)), sizeof(down));
    got = 0;
    while (got < sizeof(down)) {
        ssize_t n = read_wait(c, buf + got, sizeof(buf) - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, down, sizeof(down));
    /* nothing we wrote came back to us */
    struct pollfd pf = {p.master, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 0), 0);

    /* the client going away is no hang-up for the master: we hold the slave */
    close(c);
    pf.revents = 0;
    assert_int_equal(poll(&pf, 1, 0), 0);

    smpdfu_posix_pty_close(&p);
    assert_int_equal(p.master, -1);
    assert_int_equal(p.slave, -1);
    smpdfu_posix_pty_close(&p); /* twice is harmless */

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(smpdfu_posix_tty_raw(fds[0]), SMPDFU_ENOCONN); /* not a terminal */
    close(fds[0]);
    close(fds[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_port_spec),
        cmocka_unit_test(test_pty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
