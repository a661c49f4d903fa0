/* SPDX-License-Identifier: Apache-2.0 */
/* A file system rooted in a host directory for the fs group
 * (posix_groups.h). Every open goes through openat2(RESOLVE_BENEATH) from
 * the root's descriptor, so ".." and symlinks cannot reach outside it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "smpdfu/error.h"
#include "smpdfu/posix_groups.h"
#include "smpdfu/smp.h"

/* Device path -> path relative to the root; false when it has a ".."
 * component (refused before anything is looked up). */
static bool rel_path(const char *path, char *out, size_t cap)
{
    while (*path == '/') {
        path++;
    }
    size_t n = strlen(path);
    if (n + 2 > cap) {
        return false;
    }
    const char *c = path;
    while (*c != 0) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 2 && c[0] == '.' && c[1] == '.') {
            return false;
        }
        c += len;
        while (*c == '/') {
            c++;
        }
    }
    if (n == 0) {
        memcpy(out, ".", 2);
    } else {
        memcpy(out, path, n + 1);
    }
    return true;
}

/* Without openat2: walk the components with O_NOFOLLOW (every symlink is
 * refused, inside the root or not). */
static int walk_open(int root, const char *rel, int flags, mode_t mode)
{
    char buf[SMPDFU_FS_PATH_LEN + 2];
    int dir = dup(root);
    if (dir < 0) {
        return -1;
    }
    memcpy(buf, rel, strlen(rel) + 1);
    char *c = buf;
    for (;;) {
        char *slash = strchr(c, '/');
        if (slash == NULL) {
            int fd = openat(dir, c, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            int e = errno;
            close(dir);
            errno = e;
            return fd;
        }
        *slash = 0;
        int next = openat(dir, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dir);
        if (next < 0) {
            errno = e;
            return -1;
        }
        dir = next;
        c = slash + 1;
        while (*c == '/') {
            c++;
        }
    }
}

static int open_beneath(smpdfu_posix_fsroot_t *r, const char *rel, int flags, mode_t mode)
{
    if (!r->no_openat2) {
        struct open_how how;
        memset(&how, 0, sizeof(how));
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, r->root_fd, rel, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS) {
            return (int)fd;
        }
        r->no_openat2 = true;
    }
    return walk_open(r->root_fd, rel, flags, mode);
}

static int map_errno(int e, bool creating)
{
    switch (e) {
    case EXDEV:        /* the path left the root */
    case ELOOP:        /* a symlink where none is allowed */
    case ENAMETOOLONG:
    case EINVAL:
        return SMPDFU_FS_ERR_FILE_INVALID_NAME;
    case ENOENT:
    case ENOTDIR:
        return creating ? SMPDFU_FS_ERR_MOUNT_POINT_NOT_FOUND : SMPDFU_FS_ERR_FILE_NOT_FOUND;
    case EROFS:
        return SMPDFU_FS_ERR_READ_ONLY_FILESYSTEM;
    default:
        return SMPDFU_FS_ERR_UNKNOWN;
    }
}

static int fr_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir)
{
    smpdfu_posix_fsroot_t *r = ctx;
    char rel[SMPDFU_FS_PATH_LEN + 2];
    struct stat st;
    if (!rel_path(path, rel, sizeof(rel))) {
        return SMPDFU_FS_ERR_FILE_INVALID_NAME;
    }
    int fd = open_beneath(r, rel, O_PATH, 0);
    if (fd < 0) {
        return map_errno(errno, false);
    }
    int rc = fstat(fd, &st);
    close(fd);
    if (rc != 0) {
        return SMPDFU_FS_ERR_UNKNOWN;
    }
    *size = (uint64_t)st.st_size;
    *is_dir = S_ISDIR(st.st_mode);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        return SMPDFU_FS_ERR_FILE_INVALID_NAME; /* no devices, fifos or sockets */
    }
    return 0;
}

static void fr_close(void *ctx, int h)
{
    smpdfu_posix_fsroot_t *r = ctx;
    if (h >= 0 && h < 2 && r->fd[h] >= 0) {
        close(r->fd[h]);
        r->fd[h] = -1;
    }
}

static int fr_open(void *ctx, int h, const char *path, unsigned mode)
{
    smpdfu_posix_fsroot_t *r = ctx;
    char rel[SMPDFU_FS_PATH_LEN + 2];
    struct stat st;
    bool wr = mode == SMPDFU_FS_OPEN_WRITE;
    if (h < 0 || h > 1) {
        return SMPDFU_FS_ERR_UNKNOWN;
    }
    fr_close(r, h);
    if (!rel_path(path, rel, sizeof(rel))) {
        return SMPDFU_FS_ERR_FILE_INVALID_NAME;
    }
    int fd = open_beneath(r, rel, wr ? (O_WRONLY | O_CREAT | O_NONBLOCK) : (O_RDONLY | O_NONBLOCK),
                          0644);
    if (fd < 0) {
        return errno == EISDIR ? SMPDFU_FS_ERR_FILE_IS_DIRECTORY : map_errno(errno, wr);
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? SMPDFU_FS_ERR_FILE_IS_DIRECTORY
                                   : SMPDFU_FS_ERR_FILE_INVALID_NAME;
    }
    r->fd[h] = fd;
    return 0;
}

static long fr_pread(void *ctx, int h, uint64_t off, void *buf, size_t len)
{
    smpdfu_posix_fsroot_t *r = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(r->fd[h], (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    return (long)done;
}

static int fr_pwrite(void *ctx, int h, uint64_t off, const void *buf, size_t len)
{
    smpdfu_posix_fsroot_t *r = ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(r->fd[h], (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int fr_truncate(void *ctx, int h, uint64_t len)
{
    smpdfu_posix_fsroot_t *r = ctx;
    return ftruncate(r->fd[h], (off_t)len) == 0 ? 0 : -1;
}

int smpdfu_posix_fsroot_open(smpdfu_posix_fsroot_t *r, const char *dir)
{
    memset(r, 0, sizeof(*r));
    r->fd[0] = r->fd[1] = -1;
    r->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->root_fd < 0) {
        return SMPDFU_EFILE;
    }
    r->port.stat = fr_stat;
    r->port.open = fr_open;
    r->port.pread = fr_pread;
    r->port.pwrite = fr_pwrite;
    r->port.truncate = fr_truncate;
    r->port.close = fr_close;
    r->port.ctx = r;
    return 0;
}

void smpdfu_posix_fsroot_close(smpdfu_posix_fsroot_t *r)
{
    fr_close(r, 0);
    fr_close(r, 1);
    if (r->root_fd >= 0) {
        close(r->root_fd);
        r->root_fd = -1;
    }
}
