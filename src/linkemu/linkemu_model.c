/* SPDX-License-Identifier: Apache-2.0 */
/* Link emulator models: PRNG, pacer, BLE air time, throughput limits, stats.
 * Arithmetic and the stats line (no descriptors, no clock), so benchmarks and
 * unit tests can use it. */
#include <math.h>

#include "smpdfu/linkemu.h"
#include "smpdfu/serial.h"

void smpdfu_linkemu_rng_seed(smpdfu_linkemu_rng_t *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t smpdfu_linkemu_rng_next(smpdfu_linkemu_rng_t *r)
{
    /* splitmix64: tiny, full period, good enough for coin flips. */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double smpdfu_linkemu_rng_unit(smpdfu_linkemu_rng_t *r)
{
    return (double)(smpdfu_linkemu_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool smpdfu_linkemu_rng_chance(smpdfu_linkemu_rng_t *r, double p)
{
    double u = smpdfu_linkemu_rng_unit(r);
    if (p <= 0.0) {
        return false;
    }
    return p >= 1.0 || u < p;
}

void smpdfu_linkemu_pacer_init(smpdfu_linkemu_pacer_t *p, uint64_t rate)
{
    p->rate = rate ? rate : 1;
    p->t0_ns = 0;
    p->units = 0;
    p->last_ns = 0;
}

uint64_t smpdfu_linkemu_pacer_add(smpdfu_linkemu_pacer_t *p, uint64_t now_ns, uint64_t units)
{
    if (now_ns >= p->last_ns) {
        /* The wire was idle: start a new busy period here. */
        p->t0_ns = now_ns;
        p->units = 0;
    }
    p->units += units;
    /* units/rate split so units * 1e9 cannot overflow on long runs. */
    uint64_t whole = p->units / p->rate;
    uint64_t rest = p->units % p->rate;
    p->last_ns = p->t0_ns + whole * 1000000000ull + (rest * 1000000000ull + p->rate - 1) / p->rate;
    return p->last_ns;
}

int smpdfu_linkemu_ble_check(const smpdfu_linkemu_ble_t *b)
{
    if (!b || b->att_mtu < 23 || b->att_mtu > 65535 || b->interval_us < 7500 ||
        b->interval_us > 4000000 || b->pdus_per_event < 1 || b->pdus_per_event > 1000 ||
        (b->phy_mbps != 1 && b->phy_mbps != 2) || b->ll_max < 27 || b->ll_max > 251) {
        return SMPDFU_EINVAL;
    }
    return 0;
}

uint64_t smpdfu_linkemu_ble_pdu_ns(const smpdfu_linkemu_ble_t *b, uint32_t payload)
{
    /* preamble (1 byte on 1M, 2 on 2M) + access address 4 + header 2 + CRC 3 */
    uint64_t bytes = (uint64_t)(b->phy_mbps == 2 ? 2 : 1) + 4 + 2 + payload + 3;
    return bytes * 8u * 1000u / b->phy_mbps;
}

uint32_t smpdfu_linkemu_ble_packet_pdus(const smpdfu_linkemu_ble_t *b, size_t len)
{
    size_t frag_max = b->att_mtu - 3;
    uint32_t pdus = 0;
    for (size_t off = 0; off < len; off += frag_max) {
        size_t f = len - off < frag_max ? len - off : frag_max;
        size_t l2 = f + SMPDFU_LINKEMU_BLE_L2CAP_ATT;
        pdus += (uint32_t)((l2 + b->ll_max - 1) / b->ll_max);
    }
    return pdus;
}

uint32_t smpdfu_linkemu_ble_pdus_per_event(const smpdfu_linkemu_ble_t *b)
{
    uint64_t exch = smpdfu_linkemu_ble_pdu_ns(b, b->ll_max) + smpdfu_linkemu_ble_pdu_ns(b, 0) +
                    2u * SMPDFU_LINKEMU_BLE_TIFS_NS;
    uint64_t fit = (uint64_t)b->interval_us * 1000u / exch;
    if (fit < 1) {
        fit = 1;
    }
    return fit < b->pdus_per_event ? (uint32_t)fit : b->pdus_per_event;
}

static double serial_seconds(const smpdfu_linkemu_limit_t *p, size_t len)
{
    if (len == 0) {
        return 0.0;
    }
    size_t wire = p->kind == SMPDFU_LINKEMU_LIMIT_CONSOLE ? smpdfu_serial_encoded_len(len, p->line_max) : len;
    return (double)wire * 10.0 / (double)p->baud;
}

int smpdfu_linkemu_limit_bps(const smpdfu_linkemu_limit_t *p, double *bps)
{
    if (!p || !bps || p->pkt_len <= p->overhead) {
        return SMPDFU_EINVAL;
    }
    double data = (double)(p->pkt_len - p->overhead);
    double cycle;
    switch (p->kind) {
    case SMPDFU_LINKEMU_LIMIT_CONSOLE:
    case SMPDFU_LINKEMU_LIMIT_RAW_UART: {
        /* Console: line_max >= 7 and packets console framing can carry
         * (smpdfu_serial_encoded_len() is 0 otherwise). */
        if (p->baud == 0 ||
            (p->kind == SMPDFU_LINKEMU_LIMIT_CONSOLE &&
             (smpdfu_serial_encoded_len(p->pkt_len, p->line_max) == 0 ||
              smpdfu_serial_encoded_len(p->resp_len, p->line_max) == 0))) {
            return SMPDFU_EINVAL;
        }
        double req = serial_seconds(p, p->pkt_len);
        double resp = serial_seconds(p, p->resp_len);
        cycle = p->pipelined ? fmax(req, resp) : req + resp;
        break;
    }
    case SMPDFU_LINKEMU_LIMIT_BLE: {
        if (smpdfu_linkemu_ble_check(&p->ble)) {
            return SMPDFU_EINVAL;
        }
        double per_event = smpdfu_linkemu_ble_pdus_per_event(&p->ble);
        double req = smpdfu_linkemu_ble_packet_pdus(&p->ble, p->pkt_len);
        double resp = smpdfu_linkemu_ble_packet_pdus(&p->ble, p->resp_len);
        double events;
        if (p->pipelined) {
            /* Both directions share each event; the busier one sets the pace. */
            events = fmax(req, resp) / per_event;
        } else {
            /* A request fills whole events; the response goes in the event
             * after the request's last PDU, the next request in the one after. */
            events = ceil(req / per_event) + ceil(resp / per_event);
        }
        cycle = events * (double)p->ble.interval_us * 1e-6;
        break;
    }
    default:
        return SMPDFU_EINVAL;
    }
    if (cycle <= 0.0) {
        return SMPDFU_EINVAL;
    }
    *bps = data / cycle;
    return 0;
}

void smpdfu_linkemu_cfg_default(smpdfu_linkemu_cfg_t *c)
{
    *c = (smpdfu_linkemu_cfg_t){0};
    c->mode = SMPDFU_LINKEMU_SERIAL;
    c->tick_us = 500;
    c->baud = 115200;
    c->listen = "127.0.0.1:1338";
    c->target = "127.0.0.1:1337";
    c->reorder_hold_ms = 100.0;
    c->ble_cfg = (smpdfu_linkemu_ble_t){
        .att_mtu = 247, .interval_us = 15000, .pdus_per_event = 4, .phy_mbps = 2, .ll_max = 251};
}

void smpdfu_linkemu_stats_print(FILE *out, const char *tag, const smpdfu_linkemu_stats_t st[2])
{
    static const char *const names[2] = {"c2t", "t2c"};
    for (int d = 0; d < 2; d++) {
        const smpdfu_linkemu_stats_t *s = &st[d];
        fprintf(out,
                "stats %s %s bytes_in=%llu bytes_out=%llu units_in=%llu units_out=%llu dropped=%llu "
                "flipped=%llu duplicated=%llu reordered=%llu overflow=%llu ble_pdus=%llu\n",
                tag, names[d], (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
                (unsigned long long)s->units_in, (unsigned long long)s->units_out,
                (unsigned long long)s->dropped, (unsigned long long)s->flipped,
                (unsigned long long)s->duplicated, (unsigned long long)s->reordered,
                (unsigned long long)s->overflow, (unsigned long long)s->ble_pdus);
    }
    fflush(out);
}
