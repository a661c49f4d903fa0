/* QEMU mps2-an505: Cortex-M33 (the nRF5340's core) on an IoT Kit subsystem.
 * The firmware runs in secure state, so peripherals are reached through
 * their secure aliases (0x5xxxxxxx). CMSDK UART i sits at 0x40200000 +
 * i * 0x1000 (secure alias 0x50200000 + ...), its RX interrupt is external
 * interrupt 32 + 2i (the subsystem's own interrupts take 0..31), TX 33 + 2i.
 * The main clock (core, SysTick, APB, timers) is 20 MHz. */
#ifndef BOARD_H
#define BOARD_H
#define BOARD_NAME "mps2-an505"
#define BOARD_CPU "cortex-m33"
#define BOARD_CORE_HZ 20000000u
#define BOARD_PCLK_HZ 20000000u
#define BOARD_UART_BASE(i) (0x50200000u + 0x1000u * (unsigned)(i))
#define BOARD_UART_RX_IRQ(i) (32u + 2u * (unsigned)(i))
#define BOARD_UART_TX_IRQ(i) (33u + 2u * (unsigned)(i))
#define BOARD_UARTS 3
/* CMSDK APB timer 0 of the subsystem (0x40000000, secure alias 0x50000000). */
#define BOARD_TIMER_BASE 0x50000000u
#endif
