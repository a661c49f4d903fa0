/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary device paths into the POSIX fs root of the fs
 * group (src/port/posix/fs_root.c), over a tree with symlinks that point
 * inside and outside it. Asserts: every file that opens, and every stat that
 * succeeds, is inside the root (checked through /proc/self/fd), and
 * "outside/secret" is never reached. Input: the path (cut at 64 bytes). */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smpdfu/posix_groups.h"

static char base[PATH_MAX];
static char root[PATH_MAX];
static smpdfu_posix_fsroot_t fr;

static void mk(const char *rel, const char *content)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    if (f == NULL) {
        abort();
    }
    fputs(content, f);
    fclose(f);
}

static void ln(const char *target, const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", base, rel);
    if (symlink(target, p) != 0) {
        abort();
    }
}

/* Remove the tree at exit (the names setup() made; nothing else is ever
 * created: the target only reads). */
static void cleanup(void)
{
    static const char *const files[] = {"root/out", "root/s", "root/in", "root/etc", "root/up",
                                        "root/sub/b", "root/a", "outside/secret"};
    static const char *const dirs[] = {"root/sub", "root", "outside", ""};
    char p[PATH_MAX];
    smpdfu_posix_fsroot_close(&fr);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", base, files[i]);
        unlink(p);
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", base, dirs[i]);
        rmdir(p);
    }
}

static void setup(void)
{
    char tmpl[] = "/tmp/smpdfu-fuzz-fsroot-XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        abort();
    }
    if (realpath(tmpl, base) == NULL) {
        abort();
    }
    char p[PATH_MAX];
    snprintf(root, sizeof(root), "%s/root", base);
    mkdir(root, 0755);
    snprintf(p, sizeof(p), "%s/root/sub", base);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/outside", base);
    mkdir(p, 0755);
    mk("outside/secret", "secret");
    mk("root/a", "a");
    mk("root/sub/b", "b");
    ln("../outside", "root/out");
    ln("../outside/secret", "root/s");
    ln("sub", "root/in");
    ln("/etc", "root/etc");
    ln("..", "root/up");
    if (smpdfu_posix_fsroot_open(&fr, root) != 0) {
        abort();
    }
    atexit(cleanup);
}

static void check_fd(int fd)
{
    char link[64], where[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, where, sizeof(where) - 1);
    if (n < 0) {
        abort();
    }
    where[n] = 0;
    size_t rl = strlen(root);
    if (strncmp(where, root, rl) != 0 || (where[rl] != 0 && where[rl] != '/')) {
        fprintf(stderr, "escaped: %s\n", where);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    char path[SMPDFU_FS_PATH_LEN + 1];
    if (!once) {
        once = 1;
        setup();
    }
    if (size > SMPDFU_FS_PATH_LEN) {
        size = SMPDFU_FS_PATH_LEN;
    }
    memcpy(path, data, size);
    path[size] = 0;
    uint64_t sz = 0;
    bool dir = false;
    (void)fr.port.stat(fr.port.ctx, path, &sz, &dir);
    for (int h = 0; h < 2; h++) {
        if (fr.port.open(fr.port.ctx, h, path, SMPDFU_FS_OPEN_READ) == 0) {
            check_fd(fr.fd[h]);
            char buf[16];
            long got = fr.port.pread(fr.port.ctx, h, 0, buf, sizeof(buf));
            if (got == 6 && memcmp(buf, "secret", 6) == 0) {
                abort();
            }
            fr.port.close(fr.port.ctx, h);
        }
    }
    return 0;
}
