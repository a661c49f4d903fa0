/* What both firmware apps share: the options from the semihosting command
 * line and the board's UARTs. Apps are firmware/apps/<name>.c. */
#ifndef FW_H
#define FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "smpdfu/cortex_m.h"
#include "smpdfu/link.h"

/* Read the command line (QEMU: -semihosting-config arg=NAME,arg=key=value,...)
 * once; tokens are "key=value" or "flag". */
void fw_args_load(void);
/* Value of key=..., or def when absent. */
const char *fw_arg(const char *key, const char *def);
/* Numeric value (decimal, or 0x...), def when absent; a bad number ends
 * the program with status 2 and a sentence. */
uint32_t fw_arg_u32(const char *key, uint32_t def);
/* Every token must be one of the NULL-terminated keys: otherwise report and
 * exit 2 (a typo must not run a different update). */
void fw_args_check(const char *const *keys);

/* link=console|raw -> the link of UART0; exits 2 on anything else. */
smpdfu_link_t fw_link_from_args(void);

/* Report a line on the semihosting console and exit with status. */
void fw_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Sleep until an interrupt unless uart has bytes waiting (no lost wake-up:
 * WFI wakes on an interrupt that became pending after the check). */
void fw_idle(const smpdfu_cm_uart_t *const *uarts, size_t n);

/* RAM use: paint the stack below the current one at start-up, then report
 * the static RAM (.data + .bss) and the deepest stack seen on the
 * semihosting console ("ram: ..."). */
void fw_stack_paint(void);
void fw_report_ram(void);

#endif
