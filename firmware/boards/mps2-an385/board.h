/* QEMU mps2-an385: Cortex-M3. CMSDK UARTs 0, 1, 2 at 0x40004000,
 * 0x40005000, 0x40006000; RX interrupts 0, 2, 4 (TX one more). Clocks
 * 25 MHz. */
#ifndef BOARD_H
#define BOARD_H
#define BOARD_NAME "mps2-an385"
#define BOARD_CPU "cortex-m3"
#define BOARD_CORE_HZ 25000000u
#define BOARD_PCLK_HZ 25000000u
#define BOARD_UART_BASE(i) (0x40004000u + 0x1000u * (unsigned)(i))
#define BOARD_UART_RX_IRQ(i) (2u * (unsigned)(i))
#define BOARD_UART_TX_IRQ(i) (2u * (unsigned)(i) + 1u)
#define BOARD_UARTS 3
/* CMSDK APB timer 0. */
#define BOARD_TIMER_BASE 0x40000000u
#endif
