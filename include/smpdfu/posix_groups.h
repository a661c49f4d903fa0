/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — POSIX hooks for the server groups (server_groups.h, server.h):
 * a file system rooted in a host directory for the fs group, the process's
 * own threads and heap for taskstat/mpstat, and a settable clock for
 * datetime. Used by smpdfu-target; any POSIX device port can use them.
 */
#ifndef SMPDFU_POSIX_GROUPS_H
#define SMPDFU_POSIX_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/server.h"
#include "smpdfu/server_groups.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A file system rooted in a directory. Device paths are taken relative to
 * the root ("/a/b.txt" and "a/b.txt" are ROOT/a/b.txt). A path with a ".."
 * component, or one that leaves the root through a symlink (resolved with
 * openat2 RESOLVE_BENEATH; without openat2 every symlink is refused), gets
 * FS_MGMT_ERR_FILE_INVALID_NAME: nothing outside the root is ever opened. */
typedef struct {
    int root_fd;
    int fd[2];               /* handles 0 and 1 of smpdfu_fs_port_t */
    bool no_openat2;         /* the kernel lacks openat2: component walk */
    smpdfu_fs_port_t port;   /* hand &r.port to smpdfu_fs_group_init() */
} smpdfu_posix_fsroot_t;

/* Open the root directory. Returns 0 or SMPDFU_EFILE. */
int smpdfu_posix_fsroot_open(smpdfu_posix_fsroot_t *r, const char *dir);
void smpdfu_posix_fsroot_close(smpdfu_posix_fsroot_t *r);

/* The process as a device: its threads for taskstat (from
 * /proc/self/task), its heap for mpstat (mallinfo2), a clock that is "not
 * set" until datetime set gives it an offset from the host's clock, and
 * the uptime since smpdfu_posix_os_init(). */
typedef struct {
    bool clock_set;
    int64_t offset_ms;       /* device time = host UTC + offset */
    uint32_t heap_min_free;  /* lowest free heap seen by mpstat */
    uint64_t start_ms;       /* monotonic ms at init */
} smpdfu_posix_os_t;

void smpdfu_posix_os_init(smpdfu_posix_os_t *o);
/* Set the OS group's task/mpool/time hooks (port_ctx = o). */
void smpdfu_posix_os_attach(smpdfu_posix_os_t *o, smpdfu_os_group_t *os);
bool smpdfu_posix_os_task(void *ctx, size_t i, smpdfu_os_task_t *out);
bool smpdfu_posix_os_mpool(void *ctx, size_t i, smpdfu_os_mpool_t *out);
int smpdfu_posix_os_time_get(void *ctx, int64_t *unix_ms);
int smpdfu_posix_os_time_set(void *ctx, int64_t unix_ms);
uint64_t smpdfu_posix_os_uptime_ms(void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_POSIX_GROUPS_H */
