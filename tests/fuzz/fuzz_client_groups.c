/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: arbitrary device answers to every group's response parser
 * (os taskstat/mpstat/datetime, stat, settings, fs, shell, enum) and to the
 * fs transfers (windowed download, fs upload through upload.c).
 * Byte 0 bit 7 clear: data[1..] is one response payload, walked by every
 * parser and iterator to the end. Bit 7 set: the client engine (link from
 * bits 0-1, as client_harness.h) with a windowed fs download and an fs
 * upload in flight is fed records of [len][bytes]; both must end, each
 * done() exactly once, and a download may never report more bytes than the
 * file it was told about. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smpdfu/client.h"
#include "smpdfu/client_enum.h"
#include "smpdfu/client_fs.h"
#include "smpdfu/client_os.h"
#include "smpdfu/client_settings.h"
#include "smpdfu/client_shell.h"
#include "smpdfu/client_stat.h"
#include "smpdfu/image.h"
#include "smpdfu/upload.h"

#include "client_harness.h"

/* Walk an iterator to its end or error; bounded by the payload's size. */
#define WALK(begin, next, ...)                                   \
    do {                                                         \
        smpdfu_rsp_iter_t it_;                                   \
        if (begin(rsp, &it_) == 0) {                             \
            for (size_t k_ = 0; k_ <= rsp->payload_len; k_++) {  \
                if (next(&it_, __VA_ARGS__) <= 0) {              \
                    break;                                       \
                }                                                \
            }                                                    \
        }                                                        \
    } while (0)

static void parse_all(void *arg, const smpdfu_rsp_t *rsp)
{
    (void)arg;
    if (rsp->status != 0 || !rsp->payload) {
        if (rsp->payload) {
            uint32_t x;
            smpdfu_fs_expected_off(rsp, &x);
        }
        return;
    }
    smpdfu_os_task_info_t t;
    smpdfu_os_mpool_info_t p;
    const char *s;
    size_t n;
    uint64_t v;
    uint16_t g;
    uint32_t a, b;
    bool end;
    int32_t ret;
    const uint8_t *val;
    smpdfu_enum_detail_t d;
    smpdfu_fs_chunk_t ch;
    smpdfu_fs_hash_t h;
    WALK(smpdfu_os_tasks_begin, smpdfu_os_task_next, &t);
    WALK(smpdfu_os_mpools_begin, smpdfu_os_mpool_next, &p);
    WALK(smpdfu_stat_list_begin, smpdfu_stat_list_next, &s, &n);
    WALK(smpdfu_stat_fields_begin, smpdfu_stat_field_next, &s, &n, &v);
    WALK(smpdfu_enum_list_begin, smpdfu_enum_list_next, &g);
    WALK(smpdfu_enum_details_begin, smpdfu_enum_details_next, &d);
    WALK(smpdfu_fs_types_begin, smpdfu_fs_types_next, &s, &n, &a, &b);
    smpdfu_os_datetime_parse(rsp, &s, &n);
    smpdfu_settings_read_parse(rsp, &val, &n);
    smpdfu_shell_exec_parse(rsp, &s, &n, &ret);
    smpdfu_enum_count_parse(rsp, &a);
    smpdfu_enum_single_parse(rsp, &g, &end);
    smpdfu_fs_download_parse(rsp, &ch);
    smpdfu_fs_status_parse(rsp, &a);
    smpdfu_fs_hash_parse(rsp, &h);
    smpdfu_fs_expected_off(rsp, &a);
}

static uint32_t dl_size;
static uint32_t dl_bytes;

static int sink(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)data;
    if ((uint64_t)off + len > dl_size) {
        __builtin_trap(); /* written past the size the first answer gave */
    }
    dl_bytes += (uint32_t)len;
    return 0;
}

static void dl_progress(void *arg, uint32_t done, uint32_t size)
{
    (void)arg;
    dl_size = size;
    if (done > size) {
        __builtin_trap();
    }
}

static void dl_done(void *arg, const smpdfu_fs_download_result_t *r)
{
    *(int *)arg += 1;
    if (r->status == 0 && r->contig != r->size) {
        __builtin_trap();
    }
}

static void up_done(void *arg, const smpdfu_upload_result_t *r)
{
    (void)r;
    *(int *)arg += 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smpdfu_client_t c;
    static uint8_t file[2000];
    static smpdfu_upload_t up;
    static smpdfu_fs_download_t dl;
    if (size < 1) {
        return 0;
    }
    if (!(data[0] & 0x80)) {
        smpdfu_rsp_t r;
        memset(&r, 0, sizeof(r));
        r.payload = data + 1;
        r.payload_len = size - 1;
        parse_all(NULL, &r);
        return 0;
    }
    if (harness_client_init(&c, data[0]) != 0) {
        return 0;
    }
    smpdfu_client_set_params(&c, 300, 3);
    /* the sink checks against the size; until the first answer, anything */
    dl_size = UINT32_MAX;
    dl_bytes = 0;
    int dl_calls = 0, up_calls = 0;
    smpdfu_fs_download_cfg_t dc = {.name = "/f", .start = (data[0] & 4) ? 100 : 0,
                                   .window = 3, .write = sink, .progress = dl_progress,
                                   .done = dl_done, .arg = &dl_calls};
    bool dl_on = smpdfu_fs_download_start(&dl, &c, &dc) == 0;
    memset(file, 0x5a, sizeof(file));
    smpdfu_image_buf_t src = {file, sizeof(file)};
    smpdfu_upload_cfg_t u;
    memset(&u, 0, sizeof(u));
    u.src.read = smpdfu_image_buf_read;
    u.src.ctx = &src;
    u.src.size = sizeof(file);
    u.fs_name = "/up";
    u.fs_start = (data[0] & 8) ? 500 : 0;
    u.window = 3;
    u.skip_params = true;
    u.done = up_done;
    u.arg = &up_calls;
    bool up_on = smpdfu_upload_start(&up, &c, &u) == 0;
    smpdfu_stat_list(&c, NULL, parse_all, NULL);
    smpdfu_shell_exec(&c, (const char *const[]){"help"}, 1, NULL, parse_all, NULL);

    uint64_t now = harness_feed(&c, data, size);
    for (int k = 0; k < 200 && (smpdfu_client_in_flight(&c) || smpdfu_upload_busy(&up) ||
                                smpdfu_fs_download_busy(&dl));
         k++) {
        now += 1000;
        smpdfu_client_tick(&c, now);
    }
    if (smpdfu_upload_busy(&up) || smpdfu_fs_download_busy(&dl) || smpdfu_client_in_flight(&c) ||
        up_calls != (up_on ? 1 : 0) || dl_calls != (dl_on ? 1 : 0)) {
        __builtin_trap();
    }
    return 0;
}
