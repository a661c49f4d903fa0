/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — SMP server: the dispatcher, a group registry, and the OS and image
 * groups of a Zephyr MCUmgr device (protocol.md §1.5, §1.6, §2, §3, §4).
 *
 * Everything lives in caller-owned structs: no malloc, no I/O, no globals.
 * The caller hands whole request packets (a UDP datagram, a decoded serial
 * frame) to smpdfu_server_process(); every response goes out through the
 * send callback, built in the caller's response buffer (its size is the
 * device's buf_size). A reset request is reported after the responses are
 * out, through the on_reset callback.
 *
 * Wire behaviour follows Zephyr's smp.c: several requests in one packet are
 * answered one by one and processing stops at the first error; header
 * shorter than 8 bytes -> ECORRUPT without an answer; payload shorter than
 * the header says -> {"rc": 9}; op 1/3 (and 4..7) -> 8; version > 1 -> 13;
 * unknown group/command/op -> 8; responses are indefinite-length CBOR maps,
 * no "rc": 0 on success, v2 group errors as {"err": {"group", "rc"}} and
 * translated to {"rc": n} for v1 requests.
 */
#ifndef SMPDFU_SERVER_H
#define SMPDFU_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/boot.h"
#include "smpdfu/cbor.h"
#include "smpdfu/error.h"
#include "smpdfu/flash.h"
#include "smpdfu/smp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smpdfu_server smpdfu_server_t;

/* One request being handled. Handlers read the payload through `dec`
 * (positioned at the start of the CBOR payload) and append key/value pairs to
 * the open response map through `enc`. */
typedef struct {
    smpdfu_server_t *srv;
    const smpdfu_smp_hdr_t *hdr;
    const uint8_t *payload;   /* CBOR payload, hdr->len bytes */
    smpdfu_cbor_dec_t dec;
    smpdfu_cbor_enc_t *enc;
    uint16_t err_group;       /* set by smpdfu_server_add_err() */
    uint16_t err_rc;
    char note[96];            /* handler's words for the log ("off=0 len=512 -> off=512") */
} smpdfu_server_req_t;

/* A command handler. Returns an MGMT_ERR_* value: 0 = the response map as
 * built is the answer; non-zero = discard it and answer {"rc": value}. */
typedef int (*smpdfu_server_handler_fn)(smpdfu_server_req_t *req, void *group_ctx);

typedef struct {
    smpdfu_server_handler_fn read;  /* op 0, NULL = not supported */
    smpdfu_server_handler_fn write; /* op 2, NULL = not supported */
} smpdfu_server_handler_t;

/* A group. Caller-owned and linked into the server by
 * smpdfu_server_register(); it must outlive the server. */
typedef struct smpdfu_server_group {
    uint16_t id;
    const char *name;                          /* for the log, e.g. "img" */
    const smpdfu_server_handler_t *handlers;   /* indexed by command id */
    const char *const *cmd_names;              /* may be NULL */
    size_t handler_count;
    /* v2 group error -> v1 rc for v1 requests; NULL = MGMT_ERR_EUNKNOWN. */
    int (*translate)(uint16_t rc);
    void *ctx;                                 /* passed to the handlers */
    const char *details_name;                  /* enum details "name" ("os mgmt"), NULL = name */
    uint32_t requests;                         /* requests routed to this group (server's) */
    uint32_t errors;                           /* of those, answered with an rc or an err */
    struct smpdfu_server_group *next;          /* registry link (server's) */
} smpdfu_server_group_t;

/* Append {"err": {"group": g, "rc": rc}} to the response (v2) and remember it
 * for the v1 translation. Returns 0 or MGMT_ERR_EMSGSIZE. */
int smpdfu_server_add_err(smpdfu_server_req_t *req, uint16_t group, uint16_t rc);

/* What happened to one request, for logging. */
typedef struct {
    const smpdfu_smp_hdr_t *hdr;  /* NULL when the header itself was unreadable */
    const char *group_name;       /* "os", "img", ... or NULL (unknown group) */
    const char *cmd_name;         /* or NULL */
    int rc;                       /* MGMT_ERR_* sent as "rc", 0 if none */
    uint16_t err_group;           /* v2 group error (err_rc 0 = none) */
    uint16_t err_rc;
    bool answered;                /* a response was sent */
    const char *note;             /* handler's words, may be "" */
} smpdfu_server_event_t;

typedef int (*smpdfu_server_send_fn)(void *ctx, const uint8_t *pkt, size_t len);

struct smpdfu_server {
    uint8_t *rsp;                 /* caller-owned response buffer (buf_size) */
    size_t rsp_cap;
    smpdfu_server_group_t *groups;
    void (*on_reset)(void *ctx);  /* called after the reset response is out */
    void *reset_ctx;
    void (*on_event)(void *ctx, const smpdfu_server_event_t *ev); /* optional log */
    void *event_ctx;
    bool reset_requested;         /* set by the reset handler; internal */
    uint32_t requests;            /* counters */
    uint32_t errors;
    uint32_t responses;           /* answers sent */
    uint32_t bytes_in;            /* request bytes processed */
    uint32_t bytes_out;           /* response bytes sent */
};

/* Set up a server answering in rsp[0..rsp_cap) (>= 16 bytes). Groups are
 * added with smpdfu_server_register(). Returns 0 or SMPDFU_EINVAL. */
int smpdfu_server_init(smpdfu_server_t *s, uint8_t *rsp, size_t rsp_cap);

/* Add a group (after the ones already there: enumeration lists groups in
 * registration order). SMPDFU_EINVAL if a group with the same id is
 * registered or an argument is NULL. A group not registered is answered
 * with MGMT_ERR_ENOTSUP, which is how a port switches a group off. */
int smpdfu_server_register(smpdfu_server_t *s, smpdfu_server_group_t *g);

/* Remove a registered group (it is answered with rc 8 from then on).
 * SMPDFU_ENOTFOUND when it is not registered. */
int smpdfu_server_unregister(smpdfu_server_t *s, smpdfu_server_group_t *g);

/* Process one received packet (it may hold several requests). Each response
 * is passed to send (which must copy or transmit it before returning).
 * Returns the number of responses sent, or the first negative error send
 * returned. Bad input is answered as Zephyr does and never fails here. */
int smpdfu_server_process(smpdfu_server_t *s, const uint8_t *pkt, size_t len,
                          smpdfu_server_send_fn send, void *send_ctx);

/* Ask for a reset as the OS reset command does (used by that handler). */
void smpdfu_server_request_reset(smpdfu_server_t *s);

/* ------------------------------------------------------------ OS group */

/* One task for `taskstat` (Zephyr's k_thread fields). Stack sizes are in
 * 4-byte words as Zephyr reports them. */
typedef struct {
    char name[33];
    int32_t prio;
    uint32_t state;       /* Zephyr thread_state bits: 0 ready/running, 2 pending, 8 dead, 16 suspended */
    uint32_t stksiz;
    uint32_t stkuse;
    uint64_t runtime;     /* execution cycles */
    uint32_t cswcnt;      /* context switches (0 when not tracked) */
} smpdfu_os_task_t;

/* One memory pool for `mpstat` (Mynewt's format; Zephyr 4.x has no mpstat
 * handler). */
typedef struct {
    char name[33];
    uint32_t blksiz;
    uint32_t nblks;
    uint32_t nfree;
    uint32_t min;
} smpdfu_os_mpool_t;

typedef struct {
    smpdfu_server_group_t group;  /* register &os.group */
    uint32_t buf_size;            /* MCUmgr params */
    uint32_t buf_count;
    int32_t bootloader_mode;      /* bootloader info "mode" (smpdfu_boot_mode_value) */
    /* os info fields (NULL = "unknown" like Zephyr without the feature) */
    const char *node_name;        /* n */
    const char *kernel_release;   /* r */
    const char *kernel_version;   /* v */
    const char *build_date_time;  /* b (NULL: 'b' is an invalid format char, as without
                                     CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME) */
    const char *machine;          /* m */
    const char *processor;        /* p */
    const char *platform;         /* i */
    /* Port hooks; NULL = the command is not built in (rc 8). port_ctx is
     * passed to each. */
    void *port_ctx;
    /* taskstat / mpstat: entry i, false past the last. */
    bool (*task)(void *ctx, size_t i, smpdfu_os_task_t *out);
    bool (*mpool)(void *ctx, size_t i, smpdfu_os_mpool_t *out);
    /* datetime: UTC milliseconds since 1970; time_get returns 0 or an
     * OS_MGMT_ERR_* (RTC_NOT_SET, RTC_COMMAND_FAILED); time_set 0 or
     * RTC_COMMAND_FAILED. */
    int (*time_get)(void *ctx, int64_t *unix_ms);
    int (*time_set)(void *ctx, int64_t unix_ms);
    bool datetime_ms;             /* CONFIG_MCUMGR_GRP_OS_DATETIME_MS (default on) */
    /* CONFIG_MCUMGR_GRP_OS_TASKSTAT_ONLY_SUPPORTED_STATS=n: also send cswcnt,
     * last_checkin, next_checkin (default off, as Zephyr's default y). */
    bool taskstat_all;
    /* Reset with CONFIG_MCUMGR_GRP_OS_RESET_HOOK: the body's "force" and
     * "boot_mode" (-1 when absent) are decoded and handed to reset_hook,
     * which returns 0 to go ahead or an MGMT_ERR_* (e.g. EBUSY when not
     * forced). NULL hook: the body is not read (Zephyr without the hook). */
    int (*reset_hook)(void *ctx, bool force, int boot_mode);
    bool reset_boot_mode;         /* CONFIG_MCUMGR_GRP_OS_RESET_BOOT_MODE: read "boot_mode" */
    int last_boot_mode;           /* boot_mode of the accepted reset (0 when absent) */
} smpdfu_os_group_t;

/* Fill in defaults (Zephyr's: buf SMPDFU_DEFAULT_BUF_SIZE/_COUNT, 384/4;
 * mode -1; names of an nRF5340 DK). */
void smpdfu_os_group_init(smpdfu_os_group_t *os);

/* ---------------------------------------------------------- image group */

/* Upload session (Zephyr's g_img_mgmt_state), plus what smpdfu adds:
 * a partial write unit and the persistent progress record. */
typedef struct {
    int slot;                     /* absolute slot being written, -1 = none */
    uint32_t off;                 /* bytes accepted */
    uint32_t size;                /* `len` of the first chunk */
    uint8_t sha[32];
    uint8_t sha_len;
    uint8_t tail[SMPDFU_FLASH_MAX_ALIGN]; /* accepted bytes not yet a whole write unit */
    uint8_t tail_len;
    uint32_t crc;                 /* CRC-32 of bytes [0, off - tail_len) written */
    uint32_t rec_next;            /* next free progress entry offset in the record page */
    bool rec_active;              /* a record header is on flash */
} smpdfu_img_session_t;

typedef struct {
    smpdfu_server_group_t group;  /* register &img.group */
    const smpdfu_boot_cfg_t *boot;/* flash, slots, hash hook */
    bool image_check;             /* CONFIG_IMG_ENABLE_IMAGE_CHECK: "match" (default true) */
    bool test_on_upload;          /* smpdfu: mark the upload for test once complete and valid */
    /* smpdfu: page(s) of the same flash for the persistent upload progress
     * record; size 0 = no persistence (Zephyr behaviour). */
    smpdfu_flash_area_t progress;
    uint8_t *work;                /* caller scratch for hashing/validation (>= 64 bytes) */
    size_t work_len;
    smpdfu_img_session_t s;
    /* Counters the emulator prints. */
    uint32_t bytes_written;
    bool last_marked_test;        /* the last completed upload was marked for test */
} smpdfu_img_group_t;

/* Set up the image group over a checked boot configuration. progress may be
 * NULL. Then smpdfu_img_group_restore() picks up a saved upload. Returns 0
 * or SMPDFU_EINVAL (bad config, progress area overlapping a slot). */
int smpdfu_img_group_init(smpdfu_img_group_t *img, const smpdfu_boot_cfg_t *boot,
                          const smpdfu_flash_area_t *progress, uint8_t *work, size_t work_len);

/* After a (re)start: read the progress record and, when the bytes it claims
 * are on flash with the recorded CRC, restore the session so that the first
 * chunk with the same `sha` answers the saved offset. Returns the restored
 * offset (0 = nothing restored) or a negative flash error. */
int smpdfu_img_group_restore(smpdfu_img_group_t *img);

/* Forget the upload session (and its record), as an erase command does. */
void smpdfu_img_group_reset_upload(smpdfu_img_group_t *img);

/* Zephyr's img_mgmt_read_info(): 0 and version/hash/flags of a slot (any
 * pointer may be NULL), with img_mgmt's lax checks: the header goes through
 * smpdfu_image_hdr_decode() but only its magic counts, and the walk looks
 * for the SHA-256 TLV only. Errors (with Zephyr's IMG_MGMT_ERR_* for each):
 * SMPDFU_ERANGE (no such slot; INVALID_SLOT), SMPDFU_ENOTFOUND (erased
 * header; NO_IMAGE), SMPDFU_EIMG_MAGIC (INVALID_IMAGE_HEADER_MAGIC),
 * SMPDFU_EIMG_TLV_MAGIC (NO_TLVS), SMPDFU_EMALFORMED (an erased TLV entry;
 * INVALID_TLV), SMPDFU_EIMG_DUP_HASH (TLV_MULTIPLE_HASHES_FOUND),
 * SMPDFU_EIMG_TLV_OVERRUN (TLV_INVALID_SIZE), SMPDFU_EIMG_NO_HASH
 * (HASH_NOT_FOUND), or the flash read error (FLASH_READ_FAILED). */
int smpdfu_img_read_info(const smpdfu_img_group_t *img, int slot, smpdfu_image_version_t *ver,
                         uint8_t hash[32], uint32_t *flags);

/* The state flags state-read reports for a slot (bit 0 active, 1 pending,
 * 2 confirmed, 3 permanent). */
#define SMPDFU_IMG_F_ACTIVE 0x1u
#define SMPDFU_IMG_F_PENDING 0x2u
#define SMPDFU_IMG_F_CONFIRMED 0x4u
#define SMPDFU_IMG_F_PERMANENT 0x8u
unsigned smpdfu_img_slot_flags(const smpdfu_img_group_t *img, int slot);

/* img_mgmt_set_next_boot_slot(): the state-write rules of §4.2 in Zephyr's
 * order, then smpdfu_boot_set_next(). Returns 0, SMPDFU_ERANGE (no such
 * slot), SMPDFU_EBOOT_CONFIRM_DENIED, SMPDFU_EBOOT_TEST_ACTIVE,
 * SMPDFU_EBOOT_PENDING, or smpdfu_boot_set_next()'s error
 * (SMPDFU_EBOOT_BADVECT, SMPDFU_EBOOT_BADIMAGE, a flash error).
 * smpdfu_img_mgmt_err() gives the code a state write answers for it. */
int smpdfu_img_set_next_boot_slot(smpdfu_img_group_t *img, int slot, bool confirm);

/* The IMG_MGMT_ERR_* code (smp.h) Zephyr's state write answers for a result
 * of smpdfu_img_set_next_boot_slot(): 0 for 0, INVALID_SLOT,
 * IMAGE_CONFIRMATION_DENIED, IMAGE_SETTING_TEST_TO_ACTIVE_DENIED,
 * IMAGE_ALREADY_PENDING, INVALID_IMAGE_VECTOR_TABLE, INVALID_IMAGE_HEADER_MAGIC,
 * FLASH_WRITE_FAILED for a flash error, UNKNOWN for anything else. This is
 * where the group's own functions (negative smpdfu_err_t) meet the wire. */
uint16_t smpdfu_img_mgmt_err(int err);

/* img_mgmt_slot_in_use(). */
bool smpdfu_img_slot_in_use(const smpdfu_img_group_t *img, int slot);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_SERVER_H */
