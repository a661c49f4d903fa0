/* Receive line buffers of a UART SMP transport (Zephyr's uart_mcumgr pool). */
#include "smpdfu/rxlines.h"

#include <string.h>

int smpdfu_rxlines_init(smpdfu_rxlines_t *r, uint8_t *mem, size_t count, size_t size)
{
    if (r == NULL || mem == NULL || count == 0 || count > SMPDFU_RXLINES_MAX || size == 0) {
        return SMPDFU_EINVAL;
    }
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->count = count;
    r->size = size;
    r->cur = -1;
    return 0;
}

void smpdfu_rxlines_reset(smpdfu_rxlines_t *r)
{
    memset(r->used, 0, sizeof(r->used));
    memset(r->len, 0, sizeof(r->len));
    r->qhead = 0;
    r->qlen = 0;
    r->cur = -1;
    r->ignoring = false;
}

static int take_free(smpdfu_rxlines_t *r)
{
    for (size_t i = 0; i < r->count; i++) {
        if (!r->used[i]) {
            r->used[i] = true;
            r->len[i] = 0;
            return (int)i;
        }
    }
    return -1;
}

smpdfu_rxlines_event_t smpdfu_rxlines_rx(smpdfu_rxlines_t *r, uint8_t byte)
{
    smpdfu_rxlines_event_t ev = SMPDFU_RXLINES_NONE;

    /* Same order as the driver: a buffer is taken at a line's first byte, the
     * size check comes before the store, and \n ends an ignored line. */
    if (!r->ignoring && r->cur < 0) {
        r->cur = take_free(r);
        if (r->cur < 0) {
            r->ignoring = true;
            r->stats.no_buffer++;
            ev = SMPDFU_RXLINES_NO_BUFFER;
        }
    }
    if (!r->ignoring) {
        size_t b = (size_t)r->cur;
        if (r->len[b] >= r->size) {
            r->used[b] = false;
            r->cur = -1;
            r->ignoring = true;
            r->stats.too_long++;
            ev = SMPDFU_RXLINES_TOO_LONG;
        } else {
            r->mem[b * r->size + r->len[b]++] = byte;
        }
    }
    if (byte == '\n') {
        if (r->ignoring) {
            r->ignoring = false;
        } else {
            r->queue[(r->qhead + r->qlen) % SMPDFU_RXLINES_MAX] = (uint8_t)r->cur;
            r->qlen++;
            r->cur = -1;
            r->stats.lines++;
            ev = SMPDFU_RXLINES_LINE;
        }
    }
    return ev;
}

size_t smpdfu_rxlines_peek(const smpdfu_rxlines_t *r, const uint8_t **line)
{
    if (r->qlen == 0) {
        return 0;
    }
    size_t b = r->queue[r->qhead];
    if (line != NULL) {
        *line = r->mem + b * r->size;
    }
    return r->len[b];
}

void smpdfu_rxlines_release(smpdfu_rxlines_t *r)
{
    if (r->qlen == 0) {
        return;
    }
    r->used[r->queue[r->qhead]] = false;
    r->qhead = (r->qhead + 1) % SMPDFU_RXLINES_MAX;
    r->qlen--;
}

size_t smpdfu_rxlines_held(const smpdfu_rxlines_t *r)
{
    return r->qlen + (r->cur >= 0 ? 1u : 0u);
}
