/* SPDX-License-Identifier: Apache-2.0 */
/* The smallest useful central, for bench/footprint: the DFU orchestrator
 * (test, reset, confirm) on one UART with the console framing, its image in
 * flash, SHA-256 in software. Everything a real port adds is here in its
 * least form (a polled UART, SysTick, a vector table), so the map shows what
 * smpdfu itself costs. It links; nothing runs it. Buffers are sized for
 * Zephyr's default MCUmgr buffer (384 bytes) with two chunks in flight. */
#include "smpdfu/config.h"
#include "smpdfu/cortex_m.h"
#include "smpdfu/dfu.h"

#define SLOTS 3          /* two chunks in flight + one state/params request */
#define SLOT_SIZE 384

/* Packet buffers: the goal counts RAM beyond these (bench/footprint). */
static uint8_t req_mem[SLOTS * SLOT_SIZE];
static uint8_t rx_buf[SLOT_SIZE + 8];
static uint8_t tx_buf[3 * SLOT_SIZE / 2 + 64];

static smpdfu_req_t reqs[SLOTS];
static smpdfu_client_t cl;
static smpdfu_dfu_t dfu;
static smpdfu_cm_sha256_t sha_state;
static smpdfu_hash_t sha;
static volatile uint32_t ticks;
static volatile int outcome = 1;

/* A CMSDK-like UART, polled: the least a port has. */
#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)

extern const uint8_t __image[], __image_end[];
extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;

static int uart_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n--) {
        while (UART_STATE & 1u) {
        }
        UART_DATA = *p++;
    }
    return 0;
}

static int image_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    const uint8_t *src = (const uint8_t *)ctx + off;
    uint8_t *dst = buf;
    while (len--) {
        *dst++ = *src++;
    }
    return 0;
}

static void on_done(void *arg, const smpdfu_dfu_result_t *res)
{
    (void)arg;
    outcome = res->status;
}

int main(void);
int main(void)
{
    smpdfu_client_cfg_t cc = {
        .link = { .kind = SMPDFU_LINK_SERIAL },
        .send = uart_send,
        .reqs = reqs, .nreqs = SLOTS,
        .req_mem = req_mem, .req_mem_len = sizeof(req_mem),
        .rx_buf = rx_buf, .rx_cap = sizeof(rx_buf),
        .tx_buf = tx_buf, .tx_cap = sizeof(tx_buf),
        .retries = -1,
    };
    smpdfu_dfu_cfg_t dc = { .nimages = 1, .done = on_done };
    uint32_t size = (uint32_t)(__image_end - __image);

    SYST_RVR = 64000u - 1u; /* 1 ms at 64 MHz */
    SYST_CSR = 7u;
    smpdfu_cm_sha256_hook(&sha_state, &sha);
    dc.hash = &sha;
    dc.images[0].src = (smpdfu_source_t){ image_read, (void *)(uintptr_t)__image, size };
    if (smpdfu_client_init(&cl, &cc) != 0 || smpdfu_dfu_start(&dfu, &cl, &dc) != 0) {
        return 2;
    }
    while (smpdfu_dfu_busy(&dfu)) {
        if (UART_STATE & 2u) {
            uint8_t b = (uint8_t)UART_DATA;
            smpdfu_client_feed_at(&cl, &b, 1, ticks);
        }
        smpdfu_client_tick(&cl, ticks);
    }
    return outcome == 0 ? 0 : 1;
}

void fp_reset_handler(void);
void fp_reset_handler(void)
{
    uint32_t *s = &__data_load, *d = &__data_start;
    while (d < &__data_end) {
        *d++ = *s++;
    }
    for (d = &__bss_start; d < &__bss_end; d++) {
        *d = 0;
    }
    main();
    for (;;) {
    }
}

static void systick_handler(void)
{
    ticks++;
}

static void hang(void)
{
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, fp_reset_handler, hang, hang, hang, hang, hang, 0,
    0, 0, 0, hang, hang, 0, hang, systick_handler,
};
