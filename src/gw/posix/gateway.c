/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-gw: MQTT jobs (AWS IoT Jobs shape) in, many devices driven from one
 * poll loop out. See include/smpdfu/gw.h and docs/fleet.md. */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "journal.h"
#include "smpdfu/client_img.h"
#include "smpdfu/client_os.h"
#include "smpdfu/dfu.h"
#include "smpdfu/gw.h"
#include "smpdfu/gw_job.h"
#include "smpdfu/gw_json.h"
#include "smpdfu/posix.h"
#include "smpdfu/posix_crypto.h"
#include "smpdfu/posix_file.h"
#include "smpdfu/posix_http.h"
#include "smpdfu/posix_loop.h"
#include "smpdfu/smp.h"

#define DEV_SLOTS 8
#define DEV_SLOT_SIZE 2048
#define DEV_RX 4096
#define JOB_TOKENS 256
#define DETAILS_MAX 4096

typedef enum { D_IDLE, D_QUEUED, D_RUNNING } dev_state_t;
typedef enum { P_NONE, P_SLOTINFO, P_DFU, P_FINAL_LIST, P_RESET, P_LIST } dev_phase_t;

typedef struct gw gw_t;

/* One device: its link, engine and orchestrator. About 30 KiB. */
typedef struct {
    const smpdfu_gw_device_cfg_t *cfg;
    gw_t *gw;
    dev_state_t state;
    dev_phase_t phase;
    bool close_pending;
    smpdfu_gw_job_t job;
    char step[32];
    smpdfu_posix_port_t port;
    smpdfu_client_t c;
    smpdfu_req_t reqs[DEV_SLOTS];
    uint8_t req_mem[DEV_SLOTS * DEV_SLOT_SIZE];
    uint8_t rx[DEV_RX + 8];
    uint8_t tx[2 * DEV_SLOT_SIZE + 256];
    smpdfu_dfu_t dfu;
    smpdfu_dfu_checked_t checked; /* prepare_image()'s check, handed to the DFU */
    smpdfu_posix_file_t file;
    smpdfu_posix_hash_state_t hs;
    smpdfu_hash_t h;
    bool hash_on;
    uint32_t img_size;
    uint64_t t_start, t_prog, up_t0;
    uint32_t up_off0;
    bool up_timing;
    char *state_msg;     /* last state document, kept until the broker has it */
    bool state_unsent;
} gwdev_t;

typedef struct {
    int mid;
    char thing[130];
    char job_id[66];
} pending_t;

struct gw {
    const smpdfu_gw_config_t *cfg;
    struct mosquitto *m;
    char host[256];
    int port;
    bool tls;
    bool sock_up;      /* a TCP/TLS connection exists */
    bool connected;    /* CONNACK accepted */
    uint64_t reconnect_at;
    uint32_t backoff_ms;
    gw_journal_t *j;
    gwdev_t *devs;
    size_t nd;
    uint32_t running;
    uint32_t subs_left;  /* SUBACKs still to come since the last connect */
    pending_t *pend;
    size_t npend, cap_pend;
    smpdfu_posix_sigkey_t sigkey;
    smpdfu_sig_verify_t sv;
    bool have_key;
    uint8_t rxbuf[65536];
    smpdfu_json_tok_t tok[JOB_TOKENS];
    /* Scratch for one callback at a time (one thread): too big for the stack of each. */
    smpdfu_img_state_t st;
    smpdfu_img_slotinfo_t si;
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("smpdfu-gw: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ------------------------------------------------------------ MQTT out */

static void topic_of(char *out, size_t cap, const char *thing, const char *rest)
{
    snprintf(out, cap, "$aws/things/%s/jobs/%s", thing, rest);
}

static int publish(gw_t *g, const char *topic, const char *payload, int qos, bool retain, int *mid)
{
    if (!g->connected) {
        return -1;
    }
    int rc = mosquitto_publish(g->m, mid, topic, (int)strlen(payload), payload, qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        logf_("publish to %s failed: %s", topic, mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

/* statusDetails values are strings (AWS: a map of strings). */
static void details_add(char *d, size_t cap, const char *k, const char *v)
{
    size_t n = strlen(d);
    char q[1200];
    smpdfu_json_quote(q, sizeof(q), v);
    snprintf(d + n, cap - n, "%s\"%s\": %s", n > 1 ? ", " : "", k, q);
}

static void ask_next(gw_t *g, gwdev_t *d)
{
    char t[300];
    topic_of(t, sizeof(t), d->cfg->name, "$next/get");
    char p[200];
    snprintf(p, sizeof(p), "{\"clientToken\": \"%s\"}", g->cfg->client_id);
    publish(g, t, p, 1, false, NULL);
}

/* A final status: published with QoS 1; the journal marks it reported when
 * the broker acknowledged it (on_publish), so a restart sends only what the
 * broker never took. */
static void report_final(gw_t *g, const char *thing, const char *job_id, const char *status,
                         const char *details)
{
    char t[300], p[DETAILS_MAX + 256];
    char jt[120];
    snprintf(jt, sizeof(jt), "%s/update", job_id);
    topic_of(t, sizeof(t), thing, jt);
    snprintf(p, sizeof(p), "{\"status\": \"%s\", \"statusDetails\": %s, \"clientToken\": \"%s\"}", status,
             details ? details : "{}", g->cfg->client_id);
    int mid = 0;
    if (publish(g, t, p, 1, false, &mid)) {
        return; /* sent on the next connect */
    }
    if (g->npend == g->cap_pend) {
        size_t nc = g->cap_pend ? 2 * g->cap_pend : 16;
        pending_t *np = realloc(g->pend, nc * sizeof(*np));
        if (!np) {
            return;
        }
        g->pend = np;
        g->cap_pend = nc;
    }
    pending_t *pe = &g->pend[g->npend++];
    pe->mid = mid;
    snprintf(pe->thing, sizeof(pe->thing), "%s", thing);
    snprintf(pe->job_id, sizeof(pe->job_id), "%s", job_id);
}

static void report_progress(gw_t *g, gwdev_t *d, const char *details, int qos)
{
    char t[300], p[DETAILS_MAX + 256];
    char jt[120];
    snprintf(jt, sizeof(jt), "%s/update", d->job.job_id);
    topic_of(t, sizeof(t), d->cfg->name, jt);
    snprintf(p, sizeof(p), "{\"status\": \"IN_PROGRESS\", \"statusDetails\": %s, \"clientToken\": \"%s\"}",
             details, g->cfg->client_id);
    publish(g, t, p, qos, false, NULL);
}

/* ------------------------------------------------------------ device jobs */

static smpdfu_req_opts_t dev_opts(gwdev_t *d)
{
    uint32_t t = d->gw->cfg->timeout_ms;
    if (!t) {
        t = smpdfu_client_default_timeout_ms(d->port.link.kind);
    }
    smpdfu_req_opts_t o = {t, SMPDFU_DEFAULT_RETRIES, NULL};
    return o;
}

static void set_step(gwdev_t *d, const char *step)
{
    if (!strcmp(d->step, step)) {
        return;
    }
    snprintf(d->step, sizeof(d->step), "%s", step);
    gw_journal_step(d->gw->j, d->cfg->name, d->job.job_id, "IN_PROGRESS", step);
    char det[256] = "{";
    details_add(det, sizeof(det), "step", step);
    strcat(det, "}");
    report_progress(d->gw, d, det, 1);
    logf_("%s: job %s: %s", d->cfg->name, d->job.job_id, step);
}

/* The state as JSON: the retained state topic and the final details. */
static void state_json(const smpdfu_img_state_t *st, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < st->count && n < cap; i++) {
        const smpdfu_img_slot_t *s = &st->slots[i];
        char hex[65] = "";
        smpdfu_gw_tohex(s->hash, s->hash_len > 32 ? 32 : s->hash_len, hex);
        char ver[80];
        smpdfu_json_quote(ver, sizeof(ver), s->version);
        n += (size_t)snprintf(out + n, cap - n,
                              "%s{\"image\": %u, \"slot\": %u, \"version\": %s, \"hash\": \"%s\", "
                              "\"active\": %s, \"confirmed\": %s, \"pending\": %s, \"permanent\": %s}",
                              i ? ", " : "", s->image, s->slot, ver, hex, s->active ? "true" : "false",
                              s->confirmed ? "true" : "false", s->pending ? "true" : "false",
                              s->permanent ? "true" : "false");
    }
    if (n < cap) {
        snprintf(out + n, cap - n, "]");
    }
}

static void publish_state(gw_t *g, gwdev_t *d, const smpdfu_img_state_t *st)
{
    char t[300], p[DETAILS_MAX];
    char list[DETAILS_MAX - 200];
    state_json(st, list, sizeof(list));
    snprintf(t, sizeof(t), "%s/%s/state", g->cfg->state_prefix, d->cfg->name);
    snprintf(p, sizeof(p), "{\"thing\": \"%s\", \"images\": %s}", d->cfg->name, list);
    free(d->state_msg);
    d->state_msg = strdup(p);
    /* Retained: a new subscriber gets each device's latest list. While the
     * broker is away it waits here and goes out on the next connect. */
    d->state_unsent = publish(g, t, p, 1, true, NULL) != 0;
}

static void publish_state_again(gw_t *g, gwdev_t *d)
{
    char t[300];
    snprintf(t, sizeof(t), "%s/%s/state", g->cfg->state_prefix, d->cfg->name);
    if (d->state_msg && d->state_unsent) {
        d->state_unsent = publish(g, t, d->state_msg, 1, true, NULL) != 0;
    }
}

/* Slot summary for statusDetails: "slot0" = "<version> <hash> active confirmed". */
static void details_slots(char *det, size_t cap, const smpdfu_img_state_t *st)
{
    for (size_t i = 0; i < st->count; i++) {
        const smpdfu_img_slot_t *s = &st->slots[i];
        char k[32], v[160], hex[65] = "";
        smpdfu_gw_tohex(s->hash, s->hash_len > 32 ? 32 : s->hash_len, hex);
        snprintf(k, sizeof(k), "image%u_slot%u", s->image, s->slot);
        snprintf(v, sizeof(v), "%s %s%s%s%s%s", s->version, hex, s->active ? " active" : "",
                 s->confirmed ? " confirmed" : "", s->pending ? " pending" : "",
                 s->permanent ? " permanent" : "");
        details_add(det, cap, k, v);
    }
}

static void dev_release(gwdev_t *d)
{
    smpdfu_posix_port_close(&d->port);
    smpdfu_posix_file_close(&d->file);
    d->file.fd = -1;
    if (d->hash_on) {
        smpdfu_posix_hash_free(&d->hs);
        d->hash_on = false;
    }
    d->close_pending = false;
}

/* The job ends: journal, report, free the device for the next job. */
static void dev_finish(gwdev_t *d, const char *status, const char *details)
{
    gw_t *g = d->gw;
    gw_journal_finish(g->j, d->cfg->name, d->job.job_id, status, details);
    report_final(g, d->cfg->name, d->job.job_id, status, details);
    logf_("%s: job %s: %s %s (%.1f s)", d->cfg->name, d->job.job_id, status, details,
          (smpdfu_posix_now_ms() - d->t_start) / 1000.0);
    if (d->state == D_RUNNING) {
        g->running--;
    }
    d->state = D_IDLE;
    d->phase = P_NONE;
    d->close_pending = true; /* closed by the loop, outside the engine's callbacks */
    ask_next(g, d);
}

static void dev_fail(gwdev_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dev_fail(gwdev_t *d, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    char det[DETAILS_MAX] = "{";
    details_add(det, sizeof(det), "step", d->step[0] ? d->step : "starting");
    details_add(det, sizeof(det), "reason", why);
    strcat(det, "}");
    dev_finish(d, "FAILED", det);
}

static void rsp_words(const smpdfu_rsp_t *r, char *buf, size_t cap)
{
    if (r->status == SMPDFU_EDEVICE) {
        smpdfu_dev_err_format(&r->dev, buf, cap);
    } else {
        snprintf(buf, cap, "%s", smpdfu_strerror(r->status));
    }
}

static void on_list(void *arg, const smpdfu_rsp_t *r)
{
    gwdev_t *d = arg;
    smpdfu_img_state_t *st = &d->gw->st;
    char why[300];
    if (r->status || smpdfu_img_state_parse(r, st)) {
        rsp_words(r, why, sizeof(why));
        dev_fail(d, "reading the image list failed: %s", why);
        return;
    }
    publish_state(d->gw, d, st);
    char det[DETAILS_MAX] = "{";
    details_add(det, sizeof(det), "step", "done");
    if (d->job.op == SMPDFU_GW_OP_DFU) {
        char hex[65];
        smpdfu_gw_tohex(d->job.sha256, 32, hex);
        details_add(det, sizeof(det), "sha256", hex);
    }
    details_slots(det, sizeof(det), st);
    strcat(det, "}");
    dev_finish(d, "SUCCEEDED", det);
}

static void on_reset(void *arg, const smpdfu_rsp_t *r)
{
    gwdev_t *d = arg;
    char why[300];
    if (r->status) {
        rsp_words(r, why, sizeof(why));
        dev_fail(d, "the device refused the reset: %s", why);
        return;
    }
    char det[128] = "{";
    details_add(det, sizeof(det), "step", "done");
    strcat(det, "}");
    dev_finish(d, "SUCCEEDED", det);
}

static const char *ev_step(smpdfu_dfu_ev_t ev)
{
    switch (ev) {
    case SMPDFU_DFU_EV_UPLOAD_START:
    case SMPDFU_DFU_EV_UPLOAD_RESUMED: return "upload";
    case SMPDFU_DFU_EV_IN_SLOT: return "in-slot";
    case SMPDFU_DFU_EV_MARK_TEST: return "test";
    case SMPDFU_DFU_EV_MARK_PERMANENT: return "permanent";
    case SMPDFU_DFU_EV_RESET: return "reset";
    case SMPDFU_DFU_EV_BACK: return "rebooted";
    case SMPDFU_DFU_EV_CONFIRM: return "confirm";
    default: return NULL;
    }
}

static void on_dfu_event(void *arg, const smpdfu_dfu_event_t *ev)
{
    gwdev_t *d = arg;
    if (ev->ev == SMPDFU_DFU_EV_UPLOAD_RESUMED) {
        logf_("%s: job %s: upload resumed at byte %u", d->cfg->name, d->job.job_id, ev->value);
    }
    const char *s = ev_step(ev->ev);
    if (s) {
        set_step(d, s);
    }
}

static void on_dfu_progress(void *arg, int image, uint32_t off, uint32_t size)
{
    gwdev_t *d = arg;
    (void)image;
    uint64_t now = smpdfu_posix_now_ms();
    if (!d->up_timing) {
        d->up_timing = true;
        d->up_t0 = now;
        d->up_off0 = off;
        d->t_prog = now;
        return;
    }
    if (now - d->t_prog < d->gw->cfg->progress_ms && off < size) {
        return; /* bounded rate: at most one progress message per interval */
    }
    d->t_prog = now;
    char pct[16], rate[32];
    snprintf(pct, sizeof(pct), "%u", size ? (unsigned)((uint64_t)off * 100 / size) : 0u);
    uint64_t ms = now - d->up_t0;
    snprintf(rate, sizeof(rate), "%.0f", ms ? (off - d->up_off0) * 1000.0 / (double)ms : 0.0);
    char det[256] = "{";
    details_add(det, sizeof(det), "step", "upload");
    details_add(det, sizeof(det), "percent", pct);
    details_add(det, sizeof(det), "rate", rate); /* bytes per second */
    strcat(det, "}");
    report_progress(d->gw, d, det, 0);
}

static void on_dfu_done(void *arg, const smpdfu_dfu_result_t *res)
{
    gwdev_t *d = arg;
    if (res->status) {
        char why[300];
        if (res->status == SMPDFU_EDEVICE) {
            smpdfu_dev_err_format(&res->dev, why, sizeof(why));
        } else {
            snprintf(why, sizeof(why), "%s", smpdfu_strerror(res->status));
        }
        dev_fail(d, "the update failed at step %s: %s", d->step[0] ? d->step : "start", why);
        return;
    }
    if (res->upload[0].resumed) {
        logf_("%s: job %s: upload resumed at byte %u", d->cfg->name, d->job.job_id,
              (unsigned)res->upload[0].resume_off);
    }
    d->phase = P_FINAL_LIST;
    set_step(d, "checking");
    smpdfu_req_opts_t o = dev_opts(d);
    int rc = smpdfu_img_state_read(&d->c, &o, on_list, d);
    if (rc) {
        dev_fail(d, "cannot ask the final state: %s", smpdfu_strerror(rc));
    }
}

static void start_dfu(gwdev_t *d)
{
    smpdfu_dfu_cfg_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.images[0].src.read = smpdfu_posix_file_read;
    cfg.images[0].src.ctx = &d->file;
    cfg.images[0].src.size = d->file.size;
    cfg.images[0].image = d->job.image;
    cfg.images[0].checked = &d->checked; /* checked in prepare_image(): not again */
    cfg.nimages = 1;
    cfg.mode = d->job.mode;
    cfg.hash = &d->h;
    smpdfu_req_opts_t o = dev_opts(d);
    cfg.timeout_ms = o.timeout_ms;
    cfg.retries = 3;
    cfg.event = on_dfu_event;
    cfg.progress = on_dfu_progress;
    cfg.done = on_dfu_done;
    cfg.arg = d;
    d->phase = P_DFU;
    int rc = smpdfu_dfu_start(&d->dfu, &d->c, &cfg);
    if (rc) {
        dev_fail(d, "the update could not start: %s", smpdfu_strerror(rc));
    }
}

static void on_slotinfo(void *arg, const smpdfu_rsp_t *r)
{
    gwdev_t *d = arg;
    smpdfu_img_slotinfo_t *si = &d->gw->si;
    if (r->status == SMPDFU_ETIMEOUT || r->status == SMPDFU_ECLOSED) {
        dev_fail(d, "the device does not answer on %s (%s); nothing was sent", d->cfg->conn,
                 smpdfu_strerror(r->status));
        return;
    }
    if (r->status == 0 && smpdfu_img_slot_info_parse(r, si) == 0) {
        const smpdfu_img_slotinfo_image_t *im = NULL;
        for (size_t i = 0; i < si->count; i++) {
            if (si->images[i].image == d->job.image) {
                im = &si->images[i];
            }
        }
        if (!im) {
            dev_fail(d, "the device has no image %u; nothing was sent", d->job.image);
            return;
        }
        uint32_t room = 0;
        for (size_t i = 0; i < im->nslots; i++) {
            if (im->slots[i].slot == 1) {
                room = im->slots[i].size;
            }
        }
        if (im->has_max_image_size) {
            room = im->max_image_size;
        }
        if (room && d->img_size > room) {
            dev_fail(d, "the image is too large for the device: %u bytes, its slot for image %u holds %u; "
                        "nothing was sent",
                     (unsigned)d->img_size, d->job.image, (unsigned)room);
            return;
        }
    } else if (d->job.image >= d->cfg->images) {
        dev_fail(d, "the configuration gives device %s %u image(s), the job asks for image %u",
                 d->cfg->name, d->cfg->images, d->job.image);
        return;
    }
    start_dfu(d);
}

/* Download once per SHA-256 into the cache, check, open. Returns 0, or
 * fills why. */
static int prepare_image(gwdev_t *d, char *why, size_t cap)
{
    gw_t *g = d->gw;
    char hex[65], path[SMPDFU_GW_PATH_MAX + 80];
    smpdfu_gw_tohex(d->job.sha256, 32, hex);
    snprintf(path, sizeof(path), "%s/%s.bin", g->cfg->cache_dir, hex);
    uint8_t *sha = d->checked.sha;
    smpdfu_image_info_t *info = &d->checked.info;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (access(path, R_OK) != 0) {
            smpdfu_posix_http_body_t body;
            char msg[512] = "";
            logf_("%s: job %s: downloading %s", d->cfg->name, d->job.job_id, d->job.url);
            smpdfu_posix_http_opts_t ho = {64u * 1024u * 1024u, 0, 0};
            int rc = smpdfu_posix_http_get(d->job.url, &ho, &body, msg, sizeof(msg));
            if (rc) {
                snprintf(why, cap, "cannot download %s: %s", d->job.url, msg[0] ? msg : smpdfu_strerror(rc));
                return rc;
            }
            smpdfu_posix_digest(SMPDFU_HASH_SHA256, body.data, body.len, sha);
            if (memcmp(sha, d->job.sha256, 32)) {
                char got[65];
                smpdfu_gw_tohex(sha, 32, got);
                snprintf(why, cap, "the image at %s has SHA-256 %s, the job says %s; nothing was sent",
                         d->job.url, got, hex);
                smpdfu_posix_http_free(&body);
                return SMPDFU_EMISMATCH;
            }
            char tmp[SMPDFU_GW_PATH_MAX + 100];
            snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            bool ok = fd >= 0 && write(fd, body.data, body.len) == (ssize_t)body.len && fsync(fd) == 0;
            if (fd >= 0) {
                close(fd);
            }
            smpdfu_posix_http_free(&body);
            if (!ok || rename(tmp, path)) {
                snprintf(why, cap, "cannot write the cache file %s: %s", path, strerror(errno));
                unlink(tmp);
                return SMPDFU_EFILE;
            }
        }
        if (smpdfu_posix_file_open(&d->file, path)) {
            snprintf(why, cap, "cannot open the cache file %s", path);
            return SMPDFU_EFILE;
        }
        smpdfu_source_t src = {smpdfu_posix_file_read, &d->file, d->file.size};
        int rc = smpdfu_dfu_check_image(&src, &d->h, info, sha);
        if (rc == 0 && memcmp(sha, d->job.sha256, 32)) {
            /* The cache file changed under us: fetch it again once. */
            smpdfu_posix_file_close(&d->file);
            d->file.fd = -1;
            unlink(path);
            continue;
        }
        if (rc) {
            snprintf(why, cap, "the file at %s is not an image to upload: %s; nothing was sent", d->job.url,
                     smpdfu_strerror(rc));
            return rc;
        }
        if (d->job.size >= 0 && (int64_t)d->file.size != d->job.size) {
            snprintf(why, cap, "the image has %u bytes, the job says %lld; nothing was sent",
                     (unsigned)d->file.size, (long long)d->job.size);
            return SMPDFU_EMISMATCH;
        }
        if (g->have_key) {
            uint8_t scratch[512];
            rc = smpdfu_image_verify_sig(info, &d->h, src.read, src.ctx, &g->sv, scratch, sizeof(scratch));
            if (rc) {
                snprintf(why, cap, "the image is not signed with the configured key (%s): %s; nothing was sent",
                         g->cfg->sign_key, smpdfu_strerror(rc));
                return rc;
            }
        }
        d->img_size = d->file.size;
        return 0;
    }
    snprintf(why, cap, "the cached image keeps changing on disk");
    return SMPDFU_EFILE;
}

static void dev_start(gw_t *g, gwdev_t *d)
{
    d->state = D_RUNNING;
    g->running++;
    d->step[0] = 0;
    d->t_start = smpdfu_posix_now_ms();
    d->up_timing = false;
    d->file.fd = -1;
    smpdfu_posix_hash_init(&d->hs, &d->h);
    d->hash_on = true;
    set_step(d, "starting");
    char why[1200];
    if (d->job.op == SMPDFU_GW_OP_DFU) {
        set_step(d, "download");
        if (prepare_image(d, why, sizeof(why))) {
            dev_fail(d, "%s", why);
            return;
        }
    }
    if (smpdfu_posix_port_parse(&d->port, d->cfg->conn) || smpdfu_posix_port_open(&d->port, SMPDFU_DEFAULT_TIMEOUT_MS)) {
        dev_fail(d, "cannot open %s: %s", d->cfg->conn, strerror(errno));
        return;
    }
    smpdfu_client_cfg_t cc;
    smpdfu_posix_client_cfg(&cc, &d->port, d->reqs, DEV_SLOTS, d->req_mem, sizeof(d->req_mem), d->rx,
                            sizeof(d->rx), d->tx, sizeof(d->tx));
    smpdfu_req_opts_t o = dev_opts(d);
    cc.timeout_ms = o.timeout_ms;
    cc.retries = SMPDFU_DEFAULT_RETRIES;
    cc.first_seq = (uint8_t)(getpid() ^ smpdfu_posix_now_ms() ^ (uintptr_t)d);
    int rc = smpdfu_client_init(&d->c, &cc);
    if (rc) {
        dev_fail(d, "cannot set up the client: %s", smpdfu_strerror(rc));
        return;
    }
    smpdfu_client_tick(&d->c, smpdfu_posix_now_ms());
    switch (d->job.op) {
    case SMPDFU_GW_OP_DFU:
        d->phase = P_SLOTINFO;
        set_step(d, "slot-info");
        rc = smpdfu_img_slot_info(&d->c, &o, on_slotinfo, d);
        break;
    case SMPDFU_GW_OP_RESET:
        d->phase = P_RESET;
        set_step(d, "reset");
        rc = smpdfu_os_reset(&d->c, false, &o, on_reset, d);
        break;
    default:
        d->phase = P_LIST;
        set_step(d, "image-list");
        rc = smpdfu_img_state_read(&d->c, &o, on_list, d);
        break;
    }
    if (rc) {
        dev_fail(d, "cannot send the first request: %s", smpdfu_strerror(rc));
    }
}

static void schedule(gw_t *g)
{
    for (size_t i = 0; i < g->nd && g->running < g->cfg->concurrency; i++) {
        gwdev_t *d = &g->devs[i];
        if (d->state == D_QUEUED && !d->close_pending) {
            dev_start(g, d);
        }
    }
}

/* ------------------------------------------------------------ MQTT in */

static gwdev_t *find_dev(gw_t *g, const char *name, size_t n)
{
    for (size_t i = 0; i < g->nd; i++) {
        if (strlen(g->devs[i].cfg->name) == n && !memcmp(g->devs[i].cfg->name, name, n)) {
            return &g->devs[i];
        }
    }
    return NULL;
}

/* A final status sent and not yet acknowledged: the same job announced
 * again meanwhile must not send it a second time. */
static bool in_flight(const gw_t *g, const char *thing, const char *job_id)
{
    for (size_t i = 0; i < g->npend; i++) {
        if (!strcmp(g->pend[i].thing, thing) && !strcmp(g->pend[i].job_id, job_id)) {
            return true;
        }
    }
    return false;
}

static void handle_job(gw_t *g, gwdev_t *d, const char *payload, size_t len)
{
    smpdfu_gw_job_t job;
    char why[600];
    smpdfu_gw_msg_t m = smpdfu_gw_job_decode(payload, len, g->cfg->allow_http, &job, why, sizeof(why), g->tok,
                                             JOB_TOKENS);
    if (m == SMPDFU_GW_MSG_NONE) {
        return;
    }
    if (m == SMPDFU_GW_MSG_MALFORMED) {
        logf_("%s: ignored a job message: %s", d->cfg->name, why);
        return;
    }
    gw_row_t row;
    int found = gw_journal_get(g->j, d->cfg->name, job.job_id, &row);
    if (found == 1) {
        bool open = !strcmp(row.status, "QUEUED") || !strcmp(row.status, "IN_PROGRESS");
        if (!open && !row.reported && !in_flight(g, d->cfg->name, job.job_id)) {
            report_final(g, d->cfg->name, job.job_id, row.status, row.details);
        } else if (open && d->state == D_IDLE && m == SMPDFU_GW_MSG_JOB) {
            d->job = job; /* journalled earlier, waiting for its device */
            d->state = D_QUEUED;
        }
        gw_row_free(&row);
        return;
    }
    if (found < 0) {
        return;
    }
    /* A device still closing its last link takes the job: schedule() starts
     * it once the close is done. (Refusing it then lost the answer to the
     * ask_next() of dev_finish(), and nothing asked again.) */
    if (d->state != D_IDLE) {
        return; /* asked again when the running job ends */
    }
    char *copy = strndup(payload, len);
    if (!copy || gw_journal_add(g->j, d->cfg->name, job.job_id, copy) < 0) {
        free(copy);
        return;
    }
    free(copy);
    logf_("%s: job %s: %s%s%s", d->cfg->name, job.job_id, m == SMPDFU_GW_MSG_JOB ? "accepted " : "REJECTED: ",
          m == SMPDFU_GW_MSG_JOB ? smpdfu_gw_op_name(job.op) : why, "");
    if (m == SMPDFU_GW_MSG_BAD_DOC) {
        char det[1200] = "{";
        details_add(det, sizeof(det), "reason", why);
        strcat(det, "}");
        gw_journal_finish(g->j, d->cfg->name, job.job_id, "REJECTED", det);
        report_final(g, d->cfg->name, job.job_id, "REJECTED", det);
        ask_next(g, d);
        return;
    }
    d->job = job;
    d->state = D_QUEUED;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    gw_t *g = obj;
    const char *t = msg->topic;
    if (strncmp(t, "$aws/things/", 12)) {
        return;
    }
    const char *name = t + 12;
    const char *slash = strstr(name, "/jobs/");
    if (!slash) {
        return;
    }
    gwdev_t *d = find_dev(g, name, (size_t)(slash - name));
    if (!d) {
        return;
    }
    const char *rest = slash + 6;
    if (!strcmp(rest, "notify-next") || !strcmp(rest, "$next/get/accepted")) {
        handle_job(g, d, msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
    } else if (strstr(rest, "/update/rejected")) {
        logf_("%s: the jobs service refused an update on %s: %.*s", d->cfg->name, rest, msg->payloadlen,
              (const char *)msg->payload);
    }
}

static void flush_one(void *arg, const gw_row_t *row)
{
    gw_t *g = arg;
    logf_("%s: job %s: sending the final status %s the broker did not take yet", row->thing, row->job_id,
          row->status);
    report_final(g, row->thing, row->job_id, row->status, row->details);
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    gw_t *g = obj;
    if (rc) {
        logf_("the broker refused the connection: %s", mosquitto_connack_string(rc));
        return;
    }
    g->connected = true;
    g->backoff_ms = 0;
    g->npend = 0; /* unacknowledged finals are still unreported in the journal */
    logf_("connected to %s as %s", g->cfg->broker, g->cfg->client_id);
    char t[300];
    g->subs_left = 0;
    for (size_t i = 0; i < g->nd; i++) {
        const char *name = g->devs[i].cfg->name;
        static const char *const rest[] = {"notify-next", "$next/get/accepted", "+/update/rejected"};
        for (int k = 0; k < 3; k++) {
            topic_of(t, sizeof(t), name, rest[k]);
            if (mosquitto_subscribe(m, NULL, t, 1) == MOSQ_ERR_SUCCESS) {
                g->subs_left++;
            }
        }
    }
    /* States before final statuses: whoever sees a final status finds the
     * state it led to already there. */
    for (size_t i = 0; i < g->nd; i++) {
        publish_state_again(g, &g->devs[i]);
    }
    gw_journal_each(g->j, true, flush_one, g);
    for (size_t i = 0; i < g->nd; i++) {
        if (g->devs[i].state == D_IDLE) {
            ask_next(g, &g->devs[i]);
        }
    }
}

/* "ready" once the broker acknowledged every subscription: from then on a
 * job announced on notify-next reaches the gateway. */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted)
{
    (void)m;
    (void)mid;
    gw_t *g = obj;
    for (int i = 0; i < qos_count; i++) {
        if (granted[i] == 0x80) {
            logf_("the broker refused a subscription (check the ACL for $aws/things/<thing>/jobs/...)");
        }
    }
    if (g->subs_left && --g->subs_left == 0) {
        logf_("ready: %zu devices subscribed", g->nd);
    }
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    gw_t *g = obj;
    if (g->connected) {
        logf_("lost the broker (%s); reconnecting", rc ? mosquitto_strerror(rc) : "closed");
    }
    g->connected = false;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    gw_t *g = obj;
    for (size_t i = 0; i < g->npend; i++) {
        if (g->pend[i].mid == mid) {
            gw_journal_reported(g->j, g->pend[i].thing, g->pend[i].job_id);
            g->pend[i] = g->pend[--g->npend];
            return;
        }
    }
}

static void on_log(struct mosquitto *m, void *obj, int level, const char *str)
{
    (void)m;
    gw_t *g = obj;
    if (g->cfg->verbose > 1 || (g->cfg->verbose && level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))) {
        logf_("mqtt: %s", str);
    }
}

static int parse_broker(gw_t *g, const char *url)
{
    const char *hp;
    if (!strncmp(url, "mqtts://", 8)) {
        g->tls = true;
        hp = url + 8;
        g->port = 8883;
    } else {
        hp = url + 7;
        g->port = 1883;
    }
    const char *colon = strrchr(hp, ':');
    size_t hl = colon ? (size_t)(colon - hp) : strlen(hp);
    if (hl == 0 || hl >= sizeof(g->host)) {
        return -1;
    }
    memcpy(g->host, hp, hl);
    g->host[hl] = 0;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535) {
            return -1;
        }
        g->port = (int)p;
    }
    return 0;
}

static void mqtt_drop(gw_t *g, int rc)
{
    if (g->sock_up) {
        if (g->connected) {
            logf_("lost the broker (%s); reconnecting", mosquitto_strerror(rc));
        }
        mosquitto_disconnect(g->m);
    }
    g->sock_up = false;
    g->connected = false;
    uint32_t max = g->cfg->reconnect_max_ms;
    g->backoff_ms = g->backoff_ms ? (g->backoff_ms * 2 > max ? max : g->backoff_ms * 2) : 250;
    g->reconnect_at = smpdfu_posix_now_ms() + g->backoff_ms;
}

static void mqtt_try_connect(gw_t *g, bool first)
{
    int rc = first ? mosquitto_connect(g->m, g->host, g->port, 30) : mosquitto_reconnect(g->m);
    if (rc == MOSQ_ERR_SUCCESS) {
        g->sock_up = true;
        return;
    }
    if (g->backoff_ms == 0 || g->cfg->verbose) {
        logf_("cannot reach the broker %s: %s; trying again", g->cfg->broker,
              rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    }
    mqtt_drop(g, rc);
}

/* ------------------------------------------------------------ loop */

static void resume_one(void *arg, const gw_row_t *row)
{
    gw_t *g = arg;
    gwdev_t *d = find_dev(g, row->thing, strlen(row->thing));
    if (!d || d->state != D_IDLE || !row->payload) {
        return;
    }
    smpdfu_gw_job_t job;
    char why[600];
    if (smpdfu_gw_job_decode(row->payload, strlen(row->payload), g->cfg->allow_http, &job, why, sizeof(why),
                             g->tok, JOB_TOKENS) != SMPDFU_GW_MSG_JOB) {
        return;
    }
    logf_("%s: job %s: resuming (was at step %s)", d->cfg->name, job.job_id, row->step);
    d->job = job;
    d->state = D_QUEUED;
}

static void pump(gw_t *g, gwdev_t *d)
{
    smpdfu_posix_port_t *p = &d->port;
    for (int i = 0; i < 64 && p->fd >= 0; i++) {
        ssize_t n = p->kind == SMPDFU_POSIX_UDP ? recv(p->fd, g->rxbuf, sizeof(g->rxbuf), 0)
                                                : read(p->fd, g->rxbuf, sizeof(g->rxbuf));
        if (n > 0) {
            p->rx_bytes += (uint32_t)n;
            smpdfu_client_feed_at(&d->c, g->rxbuf, (size_t)n, smpdfu_posix_now_ms());
            if (d->state != D_RUNNING) {
                return; /* the job ended inside the feed */
            }
            continue;
        }
        if (n == 0 && p->kind == SMPDFU_POSIX_TCP) {
            p->closed = true;
        }
        return; /* EAGAIN, or an error the engine's timeouts will handle */
    }
}

int smpdfu_gw_run(const smpdfu_gw_config_t *cfg, volatile sig_atomic_t *stop)
{
    gw_t *g = calloc(1, sizeof(*g));
    if (!g) {
        return SMPDFU_ENOSPC;
    }
    g->cfg = cfg;
    int ret = 0;
    char err[600];
    if (mkdir(cfg->cache_dir, 0755) && errno != EEXIST) {
        logf_("cannot create the cache directory %s: %s", cfg->cache_dir, strerror(errno));
        free(g);
        return SMPDFU_EFILE;
    }
    if (parse_broker(g, cfg->broker)) {
        logf_("cannot understand the broker URL %s (mqtt://HOST:PORT or mqtts://HOST:PORT)", cfg->broker);
        free(g);
        return SMPDFU_EUSAGE;
    }
    if (cfg->sign_key[0]) {
        int rc = smpdfu_posix_sigkey_load(&g->sigkey, cfg->sign_key, &g->sv);
        if (rc) {
            logf_("cannot load the signing key %s: %s", cfg->sign_key, smpdfu_strerror(rc));
            free(g);
            return rc;
        }
        g->have_key = true;
    }
    g->j = gw_journal_open(cfg->journal, err, sizeof(err));
    if (!g->j) {
        logf_("%s", err);
        free(g);
        return SMPDFU_EFILE;
    }
    g->nd = cfg->ndevices;
    g->devs = calloc(g->nd, sizeof(*g->devs));
    struct pollfd *pf = calloc(g->nd + 1, sizeof(*pf));
    gwdev_t **pdev = calloc(g->nd + 1, sizeof(*pdev));
    if (!g->devs || !pf || !pdev) {
        ret = SMPDFU_ENOSPC;
        goto out;
    }
    for (size_t i = 0; i < g->nd; i++) {
        g->devs[i].cfg = &cfg->devices[i];
        g->devs[i].gw = g;
        g->devs[i].port.fd = -1;
        g->devs[i].file.fd = -1;
    }
    gw_journal_each(g->j, false, resume_one, g);

    mosquitto_lib_init();
    g->m = mosquitto_new(cfg->client_id, true, g);
    if (!g->m) {
        logf_("cannot create the MQTT client: %s", strerror(errno));
        ret = SMPDFU_ENOSPC;
        goto out;
    }
    mosquitto_int_option(g->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (cfg->username[0] && mosquitto_username_pw_set(g->m, cfg->username, cfg->password[0] ? cfg->password : NULL)) {
        ret = SMPDFU_EUSAGE;
        goto out;
    }
    if (g->tls) {
        int rc = mosquitto_tls_set(g->m, cfg->ca, NULL, cfg->cert[0] ? cfg->cert : NULL,
                                   cfg->key[0] ? cfg->key : NULL, NULL);
        if (rc) {
            logf_("cannot set up TLS (ca %s, cert %s): %s", cfg->ca, cfg->cert, mosquitto_strerror(rc));
            ret = SMPDFU_EUSAGE;
            goto out;
        }
    }
    mosquitto_connect_callback_set(g->m, on_connect);
    mosquitto_disconnect_callback_set(g->m, on_disconnect);
    mosquitto_message_callback_set(g->m, on_message);
    mosquitto_publish_callback_set(g->m, on_publish);
    mosquitto_subscribe_callback_set(g->m, on_subscribe);
    mosquitto_log_callback_set(g->m, on_log);
    logf_("%zu devices, concurrency %u, cache %s, journal %s", g->nd, cfg->concurrency, cfg->cache_dir,
          cfg->journal);
    mqtt_try_connect(g, true);
    bool first_done = g->sock_up;

    while (!*stop) {
        uint64_t now = smpdfu_posix_now_ms();
        for (size_t i = 0; i < g->nd; i++) {
            if (g->devs[i].close_pending) {
                dev_release(&g->devs[i]);
            }
        }
        if (!g->sock_up && now >= g->reconnect_at) {
            mqtt_try_connect(g, !first_done);
            if (g->sock_up) {
                first_done = true;
            }
        }
        schedule(g);
        nfds_t n = 0;
        int mfd = g->sock_up ? mosquitto_socket(g->m) : -1;
        if (mfd >= 0) {
            pf[n].fd = mfd;
            pf[n].events = POLLIN | (mosquitto_want_write(g->m) ? POLLOUT : 0);
            pdev[n++] = NULL;
        }
        uint64_t wait = 1000;
        if (!g->sock_up) {
            wait = g->reconnect_at > now ? g->reconnect_at - now : 0;
            if (wait > 1000) {
                wait = 1000;
            }
        }
        for (size_t i = 0; i < g->nd; i++) {
            gwdev_t *d = &g->devs[i];
            if (d->state != D_RUNNING || d->port.fd < 0) {
                continue;
            }
            pf[n].fd = d->port.fd;
            pf[n].events = POLLIN;
            pdev[n++] = d;
            uint32_t t = smpdfu_client_next_timeout(&d->c);
            if (t < wait) {
                wait = t;
            }
        }
        int pr = poll(pf, n, (int)wait);
        if (pr < 0 && errno != EINTR) {
            logf_("poll: %s", strerror(errno));
            ret = SMPDFU_EIO;
            break;
        }
        now = smpdfu_posix_now_ms();
        for (nfds_t k = 0; pr > 0 && k < n; k++) {
            if (pdev[k] && (pf[k].revents & (POLLIN | POLLERR | POLLHUP)) && pdev[k]->state == D_RUNNING) {
                pump(g, pdev[k]);
            }
        }
        for (size_t i = 0; i < g->nd; i++) {
            if (g->devs[i].state == D_RUNNING && !g->devs[i].close_pending) {
                smpdfu_client_tick(&g->devs[i].c, smpdfu_posix_now_ms());
            }
        }
        if (g->sock_up) {
            int rc = MOSQ_ERR_SUCCESS;
            if (mfd >= 0 && pr > 0 && (pf[0].revents & POLLOUT)) {
                rc = mosquitto_loop_write(g->m, 1);
            }
            /* Read even without POLLIN: TLS may hold decrypted bytes poll cannot see. */
            if (rc == MOSQ_ERR_SUCCESS) {
                rc = mosquitto_loop_read(g->m, 1);
            }
            if (rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_NO_CONN) {
                int r2 = mosquitto_loop_misc(g->m);
                if (rc == MOSQ_ERR_SUCCESS) {
                    rc = r2;
                }
            }
            if (rc != MOSQ_ERR_SUCCESS) {
                mqtt_drop(g, rc);
            } else if (mosquitto_want_write(g->m)) {
                rc = mosquitto_loop_write(g->m, 1);
                if (rc != MOSQ_ERR_SUCCESS) {
                    mqtt_drop(g, rc);
                }
            }
        }
    }
    if (*stop) {
        unsigned left = 0;
        for (size_t i = 0; i < g->nd; i++) {
            if (g->devs[i].state == D_RUNNING) {
                if (g->devs[i].phase == P_DFU) {
                    smpdfu_dfu_abort(&g->devs[i].dfu);
                }
                left++;
            }
            dev_release(&g->devs[i]);
        }
        logf_("stopping: %u running job(s) stay in the journal and resume at the next start", left);
        if (g->sock_up) {
            mosquitto_disconnect(g->m);
            for (int i = 0; i < 10 && mosquitto_want_write(g->m); i++) {
                mosquitto_loop_write(g->m, 1);
            }
        }
    }
out:
    if (g->m) {
        mosquitto_destroy(g->m);
    }
    mosquitto_lib_cleanup();
    gw_journal_close(g->j);
    if (g->have_key) {
        smpdfu_posix_sigkey_free(&g->sigkey);
    }
    for (size_t i = 0; g->devs && i < g->nd; i++) {
        free(g->devs[i].state_msg);
    }
    free(g->devs);
    free(g->pend);
    free(pf);
    free(pdev);
    free(g);
    return ret;
}
