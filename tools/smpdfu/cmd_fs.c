/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu fs upload|download|stat|hash|types|close: files on the device
 * (fs group 8). Transfers are windowed and resume from what the other side
 * already holds when its SHA-256 matches (checked with an fs hash). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "smpdfu/client_fs.h"
#include "smpdfu/client_os.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/upload.h"

static conn_t k;

static int bad_answer(const char *what)
{
    smpdfu_cli_error("%s: the device's answer is not what the protocol describes", what);
    conn_close(&k);
    return SMPDFU_EXIT_FAIL;
}

/* Send a request started with conn_on_rsp and wait: its status, k.rsp. */
static int ask(int start_rc)
{
    if (start_rc) {
        return start_rc;
    }
    k.got = false;
    return conn_wait_rsp(&k);
}

typedef struct {
    bool done;
    smpdfu_fs_match_result_t res;
} match_wait_t;

static void match_done(void *arg, const smpdfu_fs_match_result_t *res)
{
    match_wait_t *w = arg;
    w->done = true;
    w->res = *res;
}

static bool match_is_done(void *arg)
{
    return ((match_wait_t *)arg)->done;
}

/* Run the library's resume/verify decision (smpdfu_fs_match_start) on the
 * local bytes [0, len); its result in *res (zeroed when it could not start). */
static void match(smpdfu_fs_match_mode_t mode, const char *name, smpdfu_read_fn read, void *ctx,
                  uint32_t len, smpdfu_fs_match_result_t *res)
{
    static smpdfu_fs_match_t m;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    smpdfu_posix_hash_init(&hs, &h);
    smpdfu_fs_match_cfg_t cfg = {
        .mode = mode,
        .name = name,
        .read = read,
        .read_ctx = ctx,
        .local_len = len,
        .hash = &h,
        .timeout_ms = conn_timeout(&k),
        .retries = conn_retries(&k),
        .done = match_done,
    };
    match_wait_t w = {0};
    cfg.arg = &w;
    memset(res, 0, sizeof(*res));
    if (smpdfu_fs_match_start(&m, &k.c, &cfg) == 0) {
        if (conn_run(&k, match_is_done, &w) == 0) {
            *res = w.res;
        } else {
            smpdfu_fs_match_abort(&m);
        }
    }
    smpdfu_posix_hash_free(&hs);
}

/* Window from the device's buffer count (1..8) unless the user chose one. */
static void pick_window(long *window, bool given)
{
    smpdfu_req_opts_t o = conn_opts(&k);
    if (ask(smpdfu_os_params(&k.c, &o, conn_on_rsp, &k)) != 0) {
        if (!given) {
            *window = 1;
        }
        return;
    }
    smpdfu_os_params_t p;
    if (smpdfu_os_params_parse(&k.rsp, &p)) {
        return;
    }
    smpdfu_client_set_params(&k.c, p.buf_size, p.buf_count);
    long bc = p.buf_count < 1 ? 1 : (p.buf_count > SMPDFU_FS_MAX_WINDOW ? SMPDFU_FS_MAX_WINDOW
                                                                        : (long)p.buf_count);
    if (!given) {
        *window = bc;
    } else if (*window > bc) {
        smpdfu_cli_error("warning: --window %ld is more than the device's %u SMP buffers: %ld are "
                         "sent at a time", *window, p.buf_count, bc);
        *window = bc;
    }
}

typedef struct {
    bool done;
    int status;
    smpdfu_dev_err_t dev;
    uint64_t t0, t1;
    uint32_t requests, go_backs, window;
    size_t packet;
} xfer_t;

static bool xfer_done(void *arg)
{
    return ((xfer_t *)arg)->done;
}

static void on_progress(void *arg, uint32_t off, uint32_t size)
{
    (void)arg;
    conn_progress(&k, "fs", off, size);
}

static void up_done(void *arg, const smpdfu_upload_result_t *res)
{
    xfer_t *x = arg;
    x->done = true;
    x->t1 = smpdfu_posix_now_ms();
    x->status = res->status;
    x->dev = res->dev;
    x->requests = res->chunks;
    x->go_backs = res->go_backs;
    x->window = res->window;
    x->packet = res->max_packet;
}

static void dl_done(void *arg, const smpdfu_fs_download_result_t *res)
{
    xfer_t *x = arg;
    x->done = true;
    x->t1 = smpdfu_posix_now_ms();
    x->status = res->status;
    x->dev = res->dev;
    x->requests = res->requests;
    x->packet = res->chunk;
}

/* Parse "A B [--window N] [--no-resume]". */
static int xfer_args(int argc, char **argv, const char **a, const char **b, long *window,
                     bool *given, bool *resume, const char *usage)
{
    *a = *b = NULL;
    *window = 0;
    *given = false;
    *resume = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--window") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--window", argv[++i], 1, SMPDFU_FS_MAX_WINDOW, window)) {
                return SMPDFU_EXIT_USAGE;
            }
            *given = true;
        } else if (!strcmp(argv[i], "--no-resume")) {
            *resume = false;
        } else if (!*a) {
            *a = argv[i];
        } else if (!*b) {
            *b = argv[i];
        } else {
            *b = NULL;
            break;
        }
    }
    if (!*a || !*b) {
        smpdfu_cli_error("usage: %s", usage);
        return SMPDFU_EXIT_USAGE;
    }
    return 0;
}

static int name_check(const char *remote)
{
    if (!*remote || strlen(remote) > SMPDFU_FS_PATH_MAX) {
        smpdfu_cli_error("a device path has 1 to %d bytes (Zephyr's CONFIG_MCUMGR_GRP_FS_PATH_LEN), "
                         "not %zu", SMPDFU_FS_PATH_MAX, strlen(remote));
        return SMPDFU_EXIT_USAGE;
    }
    return 0;
}

static void summary(const smpdfu_cli_t *cli, const char *verb, const char *remote, uint32_t size,
                    uint32_t start, const xfer_t *x, int verified)
{
    uint64_t ms = x->t1 - x->t0;
    conn_progress_end(&k);
    if (cli->json) {
        printf("{\"%s\": %u, \"name\": ", verb, size);
        smpdfu_cli_json_str(stdout, remote);
        printf(", \"resumed\": %s, \"resume_off\": %u, \"bytes_sent\": %u, \"requests\": %u, "
               "\"window\": %u, \"go_backs\": %u, \"retransmits\": %u, \"verified\": %s, "
               "\"elapsed_ms\": %llu}\n",
               start ? "true" : "false", start, size - start, x->requests, x->window, x->go_backs,
               k.c.stats.retransmits, verified > 0 ? "true" : (verified < 0 ? "false" : "null"),
               (unsigned long long)ms);
        return;
    }
    if (start) {
        printf("resumed at byte %u (the %s part matched its SHA-256)\n", start,
               !strcmp(verb, "uploaded") ? "device's" : "local");
    }
    char rate[32];
    conn_rate(rate, sizeof(rate), size - start, ms);
    printf("%s %u bytes (%s) in %.1f s, %s (%u requests, %u in flight, %u retransmissions)%s\n",
           verb, size - start, remote, ms / 1000.0, rate, x->requests, x->window,
           k.c.stats.retransmits,
           size == 0 ? "" : verified > 0 ? "; SHA-256 matches"
                          : (verified == 0 ? "; not verified (the device has no sha256)" : ""));
}

int smpdfu_cmd_fs_upload(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *local, *remote;
    long window;
    bool given, resume;
    int ex = xfer_args(argc, argv, &local, &remote, &window, &given, &resume,
                       "smpdfu fs upload LOCAL REMOTE [--window N] [--no-resume]");
    if (ex || (ex = name_check(remote))) {
        return ex;
    }
    static smpdfu_posix_file_t f;
    int rc = smpdfu_posix_file_open(&f, local);
    if (rc) {
        char ctx[512];
        snprintf(ctx, sizeof(ctx), "cannot read %s%s%s", local, rc == SMPDFU_EFILE ? ": " : "",
                 rc == SMPDFU_EFILE ? strerror(errno) : "");
        return rc == SMPDFU_EFILE ? (smpdfu_cli_error("%s", ctx), SMPDFU_EXIT_FAIL)
                                  : smpdfu_cli_fail(ctx, rc);
    }
    uint32_t size = f.size;
    if ((ex = conn_open(&k, cli))) {
        smpdfu_posix_file_close(&f);
        return ex;
    }
    pick_window(&window, given);
    smpdfu_req_opts_t o = conn_opts(&k);
    /* Forget a transfer the device may still hold open (an interrupted
     * client): otherwise a new one at offset 0 continues the old count. */
    rc = ask(smpdfu_fs_close(&k.c, &o, conn_on_rsp, &k));
    if (rc == SMPDFU_EDEVICE && !k.rsp.dev.group_err && k.rsp.dev.rc == SMPDFU_MGMT_ENOTSUP) {
        smpdfu_posix_file_close(&f);
        return conn_fail(&k, "the file upload", rc, &k.rsp.dev);
    } else if (rc && rc != SMPDFU_EDEVICE) {
        smpdfu_posix_file_close(&f);
        return conn_fail(&k, "the file upload", rc, &k.rsp.dev);
    }
    uint32_t start = 0;
    if (resume) {
        smpdfu_fs_match_result_t mr;
        match(SMPDFU_FS_MATCH_UPLOAD_RESUME, remote, smpdfu_posix_file_read, &f, size, &mr);
        if (mr.status) {
            smpdfu_posix_file_close(&f);
            return conn_fail(&k, "asking for the file's size", mr.status, NULL);
        }
        start = mr.start;
    }
    static smpdfu_upload_t up;
    smpdfu_upload_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.src.read = smpdfu_posix_file_read;
    cfg.src.ctx = &f;
    cfg.src.size = size;
    cfg.fs_name = remote;
    cfg.fs_start = start;
    cfg.window = (uint8_t)window;
    cfg.skip_params = true;
    cfg.timeout_ms = conn_timeout(&k);
    cfg.first_timeout_ms = conn_timeout(&k);
    cfg.retries = conn_retries(&k);
    cfg.progress = on_progress;
    cfg.done = up_done;
    xfer_t x = {0};
    cfg.arg = &x;
    x.t0 = smpdfu_posix_now_ms();
    if (start == size && size > 0) {
        x.done = true; /* the device already has all of it */
        x.t1 = x.t0;
        x.window = (uint32_t)window;
    } else if ((rc = smpdfu_upload_start(&up, &k.c, &cfg)) == 0) {
        rc = conn_run(&k, xfer_done, &x);
    }
    if (rc == 0) {
        rc = x.status;
    }
    if (rc) {
        smpdfu_posix_file_close(&f);
        conn_progress_end(&k);
        char what[160];
        snprintf(what, sizeof(what), "the upload of %s (run the same command again to resume)", local);
        ex = conn_fail(&k, what, rc, &x.dev);
        conn_close(&k);
        return ex;
    }
    /* A resumed transfer has no "len": the device keeps the file open. */
    ask(smpdfu_fs_close(&k.c, &o, conn_on_rsp, &k));
    int verified = 0;
    if (size > 0) {
        smpdfu_fs_match_result_t mr;
        match(SMPDFU_FS_MATCH_VERIFY, remote, smpdfu_posix_file_read, &f, size, &mr);
        verified = mr.same;
    }
    smpdfu_posix_file_close(&f);
    if (verified < 0) {
        conn_progress_end(&k);
        smpdfu_cli_error("the device's copy of %s does not match %s (SHA-256 differs); upload it "
                         "again with --no-resume", remote, local);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    summary(cli, "uploaded", remote, size, start, &x, verified);
    conn_close(&k);
    return 0;
}

typedef struct {
    int fd;
} sink_t;

static int sink_write(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    sink_t *s = ctx;
    while (len) {
        ssize_t n = pwrite(s->fd, data, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return SMPDFU_EIO;
        }
        data += n;
        len -= (size_t)n;
        off += (uint32_t)n;
    }
    return 0;
}

static int fd_read(void *ctx, uint32_t off, void *buf, size_t len)
{
    sink_t *s = ctx;
    ssize_t n = pread(s->fd, buf, len, (off_t)off);
    return n == (ssize_t)len ? 0 : SMPDFU_EIO;
}

int smpdfu_cmd_fs_download(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *local, *remote;
    long window;
    bool given, resume;
    int ex = xfer_args(argc, argv, &remote, &local, &window, &given, &resume,
                       "smpdfu fs download REMOTE LOCAL [--window N] [--no-resume]");
    if (ex || (ex = name_check(remote))) {
        return ex;
    }
    sink_t s = {open(local, O_RDWR | O_CREAT, 0644)};
    if (s.fd < 0) {
        smpdfu_cli_error("cannot write %s: %s", local, strerror(errno));
        return SMPDFU_EXIT_FAIL;
    }
    struct stat st;
    uint32_t have = 0;
    if (fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < 0xffffffffLL) {
        have = (uint32_t)st.st_size;
    }
    if ((ex = conn_open(&k, cli))) {
        close(s.fd);
        return ex;
    }
    pick_window(&window, given);
    uint32_t start = 0, size = 0;
    int rc;
    if (resume && have > 0) {
        smpdfu_fs_match_result_t mr;
        match(SMPDFU_FS_MATCH_DOWNLOAD_RESUME, remote, fd_read, &s, have, &mr);
        start = mr.start;
    }
    if (!start && ftruncate(s.fd, 0) != 0) {
        smpdfu_cli_error("cannot truncate %s: %s", local, strerror(errno));
        close(s.fd);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    static smpdfu_fs_download_t dl;
    smpdfu_fs_download_cfg_t cfg = {
        .name = remote,
        .start = start,
        .window = (uint8_t)window,
        .timeout_ms = conn_timeout(&k),
        .retries = conn_retries(&k),
        .write = sink_write,
        .ctx = &s,
        .progress = on_progress,
        .done = dl_done,
    };
    xfer_t x = {0};
    cfg.arg = &x;
    x.window = (uint32_t)window;
    x.t0 = smpdfu_posix_now_ms();
    if ((rc = smpdfu_fs_download_start(&dl, &k.c, &cfg)) == 0) {
        rc = conn_run(&k, xfer_done, &x);
    }
    if (rc == 0) {
        rc = x.status;
    }
    if (rc) {
        /* Keep only the part known whole, so the next run resumes there. */
        if (ftruncate(s.fd, (off_t)dl.res.contig) != 0) {
            dl.res.contig = 0;
        }
        close(s.fd);
        conn_progress_end(&k);
        char what[200];
        snprintf(what, sizeof(what), "the download of %s (%u bytes kept in %s: run the same "
                 "command again to resume)", remote, dl.res.contig, local);
        ex = conn_fail(&k, what, rc, &x.dev);
        conn_close(&k);
        return ex;
    }
    size = dl.res.size;
    if (ftruncate(s.fd, (off_t)size) != 0 || fsync(s.fd) != 0) {
        smpdfu_cli_error("cannot finish %s: %s", local, strerror(errno));
        close(s.fd);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    int verified = 0;
    if (size > 0) {
        smpdfu_fs_match_result_t mr;
        match(SMPDFU_FS_MATCH_VERIFY, remote, fd_read, &s, size, &mr);
        verified = mr.same;
    }
    close(s.fd);
    if (verified < 0) {
        conn_progress_end(&k);
        smpdfu_cli_error("%s does not match the device's %s (SHA-256 differs; did it change "
                         "meanwhile?); download it again with --no-resume", local, remote);
        conn_close(&k);
        return SMPDFU_EXIT_FAIL;
    }
    summary(cli, "downloaded", remote, size, start, &x, verified);
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_fs_stat(const smpdfu_cli_t *cli, int argc, char **argv)
{
    if (argc != 2) {
        smpdfu_cli_error("usage: smpdfu fs stat REMOTE");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = name_check(argv[1]);
    if (ex || (ex = conn_open(&k, cli))) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[128];
    snprintf(what, sizeof(what), "reading the status of %s", argv[1]);
    if ((ex = conn_finish(&k, what, smpdfu_fs_status(&k.c, argv[1], &o, conn_on_rsp, &k)))) {
        return ex;
    }
    uint32_t size;
    if (smpdfu_fs_status_parse(&k.rsp, &size)) {
        return bad_answer("fs stat");
    }
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, argv[1]);
        printf(", \"len\": %u}\n", size);
    } else {
        printf("%s: %u bytes\n", argv[1], size);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_fs_hash(const smpdfu_cli_t *cli, int argc, char **argv)
{
    const char *name = NULL, *type = NULL;
    long off = 0, len = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--type") && i + 1 < argc) {
            type = argv[++i];
        } else if (!strcmp(argv[i], "--off") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--off", argv[++i], 0, 0xffffffffL, &off)) {
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--len") && i + 1 < argc) {
            if (smpdfu_cli_uint_arg("--len", argv[++i], 1, 0xffffffffL, &len)) {
                return SMPDFU_EXIT_USAGE;
            }
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            name = NULL;
            break;
        }
    }
    if (!name) {
        smpdfu_cli_error("usage: smpdfu fs hash REMOTE [--type sha256|crc32] [--off N] [--len N]");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = name_check(name);
    if (ex || (ex = conn_open(&k, cli))) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    char what[128];
    snprintf(what, sizeof(what), "hashing %s", name);
    if ((ex = conn_finish(&k, what,
                          smpdfu_fs_hash(&k.c, name, type, (uint32_t)off, (uint32_t)len, &o,
                                         conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_fs_hash_t h;
    if (smpdfu_fs_hash_parse(&k.rsp, &h)) {
        return bad_answer("fs hash");
    }
    char t[32];
    snprintf(t, sizeof(t), "%.*s", h.type ? (int)h.type_len : 0, h.type ? h.type : "");
    if (cli->json) {
        printf("{\"name\": ");
        smpdfu_cli_json_str(stdout, name);
        printf(", \"type\": ");
        smpdfu_cli_json_str(stdout, t);
        printf(", \"off\": %u, \"len\": %u, \"output\": ", h.off, h.len);
        if (h.is_number) {
            printf("\"%08llx\"}\n", (unsigned long long)h.number);
        } else {
            printf("\"");
            smpdfu_cli_hex(stdout, h.bytes, h.bytes_len);
            printf("\"}\n");
        }
    } else {
        if (h.is_number) {
            printf("%08llx", (unsigned long long)h.number);
        } else {
            smpdfu_cli_hex(stdout, h.bytes, h.bytes_len);
        }
        printf("  %s (%s, %u bytes from %u)\n", name, t, h.len, h.off);
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_fs_types(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu fs types");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "listing the hash/checksum types",
                          smpdfu_fs_types(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    smpdfu_rsp_iter_t it;
    if (smpdfu_fs_types_begin(&k.rsp, &it)) {
        return bad_answer("fs types");
    }
    const char *n;
    size_t nl;
    uint32_t fm, sz;
    int rc, m = 0;
    printf(cli->json ? "{\"types\": [" : "");
    while ((rc = smpdfu_fs_types_next(&it, &n, &nl, &fm, &sz)) > 0) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)nl, n);
        if (cli->json) {
            printf("%s{\"name\": ", m ? ", " : "");
            smpdfu_cli_json_str(stdout, name);
            printf(", \"format\": %u, \"size\": %u}", fm, sz);
        } else {
            printf("%-10s %s, %u bytes\n", name, fm == 0 ? "number" : "bytes", sz);
        }
        m++;
    }
    if (cli->json) {
        printf("]}\n");
    }
    if (rc < 0) {
        return bad_answer("fs types");
    }
    conn_close(&k);
    return 0;
}

int smpdfu_cmd_fs_close(const smpdfu_cli_t *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        smpdfu_cli_error("usage: smpdfu fs close");
        return SMPDFU_EXIT_USAGE;
    }
    int ex = conn_open(&k, cli);
    if (ex) {
        return ex;
    }
    smpdfu_req_opts_t o = conn_opts(&k);
    if ((ex = conn_finish(&k, "closing the device's open file",
                          smpdfu_fs_close(&k.c, &o, conn_on_rsp, &k)))) {
        return ex;
    }
    printf(cli->json ? "{\"closed\": true}\n" : "closed\n");
    conn_close(&k);
    return 0;
}
