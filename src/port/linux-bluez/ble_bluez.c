/* SPDX-License-Identifier: Apache-2.0 */
/* SMP over BLE through BlueZ's D-Bus API (sd-bus): a central. See
 * include/smpdfu/posix_bluez.h and docs/client.md ("BLE through BlueZ"). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "smpdfu/ble.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_bluez.h"

#define BLUEZ "org.bluez"
#define IF_ADAPTER "org.bluez.Adapter1"
#define IF_DEVICE "org.bluez.Device1"
#define IF_CHAR "org.bluez.GattCharacteristic1"
#define IF_SERVICE "org.bluez.GattService1"
#define IF_PROPS "org.freedesktop.DBus.Properties"
#define IF_OM "org.freedesktop.DBus.ObjectManager"
/* Emulated and some real controllers report an advertiser once per scan start. */
#define RESCAN_MS 1500u

struct smpdfu_bluez_priv {
    sd_bus *bus;
    char adapter_path[64];
    int wfd, nfd;
    bool lost;                /* Device1.Connected went false */
    bool we_connected;        /* Connect was ours: Disconnect on close */
    smpdfu_client_t *feed_to; /* set while ready() dispatches D-Bus messages */
    sd_bus_slot *dev_match, *chr_match;
    smpdfu_posix_port_t *port;
    smpdfu_bluez_t *b;
};

/* One object of GetManagedObjects / InterfacesAdded, the fields we use. */
typedef struct {
    const char *path;
    bool adapter, device, chr, svc;
    char addr[18], name[64], alias[64], uuid[40], dev_adapter[64];
    bool smp_uuid, connected, resolved, paired;
    int rssi;
    unsigned mtu;
} obj_t;

typedef void (*obj_fn)(void *ctx, const obj_t *o);

static const char *g_why;

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

static int read_str(sd_bus_message *m, char *dst, size_t cap, const char *sig)
{
    const char *s = NULL;
    int r = sd_bus_message_read(m, "v", sig, &s);
    if (r >= 0) {
        copy(dst, cap, s);
    }
    return r;
}

/* a{sv} of one interface into o. */
static int read_props(sd_bus_message *m, const char *iface, obj_t *o)
{
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char *key;
        if ((r = sd_bus_message_read(m, "s", &key)) < 0) {
            return r;
        }
        char type;
        const char *contents;
        if ((r = sd_bus_message_peek_type(m, &type, &contents)) < 0) {
            return r;
        }
        bool dev = !strcmp(iface, IF_DEVICE);
        bool chr = !strcmp(iface, IF_CHAR) || !strcmp(iface, IF_SERVICE);
        if (dev && !strcmp(key, "Address") && !strcmp(contents, "s")) {
            r = read_str(m, o->addr, sizeof(o->addr), "s");
        } else if (dev && !strcmp(key, "Name") && !strcmp(contents, "s")) {
            r = read_str(m, o->name, sizeof(o->name), "s");
        } else if (dev && !strcmp(key, "Alias") && !strcmp(contents, "s")) {
            r = read_str(m, o->alias, sizeof(o->alias), "s");
        } else if (dev && !strcmp(key, "Adapter") && !strcmp(contents, "o")) {
            r = read_str(m, o->dev_adapter, sizeof(o->dev_adapter), "o");
        } else if (dev && !strcmp(key, "RSSI") && !strcmp(contents, "n")) {
            int16_t v;
            r = sd_bus_message_read(m, "v", "n", &v);
            o->rssi = v;
        } else if (dev && (!strcmp(key, "Connected") || !strcmp(key, "ServicesResolved") ||
                           !strcmp(key, "Paired")) &&
                   !strcmp(contents, "b")) {
            int v = 0;
            r = sd_bus_message_read(m, "v", "b", &v);
            if (key[0] == 'C') {
                o->connected = v;
            } else if (key[0] == 'S') {
                o->resolved = v;
            } else {
                o->paired = v;
            }
        } else if (dev && !strcmp(key, "UUIDs") && !strcmp(contents, "as")) {
            if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 ||
                (r = sd_bus_message_enter_container(m, 'a', "s")) < 0) {
                return r;
            }
            const char *u;
            while ((r = sd_bus_message_read(m, "s", &u)) > 0) {
                if (!strcasecmp(u, SMPDFU_BLE_SERVICE_UUID)) {
                    o->smp_uuid = true;
                }
            }
            if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
                return r;
            }
            r = sd_bus_message_exit_container(m);
        } else if (chr && !strcmp(key, "UUID") && !strcmp(contents, "s")) {
            r = read_str(m, o->uuid, sizeof(o->uuid), "s");
        } else if (chr && !strcmp(key, "MTU") && !strcmp(contents, "q")) {
            uint16_t v;
            r = sd_bus_message_read(m, "v", "q", &v);
            o->mtu = v;
        } else {
            r = sd_bus_message_skip(m, "v");
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
            return r;
        }
    }
    if (r < 0) {
        return r;
    }
    return sd_bus_message_exit_container(m);
}

/* a{sa{sv}} of one object path: calls fn once with what it found. */
static int read_ifaces(sd_bus_message *m, const char *path, obj_fn fn, void *ctx)
{
    obj_t o;
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.rssi = 127;
    int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
    if (r < 0) {
        return r;
    }
    while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
        const char *iface;
        if ((r = sd_bus_message_read(m, "s", &iface)) < 0) {
            return r;
        }
        o.adapter |= !strcmp(iface, IF_ADAPTER);
        o.device |= !strcmp(iface, IF_DEVICE);
        o.chr |= !strcmp(iface, IF_CHAR);
        o.svc |= !strcmp(iface, IF_SERVICE);
        if ((r = read_props(m, iface, &o)) < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
            return r;
        }
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
        return r;
    }
    fn(ctx, &o);
    return 0;
}

/* GetManagedObjects, fn for each object. */
static int each_object(sd_bus *bus, obj_fn fn, void *ctx)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *rep = NULL;
    int r = sd_bus_call_method(bus, BLUEZ, "/", IF_OM, "GetManagedObjects", &err, &rep, "");
    sd_bus_error_free(&err);
    if (r < 0) {
        return r;
    }
    if ((r = sd_bus_message_enter_container(rep, 'a', "{oa{sa{sv}}}")) >= 0) {
        while ((r = sd_bus_message_enter_container(rep, 'e', "oa{sa{sv}}")) > 0) {
            const char *path;
            if ((r = sd_bus_message_read(rep, "o", &path)) < 0 || (r = read_ifaces(rep, path, fn, ctx)) < 0 ||
                (r = sd_bus_message_exit_container(rep)) < 0) {
                break;
            }
        }
    }
    sd_bus_message_unref(rep);
    return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- adapter */

typedef struct {
    const char *want; /* "hci1" or "" */
    char path[64];
} find_adapter_t;

static void on_adapter(void *ctx, const obj_t *o)
{
    find_adapter_t *f = ctx;
    if (!o->adapter || f->path[0]) {
        return;
    }
    const char *base = strrchr(o->path, '/');
    if (!f->want[0] || (base && !strcmp(base + 1, f->want))) {
        copy(f->path, sizeof(f->path), o->path);
    }
}

static int open_adapter(sd_bus **bus, const char *want, char *path, size_t cap)
{
    int r = sd_bus_open_system(bus);
    if (r < 0) {
        g_why = "cannot reach the D-Bus system bus (is dbus running?)";
        return SMPDFU_ENOCONN;
    }
    find_adapter_t f = {want, ""};
    if (each_object(*bus, on_adapter, &f) < 0) {
        g_why = "BlueZ does not answer on the system bus (is bluetoothd running?)";
        *bus = sd_bus_flush_close_unref(*bus);
        return SMPDFU_ENOCONN;
    }
    if (!f.path[0]) {
        g_why = want[0] ? "BlueZ has no such adapter (see bluetoothctl list)" : "BlueZ has no Bluetooth adapter";
        *bus = sd_bus_flush_close_unref(*bus);
        return SMPDFU_ENOCONN;
    }
    copy(path, cap, f.path);
    return 0;
}

static int discovery(sd_bus *bus, const char *adapter, bool on)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    int r;
    if (on) {
        /* Only LE advertisers of the SMP service; every report (RSSI updates, rescans). */
        r = sd_bus_call_method(bus, BLUEZ, adapter, IF_ADAPTER, "SetDiscoveryFilter", &err, NULL, "a{sv}", 3,
                               "UUIDs", "as", 1, SMPDFU_BLE_SERVICE_UUID, "Transport", "s", "le",
                               "DuplicateData", "b", 1);
        sd_bus_error_free(&err);
        r = sd_bus_call_method(bus, BLUEZ, adapter, IF_ADAPTER, "StartDiscovery", &err, NULL, "");
    } else {
        r = sd_bus_call_method(bus, BLUEZ, adapter, IF_ADAPTER, "StopDiscovery", &err, NULL, "");
    }
    sd_bus_error_free(&err);
    return r;
}

/* Dispatch bus traffic for up to ms. */
static void bus_pump(sd_bus *bus, uint32_t ms)
{
    uint64_t end = smpdfu_posix_now_ms() + ms;
    for (;;) {
        while (sd_bus_process(bus, NULL) > 0) {
        }
        uint64_t now = smpdfu_posix_now_ms();
        if (now >= end) {
            return;
        }
        sd_bus_wait(bus, (end - now) * 1000u);
    }
}

/* ---------------------------------------------------------------- scan */

#define SCAN_KNOWN_MAX 64

typedef struct {
    const char *adapter;
    smpdfu_bluez_seen_t *out;
    size_t cap, n;
    /* Devices BlueZ knew before this scan: listed only when seen now (RSSI) or connected.
     * btvirt's controllers report no RSSI (127), so a device new to BlueZ counts as seen. */
    char known[SCAN_KNOWN_MAX][18];
    size_t nknown;
    bool collecting;
} scan_t;

static bool was_known(const scan_t *s, const char *addr)
{
    for (size_t i = 0; i < s->nknown; i++) {
        if (!strcmp(s->known[i], addr)) {
            return true;
        }
    }
    return false;
}

static void on_scan_obj(void *ctx, const obj_t *o)
{
    scan_t *s = ctx;
    if (o->device && getenv("SMPDFU_BLE_DEBUG")) {
        fprintf(stderr, "ble scan: %s adapter=%s addr=%s name=%s smp=%d rssi=%d connected=%d\n", o->path,
                o->dev_adapter, o->addr, o->name, o->smp_uuid, o->rssi, o->connected);
    }
    if (!o->device || strcmp(o->dev_adapter, s->adapter)) {
        return;
    }
    if (s->collecting) {
        if (s->nknown < SCAN_KNOWN_MAX) {
            copy(s->known[s->nknown++], sizeof(s->known[0]), o->addr);
        }
        return;
    }
    /* Advertising the SMP service, and seen in this discovery (RSSI, or new) or connected. */
    if (!o->smp_uuid || (o->rssi == 127 && !o->connected && was_known(s, o->addr))) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->out[i].addr, o->addr)) {
            s->out[i].rssi = o->rssi;
            return;
        }
    }
    if (s->n < s->cap) {
        smpdfu_bluez_seen_t *d = &s->out[s->n++];
        copy(d->addr, sizeof(d->addr), o->addr);
        copy(d->name, sizeof(d->name), o->name[0] ? o->name : o->alias);
        d->rssi = o->rssi;
        d->connected = o->connected;
        d->paired = o->paired;
    }
}

int smpdfu_bluez_scan(const char *adapter, uint32_t seconds, size_t count, smpdfu_bluez_seen_t *out,
                      size_t cap, size_t *n, const char **why)
{
    sd_bus *bus = NULL;
    char path[64];
    *n = 0;
    int rc = open_adapter(&bus, adapter ? adapter : "", path, sizeof(path));
    if (rc) {
        *why = g_why;
        return rc;
    }
    static scan_t s;
    memset(&s, 0, sizeof(s));
    s.adapter = path;
    s.out = out;
    s.cap = cap;
    s.collecting = true;
    each_object(bus, on_scan_obj, &s);
    s.collecting = false;
    uint64_t end = smpdfu_posix_now_ms() + (uint64_t)seconds * 1000u;
    while (smpdfu_posix_now_ms() < end) {
        discovery(bus, path, true);
        bus_pump(bus, RESCAN_MS);
        each_object(bus, on_scan_obj, &s);
        discovery(bus, path, false);
        if (count && s.n >= count) {
            break;
        }
    }
    *n = s.n;
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* ---------------------------------------------------------------- connect */

int smpdfu_bluez_parse(smpdfu_bluez_t *b, const char *spec)
{
    memset(b, 0, sizeof(*b));
    b->timeout_ms = SMPDFU_DEFAULT_BLE_TIMEOUT_MS;
    if (!spec || strncmp(spec, "ble:", 4)) {
        return SMPDFU_EUSAGE;
    }
    const char *body = spec + 4;
    /* An address has colons, so options start at the first comma. */
    const char *comma = strchr(body, ',');
    size_t n = comma ? (size_t)(comma - body) : strlen(body);
    if (n == 0 || n >= sizeof(b->name)) {
        return SMPDFU_EUSAGE;
    }
    unsigned x[6];
    char tail;
    char tmp[64];
    memcpy(tmp, body, n);
    tmp[n] = 0;
    if (n == 17 && sscanf(tmp, "%2x:%2x:%2x:%2x:%2x:%2x%c", &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &tail) == 6) {
        snprintf(b->addr, sizeof(b->addr), "%02X:%02X:%02X:%02X:%02X:%02X", x[0] & 0xffu, x[1] & 0xffu,
                 x[2] & 0xffu, x[3] & 0xffu, x[4] & 0xffu, x[5] & 0xffu);
    } else {
        copy(b->name, sizeof(b->name), tmp);
    }
    while (comma) {
        const char *opt = comma + 1;
        comma = strchr(opt, ',');
        size_t l = comma ? (size_t)(comma - opt) : strlen(opt);
        if (l > 8 && !strncmp(opt, "adapter=", 8) && l - 8 < sizeof(b->adapter)) {
            memcpy(b->adapter, opt + 8, l - 8);
            b->adapter[l - 8] = 0;
        } else if (l > 8 && !strncmp(opt, "timeout=", 8)) {
            char num[16];
            if (l - 8 >= sizeof(num)) {
                return SMPDFU_EUSAGE;
            }
            memcpy(num, opt + 8, l - 8);
            num[l - 8] = 0;
            char *end;
            double s = strtod(num, &end);
            if (*end || s <= 0 || s > 3600) {
                return SMPDFU_EUSAGE;
            }
            b->timeout_ms = (uint32_t)(s * 1000);
        } else if (l > 4 && !strncmp(opt, "mtu=", 4)) {
            char num[8];
            if (l - 4 >= sizeof(num)) {
                return SMPDFU_EUSAGE;
            }
            memcpy(num, opt + 4, l - 4);
            num[l - 4] = 0;
            char *end;
            unsigned long v = strtoul(num, &end, 10);
            if (*end || v < 23 || v > 517) {
                return SMPDFU_EUSAGE;
            }
            b->mtu_cap = (unsigned)v;
        } else if (l == 10 && !strncmp(opt, "reassembly", 10)) {
            b->reassembly = true;
        } else {
            return SMPDFU_EUSAGE;
        }
    }
    return 0;
}

typedef struct {
    smpdfu_bluez_t *b;
    const char *adapter;
    char dev[128];
    bool dev_seen; /* RSSI in this discovery, or connected */
    char svc[192];
    char chr[192];
    unsigned chr_mtu;
} find_t;

static void on_find_dev(void *ctx, const obj_t *o)
{
    find_t *f = ctx;
    if (!o->device || strcmp(o->dev_adapter, f->adapter)) {
        return;
    }
    bool match = f->b->addr[0] ? !strcasecmp(o->addr, f->b->addr)
                               : o->smp_uuid && (!strcmp(o->name, f->b->name) || !strcmp(o->alias, f->b->name));
    if (!match) {
        return;
    }
    bool seen = o->rssi != 127 || o->connected;
    /* Prefer a device seen now over a cached one of the same name. */
    if (!f->dev[0] || (seen && !f->dev_seen)) {
        copy(f->dev, sizeof(f->dev), o->path);
        f->dev_seen = seen;
    }
}

static void on_find_svc(void *ctx, const obj_t *o)
{
    find_t *f = ctx;
    size_t dl = strlen(f->dev);
    if (o->svc && !strncmp(o->path, f->dev, dl) && o->path[dl] == '/' &&
        !strcasecmp(o->uuid, SMPDFU_BLE_SERVICE_UUID)) {
        copy(f->svc, sizeof(f->svc), o->path);
    }
}

static void on_find_chr(void *ctx, const obj_t *o)
{
    find_t *f = ctx;
    size_t sl = strlen(f->svc);
    if (f->svc[0] && o->chr && !strncmp(o->path, f->svc, sl) && o->path[sl] == '/' &&
        !strcasecmp(o->uuid, SMPDFU_BLE_CHAR_UUID)) {
        copy(f->chr, sizeof(f->chr), o->path);
        f->chr_mtu = o->mtu;
    }
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *name, int *v)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    int r = sd_bus_get_property_trivial(bus, BLUEZ, path, iface, name, &err, 'b', v);
    sd_bus_error_free(&err);
    return r;
}

static int on_dev_props(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    struct smpdfu_bluez_priv *p = ud;
    const char *iface;
    if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, IF_DEVICE)) {
        return 0;
    }
    obj_t o;
    memset(&o, 0, sizeof(o));
    o.connected = true;
    o.resolved = true;
    if (read_props(m, iface, &o) >= 0 && !o.connected) {
        p->lost = true;
    }
    return 0;
}

/* Fallback notifications: the characteristic's Value in PropertiesChanged. */
static int on_chr_props(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    struct smpdfu_bluez_priv *p = ud;
    const char *iface;
    if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, IF_CHAR) ||
        sd_bus_message_enter_container(m, 'a', "{sv}") < 0) {
        return 0;
    }
    while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
        const char *key;
        char type;
        const char *contents;
        if (sd_bus_message_read(m, "s", &key) < 0 || sd_bus_message_peek_type(m, &type, &contents) < 0) {
            return 0;
        }
        if (!strcmp(key, "Value") && !strcmp(contents, "ay")) {
            const void *data;
            size_t n;
            if (sd_bus_message_enter_container(m, 'v', "ay") < 0 ||
                sd_bus_message_read_array(m, 'y', &data, &n) < 0) {
                return 0;
            }
            if (p->feed_to) {
                p->port->rx_bytes += (uint32_t)n;
                smpdfu_client_feed_at(p->feed_to, data, n, smpdfu_posix_now_ms());
            }
            sd_bus_message_exit_container(m);
        } else {
            sd_bus_message_skip(m, "v");
        }
        sd_bus_message_exit_container(m);
    }
    return 0;
}

/* Acquire one socket (AcquireWrite / AcquireNotify); -1 when BlueZ refuses. */
static int acquire(sd_bus *bus, const char *chr, const char *method, unsigned *mtu)
{
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *rep = NULL;
    int fd = -1;
    uint16_t m = 0;
    int r = sd_bus_call_method(bus, BLUEZ, chr, IF_CHAR, method, &err, &rep, "a{sv}", 0);
    sd_bus_error_free(&err);
    if (r >= 0 && sd_bus_message_read(rep, "hq", &fd, &m) >= 0) {
        /* The descriptor belongs to the message: keep a copy. */
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd >= 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            *mtu = m;
        }
    } else {
        fd = -1;
    }
    sd_bus_message_unref(rep);
    return fd;
}

static void drop_link(struct smpdfu_bluez_priv *p)
{
    if (p->wfd >= 0) {
        close(p->wfd);
    }
    if (p->nfd >= 0) {
        close(p->nfd); /* releases the notification session */
    }
    p->wfd = p->nfd = -1;
    p->dev_match = sd_bus_slot_unref(p->dev_match);
    p->chr_match = sd_bus_slot_unref(p->chr_match);
}

static int connect_dev(struct smpdfu_bluez_priv *p, uint32_t timeout_ms)
{
    smpdfu_bluez_t *b = p->b;
    sd_bus *bus = p->bus;
    uint64_t end = smpdfu_posix_now_ms() + timeout_ms;
    find_t f;
    bool scanning = false;
    unsigned rounds = 0; /* discovery rounds: a device known by name but with no RSSI is tried after one */
    const char *last = "not found";
    static char errbuf[512];
    static char lastbuf[160];
    p->lost = false;
    for (;;) {
        memset(&f, 0, sizeof(f));
        f.b = b;
        f.adapter = p->adapter_path;
        each_object(bus, on_find_dev, &f);
        if (f.dev[0] && (f.dev_seen || b->addr[0] || rounds > 0)) {
            int conn = 0;
            get_bool(bus, f.dev, IF_DEVICE, "Connected", &conn);
            if (!conn) {
                /* Some controllers cannot scan and initiate at once: stop scanning first. */
                if (scanning) {
                    discovery(bus, p->adapter_path, false);
                    scanning = false;
                }
                uint64_t now = smpdfu_posix_now_ms();
                sd_bus_error err = SD_BUS_ERROR_NULL;
                sd_bus_message *rep = NULL;
                sd_bus_message *call = NULL;
                int r = sd_bus_message_new_method_call(bus, &call, BLUEZ, f.dev, IF_DEVICE, "Connect");
                if (r >= 0) {
                    r = sd_bus_call(bus, call, (now < end ? end - now : 1) * 1000u, &err, &rep);
                }
                if (r < 0) {
                    snprintf(lastbuf, sizeof(lastbuf), "%s", err.message ? err.message : strerror(-r));
                    last = lastbuf;
                } else {
                    conn = 1;
                    p->we_connected = true;
                }
                sd_bus_error_free(&err);
                sd_bus_message_unref(rep);
                sd_bus_message_unref(call);
            }
            if (conn) {
                break;
            }
        }
        if (smpdfu_posix_now_ms() >= end) {
            if (scanning) {
                discovery(bus, p->adapter_path, false);
            }
            snprintf(errbuf, sizeof(errbuf), "%s %s %s within %.1f s (%s)",
                     f.dev[0] ? "could not connect to" : "did not find", b->addr[0] ? b->addr : b->name,
                     f.dev[0] ? "" : "advertising the SMP service", timeout_ms / 1000.0, last);
            g_why = errbuf;
            return SMPDFU_ENOCONN;
        }
        /* Restart discovery each round: some controllers report an advertiser once per start. */
        if (scanning) {
            discovery(bus, p->adapter_path, false);
        }
        scanning = discovery(bus, p->adapter_path, true) >= 0;
        bus_pump(bus, RESCAN_MS);
        rounds++;
    }
    copy(b->dev_path, sizeof(b->dev_path), f.dev);
    sd_bus_match_signal(bus, &p->dev_match, BLUEZ, b->dev_path, IF_PROPS, "PropertiesChanged", on_dev_props, p);
    /* GATT discovery finishes after Connect returns. */
    for (;;) {
        int res = 0;
        get_bool(bus, f.dev, IF_DEVICE, "ServicesResolved", &res);
        if (res) {
            break;
        }
        if (p->lost || smpdfu_posix_now_ms() >= end) {
            g_why = "connected, but BlueZ did not resolve the device's GATT services in time";
            return SMPDFU_ENOCONN;
        }
        bus_pump(bus, 100);
    }
    each_object(bus, on_find_svc, &f);
    each_object(bus, on_find_chr, &f);
    if (!f.chr[0]) {
        g_why = "the device has no SMP service/characteristic (8d53dc1d-... / da2e7828-...)";
        return SMPDFU_ENOTFOUND;
    }
    copy(b->chr_path, sizeof(b->chr_path), f.chr);
    unsigned wmtu = 0, nmtu = 0;
    p->nfd = acquire(bus, f.chr, "AcquireNotify", &nmtu);
    b->notify_acquired = p->nfd >= 0;
    if (!b->notify_acquired) {
        /* Refused (another client notifies, or an old BlueZ): StartNotify + PropertiesChanged. */
        sd_bus_match_signal(bus, &p->chr_match, BLUEZ, f.chr, IF_PROPS, "PropertiesChanged", on_chr_props, p);
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, BLUEZ, f.chr, IF_CHAR, "StartNotify", &err, NULL, "");
        sd_bus_error_free(&err);
        if (r < 0) {
            g_why = "BlueZ refused both AcquireNotify and StartNotify on the SMP characteristic";
            return SMPDFU_ENOCONN;
        }
    }
    p->wfd = acquire(bus, f.chr, "AcquireWrite", &wmtu);
    b->write_acquired = p->wfd >= 0;
    unsigned mtu = wmtu ? wmtu : nmtu ? nmtu : f.chr_mtu ? f.chr_mtu : 23;
    b->att_mtu = mtu;
    if (b->mtu_cap && mtu > b->mtu_cap) {
        mtu = b->mtu_cap;
    }
    /* BlueZ 5.66's GATT server drops written values over 510 bytes (ATT MTU 517): stay below. */
    if (mtu > SMPDFU_BLUEZ_FRAG_MAX + 3) {
        mtu = SMPDFU_BLUEZ_FRAG_MAX + 3;
    }
    p->port->link.mtu = mtu;
    return 0;
}

/* ---------------------------------------------------------------- hooks */

static int h_fds(void *ctx, struct pollfd *pf, int max, uint64_t *wake_ms)
{
    struct smpdfu_bluez_priv *p = ctx;
    int n = 0;
    if (max < 2) {
        return 0;
    }
    pf[n].fd = sd_bus_get_fd(p->bus);
    int ev = sd_bus_get_events(p->bus);
    pf[n].events = (short)(ev > 0 ? ev : POLLIN);
    pf[n++].revents = 0;
    uint64_t usec;
    if (sd_bus_get_timeout(p->bus, &usec) >= 0 && usec != UINT64_MAX) {
        uint64_t ms = usec / 1000u + 1;
        if (ms < *wake_ms) {
            *wake_ms = ms;
        }
    }
    if (p->nfd >= 0) {
        pf[n].fd = p->nfd;
        pf[n].events = POLLIN;
        pf[n++].revents = 0;
    }
    return n;
}

static int h_ready(void *ctx, const struct pollfd *pf, int n, smpdfu_client_t *c)
{
    struct smpdfu_bluez_priv *p = ctx;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (pf[i].fd != p->nfd || p->nfd < 0) {
            continue;
        }
        if (pf[i].revents & POLLIN) {
            uint8_t buf[1024];
            for (;;) {
                /* One read, one notification. */
                ssize_t r = read(p->nfd, buf, sizeof(buf));
                if (r > 0) {
                    p->port->rx_bytes += (uint32_t)r;
                    smpdfu_client_feed_at(c, buf, (size_t)r, smpdfu_posix_now_ms());
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    rc = SMPDFU_ECLOSED;
                }
                break;
            }
        } else if (pf[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            rc = SMPDFU_ECLOSED; /* BlueZ closed it: the link is gone */
        }
    }
    p->feed_to = c;
    while (sd_bus_process(p->bus, NULL) > 0) {
    }
    p->feed_to = NULL;
    if (p->lost) {
        rc = SMPDFU_ECLOSED;
    }
    if (rc) {
        drop_link(p);
    }
    return rc;
}

static int write_frag(struct smpdfu_bluez_priv *p, const uint8_t *d, size_t n)
{
    if (p->wfd < 0) {
        sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(p->bus, &m, BLUEZ, p->b->chr_path, IF_CHAR, "WriteValue");
        if (r >= 0) {
            r = sd_bus_message_append_array(m, 'y', d, n);
        }
        if (r >= 0) {
            r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "command");
        }
        if (r >= 0) {
            /* BlueZ queues write commands in the order it gets them; no reply awaited. */
            r = sd_bus_message_set_expect_reply(m, 0);
        }
        if (r >= 0) {
            r = sd_bus_send(p->bus, m, NULL);
        }
        sd_bus_message_unref(m);
        return r < 0 ? SMPDFU_EIO : 0;
    }
    for (;;) {
        ssize_t r = write(p->wfd, d, n); /* one write, one ATT Write Command */
        if (r == (ssize_t)n) {
            return 0;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Wait for a TX buffer rather than stop mid-packet (docs/client.md, BLE). */
            struct pollfd w = {.fd = p->wfd, .events = POLLOUT};
            if (poll(&w, 1, 2000) <= 0) {
                return SMPDFU_EIO;
            }
            continue;
        }
        return SMPDFU_ECLOSED;
    }
}

static int h_send(void *ctx, const uint8_t *data, size_t len)
{
    struct smpdfu_bluez_priv *p = ctx;
    size_t mtu = p->port->link.mtu;
    if (p->lost || (p->wfd < 0 && !p->b->chr_path[0])) {
        return SMPDFU_ECLOSED;
    }
    for (size_t i = 0; i < smpdfu_ble_frag_count(len, mtu); i++) {
        size_t off, n;
        if (smpdfu_ble_frag(len, mtu, i, &off, &n)) {
            return SMPDFU_EINVAL;
        }
        int rc = write_frag(p, data + off, n);
        if (rc) {
            if (rc == SMPDFU_ECLOSED) {
                drop_link(p);
            }
            return rc;
        }
    }
    if (p->wfd < 0) {
        sd_bus_flush(p->bus);
    }
    return 0;
}

static int h_reconnect(void *ctx, uint32_t timeout_ms)
{
    struct smpdfu_bluez_priv *p = ctx;
    drop_link(p);
    return connect_dev(p, timeout_ms);
}

static void h_close(void *ctx)
{
    struct smpdfu_bluez_priv *p = ctx;
    drop_link(p);
    if (p->we_connected && !p->lost && p->b->dev_path[0]) {
        /* Leave the device as we found it: free to advertise for others. */
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_call_method(p->bus, BLUEZ, p->b->dev_path, IF_DEVICE, "Disconnect", &err, NULL, "");
        sd_bus_error_free(&err);
    }
    p->bus = sd_bus_flush_close_unref(p->bus);
    p->b->priv = NULL;
    free(p);
}

int smpdfu_bluez_open(smpdfu_bluez_t *b, smpdfu_posix_port_t *port, const char **why)
{
    struct smpdfu_bluez_priv *p = calloc(1, sizeof(*p));
    if (!p) {
        *why = "out of memory";
        return SMPDFU_ENOCONN;
    }
    p->wfd = p->nfd = -1;
    p->b = b;
    p->port = port;
    port->kind = SMPDFU_POSIX_EXT;
    port->fd = -1;
    port->closed = false;
    port->link.kind = SMPDFU_LINK_BLE;
    port->link.ble_reassembly = b->reassembly;
    int rc = open_adapter(&p->bus, b->adapter, p->adapter_path, sizeof(p->adapter_path));
    if (rc == 0) {
        rc = connect_dev(p, b->timeout_ms);
    }
    if (rc) {
        *why = g_why;
        drop_link(p);
        sd_bus_flush_close_unref(p->bus);
        free(p);
        return rc;
    }
    b->priv = p;
    port->ext.ctx = p;
    port->ext.fds = h_fds;
    port->ext.ready = h_ready;
    port->ext.send = h_send;
    port->ext.reconnect = h_reconnect;
    port->ext.close = h_close;
    port->reconnect_ms = b->timeout_ms;
    return 0;
}
