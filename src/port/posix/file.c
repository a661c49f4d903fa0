/* Read-only files at offsets for image sources and parsing. */
#include "smpdfu/posix_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int smpdfu_posix_file_open(smpdfu_posix_file_t *f, const char *path)
{
    if (!f || !path) {
        return SMPDFU_EINVAL;
    }
    f->fd = -1;
    f->size = 0;
    /* Non-blocking: opening a FIFO nobody writes to would wait forever. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return SMPDFU_EFILE;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return SMPDFU_EFILE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        /* A device or pipe has no size to read an image by. */
        errno = S_ISDIR(st.st_mode) ? EISDIR : ENOTSUP;
        return SMPDFU_EFILE;
    }
    if ((unsigned long long)st.st_size > UINT32_MAX) {
        close(fd);
        errno = EFBIG;
        return SMPDFU_ERANGE;
    }
    f->fd = fd;
    f->size = (uint32_t)st.st_size;
    return 0;
}

int smpdfu_posix_file_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    smpdfu_posix_file_t *f = ctx;
    if (!f || f->fd < 0 || (!buf && len)) {
        return SMPDFU_EINVAL;
    }
    if (off > f->size || len > (size_t)(f->size - off)) {
        return SMPDFU_ETRUNC;
    }
    unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, p + done, len - done, (off_t)off + (off_t)done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return SMPDFU_EFILE;
        }
        if (n == 0) {
            return SMPDFU_ETRUNC; /* the file shrank under us */
        }
        done += (size_t)n;
    }
    return 0;
}

void smpdfu_posix_file_close(smpdfu_posix_file_t *f)
{
    if (f && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}
