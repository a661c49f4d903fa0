/* OS management group (0) as Zephyr's os_mgmt.c answers it (protocol.md §3):
 * echo, reset, MCUmgr params, info, bootloader info. */
#include "smpdfu/server.h"

#include <string.h>

/* CONFIG_MCUMGR_GRP_OS_INFO_MAX_RESPONSE_SIZE default. */
#define INFO_MAX 256

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
    (void)ctx;
    smpdfu_server_request_reset(r->srv);
    return 0;
}

static int os_params(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_os_group_t *os = ctx;
    smpdfu_cbor_put_tstrz(r->enc, "buf_size");
    smpdfu_cbor_put_uint(r->enc, os->buf_size);
    smpdfu_cbor_put_tstrz(r->enc, "buf_count");
    smpdfu_cbor_put_uint(r->enc, os->buf_count);
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
    os->buf_size = 384;
    os->buf_count = 4;
    os->bootloader_mode = -1;
    os->kernel_release = "v4.4.0";
    os->kernel_version = "4.4.0";
    os->machine = "arm";
    os->processor = "cortex-m33";
    os->platform = "nrf5340dk/nrf5340/cpuapp";
}
