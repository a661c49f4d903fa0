/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the client-side fuzz targets: a client engine on the link picked
 * by the input's first byte, and the feed loop that turns the rest of the
 * input into received bytes and clock ticks. */
#ifndef SMPDFU_FUZZ_CLIENT_HARNESS_H
#define SMPDFU_FUZZ_CLIENT_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smpdfu/client.h"

static int harness_sink(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
    return 0;
}

/* byte0 bits 0-1: UDP, console, raw UART, BLE (ATT MTU 247, bit 4 = device
 * reassembly). Timeout 500 ms, one retry. Returns smpdfu_client_init()'s
 * result; the clock starts at 1 ms. */
static int harness_client_init(smpdfu_client_t *c, uint8_t byte0)
{
    static smpdfu_req_t reqs[8];
    static uint8_t mem[8 * 512];
    static uint8_t rx[2048];
    static uint8_t tx[1600];
    static const smpdfu_link_kind_t kinds[] = {SMPDFU_LINK_UDP, SMPDFU_LINK_SERIAL,
                                               SMPDFU_LINK_RAW_UART, SMPDFU_LINK_BLE};
    smpdfu_client_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.link.kind = kinds[byte0 & 3];
    if (cfg.link.kind == SMPDFU_LINK_BLE) {
        /* Each input record is then one notification. */
        cfg.link.mtu = 247;
        cfg.link.ble_reassembly = (byte0 & 16) != 0;
    }
    cfg.send = harness_sink;
    cfg.reqs = reqs;
    cfg.nreqs = 8;
    cfg.req_mem = mem;
    cfg.req_mem_len = sizeof(mem);
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof(rx);
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof(tx);
    cfg.timeout_ms = 500;
    cfg.retries = 1;
    int rc = smpdfu_client_init(c, &cfg);
    if (rc == 0) {
        smpdfu_client_tick(c, 1);
    }
    return rc;
}

/* Feed data[1..size) as records of [len][bytes], each followed by a tick
 * that moves the clock by a few hundred ms. Returns the clock reached. */
static uint64_t harness_feed(smpdfu_client_t *c, const uint8_t *data, size_t size)
{
    uint64_t now = 1;
    size_t i = 1;
    while (i < size) {
        size_t n = data[i++];
        if (n > size - i) {
            n = size - i;
        }
        smpdfu_client_feed(c, data + i, n);
        i += n;
        now += (n & 7) * 100;
        smpdfu_client_tick(c, now);
    }
    return now;
}

#endif /* SMPDFU_FUZZ_CLIENT_HARNESS_H */
