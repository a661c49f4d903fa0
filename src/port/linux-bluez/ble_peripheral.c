/* SPDX-License-Identifier: Apache-2.0 */
/* An SMP GATT server through BlueZ (include/smpdfu/posix_bluez_peripheral.h):
 * the service, characteristic and advertisement objects on sd-bus, the
 * central's writes reassembled into packets, answers as Value changes (one
 * ATT notification each). */
#include "smpdfu/posix_bluez_peripheral.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "smpdfu/error.h"
#include "smpdfu/posix.h"
#include "smpdfu/smp.h"

#define APP "/smpdfu"
#define SVC APP "/service0"
#define CHR SVC "/char0"
#define ADV "/smpdfu_adv0"
#define IF_CHAR "org.bluez.GattCharacteristic1"

/* The ATT MTU before the central's first write says otherwise (the BLE minimum). */
#define ATT_MTU_MIN 23u
/* bluetoothd may still be starting when we look for its adapter. */
#define ADAPTER_WAIT_MS 60000u

static void event(smpdfu_bluez_periph_t *p, smpdfu_bluez_periph_event_t ev, const char *detail)
{
    if (p->cfg.on_event) {
        p->cfg.on_event(p->cfg.ctx, ev, detail);
    }
}

static int p_str(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                 sd_bus_error *e)
{
    (void)b, (void)iface, (void)e;
    smpdfu_bluez_periph_t *p = ud;
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
        return sd_bus_message_append(r, "s", p->cfg.name);
    }
    return -ENOENT;
}

static int p_bool(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *r, void *ud,
                  sd_bus_error *e)
{
    (void)b, (void)path, (void)iface, (void)e;
    smpdfu_bluez_periph_t *p = ud;
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
    smpdfu_bluez_periph_t *p = ud;
    return sd_bus_message_append_array(r, 'y', p->value, p->value_len);
}

int smpdfu_bluez_periph_disconnect(smpdfu_bluez_periph_t *p, const char *why)
{
    if (!p || !p->bus) {
        return SMPDFU_EINVAL;
    }
    if (!p->device[0]) {
        return SMPDFU_ESTATE;
    }
    event(p, SMPDFU_BLUEZ_PERIPH_DROP, why);
    /* A device that is gone answers nothing more, however long bluetoothd takes to drop it. */
    p->gone = true;
    sd_bus_call_method_async(p->bus, NULL, "org.bluez", p->device, "org.bluez.Device1", "Disconnect", NULL, NULL,
                             "");
    smpdfu_ble_reasm_reset(&p->reasm);
    return 0;
}

static int m_write(sd_bus_message *m, void *ud, sd_bus_error *e)
{
    (void)e;
    smpdfu_bluez_periph_t *p = ud;
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
    int len = smpdfu_ble_reasm_feed(&p->reasm, d, n);
    if (len > 0) {
        const uint8_t *pkt = smpdfu_ble_reasm_packet(&p->reasm);
        smpdfu_smp_hdr_t h;
        if (smpdfu_smp_hdr_decode(pkt, (size_t)len, &h) == 0 && h.op == SMPDFU_OP_WRITE &&
            h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_RESET) {
            p->reset_seq = h.seq;
        }
        if (p->cfg.on_packet) {
            p->cfg.on_packet(p->cfg.ctx, pkt, (size_t)len);
        }
    } else if (len < 0) {
        event(p, SMPDFU_BLUEZ_PERIPH_FRAG_DROPPED, smpdfu_strerror(len));
    }
    if (p->cfg.on_write) {
        p->cfg.on_write(p->cfg.ctx);
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
    smpdfu_bluez_periph_t *p = ud;
    p->notifying = !strcmp(sd_bus_message_get_member(m), "StartNotify");
    event(p, p->notifying ? SMPDFU_BLUEZ_PERIPH_NOTIFY_ON : SMPDFU_BLUEZ_PERIPH_NOTIFY_OFF, NULL);
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
    smpdfu_bluez_periph_t *p = ud;
    const sd_bus_error *err = sd_bus_message_get_error(m);
    if (err) {
        p->refused = true;
        event(p, SMPDFU_BLUEZ_PERIPH_REFUSED, err->message);
        return 0;
    }
    if (++p->registered == 2) {
        event(p, SMPDFU_BLUEZ_PERIPH_READY, NULL);
    }
    return 0;
}

/* Wait until bluetoothd has the adapter, and power it on. */
static int wait_adapter(sd_bus *bus, const char *path)
{
    uint64_t end = smpdfu_posix_now_ms() + ADAPTER_WAIT_MS;
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
    return SMPDFU_ETIMEOUT;
}

static int adapter_path(char *buf, size_t cap, const char *adapter)
{
    int n = snprintf(buf, cap, "/org/bluez/%s", adapter);
    return n < 0 || (size_t)n >= cap ? SMPDFU_EINVAL : 0;
}

int smpdfu_bluez_periph_open(smpdfu_bluez_periph_t *p, const smpdfu_bluez_periph_cfg_t *cfg)
{
    if (!p || !cfg || !cfg->adapter || !cfg->name) {
        return SMPDFU_EINVAL;
    }
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->mtu = ATT_MTU_MIN;
    p->reset_seq = -1;
    if (adapter_path(p->adapter_path, sizeof(p->adapter_path), cfg->adapter)) {
        return SMPDFU_EINVAL;
    }
    smpdfu_ble_reasm_init(&p->reasm, p->rx, sizeof(p->rx));
    if (sd_bus_open_system(&p->bus) < 0) {
        p->bus = NULL;
        return SMPDFU_ENOCONN;
    }
    int rc = wait_adapter(p->bus, p->adapter_path);
    if (rc) {
        smpdfu_bluez_periph_close(p);
    }
    return rc;
}

int smpdfu_bluez_periph_power(smpdfu_bluez_periph_t *p, const char *adapter)
{
    char path[64];
    if (!p || !p->bus || !adapter || adapter_path(path, sizeof(path), adapter)) {
        return SMPDFU_EINVAL;
    }
    return wait_adapter(p->bus, path);
}

int smpdfu_bluez_periph_register(smpdfu_bluez_periph_t *p)
{
    if (!p || !p->bus) {
        return SMPDFU_EINVAL;
    }
    if (sd_bus_add_object_manager(p->bus, NULL, APP) < 0 ||
        sd_bus_add_object_vtable(p->bus, NULL, SVC, "org.bluez.GattService1", svc_vt, p) < 0 ||
        sd_bus_add_object_vtable(p->bus, NULL, CHR, IF_CHAR, chr_vt, p) < 0 ||
        sd_bus_add_object_vtable(p->bus, NULL, ADV, "org.bluez.LEAdvertisement1", adv_vt, p) < 0) {
        return SMPDFU_ENOCONN;
    }
    /* Asynchronous: BlueZ calls back into us (GetManagedObjects) before it answers. */
    sd_bus_call_method_async(p->bus, NULL, "org.bluez", p->adapter_path, "org.bluez.GattManager1",
                             "RegisterApplication", on_registered, p, "oa{sv}", APP, 0);
    sd_bus_call_method_async(p->bus, NULL, "org.bluez", p->adapter_path, "org.bluez.LEAdvertisingManager1",
                             "RegisterAdvertisement", on_registered, p, "oa{sv}", ADV, 0);
    return 0;
}

int smpdfu_bluez_periph_step(smpdfu_bluez_periph_t *p)
{
    if (!p || !p->bus) {
        return SMPDFU_EINVAL;
    }
    for (;;) {
        while (!p->refused && sd_bus_process(p->bus, NULL) > 0) {
        }
        if (p->refused) {
            return SMPDFU_ENOCONN;
        }
        if (!p->drop_at || smpdfu_posix_now_ms() < p->drop_at) {
            return 0;
        }
        p->drop_at = 0;
        (void)smpdfu_bluez_periph_disconnect(p, "the device resets");
    }
}

void smpdfu_bluez_periph_pollfd(smpdfu_bluez_periph_t *p, struct pollfd *pf, int *wait_ms)
{
    uint64_t now = smpdfu_posix_now_ms();
    pf->fd = sd_bus_get_fd(p->bus);
    pf->events = (short)sd_bus_get_events(p->bus);
    pf->revents = 0;
    int wait = *wait_ms;
    uint64_t usec;
    if (sd_bus_get_timeout(p->bus, &usec) >= 0 && usec != UINT64_MAX) {
        uint64_t ms = usec / 1000u + 1;
        int bus_wait = ms > now ? (int)(ms - now) : 0;
        if (wait < 0 || bus_wait < wait) {
            wait = bus_wait;
        }
    }
    if (p->drop_at) {
        uint64_t left = p->drop_at > now ? p->drop_at - now : 0;
        if (wait < 0 || (uint64_t)wait > left) {
            wait = (int)left;
        }
    }
    *wait_ms = wait;
}

int smpdfu_bluez_periph_notify(smpdfu_bluez_periph_t *p, const uint8_t *pkt, size_t len)
{
    if (!p || !p->bus || (!pkt && len)) {
        return SMPDFU_EINVAL;
    }
    if (p->gone) {
        return 0;
    }
    if (p->notifying) {
        size_t mtu = p->mtu;
        for (size_t i = 0; i < smpdfu_ble_frag_count(len, mtu); i++) {
            size_t off, n;
            smpdfu_ble_frag(len, mtu, i, &off, &n);
            if (n > sizeof(p->value)) {
                return SMPDFU_ENOSPC;
            }
            memcpy(p->value, pkt + off, n);
            p->value_len = n;
            /* Each Value change of a notifying characteristic is one ATT notification. */
            sd_bus_emit_properties_changed(p->bus, CHR, IF_CHAR, "Value", NULL);
        }
        sd_bus_flush(p->bus);
    }
    smpdfu_smp_hdr_t h;
    if (p->cfg.reset_drop_ms && p->reset_seq >= 0 && smpdfu_smp_hdr_decode(pkt, len, &h) == 0 &&
        h.op == SMPDFU_OP_WRITE_RSP && h.group == SMPDFU_GROUP_OS && h.id == SMPDFU_OS_RESET &&
        h.seq == p->reset_seq) {
        p->reset_seq = -1;
        /* The link stays up this long after the answer, as the device's reset delay. */
        p->drop_at = smpdfu_posix_now_ms() + p->cfg.reset_drop_ms;
    }
    return 0;
}

void smpdfu_bluez_periph_close(smpdfu_bluez_periph_t *p)
{
    if (p && p->bus) {
        sd_bus_flush_close_unref(p->bus);
        p->bus = NULL;
    }
}
