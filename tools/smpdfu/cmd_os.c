/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu os echo|reset|params|info|bootloader|tasks|mpstat|datetime|groups */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_enum.h"
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
 * until it answers or the deadline passes (the same rule and timings as dfu's
 * wait: SMPDFU_DEFAULT_QUIET_MS and the poll ones, defaults.h). */

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
    w->pause = w->pause * 2 > SMPDFU_DEFAULT_POLL_MAX_MS ? SMPDFU_DEFAULT_POLL_MAX_MS : w->pause * 2;
}

static void reset_poll(void *arg)
{
    reset_wait_t *w = arg;
    smpdfu_req_opts_t o = conn_opts(&k);
    o.retries = 0;
    o.timeout_ms = SMPDFU_DEFAULT_POLL_TIMEOUT_MS;
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
    int boot_mode = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if (!strcmp(argv[i], "--no-wait")) {
            wait = false;
        } else if (!strcmp(argv[i], "--bootloader")) {
            boot_mode = 1; /* BOOT_MODE_TYPE_BOOTLOADER: MCUboot stays in serial recovery */
        } else {
            smpdfu_cli_error("usage: smpdfu os reset [--force] [--bootloader] [--no-wait]");
            return SMPDFU_EXIT_USAGE;
        }
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    o.retries = 0; /* a second reset could hit the rebooted device */
    if ((ex = conn_finish(&k, "the reset",
                          smpdfu_os_reset_ex(&k.c, force, boot_mode, &o, conn_on_rsp, &k)))) {
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
    reset_wait_t w = {.pause = SMPDFU_DEFAULT_POLL_FIRST_MS};
    w.deadline = smpdfu_client_now(&k.c) + SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS;
    smpdfu_client_timer_start(&k.c, &w.timer, SMPDFU_DEFAULT_QUIET_MS, reset_poll, &w);
    int rc = conn_run(&k, reset_done, &w);
    smpdfu_client_timer_stop(&k.c, &w.timer);
    if (rc == 0 && !w.back) {
        smpdfu_cli_error("the device took the reset but did not answer within %u s (asked %d times); "
                         "it may still be booting, or its bootloader found no image to run",
                         (unsigned)(SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS / 1000), w.polls);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    if (rc) {
        conn_close(&k);
        return smpdfu_cli_fail("waiting for the device after the reset", rc);
    }
    if (cli->json) {
        printf("{\"reset\": true, \"back\": true, \"bootloader\": %s}\n",
               boot_mode == 1 ? "true" : "false");
    } else {
        printf(boot_mode == 1 ? "the device answers from its bootloader (serial recovery)\n"
                              : "the device is back\n");
    }
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

/* One request with an empty body; the answer stays in k.rsp. */
static int simple(const smpdfu_cli_t *cli, const char *what,
                  int (*start)(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb,
                               void *arg))
{
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    return conn_finish(&k, what, start(&k.c, &o, conn_on_rsp, &k));
}

static int no_args(int argc, const char *usage)
{
    if (argc != 1) {
        smpdfu_cli_error("usage: %s", usage);
        return SMPDFU_EXIT_USAGE;
    }
    return 0;
}

/* A statistics list (tasks, memory pools): the usage check, the request and
 * the start of the walk. what names the list ("task statistics"). */
static int stats_begin(const smpdfu_cli_t *cli, int argc, const char *usage, const char *what,
                       int (*start)(smpdfu_client_t *c, const smpdfu_req_opts_t *o,
                                    smpdfu_rsp_fn cb, void *arg),
                       int (*begin)(const smpdfu_rsp_t *r, smpdfu_rsp_iter_t *it),
                       smpdfu_rsp_iter_t *it)
{
    char doing[64];
    snprintf(doing, sizeof(doing), "reading the %s", what);
    int ex = no_args(argc, usage);
    if (ex || (ex = simple(cli, doing, start))) {
        return ex;
    }
    return begin(&k.rsp, it) ? bad_answer(what) : 0;
}

/* Zephyr's k_thread state bits, in words. */
static void task_state(char *buf, size_t cap, uint64_t st)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } bits[] = {{1, "dummy"}, {2, "pending"}, {4, "prestart"}, {8, "dead"},
                {16, "suspended"}, {32, "aborting"}, {64, "suspending"}, {128, "queued"}};
    buf[0] = 0;
    if (st == 0) {
        snprintf(buf, cap, "ready");
        return;
    }
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (st & bits[i].bit) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%s", n ? "," : "", bits[i].name);
        }
    }
}

int smpdfu_cmd_os_tasks(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    smpdfu_rsp_iter_t it;
    smpdfu_os_task_info_t t;
    int rc = stats_begin(cli, argc, "smpdfu os tasks", "task statistics", smpdfu_os_taskstat,
                         smpdfu_os_tasks_begin, &it);
    if (rc) {
        return rc;
    }
    if (cli->json) {
        printf("{\"tasks\": [");
    } else {
        printf("%-24s %5s %4s %-10s %8s %8s %12s\n", "task", "prio", "tid", "state", "stksiz",
               "stkuse", "runtime");
    }
    int n = 0;
    while ((rc = smpdfu_os_task_next(&it, &t)) > 0) {
        char name[64], st[96];
        snprintf(name, sizeof(name), "%.*s", (int)t.name_len, t.name);
        task_state(st, sizeof(st), t.state);
        if (cli->json) {
            printf("%s{\"name\": ", n ? ", " : "");
            smpdfu_cli_json_str(stdout, name);
            printf(", \"prio\": %lld, \"tid\": %llu, \"state\": %llu, \"stksiz\": %llu, "
                   "\"stkuse\": %llu, \"runtime\": %llu",
                   (long long)t.prio, (unsigned long long)t.tid, (unsigned long long)t.state,
                   (unsigned long long)t.stksiz, (unsigned long long)t.stkuse,
                   (unsigned long long)t.runtime);
            if (t.has_cswcnt) {
                printf(", \"cswcnt\": %llu", (unsigned long long)t.cswcnt);
            }
            printf("}");
        } else {
            printf("%-24s %5lld %4llu %-10s %8llu %8llu %12llu\n", name, (long long)t.prio,
                   (unsigned long long)t.tid, st, (unsigned long long)t.stksiz,
                   (unsigned long long)t.stkuse, (unsigned long long)t.runtime);
        }
        n++;
    }
    if (rc < 0) {
        if (cli->json) {
            printf("]}\n");
        }
        return bad_answer("task statistics");
    }
    if (cli->json) {
        printf("]}\n");
    } else {
        printf("(stack sizes in 4-byte words, runtime in the device's cycles)\n");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_os_mpstat(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    smpdfu_rsp_iter_t it;
    smpdfu_os_mpool_info_t p;
    int rc = stats_begin(cli, argc, "smpdfu os mpstat", "memory pool statistics", smpdfu_os_mpstat,
                         smpdfu_os_mpools_begin, &it);
    if (rc) {
        return rc;
    }
    printf(cli->json ? "{\"mpools\": [" : "pool                     blksiz    nblks    nfree      min\n");
    int n = 0;
    while ((rc = smpdfu_os_mpool_next(&it, &p)) > 0) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)p.name_len, p.name);
        if (cli->json) {
            printf("%s{\"name\": ", n ? ", " : "");
            smpdfu_cli_json_str(stdout, name);
            printf(", \"blksiz\": %llu, \"nblks\": %llu, \"nfree\": %llu, \"min\": %llu}",
                   (unsigned long long)p.blksiz, (unsigned long long)p.nblks,
                   (unsigned long long)p.nfree, (unsigned long long)p.min);
        } else {
            printf("%-22s %8llu %8llu %8llu %8llu\n", name, (unsigned long long)p.blksiz,
                   (unsigned long long)p.nblks, (unsigned long long)p.nfree,
                   (unsigned long long)p.min);
        }
        n++;
    }
    if (cli->json) {
        printf("]}\n");
    }
    if (rc < 0) {
        return bad_answer("memory pool statistics");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_os_datetime(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc > 2) {
        smpdfu_cli_error("usage: smpdfu os datetime [YYYY-MM-DDTHH:MM:SS[.mmm]]");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if (argc == 2) {
        if ((ex = conn_finish(&k, "setting the date and time",
                              smpdfu_os_datetime_set(&k.c, argv[1], &o, conn_on_rsp, &k)))) {
            return ex;
        }
        if (cli->json) {
            printf("{\"datetime\": ");
            smpdfu_cli_json_str(stdout, argv[1]);
            printf(", \"set\": true}\n");
        } else {
            printf("the device's clock is set to %s\n", argv[1]);
        }
        conn_close(&k);
        return 0;
    }
    if ((ex = conn_finish(&k, "reading the date and time",
                          smpdfu_os_datetime_get(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    const char *t;
    size_t n;
    if (smpdfu_os_datetime_parse(&k.rsp, &t, &n)) {
        return bad_answer("date and time");
    }
    char buf[128];
    snprintf(buf, sizeof(buf), "%.*s", (int)n, t);
    if (cli->json) {
        printf("{\"datetime\": ");
        smpdfu_cli_json_str(stdout, buf);
        printf("}\n");
    } else {
        printf("%s\n", buf);
    }
    conn_close(&k);
    return 0;
}

static int details_all(smpdfu_client_t *c, const smpdfu_req_opts_t *o, smpdfu_rsp_fn cb, void *arg)
{
    return smpdfu_enum_details(c, NULL, 0, o, cb, arg);
}

int smpdfu_cmd_os_groups(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    int ex = no_args(argc, "smpdfu os groups");
    if (ex || (ex = simple(cli, "listing the device's groups (enum details)", details_all))) {
        return ex;
    }
    if (smpdfu_cli_print_groups(cli, &k.rsp, true)) {
        return bad_answer("enum details");
    }
    conn_close(&k);
    return 0;
}
