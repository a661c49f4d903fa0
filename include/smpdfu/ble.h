/*
 * smpdfu — SMP over BLE GATT fragmentation (protocol.md §5.3).
 *
 * No extra framing: a packet is cut into writes/notifications of at most
 * ATT_MTU - 3 bytes, and the receiver reassembles by the SMP header length.
 */
#ifndef SMPDFU_BLE_H
#define SMPDFU_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SMP service and characteristic UUIDs, as text. */
#define SMPDFU_BLE_SERVICE_UUID "8d53dc1d-1db7-4cd3-868b-8a527460aa84"
#define SMPDFU_BLE_CHAR_UUID "da2e7828-fbce-4e01-ae9e-261174997c48"

/* Largest write/notification payload for an ATT MTU (mtu - 3). 0 if mtu < 23. */
size_t smpdfu_ble_frag_max(size_t att_mtu);

/* Number of fragments a packet of len bytes needs at this ATT MTU. */
size_t smpdfu_ble_frag_count(size_t len, size_t att_mtu);

/* Fragment i of a packet: sets *off and *frag_len (a slice of the packet).
 * Returns 0, or SMPDFU_EINVAL when i is past the last fragment or mtu < 23. */
int smpdfu_ble_frag(size_t len, size_t att_mtu, size_t i, size_t *off, size_t *frag_len);

typedef struct {
    uint32_t packets;
    uint32_t short_first; /* first fragment shorter than the 8-byte header */
    uint32_t oversize;    /* header length larger than the buffer */
    uint32_t overshoot;   /* a fragment went past the packet's end */
    uint32_t timeouts;    /* partial packets dropped by smpdfu_ble_reasm_idle() */
} smpdfu_ble_stats_t;

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t have;
    size_t need;
    bool ready;
    smpdfu_ble_stats_t stats;
} smpdfu_ble_reasm_t;

void smpdfu_ble_reasm_init(smpdfu_ble_reasm_t *r, uint8_t *buf, size_t cap);

/* Feed one received fragment (a whole notification or write). Returns the
 * packet length (> 0) when it completed a packet (at smpdfu_ble_reasm_packet()),
 * 0 when more fragments are needed, or a negative error for a fragment that
 * was refused (the partial packet is dropped, as Zephyr does):
 * SMPDFU_ETRUNC (first fragment < 8 bytes), SMPDFU_EOVERSIZE (packet larger
 * than buf), SMPDFU_EMALFORMED (fragment overshoots the packet's end). */
int smpdfu_ble_reasm_feed(smpdfu_ble_reasm_t *r, const uint8_t *frag, size_t len);
const uint8_t *smpdfu_ble_reasm_packet(const smpdfu_ble_reasm_t *r);
/* Drop a partial packet (disconnect, notifications disabled). */
void smpdfu_ble_reasm_reset(smpdfu_ble_reasm_t *r);
/* No fragment came for too long: drop a partial packet, counted in timeouts. */
void smpdfu_ble_reasm_idle(smpdfu_ble_reasm_t *r);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_BLE_H */
