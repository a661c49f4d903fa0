/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu shell exec CMD... : prints the command's output; exits 0 only when
 * the command returned 0 (else prints its "ret" and exits 1). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_shell.h"

static conn_t k;

int smpdfu_cmd_shell_exec(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc < 2) {
        smpdfu_cli_error("usage: smpdfu shell exec CMD [ARG...] (use -- before words that start "
                         "with a dash)");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "running the shell command",
                          smpdfu_shell_exec(&k.c, (const char *const *)argv + 1, argc - 1, &o,
                                            conn_on_rsp, &k)))) {
        return ex;
    }
    const char *out;
    size_t n;
    int32_t ret;
    if (smpdfu_shell_exec_parse(&k.rsp, &out, &n, &ret)) {
        smpdfu_cli_error("shell exec: the device's answer is not what the protocol describes");
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    if (cli->json) {
        /* The output may hold anything: escape it through a bounded copy. */
        static char buf[65536 + 1];
        size_t m = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;
        memcpy(buf, out, m);
        buf[m] = 0;
        printf("{\"o\": ");
        smpdfu_cli_json_str(stdout, buf);
        printf(", \"ret\": %ld}\n", (long)ret);
    } else {
        fwrite(out, 1, n, stdout);
        if (n && out[n - 1] != '\n') {
            fputc('\n', stdout);
        }
    }
    conn_close(&k);
    if (ret != 0) {
        smpdfu_cli_error("the command returned %ld%s", (long)ret,
                         ret == -8 ? " (-ENOEXEC: the device's shell does not know it)" : "");
        return SMPDFU_EXIT_FAIL;
    }
    return 0;
}
