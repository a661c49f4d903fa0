/* smpdfu: command-line SMP client. Parses global options, finds the command
 * in the table and hands over. Everything else is in cmd_*.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/error.h"

static const smpdfu_cli_cmd_t commands[] = {
    {"image", "info", smpdfu_cmd_image_info, "FILE [--key PUBKEY.pem]",
     "show an MCUboot image: header, TLVs, the hash a device lists and the upload sha"},
    {"image", "list", smpdfu_cmd_image_list, "", "list the device's image slots (version, flags, hash)"},
    {"image", "upload", smpdfu_cmd_image_upload, "FILE [--image N] [--window N] [--upgrade] [--force]",
     "upload an image to the secondary slot (resumes an interrupted upload)"},
    {"image", "test", smpdfu_cmd_image_test, "HASH", "boot the image with this hash once, on the next reset"},
    {"image", "confirm", smpdfu_cmd_image_confirm, "[HASH]",
     "make the running image (or the one with HASH) permanent"},
    {"image", "erase", smpdfu_cmd_image_erase, "[SLOT]", "erase a slot (default: the one not running)"},
    {"image", "slots", smpdfu_cmd_image_slots, "", "show slot sizes and upload targets"},
    {"os", "echo", smpdfu_cmd_os_echo, "TEXT", "ask the device to echo TEXT"},
    {"os", "reset", smpdfu_cmd_os_reset, "[--force]", "reset the device"},
    {"os", "params", smpdfu_cmd_os_params, "", "show the device's SMP buffer size and count"},
    {"os", "info", smpdfu_cmd_os_info, "[FORMAT]", "show OS/application info (format chars: snrvbmpioa)"},
    {"os", "bootloader", smpdfu_cmd_os_bootloader, "[QUERY]", "show the bootloader (QUERY: mode)"},
    {"dfu", NULL, smpdfu_cmd_dfu,
     "FILE [--mode test-confirm|confirm-only|test-only|upload-only] [--image1 NETCORE.bin] [--window N]",
     "the whole update: check, upload, test, reset, wait, confirm"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void smpdfu_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("smpdfu: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int smpdfu_cli_fail(const char *context, int err)
{
    smpdfu_cli_error("%s: %s", context, smpdfu_strerror(err));
    return SMPDFU_EXIT_FAIL;
}

void smpdfu_cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

void smpdfu_cli_hex(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02x", p[i]);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smpdfu [options] <group> <command> [args]\n\n"
               "options:\n"
               "  --conn SPEC       serial:/dev/ttyACM0[,baud=115200] | tcp:HOST:PORT | udp:HOST:PORT\n"
               "                    (default: $SMPDFU_CONN)\n"
               "  --timeout SEC     per-request timeout\n"
               "  --retries N       retransmissions per request (an upload then asks the\n"
               "                    device where it stands and goes on)\n"
               "  --give-up SEC     an upload or dfu fails only after the device has been\n"
               "                    silent this long (default 60)\n"
               "  --packet-size N   fixed upload packet size in bytes (default: the device's\n"
               "                    limit, halved while large frames get lost)\n"
               "  --pace-us N       serial: N us of quiet after each line (default: on when\n"
               "                    the device drops lines of multi-line frames; 0 = never)\n"
               "  --json            print results as JSON\n"
               "  --quiet           no progress output\n"
               "  -v                trace requests to stderr (-vv: bytes too)\n\n"
               "FILE may also be an http:// or https:// URL: the image is downloaded into memory\n"
               "(at most 16 MiB; $SMPDFU_HTTP_TIMEOUT seconds, default 300) and checked like a file.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s%s%s", commands[i].group, commands[i].command ? " " : "",
                 commands[i].command ? commands[i].command : "");
        fprintf(f, "  %-16s %s\n  %-16s   %s\n", name, commands[i].args, "", commands[i].help);
    }
}

static int parse_seconds(const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v <= 0 || v > 3600) {
        return SMPDFU_EUSAGE;
    }
    *ms = (int)(v * 1000.0 + 0.5);
    return 0;
}

int main(int argc, char **argv)
{
    smpdfu_cli_t cli = {.conn = getenv("SMPDFU_CONN"), .retries = -1, .pace_us = -1};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return SMPDFU_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            cli.quiet = true;
        } else if (!strcmp(a, "-v")) {
            cli.verbose++;
        } else if (!strcmp(a, "-vv")) {
            cli.verbose += 2;
        } else if (!strcmp(a, "--give-up") || !strcmp(a, "--packet-size") || !strcmp(a, "--pace-us")) {
            if (!val) {
                smpdfu_cli_error("option %s needs a value", a);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
            if (!strcmp(a, "--give-up")) {
                if (parse_seconds(val, &cli.give_up_ms)) {
                    smpdfu_cli_error("--give-up wants seconds between 0 and 3600, not '%s'", val);
                    return SMPDFU_EXIT_USAGE;
                }
            } else {
                char *end;
                long v = strtol(val, &end, 10);
                bool size = !strcmp(a, "--packet-size");
                if (*end || end == val || v < 0 || (size && v != 0 && (v < 64 || v > 65535)) ||
                    (!size && v > 1000000)) {
                    smpdfu_cli_error(size ? "--packet-size wants bytes from 64 to 65535, not '%s'"
                                          : "--pace-us wants microseconds from 0 to 1000000, not '%s'",
                                     val);
                    return SMPDFU_EXIT_USAGE;
                }
                *(size ? &cli.packet_size : &cli.pace_us) = v;
            }
        } else if (!strcmp(a, "--conn") || !strcmp(a, "--timeout") || !strcmp(a, "--retries")) {
            if (!val) {
                smpdfu_cli_error("option %s needs a value", a);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
            if (!strcmp(a, "--conn")) {
                cli.conn = val;
            } else if (!strcmp(a, "--timeout")) {
                if (parse_seconds(val, &cli.timeout_ms)) {
                    smpdfu_cli_error("--timeout wants seconds between 0 and 3600, not '%s'", val);
                    return SMPDFU_EXIT_USAGE;
                }
            } else {
                char *end;
                long r = strtol(val, &end, 10);
                if (*end || end == val || r < 0 || r > 100) {
                    smpdfu_cli_error("--retries wants a number from 0 to 100, not '%s'", val);
                    return SMPDFU_EXIT_USAGE;
                }
                cli.retries = (int)r;
            }
        } else {
            smpdfu_cli_error("unknown option '%s' (see smpdfu --help)", a);
            return SMPDFU_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return SMPDFU_EXIT_USAGE;
    }
    const char *group = argv[i];
    const char *command = (i + 1 < argc) ? argv[i + 1] : NULL;
    bool group_known = false;
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const smpdfu_cli_cmd_t *c = &commands[k];
        if (strcmp(c->group, group)) {
            continue;
        }
        group_known = true;
        if (!c->command) {
            /* The group is the command: its arguments start right after it. */
            return c->fn(&cli, argc - i, argv + i);
        }
        if (command && !strcmp(c->command, command)) {
            return c->fn(&cli, argc - i - 1, argv + i + 1);
        }
    }
    if (group_known) {
        smpdfu_cli_error("'%s' has no command '%s' (see smpdfu --help)", group, command ? command : "");
    } else {
        smpdfu_cli_error("unknown command '%s' (see smpdfu --help)", group);
    }
    return SMPDFU_EXIT_USAGE;
}
