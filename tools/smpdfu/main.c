/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu: command-line SMP client. Parses global options, finds the command
 * in the table and hands over. Everything else is in cmd_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/version.h"
#include "smpdfu/error.h"
#include "smpdfu/posix_args.h"

static const smpdfu_cli_cmd_t commands[] = {
    {"image", "info", smpdfu_cmd_image_info, "FILE [--key PUBKEY.pem]",
     "show an MCUboot image: header, TLVs, the hash a device lists and the upload sha",
     "  --key PUBKEY.pem  also check the signature with this public key (PEM: ECDSA P-256/P-384, Ed25519)\n",
     "smpdfu image info app.signed.bin --key root-ec-p256.pub.pem"},
    {"image", "list", smpdfu_cmd_image_list, "", "list the device's image slots (version, flags, hash)", "",
     "smpdfu --conn serial:/dev/ttyACM0 image list"},
    {"image", "upload", smpdfu_cmd_image_upload,
     "FILE|URL|- [--size BYTES] [--image N] [--window N] [--upgrade] [--force]",
     "upload an image to the secondary slot (resumes an interrupted upload)",
     "  --size BYTES      the image's size when FILE is - (standard input, which cannot resume)\n"
     "  --image N         image number (0 = application, 1 = nRF5340 network core)\n"
     "  --window N        requests in flight, 1..8 (default: the device's buffer count;\n"
     "                    more than the device has is lowered to it, with a warning)\n"
     "  --upgrade         ask the device to refuse an image that is not newer\n"
     "  --force           upload even when the image fails the local checks (a padded image\n"
     "                    is sent as it is) or the device does not list image N\n",
     "smpdfu --conn udp:192.0.2.1:1337 image upload app-v2.bin"},
    {"image", "test", smpdfu_cmd_image_test, "HASH", "boot the image with this hash once, on the next reset", "",
     "smpdfu image test 3f1c...e2 (the hash from image list or image info)"},
    {"image", "confirm", smpdfu_cmd_image_confirm, "[HASH]",
     "make the running image (or the one with HASH) permanent", "", "smpdfu image confirm"},
    {"image", "erase", smpdfu_cmd_image_erase, "[SLOT]", "erase a slot (default: the one not running)", "",
     "smpdfu image erase 1"},
    {"image", "slots", smpdfu_cmd_image_slots, "", "show slot sizes and upload targets", "", "smpdfu image slots"},
    {"os", "echo", smpdfu_cmd_os_echo, "TEXT", "ask the device to echo TEXT", "", "smpdfu os echo hello"},
    {"os", "reset", smpdfu_cmd_os_reset, "[--force] [--bootloader] [--no-wait]",
     "reset the device and wait until it answers again",
     "  --force           reset even if the device would rather not (Zephyr's force flag)\n"
     "  --bootloader      reset into the bootloader (boot_mode 1: MCUboot stays in serial\n"
     "                    recovery; Zephyr >= 4.2 with CONFIG_MCUMGR_GRP_OS_RESET_BOOT_MODE)\n"
     "  --no-wait         return once the device took the request, without waiting for it\n",
     "smpdfu os reset --bootloader"},
    {"os", "params", smpdfu_cmd_os_params, "", "show the device's SMP buffer size and count", "",
     "smpdfu os params"},
    {"os", "info", smpdfu_cmd_os_info, "[FORMAT]", "show OS/application info (format chars: snrvbmpioa)", "",
     "smpdfu os info a"},
    {"os", "bootloader", smpdfu_cmd_os_bootloader, "[QUERY]", "show the bootloader (QUERY: mode)", "",
     "smpdfu os bootloader mode"},
    {"os", "tasks", smpdfu_cmd_os_tasks, "", "show the device's threads (task statistics)", "",
     "smpdfu os tasks"},
    {"os", "mpstat", smpdfu_cmd_os_mpstat, "", "show memory pool statistics (Mynewt format; Zephyr 4.x has none)",
     "", "smpdfu os mpstat"},
    {"os", "datetime", smpdfu_cmd_os_datetime, "[YYYY-MM-DDTHH:MM:SS[.mmm]]",
     "read the device's clock, or set it to the given time", "",
     "smpdfu os datetime 2026-11-30T16:00:00"},
    {"os", "groups", smpdfu_cmd_os_groups, "", "list the groups the device has, by name (enum details)", "",
     "smpdfu os groups"},
    {"stat", "list", smpdfu_cmd_stat_list, "", "list the device's statistics groups", "",
     "smpdfu stat list"},
    {"stat", "read", smpdfu_cmd_stat_read, "NAME", "show the counters of one statistics group", "",
     "smpdfu stat read smp"},
    {"settings", "read", smpdfu_cmd_settings_read, "NAME [--hex] [--max-size N]",
     "read a setting's running value (text when printable, else hex)",
     "  --hex             print the value as hex even when it is text\n"
     "  --max-size N      ask for at most N bytes\n",
     "smpdfu settings read app/name"},
    {"settings", "write", smpdfu_cmd_settings_write, "NAME VALUE [--hex]",
     "set a setting's running value (settings save stores it)",
     "  --hex             VALUE is hex digits (bytes), not text\n",
     "smpdfu settings write app/name sensor-7"},
    {"settings", "delete", smpdfu_cmd_settings_delete, "NAME", "delete a setting's stored value", "",
     "smpdfu settings delete app/name"},
    {"settings", "commit", smpdfu_cmd_settings_commit, "", "run the settings handlers' commit", "",
     "smpdfu settings commit"},
    {"settings", "load", smpdfu_cmd_settings_load, "", "load the stored settings into the running values", "",
     "smpdfu settings load"},
    {"settings", "save", smpdfu_cmd_settings_save, "", "store every running setting", "",
     "smpdfu settings save"},
    {"fs", "upload", smpdfu_cmd_fs_upload, "LOCAL REMOTE [--window N] [--no-resume]",
     "copy a file to the device (windowed; resumes when the device's part matches)",
     "  --window N        requests in flight, 1..8 (default: the device's buffer count)\n"
     "  --no-resume       start from byte 0 even if the device holds a matching beginning\n",
     "smpdfu fs upload data.bin /lfs/data.bin"},
    {"fs", "download", smpdfu_cmd_fs_download, "REMOTE LOCAL [--window N] [--no-resume]",
     "copy a file from the device (windowed; resumes a partial LOCAL that matches)",
     "  --window N        requests in flight, 1..8 (default: the device's buffer count)\n"
     "  --no-resume       start from byte 0 even if LOCAL holds a matching beginning\n",
     "smpdfu fs download /lfs/log.txt log.txt"},
    {"fs", "stat", smpdfu_cmd_fs_stat, "REMOTE", "show a device file's size", "",
     "smpdfu fs stat /lfs/data.bin"},
    {"fs", "hash", smpdfu_cmd_fs_hash, "REMOTE [--type sha256|crc32] [--off N] [--len N]",
     "hash or checksum a device file (or a part of it)",
     "  --type T          sha256 or crc32 (default: the device's, crc32)\n"
     "  --off N           start at byte N\n"
     "  --len N           hash N bytes (default: to the end)\n",
     "smpdfu fs hash /lfs/data.bin --type sha256"},
    {"fs", "types", smpdfu_cmd_fs_types, "", "list the hash/checksum types the device offers", "",
     "smpdfu fs types"},
    {"fs", "close", smpdfu_cmd_fs_close, "", "close the file the device holds open for a transfer", "",
     "smpdfu fs close"},
    {"shell", "exec", smpdfu_cmd_shell_exec, "CMD [ARG...]",
     "run a shell command on the device and print its output (exit 1 when it returns non-zero)",
     "", "smpdfu shell exec kernel version"},
    {"enum", "count", smpdfu_cmd_enum_count, "", "how many groups the device has", "",
     "smpdfu enum count"},
    {"enum", "list", smpdfu_cmd_enum_list, "", "the device's group ids", "", "smpdfu enum list"},
    {"enum", "single", smpdfu_cmd_enum_single, "INDEX", "the group id at INDEX in the device's list", "",
     "smpdfu enum single 0"},
    {"enum", "details", smpdfu_cmd_enum_details, "[GROUP...]",
     "names and command counts of the device's groups (or of those given)", "",
     "smpdfu enum details 0 1"},
    {"dfu", NULL, smpdfu_cmd_dfu,
     "FILE|URL|- [--size BYTES] [--mode M] [--image1 NETCORE.bin] [--window N] [--quiet-ms MS] "
     "[--reboot-timeout SEC] [--force] [--recovery]",
     "the whole update: check, upload, test, reset, wait, confirm (or through MCUboot's serial recovery)",
     "  --mode M          test-confirm (default): test, reset, confirm once it runs;\n"
     "                    confirm-only: confirm before the reset (no revert possible);\n"
     "                    test-only: test and reset, the image confirms itself;\n"
     "                    upload-only: stop after the upload\n"
     "  --size BYTES      the image's size when FILE is - (standard input)\n"
     "  --image1 FILE     the nRF5340 network core image (image 1), updated first\n"
     "  --window N        requests in flight, 1..8 (default: the device's buffer count;\n"
     "                    more than the device has is lowered to it, with a warning)\n"
     "  --quiet-ms MS     silence after the reset before asking whether the device is back (1000)\n"
     "  --reboot-timeout SEC  how long the device may take to come back (default 60)\n"
     "  --force           send a padded image (imgtool --pad) as it is, and --image1 to a\n"
     "                    device that does not list image 1\n"
     "  --recovery        through MCUboot's serial recovery: reset into the bootloader\n"
     "                    (boot_mode 1) unless it is there already, write FILE (and --image1)\n"
     "                    straight into the primary slot, reset, check the new image runs\n",
     "smpdfu --conn serial:/dev/ttyACM0,baud=115200 dfu app-v2.bin"},
    {"serve-image", NULL, smpdfu_cmd_serve_image, "FILE|URL [--block N]",
     "serve an image to a gateway's uplink UART (--conn serial:DEV or tcp:HOST:PORT; docs/uplink.md)",
     "  --block N         largest block one answer carries\n",
     "smpdfu --conn serial:/dev/ttyUSB1,baud=115200 serve-image https://fw.example.com/app-v2.bin"},
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

int smpdfu_cli_uint_arg(const char *opt, const char *val, long lo, long hi, long *out)
{
    uint64_t v;
    if (!val || smpdfu_posix_arg_uint(val, (uint64_t)lo, (uint64_t)hi, &v)) {
        smpdfu_cli_error("%s wants a whole number from %ld to %ld, not '%s'", opt, lo, hi,
                         val ? val : "");
        return SMPDFU_EXIT_USAGE;
    }
    *out = (long)v;
    return 0;
}

void smpdfu_cli_padded_reason(char *buf, size_t cap, int err, uint32_t size, uint32_t end)
{
    if (err == SMPDFU_EIMG_PADDED) {
        snprintf(buf, cap,
                 "it is padded to %u bytes and ends in an MCUboot trailer (imgtool --pad): sent to "
                 "a device, that trailer lands in the secondary slot and marks the image for a "
                 "swap at the next reset before any test (for good if it was signed with "
                 "--confirm), and a slot-sized file may not fit the slot at all; upload the "
                 "unpadded signed image (the first %u bytes of this file)",
                 (unsigned)size, (unsigned)end);
    } else {
        snprintf(buf, cap,
                 "%u bytes follow the image's TLV area (the image ends at byte %u): the device "
                 "would store them in the slot too, and a later check of the slot would not "
                 "expect them",
                 (unsigned)(size - end), (unsigned)end);
    }
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
    "  --timeout SEC     per-request timeout, 0.001..3600 (default 1 s UDP, 2 s serial/TCP)\n"
    "  --retries N       retransmissions per request, 0..100 (default 3)\n"
    "                    (an upload then asks the device where it stands and goes on)\n"
    "  --give-up SEC     an upload or dfu fails only after the device has been\n"
    "                    silent this long (default 60)\n"
    "  --packet-size N   fixed upload packet size in bytes (default: the device's\n"
    "                    limit, halved while large frames get lost)\n"
    "  --pace-us N       serial: N us of quiet after each line (default: on when\n"
    "                    the device drops lines of multi-line frames; 0 = never)\n"
    "  --json            print results as JSON\n"
    "  -q, --quiet       no progress output\n"
    "  -v                trace requests to stderr (-vv: bytes too)\n"
    "  -h, --help        this text; after a command, that command's options and an example\n"
    "  --version         print smpdfu's version\n";

/* The help texts above state these defaults (include/smpdfu/defaults.h): a
 * build that changes one must change the text with it. */
#if SMPDFU_DEFAULT_UDP_TIMEOUT_MS != 1000 || SMPDFU_DEFAULT_TIMEOUT_MS != 2000 ||                  \
    SMPDFU_DEFAULT_RETRIES != 3 || SMPDFU_DEFAULT_SILENCE_MS != 60000 ||                          \
    SMPDFU_DEFAULT_QUIET_MS != 1000 || SMPDFU_DEFAULT_REBOOT_TIMEOUT_MS != 60000
#error "smpdfu --help states other defaults than defaults.h: update the texts in tools/smpdfu/main.c"
#endif

static void cmd_name(const smpdfu_cli_cmd_t *c, char *name, size_t cap)
{
    snprintf(name, cap, "%s%s%s", c->group, c->command ? " " : "", c->command ? c->command : "");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smpdfu [options] <group> <command> [args] [options]\n\n"
               "options (anywhere on the line):\n%s\n"
               "FILE may also be an http:// or https:// URL. `image upload` and `dfu` stream it with\n"
               "Range requests through a 32 KiB window (checked as it passes; the final chunk is held\n"
               "back until the hash verified), or read `-` (standard input) with --size BYTES;\n"
               "`image info` downloads it into memory (at most 16 MiB). $SMPDFU_HTTP_TIMEOUT: seconds.\n"
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

/* Strict (posix_args.h): no NaN, infinity, sign wrap or trailing text, and
 * nothing that rounds to 0 ms and so would silently mean "the default". */
static int parse_seconds(const char *s, int *ms)
{
    uint32_t v;
    if (smpdfu_posix_arg_seconds_ms(s, 0.001, 3600, &v)) {
        return SMPDFU_EUSAGE;
    }
    *ms = (int)v;
    return 0;
}

static int parse_retries(const char *s, int *r)
{
    uint64_t v;
    if (smpdfu_posix_arg_uint(s, 0, 100, &v)) {
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
            smpdfu_cli_error("%stimeout wants seconds from 0.001 to 3600 (e.g. 2 or 0.5), not '%s'",
                             where, val);
            return SMPDFU_EXIT_USAGE;
        }
    } else if (!strcmp(opt, "retries")) {
        if (parse_retries(val, &cli->retries)) {
            smpdfu_cli_error("%sretries wants a whole number from 0 to 100, not '%s'", where, val);
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
    smpdfu_cli_t cli = {.retries = -1, .pace_us = -1};
    bool conn_set = false, timeout_set = false, retries_set = false, help = false;
    /* Global options may stand anywhere: take them out, keep the rest in order.
     * "--" ends option scanning (an echo text that starts with a dash). */
    /* Compacted in place: argv[1..] keeps the non-global words in order
     * (never ahead of the scan, so nothing is overwritten before it is read). */
    char **rest = argv + 1;
    int nrest = 0;
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
    rest[nrest] = NULL; /* as argv: the list ends with NULL */
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
