/*
 * smpdfu — a streamed image source: upload an MCUboot image that is never
 * whole in RAM (a gateway relaying a download, an HTTP Range stream, stdin).
 *
 * The stream holds a window of the image (a ring buffer the caller owns, a
 * few KiB) and is itself an upload source: smpdfu_stream_source() gives the
 * smpdfu_source_t the upload or the DFU reads through. Bytes come in from a
 * feeder (the uplink client, an HTTP transfer, a file descriptor) in order:
 *
 *   feeder:  smpdfu_stream_want(&off, &len)  -> fetch -> smpdfu_stream_push()
 *   upload:  read(off, len)  -> the bytes, or SMPDFU_EAGAIN (not there yet)
 *
 * What the stream checks while the image passes:
 *  - the 32-byte MCUboot header as soon as it arrives (magic, sizes that fit
 *    the announced size), and each TLV info header as it arrives;
 *  - the image hash, computed through the hash hook over [0, hashed_len) the
 *    first time each byte passes, in order (re-reads never touch it);
 *  - when the last byte has arrived: the TLV area (parsed from the window in
 *    FILE mode, so trailing bytes or a padded image are refused), the
 *    SHA-256 hash TLV against the computed digest, and the signature when a
 *    key is given (smpdfu_image_verify_sig_digest).
 * The read that would hand out the image's last byte waits (SMPDFU_EAGAIN)
 * until all of that passed, and fails with the reason when it did not: a
 * device never receives the final chunk of a bad image, so it never holds a
 * complete bad image.
 *
 * Go-backs and resumes: a read below the window asks the feeder again,
 * from the start of the CRC block that holds the offset. Re-read bytes are
 * checked block by block against a CRC-32 taken the first time (the table
 * the caller gives, 4 bytes per block) and handed out only once their block
 * matches; different bytes fail the stream with SMPDFU_ECHANGED. A read
 * ahead of the stream (the device resumes an earlier session at a higher
 * offset) is served once the feeder has streamed up to it: every byte below
 * still passes through the hash.
 *
 * Memory: the struct (see SMPDFU_STREAM sizes in docs/uplink.md), the window,
 * the CRC table and a scratch buffer for the signature check. For a 256 KiB
 * image: window 8 KiB, 64 CRC entries (256 B, 4 KiB blocks).
 *
 * Portable C99: no malloc, no I/O, no global state. One stream per image.
 */
#ifndef SMPDFU_STREAM_H
#define SMPDFU_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"
#include "smpdfu/hash.h"
#include "smpdfu/image.h"
#include "smpdfu/upload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Smallest CRC block. */
#define SMPDFU_STREAM_MIN_BLOCK 64u

typedef struct smpdfu_stream smpdfu_stream_t;

typedef struct {
    uint32_t size;              /* image size in bytes, known up front (>= 32) */
    uint8_t *window;            /* ring buffer for the window (caller-owned) */
    size_t window_len;          /* >= 2 x the CRC block (see smpdfu_stream_block_len) */
    uint32_t *crc;              /* CRC-32 per block, crc_n entries (caller-owned) */
    size_t crc_n;               /* blocks = size / crc_n rounded up to a power of two */
    const smpdfu_hash_t *hash;  /* required: SHA-256 of the image as it passes */
    /* Optional signature check (NULL: hash only). scratch must hold the
     * signature and the key TLV value; 512 bytes always do. */
    const smpdfu_sig_verify_t *sig;
    uint8_t *scratch;
    size_t scratch_len;
    /* Optional: SHA-256 of the whole file when the feeder knows it (the
     * uplink's INFO answer). The upload then sends it as `sha` so a device
     * resumes an interrupted upload; NULL: no `sha` (see docs/decisions.md). */
    const uint8_t *file_sha;
    /* Optional, for feeders that can block (POSIX): called by read when the
     * bytes are not in the window; it may push synchronously, as much as
     * smpdfu_stream_want() allows, and returns 0 or an error (which fails
     * the stream). NULL: read returns SMPDFU_EAGAIN and the data comes
     * later through smpdfu_stream_push() (event-driven ports). */
    int (*fetch)(void *ctx, smpdfu_stream_t *s);
    void *fetch_ctx;
} smpdfu_stream_cfg_t;

/* Stream state; caller-owned, fields private. */
struct smpdfu_stream {
    smpdfu_stream_cfg_t cfg;
    uint32_t block;        /* CRC block length (power of two) */
    uint32_t lo, hi;       /* the window holds [lo, hi) */
    uint32_t ok_hi;        /* bytes in [lo, ok_hi) may be handed out */
    uint32_t pass;         /* first-pass frontier: every byte below passed once */
    uint32_t need;         /* the upload reads from here next */
    uint32_t run_crc;      /* first pass: CRC of [block start, pass) */
    uint32_t rr_crc;       /* re-read: CRC of the block being re-read so far */
    uint32_t hashed_len;   /* bytes the image hash covers (0 until the header came) */
    uint8_t hdr[SMPDFU_IMAGE_HDR_LEN];
    uint8_t tlvi[4];       /* TLV info header being collected */
    uint32_t tlvi_off;     /* where the next TLV info header starts (0: none expected) */
    uint8_t digest[32];
    uint8_t file_sha[32];
    bool have_file_sha;
    bool hdr_ok;
    bool verified;
    int err;               /* latched failure, 0 while fine */
    smpdfu_image_info_t info; /* valid once verified */
};

/* The CRC block length init would pick: the smallest power of two >=
 * SMPDFU_STREAM_MIN_BLOCK with block x crc_n >= size. */
uint32_t smpdfu_stream_block_len(uint32_t size, size_t crc_n);

/* CRC entries a stream of `size` bytes needs with a window of window_len
 * bytes (blocks of the largest power of two <= window_len / 2): e.g. 64 for
 * 256 KiB in 8 KiB, 128 for 512 KiB. 0 when window_len < 2 x the minimum
 * block. */
size_t smpdfu_stream_crc_entries(uint32_t size, size_t window_len);

/* Set up a stream. Returns 0, or SMPDFU_EINVAL (NULL buffers, size < 32,
 * no hash hook, a signature check without scratch) or SMPDFU_ENOSPC (window
 * shorter than two CRC blocks: give more CRC entries or a larger window).
 * Nothing is fetched yet. */
int smpdfu_stream_init(smpdfu_stream_t *s, const smpdfu_stream_cfg_t *cfg);

/* The upload source over this stream (read = smpdfu_stream_read, ctx = s). */
smpdfu_source_t smpdfu_stream_source(smpdfu_stream_t *s);

/* smpdfu_read_fn over a stream (ctx = the stream). Copies [off, off+len)
 * from the window. Returns 0; SMPDFU_EAGAIN when the bytes are not there yet
 * (the feeder is asked for them; call the upload's kick after the next
 * push); the latched error once the stream failed (an SMPDFU_EIMG_* from
 * the checks, SMPDFU_ECHANGED, the feeder's error); SMPDFU_ENOSPC for a read
 * longer than window_len - block (it could never fit); SMPDFU_EINVAL past
 * the end. The read holding the last byte of the image succeeds only after
 * the image verified. */
int smpdfu_stream_read(void *ctx, uint32_t off, void *buf, size_t len);

/* What the feeder should fetch next: *off (always where the stream expects
 * the next push) and at most *len bytes. False when nothing is wanted now
 * (window full, image complete, or failed). */
bool smpdfu_stream_want(const smpdfu_stream_t *s, uint32_t *off, uint32_t *len);

/* Hand over bytes that start at off. Bytes at an offset other than the one
 * smpdfu_stream_want() gives are ignored (a stale answer after a go-back),
 * and bytes beyond what it allows are not taken. Returns the number of
 * bytes taken (>= 0), or the latched error when a check failed (header,
 * TLVs, hash, signature, re-read mismatch). */
int smpdfu_stream_push(smpdfu_stream_t *s, uint32_t off, const uint8_t *data, size_t len);

/* The feeder gave up (uplink timeout, HTTP error, end of input): reads
 * return err (negative) from now on. The first failure sticks. */
void smpdfu_stream_fail(smpdfu_stream_t *s, int err);

/* 0 while fine, or the latched error. */
int smpdfu_stream_status(const smpdfu_stream_t *s);

/* True once the whole image passed and verified. */
bool smpdfu_stream_verified(const smpdfu_stream_t *s);

/* The parsed image (hash TLV, sizes, signature TLV) once verified, else NULL. */
const smpdfu_image_info_t *smpdfu_stream_info(const smpdfu_stream_t *s);

/* The image hash (32 bytes, what `image list` shows). The pointer is valid
 * at once; the bytes are filled when the image verified, which is before
 * the final chunk can be read: the upload may take it as expect_hash. */
const uint8_t *smpdfu_stream_image_hash(const smpdfu_stream_t *s);

/* The file SHA-256 given in the config (for the upload's `sha`), or NULL. */
const uint8_t *smpdfu_stream_file_sha(const smpdfu_stream_t *s);

/* Bytes that passed at least once (progress of the download). */
uint32_t smpdfu_stream_received(const smpdfu_stream_t *s);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_STREAM_H */
