/* Shared firmware glue: command-line options and idling. */
#include "fw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smpdfu/serial.h"

#define MAX_TOKENS 24

static char cmdline[512];
static const char *tokens[MAX_TOKENS];
static size_t ntokens;

void fw_args_load(void)
{
    ntokens = 0;
    if (smpdfu_sh_cmdline(cmdline, sizeof(cmdline)) != 0) {
        return;
    }
    char *p = cmdline;
    bool first = true;
    while (*p) {
        while (*p == ' ') {
            *p++ = 0;
        }
        if (!*p) {
            break;
        }
        if (!first && ntokens < MAX_TOKENS) {
            tokens[ntokens++] = p;
        }
        first = false; /* the first word is the program name */
        while (*p && *p != ' ') {
            p++;
        }
    }
}

static const char *lookup(const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < ntokens; i++) {
        if (strncmp(tokens[i], key, kl) == 0) {
            if (tokens[i][kl] == '=') {
                return tokens[i] + kl + 1;
            }
            if (tokens[i][kl] == 0) {
                return "";
            }
        }
    }
    return NULL;
}

const char *fw_arg(const char *key, const char *def)
{
    const char *v = lookup(key);
    return v ? v : def;
}

uint32_t fw_arg_u32(const char *key, uint32_t def)
{
    const char *v = lookup(key);
    char *end;
    if (!v) {
        return def;
    }
    unsigned long n = strtoul(v, &end, 0);
    if (!*v || *end) {
        fw_fail(2, "option %s wants a number, not '%s'", key, v);
    }
    return (uint32_t)n;
}

void fw_args_check(const char *const *keys)
{
    for (size_t i = 0; i < ntokens; i++) {
        bool ok = false;
        for (size_t k = 0; keys[k] && !ok; k++) {
            size_t kl = strlen(keys[k]);
            ok = strncmp(tokens[i], keys[k], kl) == 0 && (tokens[i][kl] == '=' || !tokens[i][kl]);
        }
        if (!ok) {
            fw_fail(2, "unknown option '%s'", tokens[i]);
        }
    }
}

smpdfu_link_t fw_link_from_args(void)
{
    smpdfu_link_t l;
    const char *v = fw_arg("link", "console");
    memset(&l, 0, sizeof(l));
    if (strcmp(v, "console") == 0) {
        l.kind = SMPDFU_LINK_SERIAL;
        l.line_max = SMPDFU_SERIAL_LINE_MAX;
    } else if (strcmp(v, "raw") == 0) {
        l.kind = SMPDFU_LINK_RAW_UART;
    } else {
        fw_fail(2, "link=%s: console or raw", v);
    }
    return l;
}

void fw_fail(int status, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    smpdfu_sh_printf("%s", line);
    smpdfu_sh_exit(status);
}

void fw_idle(const smpdfu_cm_uart_t *const *uarts, size_t n)
{
    smpdfu_cm_irq_disable_all();
    bool busy = false;
    for (size_t i = 0; i < n; i++) {
        busy = busy || smpdfu_cm_uart_pending(uarts[i]) > 0;
    }
    if (!busy) {
        smpdfu_cm_sleep(); /* SysTick wakes it every millisecond at the latest */
    }
    smpdfu_cm_irq_enable_all();
}

/* Linker script symbols. */
extern uint32_t __data_start, __bss_end, __stack_top;

#define PAINT 0x5AA5F00Du
#define STACK_WATCH (32u * 1024u) /* bytes below the top that are watched */

static uint32_t *stack_low(void)
{
    return (uint32_t *)((uintptr_t)&__stack_top - STACK_WATCH);
}

void fw_stack_paint(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = stack_low(); p < sp - 32; p++) {
        *p = PAINT;
    }
}

void fw_report_ram(void)
{
    uint32_t *p = stack_low();
    while (p < &__stack_top && *p == PAINT) {
        p++;
    }
    smpdfu_sh_printf("ram: static %lu bytes (.data + .bss), stack peak %lu bytes",
                     (unsigned long)((uintptr_t)&__bss_end - (uintptr_t)&__data_start),
                     (unsigned long)((uintptr_t)&__stack_top - (uintptr_t)p));
}
