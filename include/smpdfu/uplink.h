/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the uplink block protocol: a gateway pulls an image by offset
 * from a host over a byte stream (a UART, a TCP socket) that may lose or
 * corrupt bytes. docs/uplink.md has the byte layouts and the retry rules.
 *
 *   frame = A5 5A | type u8 | seq u8 | len u16le | payload[len] | crc32le
 *   crc32 = CRC-32/ISO-HDLC (zlib's) over type, seq, len and payload
 *
 *   INFO (0x01) ->  INFO_RSP (0x81): size u32le, max_block u16le, flags u8
 *                                    [, sha256[32] when flags bit 0]
 *   READ (0x02) off u32le, len u16le
 *               ->  DATA (0x82): off u32le, data (1 .. len bytes)
 *   any request ->  ERR (0x83): code u16le [, text]
 *
 * The gateway (client) keeps one request in flight, matches the answer by
 * seq (and off), and resends the same frame with the same seq after a
 * timeout. The host (server) is stateless: it answers every good request.
 *
 * Two parts:
 *  - codec (src/core/uplink.c): pure functions over caller buffers, a
 *    resynchronising decoder (fuzzed: tests/fuzz/fuzz_uplink.c);
 *  - client (src/client/uplink.c): I/O-free like the SMP engine (feed bytes,
 *    tick the clock, a send callback) that asks for the image size and
 *    feeds a smpdfu_stream_t with the blocks it wants.
 * and the host's answer to one request (smpdfu_uplink_answer, in the codec).
 * The host program is `smpdfu serve-image` (tools/smpdfu/cmd_serve.c), its
 * transport the POSIX port (smpdfu_posix_port_serve).
 */
#ifndef SMPDFU_UPLINK_H
#define SMPDFU_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"
#include "smpdfu/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_UPLINK_SYNC0 0xA5u
#define SMPDFU_UPLINK_SYNC1 0x5Au
#define SMPDFU_UPLINK_HDR_LEN 6u  /* sync(2) type seq len(2) */
#define SMPDFU_UPLINK_CRC_LEN 4u
#define SMPDFU_UPLINK_OVERHEAD (SMPDFU_UPLINK_HDR_LEN + SMPDFU_UPLINK_CRC_LEN)
/* Largest data block one DATA frame carries, and the largest payload. */
#define SMPDFU_UPLINK_MAX_BLOCK 2048u
#define SMPDFU_UPLINK_MAX_PAYLOAD (4u + SMPDFU_UPLINK_MAX_BLOCK)
/* Bytes a frame carrying `payload` payload bytes takes on the wire. */
#define SMPDFU_UPLINK_FRAME_LEN(payload) ((payload) + SMPDFU_UPLINK_OVERHEAD)

enum {
    SMPDFU_UPLINK_INFO = 0x01,
    SMPDFU_UPLINK_READ = 0x02,
    SMPDFU_UPLINK_INFO_RSP = 0x81,
    SMPDFU_UPLINK_DATA = 0x82,
    SMPDFU_UPLINK_ERR = 0x83,
};

/* ERR codes. */
enum {
    SMPDFU_UPLINK_ERR_RANGE = 1,  /* offset or length outside the image */
    SMPDFU_UPLINK_ERR_SOURCE = 2, /* the host cannot read its source (HTTP error, file gone) */
    SMPDFU_UPLINK_ERR_BAD = 3,    /* unknown type or malformed request */
};

#define SMPDFU_UPLINK_F_SHA 0x01u /* INFO_RSP carries the SHA-256 of the whole file */

/* CRC-32/ISO-HDLC (reflected 0xEDB88320, init and xorout 0xFFFFFFFF), as
 * zlib's crc32(). Chain calls: crc = smpdfu_crc32(crc, ...), start at 0.
 * smpdfu_crc32(0, "123456789", 9) = 0xCBF43926. */
uint32_t smpdfu_crc32(uint32_t crc, const void *data, size_t len);

/* ------------------------------------------------------------ codec */

typedef struct {
    uint8_t type;
    uint8_t seq;
    uint16_t len;             /* payload bytes */
    const uint8_t *payload;   /* inside the decoder's buffer or the input */
} smpdfu_uplink_frame_t;

/* Encode one frame into out. Returns its length, or SMPDFU_ENOSPC (cap too
 * small), SMPDFU_EOVERSIZE (payload > SMPDFU_UPLINK_MAX_PAYLOAD),
 * SMPDFU_EINVAL (NULL). */
int smpdfu_uplink_encode(uint8_t type, uint8_t seq, const uint8_t *payload, size_t len,
                         uint8_t *out, size_t cap);

/* Requests and answers, each encoded as a whole frame into out (same
 * returns as smpdfu_uplink_encode). */
int smpdfu_uplink_put_info_req(uint8_t seq, uint8_t *out, size_t cap);
int smpdfu_uplink_put_read(uint8_t seq, uint32_t off, uint16_t len, uint8_t *out, size_t cap);

typedef struct {
    uint32_t size;       /* image size */
    uint16_t max_block;  /* largest block the host sends in one DATA (0: no limit of its own) */
    bool has_sha;
    uint8_t sha[32];     /* SHA-256 of the whole file when has_sha */
} smpdfu_uplink_info_t;

int smpdfu_uplink_put_info(uint8_t seq, const smpdfu_uplink_info_t *info, uint8_t *out, size_t cap);
/* DATA header and payload; data may be NULL when the caller already wrote
 * the n data bytes at out + SMPDFU_UPLINK_HDR_LEN + 4 (no copy). */
int smpdfu_uplink_put_data(uint8_t seq, uint32_t off, const uint8_t *data, size_t n, uint8_t *out,
                           size_t cap);
/* ERR with an optional text (NULL or up to 64 bytes, no terminator sent). */
int smpdfu_uplink_put_err(uint8_t seq, uint16_t code, const char *text, uint8_t *out, size_t cap);

/* Payload parsers. Each returns 0, or SMPDFU_ETYPE (another frame type),
 * SMPDFU_EMALFORMED (wrong payload length for the type). */
int smpdfu_uplink_parse_read(const smpdfu_uplink_frame_t *f, uint32_t *off, uint16_t *len);
int smpdfu_uplink_parse_info(const smpdfu_uplink_frame_t *f, smpdfu_uplink_info_t *info);
int smpdfu_uplink_parse_data(const smpdfu_uplink_frame_t *f, uint32_t *off, const uint8_t **data,
                             size_t *n);
/* text/text_len (may be NULL) point into the payload, not terminated. */
int smpdfu_uplink_parse_err(const smpdfu_uplink_frame_t *f, uint16_t *code, const uint8_t **text,
                            size_t *text_len);

/* Stream decoder: finds frames in a byte stream, skipping noise. A frame
 * whose CRC fails (or whose length exceeds the buffer) is dropped and the
 * search resumes one byte after its sync marker, so a frame hidden behind a
 * corrupted one is still found. */
typedef struct {
    uint8_t *buf;     /* caller-owned, >= SMPDFU_UPLINK_FRAME_LEN(largest payload expected) */
    size_t cap;
    size_t n;         /* bytes held */
    size_t skip;      /* bytes of the last delivered frame, dropped on the next call */
    uint32_t bad_crc; /* frames dropped for a CRC mismatch */
    uint32_t noise;   /* bytes skipped while looking for a sync marker */
    uint32_t oversize;/* headers announcing more than fits the buffer */
} smpdfu_uplink_dec_t;

/* Returns 0 or SMPDFU_EINVAL (cap < SMPDFU_UPLINK_OVERHEAD). */
int smpdfu_uplink_dec_init(smpdfu_uplink_dec_t *d, uint8_t *buf, size_t cap);

/* Take up to n bytes from in (*used says how many) and look for a frame.
 * Returns 1 with *f filled (its payload valid until the next call), or 0
 * when all of in was taken and no complete frame is there yet. After a 1,
 * call again with the rest of in (in + *used, possibly 0 bytes) until it
 * returns 0: one read may hold several frames. Never fails on input. */
int smpdfu_uplink_dec_feed(smpdfu_uplink_dec_t *d, const uint8_t *in, size_t n, size_t *used,
                           smpdfu_uplink_frame_t *f);

/* ------------------------------------------------------------ host */

/* What smpdfu_uplink_answer() answered, for the host's log. */
typedef struct {
    uint8_t type;  /* SMPDFU_UPLINK_INFO_RSP, SMPDFU_UPLINK_DATA or SMPDFU_UPLINK_ERR */
    uint16_t code; /* ERR: SMPDFU_UPLINK_ERR_RANGE, _SOURCE or _BAD */
    uint32_t off;  /* READ: what was asked */
    uint16_t len;
    uint32_t n;    /* DATA: bytes sent */
} smpdfu_uplink_answer_t;

/* The host's answer to one request frame f, encoded into out (cap >=
 * SMPDFU_UPLINK_FRAME_LEN(4 + the block) for DATA): INFO gets info; READ
 * gets DATA with the bytes read(read_ctx, off, ..) gives, at most
 * info->max_block (0: SMPDFU_UPLINK_MAX_BLOCK) and not past info->size; a
 * READ outside the image gets ERR RANGE, a failed read ERR SOURCE, anything
 * else ERR BAD. *a (may be NULL) says which. Returns the frame length, or
 * the encoder's error (out too small). */
int smpdfu_uplink_answer(const smpdfu_uplink_frame_t *f, const smpdfu_uplink_info_t *info,
                         smpdfu_read_fn read, void *read_ctx, uint8_t *out, size_t cap,
                         smpdfu_uplink_answer_t *a);

/* ------------------------------------------------------------ client */

typedef enum {
    SMPDFU_UPLINK_EV_INFO,     /* the host answered INFO (value = size) */
    SMPDFU_UPLINK_EV_RETRY,    /* a request went unanswered and was sent again (value = tries so far) */
    SMPDFU_UPLINK_EV_BACK,     /* an answer came after one or more retries (value = offset asked) */
    SMPDFU_UPLINK_EV_REFETCH,  /* the stream asked for bytes below what it had (value = offset) */
    SMPDFU_UPLINK_EV_FAILED,   /* retries used up or the host answered ERR (value = the smpdfu error, negated) */
} smpdfu_uplink_ev_t;

typedef struct {
    int (*send)(void *ctx, const uint8_t *data, size_t len); /* errors count as a lost frame */
    void *send_ctx;
    uint8_t *rx_buf;          /* decoder buffer: >= SMPDFU_UPLINK_FRAME_LEN(4 + block) */
    size_t rx_cap;
    uint8_t *tx_buf;          /* >= 16 bytes (requests are short) */
    size_t tx_cap;
    uint16_t block;           /* bytes asked per READ, <= SMPDFU_UPLINK_MAX_BLOCK;
                                 0 = SMPDFU_DEFAULT_UPLINK_BLOCK (512) */
    uint32_t timeout_ms;      /* per try; 0 = SMPDFU_DEFAULT_UPLINK_TIMEOUT_MS (500) */
    int retries;              /* resends per request before failing; < 0 = for ever */
    void (*event)(void *arg, smpdfu_uplink_ev_t ev, uint32_t value); /* optional */
    void *arg;
} smpdfu_uplink_cfg_t;

/* Client state; caller-owned, fields private. */
typedef struct {
    smpdfu_uplink_cfg_t cfg;
    smpdfu_uplink_dec_t dec;
    smpdfu_stream_t *stream;
    uint64_t now;
    uint64_t deadline;        /* of the request in flight */
    uint32_t top;             /* end of the highest block asked for */
    uint32_t req_off;         /* READ in flight: offset, length */
    uint16_t req_len;
    uint8_t req_type;         /* 0: nothing in flight */
    uint8_t seq;
    size_t tx_len;            /* the frame in flight, kept in tx_buf for resends */
    uint32_t tries;
    bool want_info;
    bool have_info;
    smpdfu_uplink_info_t info;
    int err;
    uint32_t retries_total;   /* resends over the whole transfer */
    uint32_t frames_dropped;  /* answers that matched nothing */
} smpdfu_uplink_t;

/* Returns 0 or SMPDFU_EINVAL. Nothing is sent until a tick. */
int smpdfu_uplink_init(smpdfu_uplink_t *u, const smpdfu_uplink_cfg_t *cfg);

/* Ask the host for the image size (and file SHA-256): sent on the next
 * tick; smpdfu_uplink_info() answers once it came. */
void smpdfu_uplink_request_info(smpdfu_uplink_t *u);

/* The INFO answer, or NULL while none came. */
const smpdfu_uplink_info_t *smpdfu_uplink_info(const smpdfu_uplink_t *u);

/* Feed the stream from now on: every READ asks what smpdfu_stream_want()
 * says, every DATA is pushed, a failure is passed on (smpdfu_stream_fail).
 * NULL detaches. */
void smpdfu_uplink_attach(smpdfu_uplink_t *u, smpdfu_stream_t *s);

/* Bytes from the host, any chunking. Returns the number of image bytes
 * pushed into the stream (> 0: kick the upload), 0, or the error that
 * ended the uplink (also latched). Answers may trigger the next request
 * (sent with the time of the last tick). */
int smpdfu_uplink_feed(smpdfu_uplink_t *u, const uint8_t *data, size_t len);

/* The clock (ms, monotonic). Sends what is due: a first request, or a
 * resend after a timeout. Returns 0 or the latched error. */
int smpdfu_uplink_tick(smpdfu_uplink_t *u, uint64_t now_ms);

/* Milliseconds until the next tick matters (UINT32_MAX: nothing pending;
 * 0: call tick now, e.g. the stream wants more and nothing is in flight). */
uint32_t smpdfu_uplink_next_timeout(const smpdfu_uplink_t *u);

/* 0 while fine, or the error that ended the uplink (SMPDFU_ETIMEOUT after
 * the retries, SMPDFU_ERANGE / SMPDFU_EFILE / SMPDFU_EPROTO from an ERR). */
int smpdfu_uplink_status(const smpdfu_uplink_t *u);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_UPLINK_H */
