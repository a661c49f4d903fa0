/*
 * smpdfu — POSIX port: a flash backed by a file, with NOR rules.
 *
 * The file holds the whole flash image. Contents survive process restarts
 * (including SIGKILL: every write is a pwrite() to the file). Writing a byte
 * that is not erased fails with SMPDFU_EFLASH_NOT_ERASED and changes nothing;
 * erase works by page. An exclusive flock() keeps two emulators off one file.
 * Optional timing makes the emulated device as slow as a real one (real
 * sleeps, for benchmarks only).
 */
#ifndef SMPDFU_POSIX_FLASH_H
#define SMPDFU_POSIX_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "smpdfu/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    smpdfu_flash_t flash;        /* hand &pf.flash to the server */
    int fd;
    bool created;                /* the file was new or empty and has been erased */
    uint32_t erase_ms_per_page;  /* sleep per erased page (0 = none) */
    uint32_t write_us_per_kib;   /* sleep per KiB written (0 = none) */
    /* Optional: called instead of sleeping, with the time the operation
     * takes (us > 0) and whether it is an erase. An emulator uses it to go on
     * receiving while its flash is busy. */
    void (*delay)(void *ctx, uint64_t us, bool erase);
    void *delay_ctx;
    uint64_t bytes_written;      /* counters */
    uint32_t pages_erased;
} smpdfu_posix_flash_t;

/* Open (or create) `path` as a flash of `size` bytes. A missing or empty
 * file is created and filled with erased_val (created = true). An existing
 * file of another size is refused (SMPDFU_EFILE), as is one locked by another
 * process (SMPDFU_EBUSY). Geometry errors: SMPDFU_EINVAL. */
int smpdfu_posix_flash_open(smpdfu_posix_flash_t *pf, const char *path, uint32_t size,
                            uint32_t page_size, uint32_t write_align, uint8_t erased_val);

/* Close the file (releases the lock). Safe to call twice. */
void smpdfu_posix_flash_close(smpdfu_posix_flash_t *pf);

/* ------------------------------------------------------- power cuts */

/* Exit status of a process a power cut ended (exit_on_cut). */
#define SMPDFU_POWERCUT_EXIT 3

/* A flash in front of another that loses power at a chosen operation, to
 * test what a power cut leaves behind, deterministically: while armed, it
 * counts writes and erases, and the cut_at-th one is cut. A write shorter
 * than a page (a trailer field, a status entry) or a one-page erase is cut
 * before it starts; a write of a page or more, or a longer erase, after its
 * first half (whole write units or pages), as a cut mid-way through a long
 * write or erase would leave it. Reads always pass. At the cut it
 * either ends the process (_exit(SMPDFU_POWERCUT_EXIT), after a line on
 * stderr) or, for in-process tests, fails that and every later write and
 * erase with SMPDFU_EFLASH_IO (the flash then stays as the cut left it). */
typedef struct {
    smpdfu_flash_t flash;        /* hand &pc.flash to the user */
    const smpdfu_flash_t *inner; /* the real flash (caller-owned) */
    uint32_t cut_at;             /* 1-based operation to cut; 0 = never */
    uint32_t ops;                /* writes and erases counted since armed */
    bool armed;
    bool exit_on_cut;
    bool cut;                    /* the cut happened (in-process mode) */
} smpdfu_posix_powercut_t;

/* Wrap `inner` (same geometry). Starts disarmed. */
void smpdfu_posix_powercut_init(smpdfu_posix_powercut_t *pc, const smpdfu_flash_t *inner,
                                uint32_t cut_at, bool exit_on_cut);

/* Arm (counting from zero) or disarm (operations pass, uncounted). */
void smpdfu_posix_powercut_arm(smpdfu_posix_powercut_t *pc, bool on);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_FLASH_H */
