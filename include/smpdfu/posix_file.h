/*
 * smpdfu — POSIX port: read-only file access at offsets, shaped for
 * smpdfu_read_fn, so image parsing, hashing and uploads read a file in pieces.
 */
#ifndef SMPDFU_POSIX_FILE_H
#define SMPDFU_POSIX_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int fd;        /* -1 when closed */
    uint32_t size; /* file size at open time */
} smpdfu_posix_file_t;

/* Open a regular file for reading. Returns 0, SMPDFU_EFILE (cannot open: errno
 * tells why; EISDIR for a directory, ENOTSUP for a device, pipe or socket) or
 * SMPDFU_ERANGE (4 GiB or larger). */
int smpdfu_posix_file_open(smpdfu_posix_file_t *f, const char *path);

/* smpdfu_read_fn: ctx is a smpdfu_posix_file_t *. Reads exactly len bytes at
 * off (pread, retried on EINTR and short reads). Returns 0, SMPDFU_ETRUNC
 * when [off, off+len) goes past the size or the file shrank, SMPDFU_EFILE on
 * an I/O error, SMPDFU_EINVAL for a closed file. */
int smpdfu_posix_file_read(void *ctx, uint32_t off, void *buf, size_t len);

/* Close (safe to call twice). */
void smpdfu_posix_file_close(smpdfu_posix_file_t *f);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_FILE_H */
