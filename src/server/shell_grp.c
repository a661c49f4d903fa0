/* SPDX-License-Identifier: Apache-2.0 */
/* Shell group (9) as Zephyr's shell_mgmt.c answers it (protocol.md §17):
 * exec joins "argv" with spaces into one command line (refused when it
 * would not fit CONFIG_SHELL_CMD_BUFF_SIZE), runs it through the shell and
 * answers the output as "o" and the command's return as "ret". */
#include "smpdfu/server_groups.h"

#include <string.h>

void smpdfu_shell_print(smpdfu_shell_out_t *out, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof(out->buf) - out->len) {
        n = sizeof(out->buf) - out->len;
    }
    memcpy(out->buf + out->len, s, n);
    out->len += n;
}

void smpdfu_shell_print_u64(smpdfu_shell_out_t *out, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp) - 1;
    tmp[n] = 0;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    smpdfu_shell_print(out, tmp + n);
}

#define ENOEXEC_RET (-8) /* what shell_execute_cmd() returns for an unknown command */

static int builtin(smpdfu_shell_group_t *sh, int argc, char **argv, bool *found)
{
    smpdfu_shell_out_t *o = &sh->out;
    const char *c = argv[0];
    bool kernel = strcmp(c, "kernel") == 0 && argc >= 2;
    const char *sub = kernel ? argv[1] : c;
    *found = true;
    if (strcmp(c, "echo") == 0) {
        for (int i = 1; i < argc; i++) {
            smpdfu_shell_print(o, argv[i]);
            smpdfu_shell_print(o, i + 1 < argc ? " " : "");
        }
        smpdfu_shell_print(o, "\n");
        return 0;
    }
    if ((kernel || argc == 1) && strcmp(sub, "version") == 0) {
        smpdfu_shell_print(o, "Zephyr version ");
        smpdfu_shell_print(o, sh->version ? sh->version : "unknown");
        smpdfu_shell_print(o, "\n");
        return 0;
    }
    if ((kernel || argc == 1) && strcmp(sub, "uptime") == 0) {
        uint64_t ms = sh->uptime_ms ? sh->uptime_ms(sh->cmd_ctx) : 0;
        smpdfu_shell_print(o, "Uptime: ");
        smpdfu_shell_print_u64(o, ms);
        smpdfu_shell_print(o, " ms\n");
        return 0;
    }
    if (strcmp(c, "help") == 0) {
        smpdfu_shell_print(o, "Available commands:\n  echo\n  help\n  kernel\n  uptime\n  version\n");
        for (size_t i = 0; i < sh->ncmds; i++) {
            smpdfu_shell_print(o, "  ");
            smpdfu_shell_print(o, sh->cmds[i].name);
            smpdfu_shell_print(o, "\n");
        }
        return 0;
    }
    if (strcmp(c, "kernel") == 0) {
        /* A parent command without a valid subcommand (Zephyr prints the
         * subcommands and returns -EINVAL / 1 for a missing one). */
        if (argc >= 2) {
            smpdfu_shell_print(o, "kernel: wrong parameter count\n");
            return -22;
        }
        smpdfu_shell_print(o, "kernel - Kernel commands\nSubcommands:\n  uptime\n  version\n");
        return 1;
    }
    *found = false;
    return 0;
}

static int shell_exec(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_shell_group_t *sh = ctx;
    smpdfu_cbor_slice_t argv = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"argv", SMPDFU_CBOR_ARRAY, &argv, NULL}};
    smpdfu_cbor_dec_t d;
    smpdfu_cbor_container_t c;
    char *words[32];
    int argc = 0;
    size_t len = 0;
    int m;

    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || argv.ptr == NULL) {
        return SMPDFU_MGMT_EINVAL;
    }
    smpdfu_cbor_dec_init(&d, argv.ptr, argv.len);
    if (smpdfu_cbor_enter_array(&d, &c) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    /* Zephyr stops at the first item that is not a text string. */
    while ((m = smpdfu_cbor_more(&d, &c)) > 0) {
        const char *p;
        size_t n;
        if (smpdfu_cbor_get_tstr(&d, &p, &n) < 0) {
            break;
        }
        if (len + n >= SMPDFU_SHELL_LINE_MAX) {
            return smpdfu_server_add_err(r, SMPDFU_GROUP_SHELL, SMPDFU_SHELL_ERR_COMMAND_TOO_LONG);
        }
        memcpy(sh->line + len, p, n);
        len += n + 1;
        sh->line[len - 1] = ' ';
    }
    if (len == 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_SHELL, SMPDFU_SHELL_ERR_EMPTY_COMMAND);
    }
    sh->line[len - 1] = 0;

    /* The shell splits the line again on blanks. */
    char *s = sh->line;
    while (*s != 0 && argc < (int)(sizeof(words) / sizeof(words[0]))) {
        while (*s == ' ' || *s == '\t') {
            *s++ = 0;
        }
        if (*s == 0) {
            break;
        }
        words[argc++] = s;
        while (*s != 0 && *s != ' ' && *s != '\t') {
            s++;
        }
    }
    sh->out.len = 0;
    int ret = 0;
    if (argc > 0) {
        bool found = false;
        for (size_t i = 0; i < sh->ncmds && !found; i++) {
            if (strcmp(sh->cmds[i].name, words[0]) == 0) {
                ret = sh->cmds[i].fn(sh->cmd_ctx, &sh->out, argc, words);
                found = true;
            }
        }
        if (!found) {
            ret = builtin(sh, argc, words, &found);
        }
        if (!found) {
            smpdfu_shell_print(&sh->out, words[0]);
            smpdfu_shell_print(&sh->out, ": command not found\n");
            ret = ENOEXEC_RET;
        }
    }
    smpdfu_cbor_put_tstrz(r->enc, "o");
    smpdfu_cbor_put_tstr(r->enc, sh->out.buf, sh->out.len);
    smpdfu_cbor_put_tstrz(r->enc, "ret");
    smpdfu_cbor_put_int(r->enc, ret);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int shell_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_SHELL, rc);
}

static const smpdfu_server_handler_t shell_handlers[] = {
    [SMPDFU_SHELL_EXEC] = {NULL, shell_exec},
};

static const char *const shell_names[] = {
    [SMPDFU_SHELL_EXEC] = "exec",
};

void smpdfu_shell_group_init(smpdfu_shell_group_t *sh, const smpdfu_shell_cmd_t *cmds,
                             size_t ncmds, void *cmd_ctx)
{
    memset(sh, 0, sizeof(*sh));
    sh->group.id = SMPDFU_GROUP_SHELL;
    sh->group.name = "shell";
    sh->group.details_name = "shell mgmt";
    sh->group.handlers = shell_handlers;
    sh->group.cmd_names = shell_names;
    sh->group.handler_count = 1;
    sh->group.translate = shell_translate;
    sh->group.ctx = sh;
    sh->cmds = cmds;
    sh->ncmds = ncmds;
    sh->cmd_ctx = cmd_ctx;
    sh->version = "4.4.0";
}
