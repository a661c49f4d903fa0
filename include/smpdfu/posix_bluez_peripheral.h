/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — Linux port: an SMP GATT server (a peripheral) through BlueZ's D-Bus API.
 *
 * Registers the SMP service and characteristic (SMPDFU_BLE_SERVICE_UUID /
 * SMPDFU_BLE_CHAR_UUID, write-without-response + notify, as Zephyr's) through
 * GattManager1 and an advertisement carrying the service UUID and a local name
 * through LEAdvertisingManager1, on one adapter. The central's writes are
 * reassembled into SMP packets (smpdfu_ble_reasm_t) and handed to a callback;
 * answers go back as notifications of at most ATT MTU - 3 bytes. The caller
 * owns the poll loop (smpdfu_bluez_periph_pollfd + smpdfu_bluez_periph_step),
 * so it can wait on its own descriptors beside the bus. Built only with
 * libsystemd (sd-bus), like posix_bluez.h. Not thread-safe; no allocation
 * (sd-bus allocates its own objects).
 *
 *     smpdfu_bluez_periph_t *p = &storage;  // static: it holds a 64 KiB buffer
 *     smpdfu_bluez_periph_cfg_t cfg = {.adapter = "hci0", .name = "smpdfu",
 *                                      .on_packet = handle, .ctx = app};
 *     smpdfu_bluez_periph_open(p, &cfg);      // bus + adapter powered
 *     smpdfu_bluez_periph_register(p);        // service + advert; READY event later
 *     for (;;) { struct pollfd pf; int wait = -1;
 *                if (smpdfu_bluez_periph_step(p) < 0) break;
 *                smpdfu_bluez_periph_pollfd(p, &pf, &wait); poll(&pf, 1, wait); }
 *     // in handle(): smpdfu_bluez_periph_notify(p, answer, len);
 *     smpdfu_bluez_periph_close(p);
 */
#ifndef SMPDFU_POSIX_BLUEZ_PERIPHERAL_H
#define SMPDFU_POSIX_BLUEZ_PERIPHERAL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/ble.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sd_bus; /* sd-bus's connection (systemd/sd-bus.h) */

/* What happened, for the caller to report (the library prints nothing). */
typedef enum {
    SMPDFU_BLUEZ_PERIPH_READY,        /* BlueZ has the service and the advertisement */
    SMPDFU_BLUEZ_PERIPH_REFUSED,      /* BlueZ refused a registration (detail: its message);
                                         step() returns SMPDFU_ENOCONN from now on */
    SMPDFU_BLUEZ_PERIPH_NOTIFY_ON,    /* the central subscribed (a new connection) */
    SMPDFU_BLUEZ_PERIPH_NOTIFY_OFF,   /* the central unsubscribed */
    SMPDFU_BLUEZ_PERIPH_DROP,         /* the link is being dropped (detail: why) */
    SMPDFU_BLUEZ_PERIPH_FRAG_DROPPED, /* a written fragment was not reassembled
                                         (detail: smpdfu_strerror of the reason) */
} smpdfu_bluez_periph_event_t;

typedef struct {
    const char *adapter; /* "hci0"; borrowed until close */
    const char *name;    /* advertised local name; borrowed until close */
    /* After answering an os reset request (group 0, id 5) the peripheral drops
     * the link this many ms later, as a rebooting device does. 0 = never. */
    uint32_t reset_drop_ms;
    /* One reassembled SMP request from the central (pkt valid during the call). */
    void (*on_packet)(void *ctx, const uint8_t *pkt, size_t len);
    /* After each write the peripheral accepted (one fragment; after on_packet
     * when the fragment completed a packet). NULL = not told. */
    void (*on_write)(void *ctx);
    /* Events, NULL = not told. detail is NULL or valid during the call. */
    void (*on_event)(void *ctx, smpdfu_bluez_periph_event_t ev, const char *detail);
    void *ctx;
} smpdfu_bluez_periph_cfg_t;

/* Caller-owned; fields are private to ble_peripheral.c. */
typedef struct {
    smpdfu_bluez_periph_cfg_t cfg;
    struct sd_bus *bus;
    char adapter_path[64];
    bool notifying;
    bool gone;          /* link being dropped: nothing in or out until the next StartNotify */
    bool refused;
    int registered;
    unsigned mtu;       /* ATT MTU of the last write (23 until one says) */
    char device[128];   /* the central's Device1 object, "" before the first write */
    int reset_seq;      /* seq of a reset request in flight, or -1 */
    uint64_t drop_at;   /* drop the link then (monotonic ms, 0 = no) */
    smpdfu_ble_reasm_t reasm;
    uint8_t rx[65536 + 8];
    uint8_t value[1024];
    size_t value_len;
} smpdfu_bluez_periph_t;

/* Connect to the system bus and wait (up to 60 s) until bluetoothd has the
 * adapter cfg->adapter, powering it on. cfg is copied; its strings are
 * borrowed. Returns 0, SMPDFU_EINVAL (NULL, adapter or name missing or too
 * long), SMPDFU_ENOCONN (no system bus), SMPDFU_ETIMEOUT (no powered adapter
 * in time). On failure nothing stays open. */
int smpdfu_bluez_periph_open(smpdfu_bluez_periph_t *p, const smpdfu_bluez_periph_cfg_t *cfg);

/* Also wait (up to 60 s) for another adapter ("hci1") and power it on: for
 * tests whose central shares the machine. 0, SMPDFU_EINVAL, SMPDFU_ETIMEOUT. */
int smpdfu_bluez_periph_power(smpdfu_bluez_periph_t *p, const char *adapter);

/* Export the service, characteristic and advertisement objects and ask BlueZ
 * to register them. Asynchronous: READY (or REFUSED) comes from a later
 * step(). 0 or SMPDFU_ENOCONN (the bus refused an object). */
int smpdfu_bluez_periph_register(smpdfu_bluez_periph_t *p);

/* Process every pending bus message (WriteValue, StartNotify, ...: the
 * callbacks run from here) and a due reset drop. 0, or SMPDFU_ENOCONN once
 * BlueZ refused the registration. */
int smpdfu_bluez_periph_step(smpdfu_bluez_periph_t *p);

/* Fill *pf with the bus descriptor and events, and lower *wait_ms (-1 =
 * forever) to the bus's next timeout or the pending reset drop. */
void smpdfu_bluez_periph_pollfd(smpdfu_bluez_periph_t *p, struct pollfd *pf, int *wait_ms);

/* Send one SMP packet to the central as notifications of ATT MTU - 3 bytes.
 * Nothing is sent while the central is not subscribed or the link is being
 * dropped. A response to a reset request schedules the reset drop
 * (cfg.reset_drop_ms). 0, SMPDFU_EINVAL, SMPDFU_ENOSPC (MTU over 1027). */
int smpdfu_bluez_periph_notify(smpdfu_bluez_periph_t *p, const uint8_t *pkt, size_t len);

/* Ask BlueZ to disconnect the central (a device going out of range). Emits
 * DROP with why; nothing is read or sent until the central subscribes again.
 * Returns 0, or SMPDFU_ESTATE when no central has written yet (nothing done). */
int smpdfu_bluez_periph_disconnect(smpdfu_bluez_periph_t *p, const char *why);

/* Flush and close the bus (the registrations end with it). p may be reopened. */
void smpdfu_bluez_periph_close(smpdfu_bluez_periph_t *p);

#ifdef __cplusplus
}
#endif

#endif
