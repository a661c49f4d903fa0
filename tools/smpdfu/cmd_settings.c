/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu settings read|write|delete|commit|load|save */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_settings.h"

static conn_t k;

#define VAL_MAX 1024

static int hex_val(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0a1b..." -> bytes; -1 if not an even count of hex digits or too long. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap) {
        return -1;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_val((unsigned char)s[2 * i]), lo = hex_val((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

int smpdfu_cmd_settings_read(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *name = NULL;
    bool hex = false;
    long max = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--hex")) {
            hex = true;
        } else if (!strcmp(argv[i], "--max-size") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--max-size", argv[++i], 1, 65535, &max)) {
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            name = NULL;
            break;
        }
    }
    if (!name) {
        smpdfu_cli_error("usage: smpdfu settings read NAME [--hex] [--max-size N]");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[128];
    snprintf(what, sizeof(what), "reading the setting '%s'", name);
    if ((ex = conn_finish(&k, what,
                          smpdfu_settings_read(&k.c, name, (uint32_t)max, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    const uint8_t *v;
    size_t n;
    if (smpdfu_settings_read_parse(&k.rsp, &v, &n)) {
        smpdfu_cli_error("settings read: the device's answer is not what the protocol describes");
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    bool text = !hex && printable(v, n);
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, name);
        printf(", \"hex\": \"");
        smpdfu_cli_hex(stdout, v, n);
        printf("\"");
        if (printable(v, n)) {
            char buf[VAL_MAX + 1];
            snprintf(buf, sizeof(buf), "%.*s", (int)n, (const char *)v);
            printf(", \"text\": ");
            smpdfu_cli_json_str(stdout, buf);
        }
        printf("}\n");
    } else if (text) {
        printf("%.*s\n", (int)n, (const char *)v);
    } else {
        smpdfu_cli_hex(stdout, v, n);
        printf("\n");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_settings_write(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *name = NULL, *val = NULL;
    bool hex = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--hex")) {
            hex = true;
        } else if (!name) {
            name = argv[i];
        } else if (!val) {
            val = argv[i];
        } else {
            val = NULL;
            break;
        }
    }
    if (!name || !val) {
        smpdfu_cli_error("usage: smpdfu settings write NAME VALUE [--hex] (use -- before a value "
                         "that starts with a dash)");
        return SMPDFU_EXIT_USAGE;
    }
    uint8_t buf[VAL_MAX];
    long n;
    if (hex) {
        if ((n = parse_hex(val, buf, sizeof(buf))) < 0) {
            smpdfu_cli_error("--hex wants an even number of hex digits (at most %d bytes), not '%s'",
                             VAL_MAX, val);
            return SMPDFU_EXIT_USAGE;
        }
    } else {
        n = (long)strlen(val);
        if (n > VAL_MAX) {
            smpdfu_cli_error("the value has %ld bytes; at most %d are sent", n, VAL_MAX);
            return SMPDFU_EXIT_USAGE;
        }
        memcpy(buf, val, (size_t)n);
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[128];
    snprintf(what, sizeof(what), "writing the setting '%s'", name);
    if ((ex = conn_finish(&k, what,
                          smpdfu_settings_write(&k.c, name, buf, (size_t)n, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, name);
        printf(", \"written\": %ld}\n", n);
    } else {
        printf("%s: %ld bytes written (running value; `settings save` stores it)\n", name, n);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_settings_delete(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc != 2) {
        smpdfu_cli_error("usage: smpdfu settings delete NAME");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[128];
    snprintf(what, sizeof(what), "deleting the setting '%s'", argv[1]);
    if ((ex = conn_finish(&k, what, smpdfu_settings_delete(&k.c, argv[1], &o, conn_on_rsp, &k)))) {
        return ex;
    }
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, argv[1]);
        printf(", \"deleted\": true}\n");
    } else {
        printf("%s: stored value deleted\n", argv[1]);
    }
    conn_close(&k);
    return 0;
}

/* commit, load, save: no arguments, an empty answer. */
static int action(const smpdfu_cli_t *cli, int argc, const char *cmd, const char *what,
                  const char *done,
                  int (*start)(smpdfu_client_t *, const smpdfu_req_opts_t *, smpdfu_rsp_fn, void *))
{
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu settings %s", cmd);
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, what, start(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    if (cli->json) {
        printf("{\"%s\": true}\n", cmd);
    } else {
        printf("%s\n", done);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_settings_commit(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    return action(cli, argc, "commit", "committing the settings", "settings committed",
                  smpdfu_settings_commit_req);
}

int smpdfu_cmd_settings_load(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    return action(cli, argc, "load", "loading the settings", "settings loaded from storage",
                  smpdfu_settings_load_req);
}

int smpdfu_cmd_settings_save(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    return action(cli, argc, "save", "saving the settings", "settings saved to storage",
                  smpdfu_settings_save_req);
}
