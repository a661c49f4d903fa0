/*
 * smpdfu CLI: shared options and the command table. Each command lives in a
 * cmd_<group>.c file and is listed once in main.c's table.
 */
#ifndef SMPDFU_CLI_H
#define SMPDFU_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Options given before the command (also from the environment). */
typedef struct {
    const char *conn; /* --conn or $SMPDFU_CONN: serial:DEV[,baud=N], tcp:H:P, udp:H:P, ble:ADDR|NAME */
    int timeout_ms;   /* --timeout SECONDS (float); 0 = command default */
    int retries;      /* --retries N; -1 = command default */
    bool json;        /* --json: one JSON document on stdout */
    bool quiet;       /* --quiet: no progress output */
    int verbose;      /* -v, -vv: trace requests to stderr */
} smpdfu_cli_t;

/* A command handler gets the arguments after "<group> <command>" (argv[0] is
 * the command name) and returns a process exit status: 0 only on success.
 * Handlers report failures in words through smpdfu_cli_error(). */
typedef int (*smpdfu_cli_fn)(const smpdfu_cli_t *cli, int argc, char **argv);

typedef struct {
    const char *group;   /* "image", "os", "dfu", "ble" */
    const char *command; /* "info", "list", ...; NULL when the group is the command */
    smpdfu_cli_fn fn;
    const char *args;    /* usage text for the arguments */
    const char *help;    /* one line */
    const char *opts;    /* the command's own options, one "  --x  what" line each ("" if none) */
    const char *example; /* one command line that works */
} smpdfu_cli_cmd_t;

/* Exit statuses. */
enum {
    SMPDFU_EXIT_OK = 0,
    SMPDFU_EXIT_FAIL = 1,  /* the operation failed (device said no, timeout, bad image) */
    SMPDFU_EXIT_USAGE = 2, /* the command line is wrong */
};

/* Set a global option by name ("conn", "timeout", "retries") from the command
 * line or the config file; where prefixes the error message. Returns 0 or
 * SMPDFU_EXIT_USAGE after saying what is wrong. */
int smpdfu_cli_set_option(smpdfu_cli_t *cli, const char *opt, const char *val, const char *where);

/* Read the config file ($SMPDFU_CONFIG, else $XDG_CONFIG_HOME/smpdfu/config,
 * else ~/.config/smpdfu/config; a missing file is fine): its top-level
 * settings are defaults, and a --conn value without ':' names one of its
 * [sections]. want_timeout/want_retries: the command line did not set them.
 * Returns 0 or an exit status after saying what is wrong (file:line). */
int smpdfu_cli_config_apply(smpdfu_cli_t *cli, bool want_timeout, bool want_retries);

/* Print "smpdfu: <message>" to stderr (printf-style, no trailing newline needed). */
void smpdfu_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the error sentence for an smpdfu_err_t with a context prefix,
 * e.g. smpdfu_cli_fail("cannot read image.bin", SMPDFU_EFILE). Returns SMPDFU_EXIT_FAIL. */
int smpdfu_cli_fail(const char *context, int err);

/* Write s as a JSON string literal (quotes and escapes) to f. */
void smpdfu_cli_json_str(FILE *f, const char *s);

/* Write n bytes as lowercase hex to f. */
void smpdfu_cli_hex(FILE *f, const unsigned char *p, size_t n);

/* Command handlers (one line per command; keep in step with main.c). */
int smpdfu_cmd_image_info(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_list(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_upload(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_test(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_confirm(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_erase(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_image_slots(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_echo(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_reset(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_params(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_info(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_bootloader(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_dfu(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_ble_scan(const smpdfu_cli_t *cli, int argc, char **argv);

#endif /* SMPDFU_CLI_H */
