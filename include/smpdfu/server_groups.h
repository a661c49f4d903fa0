/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — the SMP server groups beyond OS and image, as Zephyr 4.x answers
 * them: statistics (2), settings (3), file system (8), shell (9) and
 * enumeration (10); and MCUboot's serial recovery server (boot_serial).
 *
 * Every group is a caller-owned struct holding a smpdfu_server_group_t:
 * init it, set the port hooks, and register &x.group with
 * smpdfu_server_register(). A group that is not registered is answered with
 * MGMT_ERR_ENOTSUP (8) like a Zephyr build without it. No malloc, no I/O:
 * everything the device owns (files, the settings flash, the shell's
 * commands) comes in through hooks. Wire formats: docs/protocol.md §13-§18.
 */
#ifndef SMPDFU_SERVER_GROUPS_H
#define SMPDFU_SERVER_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/boot.h"
#include "smpdfu/flash.h"
#include "smpdfu/hash.h"
#include "smpdfu/server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ statistics (2) */

/* One statistics group (Zephyr's STATS_SECT): `field(ctx, i, ...)` gives
 * field i's name and value, false past the last field. Caller-owned. */
typedef struct smpdfu_stat_set {
    const char *name;
    bool (*field)(void *ctx, size_t i, const char **name, uint32_t *value);
    void *ctx;
    struct smpdfu_stat_set *next; /* list link (stat group's) */
} smpdfu_stat_set_t;

typedef struct {
    smpdfu_server_group_t group;
    smpdfu_stat_set_t *sets;      /* registered sets, in order */
    /* Built in, counting what the server sees: "smp" (requests, errors,
     * bytes_in, bytes_out, responses), "smp_requests" and "smp_errors" (one
     * field per registered group, named after it). */
    smpdfu_stat_set_t smp, smp_requests, smp_errors;
} smpdfu_stat_group_t;

/* Set up the group and its three built-in sets over server s. */
void smpdfu_stat_group_init(smpdfu_stat_group_t *st, smpdfu_server_t *s);
/* Append a set (names must be unique and shorter than 32 bytes).
 * SMPDFU_EINVAL for NULL arguments or a set already added. */
int smpdfu_stat_add(smpdfu_stat_group_t *st, smpdfu_stat_set_t *set);

/* -------------------------------------------------------- settings (3) */

/* CONFIG_MCUMGR_GRP_SETTINGS_NAME_LEN: names must be shorter than this. */
#define SMPDFU_SETTINGS_NAME_LEN 32
/* Largest value the runtime table holds (and a read returns by default:
 * CONFIG_MCUMGR_GRP_SETTINGS_VALUE_LEN). */
#define SMPDFU_SETTINGS_VALUE_LEN 64
/* Runtime entries (the application's settings handlers, as a table). */
#define SMPDFU_SETTINGS_MAX 32

/* Persistent storage behind the settings (Zephyr's settings backend).
 * load() calls cb for every stored pair in storage order (a later pair of
 * the same name wins); save() stores one pair, val NULL/len 0 deletes it.
 * Both return 0 or a negative smpdfu error. */
typedef int (*smpdfu_settings_load_cb)(void *cbctx, const char *name, const uint8_t *val,
                                       size_t len);
typedef struct {
    int (*load)(void *ctx, smpdfu_settings_load_cb cb, void *cbctx);
    int (*save)(void *ctx, const char *name, const uint8_t *val, size_t len);
    void *ctx;
} smpdfu_settings_store_t;

typedef struct {
    char name[SMPDFU_SETTINGS_NAME_LEN];
    uint8_t val[SMPDFU_SETTINGS_VALUE_LEN];
    uint8_t len;
    bool used;
} smpdfu_settings_entry_t;

typedef struct {
    smpdfu_server_group_t group;
    const smpdfu_settings_store_t *store;   /* NULL: nothing persists */
    /* Root names (text before the first '/') the application has handlers
     * for; NULL = every root. Others: SETTINGS_MGMT_ERR_ROOT_KEY_NOT_FOUND. */
    const char *const *roots;
    smpdfu_settings_entry_t rt[SMPDFU_SETTINGS_MAX]; /* runtime values */
    uint32_t commits;                       /* settings_commit() calls */
    int last_store_err;                     /* last failing store call, for the log */
} smpdfu_settings_group_t;

/* Set up the group; store may be NULL. Call smpdfu_settings_load() at
 * start-up as an application calls settings_load(). */
void smpdfu_settings_group_init(smpdfu_settings_group_t *sg, const smpdfu_settings_store_t *store);
/* settings_load(): runtime values = what the store holds. Returns 0 or the
 * store's error. */
int smpdfu_settings_load(smpdfu_settings_group_t *sg);

/* A settings store in a flash area of two or more pages: an append-only log
 * of (name, value) records with a CRC each, compacted into the next page
 * when the current one is full (like Zephyr's FCB/NVS backends). Records
 * that fail their CRC (a write cut by a power loss) are skipped. */
typedef struct {
    const smpdfu_flash_t *flash;
    smpdfu_flash_area_t area;  /* >= 2 pages */
    uint32_t page;             /* active page index */
    uint32_t next;             /* next free offset in the active page */
    uint32_t seq;              /* active page's sequence number */
    smpdfu_settings_store_t store; /* hand &fs.store to the settings group */
} smpdfu_settings_flash_t;

/* Open the store: find the newest page and its end. Erased flash is an
 * empty store. Returns 0, SMPDFU_EINVAL (area not 2+ whole pages) or a
 * flash error. */
int smpdfu_settings_flash_init(smpdfu_settings_flash_t *fs, const smpdfu_flash_t *flash,
                               const smpdfu_flash_area_t *area);

/* ----------------------------------------------------- file system (8) */

/* CONFIG_MCUMGR_GRP_FS_PATH_LEN */
#define SMPDFU_FS_PATH_LEN 64

/* The file system the port provides. Paths are the device's ("/lfs/a.txt"
 * style, NUL-terminated, at most SMPDFU_FS_PATH_LEN bytes). Two handles:
 * 0 = the file being transferred, 1 = a file being hashed.
 * Errors are FS_MGMT_ERR_* values (> 0): FILE_INVALID_NAME for a path the
 * port refuses (one that escapes its root), FILE_NOT_FOUND,
 * FILE_IS_DIRECTORY (stat), MOUNT_POINT_NOT_FOUND (create in a missing
 * directory), READ_ONLY_FILESYSTEM, UNKNOWN. */
#define SMPDFU_FS_OPEN_READ 0u
#define SMPDFU_FS_OPEN_WRITE 1u   /* create if missing, do not truncate */
typedef struct {
    int (*stat)(void *ctx, const char *path, uint64_t *size, bool *is_dir);
    int (*open)(void *ctx, int h, const char *path, unsigned mode);
    /* Bytes read (0 at end of file) or a negative value on failure. */
    long (*pread)(void *ctx, int h, uint64_t off, void *buf, size_t len);
    /* 0 or negative. */
    int (*pwrite)(void *ctx, int h, uint64_t off, const void *buf, size_t len);
    int (*truncate)(void *ctx, int h, uint64_t len);
    void (*close)(void *ctx, int h);
    void *ctx;
} smpdfu_fs_port_t;

typedef struct {
    smpdfu_server_group_t group;
    const smpdfu_fs_port_t *port;
    const smpdfu_hash_t *hash;    /* SHA-256 for the "sha256" type; NULL: crc32 only */
    uint8_t *work;                /* scratch for hashing (>= 64 bytes) */
    size_t work_len;
    /* Zephyr's fs_mgmt_ctxt: one transfer at a time. */
    uint8_t state;                /* 0 none, 1 upload, 2 download */
    uint64_t off;                 /* expected next offset */
    uint64_t len;                 /* total length (0 = unknown) */
    uint64_t pos;                 /* upload: the open file's position */
    char path[SMPDFU_FS_PATH_LEN + 1];
    uint64_t bytes_up, bytes_down; /* counters for the log and stats */
} smpdfu_fs_group_t;

void smpdfu_fs_group_init(smpdfu_fs_group_t *fg, const smpdfu_fs_port_t *port,
                          const smpdfu_hash_t *hash, uint8_t *work, size_t work_len);
/* Close the open file, as the idle timer or `fs close` does. */
void smpdfu_fs_group_close(smpdfu_fs_group_t *fg);

/* ----------------------------------------------------------- shell (9) */

/* CONFIG_SHELL_CMD_BUFF_SIZE */
#define SMPDFU_SHELL_LINE_MAX 256
/* Output the dummy shell backend keeps (CONFIG_SHELL_BACKEND_DUMMY_BUF_SIZE). */
#define SMPDFU_SHELL_OUT_MAX 300

/* A shell command: argv[0..argc) are NUL-terminated words of the line;
 * writes its output with smpdfu_shell_print() and returns the value sent
 * as "ret" (0 ok, negative errno style on failure). */
typedef struct smpdfu_shell_out smpdfu_shell_out_t;
typedef int (*smpdfu_shell_cmd_fn)(void *ctx, smpdfu_shell_out_t *out, int argc, char **argv);
typedef struct {
    const char *name;
    const char *help;
    smpdfu_shell_cmd_fn fn;
} smpdfu_shell_cmd_t;

struct smpdfu_shell_out {
    char buf[SMPDFU_SHELL_OUT_MAX];
    size_t len;
};
/* Append text (truncated when the buffer is full, as the dummy backend). */
void smpdfu_shell_print(smpdfu_shell_out_t *out, const char *s);
void smpdfu_shell_print_u64(smpdfu_shell_out_t *out, uint64_t v);

typedef struct {
    smpdfu_server_group_t group;
    const smpdfu_shell_cmd_t *cmds;   /* the port's commands, besides the built-in ones */
    size_t ncmds;
    void *cmd_ctx;
    /* For the built-in `kernel uptime` / `uptime`: ms since boot, NULL = 0. */
    uint64_t (*uptime_ms)(void *ctx);
    const char *version;              /* `kernel version` ("4.4.0") */
    char line[SMPDFU_SHELL_LINE_MAX + 1];
    smpdfu_shell_out_t out;
} smpdfu_shell_group_t;

/* Built in: `help`, `echo ARGS`, `version` / `kernel version`, `uptime` /
 * `kernel uptime`; an unknown command prints "NAME: command not found" and
 * returns -8 (-ENOEXEC) as Zephyr's shell. */
void smpdfu_shell_group_init(smpdfu_shell_group_t *sh, const smpdfu_shell_cmd_t *cmds,
                             size_t ncmds, void *cmd_ctx);

/* ----------------------------------------------------- enumeration (10) */

/* CONFIG_MCUMGR_GRP_ENUM_DETAILS_BUFFER_TYPE_STACK_ENTRIES */
#define SMPDFU_ENUM_DETAILS_MAX 16

typedef struct {
    smpdfu_server_group_t group;
} smpdfu_enum_group_t;

void smpdfu_enum_group_init(smpdfu_enum_group_t *eg);

/* ------------------------------------------- MCUboot serial recovery */

/* MCUboot's boot_serial SMP server (boot/boot_serial/src/boot_serial.c):
 * what the bootloader answers when it is in serial recovery. It is not the
 * Zephyr dispatcher: one request per packet, an op other than read/write
 * or a length field longer than the packet is dropped without an answer,
 * every answer but a list carries "rc" (also 0), unknown groups and
 * commands are {"rc": 8}, uploads go straight to the primary slot of the
 * given image (erased whole on the first chunk), no "match", no resume
 * across a restart. */
typedef struct {
    const smpdfu_boot_cfg_t *boot;
    uint8_t *rsp;                 /* response buffer (>= 64 bytes) */
    size_t rsp_cap;
    uint8_t *work;                /* scratch for validation (>= 64 bytes) */
    size_t work_len;
    uint32_t receive_size;        /* MCUBOOT_SERIAL_MAX_RECEIVE_SIZE, reported by params (512) */
    bool echo;                    /* MCUBOOT_BOOT_MGMT_ECHO (default on) */
    bool params;                  /* MCUBOOT_BOOT_MGMT_MCUMGR_PARAMS (default on) */
    bool hash;                    /* MCUBOOT_SERIAL_IMG_GRP_HASH: "hash" in the list (on) */
    bool slot_info;               /* MCUBOOT_SERIAL_IMG_GRP_SLOT_INFO (on) */
    /* upload state (bs_upload's statics) */
    uint32_t img_num;
    uint32_t curr_off;
    uint32_t img_size;
    bool reset_requested;
    void (*on_reset)(void *ctx);  /* after the reset answer is out */
    void *reset_ctx;
    void (*on_event)(void *ctx, const smpdfu_server_event_t *ev); /* optional log */
    void *event_ctx;
    char note[96];
} smpdfu_bootserial_t;

/* Defaults as above over a checked boot configuration. */
void smpdfu_bootserial_init(smpdfu_bootserial_t *b, const smpdfu_boot_cfg_t *boot, uint8_t *rsp,
                            size_t rsp_cap, uint8_t *work, size_t work_len);
/* Handle one received packet; returns 1 when an answer was sent, 0 when the
 * packet was dropped, or send's negative error. */
int smpdfu_bootserial_process(smpdfu_bootserial_t *b, const uint8_t *pkt, size_t len,
                              smpdfu_server_send_fn send, void *send_ctx);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_SERVER_GROUPS_H */
