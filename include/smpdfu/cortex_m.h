/*
 * smpdfu — the bare-metal Cortex-M port (src/port/cortex-m): no RTOS, no
 * vendor SDK. What it gives an application (firmware/apps/):
 *
 *   - startup: vector table, reset handler (.data copy, .bss zeroing), and
 *     a table of IRQ handlers set at run time (smpdfu_cm_irq_set);
 *   - clock: milliseconds from a free-running CMSDK timer, SysTick waking
 *     the loop every millisecond (smpdfu_cm_now_ms);
 *   - UART: an interrupt-driven driver for the ARM CMSDK APB UART (the one
 *     of the MPS2 boards QEMU emulates): the RX ISR fills a ring buffer, the
 *     TX ISR drains another;
 *   - semihosting: console output, host file I/O, the command line and the
 *     exit status, through the debugger (QEMU's -semihosting);
 *   - a smpdfu_flash_t on a host file through semihosting, in the same
 *     format as smpdfu-target's flash file (the raw bytes), so its contents
 *     survive a reset and the host tools can read it;
 *   - a software SHA-256 behind smpdfu_hash_t;
 *   - reset (SYSRESETREQ) and sleep (WFI).
 *
 * Board facts (addresses, IRQ numbers, clocks) come from the board glue in
 * firmware/boards/<board>/; nothing here knows the board.
 *
 * The port keeps its state in globals (interrupt handlers need them); the
 * portable libraries stay free of them.
 */
#ifndef SMPDFU_CORTEX_M_H
#define SMPDFU_CORTEX_M_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/flash.h"
#include "smpdfu/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- interrupts */

/* External interrupts the vector table has room for. */
#define SMPDFU_CM_MAX_IRQ 64

/* Call fn(ctx) for external interrupt irq (0-based, NVIC numbering) and
 * enable it in the NVIC. SMPDFU_EINVAL for irq out of range. */
int smpdfu_cm_irq_set(unsigned irq, void (*fn)(void *ctx), void *ctx);

void smpdfu_cm_irq_disable_all(void);  /* PRIMASK = 1 */
void smpdfu_cm_irq_enable_all(void);   /* PRIMASK = 0 */

/* Sleep until an interrupt (WFI). Interrupts that fire between a check and
 * this call still wake it (WFI wakes on a pending interrupt). */
void smpdfu_cm_sleep(void);

/* Request a system reset (SCB AIRCR SYSRESETREQ); does not return. */
void smpdfu_cm_reset(void) __attribute__((noreturn));

/* ---------------------------------------------------------------- clock */

/* Start SysTick at 1 kHz from the core clock (Hz): it wakes the main loop.
 * Time comes from the CMSDK APB timer at timer_base (counting at timer_hz)
 * when given, which keeps exact time under emulation; timer_base 0 counts
 * SysTick interrupts instead. */
void smpdfu_cm_clock_init(uint32_t core_hz, uintptr_t timer_base, uint32_t timer_hz);

/* Milliseconds since smpdfu_cm_clock_init(). */
uint64_t smpdfu_cm_now_ms(void);

/* ----------------------------------------------------------------- UART */

#define SMPDFU_CM_UART_RING 4096   /* RX ring bytes, a power of two */
#define SMPDFU_CM_UART_TX_RING 512 /* TX ring bytes, a power of two */

/* One CMSDK APB UART. Caller-owned (static storage: the ISRs use it). */
typedef struct {
    volatile uint32_t *regs;
    uint8_t ring[SMPDFU_CM_UART_RING];
    volatile uint32_t head;       /* written by the RX ISR */
    volatile uint32_t tail;       /* written by the reader */
    volatile bool throttled;      /* ring full: RX interrupt off, the byte waits in the UART */
    uint32_t rx_bytes;
    uint8_t tx_ring[SMPDFU_CM_UART_TX_RING];
    volatile uint32_t tx_head;    /* written by the writer */
    volatile uint32_t tx_tail;    /* written by whoever feeds the UART (TX ISR, or the writer
                                     with interrupts off) */
    volatile bool tx_busy;        /* a byte is on its way: its TX interrupt will come */
} smpdfu_cm_uart_t;

/* Set up the UART at base (pclk_hz / baud gives BAUDDIV; QEMU does not pace
 * the line), enable TX and RX, and route its RX and TX interrupts to the
 * rings. Returns 0 or SMPDFU_EINVAL. */
int smpdfu_cm_uart_init(smpdfu_cm_uart_t *u, uintptr_t base, unsigned rx_irq, unsigned tx_irq,
                        uint32_t pclk_hz, uint32_t baud);

/* Take up to cap received bytes out of the ring; returns how many. */
size_t smpdfu_cm_uart_read(smpdfu_cm_uart_t *u, uint8_t *buf, size_t cap);

/* Bytes waiting in the ring. */
size_t smpdfu_cm_uart_pending(const smpdfu_cm_uart_t *u);

/* Drop everything received so far. */
void smpdfu_cm_uart_flush_rx(smpdfu_cm_uart_t *u);

/* Queue len bytes for sending; returns once they are all in the TX ring
 * (sleeping while it is full). Not from an interrupt handler. */
void smpdfu_cm_uart_write(smpdfu_cm_uart_t *u, const uint8_t *p, size_t len);

/* Wait until every queued byte has left (e.g. before a reset). */
void smpdfu_cm_uart_flush_tx(smpdfu_cm_uart_t *u);

/* ----------------------------------------------------------- semihosting */

/* File modes of SYS_OPEN (ISO C fopen modes in order). */
#define SMPDFU_SH_RB 1
#define SMPDFU_SH_RPB 3   /* "r+b" */
#define SMPDFU_SH_WPB 7   /* "w+b" */

/* Raw semihosting call (op in r0, arg in r1); returns r0. */
int smpdfu_sh_call(int op, void *arg);

void smpdfu_sh_puts(const char *s);    /* SYS_WRITE0: the debugger's console */
/* printf-like into a 256-byte line and out through SYS_WRITE0. */
void smpdfu_sh_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* File I/O on the host. open: a handle >= 0 or -1. read/write: 0 or
 * SMPDFU_EFILE (short transfer). seek: absolute. flen: size or -1. */
int smpdfu_sh_open(const char *path, int mode);
int smpdfu_sh_close(int fd);
int smpdfu_sh_read(int fd, void *buf, size_t len);
int smpdfu_sh_write(int fd, const void *buf, size_t len);
int smpdfu_sh_seek(int fd, uint32_t pos);
long smpdfu_sh_flen(int fd);

/* The command line the debugger passes (QEMU: -semihosting-config
 * arg=...,arg=...: the args joined by spaces) into buf. Returns 0 or
 * SMPDFU_EFILE (none / too long). */
int smpdfu_sh_cmdline(char *buf, size_t cap);

/* Exit the simulation with a status (SYS_EXIT_EXTENDED); does not return. */
void smpdfu_sh_exit(int status) __attribute__((noreturn));

/* ----------------------------------------------------- flash on a host file */

/* A NOR flash kept in a host file through semihosting, the same format as
 * smpdfu_posix_flash_t (the raw bytes, size = flash size): the host tools
 * and smpdfu-target read the same file. Writing a byte that is not erased
 * is refused (SMPDFU_EFLASH_NOT_ERASED) and changes nothing. */
typedef struct {
    smpdfu_flash_t flash;  /* hand &f.flash to whoever needs a flash */
    int fd;
    bool created;          /* the file did not exist (or was empty) and was erased */
} smpdfu_cm_flash_t;

/* Open (or create, erased) the file. SMPDFU_EFILE when it cannot be opened
 * or has another size, SMPDFU_EINVAL for a bad geometry. */
int smpdfu_cm_flash_open(smpdfu_cm_flash_t *f, const char *path, uint32_t size,
                         uint32_t page_size, uint32_t write_align);
void smpdfu_cm_flash_close(smpdfu_cm_flash_t *f);

/* --------------------------------------------------------------- SHA-256 */

/* Software SHA-256 (FIPS 180-4) as a hash hook; SHA-384/512 are
 * SMPDFU_ENOTSUP (MCUboot images for these boards use SHA-256). */
typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    uint32_t fill;
} smpdfu_cm_sha256_t;

/* Fill *hook with a SHA-256 hook over state st (caller-owned). */
void smpdfu_cm_sha256_hook(smpdfu_cm_sha256_t *st, smpdfu_hash_t *hook);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_CORTEX_M_H */
