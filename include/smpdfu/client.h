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
 * then completes with SMPDFU_ETIMEOUT.
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

#define SMPDFU_CLIENT_DEFAULT_TIMEOUT_MS 3000u
#define SMPDFU_CLIENT_DEFAULT_RETRIES 3

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
    uint32_t timeout_ms;        /* default per-request timeout (0 -> 3000) */
    int retries;                /* default retransmissions (< 0 -> 3) */
    bool smp_v1;                /* send SMP v1 headers instead of v2 */
    uint8_t first_seq;          /* sequence number of the first request (a port may
                                   randomise it so a previous session's late answers
                                   do not match) */
    /* Optional: every packet sent (tx true, incl. retransmissions) and
     * every packet received, for tracing. */
    void (*trace)(void *arg, bool tx, const uint8_t *pkt, size_t len);
    void *trace_arg;
} smpdfu_client_cfg_t;

typedef struct {
    uint32_t sent;          /* frames handed to the port, incl. retransmissions */
    uint32_t retransmits;
    uint32_t timeouts;      /* requests that ended in SMPDFU_ETIMEOUT */
    uint32_t responses;     /* responses matched to a request */
    uint32_t unmatched;     /* well-formed responses nobody waits for (late duplicates) */
    uint32_t bad_packets;   /* not an SMP response, length wrong */
    uint32_t send_errors;
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
    smpdfu_client_stats_t stats;
};

/* Set up the engine. Checks the buffers: SMPDFU_EINVAL for NULL/zero
 * pieces, SMPDFU_ENOSPC when a slot cannot hold a minimal packet or tx_buf
 * cannot hold a framed full slot. */
int smpdfu_client_init(smpdfu_client_t *c, const smpdfu_client_cfg_t *cfg);

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
