/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — Linux port: SMP over BLE through BlueZ's D-Bus API (a central).
 *
 * Finds the device (by address, or by name among those advertising the SMP
 * service), connects (Device1.Connect), finds the SMP characteristic
 * (SMPDFU_BLE_CHAR_UUID under SMPDFU_BLE_SERVICE_UUID) and moves data through
 * the file descriptors of GattCharacteristic1.AcquireWrite/AcquireNotify in
 * the POSIX poll loop; where BlueZ refuses to hand them out it falls back to
 * WriteValue(type=command) and StartNotify (Value in PropertiesChanged). The
 * ATT MTU BlueZ reports sets the BLE link kind's mtu. Built only when
 * libsystemd (sd-bus) is found; SMPDFU_HAVE_BLUEZ is then defined.
 *
 * Spec: ble:AA:BB:CC:DD:EE:FF or ble:NAME, options ,adapter=hci1 (default:
 * the first adapter), ,timeout=SEC (scan + connect, default 30:
 * SMPDFU_DEFAULT_BLE_TIMEOUT_MS), ,mtu=N (use
 * at most this ATT MTU, 23-517: a stack that reports more than it carries), ,reassembly
 * (the device reassembles requests split over writes:
 * CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY).
 *
 * Bonded devices: BlueZ keeps the bond; Connect uses it and encryption is
 * set up by BlueZ. Pair once with bluetoothctl (pair, trust).
 */
#ifndef SMPDFU_POSIX_BLUEZ_H
#define SMPDFU_POSIX_BLUEZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/posix_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* BlueZ 5.66's GATT server drops written values over 510 bytes (fixed in
 * 5.69): fragments are kept at or below this. */
#define SMPDFU_BLUEZ_FRAG_MAX 510u

typedef struct smpdfu_bluez_priv smpdfu_bluez_priv_t;

typedef struct {
    /* parsed spec */
    char adapter[16]; /* "hci0"; "" = the first adapter */
    char addr[18];    /* "AA:BB:CC:DD:EE:FF" or "" */
    char name[64];    /* when addr is "" */
    uint32_t timeout_ms;
    bool reassembly;
    unsigned mtu_cap;     /* ,mtu=N: use at most this ATT MTU (0 = what BlueZ reports) */
    /* after open */
    char dev_path[128];
    char chr_path[192];
    unsigned att_mtu;     /* as BlueZ reported it */
    bool write_acquired;  /* false: WriteValue(type=command) */
    bool notify_acquired; /* false: StartNotify + PropertiesChanged */
    smpdfu_bluez_priv_t *priv; /* bus, descriptors (allocated by open) */
} smpdfu_bluez_t;

/* Parse "ble:..." into b (nothing opened). 0 or SMPDFU_EUSAGE. */
int smpdfu_bluez_parse(smpdfu_bluez_t *b, const char *spec);

/* Connect and set p up as an SMPDFU_POSIX_EXT port (hooks, link kind BLE with
 * the reported MTU, reconnection within b->timeout_ms). Returns 0,
 * SMPDFU_ENOCONN (no bus, no adapter, device not found in time, connect
 * failed), SMPDFU_ENOTFOUND (connected, but no SMP characteristic). *why
 * gets a sentence on failure (static storage). */
int smpdfu_bluez_open(smpdfu_bluez_t *b, smpdfu_posix_port_t *p, const char **why);

/* One device seen by a scan. */
typedef struct {
    char addr[18];
    char name[64];
    int rssi;         /* dBm; 127 when not reported */
    bool connected;
    bool paired;
} smpdfu_bluez_seen_t;

/* Scan (LE discovery filtered on the SMP service) for up to seconds, or
 * until count devices were seen (0 = no count). Restarts discovery every
 * 1.5 s (some controllers report each advertiser once per scan start).
 * Fills out[0..*n). Returns 0, SMPDFU_ENOCONN (no bus or adapter; *why).
 * With SMPDFU_BLE_DEBUG set in the environment, every device object looked
 * at is printed on stderr. */
int smpdfu_bluez_scan(const char *adapter, uint32_t seconds, size_t count, smpdfu_bluez_seen_t *out,
                      size_t cap, size_t *n, const char **why);

#ifdef __cplusplus
}
#endif

#endif /* SMPDFU_POSIX_BLUEZ_H */
