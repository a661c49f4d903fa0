/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-gw's configuration file: "key = value" lines, "[device NAME]"
 * sections (docs/fleet.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/gw.h"
#include "smpdfu/posix_args.h"
#include "smpdfu/posix_loop.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        s[--n] = 0;
    }
    return s;
}

static int fail(char *err, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

static int set_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap) {
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

void smpdfu_gw_config_free(smpdfu_gw_config_t *cfg)
{
    free(cfg->devices);
    cfg->devices = NULL;
    cfg->ndevices = 0;
}

int smpdfu_gw_config_load(smpdfu_gw_config_t *cfg, const char *path, char *err, size_t cap)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->concurrency = 8;
    cfg->progress_ms = 1000;
    cfg->reconnect_max_ms = 8000;
    snprintf(cfg->state_prefix, sizeof(cfg->state_prefix), "smpdfu/things");
    FILE *f = fopen(path, "r");
    if (!f) {
        return fail(err, cap, SMPDFU_EFILE, "cannot read the configuration %s: %s", path, strerror(errno));
    }
    char line[1024];
    unsigned ln = 0;
    smpdfu_gw_device_cfg_t *dev = NULL;
    int rc = 0;
    while (fgets(line, sizeof(line), f)) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t')) {
            *hash = 0; /* a comment; '#' inside a value (a password) stays */
        }
        char *s = trim(line);
        if (!*s) {
            continue;
        }
        if (*s == '[') {
            char *rb = strchr(s, ']');
            if (!rb || strncmp(s, "[device ", 8) || rb[1]) {
                rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: a section is [device NAME]", path, ln);
                break;
            }
            *rb = 0;
            char *name = trim(s + 8);
            if (!*name || strlen(name) >= sizeof(dev->name) || strpbrk(name, "/+#")) {
                rc = fail(err, cap, SMPDFU_EUSAGE,
                          "%s:%u: a device name is 1 to 128 characters without '/', '+' or '#' "
                          "(it is the thing name in MQTT topics)",
                          path, ln);
                break;
            }
            for (size_t i = 0; i < cfg->ndevices; i++) {
                if (!strcmp(cfg->devices[i].name, name)) {
                    rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: device %s is named twice", path, ln, name);
                    break;
                }
            }
            if (rc) {
                break;
            }
            if (cfg->ndevices >= SMPDFU_GW_MAX_DEVICES) {
                rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: more than %u devices", path, ln,
                          SMPDFU_GW_MAX_DEVICES);
                break;
            }
            smpdfu_gw_device_cfg_t *nd = realloc(cfg->devices, (cfg->ndevices + 1) * sizeof(*nd));
            if (!nd) {
                rc = fail(err, cap, SMPDFU_ENOSPC, "out of memory");
                break;
            }
            cfg->devices = nd;
            dev = &cfg->devices[cfg->ndevices++];
            memset(dev, 0, sizeof(*dev));
            snprintf(dev->name, sizeof(dev->name), "%s", name);
            dev->images = 1;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: expected KEY = VALUE", path, ln);
            break;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        uint64_t u;
        uint32_t ms;
        int bad = 0;
        if (dev) {
            if (!strcmp(k, "conn")) {
                smpdfu_posix_port_t p;
                bad = set_str(dev->conn, sizeof(dev->conn), v) || smpdfu_posix_port_parse(&p, v);
            } else if (!strcmp(k, "images")) {
                bad = smpdfu_posix_arg_uint(v, 1, 2, &u);
                dev->images = (uint32_t)u;
            } else {
                rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: unknown device setting '%s' (conn, images)", path, ln, k);
                break;
            }
        } else if (!strcmp(k, "broker")) {
            bad = set_str(cfg->broker, sizeof(cfg->broker), v) ||
                  (strncmp(v, "mqtt://", 7) && strncmp(v, "mqtts://", 8));
        } else if (!strcmp(k, "client_id")) {
            bad = set_str(cfg->client_id, sizeof(cfg->client_id), v) || !*v;
        } else if (!strcmp(k, "username")) {
            bad = set_str(cfg->username, sizeof(cfg->username), v);
        } else if (!strcmp(k, "password")) {
            bad = set_str(cfg->password, sizeof(cfg->password), v);
        } else if (!strcmp(k, "ca")) {
            bad = set_str(cfg->ca, sizeof(cfg->ca), v);
        } else if (!strcmp(k, "cert")) {
            bad = set_str(cfg->cert, sizeof(cfg->cert), v);
        } else if (!strcmp(k, "key")) {
            bad = set_str(cfg->key, sizeof(cfg->key), v);
        } else if (!strcmp(k, "cache_dir")) {
            bad = set_str(cfg->cache_dir, sizeof(cfg->cache_dir), v) || !*v;
        } else if (!strcmp(k, "journal")) {
            bad = set_str(cfg->journal, sizeof(cfg->journal), v);
        } else if (!strcmp(k, "sign_key")) {
            bad = set_str(cfg->sign_key, sizeof(cfg->sign_key), v);
        } else if (!strcmp(k, "state_prefix")) {
            bad = set_str(cfg->state_prefix, sizeof(cfg->state_prefix), v) || strpbrk(v, "+#") || !*v;
        } else if (!strcmp(k, "allow_http")) {
            bad = strcmp(v, "true") && strcmp(v, "false");
            cfg->allow_http = !strcmp(v, "true");
        } else if (!strcmp(k, "concurrency")) {
            bad = smpdfu_posix_arg_uint(v, 1, SMPDFU_GW_MAX_DEVICES, &u);
            cfg->concurrency = (uint32_t)u;
        } else if (!strcmp(k, "progress_interval")) {
            bad = smpdfu_posix_arg_seconds_ms(v, 0.001, 3600, &ms);
            cfg->progress_ms = ms;
        } else if (!strcmp(k, "timeout")) {
            bad = smpdfu_posix_arg_seconds_ms(v, 0.001, 60, &ms);
            cfg->timeout_ms = ms;
        } else if (!strcmp(k, "reconnect_max")) {
            bad = smpdfu_posix_arg_seconds_ms(v, 0.1, 3600, &ms);
            cfg->reconnect_max_ms = ms;
        } else {
            rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: unknown setting '%s'", path, ln, k);
            break;
        }
        if (bad) {
            rc = fail(err, cap, SMPDFU_EUSAGE, "%s:%u: bad value for %s: '%s'", path, ln, k, v);
            break;
        }
    }
    fclose(f);
    if (!rc && !cfg->broker[0]) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: no broker (broker = mqtts://HOST:PORT)", path);
    }
    if (!rc && !cfg->client_id[0]) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: no client_id", path);
    }
    if (!rc && !cfg->cache_dir[0]) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: no cache_dir", path);
    }
    if (!rc && !strncmp(cfg->broker, "mqtts://", 8) && !cfg->ca[0]) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: an mqtts:// broker needs ca = the CA certificate file", path);
    }
    if (!rc && (!cfg->cert[0]) != (!cfg->key[0])) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: cert and key go together", path);
    }
    for (size_t i = 0; !rc && i < cfg->ndevices; i++) {
        if (!cfg->devices[i].conn[0]) {
            rc = fail(err, cap, SMPDFU_EUSAGE, "%s: device %s has no conn", path, cfg->devices[i].name);
        }
    }
    if (!rc && cfg->ndevices == 0) {
        rc = fail(err, cap, SMPDFU_EUSAGE, "%s: no [device NAME] section", path);
    }
    if (!rc && !cfg->journal[0]) {
        snprintf(cfg->journal, sizeof(cfg->journal), "%.*s/journal.db", SMPDFU_GW_PATH_MAX - 12, cfg->cache_dir);
    }
    if (rc) {
        smpdfu_gw_config_free(cfg);
    }
    return rc;
}
