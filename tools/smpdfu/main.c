/* smpdfu: command-line SMP client. Parses global options, finds the command
 * in the table and hands over. Everything else is in cmd_*.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/version.h"
#include "smpdfu/error.h"

static const smpdfu_cli_cmd_t commands[] = {
    {"image", "info", smpdfu_cmd_image_info, "FILE [--key PUBKEY.pem]",
     "show an MCUboot image: header, TLVs, the hash a device lists and the upload sha",
     "  --key PUBKEY.pem  also check the signature with this public key (PEM: ECDSA P-256/P-384, Ed25519)\n",
     "smpdfu image info app.signed.bin --key root-ec-p256.pub.pem"},
    {"image", "list", smpdfu_cmd_image_list, "", "list the device's image slots (version, flags, hash)", "",
     "smpdfu --conn serial:/dev/ttyACM0 image list"},
    {"image", "upload", smpdfu_cmd_image_upload, "FILE [--image N] [--window N] [--upgrade] [--force]",
     "upload an image to the secondary slot (resumes an interrupted upload)",
     "  --image N         image number (0 = application, 1 = nRF5340 network core)\n"
     "  --window N        requests in flight (default: the device's buffer count)\n"
     "  --upgrade         ask the device to refuse an image that is not newer\n"
     "  --force           upload even when the image fails the local checks\n",
     "smpdfu --conn udp:192.0.2.1:1337 image upload app-v2.bin"},
    {"image", "test", smpdfu_cmd_image_test, "HASH", "boot the image with this hash once, on the next reset", "",
     "smpdfu image test 3f1c...e2 (the hash from image list or image info)"},
    {"image", "confirm", smpdfu_cmd_image_confirm, "[HASH]",
     "make the running image (or the one with HASH) permanent", "", "smpdfu image confirm"},
    {"image", "erase", smpdfu_cmd_image_erase, "[SLOT]", "erase a slot (default: the one not running)", "",
     "smpdfu image erase 1"},
    {"image", "slots", smpdfu_cmd_image_slots, "", "show slot sizes and upload targets", "", "smpdfu image slots"},
    {"os", "echo", smpdfu_cmd_os_echo, "TEXT", "ask the device to echo TEXT", "", "smpdfu os echo hello"},
    {"os", "reset", smpdfu_cmd_os_reset, "[--force] [--no-wait]",
     "reset the device and wait until it answers again",
     "  --force           reset even if the device would rather not (Zephyr's force flag)\n"
     "  --no-wait         return once the device took the request, without waiting for it\n",
     "smpdfu os reset"},
    {"os", "params", smpdfu_cmd_os_params, "", "show the device's SMP buffer size and count", "",
     "smpdfu os params"},
    {"os", "info", smpdfu_cmd_os_info, "[FORMAT]", "show OS/application info (format chars: snrvbmpioa)", "",
     "smpdfu os info a"},
    {"os", "bootloader", smpdfu_cmd_os_bootloader, "[QUERY]", "show the bootloader (QUERY: mode)", "",
     "smpdfu os bootloader mode"},
    {"dfu", NULL, smpdfu_cmd_dfu,
     "FILE [--mode M] [--image1 NETCORE.bin] [--window N] [--quiet-ms MS] [--reboot-timeout SEC]",
     "the whole update: check, upload, test, reset, wait, confirm",
     "  --mode M          test-confirm (default): test, reset, confirm once it runs;\n"
     "                    confirm-only: confirm before the reset (no revert possible);\n"
     "                    test-only: test and reset, the image confirms itself;\n"
     "                    upload-only: stop after the upload\n"
     "  --image1 FILE     the nRF5340 network core image (image 1), updated first\n"
     "  --window N        requests in flight (default: the device's buffer count)\n"
     "  --quiet-ms MS     silence after the reset before asking whether the device is back (1000)\n"
     "  --reboot-timeout SEC  how long the device may take to come back (default 60)\n",
     "smpdfu --conn serial:/dev/ttyACM0,baud=115200 dfu app-v2.bin"},
    {"ble", "scan", smpdfu_cmd_ble_scan, "[--seconds N] [--count N] [--adapter hciN]",
     "list BLE devices advertising the SMP service, with RSSI (BlueZ)",
     "  --seconds N       scan this long (default 5)\n"
     "  --count N         stop once N devices were seen\n"
     "  --adapter hciN    the adapter to scan with (default: the first)\n",
     "smpdfu ble scan --json"},
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

static const char global_opts[] =
    "  --conn SPEC       serial:/dev/ttyACM0[,baud=115200][,raw] | tcp:HOST:PORT | udp:HOST:PORT,\n"
    "                    or the NAME of a connection in the config file\n"
    "                    (default: $SMPDFU_CONN, then the config file's conn)\n"
    "  --timeout SEC     per-request timeout\n"
    "  --retries N       retransmissions per request\n"
    "  --json            print results as JSON\n"
    "  -q, --quiet       no progress output\n"
    "  -v                trace requests to stderr (-vv: bytes too)\n"
    "  -h, --help        this text; after a command, that command's options and an example\n"
    "  --version         print smpdfu's version\n";

static void cmd_name(const smpdfu_cli_cmd_t *c, char *name, size_t cap)
{
    snprintf(name, cap, "%s%s%s", c->group, c->command ? " " : "", c->command ? c->command : "");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smpdfu [options] <group> <command> [args] [options]\n\n"
               "options (anywhere on the line):\n%s\n"
               "FILE may also be an http:// or https:// URL: the image is downloaded into memory\n"
               "(at most 16 MiB; $SMPDFU_HTTP_TIMEOUT seconds, default 300) and checked like a file.\n"
               "Connections and defaults can be named in %s (see smpdfu(1), FILES).\n\n"
               "commands (smpdfu <command> --help for its options and an example):\n",
            global_opts, "~/.config/smpdfu/config");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char name[64];
        cmd_name(&commands[i], name, sizeof(name));
        fprintf(f, "  %-16s %s\n  %-16s   %s\n", name, commands[i].args, "", commands[i].help);
    }
}

static void cmd_usage(FILE *f, const smpdfu_cli_cmd_t *c)
{
    char name[64];
    cmd_name(c, name, sizeof(name));
    fprintf(f, "usage: smpdfu [options] %s %s\n\n%s.\n", name, c->args, c->help);
    if (c->opts[0]) {
        fprintf(f, "\noptions:\n%s", c->opts);
    }
    fprintf(f, "\nexample:\n  %s\n\nThe global options (smpdfu --help) may come anywhere on the line.\n", c->example);
}

/* Every command's help, for the man page (help2man includes it). */
static void help_all(FILE *f)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        cmd_usage(f, &commands[i]);
        fputc('\n', f);
    }
}

static int parse_seconds(const char *s, int *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* !(v > 0) also refuses nan. */
    if (errno || end == s || *end || !(v > 0) || v > 3600) {
        return SMPDFU_EUSAGE;
    }
    *ms = (int)(v * 1000.0 + 0.5);
    return 0;
}

static int parse_retries(const char *s, int *r)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 100) {
        return SMPDFU_EUSAGE;
    }
    *r = (int)v;
    return 0;
}

int smpdfu_cli_set_option(smpdfu_cli_t *cli, const char *opt, const char *val, const char *where)
{
    if (!strcmp(opt, "conn")) {
        cli->conn = val;
    } else if (!strcmp(opt, "timeout")) {
        if (parse_seconds(val, &cli->timeout_ms)) {
            smpdfu_cli_error("%stimeout wants seconds above 0 and at most 3600, not '%s'", where, val);
            return SMPDFU_EXIT_USAGE;
        }
    } else if (!strcmp(opt, "retries")) {
        if (parse_retries(val, &cli->retries)) {
            smpdfu_cli_error("%sretries wants a number from 0 to 100, not '%s'", where, val);
            return SMPDFU_EXIT_USAGE;
        }
    } else {
        smpdfu_cli_error("%sunknown setting '%s' (conn, timeout, retries)", where, opt);
        return SMPDFU_EXIT_USAGE;
    }
    return 0;
}

static const smpdfu_cli_cmd_t *find_command(const char *group, const char *command, bool *group_known)
{
    *group_known = false;
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const smpdfu_cli_cmd_t *c = &commands[k];
        if (strcmp(c->group, group)) {
            continue;
        }
        *group_known = true;
        if (!c->command || (command && !strcmp(c->command, command))) {
            return c;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    smpdfu_cli_t cli = {.retries = -1};
    bool conn_set = false, timeout_set = false, retries_set = false, help = false;
    /* Global options may stand anywhere: take them out, keep the rest in order.
     * "--" ends option scanning (an echo text that starts with a dash). */
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0;
    if (!rest) {
        smpdfu_cli_error("out of memory");
        return SMPDFU_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
        if (!strcmp(a, "--")) {
            while (++i < argc) {
                rest[nrest++] = argv[i];
            }
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help = true;
        } else if (!strcmp(a, "--help-all")) {
            help_all(stdout);
            return SMPDFU_EXIT_OK;
        } else if (!strcmp(a, "--version")) {
            printf("smpdfu %s\n", smpdfu_version());
            return SMPDFU_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            cli.quiet = true;
        } else if (!strcmp(a, "-v")) {
            cli.verbose++;
        } else if (!strcmp(a, "-vv")) {
            cli.verbose += 2;
        } else if (!strcmp(a, "--conn") || !strcmp(a, "--timeout") || !strcmp(a, "--retries")) {
            if (!val) {
                smpdfu_cli_error("option %s needs a value", a);
                return SMPDFU_EXIT_USAGE;
            }
            i++;
            int ex = smpdfu_cli_set_option(&cli, a + 2, val, "--");
            if (ex) {
                return ex;
            }
            conn_set |= !strcmp(a, "--conn");
            timeout_set |= !strcmp(a, "--timeout");
            retries_set |= !strcmp(a, "--retries");
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (nrest == 0 || rest[0][0] == '-') {
        if (help) {
            usage(stdout);
            return SMPDFU_EXIT_OK;
        }
        if (nrest) {
            smpdfu_cli_error("unknown option '%s' (see smpdfu --help)", rest[0]);
        } else {
            usage(stderr);
        }
        return SMPDFU_EXIT_USAGE;
    }
    const char *group = rest[0];
    const char *command = nrest > 1 ? rest[1] : NULL;
    bool group_known;
    const smpdfu_cli_cmd_t *c = find_command(group, command, &group_known);
    if (!c) {
        if (group_known && help) {
            usage(stdout);
            return SMPDFU_EXIT_OK;
        }
        if (group_known) {
            smpdfu_cli_error("'%s' has no command '%s' (see smpdfu --help)", group, command ? command : "");
        } else {
            smpdfu_cli_error("unknown command '%s' (see smpdfu --help)", group);
        }
        return SMPDFU_EXIT_USAGE;
    }
    if (help) {
        cmd_usage(stdout, c);
        return SMPDFU_EXIT_OK;
    }
    /* Where the connection and defaults come from: the command line, then
     * $SMPDFU_CONN, then the config file (which also names connections). */
    if (!conn_set && getenv("SMPDFU_CONN") && *getenv("SMPDFU_CONN")) {
        cli.conn = getenv("SMPDFU_CONN");
    }
    int ex = smpdfu_cli_config_apply(&cli, !timeout_set, !retries_set);
    if (ex) {
        return ex;
    }
    int skip = c->command ? 1 : 0; /* handlers get argv[0] = the command's name */
    return c->fn(&cli, nrest - skip, rest + skip);
}
