/* SPDX-License-Identifier: Apache-2.0 */
/* The process as a device for the OS group (posix_groups.h): threads from
 * /proc/self/task, the heap from mallinfo2(), a settable clock. */
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "smpdfu/posix_groups.h"
#include "smpdfu/smp.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void smpdfu_posix_os_init(smpdfu_posix_os_t *o)
{
    memset(o, 0, sizeof(*o));
    o->heap_min_free = UINT32_MAX;
    o->start_ms = mono_ms();
}

void smpdfu_posix_os_attach(smpdfu_posix_os_t *o, smpdfu_os_group_t *os)
{
    os->port_ctx = o;
    os->task = smpdfu_posix_os_task;
    os->mpool = smpdfu_posix_os_mpool;
    os->time_get = smpdfu_posix_os_time_get;
    os->time_set = smpdfu_posix_os_time_set;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The i-th thread id (ascending), or 0. */
static long nth_tid(size_t i)
{
    long tids[256];
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    if (d == NULL) {
        return i == 0 ? (long)getpid() : 0;
    }
    while ((de = readdir(d)) != NULL && n < 256) {
        long t = atol(de->d_name);
        if (t > 0) {
            tids[n++] = t;
        }
    }
    closedir(d);
    qsort(tids, n, sizeof(tids[0]), cmp_long);
    return i < n ? tids[i] : 0;
}

static uint64_t status_field(const char *path, const char *key)
{
    char line[256];
    size_t kl = strlen(key);
    uint64_t v = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtoull(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

bool smpdfu_posix_os_task(void *ctx, size_t i, smpdfu_os_task_t *out)
{
    char path[96], buf[1024];
    (void)ctx;
    long tid = nth_tid(i);
    if (tid == 0) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "/proc/self/task/%ld/comm", tid);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(out->name, sizeof(out->name), f) != NULL) {
            out->name[strcspn(out->name, "\n")] = 0;
        }
        fclose(f);
    }
    if (out->name[0] == 0) {
        snprintf(out->name, sizeof(out->name), "%ld", tid);
    }
    snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid);
    f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        char state = 'R';
        unsigned long long utime = 0, stime = 0;
        long prio = 0;
        /* Fields after the name: 3 state ... 14 utime 15 stime ... 18 priority. */
        if (p != NULL &&
            sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %ld", &state,
                   &utime, &stime, &prio) >= 1) {
            switch (state) {
            case 'S':
            case 'D':
                out->state = 2; /* _THREAD_PENDING */
                break;
            case 'T':
            case 't':
                out->state = 16; /* _THREAD_SUSPENDED */
                break;
            case 'Z':
            case 'X':
                out->state = 8; /* _THREAD_DEAD */
                break;
            default:
                out->state = 0; /* running or ready */
            }
            long hz = sysconf(_SC_CLK_TCK);
            /* runtime in microseconds of CPU time (a 1 MHz cycle counter). */
            out->runtime = (utime + stime) * (1000000ull / (unsigned long long)(hz > 0 ? hz : 100));
            out->prio = (int32_t)prio;
        }
    }
    snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
    out->cswcnt = (uint32_t)(status_field(path, "voluntary_ctxt_switches") +
                             status_field(path, "nonvoluntary_ctxt_switches"));
    if (tid == (long)getpid()) {
        /* The main thread's stack, in 4-byte words as Zephyr reports. */
        struct rlimit rl;
        uint64_t lim = 8u << 20;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
            lim = rl.rlim_cur;
        }
        out->stksiz = (uint32_t)(lim / 4);
        out->stkuse = (uint32_t)(status_field("/proc/self/status", "VmStk") * 1024u / 4u);
    }
    return true;
}

bool smpdfu_posix_os_mpool(void *ctx, size_t i, smpdfu_os_mpool_t *out)
{
    smpdfu_posix_os_t *o = ctx;
    if (i != 0) {
        return false;
    }
    struct mallinfo2 mi = mallinfo2();
    /* One pool, "heap", in 16-byte blocks (glibc's allocation granule). */
    uint64_t total = (mi.arena + mi.hblkhd) / 16;
    uint64_t free_blocks = mi.fordblks / 16;
    memset(out, 0, sizeof(*out));
    memcpy(out->name, "heap", 5);
    out->blksiz = 16;
    out->nblks = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    out->nfree = free_blocks > UINT32_MAX ? UINT32_MAX : (uint32_t)free_blocks;
    if (out->nfree < o->heap_min_free) {
        o->heap_min_free = out->nfree;
    }
    out->min = o->heap_min_free;
    return true;
}

int smpdfu_posix_os_time_get(void *ctx, int64_t *unix_ms)
{
    smpdfu_posix_os_t *o = ctx;
    if (!o->clock_set) {
        return SMPDFU_OS_ERR_RTC_NOT_SET;
    }
    *unix_ms = real_ms() + o->offset_ms;
    return 0;
}

int smpdfu_posix_os_time_set(void *ctx, int64_t unix_ms)
{
    smpdfu_posix_os_t *o = ctx;
    o->offset_ms = unix_ms - real_ms();
    o->clock_set = true;
    return 0;
}

uint64_t smpdfu_posix_os_uptime_ms(void *ctx)
{
    const smpdfu_posix_os_t *o = ctx;
    return mono_ms() - o->start_ms;
}
