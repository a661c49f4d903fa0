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

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_FLASH_H */
