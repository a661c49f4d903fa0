/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu enum count|list|single|details */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_enum.h"

static conn_t k;

static int bad_answer(const char *what)
{
    smpdfu_cli_error("%s: the device's answer is not what the protocol describes", what);
    conn_close(&k);
    return SMPDFU_EXIT_FAIL;
}

static int open_send(const smpdfu_cli_t *cli, const char *what,
                     int (*start)(smpdfu_client_t *, const smpdfu_req_opts_t *, smpdfu_rsp_fn, void *))
{
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    return conn_finish(&k, what, start(&k.c, &o, conn_on_rsp, &k));
}

int smpdfu_cmd_enum_count(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu enum count");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = open_send(cli, "counting the device's groups", smpdfu_enum_count);
    if (ex) {
        return ex;
    }
    uint32_t n;
    if (smpdfu_enum_count_parse(&k.rsp, &n)) {
        return bad_answer("enum count");
    }
    printf(cli->json ? "{\"count\": %u}\n" : "%u\n", n);
    conn_close(&k);
    return 0;
}

static const char *gname(uint16_t g)
{
    return smpdfu_group_name(g);
}

int smpdfu_cmd_enum_list(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu enum list");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = open_send(cli, "listing the device's groups", smpdfu_enum_list);
    if (ex) {
        return ex;
    }
    smpdfu_rsp_iter_t it;
    if (smpdfu_enum_list_begin(&k.rsp, &it)) {
        return bad_answer("enum list");
    }
    uint16_t g;
    int rc, n = 0;
    printf(cli->json ? "{\"groups\": [" : "");
    while ((rc = smpdfu_enum_list_next(&it, &g)) > 0) {
        if (cli->json) {
            printf("%s%u", n ? ", " : "", g);
        } else {
            printf("%u (%s)\n", g, gname(g));
        }
        n++;
    }
    if (cli->json) {
        printf("]}\n");
    }
    if (rc < 0) {
        return bad_answer("enum list");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_enum_single(const smpdfu_cli_t *cli, int argc, char **argv)
{
    long idx;
    if (argc != 2) {
        smpdfu_cli_error("usage: smpdfu enum single INDEX");
        return SMPDFU_EXIT_USAGE;
    }
    if (smpdfu_cli_uint_arg("INDEX", argv[1], 0, 65535, &idx)) {
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "reading one group (enum single)",
                          smpdfu_enum_single(&k.c, (uint32_t)idx, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    uint16_t g;
    bool end;
    if (smpdfu_enum_single_parse(&k.rsp, &g, &end)) {
        return bad_answer("enum single");
    }
    if (cli->json) {
        printf("{\"index\": %ld, \"group\": %u, \"end\": %s}\n", idx, g, end ? "true" : "false");
    } else {
        printf("%u (%s)%s\n", g, gname(g), end ? ", the last one" : "");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_enum_details(const smpdfu_cli_t *cli, int argc, char **argv)
{
    uint16_t ids[16];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        long v;
        if (n == 16) {
            smpdfu_cli_error("at most 16 groups at once (Zephyr's limit)");
            return SMPDFU_EXIT_USAGE;
        }
        if (smpdfu_cli_uint_arg("GROUP", argv[i], 0, 65535, &v)) {
            return SMPDFU_EXIT_USAGE;
        }
        ids[n++] = (uint16_t)v;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "reading the group details",
                          smpdfu_enum_details(&k.c, ids, n, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    if (smpdfu_cli_print_groups(cli, &k.rsp, false)) {
        return bad_answer("enum details");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cli_print_groups(const smpdfu_cli_t *cli, const smpdfu_rsp_t *rsp, bool name_fallback)
{
    smpdfu_rsp_iter_t it;
    smpdfu_enum_detail_t d;
    if (smpdfu_enum_details_begin(rsp, &it)) {
        return -1;
    }
    int rc, m = 0;
    printf(cli->json ? "{\"groups\": [" : "");
    while ((rc = smpdfu_enum_details_next(&it, &d)) > 0) {
        char name[64];
        if (d.name) {
            snprintf(name, sizeof(name), "%.*s", (int)d.name_len, d.name);
        } else {
            snprintf(name, sizeof(name), "%s", name_fallback ? smpdfu_group_name(d.group) : "");
        }
        if (cli->json) {
            printf("%s{\"group\": %u, \"name\": ", m ? ", " : "", d.group);
            smpdfu_cli_json_str(stdout, name);
            printf(", \"handlers\": %u}", d.handlers);
        } else {
            printf("%3u  %-16s %u commands\n", d.group, name, d.handlers);
        }
        m++;
    }
    if (cli->json) {
        printf("]}\n");
    }
    return rc < 0 ? -1 : 0;
}
