/* Startup for a Cortex-M (v7-M and v8-M mainline): the vector table, the
 * reset handler, and one dispatcher for every external interrupt, so the
 * board glue sets handlers at run time (smpdfu_cm_irq_set). */
#include <stdint.h>
#include <string.h>

#include "smpdfu/cortex_m.h"
#include "smpdfu/error.h"

/* Linker script symbols (firmware/boards/<board>/link.ld). */
extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end;
extern uint32_t __bss_start, __bss_end;

int main(void);
void smpdfu_cm_reset_handler(void);
void smpdfu_cm_systick_handler(void);
static void fault_handler(void);
static void irq_dispatch(void);

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)

typedef void (*vector_t)(void);

/* 16 system entries, then the external interrupts. */
__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + SMPDFU_CM_MAX_IRQ] = {
    [0] = (vector_t)(uintptr_t)&__stack_top,
    [1] = smpdfu_cm_reset_handler,
    [2] = fault_handler,  /* NMI */
    [3] = fault_handler,  /* HardFault */
    [4] = fault_handler,  /* MemManage */
    [5] = fault_handler,  /* BusFault */
    [6] = fault_handler,  /* UsageFault */
    [7] = fault_handler,  /* SecureFault (v8-M), reserved on v7-M */
    [11] = fault_handler, /* SVCall: nobody calls it */
    [15] = smpdfu_cm_systick_handler,
    [16 ... 16 + SMPDFU_CM_MAX_IRQ - 1] = irq_dispatch,
};

static struct {
    void (*fn)(void *ctx);
    void *ctx;
} irq_table[SMPDFU_CM_MAX_IRQ];

void smpdfu_cm_reset_handler(void)
{
    /* A reset through SYSRESETREQ comes here too: everything starts over. */
    memcpy(&__data_start, &__data_load,
           (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start));
    memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
    SCB_VTOR = (uint32_t)(uintptr_t)vectors;
    SCB_CCR |= 1u << 9; /* STKALIGN: 8-byte stack alignment on exception entry (AAPCS) */
    int rc = main();
    smpdfu_sh_exit(rc);
}

static void irq_dispatch(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    unsigned irq = (unsigned)(ipsr & 0x1ffu) - 16u;
    if (irq < SMPDFU_CM_MAX_IRQ && irq_table[irq].fn) {
        irq_table[irq].fn(irq_table[irq].ctx);
    } else if (irq < SMPDFU_CM_MAX_IRQ) {
        NVIC_ICER[irq / 32] = 1u << (irq % 32); /* nobody wants it: stop it firing */
    }
}

static void fault_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    smpdfu_sh_printf("fault: exception %lu", (unsigned long)(ipsr & 0x1ffu));
    smpdfu_sh_exit(99);
}

int smpdfu_cm_irq_set(unsigned irq, void (*fn)(void *ctx), void *ctx)
{
    if (irq >= SMPDFU_CM_MAX_IRQ) {
        return SMPDFU_EINVAL;
    }
    irq_table[irq].ctx = ctx;
    irq_table[irq].fn = fn;
    NVIC_ISER[irq / 32] = 1u << (irq % 32);
    return 0;
}

void smpdfu_cm_irq_disable_all(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

void smpdfu_cm_irq_enable_all(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}

void smpdfu_cm_sleep(void)
{
    __asm__ volatile("dsb\n\twfi" ::: "memory");
}

void smpdfu_cm_reset(void)
{
    __asm__ volatile("dsb" ::: "memory");
    SCB_AIRCR = (0x05FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    __asm__ volatile("dsb" ::: "memory");
    for (;;) {
        __asm__ volatile("nop");
    }
}
