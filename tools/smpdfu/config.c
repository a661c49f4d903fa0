/* smpdfu CLI: the config file. Format (docs/cli.md, smpdfu(1) FILES):
 *
 *   # comment
 *   conn = serial:/dev/ttyACM0,baud=115200   top-level: the defaults
 *   timeout = 2
 *   [board-a]                                a named connection: --conn board-a
 *   conn = udp:192.0.2.10:1337
 *   retries = 6
 *
 * Keys: conn, timeout, retries. Blank lines and # comments are ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define LINE_MAX_LEN 512
#define NAME_MAX_LEN 64

/* The settings kept for the command line: copies, since the file's lines go. */
static char conn_buf[LINE_MAX_LEN];

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

static const char *config_path(char *buf, size_t cap)
{
    const char *p = getenv("SMPDFU_CONFIG");
    if (p && *p) {
        return p;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg) {
        snprintf(buf, cap, "%s/smpdfu/config", xdg);
    } else if (home && *home) {
        snprintf(buf, cap, "%s/.config/smpdfu/config", home);
    } else {
        return NULL;
    }
    return buf;
}

int smpdfu_cli_config_apply(smpdfu_cli_t *cli, bool want_timeout, bool want_retries)
{
    char pathbuf[4096];
    const char *path = config_path(pathbuf, sizeof(pathbuf));
    /* A --conn NAME (no ':') asks for a section; anything else is a spec. */
    const char *want = (cli->conn && !strchr(cli->conn, ':')) ? cli->conn : NULL;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        /* Only a file the user named must be readable; the default one may be
         * missing or closed to this user (a service account with HOME=/root). */
        bool named = getenv("SMPDFU_CONFIG") && *getenv("SMPDFU_CONFIG");
        if (path && named) {
            smpdfu_cli_error("cannot read the config file %s: %s", path, strerror(errno));
            return SMPDFU_EXIT_USAGE;
        }
        if (want) {
            smpdfu_cli_error("--conn %s: not a connection (serial:DEV, tcp:HOST:PORT, udp:HOST:PORT) and there is "
                             "no config file %s to name it", want, path ? path : "(no $HOME)");
            return SMPDFU_EXIT_USAGE;
        }
        return 0;
    }
    char line[LINE_MAX_LEN], section[NAME_MAX_LEN] = "";
    bool found = false;
    int lineno = 0, ex = 0;
    while (!ex && fgets(line, sizeof(line), f)) {
        lineno++;
        char where[sizeof(pathbuf) + 32];
        snprintf(where, sizeof(where), "%s:%d: ", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            smpdfu_cli_error("%sline longer than %d characters", where, LINE_MAX_LEN - 2);
            ex = SMPDFU_EXIT_USAGE;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#') {
            continue;
        }
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || e[1] || e - s - 1 <= 0 || e - s - 1 >= NAME_MAX_LEN || memchr(s, ':', (size_t)(e - s))) {
                smpdfu_cli_error("%sa section is [NAME] (no ':', at most %d characters)", where, NAME_MAX_LEN - 1);
                ex = SMPDFU_EXIT_USAGE;
                break;
            }
            *e = '\0';
            snprintf(section, sizeof(section), "%s", s + 1);
            found |= want && !strcmp(section, want);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            smpdfu_cli_error("%sexpected KEY = VALUE or [NAME]", where);
            ex = SMPDFU_EXIT_USAGE;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        /* Top-level keys are defaults; a section's keys count only when named. */
        bool applies = section[0] ? (want && !strcmp(section, want)) : true;
        if (strcmp(key, "conn") && strcmp(key, "timeout") && strcmp(key, "retries")) {
            smpdfu_cli_error("%sunknown key '%s' (conn, timeout, retries)", where, key);
            ex = SMPDFU_EXIT_USAGE;
            break;
        }
        if (!applies) {
            continue;
        }
        if (!strcmp(key, "conn")) {
            if (!section[0] && (cli->conn)) {
                continue; /* the command line or $SMPDFU_CONN said which */
            }
            if (!strchr(val, ':')) {
                smpdfu_cli_error("%sconn wants serial:DEV, tcp:HOST:PORT or udp:HOST:PORT, not '%s'", where, val);
                ex = SMPDFU_EXIT_USAGE;
                break;
            }
            snprintf(conn_buf, sizeof(conn_buf), "%s", val);
            cli->conn = conn_buf;
        } else if ((!strcmp(key, "timeout") && want_timeout) || (!strcmp(key, "retries") && want_retries)) {
            ex = smpdfu_cli_set_option(cli, key, val, where);
        }
    }
    fclose(f);
    if (!ex && want && !found) {
        smpdfu_cli_error("--conn %s: no [%s] in %s, and not a connection (serial:DEV, tcp:HOST:PORT, "
                         "udp:HOST:PORT)", want, want, path);
        ex = SMPDFU_EXIT_USAGE;
    }
    return ex;
}
