/* smpdfu os echo|reset|params|info|bootloader */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_os.h"

static conn_t k;

static int bad_answer(const char *what)
{
    smpdfu_cli_error("%s: the device's answer is not what the protocol describes", what);
    conn_close(&k);
    return SMPDFU_EXIT_FAIL;
}

/* A command whose answer is one text field (echo, info). */
typedef struct {
    const char *what; /* the operation, for failures ("the echo") */
    const char *name; /* for a malformed answer ("echo") */
    const char *key;  /* the field, also its JSON name ("r") */
    int (*start)(smpdfu_client_t *c, const char *arg, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                 void *cb_arg);
    int (*parse)(const smpdfu_rsp_t *r, const char **text, size_t *len);
} text_cmd_t;

/* Open, send, wait, and print the answer's text (with --json as {key: text}). */
static int text_cmd(const smpdfu_cli_t *cli, const text_cmd_t *tc, const char *arg)
{
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, tc->what, tc->start(&k.c, arg, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    const char *t;
    size_t n;
    if (tc->parse(&k.rsp, &t, &n)) {
        return bad_answer(tc->name);
    }
    char buf[1024];
    snprintf(buf, sizeof(buf), "%.*s", (int)n, t);
    if (cli->json) {
        printf("{\"%s\": ", tc->key);
        smpdfu_cli_json_str(stdout, buf);
        printf("}\n");
    } else {
        printf("%s\n", buf);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_os_echo(const smpdfu_cli_t *cli, int argc, char **argv)
{
    static const text_cmd_t echo = {"the echo", "echo", "r", smpdfu_os_echo, smpdfu_os_echo_parse};
    if (argc != 2) {
        smpdfu_cli_error("usage: smpdfu os echo TEXT");
        return SMPDFU_EXIT_USAGE;
    }
    return text_cmd(cli, &echo, argv[1]);
}

/* After a reset: stay quiet while the device reboots (its bootloader may be
 * swapping), then ask for its parameters with a growing pause between tries,
 * until it answers or the deadline passes (the same rule as dfu's wait). */
#define RESET_QUIET_MS 1000u
#define RESET_POLL_FIRST_MS 250u
#define RESET_POLL_MAX_MS 2000u
#define RESET_POLL_TIMEOUT_MS 1000u
#define RESET_DEADLINE_MS 60000u

typedef struct {
    smpdfu_timer_t timer;
    uint64_t deadline;
    uint32_t pause;
    int polls;
    bool done, back;
} reset_wait_t;

static void reset_poll(void *arg);

static void reset_polled(void *arg, const smpdfu_rsp_t *rsp)
{
    reset_wait_t *w = arg;
    /* Any answer, even an error one, means the application is serving again. */
    if (rsp->status == 0 || rsp->status == SMPDFU_EDEVICE) {
        w->done = w->back = true;
        return;
    }
    if (smpdfu_client_now(&k.c) + w->pause >= w->deadline) {
        w->done = true;
        return;
    }
    smpdfu_client_timer_start(&k.c, &w->timer, w->pause, reset_poll, w);
    w->pause = w->pause * 2 > RESET_POLL_MAX_MS ? RESET_POLL_MAX_MS : w->pause * 2;
}

static void reset_poll(void *arg)
{
    reset_wait_t *w = arg;
    smpdfu_req_opts_t o = conn_opts(&k);
    o.retries = 0;
    o.timeout_ms = RESET_POLL_TIMEOUT_MS;
    w->polls++;
    if (smpdfu_os_params(&k.c, &o, reset_polled, w) < 0) {
        w->done = true;
    }
}

static bool reset_done(void *arg)
{
    return ((reset_wait_t *)arg)->done;
}

int smpdfu_cmd_os_reset(const smpdfu_cli_t *cli, int argc, char **argv)
{
    bool force = false, wait = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if (!strcmp(argv[i], "--no-wait")) {
            wait = false;
        } else {
            smpdfu_cli_error("usage: smpdfu os reset [--force] [--no-wait]");
            return SMPDFU_EXIT_USAGE;
        }
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    o.retries = 0; /* a second reset could hit the rebooted device */
    if ((ex = conn_finish(&k, "the reset", smpdfu_os_reset(&k.c, force, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    if (!wait) {
        printf(cli->json ? "{\"reset\": true, \"back\": null}\n" : "reset requested\n");
        conn_close(&k);
        return 0;
    }
    if (!cli->quiet && !cli->json) {
        fprintf(stderr, "reset requested; waiting for the device to answer again\n");
    }
    reset_wait_t w = {.pause = RESET_POLL_FIRST_MS};
    w.deadline = smpdfu_client_now(&k.c) + RESET_DEADLINE_MS;
    smpdfu_client_timer_start(&k.c, &w.timer, RESET_QUIET_MS, reset_poll, &w);
    int rc = conn_run(&k, reset_done, &w);
    smpdfu_client_timer_stop(&k.c, &w.timer);
    if (rc == 0 && !w.back) {
        smpdfu_cli_error("the device took the reset but did not answer within %u s (asked %d times); "
                         "it may still be booting, or its bootloader found no image to run",
                         RESET_DEADLINE_MS / 1000, w.polls);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    if (rc) {
        conn_close(&k);
        return smpdfu_cli_fail("waiting for the device after the reset", rc);
    }
    printf(cli->json ? "{\"reset\": true, \"back\": true}\n" : "the device is back\n");
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_os_params(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu os params");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "reading the parameters",
                          smpdfu_os_params(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_os_params_t p;
    if (smpdfu_os_params_parse(&k.rsp, &p)) {
        return bad_answer("params");
    }
    smpdfu_client_set_params(&k.c, p.buf_size, p.buf_count);
    size_t maxp = smpdfu_link_max_packet(&k.port.link, p.buf_size);
    if (cli->json) {
        printf("{\"buf_size\": %u, \"buf_count\": %u, \"max_packet\": %zu}\n", p.buf_size, p.buf_count, maxp);
    } else {
        printf("buf_size: %u\nbuf_count: %u\nlargest request on this link: %zu bytes\n", p.buf_size,
               p.buf_count, maxp);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_os_info(const smpdfu_cli_t *cli, int argc, char **argv)
{
    static const text_cmd_t info = {"reading the OS info", "info", "output", smpdfu_os_info,
                                    smpdfu_os_info_parse};
    if (argc > 2) {
        smpdfu_cli_error("usage: smpdfu os info [FORMAT]");
        return SMPDFU_EXIT_USAGE;
    }
    return text_cmd(cli, &info, argc == 2 ? argv[1] : NULL);
}

int smpdfu_cmd_os_bootloader(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc > 2) {
        smpdfu_cli_error("usage: smpdfu os bootloader [QUERY]");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "reading the bootloader info",
                          smpdfu_os_bootloader_info(&k.c, argc == 2 ? argv[1] : NULL, &o,
                                                    conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_os_bootloader_t b;
    if (smpdfu_os_bootloader_parse(&k.rsp, &b)) {
        return bad_answer("bootloader info");
    }
    char name[128] = "";
    if (b.name) {
        snprintf(name, sizeof(name), "%.*s", (int)b.name_len, b.name);
    }
    if (cli->json) {
        printf("{");
        if (b.name) {
            printf("\"bootloader\": ");
            smpdfu_cli_json_str(stdout, name);
        }
        if (b.has_mode) {
            printf("%s\"mode\": %ld, \"mode_name\": \"%s\", \"no-downgrade\": %s", b.name ? ", " : "",
                   (long)b.mode, smpdfu_os_boot_mode_name(b.mode), b.no_downgrade ? "true" : "false");
        }
        printf("}\n");
    } else {
        if (b.name) {
            printf("bootloader: %s\n", name);
        }
        if (b.has_mode) {
            printf("mode: %ld (%s)%s\n", (long)b.mode, smpdfu_os_boot_mode_name(b.mode),
                   b.no_downgrade ? ", no downgrade" : "");
        }
    }
    conn_close(&k);
    return 0;
}
