/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu ble scan: devices advertising the SMP service, through BlueZ. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smpdfu/error.h"
#ifdef SMPDFU_HAVE_BLUEZ
#include "smpdfu/posix_bluez.h"
#endif

int smpdfu_cmd_ble_scan(const smpdfu_cli_t *cli, int argc, char **argv)
{
    unsigned long seconds = 5, count = 0;
    const char *adapter = "";
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = strtoul(argv[++i], &end, 10);
            if (*end || seconds == 0 || seconds > 3600) {
                smpdfu_cli_error("--seconds takes a whole number of seconds (1-3600)");
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            count = strtoul(argv[++i], &end, 10);
            if (*end || count > 64) {
                smpdfu_cli_error("--count takes a number of devices (0-64)");
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--adapter") && i + 1 < argc) {
            adapter = argv[++i];
        } else {
            smpdfu_cli_error("usage: smpdfu ble scan [--seconds N] [--count N] [--adapter hciN]");
            return SMPDFU_EXIT_USAGE;
        }
    }
#ifdef SMPDFU_HAVE_BLUEZ
    smpdfu_bluez_seen_t seen[64];
    size_t n = 0;
    const char *why = "";
    int rc = smpdfu_bluez_scan(adapter, (uint32_t)seconds, count, seen, 64, &n, &why);
    if (rc) {
        smpdfu_cli_error("cannot scan: %s", why);
        return SMPDFU_EXIT_FAIL;
    }
    if (cli->json) {
        printf("{\"devices\": [");
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"address\": \"%s\", \"name\": ", i ? ", " : "", seen[i].addr);
            smpdfu_cli_json_str(stdout, seen[i].name);
            if (seen[i].rssi != 127) {
                printf(", \"rssi\": %d", seen[i].rssi);
            } else {
                printf(", \"rssi\": null");
            }
            printf(", \"connected\": %s, \"paired\": %s}", seen[i].connected ? "true" : "false",
                   seen[i].paired ? "true" : "false");
        }
        printf("]}\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            char rssi[16] = "--";
            if (seen[i].rssi != 127) {
                snprintf(rssi, sizeof(rssi), "%d dBm", seen[i].rssi);
            }
            printf("%s  %-8s  %s%s%s\n", seen[i].addr, rssi, seen[i].name[0] ? seen[i].name : "(no name)",
                   seen[i].paired ? "  [paired]" : "", seen[i].connected ? "  [connected]" : "");
        }
        if (n == 0) {
            fprintf(stderr, "no device advertising the SMP service found in %lu s\n", seconds);
        }
    }
    return 0;
#else
    (void)cli;
    (void)adapter;
    smpdfu_cli_error("this smpdfu was built without BlueZ support (libsystemd-dev was missing)");
    return SMPDFU_EXIT_FAIL;
#endif
}
