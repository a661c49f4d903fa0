/* SPDX-License-Identifier: Apache-2.0 */
/* OS management group (0) as Zephyr's os_mgmt.c answers it (protocol.md §3,
 * §13): echo, reset (with force and boot_mode), taskstat, mpstat, datetime,
 * MCUmgr params, info, bootloader info. */
#include "smpdfu/server.h"

#include <string.h>

/* CONFIG_MCUMGR_GRP_OS_INFO_MAX_RESPONSE_SIZE default. */
#define INFO_MAX 256

static void snprintf_note(smpdfu_server_req_t *r, const char *s)
{
    size_t n = strlen(s);
    if (n >= sizeof(r->note)) {
        n = sizeof(r->note) - 1;
    }
    memcpy(r->note, s, n);
    r->note[n] = 0;
}

static int os_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_OS, rc);
}

static int os_echo(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_cbor_slice_t d = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"d", SMPDFU_CBOR_TSTR, &d, NULL}};
    (void)ctx;
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    smpdfu_cbor_put_tstrz(r->enc, "r");
    smpdfu_cbor_put_tstr(r->enc, (const char *)d.ptr, d.len);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int os_reset(smpdfu_server_req_t *r, void *ctx)
{
    /* Without CONFIG_MCUMGR_GRP_OS_RESET_HOOK Zephyr does not read the body;
     * the reboot happens after the (empty) response is out. */
    smpdfu_os_group_t *os = ctx;
    os->last_boot_mode = 0;
    if (os->reset_hook != NULL) {
        bool force = false;
        uint64_t mode = 0;
        bool have_mode = false;
        smpdfu_cbor_field_t f[] = {{"force", SMPDFU_CBOR_BOOL, &force, NULL},
                                   {"boot_mode", SMPDFU_CBOR_UINT, &mode, &have_mode}};
        /* A core command: a body that does not decode is ignored and the
         * defaults (no force, normal boot) apply, as in Zephyr. */
        if (smpdfu_cbor_decode_map(&r->dec, f, os->reset_boot_mode ? 2 : 1) < 0) {
            force = false;
            have_mode = false;
        }
        if (have_mode && mode > 255) {
            return SMPDFU_MGMT_EINVAL; /* bootmode_set() takes a uint8_t */
        }
        int rc = os->reset_hook(os->port_ctx, force, have_mode ? (int)mode : -1);
        if (rc != 0) {
            snprintf_note(r, "refused by the application");
            return rc;
        }
        os->last_boot_mode = have_mode ? (int)mode : 0;
        if (have_mode) {
            snprintf_note(r, mode == 1 ? "boot_mode=1 (bootloader)" : "boot_mode set");
        }
    }
    smpdfu_server_request_reset(r->srv);
    return 0;
}

static void put_uint_kv(smpdfu_cbor_enc_t *e, const char *key, uint64_t v)
{
    smpdfu_cbor_put_tstrz(e, key);
    smpdfu_cbor_put_uint(e, v);
}

/* One entry of a statistics list (tasks, memory pools): its name, cut at 32
 * characters as Zephyr cuts a thread name
 * (CONFIG_MCUMGR_GRP_OS_TASKSTAT_THREAD_NAME_LEN), then its map, which the
 * caller fills and closes. */
static void entry_begin(smpdfu_cbor_enc_t *e, char *name)
{
    name[32] = 0;
    smpdfu_cbor_put_tstrz(e, name);
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
}

static int os_taskstat(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_enc_t *e = r->enc;
    smpdfu_os_task_t t;
    if (os->task == NULL) {
        return SMPDFU_MGMT_ENOTSUP;
    }
    smpdfu_cbor_put_tstrz(e, "tasks");
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    for (size_t i = 0; os->task(os->port_ctx, i, &t); i++) {
        entry_begin(e, t.name);
        smpdfu_cbor_put_tstrz(e, "prio");
        smpdfu_cbor_put_int(e, t.prio);
        put_uint_kv(e, "tid", i);
        put_uint_kv(e, "state", t.state);
        put_uint_kv(e, "stksiz", t.stksiz);
        put_uint_kv(e, "stkuse", t.stkuse);
        put_uint_kv(e, "runtime", t.runtime);
        if (os->taskstat_all) {
            /* ..._ONLY_SUPPORTED_STATS=n: Zephyr sends these as 0; a port
             * that counts context switches gives its count. */
            put_uint_kv(e, "cswcnt", t.cswcnt);
            put_uint_kv(e, "last_checkin", 0);
            put_uint_kv(e, "next_checkin", 0);
        }
        smpdfu_cbor_put_break(e);
        if (e->err) {
            return SMPDFU_MGMT_EMSGSIZE;
        }
    }
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int os_mpstat(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_enc_t *e = r->enc;
    smpdfu_os_mpool_t m;
    if (os->mpool == NULL) {
        return SMPDFU_MGMT_ENOTSUP;
    }
    smpdfu_cbor_put_tstrz(e, "mpools");
    smpdfu_cbor_map_begin(e, SMPDFU_CBOR_INDEF);
    for (size_t i = 0; os->mpool(os->port_ctx, i, &m); i++) {
        entry_begin(e, m.name);
        put_uint_kv(e, "blksiz", m.blksiz);
        put_uint_kv(e, "nblks", m.nblks);
        put_uint_kv(e, "nfree", m.nfree);
        put_uint_kv(e, "min", m.min);
        smpdfu_cbor_put_break(e);
    }
    smpdfu_cbor_put_break(e);
    return e->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, any year >= 0). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = y / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static size_t put_dec(char *out, uint64_t v, unsigned width)
{
    char tmp[24];
    size_t n = 0, k = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width) {
        tmp[n++] = '0';
    }
    while (n > 0) {
        out[k++] = tmp[--n];
    }
    return k;
}

static int os_datetime_get(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    int64_t ms;
    int64_t y;
    unsigned mo, d;
    char s[40];
    size_t n = 0;
    if (os->time_get == NULL) {
        return SMPDFU_MGMT_ENOTSUP;
    }
    int rc = os->time_get(os->port_ctx, &ms);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_OS, (uint16_t)rc);
    }
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    civil_from_days(days, &y, &mo, &d);
    if (y < 0) {
        y = 0;
    }
    /* "%4d-%02d-%02dT%02d:%02d:%02d" and, with DATETIME_MS, ".%d": Zephyr
     * prints the milliseconds without leading zeros (5 ms is ".5"). */
    n += put_dec(s + n, (uint64_t)y, 4);
    s[n++] = '-';
    n += put_dec(s + n, mo, 2);
    s[n++] = '-';
    n += put_dec(s + n, d, 2);
    s[n++] = 'T';
    n += put_dec(s + n, (uint64_t)(rem / 3600000), 2);
    s[n++] = ':';
    n += put_dec(s + n, (uint64_t)(rem / 60000 % 60), 2);
    s[n++] = ':';
    n += put_dec(s + n, (uint64_t)(rem / 1000 % 60), 2);
    if (os->datetime_ms) {
        s[n++] = '.';
        n += put_dec(s + n, (uint64_t)(rem % 1000), 1);
    }
    smpdfu_cbor_put_tstrz(r->enc, "datetime");
    smpdfu_cbor_put_tstr(r->enc, s, n);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

/* strtol(pos, &end, 10) over [p, lim): whitespace, sign, digits. */
static bool parse_long(const char *p, const char *lim, long *v, const char **end)
{
    const char *q = p;
    bool neg = false;
    long x = 0;
    while (q < lim && (*q == ' ' || (*q >= '\t' && *q <= '\r'))) {
        q++;
    }
    if (q < lim && (*q == '+' || *q == '-')) {
        neg = *q == '-';
        q++;
    }
    const char *digits = q;
    while (q < lim && *q >= '0' && *q <= '9' && x < 100000000L) {
        x = x * 10 + (*q - '0');
        q++;
    }
    if (q == digits) {
        *end = p; /* nothing converted */
        return false;
    }
    *v = neg ? -x : x;
    *end = q;
    return true;
}

static int os_datetime_set(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_slice_t dt = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"datetime", SMPDFU_CBOR_TSTR, &dt, NULL}};
    static const long lo[6] = {1900, 1, 1, 0, 0, 0};
    static const long hi[6] = {11899, 12, 31, 23, 59, 59};
    long v[6];
    long ms = 0;
    if (os->time_set == NULL) {
        return SMPDFU_MGMT_ENOTSUP;
    }
    /* RTC_DATETIME_MIN_STRING_SIZE 19 <= len < RTC_DATETIME_MAX_STRING_SIZE 26 */
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0 || dt.len < 19 || dt.len >= 26) {
        return SMPDFU_MGMT_EINVAL;
    }
    const char *s = (const char *)dt.ptr;
    const char *lim = s + dt.len;
    const char *pos = s;
    const char *end;
    /* Six numbers, each followed by one delimiter of any kind; a time zone
     * after the seconds is ignored, as in Zephyr. */
    for (int i = 0; i < 6; i++) {
        if (pos >= lim || !parse_long(pos, lim, &v[i], &end) || v[i] < lo[i] || v[i] > hi[i]) {
            return SMPDFU_MGMT_EINVAL;
        }
        pos = end + 1;
    }
    if (os->datetime_ms && pos <= lim && pos[-1] == '.' && pos < lim) {
        if (!parse_long(pos, lim, &ms, &end) || ms < 0 || ms > 999) {
            return SMPDFU_MGMT_EINVAL;
        }
    }
    /* The RTC driver refuses a day the month does not have. */
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if ((unsigned)v[2] > mdays[v[1] - 1] || (v[1] == 2 && v[2] == 29 && !leap)) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_OS, SMPDFU_OS_ERR_RTC_COMMAND_FAILED);
    }
    int64_t t = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400000 +
                (int64_t)v[3] * 3600000 + (int64_t)v[4] * 60000 + (int64_t)v[5] * 1000 + ms;
    int rc = os->time_set(os->port_ctx, t);
    if (rc != 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_OS, SMPDFU_OS_ERR_RTC_COMMAND_FAILED);
    }
    return 0;
}

static int os_params(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    put_uint_kv(r->enc, "buf_size", os->buf_size);
    put_uint_kv(r->enc, "buf_count", os->buf_count);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

enum {
    INF_S = 1u << 0,
    INF_N = 1u << 1,
    INF_R = 1u << 2,
    INF_V = 1u << 3,
    INF_B = 1u << 4,
    INF_M = 1u << 5,
    INF_P = 1u << 6,
    INF_I = 1u << 7,
    INF_O = 1u << 8,
};

static bool append(char *out, size_t *len, const char *s, bool *prior)
{
    size_t n = strlen(s);
    size_t need = n + (*prior ? 1 : 0);
    /* Zephyr's snprintf check: the text plus its NUL must fit. */
    if (*len + need + 1 > INFO_MAX) {
        return false;
    }
    if (*prior) {
        out[(*len)++] = ' ';
    }
    memcpy(out + *len, s, n);
    *len += n;
    *prior = true;
    return true;
}

static int os_info(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_slice_t fmt = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"format", SMPDFU_CBOR_TSTR, &fmt, NULL}};
    unsigned mask = 0;
    size_t valid = 0;
    char out[INFO_MAX];
    size_t len = 0;
    bool prior = false;
    bool ok = true;
    unsigned all = INF_S | INF_N | INF_R | INF_V | INF_M | INF_P | INF_I | INF_O |
                   (os->build_date_time ? INF_B : 0u);

    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    for (size_t i = 0; i < fmt.len; i++) {
        unsigned bit = 0;
        switch (fmt.ptr[i]) {
        case 'a':
            mask = all; /* Zephyr assigns, it does not OR */
            valid++;
            continue;
        case 's':
            bit = INF_S;
            break;
        case 'n':
            bit = INF_N;
            break;
        case 'r':
            bit = INF_R;
            break;
        case 'v':
            bit = INF_V;
            break;
        case 'b':
            bit = os->build_date_time ? INF_B : 0u;
            break;
        case 'm':
            bit = INF_M;
            break;
        case 'p':
            bit = INF_P;
            break;
        case 'i':
            bit = INF_I;
            break;
        case 'o':
            bit = INF_O;
            break;
        default:
            break;
        }
        if (bit != 0) {
            mask |= bit;
            valid++;
        }
    }
    if (valid != fmt.len) {
        memcpy(r->note, "bad format", sizeof("bad format"));
        return smpdfu_server_add_err(r, SMPDFU_GROUP_OS, SMPDFU_OS_ERR_INVALID_FORMAT);
    }
    if (mask == 0) {
        mask = INF_S;
    }
    if (mask & INF_S) {
        ok = ok && append(out, &len, "Zephyr", &prior);
    }
    if (mask & INF_N) {
        ok = ok && append(out, &len, os->node_name ? os->node_name : "unknown", &prior);
    }
    if (mask & INF_R) {
        ok = ok && append(out, &len, os->kernel_release ? os->kernel_release : "unknown", &prior);
    }
    if (mask & INF_V) {
        ok = ok && append(out, &len, os->kernel_version ? os->kernel_version : "unknown", &prior);
    }
    if (mask & INF_B) {
        ok = ok && append(out, &len, os->build_date_time, &prior);
    }
    if (mask & INF_M) {
        ok = ok && append(out, &len, os->machine ? os->machine : "unknown", &prior);
    }
    if (mask & INF_P) {
        ok = ok && append(out, &len, os->processor ? os->processor : "unknown", &prior);
    }
    if (mask & INF_I) {
        ok = ok && append(out, &len, os->platform ? os->platform : "unknown", &prior);
    }
    if (mask & INF_O) {
        ok = ok && append(out, &len, "Zephyr", &prior);
    }
    if (!ok) {
        return SMPDFU_MGMT_EMSGSIZE;
    }
    smpdfu_cbor_put_tstrz(r->enc, "output");
    smpdfu_cbor_put_tstr(r->enc, out, len);
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int os_bootloader_info(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_slice_t q = {NULL, 0};
    bool found = false;
    smpdfu_cbor_field_t f[] = {{"query", SMPDFU_CBOR_TSTR, &q, &found}};
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    if (!found) {
        smpdfu_cbor_put_tstrz(r->enc, "bootloader");
        smpdfu_cbor_put_tstrz(r->enc, "MCUboot");
    } else if (smpdfu_cbor_str_eq((const char *)q.ptr, q.len, "mode")) {
        smpdfu_cbor_put_tstrz(r->enc, "mode");
        smpdfu_cbor_put_int(r->enc, os->bootloader_mode);
    } else {
        /* Zephyr returns the OS group code from the handler, so it goes out
         * as a plain SMP rc (3), not as an err map. */
        return SMPDFU_OS_ERR_QUERY_YIELDS_NO_ANSWER;
    }
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static const smpdfu_server_handler_t os_handlers[] = {
    [SMPDFU_OS_ECHO] = {os_echo, os_echo},
    [SMPDFU_OS_TASKSTAT] = {os_taskstat, NULL},
    [SMPDFU_OS_MPSTAT] = {os_mpstat, NULL},
    [SMPDFU_OS_DATETIME] = {os_datetime_get, os_datetime_set},
    [SMPDFU_OS_RESET] = {NULL, os_reset},
    [SMPDFU_OS_PARAMS] = {os_params, NULL},
    [SMPDFU_OS_INFO] = {os_info, NULL},
    [SMPDFU_OS_BOOTLOADER_INFO] = {os_bootloader_info, NULL},
};

static const char *const os_names[] = {
    [SMPDFU_OS_ECHO] = "echo",
    [SMPDFU_OS_CONSOLE_ECHO] = "console-echo",
    [SMPDFU_OS_TASKSTAT] = "taskstat",
    [SMPDFU_OS_MPSTAT] = "mpstat",
    [SMPDFU_OS_DATETIME] = "datetime",
    [SMPDFU_OS_RESET] = "reset",
    [SMPDFU_OS_PARAMS] = "params",
    [SMPDFU_OS_INFO] = "info",
    [SMPDFU_OS_BOOTLOADER_INFO] = "bootloader-info",
};

void smpdfu_os_group_init(smpdfu_os_group_t *os)
{
    memset(os, 0, sizeof(*os));
    os->group.id = SMPDFU_GROUP_OS;
    os->group.name = "os";
    os->group.handlers = os_handlers;
    os->group.cmd_names = os_names;
    os->group.handler_count = sizeof(os_handlers) / sizeof(os_handlers[0]);
    os->group.translate = os_translate;
    os->group.ctx = os;
    os->group.details_name = "os mgmt";
    os->datetime_ms = true;
    os->buf_size = SMPDFU_DEFAULT_BUF_SIZE;
    os->buf_count = SMPDFU_DEFAULT_BUF_COUNT;
    os->bootloader_mode = -1;
    os->kernel_release = "v4.4.0";
    os->kernel_version = "4.4.0";
    os->machine = "arm";
    os->processor = "cortex-m33";
    os->platform = "nrf5340dk/nrf5340/cpuapp";
}
