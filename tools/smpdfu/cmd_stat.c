/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu stat list|read */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_stat.h"

static conn_t k;

static int bad_answer(const char *what)
{
    smpdfu_cli_error("%s: the device's answer is not what the protocol describes", what);
    conn_close(&k);
    return SMPDFU_EXIT_FAIL;
}

int smpdfu_cmd_stat_list(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu stat list");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "listing the statistics groups",
                          smpdfu_stat_list(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_rsp_iter_t it;
    if (smpdfu_stat_list_begin(&k.rsp, &it)) {
        return bad_answer("stat list");
    }
    const char *name;
    size_t len;
    int rc, n = 0;
    printf(cli->json ? "{\"stat_list\": [" : "");
    while ((rc = smpdfu_stat_list_next(&it, &name, &len)) > 0) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, name);
        if (cli->json) {
            printf("%s", n ? ", " : "");
            smpdfu_cli_json_str(stdout, buf);
        } else {
            printf("%s\n", buf);
        }
        n++;
    }
    if (cli->json) {
        printf("]}\n");
    }
    if (rc < 0) {
        return bad_answer("stat list");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_stat_read(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc != 2) {
        smpdfu_cli_error("usage: smpdfu stat read NAME");
        return SMPDFU_EXIT_USAGE;
    }
    if (!argv[1][0] || strlen(argv[1]) > 31) {
        smpdfu_cli_error("a statistics group name has 1 to 31 bytes, not %zu", strlen(argv[1]));
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[96];
    snprintf(what, sizeof(what), "reading the statistics group '%s'", argv[1]);
    if ((ex = conn_finish(&k, what, smpdfu_stat_show(&k.c, argv[1], &o, conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_rsp_iter_t it;
    if (smpdfu_stat_fields_begin(&k.rsp, &it)) {
        return bad_answer("stat read");
    }
    const char *f;
    size_t len;
    uint64_t v;
    int rc, n = 0;
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, argv[1]);
        printf(", \"fields\": {");
    }
    while ((rc = smpdfu_stat_field_next(&it, &f, &len, &v)) > 0) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*s", (int)len, f);
        if (cli->json) {
            printf("%s", n ? ", " : "");
            smpdfu_cli_json_str(stdout, buf);
            printf(": %llu", (unsigned long long)v);
        } else {
            printf("%-24s %llu\n", buf, (unsigned long long)v);
        }
        n++;
    }
    if (cli->json) {
        printf("}}\n");
    }
    if (rc < 0) {
        return bad_answer("stat read");
    }
    conn_close(&k);
    return 0;
}
