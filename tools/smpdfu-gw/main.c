/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-gw: the fleet gateway daemon. Parses the command line, loads the
 * configuration and runs the gateway (src/gw/posix) until SIGTERM/SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "smpdfu/gw.h"
#include "smpdfu/version.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: smpdfu-gw --config FILE [-v]\n"
            "Fleet gateway: takes update jobs over MQTT (AWS IoT Jobs topics) and updates the\n"
            "devices the configuration names, all from one event loop. Runs in the foreground,\n"
            "logs to stderr, stops cleanly on SIGTERM (running jobs resume at the next start).\n"
            "\n"
            "  --config FILE   the configuration (format: docs/fleet.md)\n"
            "  -v              log the MQTT client's warnings (-vv: everything)\n"
            "  --help          this text\n"
            "  --version       the version\n"
            "\n"
            "Example: smpdfu-gw --config /etc/smpdfu-gw/gw.conf\n");
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            conf = argv[++i];
        } else if (!strcmp(argv[i], "-v")) {
            verbose++;
        } else if (!strcmp(argv[i], "-vv")) {
            verbose += 2;
        } else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("smpdfu-gw %s\n", SMPDFU_VERSION_STRING);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!conf) {
        usage(stderr);
        return 2;
    }
    smpdfu_gw_config_t cfg;
    char err[700];
    if (smpdfu_gw_config_load(&cfg, conf, err, sizeof(err))) {
        fprintf(stderr, "smpdfu-gw: %s\n", err);
        return 2;
    }
    cfg.verbose = verbose;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stderr, NULL, _IOLBF, 0);
    int rc = smpdfu_gw_run(&cfg, &stop_flag);
    smpdfu_gw_config_free(&cfg);
    return rc ? 1 : 0;
}
