/* ARM semihosting: BKPT 0xAB with the operation in r0 and its argument
 * block in r1 (Arm's "Semihosting for AArch32 and AArch64"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "smpdfu/cortex_m.h"
#include "smpdfu/error.h"

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0A,
    SYS_FLEN = 0x0C,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
};

#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

int smpdfu_sh_call(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void smpdfu_sh_puts(const char *s)
{
    smpdfu_sh_call(SYS_WRITE0, (void *)(uintptr_t)s);
}

void smpdfu_sh_printf(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n > sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    smpdfu_sh_puts(line);
}

int smpdfu_sh_open(const char *path, int mode)
{
    uint32_t a[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
    return smpdfu_sh_call(SYS_OPEN, a);
}

int smpdfu_sh_close(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return smpdfu_sh_call(SYS_CLOSE, a);
}

/* SYS_READ / SYS_WRITE answer the number of bytes NOT transferred. */
int smpdfu_sh_read(int fd, void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return smpdfu_sh_call(SYS_READ, a) == 0 ? 0 : SMPDFU_EFILE;
}

int smpdfu_sh_write(int fd, const void *buf, size_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return smpdfu_sh_call(SYS_WRITE, a) == 0 ? 0 : SMPDFU_EFILE;
}

int smpdfu_sh_seek(int fd, uint32_t pos)
{
    uint32_t a[2] = {(uint32_t)fd, pos};
    return smpdfu_sh_call(SYS_SEEK, a) == 0 ? 0 : SMPDFU_EFILE;
}

long smpdfu_sh_flen(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return smpdfu_sh_call(SYS_FLEN, a);
}

int smpdfu_sh_cmdline(char *buf, size_t cap)
{
    uint32_t a[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};
    if (cap == 0 || smpdfu_sh_call(SYS_GET_CMDLINE, a) != 0) {
        return SMPDFU_EFILE;
    }
    buf[cap - 1] = 0;
    return 0;
}

void smpdfu_sh_exit(int status)
{
    uint32_t a[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    smpdfu_sh_call(SYS_EXIT_EXTENDED, a);
    /* A debugger without SYS_EXIT_EXTENDED: the plain exit (0 or 1). */
    smpdfu_sh_call(SYS_EXIT, (void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20024u));
    for (;;) {
        smpdfu_cm_sleep();
    }
}
