/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — image upload over the client engine (protocol.md §4.3).
 *
 * The image comes from a source (read at an offset + size), so a file, a
 * flash area, or a network stream with a buffer can feed it. Reads go back
 * at most one window of chunks, except after the device lost its session
 * (then from the offset the device names, possibly 0).
 *
 * What the upload does:
 *  - reads the device's MCUmgr params (unless told they are known) and
 *    fills every chunk to EXACTLY the largest packet the device and link
 *    accept (smpdfu_client_max_packet): the CBOR overhead is computed per
 *    chunk, since the width of `off` grows with the offset;
 *  - first chunk: off 0, len, sha (SHA-256 of the whole file), image,
 *    upgrade; the device may take long (it may erase the slot);
 *  - always continues from the offset the device returns;
 *  - several chunks in flight (window) with Zephyr's in-order semantics:
 *    a chunk at an unexpected offset is answered with the expected offset,
 *    so an answer below the chunk's end means "go back to that offset"; an
 *    answer beyond a chunk acknowledges every chunk below it (a lost
 *    response costs nothing). The window follows the link (AIMD, as TCP):
 *    halved on a go-back or lost chunk (once per loss episode), one more
 *    after each window's worth of chunks acknowledged cleanly, between 1
 *    and buf_count (or cfg.window). Chunks are resent at the engine's
 *    round-trip estimate, doubling per copy (smpdfu_client_rto);
 *  - a chunk whose retries run out does not end the upload: a probe (an
 *    empty chunk at the last offset the device confirmed; Zephyr answers it
 *    with rc 0 and the offset it expects, writing nothing) asks where the
 *    device is, and the upload goes on from there. The upload fails only
 *    when the device has been silent for cfg.silence_ms (the first chunk:
 *    at least first_timeout_ms, the erase allowance), with SMPDFU_ESILENT;
 *  - the first chunk is sent again after 8 round trips (250 ms at least),
 *    twice that from the third copy, at most the normal timeout, while the erase allowance
 *    bounds the silence (a device still erasing answers each copy, same
 *    sha, with the offset it holds: nothing is written twice);
 *  - frame size follows the link: when chunks of one size keep getting lost
 *    (half of the last 8; a chunk whose every copy was lost counts once per
 *    copy) the packet size halves, by whole console lines on serial, down
 *    to one line (128 bytes elsewhere); after 16 clean answers in a row it
 *    doubles again, up to the device's limit. On a serial link, long frames
 *    lost nearly always while shorter ones then pass cleanly, seen twice,
 *    switch line pacing on (the device drops lines while its few line
 *    buffers are held: Zephyr's UART transport; the gap doubles if it
 *    happens again, and pacing goes off for good when three gaps did not
 *    help); cfg.packet_size and cfg.pace_us override the detection;
 *  - off 0 mid-transfer (the device lost its session: reboot, other client)
 *    -> re-sends the first chunk with the same sha, so a device that kept
 *    the session (smpdfu's target) resumes, and Zephyr restarts;
 *  - off 0 after the final chunk went out -> "probably complete": verify
 *    with a state read (expect_hash), never a restart from zero;
 *  - `match` in the final answer counts only when a full 32-byte `sha` was
 *    sent: without one, Zephyr (CONFIG_IMG_ENABLE_IMAGE_CHECK) compares the
 *    image with a zero-filled sha and always says false.
 */
#ifndef SMPDFU_UPLOAD_H
#define SMPDFU_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/client.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_UPLOAD_MAX_WINDOW 8
/* Earlier names of two defaults in defaults.h (the same values): the first
 * chunk's allowance (cfg.first_timeout_ms 0) and the silence after which an
 * upload gives up (cfg.silence_ms 0). */
#define SMPDFU_UPLOAD_FIRST_TIMEOUT_MS SMPDFU_DEFAULT_ERASE_TIMEOUT_MS
#define SMPDFU_UPLOAD_SILENCE_MS SMPDFU_DEFAULT_SILENCE_MS
/* cfg.pace_us: never pace lines (0 = detect). */
#define SMPDFU_UPLOAD_PACE_OFF UINT32_MAX
/* The first gap detection sets; it doubles if lines are still lost. */
#define SMPDFU_UPLOAD_PACE_START_US 1000u

/* What the device said last (smpdfu_upload_result_t.heard_what). */
typedef enum {
    SMPDFU_UPLOAD_HEARD_NOTHING = 0,
    SMPDFU_UPLOAD_HEARD_PARAMS,  /* its MCUmgr params */
    SMPDFU_UPLOAD_HEARD_FIRST,   /* the answer to the first chunk */
    SMPDFU_UPLOAD_HEARD_CHUNK,   /* the answer to a chunk */
    SMPDFU_UPLOAD_HEARD_PROBE,   /* the answer to an offset probe */
    SMPDFU_UPLOAD_HEARD_STATE,   /* its image list (verification) */
    SMPDFU_UPLOAD_HEARD_OTHER,   /* a late answer to a request no longer waited for */
} smpdfu_upload_heard_t;

/* A decision the upload took (cfg.note), for -v style reporting. */
typedef enum {
    SMPDFU_UPLOAD_NOTE_PROBE,       /* a chunk's retries ran out: asking the device's offset */
    SMPDFU_UPLOAD_NOTE_FIRST_AGAIN, /* the first chunk goes again (lost, or the device erases) */
    SMPDFU_UPLOAD_NOTE_SHRINK,      /* value: the new packet size */
    SMPDFU_UPLOAD_NOTE_GROW,        /* value: the new packet size */
    SMPDFU_UPLOAD_NOTE_PACE,        /* value: the line pacing gap in microseconds */
} smpdfu_upload_note_kind_t;

typedef struct {
    smpdfu_upload_note_kind_t kind;
    const char *text;  /* one sentence, static */
    uint32_t value;
    uint32_t off;      /* the device's offset at the time */
} smpdfu_upload_note_t;

/* Where the image bytes come from. A streamed source (stream.h) may answer
 * a read with SMPDFU_EAGAIN: the upload then waits, with nothing lost, until
 * smpdfu_upload_kick() (or smpdfu_dfu_kick()) after the bytes came. */
typedef struct {
    smpdfu_read_fn read; /* read(ctx, off, buf, len): 0, SMPDFU_EAGAIN or a negative error */
    void *ctx;
    uint32_t size;       /* total bytes (the upload's `len`) */
} smpdfu_source_t;

typedef struct {
    int status;            /* 0 or the error that ended the upload */
    smpdfu_dev_err_t dev;  /* status == SMPDFU_EDEVICE: what the device said */
    uint32_t size;
    uint32_t off;          /* device offset when it ended */
    bool verified;         /* device said match:true, or a state read showed expect_hash */
    bool verify_needed;    /* final chunk answered with off 0 and no expect_hash given */
    bool resumed;          /* the device continued an earlier session ... */
    uint32_t resume_off;   /* ... from this offset */
    uint32_t restarts;     /* the device lost the session and started at 0 again */
    uint32_t session_losses; /* off 0 answers mid-transfer */
    uint32_t chunks;       /* chunk requests sent (retransmissions not counted) */
    uint32_t go_backs;     /* pipeline breaks */
    uint8_t window;        /* chunks in flight at the end */
    uint8_t window_max;    /* the most the window could be */
    uint8_t window_min;    /* the least it was (after go-backs) */
    size_t max_packet;     /* SMP packet size for chunks at the end */
    uint32_t retransmits;  /* frames the engine sent again during the upload */
    uint32_t probes;       /* offset probes (a chunk's retries ran out) */
    uint32_t first_again;  /* first chunk sent again after silence */
    uint32_t shrinks, grows; /* packet size changes */
    uint32_t pace_us;      /* line pacing at the end (0 = none) */
    uint32_t rto_ms;       /* chunk retransmission timeout at the end */
    /* status == SMPDFU_ESILENT: how long the device had been silent, and
     * what it said last (heard false: nothing during this upload). */
    uint32_t silent_ms;
    bool heard;
    uint8_t heard_what;    /* smpdfu_upload_heard_t */
    uint32_t heard_ms;     /* when: ms after the upload started */
    uint32_t heard_off;    /* the offset that answer named */
} smpdfu_upload_result_t;

typedef struct {
    smpdfu_source_t src;
    /* `sha`: SHA-256 of the whole file. NULL: computed through `hash` at
     * start (reads the whole source once), or omitted when hash is NULL too. */
    const uint8_t *sha;
    size_t sha_len;              /* <= 32 */
    const smpdfu_hash_t *hash;
    const uint8_t *expect_hash;  /* 32-byte image hash TLV for verification, or NULL */
    uint32_t image;              /* `image` field (sent when non-zero) */
    bool upgrade;                /* `upgrade: true` (refuse non-newer versions) */
    uint8_t window;              /* max chunks in flight; 0 = device buf_count */
    bool skip_params;            /* engine already has the device params */
    uint32_t timeout_ms;         /* per chunk; 0 = engine default */
    uint32_t first_timeout_ms;   /* how long the first chunk may take (erase); 0 =
                                    SMPDFU_DEFAULT_ERASE_TIMEOUT_MS. It is retransmitted
                                    every timeout_ms meanwhile. */
    int retries;                 /* per chunk before a probe; < 0 = engine default */
    uint32_t silence_ms;         /* give up after this long without an answer;
                                    0 = SMPDFU_DEFAULT_SILENCE_MS */
    size_t packet_size;          /* fixed packet size (no adaptation); 0 = follow the link */
    uint32_t pace_us;            /* fixed line pacing gap; 0 = detect;
                                    SMPDFU_UPLOAD_PACE_OFF = never */
    void (*note)(void *arg, const smpdfu_upload_note_t *n); /* optional */
    void (*progress)(void *arg, uint32_t off, uint32_t size);
    void (*done)(void *arg, const smpdfu_upload_result_t *res);
    void *arg;
    /* File upload (fs group 8, client_fs.h) instead of an image: the device
     * path (<= SMPDFU_FS_PATH_MAX bytes, must outlive the upload). Every
     * chunk carries "name"; the first carries "len" (no sha, image,
     * upgrade; any size, 0 too). The device's error 11 (offset not valid)
     * with its expected offset ("len") is a go-back to that offset. */
    const char *fs_name;
    /* fs only: resume at this offset (the device's file already holds the
     * bytes below it: the caller checked them, e.g. with an fs hash). The
     * first chunk goes there without "len"; Zephyr then continues the file
     * at its size and keeps it open until an fs close (send one after). */
    uint32_t fs_start;
} smpdfu_upload_cfg_t;

typedef struct {
    smpdfu_req_t *req;
    uint32_t off;
    uint32_t len;
    size_t pkt;        /* its packet size */
} smpdfu_upload_chunk_t;

/* Upload state; caller-owned, fields private. */
typedef struct {
    smpdfu_client_t *c;
    smpdfu_upload_cfg_t cfg;
    uint8_t sha[32];
    size_t sha_len;
    uint8_t state;
    uint8_t window;
    uint8_t probes;
    bool final_sent;
    bool seen_first;
    uint32_t dev_off;
    uint32_t next_off;
    uint32_t reported;
    uint8_t wmax;        /* window ceiling: buf_count or cfg.window */
    uint8_t clean_w;     /* clean answers toward the next window increase */
    uint32_t recover_off;/* losses below this belong to the last halving's episode */
    bool probing;        /* aux is an offset probe */
    /* packet size */
    size_t pkt, pkt_max, pkt_min, pkt_first_min, one_line;
    bool adapt_size;
    uint8_t hist;        /* last outcomes at this size, 1 = lost */
    uint8_t nhist;
    uint16_t run;        /* clean answers in a row at this size */
    uint16_t grow_after; /* clean run that doubles the size */
    uint8_t since_grow;  /* outcomes since the last growth (0xff: long ago) */
    bool ml_lossy;       /* multi-line frames were lost nearly always */
    uint8_t pace_tries;  /* times detection set or doubled it */
    uint8_t first_misses; /* first chunk copies unanswered in a row */
    uint8_t ml_seen;     /* long frames failed where short ones passed, since */
    /* liveness */
    uint64_t t0;
    uint64_t heard_at;
    uint32_t tmo;        /* per-request timeout limit */
    uint32_t retx0;      /* engine retransmissions at start */
    smpdfu_timer_t give_up;
    smpdfu_upload_chunk_t live[SMPDFU_UPLOAD_MAX_WINDOW];
    smpdfu_req_t *aux;   /* params, state read or probe in flight */
    smpdfu_upload_result_t res;
    bool starved;        /* a read said SMPDFU_EAGAIN: waiting for a kick */
    uint32_t first_off;  /* where the first chunk goes (fs_start; else 0) */
    size_t name_len;     /* fs: strlen(fs_name) */
} smpdfu_upload_t;

/* Start uploading. Returns 0 (done() will be called exactly once, from a
 * later feed/tick), or an error with no callback: SMPDFU_EINVAL (bad
 * config, image shorter than 32 bytes), SMPDFU_EBUSY (no free request
 * slot), a source/hash error, or the engine's send error. */
int smpdfu_upload_start(smpdfu_upload_t *u, smpdfu_client_t *c, const smpdfu_upload_cfg_t *cfg);

/* The source has new bytes (or failed): send what waited on SMPDFU_EAGAIN.
 * Cheap and harmless when nothing waits; call it after every push into a
 * streamed source. done() may be called from inside. */
void smpdfu_upload_kick(smpdfu_upload_t *u);

/* Stop: cancel chunks in flight; done() is not called. */
void smpdfu_upload_abort(smpdfu_upload_t *u);

/* True while the upload runs. */
bool smpdfu_upload_busy(const smpdfu_upload_t *u);

/* Bytes of data a chunk at `off` carries in a packet of max_packet bytes
 * (first: the off-0 chunk with len/sha/image/upgrade). Exposed for tests. */
size_t smpdfu_upload_chunk_len(size_t max_packet, uint32_t off, bool first, uint32_t size,
                               size_t sha_len, uint32_t image, bool upgrade);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_UPLOAD_H */
