/* ARM CMSDK APB UART, both directions interrupt driven: the RX interrupt
 * fills a ring the main loop reads; writes go into a TX ring that the TX
 * interrupt ("byte sent, the buffer is free") drains. */
#include "smpdfu/cortex_m.h"
#include "smpdfu/error.h"

/* Registers (word offsets) and bits, from the CMSDK APB UART. */
#define DATA 0
#define STATE 1
#define CTRL 2
#define INTSTATUS 3 /* reads status, write 1 to clear */
#define BAUDDIV 4

#define STATE_TXFULL 0x1u
#define STATE_RXFULL 0x2u
#define CTRL_TXEN 0x1u
#define CTRL_RXEN 0x2u
#define CTRL_TXINT 0x4u
#define CTRL_RXINT 0x8u
#define INT_TX 0x1u
#define INT_RX 0x2u

#define RING_MASK (SMPDFU_CM_UART_RING - 1u)
#define TX_MASK (SMPDFU_CM_UART_TX_RING - 1u)

/* Move ring bytes into the UART while it takes them. Runs in the TX
 * interrupt, or with interrupts off to start a transmission. */
static void tx_fill(smpdfu_cm_uart_t *u)
{
    while (u->tx_tail != u->tx_head && !(u->regs[STATE] & STATE_TXFULL)) {
        u->regs[DATA] = u->tx_ring[u->tx_tail & TX_MASK];
        u->tx_tail++;
        u->tx_busy = true;
    }
}

static void tx_isr(void *ctx)
{
    smpdfu_cm_uart_t *u = ctx;
    /* Clear first: a byte finishing after the fill below raises it again. */
    u->regs[INTSTATUS] = INT_TX;
    if (u->tx_tail == u->tx_head && !(u->regs[STATE] & STATE_TXFULL)) {
        u->tx_busy = false; /* the last byte went out: the next write starts again */
        return;
    }
    tx_fill(u);
}

static void rx_isr(void *ctx)
{
    smpdfu_cm_uart_t *u = ctx;
    /* Clear first: a byte arriving after the drain below raises it again. */
    u->regs[INTSTATUS] = INT_RX;
    while (u->regs[STATE] & STATE_RXFULL) {
        uint32_t h = u->head;
        if (h - u->tail >= SMPDFU_CM_UART_RING) {
            /* Ring full: leave the byte in the UART (the line stalls instead of
             * losing it) until the reader makes room. */
            u->regs[CTRL] &= ~CTRL_RXINT;
            u->throttled = true;
            return;
        }
        u->ring[h & RING_MASK] = (uint8_t)u->regs[DATA];
        u->head = h + 1;
        u->rx_bytes++;
    }
}

int smpdfu_cm_uart_init(smpdfu_cm_uart_t *u, uintptr_t base, unsigned rx_irq, unsigned tx_irq,
                        uint32_t pclk_hz, uint32_t baud)
{
    if (!u || base == 0 || baud == 0) {
        return SMPDFU_EINVAL;
    }
    u->regs = (volatile uint32_t *)base;
    u->head = u->tail = 0;
    u->tx_head = u->tx_tail = 0;
    u->tx_busy = false;
    u->throttled = false;
    u->rx_bytes = 0;
    uint32_t div = pclk_hz / baud;
    u->regs[CTRL] = 0;
    u->regs[BAUDDIV] = div < 16 ? 16 : div; /* the UART refuses a divider below 16 */
    u->regs[INTSTATUS] = 0xf;
    int rc = smpdfu_cm_irq_set(tx_irq, tx_isr, u);
    if (rc == 0) {
        rc = smpdfu_cm_irq_set(rx_irq, rx_isr, u);
    }
    u->regs[CTRL] = CTRL_TXEN | CTRL_RXEN | CTRL_TXINT | CTRL_RXINT;
    return rc;
}

size_t smpdfu_cm_uart_pending(const smpdfu_cm_uart_t *u)
{
    return (size_t)(u->head - u->tail);
}

size_t smpdfu_cm_uart_read(smpdfu_cm_uart_t *u, uint8_t *buf, size_t cap)
{
    uint32_t t = u->tail, h = u->head;
    size_t n = 0;
    while (t != h && n < cap) {
        buf[n++] = u->ring[t & RING_MASK];
        t++;
    }
    u->tail = t;
    if (u->throttled && n > 0) {
        /* Room again: let the ISR take the waiting bytes. */
        smpdfu_cm_irq_disable_all(); /* rx_isr must not run twice at once */
        u->throttled = false;
        u->regs[CTRL] |= CTRL_RXINT;
        if (u->regs[STATE] & STATE_RXFULL) {
            rx_isr(u);
        }
        smpdfu_cm_irq_enable_all();
    }
    return n;
}

void smpdfu_cm_uart_flush_rx(smpdfu_cm_uart_t *u)
{
    uint8_t b[64];
    while (smpdfu_cm_uart_read(u, b, sizeof(b)) > 0) {
    }
}

void smpdfu_cm_uart_write(smpdfu_cm_uart_t *u, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        smpdfu_cm_irq_disable_all();
        while (i < len && u->tx_head - u->tx_tail < SMPDFU_CM_UART_TX_RING) {
            u->tx_ring[u->tx_head & TX_MASK] = p[i++];
            u->tx_head++;
        }
        if (!u->tx_busy) {
            tx_fill(u); /* idle transmitter: start it; the interrupt does the rest */
        }
        if (i < len) {
            smpdfu_cm_sleep(); /* ring full: wait for the TX interrupt to make room */
        }
        smpdfu_cm_irq_enable_all();
    }
}

void smpdfu_cm_uart_flush_tx(smpdfu_cm_uart_t *u)
{
    for (;;) {
        smpdfu_cm_irq_disable_all();
        bool done = !u->tx_busy && u->tx_tail == u->tx_head;
        if (!done) {
            smpdfu_cm_sleep();
        }
        smpdfu_cm_irq_enable_all();
        if (done) {
            return;
        }
    }
}
