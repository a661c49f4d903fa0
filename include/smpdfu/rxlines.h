/*
 * smpdfu — receive line buffers of a UART SMP transport, as Zephyr has them.
 *
 * Zephyr's uart_mcumgr driver (drivers/console/uart_mcumgr.c) receives the
 * console framing line by line into a fixed pool of buffers
 * (CONFIG_UART_MCUMGR_RX_BUF_COUNT, default 2, of CONFIG_UART_MCUMGR_RX_BUF_SIZE,
 * default 128 bytes). Per received byte, in interrupt context:
 *   - the first byte of a line takes a free buffer; with none free the whole
 *     line is ignored up to its \n ("Insufficient buffers, fragment dropped");
 *   - a line longer than a buffer is dropped: the buffer is freed at once and
 *     the rest of the line ignored ("Line too long, fragment dropped");
 *   - the \n is stored with the line and hands the buffer to the SMP side.
 * The SMP side (smp_uart.c) decodes each line into the request's net_buf and
 * then frees its buffer. A line therefore holds a buffer from its first byte
 * until the SMP side has taken it; lines that arrive while the SMP side cannot
 * run (it is busy with a request, flash erase included) pile up, and the
 * first one to find no buffer is lost.
 *
 * This module is that pool: the receive side calls smpdfu_rxlines_rx() per
 * byte, the SMP side takes lines with smpdfu_rxlines_peek() and
 * smpdfu_rxlines_release(). No I/O, no allocation, no global state.
 */
#ifndef SMPDFU_RXLINES_H
#define SMPDFU_RXLINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most buffers a pool may have. */
#define SMPDFU_RXLINES_MAX 32
/* Zephyr's defaults. */
#define SMPDFU_RXLINES_ZEPHYR_COUNT 2
#define SMPDFU_RXLINES_ZEPHYR_SIZE 128

typedef struct {
    uint32_t lines;     /* lines received whole into a buffer */
    uint32_t no_buffer; /* lines dropped: every buffer held when they began */
    uint32_t too_long;  /* lines dropped: longer than a buffer */
} smpdfu_rxlines_stats_t;

/* What one received byte did. */
typedef enum {
    SMPDFU_RXLINES_NONE = 0,      /* stored (or ignored as part of a dropped line) */
    SMPDFU_RXLINES_LINE = 1,      /* it ended a line, now queued for the SMP side */
    SMPDFU_RXLINES_NO_BUFFER = 2, /* it began a line and no buffer was free: line dropped */
    SMPDFU_RXLINES_TOO_LONG = 3,  /* the line outgrew its buffer: line dropped */
} smpdfu_rxlines_event_t;

/* Pool state; all fields private except stats. */
typedef struct {
    uint8_t *mem;                      /* count * size bytes, caller-owned */
    size_t size;
    size_t count;
    size_t len[SMPDFU_RXLINES_MAX];    /* bytes in each buffer */
    bool used[SMPDFU_RXLINES_MAX];
    uint8_t queue[SMPDFU_RXLINES_MAX]; /* completed lines, oldest first (a ring) */
    size_t qhead;
    size_t qlen;
    int cur;                           /* buffer being filled, -1 = none */
    bool ignoring;                     /* rest of the current line is dropped */
    smpdfu_rxlines_stats_t stats;
} smpdfu_rxlines_t;

/* Set up a pool of `count` buffers of `size` bytes in mem (count * size
 * bytes, caller-owned, outlives the pool). Returns 0, or SMPDFU_EINVAL for
 * mem NULL, count 0 or above SMPDFU_RXLINES_MAX, size 0. */
int smpdfu_rxlines_init(smpdfu_rxlines_t *r, uint8_t *mem, size_t count, size_t size);

/* One received byte (the receive interrupt). Returns what it did
 * (smpdfu_rxlines_event_t); drops are counted in stats. */
smpdfu_rxlines_event_t smpdfu_rxlines_rx(smpdfu_rxlines_t *r, uint8_t byte);

/* The oldest completed line, \n included: sets *line and returns its length,
 * or returns 0 when no line is waiting. The line keeps its buffer until
 * smpdfu_rxlines_release(). */
size_t smpdfu_rxlines_peek(const smpdfu_rxlines_t *r, const uint8_t **line);

/* Free the buffer of the oldest completed line (no-op when none waits). */
void smpdfu_rxlines_release(smpdfu_rxlines_t *r);

/* Buffers in use: completed lines waiting plus the one being filled. */
size_t smpdfu_rxlines_held(const smpdfu_rxlines_t *r);

/* Forget every line, complete or not (the device reset). Keeps stats. */
void smpdfu_rxlines_reset(smpdfu_rxlines_t *r);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_RXLINES_H */
