/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted fake SMP device for driving the client engine in-process, on a
 * virtual clock. It decodes what the engine sends (through the real link
 * framing), answers like Zephyr's os/img groups (upload with Zephyr's
 * in-order offset rules), and can drop requests or responses, reboot, or
 * answer with scripted bytes. Responses are queued and delivered by
 * fake_run(), never from inside the send callback. */
#ifndef HELPER_FAKEDEV_H
#define HELPER_FAKEDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"

#define FAKE_MAX_QUEUE 64
#define FAKE_MAX_PKT 4096
#define FAKE_IMG_MAX (256 * 1024)

typedef struct fake_dev fake_dev_t;

/* Return true when the hook answered (fill rsp and rsp_len with a CBOR body);
 * false to let the built-in handler answer. */
typedef bool (*fake_hook_fn)(fake_dev_t *d, const smpdfu_smp_hdr_t *h, const uint8_t *body,
                             size_t body_len, uint8_t *rsp, size_t *rsp_len);

struct fake_dev {
    smpdfu_link_t link;
    smpdfu_link_dec_t dec;
    uint8_t dec_buf[FAKE_MAX_PKT + 8];
    /* queued response frames */
    uint8_t q[FAKE_MAX_QUEUE][FAKE_MAX_PKT * 2];
    size_t qlen[FAKE_MAX_QUEUE];
    size_t qhead, qcount;
    /* params */
    uint32_t buf_size, buf_count;
    bool no_params;          /* answer params with rc 8 */
    bool indefinite;         /* encode responses with indefinite maps */
    bool v1_errors;          /* error responses as {"rc": N} instead of err map */
    bool rsp_v1;             /* pre-v2 server (mynewt): v1 headers whatever the request */
    bool persistent;         /* keep the upload session across reboot() (smpdfu target) */
    bool image_check;        /* answer match:true on completion */
    bool serial_trim;        /* accept only data rounded down to 8 bytes (serial recovery) */
    size_t max_inflight_ok;  /* >0: drop requests while more than this many unanswered */
    /* faults: 1-based indexes of received requests / sent responses to drop */
    uint32_t drop_req[16];
    uint32_t drop_rsp[16];
    uint32_t reboot_at_req;  /* reboot just before handling this request */
    fake_hook_fn hook;
    void *hook_arg;
    /* counters and records */
    uint32_t nreq, nrsp;
    uint32_t upload_reqs, first_chunks, accepted_chunks;
    size_t max_req_len, min_full_req_len;
    size_t req_lens[4096];
    uint32_t req_offs[4096];
    size_t nchunks;
    uint32_t inflight;       /* requests received but not yet answered by delivery */
    uint32_t max_inflight;
    uint8_t last_seq[8];
    /* upload session */
    bool sess;
    uint32_t off, size;
    uint8_t sha[32];
    size_t sha_len;
    uint32_t saved_off, saved_size; /* persistent copy */
    uint8_t saved_sha[32];
    size_t saved_sha_len;
    uint8_t img[FAKE_IMG_MAX];
    uint32_t img_len;         /* bytes of the completed image */
    bool complete;
    uint8_t state_hash[32];   /* hash listed by state read in slot 1 once complete */
    uint8_t running_hash[32];
    /* clock */
    uint64_t now;
    /* BLE (link.kind BLE; fake_ble_setup): ATT MTU link.mtu; with
     * link.ble_reassembly the device reassembles writes by header length
     * (Zephyr's CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY, expected > buf_size
     * refused), without it every write must be one whole packet. Responses
     * go out as notifications of mtu - 3 bytes, or random sizes in
     * [20, mtu - 3] with ble_random (Zephyr halves on ENOMEM, never below 20). */
    bool ble_random;
    uint32_t rng;
    bool qraw[FAKE_MAX_QUEUE];  /* queued by fake_queue_notification(): one notification */
    uint32_t ble_overshoot_pkt; /* 1-based delivered packet whose last notification
                                   gets 3 extra bytes */
    uint32_t ble_pkts_out;      /* response packets delivered as notifications */
    uint32_t ble_writes, ble_bad_writes, ble_pkts_in;
    size_t ble_max_write;
    uint32_t ble_max_writes_per_pkt;
    uint32_t ble_notifs;
    size_t ble_max_notif;
    uint32_t ble_last_notifs;   /* notifications of the last delivered packet */
    /* Link and device models for the resilience tests (all off when 0):
     * - requests longer than big_over bytes are lost while nreq < big_until
     *   (a link that spoils large frames for a while);
     * - silent_from: every request from this one on (1-based) is ignored;
     * - erase_ms: a new upload session (first chunk) keeps the device busy
     *   this long; answers to anything meanwhile come when it is done;
     * - rx_lines: serial console lines arrive in this many line buffers,
     *   each freed line_ms after the SMP side started on it (one line at a
     *   time); a line that finds every buffer held is dropped (Zephyr's
     *   UART transport; lines of one send() call arrive together). */
    size_t big_over;
    uint32_t big_until;
    uint32_t big_lost;
    uint32_t silent_from;
    uint32_t erase_ms;
    uint64_t busy_until;
    uint32_t rx_lines, line_ms;
    uint64_t line_rel[8];
    uint64_t line_last_rel;
    uint32_t lines_in, lines_dropped;
    uint32_t empty_chunks;      /* upload requests with no data (offset probes) */
    uint32_t new_sessions;
    /* answers held while busy */
    uint8_t held[16][FAKE_MAX_PKT + 8];
    size_t held_len[16];
    size_t nheld;
};

void fake_init(fake_dev_t *d, smpdfu_link_kind_t kind, uint32_t buf_size, uint32_t buf_count);

/* smpdfu_send_fn: ctx is the fake_dev_t. */
int fake_send(void *ctx, const uint8_t *data, size_t len);

/* Deliver queued responses and advance virtual time until done(arg) is true
 * or max_ms of virtual time passed. Returns true when done. */
bool fake_run(fake_dev_t *d, smpdfu_client_t *c, bool (*done)(void *), void *arg, uint64_t max_ms);

/* Queue raw response bytes (already an SMP packet) for delivery. */
void fake_queue_packet(fake_dev_t *d, const uint8_t *pkt, size_t len);

/* Build an SMP packet with this header (op/group/seq/id) and CBOR body. */
size_t fake_packet(uint8_t *out, uint8_t version, uint8_t op, uint16_t group, uint8_t seq,
                   uint8_t id, const uint8_t *body, size_t body_len);

/* Lose the upload session as a reboot does (kept when persistent). */
void fake_reboot(fake_dev_t *d);

/* A standard client set up on the fake device (UDP unless kind given). */
typedef struct {
    smpdfu_client_t c;
    smpdfu_req_t reqs[10];
    uint8_t req_mem[10 * 2048];
    uint8_t rx[FAKE_MAX_PKT + 8];
    uint8_t tx[FAKE_MAX_PKT * 2];
} fake_client_t;

/* The state read body the fake would send now. */
size_t fake_state_body_for_test(fake_dev_t *d, uint8_t *out, size_t cap);

/* For BLE: the client's send is fake_ble_port_send (the same link). */
int fake_client_init(fake_client_t *fc, fake_dev_t *d, int retries, uint32_t timeout_ms);

/* Make a BLE device (after fake_init with SMPDFU_LINK_BLE). */
void fake_ble_setup(fake_dev_t *d, size_t att_mtu, bool reassembly);

/* One GATT write without response arriving at the device. Returns 0, or
 * SMPDFU_EINVAL for a write longer than mtu - 3 (the stack refuses it). */
int fake_ble_write(fake_dev_t *d, const uint8_t *data, size_t len);

/* The central's port, as a real BLE port does it: one write per
 * smpdfu_ble_frag() piece of the packet the engine hands over. */
int fake_ble_port_send(void *ctx, const uint8_t *data, size_t len);

/* Queue bytes delivered as one notification, as they are (garbage tests). */
void fake_queue_notification(fake_dev_t *d, const uint8_t *data, size_t len);

#endif
