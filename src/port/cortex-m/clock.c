/* SysTick millisecond clock. */
#include "smpdfu/cortex_m.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static volatile uint32_t ms_lo;
static volatile uint32_t ms_hi;

void smpdfu_cm_systick_handler(void);

void smpdfu_cm_systick_handler(void)
{
    if (++ms_lo == 0) {
        ms_hi++;
    }
}

void smpdfu_cm_clock_init(uint32_t core_hz)
{
    SYST_CSR = 0;
    SYST_RVR = core_hz / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
}

uint64_t smpdfu_cm_now_ms(void)
{
    uint32_t hi, lo;
    /* Read hi, lo, hi again: a wrap in between shows as a changed hi. */
    do {
        hi = ms_hi;
        lo = ms_lo;
    } while (hi != ms_hi);
    return ((uint64_t)hi << 32) | lo;
}
