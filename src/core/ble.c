/* SMP over BLE GATT: fragments of ATT_MTU - 3, reassembly by header length. */
#include "smpdfu/ble.h"

#include <string.h>

#include "smpdfu/smp.h"

#define BLE_MTU_MIN 23u

size_t smpdfu_ble_frag_max(size_t att_mtu)
{
    return att_mtu < BLE_MTU_MIN ? 0 : att_mtu - 3u;
}

size_t smpdfu_ble_frag_count(size_t len, size_t att_mtu)
{
    size_t m = smpdfu_ble_frag_max(att_mtu);
    if (m == 0) {
        return 0;
    }
    return len / m + (len % m != 0);
}

int smpdfu_ble_frag(size_t len, size_t att_mtu, size_t i, size_t *off, size_t *frag_len)
{
    size_t m = smpdfu_ble_frag_max(att_mtu);
    if (m == 0 || off == NULL || frag_len == NULL || i >= smpdfu_ble_frag_count(len, att_mtu)) {
        return SMPDFU_EINVAL;
    }
    *off = i * m;
    *frag_len = len - *off < m ? len - *off : m;
    return 0;
}

void smpdfu_ble_reasm_init(smpdfu_ble_reasm_t *r, uint8_t *buf, size_t cap)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->cap = buf != NULL ? cap : 0;
}

void smpdfu_ble_reasm_reset(smpdfu_ble_reasm_t *r)
{
    r->have = 0;
    r->need = 0;
    r->ready = false;
}

int smpdfu_ble_reasm_feed(smpdfu_ble_reasm_t *r, const uint8_t *frag, size_t len)
{
    if (r->ready) {
        smpdfu_ble_reasm_reset(r);
    }
    if (frag == NULL && len > 0) {
        return SMPDFU_EINVAL;
    }
    if (r->have == 0) {
        if (len < SMPDFU_SMP_HDR_LEN) {
            r->stats.short_first++;
            return SMPDFU_ETRUNC;
        }
        size_t need = SMPDFU_SMP_HDR_LEN + (((size_t)frag[2] << 8) | frag[3]);
        if (need > r->cap) {
            r->stats.oversize++;
            return SMPDFU_EOVERSIZE;
        }
        r->need = need;
    }
    if (len > r->need - r->have) {
        r->stats.overshoot++;
        smpdfu_ble_reasm_reset(r);
        return SMPDFU_EMALFORMED;
    }
    if (len > 0) {
        memcpy(r->buf + r->have, frag, len);
    }
    r->have += len;
    if (r->have < r->need) {
        return 0;
    }
    r->ready = true;
    r->stats.packets++;
    return (int)r->need;
}

void smpdfu_ble_reasm_idle(smpdfu_ble_reasm_t *r)
{
    if (r->ready) {
        return; /* a delivered packet stays valid until the next feed */
    }
    if (r->have > 0) {
        r->stats.timeouts++;
    }
    smpdfu_ble_reasm_reset(r);
}

const uint8_t *smpdfu_ble_reasm_packet(const smpdfu_ble_reasm_t *r)
{
    return r->ready ? r->buf : NULL;
}
