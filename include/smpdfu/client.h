/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the SMP client engine (central side).
 *
 * Event driven and I/O free, so the same code runs on a microcontroller and
 * on Linux. The port owns the transport and the clock:
 *   - it hands the engine a send callback (cfg.send),
 *   - it feeds received bytes with smpdfu_client_feed(),
 *   - it moves time with smpdfu_client_tick(now_ms).
 * Nothing here allocates or blocks; every buffer is caller-owned.
 *
 * Several requests may be in flight at once (one per request slot). Each is
 * matched to its response by sequence number, group, command and op. A
 * request that meets silence is retransmitted with the SAME sequence number
 * (so a late answer to the first copy still matches) up to `retries` times,
 * then completes with SMPDFU_ETIMEOUT, (retries + 1) x timeout after it was
 * sent. Once round trips have been measured (smpdfu_client_rto), a request
 * with retries > 0 is retransmitted sooner: after the estimate, doubling
 * with each copy up to its timeout, for the same total time (a lost frame
 * on a fast link then costs a few round trips, not a whole timeout). A
 * request with retries 0 (a reset) is never sent twice; one allowed more
 * than SMPDFU_CLIENT_ADAPTIVE_MAX_MS a try, or marked slow, only at its
 * timeout.
 *
 * Responses: indefinite or definite CBOR maps; an absent "rc" is success;
 * both device error shapes (SMP `rc`, v2 `err {group, rc}`) become status
 * SMPDFU_EDEVICE with a smpdfu_dev_err_t (see smp.h for its words).
 *
 * Callbacks run from inside feed()/tick() (or, for a send failure that
 * closes the link, from smpdfu_client_req_send()). They may start, cancel
 * and send other requests. The send callback must not call feed()
 * re-entrantly (feed returns SMPDFU_EBUSY if it does).
 */
#ifndef SMPDFU_CLIENT_H
#define SMPDFU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/cbor.h"
#include "smpdfu/error.h"
#include "smpdfu/link.h"
#include "smpdfu/smp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Earlier names of the defaults in defaults.h (the same values). For a
 * link of unknown kind the timeout is smpdfu_client_default_timeout_ms(). */
#define SMPDFU_CLIENT_DEFAULT_TIMEOUT_MS SMPDFU_DEFAULT_TIMEOUT_MS
#define SMPDFU_CLIENT_DEFAULT_RETRIES SMPDFU_DEFAULT_RETRIES

typedef struct smpdfu_client smpdfu_client_t;
typedef struct smpdfu_req smpdfu_req_t;

/* What a request ended with. Pointers are valid only during the callback. */
typedef struct {
    int status;                 /* 0, SMPDFU_EDEVICE, SMPDFU_ETIMEOUT, SMPDFU_EPROTO,
                                   SMPDFU_ECLOSED (send callback said the link is gone) */
    smpdfu_dev_err_t dev;       /* meaningful when status == SMPDFU_EDEVICE */
    const char *rsn;            /* device's "rsn" text (not NUL-terminated), or NULL */
    size_t rsn_len;
    smpdfu_smp_hdr_t hdr;       /* response header (zeroed on timeout) */
    const uint8_t *payload;     /* response CBOR (the whole map), NULL on timeout */
    size_t payload_len;
    const smpdfu_req_t *req;    /* the request slot (already free again: compare only) */
    uint32_t tag;               /* the tag given to smpdfu_client_req_send() */
    uint16_t sends;             /* times the request went out (1 = answered without a
                                   retransmission: its round trip is a clean sample) */
    bool spurious;              /* sends > 1, but the answer came within a quarter of
                                   a round trip of the last copy: most likely it
                                   answers an earlier copy (needless retransmission) */
} smpdfu_rsp_t;

typedef void (*smpdfu_rsp_fn)(void *arg, const smpdfu_rsp_t *rsp);

/* Send bytes on the transport. Return 0, or a negative smpdfu error:
 * SMPDFU_ECLOSED means the link is gone for good (requests fail at once);
 * any other error counts as a lost frame (the timeout will retransmit). */
typedef int (*smpdfu_send_fn)(void *ctx, const uint8_t *data, size_t len);

/* One request slot. Caller-owned storage handed over in the config; all
 * fields are private to the engine. */
struct smpdfu_req {
    uint8_t state;
    uint8_t seq;
    uint8_t op;
    uint8_t id;
    uint16_t group;
    uint16_t tries_left;
    uint16_t sends;
    bool slow;          /* may take long on purpose (erase): not a round-trip sample */
    bool adaptive;      /* retransmitted at the round-trip estimate, not timeout_ms */
    bool held;          /* its first copy waits for the end of a hold (raw UART, BLE) */
    uint64_t sent_at;
    uint64_t last_tx_at;
    uint64_t give_up_at; /* adaptive: (retries + 1) x timeout_ms after sending */
    uint32_t tx_order;  /* paced links: place in the transmit queue (0 = not queued) */
    uint32_t timeout_ms;
    uint32_t tag;
    uint64_t deadline;
    smpdfu_rsp_fn cb;
    void *arg;
    uint8_t *pkt;   /* SMP packet: header + CBOR, kept for retransmission */
    size_t pkt_cap;
    size_t pkt_len;
    smpdfu_cbor_enc_t enc;
};

/* A one-shot timer driven by tick(); caller-owned, private fields. */
typedef struct smpdfu_timer {
    struct smpdfu_timer *next;
    uint64_t at;
    void (*fn)(void *arg);
    void *arg;
    bool armed;
} smpdfu_timer_t;

typedef struct {
    smpdfu_link_t link;         /* framing and size limits of the transport */
    smpdfu_send_fn send;
    void *send_ctx;
    smpdfu_req_t *reqs;         /* request slots: how many may be in flight */
    size_t nreqs;
    uint8_t *req_mem;           /* packet storage, split evenly across the slots; */
    size_t req_mem_len;         /*   each slot holds one SMP packet (header + CBOR) */
    uint8_t *rx_buf;            /* receive assembly: largest response (+4 for SERIAL) */
    size_t rx_cap;
    uint8_t *tx_buf;            /* framing output: smpdfu_link_encoded_len() of a slot */
    size_t tx_cap;
    uint32_t timeout_ms;        /* default per-request timeout (0 -> the link's,
                                   smpdfu_client_default_timeout_ms()) */
    int retries;                /* default retransmissions (< 0 -> SMPDFU_DEFAULT_RETRIES) */
    bool smp_v1;                /* send SMP v1 headers instead of v2 */
    uint8_t first_seq;          /* sequence number of the first request (a port may
                                   randomise it so a previous session's late answers
                                   do not match) */
    /* Optional: every packet sent (tx true, incl. retransmissions) and
     * every packet received, for tracing. */
    void (*trace)(void *arg, bool tx, const uint8_t *pkt, size_t len);
    void *trace_arg;
    /* Serial console links: the line speed in baud (0 = unknown). Only line
     * pacing uses it, to leave the gap after a line has left the wire. */
    uint32_t baud;
} smpdfu_client_cfg_t;

typedef struct {
    uint32_t sent;          /* frames handed to the port, incl. retransmissions */
    uint32_t retransmits;
    uint32_t timeouts;      /* requests that ended in SMPDFU_ETIMEOUT */
    uint32_t responses;     /* responses matched to a request */
    uint32_t unmatched;     /* well-formed responses nobody waits for (late duplicates) */
    uint32_t bad_packets;   /* not an SMP response, length wrong */
    uint32_t send_errors;
    uint32_t paced_lines;   /* lines handed to the port one by one (pacing on) */
    uint32_t holds;         /* raw UART, BLE: sends held to let the line go quiet
                               (received bytes made no answer; see smpdfu_client_tick) */
} smpdfu_client_stats_t;

struct smpdfu_client {
    /* private */
    smpdfu_client_cfg_t cfg;
    smpdfu_link_dec_t dec;
    size_t slot_size;
    uint64_t now;
    uint8_t next_seq;
    bool in_feed;
    uint32_t dev_buf_size;
    uint32_t dev_buf_count;
    smpdfu_timer_t *timers;
    uint64_t heard_at;          /* time of the last well-formed SMP response (0 = never) */
    bool heard;
    uint32_t srtt8, rttvar4;    /* round-trip estimate (ms x 8, ms x 4), 0 = no sample */
    /* line pacing (serial console links only) */
    uint32_t pace_us;           /* idle gap after each line; 0 = whole frames */
    uint32_t tx_order;          /* last queue number given */
    size_t tx_len, tx_pos;      /* frame in tx_buf being sent line by line */
    uint64_t tx_next_at;        /* when the next line may go */
    smpdfu_req_t *tx_req;       /* whose frame it is (NULL once cancelled) */
    /* resync by quiet (raw UART, BLE: no frame marker) */
    bool rx_junk;               /* bytes came since the last response accepted */
    uint64_t junk_since;        /* when they began */
    bool holding;               /* every send held until the line is quiet */
    uint64_t hold_from;
    smpdfu_client_stats_t stats;
};

/* Set up the engine. Checks the buffers: SMPDFU_EINVAL for NULL/zero
 * pieces, SMPDFU_ENOSPC when a slot cannot hold a minimal packet or tx_buf
 * cannot hold a framed full slot. */
int smpdfu_client_init(smpdfu_client_t *c, const smpdfu_client_cfg_t *cfg);

/* The request timeout a link of this kind gets when cfg.timeout_ms is 0:
 * SMPDFU_DEFAULT_UDP_TIMEOUT_MS on UDP, SMPDFU_DEFAULT_TIMEOUT_MS on every
 * other kind (defaults.h). Never fails. */
uint32_t smpdfu_client_default_timeout_ms(smpdfu_link_kind_t kind);

/* Move time forward (monotonic milliseconds). Retransmits requests whose
 * timeout passed, completes those out of retries with SMPDFU_ETIMEOUT, and
 * fires due timers. Call it once before the first request, then often
 * (smpdfu_client_next_timeout() says how long the port may sleep). */
void smpdfu_client_tick(smpdfu_client_t *c, uint64_t now_ms);

/* Current time as last given to tick(). */
uint64_t smpdfu_client_now(const smpdfu_client_t *c);

/* Milliseconds until the next deadline (request or timer), 0 if one is
 * due, UINT32_MAX when nothing waits. */
uint32_t smpdfu_client_next_timeout(const smpdfu_client_t *c);

/* Received bytes. Stream links: any chunking. UDP: one call per datagram
 * (several SMP packets in it are all handled). BLE: one call per
 * notification. Raw UART and BLE: a partial frame that gets no bytes for
 * half the default timeout (cfg.timeout_ms / 2) is dropped as stale by the
 * link decoder (smpdfu_link_dec_set_gap(); counted in bad_packets), so a
 * bad header cannot swallow the retransmission's answer. Plain feed counts
 * the bytes as arriving at the next tick; smpdfu_client_feed_at() gives
 * their time (monotonic ms, as for tick: it moves the clock forward, but
 * only tick fires timeouts and timers) and lets a stale frame be dropped
 * before the new bytes join it. Returns 0, or SMPDFU_EBUSY when called from
 * inside a callback of feed itself, SMPDFU_EINVAL. Bad input is dropped and
 * counted, never fatal. */
int smpdfu_client_feed(smpdfu_client_t *c, const uint8_t *data, size_t len);
int smpdfu_client_feed_at(smpdfu_client_t *c, const uint8_t *data, size_t len, uint64_t now_ms);

/* Forget a partially received frame (the port reopened, the device reset). */
void smpdfu_client_reset_link(smpdfu_client_t *c);

/* The device's MCUmgr params (os params: buf_size, buf_count); 0 = unknown.
 * They bound smpdfu_client_max_packet(). */
void smpdfu_client_set_params(smpdfu_client_t *c, uint32_t buf_size, uint32_t buf_count);
uint32_t smpdfu_client_buf_count(const smpdfu_client_t *c);

/* Line pacing for devices that receive the console framing into a few small
 * line buffers (Zephyr's UART transport: 2 x 128 bytes by default) and drop a
 * line that finds them all held. With pace_us > 0 on a SERIAL link the engine
 * hands send() one line at a time and the next line only once the previous
 * one has had time to leave the wire (cfg.baud; 0 = not counted) plus
 * pace_us of quiet, rounded up to whole milliseconds of the tick clock.
 * Frames queue in order of sending; a request's timeout starts when its last
 * line went out. The port needs nothing new: tick() sends the lines, and
 * next_timeout() says when the next one is due. 0 turns pacing off (queued
 * frames then go out whole). Other link kinds ignore it. */
void smpdfu_client_set_pace(smpdfu_client_t *c, uint32_t pace_us);
uint32_t smpdfu_client_pace(const smpdfu_client_t *c);

/* Whether, and when (tick clock), the device last sent a well-formed SMP
 * response, matched to a request or not (a late duplicate is a sign of life
 * too). Returns false when nothing was ever heard. */
bool smpdfu_client_last_heard(const smpdfu_client_t *c, uint64_t *at_ms);

/* Round trips: every request answered without a retransmission (and not
 * marked slow) is a sample. smpdfu_client_rto() gives the retransmission
 * timeout they suggest, as TCP computes it (smoothed round trip + 4 x its
 * mean deviation), at least SMPDFU_CLIENT_MIN_RTO_MS and at most `limit`;
 * `limit` itself while there is no sample. */
#define SMPDFU_CLIENT_MIN_RTO_MS 25u
/* Requests allowed longer than this per try are never resent early. */
#define SMPDFU_CLIENT_ADAPTIVE_MAX_MS 5000u
uint32_t smpdfu_client_rto(const smpdfu_client_t *c, uint32_t limit);

/* Mark a begun request as one that may take long on purpose (the first
 * upload chunk while the device erases): its round trip is not a sample. */
void smpdfu_client_req_slow(smpdfu_req_t *r);

/* Largest SMP packet (header + CBOR) a request may have now: the link and
 * device limit (smpdfu_link_max_packet) and the slot size, whichever is less. */
size_t smpdfu_client_max_packet(const smpdfu_client_t *c);

/* Requests waiting for an answer, and slots still free. */
size_t smpdfu_client_in_flight(const smpdfu_client_t *c);
size_t smpdfu_client_free_slots(const smpdfu_client_t *c);

const smpdfu_client_stats_t *smpdfu_client_stats(const smpdfu_client_t *c);

/* ------------------------------------------------------------ requests */

/* Take a free slot and start a request: *out gets the slot and
 * smpdfu_req_enc(*out) an encoder for the CBOR payload (write one map).
 * Then either smpdfu_client_req_send() or smpdfu_client_req_drop().
 * Errors: SMPDFU_EBUSY (no free slot), SMPDFU_EINVAL. */
int smpdfu_client_req_begin(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                            smpdfu_req_t **out);

/* The payload encoder of a begun request (bounded by smpdfu_client_max_packet). */
smpdfu_cbor_enc_t *smpdfu_req_enc(smpdfu_req_t *r);

/* Finish the header, frame and send, and start the timer. timeout_ms 0 and
 * retries < 0 take the config defaults. cb (may be NULL) is called exactly
 * once unless the request is cancelled. Returns 0, or (the slot is then
 * free again and cb is not called) the encoder's error (SMPDFU_ENOSPC),
 * SMPDFU_EOVERSIZE (packet larger than smpdfu_client_max_packet),
 * SMPDFU_ECLOSED (the port refused: link gone), SMPDFU_EINVAL. */
int smpdfu_client_req_send(smpdfu_client_t *c, smpdfu_req_t *r, uint32_t timeout_ms, int retries,
                           uint32_t tag, smpdfu_rsp_fn cb, void *arg);

/* Release a begun, unsent request. */
void smpdfu_client_req_drop(smpdfu_client_t *c, smpdfu_req_t *r);

/* Stop waiting for a sent request: no callback; a late response is ignored.
 * No-op for a free slot. */
void smpdfu_client_req_cancel(smpdfu_client_t *c, smpdfu_req_t *r);

/* Cancel every request and timer (no callbacks). */
void smpdfu_client_cancel_all(smpdfu_client_t *c);

/* One-call request with an already encoded CBOR payload (NULL/0 sends the
 * empty map A0). out (may be NULL) gets the slot, e.g. to cancel it. */
int smpdfu_client_request(smpdfu_client_t *c, uint8_t op, uint16_t group, uint8_t id,
                          const uint8_t *cbor, size_t cbor_len, uint32_t timeout_ms, int retries,
                          smpdfu_rsp_fn cb, void *arg, smpdfu_req_t **out);

/* Request options for the group helpers: timeout 0 / retries < 0 = defaults;
 * out (may be NULL) receives the request slot, e.g. to cancel it or to
 * recognise its response (smpdfu_rsp_t.req). */
typedef struct {
    uint32_t timeout_ms;
    int retries;
    smpdfu_req_t **out;
} smpdfu_req_opts_t;

/* ---------------------------------------------------------------- timers */

/* Call fn(arg) from tick() once `ms` have passed. Re-arming an armed timer
 * moves it. */
void smpdfu_client_timer_start(smpdfu_client_t *c, smpdfu_timer_t *t, uint32_t ms,
                               void (*fn)(void *arg), void *arg);
void smpdfu_client_timer_stop(smpdfu_client_t *c, smpdfu_timer_t *t);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CLIENT_H */
