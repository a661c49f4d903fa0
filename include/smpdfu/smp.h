/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smpdfu — SMP header (v1/v2), ids, and device error codes with their words.
 * protocol.md §1 and §2.
 */
#ifndef SMPDFU_SMP_H
#define SMPDFU_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smpdfu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SMPDFU_SMP_HDR_LEN 8

/* Ops (byte 0 bits 2..0). */
enum {
    SMPDFU_OP_READ = 0,
    SMPDFU_OP_READ_RSP = 1,
    SMPDFU_OP_WRITE = 2,
    SMPDFU_OP_WRITE_RSP = 3,
};

/* Versions (byte 0 bits 4..3). */
enum {
    SMPDFU_SMP_V1 = 0,
    SMPDFU_SMP_V2 = 1,
};

/* Groups. */
enum {
    SMPDFU_GROUP_OS = 0,
    SMPDFU_GROUP_IMAGE = 1,
    SMPDFU_GROUP_STAT = 2,
    SMPDFU_GROUP_SETTINGS = 3,
    SMPDFU_GROUP_LOG = 4,
    SMPDFU_GROUP_CRASH = 5,
    SMPDFU_GROUP_SPLIT = 6,
    SMPDFU_GROUP_RUN = 7,
    SMPDFU_GROUP_FS = 8,
    SMPDFU_GROUP_SHELL = 9,
    SMPDFU_GROUP_ENUM = 10,
    SMPDFU_GROUP_ZEPHYR_BASIC = 63,
    SMPDFU_GROUP_PERUSER = 64,
};

/* OS group commands. */
enum {
    SMPDFU_OS_ECHO = 0,
    SMPDFU_OS_CONSOLE_ECHO = 1,
    SMPDFU_OS_TASKSTAT = 2,
    SMPDFU_OS_MPSTAT = 3,
    SMPDFU_OS_DATETIME = 4,
    SMPDFU_OS_RESET = 5,
    SMPDFU_OS_PARAMS = 6,
    SMPDFU_OS_INFO = 7,
    SMPDFU_OS_BOOTLOADER_INFO = 8,
};

/* Image group commands. */
enum {
    SMPDFU_IMG_STATE = 0,
    SMPDFU_IMG_UPLOAD = 1,
    SMPDFU_IMG_FILE = 2,
    SMPDFU_IMG_CORELIST = 3,
    SMPDFU_IMG_CORELOAD = 4,
    SMPDFU_IMG_ERASE = 5,
    SMPDFU_IMG_SLOT_INFO = 6,
};

/* Statistics (2), settings (3), fs (8), shell (9), enum (10) commands
 * (Zephyr's *_MGMT_ID_*). */
enum {
    SMPDFU_STAT_SHOW = 0,
    SMPDFU_STAT_LIST = 1,
};
enum {
    SMPDFU_SETTINGS_READ_WRITE = 0,
    SMPDFU_SETTINGS_DELETE = 1,
    SMPDFU_SETTINGS_COMMIT = 2,
    SMPDFU_SETTINGS_LOAD_SAVE = 3,
};
enum {
    SMPDFU_FS_FILE = 0,
    SMPDFU_FS_STAT = 1,
    SMPDFU_FS_HASH_CHECKSUM = 2,
    SMPDFU_FS_SUPPORTED_HASH_CHECKSUM = 3,
    SMPDFU_FS_OPENED_FILE = 4,
};
enum {
    SMPDFU_SHELL_EXEC = 0,
};
enum {
    SMPDFU_ENUM_COUNT = 0,
    SMPDFU_ENUM_LIST = 1,
    SMPDFU_ENUM_SINGLE = 2,
    SMPDFU_ENUM_DETAILS = 3,
};

/* MGMT_ERR_* (SMP `rc`, both versions). */
enum {
    SMPDFU_MGMT_EOK = 0,
    SMPDFU_MGMT_EUNKNOWN = 1,
    SMPDFU_MGMT_ENOMEM = 2,
    SMPDFU_MGMT_EINVAL = 3,
    SMPDFU_MGMT_ETIMEOUT = 4,
    SMPDFU_MGMT_ENOENT = 5,
    SMPDFU_MGMT_EBADSTATE = 6,
    SMPDFU_MGMT_EMSGSIZE = 7,
    SMPDFU_MGMT_ENOTSUP = 8,
    SMPDFU_MGMT_ECORRUPT = 9,
    SMPDFU_MGMT_EBUSY = 10,
    SMPDFU_MGMT_EACCESSDENIED = 11,
    SMPDFU_MGMT_UNSUPPORTED_TOO_OLD = 12,
    SMPDFU_MGMT_UNSUPPORTED_TOO_NEW = 13,
    SMPDFU_MGMT_EPERUSER = 256,
};

/* Image group error codes (v2 err.rc with group 1), protocol.md §2.3. */
enum {
    SMPDFU_IMG_ERR_OK = 0,
    SMPDFU_IMG_ERR_UNKNOWN = 1,
    SMPDFU_IMG_ERR_FLASH_CONFIG_QUERY_FAIL = 2,
    SMPDFU_IMG_ERR_NO_IMAGE = 3,
    SMPDFU_IMG_ERR_NO_TLVS = 4,
    SMPDFU_IMG_ERR_INVALID_TLV = 5,
    SMPDFU_IMG_ERR_TLV_MULTIPLE_HASHES_FOUND = 6,
    SMPDFU_IMG_ERR_TLV_INVALID_SIZE = 7,
    SMPDFU_IMG_ERR_HASH_NOT_FOUND = 8,
    SMPDFU_IMG_ERR_NO_FREE_SLOT = 9,
    SMPDFU_IMG_ERR_FLASH_OPEN_FAILED = 10,
    SMPDFU_IMG_ERR_FLASH_READ_FAILED = 11,
    SMPDFU_IMG_ERR_FLASH_WRITE_FAILED = 12,
    SMPDFU_IMG_ERR_FLASH_ERASE_FAILED = 13,
    SMPDFU_IMG_ERR_INVALID_SLOT = 14,
    SMPDFU_IMG_ERR_NO_FREE_MEMORY = 15,
    SMPDFU_IMG_ERR_FLASH_CONTEXT_ALREADY_SET = 16,
    SMPDFU_IMG_ERR_FLASH_CONTEXT_NOT_SET = 17,
    SMPDFU_IMG_ERR_FLASH_AREA_DEVICE_NULL = 18,
    SMPDFU_IMG_ERR_INVALID_PAGE_OFFSET = 19,
    SMPDFU_IMG_ERR_INVALID_OFFSET = 20,
    SMPDFU_IMG_ERR_INVALID_LENGTH = 21,
    SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER = 22,
    SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC = 23,
    SMPDFU_IMG_ERR_INVALID_HASH = 24,
    SMPDFU_IMG_ERR_INVALID_FLASH_ADDRESS = 25,
    SMPDFU_IMG_ERR_VERSION_GET_FAILED = 26,
    SMPDFU_IMG_ERR_CURRENT_VERSION_IS_NEWER = 27,
    SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING = 28,
    SMPDFU_IMG_ERR_INVALID_IMAGE_VECTOR_TABLE = 29,
    SMPDFU_IMG_ERR_INVALID_IMAGE_TOO_LARGE = 30,
    SMPDFU_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN = 31,
    SMPDFU_IMG_ERR_IMAGE_CONFIRMATION_DENIED = 32,
    SMPDFU_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33,
    SMPDFU_IMG_ERR_ACTIVE_SLOT_NOT_KNOWN = 34,
};

/* OS group error codes (v2 err.rc with group 0), protocol.md §2.5. */
enum {
    SMPDFU_OS_ERR_OK = 0,
    SMPDFU_OS_ERR_UNKNOWN = 1,
    SMPDFU_OS_ERR_INVALID_FORMAT = 2,
    SMPDFU_OS_ERR_QUERY_YIELDS_NO_ANSWER = 3,
    SMPDFU_OS_ERR_RTC_NOT_SET = 4,
    SMPDFU_OS_ERR_RTC_COMMAND_FAILED = 5,
    SMPDFU_OS_ERR_QUERY_RESPONSE_VALUE_NOT_VALID = 6,
};

/* STAT_MGMT_ERR_* (stat_mgmt.h). */
enum {
    SMPDFU_STAT_ERR_OK = 0,
    SMPDFU_STAT_ERR_UNKNOWN = 1,
    SMPDFU_STAT_ERR_INVALID_GROUP = 2,
    SMPDFU_STAT_ERR_INVALID_STAT_NAME = 3,
    SMPDFU_STAT_ERR_INVALID_STAT_SIZE = 4,
    SMPDFU_STAT_ERR_WALK_ABORTED = 5,
};

/* SETTINGS_MGMT_ERR_* (settings_mgmt.h). */
enum {
    SMPDFU_SETTINGS_ERR_OK = 0,
    SMPDFU_SETTINGS_ERR_UNKNOWN = 1,
    SMPDFU_SETTINGS_ERR_KEY_TOO_LONG = 2,
    SMPDFU_SETTINGS_ERR_KEY_NOT_FOUND = 3,
    SMPDFU_SETTINGS_ERR_READ_NOT_SUPPORTED = 4,
    SMPDFU_SETTINGS_ERR_ROOT_KEY_NOT_FOUND = 5,
    SMPDFU_SETTINGS_ERR_WRITE_NOT_SUPPORTED = 6,
    SMPDFU_SETTINGS_ERR_DELETE_NOT_SUPPORTED = 7,
    SMPDFU_SETTINGS_ERR_SAVE_NOT_SUPPORTED = 8,
};

/* FS_MGMT_ERR_* (fs_mgmt.h). */
enum {
    SMPDFU_FS_ERR_OK = 0,
    SMPDFU_FS_ERR_UNKNOWN = 1,
    SMPDFU_FS_ERR_FILE_INVALID_NAME = 2,
    SMPDFU_FS_ERR_FILE_NOT_FOUND = 3,
    SMPDFU_FS_ERR_FILE_IS_DIRECTORY = 4,
    SMPDFU_FS_ERR_FILE_OPEN_FAILED = 5,
    SMPDFU_FS_ERR_FILE_SEEK_FAILED = 6,
    SMPDFU_FS_ERR_FILE_READ_FAILED = 7,
    SMPDFU_FS_ERR_FILE_TRUNCATE_FAILED = 8,
    SMPDFU_FS_ERR_FILE_DELETE_FAILED = 9,
    SMPDFU_FS_ERR_FILE_WRITE_FAILED = 10,
    SMPDFU_FS_ERR_FILE_OFFSET_NOT_VALID = 11,
    SMPDFU_FS_ERR_FILE_OFFSET_LARGER_THAN_FILE = 12,
    SMPDFU_FS_ERR_CHECKSUM_HASH_NOT_FOUND = 13,
    SMPDFU_FS_ERR_MOUNT_POINT_NOT_FOUND = 14,
    SMPDFU_FS_ERR_READ_ONLY_FILESYSTEM = 15,
    SMPDFU_FS_ERR_FILE_EMPTY = 16,
};

/* SHELL_MGMT_ERR_* (shell_mgmt.h). */
enum {
    SMPDFU_SHELL_ERR_OK = 0,
    SMPDFU_SHELL_ERR_UNKNOWN = 1,
    SMPDFU_SHELL_ERR_COMMAND_TOO_LONG = 2,
    SMPDFU_SHELL_ERR_EMPTY_COMMAND = 3,
};

/* ENUM_MGMT_ERR_* (enum_mgmt.h). */
enum {
    SMPDFU_ENUM_ERR_OK = 0,
    SMPDFU_ENUM_ERR_UNKNOWN = 1,
    SMPDFU_ENUM_ERR_TOO_MANY_GROUP_ENTRIES = 2,
    SMPDFU_ENUM_ERR_INSUFFICIENT_HEAP_FOR_ENTRIES = 3,
    SMPDFU_ENUM_ERR_INDEX_TOO_LARGE = 4,
};

/* Decoded 8-byte header. */
typedef struct {
    uint8_t op;      /* SMPDFU_OP_* */
    uint8_t version; /* SMPDFU_SMP_V1 / V2 (2, 3 reserved) */
    uint8_t flags;
    uint16_t len;    /* CBOR payload length, header excluded */
    uint16_t group;
    uint8_t seq;
    uint8_t id;
    uint8_t reserved; /* byte 0 bits 7..5 as found (decode); ignored by encode */
} smpdfu_smp_hdr_t;

/* Write the header into out[0..8). Values are masked to their bit widths. */
void smpdfu_smp_hdr_encode(const smpdfu_smp_hdr_t *h, uint8_t out[SMPDFU_SMP_HDR_LEN]);

/* Read a header from buf. Returns 0, or SMPDFU_ETRUNC when len < 8.
 * Reserved bits and version are returned as found; smpdfu_smp_hdr_check()
 * judges them. */
int smpdfu_smp_hdr_decode(const uint8_t *buf, size_t len, smpdfu_smp_hdr_t *h);

/* Judge a decoded header: SMPDFU_EHEADER when reserved bits are set or the
 * version is 2 or 3, else 0. (A server answers version > 1 with
 * MGMT_ERR_UNSUPPORTED_TOO_NEW; stream decoders use this to resynchronise.) */
int smpdfu_smp_hdr_check(const smpdfu_smp_hdr_t *h);

/* Byte 0 of a header with these fields. */
uint8_t smpdfu_smp_byte0(uint8_t version, uint8_t op);

/* Response op for a request op (0 -> 1, anything else -> 3). */
uint8_t smpdfu_smp_rsp_op(uint8_t req_op);

/* ----------------------------------------------------- device error words */

/* An error reported by the device. `group_err` false: SMP-level rc
 * (MGMT_ERR_*, either version); true: v2 `err {group, rc}`. */
typedef struct {
    bool group_err;
    uint16_t group; /* group that produced a v2 error; request group for rc */
    int32_t rc;
    uint8_t version; /* SMP version of the response header */
} smpdfu_dev_err_t;

/* Stable name and a sentence for a device error, e.g. for {true, 1, 28}:
 * name "IMG_ERR_IMAGE_ALREADY_PENDING", sentence "another image is already
 * pending". Unknown codes get a generic name/sentence ("unknown image group
 * error") rather than NULL. Either out pointer may be NULL. */
void smpdfu_dev_err_text(const smpdfu_dev_err_t *e, const char **name, const char **sentence);

/* Format a full explanation into buf, e.g. "another image is already
 * pending (image group error 28, IMG_ERR_IMAGE_ALREADY_PENDING)"; with
 * SMPDFU_NO_SENTENCES (config.h) the name leads and is not repeated:
 * "IMG_ERR_IMAGE_ALREADY_PENDING (image group error 28)", and the sentence
 * smpdfu_dev_err_text() gives is the name. Uses no printf.
 * Always NUL-terminates when cap > 0; returns the length smpdfu would have
 * written (like snprintf) or SMPDFU_EINVAL. */
int smpdfu_dev_err_format(const smpdfu_dev_err_t *e, char *buf, size_t cap);

/* Human name of a group ("image", "os", ...; "group N" style not produced:
 * unknown groups give "unknown"). */
const char *smpdfu_group_name(uint16_t group);

/* v2 -> v1 translation Zephyr applies when a v1 request hits a group error
 * (protocol.md §2.4): returns the MGMT_ERR_* rc to send. */
int smpdfu_smp_err_to_v1(uint16_t group, uint16_t rc);

#ifdef __cplusplus
}
#endif
#endif /* SMPDFU_SMP_H */
