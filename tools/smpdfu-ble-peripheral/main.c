/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-ble-peripheral: smpdfu's server on BLE through BlueZ's GATT server
 * API. Registers the SMP service and characteristic (GattManager1) and an
 * advertisement (LEAdvertisingManager1) on one adapter, reassembles the
 * central's writes into SMP packets and hands each to smpdfu-target over UDP
 * (the emulated Zephyr + MCUboot device); answers go back as notifications of
 * ATT MTU - 3. After answering a reset it drops the link, as a rebooting
 * device does. For the BLE tests in the VM (scripts/ble-vm, tests/ble). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "smpdfu/ble.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_udp.h"
#include "smpdfu/smp.h"
#include "smpdfu/version.h"

#define APP "/smpdfu"
#define SVC APP "/service0"
#define CHR SVC "/char0"
#define ADV "/smpdfu_adv0"
#define IF_CHAR "org.bluez.GattCharacteristic1"

typedef struct {
    sd_bus *bus;
    char adapter[64];
    const char *name;
    int udp;
    bool notifying;
    unsigned mtu;
    char device[128];
    uint8_t rx[65536 + 8];
    smpdfu_ble_reasm_t reasm;
    uint8_t value[1024];
    size_t value_len;
    int reset_seq;         /* seq of a reset request in flight, or -1 */
    uint64_t drop_at;      /* disconnect the central then (0 = no) */
    long drop_after;       /* --drop-after-writes: writes until one forced disconnect */
    long writes;
    bool gone;             /* link being dropped: nothing in or out until the next StartNotify */
    int registered;
} periph_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int s)
{
    (void)s;
    g_stop = 1;
}

static int p_str(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                 sd_bus_error *e)
{
    (void)b, (void)iface, (void)ud, (void)e;
    periph_t *p = ud;
    if (!strcmp(prop, "UUID")) {
        return sd_bus_message_append(r, "s", !strcmp(path, SVC) ? SMPDFU_BLE_SERVICE_UUID : SMPDFU_BLE_CHAR_UUID);
    }
    if (!strcmp(prop, "Service")) {
        return sd_bus_message_append(r, "o", SVC);
    }
    if (!strcmp(prop, "Type")) {
        return sd_bus_message_append(r, "s", "peripheral");
    }
    if (!strcmp(prop, "LocalName")) {
        return sd_bus_message_append(r, "s", p->name);
    }
    return -ENOENT;
}

static int p_bool(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                  sd_bus_error *e)
{
    (void)b, (void)path, (void)iface, (void)e;
    periph_t *p = ud;
    return sd_bus_message_append(r, "b", !strcmp(prop, "Primary") ? 1 : (int)p->notifying);
}

static int p_strv(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                  sd_bus_error *e)
{
    (void)b, (void)path, (void)iface, (void)ud, (void)e;
    if (!strcmp(prop, "Flags")) {
        /* Zephyr's SMP characteristic: write without response, notify. */
        return sd_bus_message_append(r, "as", 2, "write-without-response", "notify");
    }
    return sd_bus_message_append(r, "as", 1, SMPDFU_BLE_SERVICE_UUID);
}

static int p_value(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                   sd_bus_error *e)
{
    (void)b, (void)path, (void)iface, (void)prop, (void)e;
    periph_t *p = ud;
    return sd_bus_message_append_array(r, 'y', p->value, p->value_len);
}

static void notify(periph_t *p, const uint8_t *pkt, size_t len)
{
    if (!p->notifying) {
        return;
    }
    size_t mtu = p->mtu;
    for (size_t i = 0; i < smpdfu_ble_frag_count(len, mtu); i++) {
        size_t off, n;
        smpdfu_ble_frag(len, mtu, i, &off, &n);
        memcpy(p->value, pkt + off, n);
        p->value_len = n;
        /* Each Value change of a notifying characteristic is one ATT notification. */
        sd_bus_emit_properties_changed(p->bus, CHR, IF_CHAR, "Value", NULL);
    }
    sd_bus_flush(p->bus);
}

static void disconnect(periph_t *p, const char *why)
{
    if (!p->device[0]) {
        return;
    }
    fprintf(stderr, "ble-peripheral: dropping the link (%s)\n", why);
    /* A device that is gone answers nothing more, however long bluetoothd takes to drop it. */
    p->gone = true;
    sd_bus_call_method_async(p->bus, NULL, "org.bluez", p->device, "org.bluez.Device1", "Disconnect", NULL, NULL,
                             "");
    smpdfu_ble_reasm_reset(&p->reasm);
}

static int m_write(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    periph_t *p = ud;
    const void *d;
    size_t n;
    int r = sd_bus_message_read_array(m, 'y', &d, &n);
    if (r < 0) {
        return r;
    }
    if (sd_bus_message_enter_container(m, 'a', "{sv}") >= 0) {
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
            const char *key;
            char type;
            const char *contents;
            sd_bus_message_read(m, "s", &key);
            sd_bus_message_peek_type(m, &type, &contents);
            if (!strcmp(key, "mtu") && !strcmp(contents, "q")) {
                uint16_t v;
                sd_bus_message_read(m, "v", "q", &v);
                p->mtu = v;
            } else if (!strcmp(key, "device") && !strcmp(contents, "o")) {
                const char *dev;
                sd_bus_message_read(m, "v", "o", &dev);
                snprintf(p->device, sizeof(p->device), "%s", dev);
            } else {
                sd_bus_message_skip(m, "v");
            }
            sd_bus_message_exit_container(m);
        }
        sd_bus_message_exit_container(m);
    }
    if (p->gone) {
        return sd_bus_reply_method_return(m, "");
    }
    p->writes++;
    int len = smpdfu_ble_reasm_feed(&p->reasm, d, n);
    if (len > 0) {
        const uint8_t *pkt = smpdfu_ble_reasm_packet(&p->reasm);
        smpdfu_smp_hdr_t h;
        if (smpdfu_smp_hdr_decode(pkt, (size_t)len, &h) == 0 && h.op == 2 && h.group == 0 && h.id == 5) {
            p->reset_seq = h.seq;
        }
        if (send(p->udp, pkt, (size_t)len, 0) < 0) {
            fprintf(stderr, "ble-peripheral: cannot reach the device: %s\n", strerror(errno));
        }
    } else if (len < 0) {
        fprintf(stderr, "ble-peripheral: fragment dropped (%s)\n", smpdfu_strerror(len));
    }
    if (p->drop_after > 0 && p->writes == p->drop_after) {
        disconnect(p, "--drop-after-writes");
    }
    return sd_bus_reply_method_return(m, "");
}

static int m_read(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)ud, (void)e;
    sd_bus_message *r = NULL;
    int rc = sd_bus_message_new_method_return(m, &r);
    if (rc >= 0) {
        rc = sd_bus_message_append_array(r, 'y', "", 0);
    }
    if (rc >= 0) {
        rc = sd_bus_send(NULL, r, NULL);
    }
    sd_bus_message_unref(r);
    return rc;
}

static int m_notify(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    periph_t *p = ud;
    p->notifying = !strcmp(sd_bus_message_get_member(m), "StartNotify");
    fprintf(stderr, "ble-peripheral: notifications %s\n", p->notifying ? "on" : "off");
    if (p->notifying) {
        smpdfu_ble_reasm_reset(&p->reasm); /* a new connection */
        p->gone = false;
    }
    sd_bus_emit_properties_changed(p->bus, CHR, IF_CHAR, "Notifying", NULL);
    return sd_bus_reply_method_return(m, "");
}

static int m_release(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)ud, (void)e;
    return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable svc_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", p_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Primary", "b", p_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable chr_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", p_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "o", p_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Flags", "as", p_strv, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Value", "ay", p_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Notifying", "b", p_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("ReadValue", "a{sv}", "ay", m_read, 0),
    SD_BUS_METHOD("WriteValue", "aya{sv}", "", m_write, 0),
    SD_BUS_METHOD("StartNotify", "", "", m_notify, 0),
    SD_BUS_METHOD("StopNotify", "", "", m_notify, 0),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable adv_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Type", "s", p_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ServiceUUIDs", "as", p_strv, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("LocalName", "s", p_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Release", "", "", m_release, 0),
    SD_BUS_VTABLE_END,
};

static int on_registered(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    periph_t *p = ud;
    const sd_bus_error *err = sd_bus_message_get_error(m);
    if (err) {
        fprintf(stderr, "ble-peripheral: BlueZ refused the registration: %s\n", err->message);
        g_stop = 2;
        return 0;
    }
    if (++p->registered == 2) {
        /* The test waits for this line. */
        printf("ready %s\n", p->adapter);
        fflush(stdout);
    }
    return 0;
}

/* Wait until bluetoothd has the adapter (it may still be starting), and power it on. */
static int wait_adapter(sd_bus *bus, const char *path)
{
    uint64_t end = smpdfu_posix_now_ms() + 60000u;
    while (smpdfu_posix_now_ms() < end) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        int on = 0;
        int r = sd_bus_get_property_trivial(bus, "org.bluez", path, "org.bluez.Adapter1", "Powered", &err, 'b',
                                            &on);
        sd_bus_error_free(&err);
        if (r >= 0 && on) {
            return 0;
        }
        if (r >= 0) {
            sd_bus_set_property(bus, "org.bluez", path, "org.bluez.Adapter1", "Powered", &err, "b", 1);
            sd_bus_error_free(&err);
        }
        /* Nothing to wait on but bluetoothd's progress: look again shortly. */
        while (sd_bus_process(bus, NULL) > 0) {
        }
        sd_bus_wait(bus, 200000);
    }
    fprintf(stderr, "smpdfu-ble-peripheral: BlueZ has no powered adapter %s\n", path);
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smpdfu-ble-peripheral --adapter hciN --device HOST:PORT [--name NAME]\n"
               "                             [--drop-after-writes N] [--power hciN]...\n"
               "The SMP GATT service on a BlueZ adapter, in front of smpdfu-target (UDP).\n"
               "  --adapter hciN          the adapter to serve and advertise on\n"
               "  --device HOST:PORT      smpdfu-target's UDP address\n"
               "  --name NAME             advertised name (default smpdfu)\n"
               "  --drop-after-writes N   drop the link once, after the N-th write (a device\n"
               "                          that goes out of range mid-upload)\n"
               "  --power hciN            also wait for this adapter and power it on (tests)\n"
               "Prints \"ready hciN\" once BlueZ has the service and the advertisement.\n");
}

int main(int argc, char **argv)
{
    static periph_t p;
    const char *adapter = NULL, *device = NULL;
    const char *power[4];
    int npower = 0;
    p.name = "smpdfu";
    p.mtu = 23;
    p.reset_seq = -1;
    static const struct option opts[] = {{"adapter", required_argument, 0, 'a'},
                                         {"device", required_argument, 0, 'd'},
                                         {"name", required_argument, 0, 'n'},
                                         {"drop-after-writes", required_argument, 0, 'D'},
                                         {"power", required_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': adapter = optarg; break;
        case 'd': device = optarg; break;
        case 'n': p.name = optarg; break;
        case 'D': p.drop_after = strtol(optarg, NULL, 10); break;
        case 'P':
            if (npower < 4) {
                power[npower++] = optarg;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("smpdfu-ble-peripheral %s\n", smpdfu_version()); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *colon = device ? strrchr(device, ':') : NULL;
    if (!adapter || !colon) {
        usage(stderr);
        return 2;
    }
    char host[128];
    snprintf(host, sizeof(host), "%.*s", (int)(colon - device), device);
    int gai_err = 0;
    if (smpdfu_posix_udp_open(&p.udp, host, colon + 1, &gai_err)) {
        fprintf(stderr, "smpdfu-ble-peripheral: cannot open UDP to %s\n", device);
        return 1;
    }
    snprintf(p.adapter, sizeof(p.adapter), "/org/bluez/%s", adapter);
    smpdfu_ble_reasm_init(&p.reasm, p.rx, sizeof(p.rx));
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (sd_bus_open_system(&p.bus) < 0) {
        fprintf(stderr, "smpdfu-ble-peripheral: no system bus\n");
        return 1;
    }
    if (wait_adapter(p.bus, p.adapter)) {
        return 1;
    }
    for (int i = 0; i < npower; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/org/bluez/%s", power[i]);
        if (wait_adapter(p.bus, path)) {
            return 1;
        }
    }
    sd_bus_add_object_manager(p.bus, NULL, APP);
    sd_bus_add_object_vtable(p.bus, NULL, SVC, "org.bluez.GattService1", svc_vt, &p);
    sd_bus_add_object_vtable(p.bus, NULL, CHR, IF_CHAR, chr_vt, &p);
    sd_bus_add_object_vtable(p.bus, NULL, ADV, "org.bluez.LEAdvertisement1", adv_vt, &p);
    /* Asynchronous: BlueZ calls back into us (GetManagedObjects) before it answers. */
    sd_bus_call_method_async(p.bus, NULL, "org.bluez", p.adapter, "org.bluez.GattManager1", "RegisterApplication",
                             on_registered, &p, "oa{sv}", APP, 0);
    sd_bus_call_method_async(p.bus, NULL, "org.bluez", p.adapter, "org.bluez.LEAdvertisingManager1",
                             "RegisterAdvertisement", on_registered, &p, "oa{sv}", ADV, 0);
    static uint8_t dgram[65536];
    while (!g_stop) {
        while (sd_bus_process(p.bus, NULL) > 0) {
        }
        uint64_t now = smpdfu_posix_now_ms();
        if (p.drop_at && now >= p.drop_at) {
            p.drop_at = 0;
            disconnect(&p, "the device resets");
            continue;
        }
        struct pollfd pf[2] = {{.fd = sd_bus_get_fd(p.bus), .events = (short)sd_bus_get_events(p.bus)},
                               {.fd = p.udp, .events = POLLIN}};
        int wait = -1;
        uint64_t usec;
        if (sd_bus_get_timeout(p.bus, &usec) >= 0 && usec != UINT64_MAX) {
            uint64_t ms = usec / 1000u + 1;
            wait = ms > now ? (int)(ms - now) : 0;
        }
        if (p.drop_at && (wait < 0 || (uint64_t)wait > p.drop_at - now)) {
            wait = (int)(p.drop_at - now);
        }
        if (poll(pf, 2, wait) < 0 && errno != EINTR) {
            break;
        }
        if (pf[1].revents & POLLIN) {
            ssize_t n = recv(p.udp, dgram, sizeof(dgram), 0);
            if (n > 0 && !p.gone) {
                notify(&p, dgram, (size_t)n);
                smpdfu_smp_hdr_t h;
                if (p.reset_seq >= 0 && smpdfu_smp_hdr_decode(dgram, (size_t)n, &h) == 0 && h.op == 3 &&
                    h.group == 0 && h.id == 5 && h.seq == p.reset_seq) {
                    p.reset_seq = -1;
                    /* Zephyr's reset delay: the link stays up this long after the answer. */
                    p.drop_at = smpdfu_posix_now_ms() + SMPDFU_DEFAULT_RESET_DELAY_MS;
                }
            }
        }
    }
    sd_bus_flush_close_unref(p.bus);
    return g_stop == 2 ? 1 : 0;
}
