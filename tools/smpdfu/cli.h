/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu CLI: shared options and the command table. Each command lives in a
 * cmd_<group>.c file and is listed once in main.c's table.
 */
#ifndef SMPDFU_CLI_H
#define SMPDFU_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Options given before the command (also from the environment). */
typedef struct {
    const char *conn; /* --conn or $SMPDFU_CONN: serial:DEV[,baud=N], tcp:H:P, udp:H:P, ble:ADDR|NAME */
    int timeout_ms;   /* --timeout SECONDS (float); 0 = command default */
    int retries;      /* --retries N; -1 = command default */
    bool json;        /* --json: one JSON document on stdout */
    bool quiet;       /* --quiet: no progress output */
    int verbose;      /* -v, -vv: trace requests to stderr */
    int give_up_ms;   /* --give-up SECONDS: silence that ends an upload/dfu; 0 = 60 s */
    long packet_size; /* --packet-size N: fixed upload packet size; 0 = follow the link */
    long pace_us;     /* --pace-us N: line pacing gap; -1 = detect, 0 = never */
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

/* Parse a command-line whole number in lo..hi (lo >= 0) strictly (no sign,
 * no trailing text, no empty value). On failure prints "OPT wants a whole
 * number from LO to HI, not 'VAL'" and returns SMPDFU_EXIT_USAGE; else 0. */
int smpdfu_cli_uint_arg(const char *opt, const char *val, long lo, long hi, long *out);

/* For a file that holds a sound image followed by more bytes (err is
 * SMPDFU_EIMG_PADDED or SMPDFU_EIMG_TRAILING; size = file size, end = where
 * the image ends): what sending it would do, in words, into buf. */
void smpdfu_cli_padded_reason(char *buf, size_t cap, int err, uint32_t size, uint32_t end);

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
int smpdfu_cmd_os_tasks(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_mpstat(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_datetime(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_os_groups(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_stat_list(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_stat_read(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_read(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_write(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_delete(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_commit(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_load(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_settings_save(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_upload(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_download(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_stat(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_hash(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_types(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_fs_close(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_shell_exec(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_enum_count(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_enum_list(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_enum_single(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_enum_details(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_dfu(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_serve_image(const smpdfu_cli_t *cli, int argc, char **argv);
int smpdfu_cmd_ble_scan(const smpdfu_cli_t *cli, int argc, char **argv);

#endif /* SMPDFU_CLI_H */
