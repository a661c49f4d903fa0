/* Millisecond clock: SysTick interrupts every millisecond (it wakes the
 * main loop), and time is read from a free-running 32-bit CMSDK APB timer
 * when the board has one. Counting SysTick interrupts alone drifts under
 * emulation: QEMU reloads SysTick when its interrupt is delivered, so every
 * late tick delays all later ones (about 8 % slow on a busy host). */
#include "smpdfu/cortex_m.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* CMSDK APB timer registers (word offsets). */
#define TMR_CTRL 0
#define TMR_VALUE 1
#define TMR_RELOAD 2

static volatile uint32_t *timer;
static uint32_t ticks_per_ms;
static volatile uint64_t ticks;    /* timer ticks up to `last` */
static volatile uint32_t last;     /* timer VALUE at the last update (it counts down) */
static volatile uint64_t systicks; /* SysTick interrupts, without a timer */

void smpdfu_cm_systick_handler(void);

static void advance(void)
{
    uint32_t v = timer[TMR_VALUE];
    ticks += (uint32_t)(last - v); /* modulo 2^32: one wrap at most between updates */
    last = v;
}

void smpdfu_cm_systick_handler(void)
{
    if (timer) {
        advance();
    } else {
        systicks++;
    }
}

void smpdfu_cm_clock_init(uint32_t core_hz, uintptr_t timer_base, uint32_t timer_hz)
{
    SYST_CSR = 0;
    if (timer_base) {
        timer = (volatile uint32_t *)timer_base;
        ticks_per_ms = timer_hz / 1000u;
        timer[TMR_CTRL] = 0;
        timer[TMR_RELOAD] = 0xffffffffu;
        timer[TMR_VALUE] = 0xffffffffu;
        timer[TMR_CTRL] = 1; /* enable, no interrupt */
        last = timer[TMR_VALUE];
        ticks = 0;
    }
    SYST_RVR = core_hz / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
}

uint64_t smpdfu_cm_now_ms(void)
{
    uint64_t t;
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    if (timer) {
        advance();
        t = ticks / ticks_per_ms;
    } else {
        t = systicks;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return t;
}
