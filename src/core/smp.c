/* SPDX-License-Identifier: Apache-2.0 */
/* SMP header (protocol.md §1) and the words for device error codes (§2). */
#include "smpdfu/config.h"
#include "smpdfu/smp.h"

#include <limits.h>
#include <string.h>

void smpdfu_smp_hdr_encode(const smpdfu_smp_hdr_t *h, uint8_t out[SMPDFU_SMP_HDR_LEN])
{
    out[0] = smpdfu_smp_byte0(h->version, h->op);
    out[1] = h->flags;
    out[2] = (uint8_t)(h->len >> 8);
    out[3] = (uint8_t)(h->len & 0xffu);
    out[4] = (uint8_t)(h->group >> 8);
    out[5] = (uint8_t)(h->group & 0xffu);
    out[6] = h->seq;
    out[7] = h->id;
}

int smpdfu_smp_hdr_decode(const uint8_t *buf, size_t len, smpdfu_smp_hdr_t *h)
{
    if (buf == NULL || h == NULL) {
        return SMPDFU_EINVAL;
    }
    if (len < SMPDFU_SMP_HDR_LEN) {
        return SMPDFU_ETRUNC;
    }
    h->op = (uint8_t)(buf[0] & 0x07u);
    h->version = (uint8_t)((buf[0] >> 3) & 0x03u);
    h->reserved = (uint8_t)(buf[0] >> 5);
    h->flags = buf[1];
    h->len = (uint16_t)(((unsigned)buf[2] << 8) | buf[3]);
    h->group = (uint16_t)(((unsigned)buf[4] << 8) | buf[5]);
    h->seq = buf[6];
    h->id = buf[7];
    return 0;
}

int smpdfu_smp_hdr_check(const smpdfu_smp_hdr_t *h)
{
    if (h == NULL) {
        return SMPDFU_EINVAL;
    }
    if (h->reserved != 0 || h->version > SMPDFU_SMP_V2) {
        return SMPDFU_EHEADER;
    }
    return 0;
}

uint8_t smpdfu_smp_byte0(uint8_t version, uint8_t op)
{
    return (uint8_t)(((version & 0x03u) << 3) | (op & 0x07u));
}

uint8_t smpdfu_smp_rsp_op(uint8_t req_op)
{
    return req_op == SMPDFU_OP_READ ? SMPDFU_OP_READ_RSP : SMPDFU_OP_WRITE_RSP;
}

/* ------------------------------------------------------------- error words */

struct code_text {
    const char *name;
    const char *text;
};

/* Indexed by code. Sentences say what happened and, where there is one, what
 * the user can do about it. */
static const struct code_text mgmt_texts[] = {
    { "MGMT_ERR_EOK", SMPDFU_SENTENCE("success") },
    { "MGMT_ERR_EUNKNOWN", SMPDFU_SENTENCE("the device failed for an unspecified reason") },
    { "MGMT_ERR_ENOMEM", SMPDFU_SENTENCE("the device ran out of memory (try smaller requests or fewer at once)") },
    { "MGMT_ERR_EINVAL", SMPDFU_SENTENCE("the device rejected a value in the request or could not decode it") },
    { "MGMT_ERR_ETIMEOUT", SMPDFU_SENTENCE("the device timed out while handling the request") },
    { "MGMT_ERR_ENOENT", SMPDFU_SENTENCE("the device has no such entry (nothing matches the request)") },
    { "MGMT_ERR_EBADSTATE", SMPDFU_SENTENCE("the device's current state does not allow this command") },
    { "MGMT_ERR_EMSGSIZE", SMPDFU_SENTENCE("the response would not fit the device's buffer (use smaller requests)") },
    { "MGMT_ERR_ENOTSUP", SMPDFU_SENTENCE("the device does not support this command") },
    { "MGMT_ERR_ECORRUPT", SMPDFU_SENTENCE("the device received a corrupt or truncated packet") },
    { "MGMT_ERR_EBUSY", SMPDFU_SENTENCE("the device is busy with another operation (retry later, or force it)") },
    { "MGMT_ERR_EACCESSDENIED", SMPDFU_SENTENCE("the device denied access to this command") },
    { "MGMT_ERR_UNSUPPORTED_TOO_OLD", SMPDFU_SENTENCE("the device does not accept this old SMP version (use SMP v2)") },
    { "MGMT_ERR_UNSUPPORTED_TOO_NEW", SMPDFU_SENTENCE("the device does not accept this new SMP version (use SMP v1)") },
};

static const struct code_text img_texts[] = {
    { "IMG_ERR_OK", SMPDFU_SENTENCE("success") },
    { "IMG_ERR_UNKNOWN", SMPDFU_SENTENCE("the image operation failed for an unspecified reason") },
    { "IMG_ERR_FLASH_CONFIG_QUERY_FAIL", SMPDFU_SENTENCE("the device could not query its flash configuration") },
    { "IMG_ERR_NO_IMAGE", SMPDFU_SENTENCE("the slot holds no image") },
    { "IMG_ERR_NO_TLVS", SMPDFU_SENTENCE("the image has no TLV area after its payload (not a signed MCUboot image?)") },
    { "IMG_ERR_INVALID_TLV", SMPDFU_SENTENCE("the image has an invalid TLV entry") },
    { "IMG_ERR_TLV_MULTIPLE_HASHES_FOUND", SMPDFU_SENTENCE("the image carries more than one hash TLV") },
    { "IMG_ERR_TLV_INVALID_SIZE", SMPDFU_SENTENCE("an image hash TLV runs past the TLV area") },
    { "IMG_ERR_HASH_NOT_FOUND", SMPDFU_SENTENCE("no image with this hash is on the device (check the hash, or list the images)") },
    { "IMG_ERR_NO_FREE_SLOT", SMPDFU_SENTENCE("no free slot: the slot holds the running image, the image to revert to, or one marked for the next boot (confirm the running image first)") },
    { "IMG_ERR_FLASH_OPEN_FAILED", SMPDFU_SENTENCE("the device could not open the flash area") },
    { "IMG_ERR_FLASH_READ_FAILED", SMPDFU_SENTENCE("the device failed to read flash") },
    { "IMG_ERR_FLASH_WRITE_FAILED", SMPDFU_SENTENCE("the device failed to write flash (or to set the pending/confirmed flags)") },
    { "IMG_ERR_FLASH_ERASE_FAILED", SMPDFU_SENTENCE("the device failed to erase flash") },
    { "IMG_ERR_INVALID_SLOT", SMPDFU_SENTENCE("the slot or image number is not valid on this device") },
    { "IMG_ERR_NO_FREE_MEMORY", SMPDFU_SENTENCE("the device ran out of memory for the image operation") },
    { "IMG_ERR_FLASH_CONTEXT_ALREADY_SET", SMPDFU_SENTENCE("the device's flash write context is already in use") },
    { "IMG_ERR_FLASH_CONTEXT_NOT_SET", SMPDFU_SENTENCE("the device's flash write context is not set up") },
    { "IMG_ERR_FLASH_AREA_DEVICE_NULL", SMPDFU_SENTENCE("the flash area has no flash device behind it") },
    { "IMG_ERR_INVALID_PAGE_OFFSET", SMPDFU_SENTENCE("the flash page offset is not valid") },
    { "IMG_ERR_INVALID_OFFSET", SMPDFU_SENTENCE("the upload request carries no valid offset") },
    { "IMG_ERR_INVALID_LENGTH", SMPDFU_SENTENCE("the first upload request carries no valid image length") },
    { "IMG_ERR_INVALID_IMAGE_HEADER", SMPDFU_SENTENCE("the first upload chunk is too short to hold the 32-byte image header") },
    { "IMG_ERR_INVALID_IMAGE_HEADER_MAGIC", SMPDFU_SENTENCE("the data is not an MCUboot image (bad header magic); upload a signed image") },
    { "IMG_ERR_INVALID_HASH", SMPDFU_SENTENCE("the hash in the request is missing or has the wrong length") },
    { "IMG_ERR_INVALID_FLASH_ADDRESS", SMPDFU_SENTENCE("the image is linked for a different slot address than the one it would go to") },
    { "IMG_ERR_VERSION_GET_FAILED", SMPDFU_SENTENCE("the device could not read the running image's version") },
    { "IMG_ERR_CURRENT_VERSION_IS_NEWER", SMPDFU_SENTENCE("the running image's version is the same or newer (upgrade-only was requested)") },
    { "IMG_ERR_IMAGE_ALREADY_PENDING", SMPDFU_SENTENCE("another image is already pending (reset to apply it, or erase the slot first)") },
    { "IMG_ERR_INVALID_IMAGE_VECTOR_TABLE", SMPDFU_SENTENCE("the image's vector table or trailer is not valid") },
    { "IMG_ERR_INVALID_IMAGE_TOO_LARGE", SMPDFU_SENTENCE("the image is too large for the slot") },
    { "IMG_ERR_INVALID_IMAGE_DATA_OVERRUN", SMPDFU_SENTENCE("the upload went past the image length given in the first chunk") },
    { "IMG_ERR_IMAGE_CONFIRMATION_DENIED", SMPDFU_SENTENCE("confirming an image that is not running is not allowed") },
    { "IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED", SMPDFU_SENTENCE("the running image cannot be marked for test (confirm it instead)") },
    { "IMG_ERR_ACTIVE_SLOT_NOT_KNOWN", SMPDFU_SENTENCE("the device could not tell which slot is active") },
};

static const struct code_text os_texts[] = {
    { "OS_ERR_OK", SMPDFU_SENTENCE("success") },
    { "OS_ERR_UNKNOWN", SMPDFU_SENTENCE("the OS command failed for an unspecified reason") },
    { "OS_ERR_INVALID_FORMAT", SMPDFU_SENTENCE("the info format string holds an unknown character") },
    { "OS_ERR_QUERY_YIELDS_NO_ANSWER", SMPDFU_SENTENCE("the device has no answer to this query") },
    { "OS_ERR_RTC_NOT_SET", SMPDFU_SENTENCE("the device's real-time clock is not set") },
    { "OS_ERR_RTC_COMMAND_FAILED", SMPDFU_SENTENCE("the device's real-time clock command failed") },
    { "OS_ERR_QUERY_RESPONSE_VALUE_NOT_VALID", SMPDFU_SENTENCE("the device's answer to this query is not valid") },
};

static const struct code_text stat_texts[] = {
    { "STAT_MGMT_ERR_OK", SMPDFU_SENTENCE("success") },
    { "STAT_MGMT_ERR_UNKNOWN", SMPDFU_SENTENCE("the statistics command failed for an unspecified reason") },
    { "STAT_MGMT_ERR_INVALID_GROUP", SMPDFU_SENTENCE("the device has no statistics group of that name") },
    { "STAT_MGMT_ERR_INVALID_STAT_NAME", SMPDFU_SENTENCE("the device has no statistics group of that name (see `stat list`)") },
    { "STAT_MGMT_ERR_INVALID_STAT_SIZE", SMPDFU_SENTENCE("a statistic has a size the device cannot report") },
    { "STAT_MGMT_ERR_WALK_ABORTED", SMPDFU_SENTENCE("the device stopped while walking the statistics") },
};

static const struct code_text settings_texts[] = {
    { "SETTINGS_MGMT_ERR_OK", SMPDFU_SENTENCE("success") },
    { "SETTINGS_MGMT_ERR_UNKNOWN", SMPDFU_SENTENCE("the settings command failed for an unspecified reason") },
    { "SETTINGS_MGMT_ERR_KEY_TOO_LONG", SMPDFU_SENTENCE("the setting's name is too long for the device") },
    { "SETTINGS_MGMT_ERR_KEY_NOT_FOUND", SMPDFU_SENTENCE("the device has no setting of that name") },
    { "SETTINGS_MGMT_ERR_READ_NOT_SUPPORTED", SMPDFU_SENTENCE("that setting cannot be read") },
    { "SETTINGS_MGMT_ERR_ROOT_KEY_NOT_FOUND", SMPDFU_SENTENCE("no part of the device handles settings under that root name") },
    { "SETTINGS_MGMT_ERR_WRITE_NOT_SUPPORTED", SMPDFU_SENTENCE("that setting cannot be written") },
    { "SETTINGS_MGMT_ERR_DELETE_NOT_SUPPORTED", SMPDFU_SENTENCE("that setting cannot be deleted") },
    { "SETTINGS_MGMT_ERR_SAVE_NOT_SUPPORTED", SMPDFU_SENTENCE("that setting cannot be saved") },
};

static const struct code_text fs_texts[] = {
    { "FS_MGMT_ERR_OK", SMPDFU_SENTENCE("success") },
    { "FS_MGMT_ERR_UNKNOWN", SMPDFU_SENTENCE("the file command failed for an unspecified reason") },
    { "FS_MGMT_ERR_FILE_INVALID_NAME", SMPDFU_SENTENCE("the device refused the file name (not valid, or outside its file system)") },
    { "FS_MGMT_ERR_FILE_NOT_FOUND", SMPDFU_SENTENCE("the device has no such file") },
    { "FS_MGMT_ERR_FILE_IS_DIRECTORY", SMPDFU_SENTENCE("that name is a directory, not a file") },
    { "FS_MGMT_ERR_FILE_OPEN_FAILED", SMPDFU_SENTENCE("the device could not open the file") },
    { "FS_MGMT_ERR_FILE_SEEK_FAILED", SMPDFU_SENTENCE("the device could not seek in the file") },
    { "FS_MGMT_ERR_FILE_READ_FAILED", SMPDFU_SENTENCE("the device could not read the file") },
    { "FS_MGMT_ERR_FILE_TRUNCATE_FAILED", SMPDFU_SENTENCE("the device could not truncate the file") },
    { "FS_MGMT_ERR_FILE_DELETE_FAILED", SMPDFU_SENTENCE("the device could not delete the file") },
    { "FS_MGMT_ERR_FILE_WRITE_FAILED", SMPDFU_SENTENCE("the device could not write the file (full?)") },
    { "FS_MGMT_ERR_FILE_OFFSET_NOT_VALID", SMPDFU_SENTENCE("the offset is not where the device's file ends (its length is in \"len\")") },
    { "FS_MGMT_ERR_FILE_OFFSET_LARGER_THAN_FILE", SMPDFU_SENTENCE("the offset is past the end of the file") },
    { "FS_MGMT_ERR_CHECKSUM_HASH_NOT_FOUND", SMPDFU_SENTENCE("the device does not support that hash or checksum type") },
    { "FS_MGMT_ERR_MOUNT_POINT_NOT_FOUND", SMPDFU_SENTENCE("the directory or mount point does not exist on the device") },
    { "FS_MGMT_ERR_READ_ONLY_FILESYSTEM", SMPDFU_SENTENCE("that file system is read-only") },
    { "FS_MGMT_ERR_FILE_EMPTY", SMPDFU_SENTENCE("the file is empty") },
};

static const struct code_text shell_texts[] = {
    { "SHELL_MGMT_ERR_OK", SMPDFU_SENTENCE("success") },
    { "SHELL_MGMT_ERR_UNKNOWN", SMPDFU_SENTENCE("the shell command failed for an unspecified reason") },
    { "SHELL_MGMT_ERR_COMMAND_TOO_LONG", SMPDFU_SENTENCE("the command line is too long for the device's shell") },
    { "SHELL_MGMT_ERR_EMPTY_COMMAND", SMPDFU_SENTENCE("no command was given") },
};

static const struct code_text enum_texts[] = {
    { "ENUM_MGMT_ERR_OK", SMPDFU_SENTENCE("success") },
    { "ENUM_MGMT_ERR_UNKNOWN", SMPDFU_SENTENCE("the enumeration failed for an unspecified reason") },
    { "ENUM_MGMT_ERR_TOO_MANY_GROUP_ENTRIES", SMPDFU_SENTENCE("too many groups were asked for at once") },
    { "ENUM_MGMT_ERR_INSUFFICIENT_HEAP_FOR_ENTRIES", SMPDFU_SENTENCE("the device ran out of memory for the group list") },
    { "ENUM_MGMT_ERR_INDEX_TOO_LARGE", SMPDFU_SENTENCE("there is no group at that index") },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const group_names[] = {
    "os", "image", "stat", "settings", "log", "crash", "split", "run", "fs", "shell",
    "enum", "transport",
};

const char *smpdfu_group_name(uint16_t group)
{
    if (group < COUNT(group_names)) {
        return group_names[group];
    }
    if (group == SMPDFU_GROUP_ZEPHYR_BASIC) {
        return "zephyr basic";
    }
    if (group >= SMPDFU_GROUP_PERUSER) {
        return "per-user";
    }
    return "unknown";
}

void smpdfu_dev_err_text(const smpdfu_dev_err_t *e, const char **name, const char **sentence)
{
    const char *n = "SMPDFU_DEV_ERR_INVALID";
    const char *t = SMPDFU_SENTENCE("no device error given");

    if (e != NULL && !e->group_err) {
        if (e->rc >= 0 && (size_t)e->rc < COUNT(mgmt_texts)) {
            n = mgmt_texts[e->rc].name;
            t = mgmt_texts[e->rc].text;
        } else if (e->rc >= SMPDFU_MGMT_EPERUSER) {
            n = "MGMT_ERR_EPERUSER";
            t = SMPDFU_SENTENCE("the device application reported its own error (see the application's documentation)");
        } else {
            n = "MGMT_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an SMP error this client does not know (newer firmware?)");
        }
    } else if (e != NULL) {
        const struct code_text *tab = NULL;
        size_t cnt = 0;
        if (e->group == SMPDFU_GROUP_IMAGE) {
            tab = img_texts;
            cnt = COUNT(img_texts);
            n = "IMG_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an image group error this client does not know (newer firmware?)");
        } else if (e->group == SMPDFU_GROUP_OS) {
            tab = os_texts;
            cnt = COUNT(os_texts);
            n = "OS_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an OS group error this client does not know (newer firmware?)");
        } else if (e->group == SMPDFU_GROUP_STAT || e->group == SMPDFU_GROUP_ZEPHYR_BASIC) {
            /* Zephyr's stat group reports its errors under group 63. */
            tab = e->group == SMPDFU_GROUP_STAT || e->rc == SMPDFU_STAT_ERR_INVALID_STAT_NAME
                      ? stat_texts
                      : NULL;
            cnt = COUNT(stat_texts);
            n = "GROUP_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an error from a group whose codes this client does not know");
        } else if (e->group == SMPDFU_GROUP_SETTINGS) {
            tab = settings_texts;
            cnt = COUNT(settings_texts);
            n = "SETTINGS_MGMT_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported a settings group error this client does not know");
        } else if (e->group == SMPDFU_GROUP_FS) {
            tab = fs_texts;
            cnt = COUNT(fs_texts);
            n = "FS_MGMT_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported a file group error this client does not know");
        } else if (e->group == SMPDFU_GROUP_SHELL) {
            tab = shell_texts;
            cnt = COUNT(shell_texts);
            n = "SHELL_MGMT_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported a shell group error this client does not know");
        } else if (e->group == SMPDFU_GROUP_ENUM) {
            tab = enum_texts;
            cnt = COUNT(enum_texts);
            n = "ENUM_MGMT_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an enumeration group error this client does not know");
        } else {
            n = "GROUP_ERR_UNRECOGNISED";
            t = SMPDFU_SENTENCE("the device reported an error from a group whose codes this client does not know");
        }
        if (tab != NULL && e->rc >= 0 && (size_t)e->rc < cnt) {
            n = tab[e->rc].name;
            t = tab[e->rc].text;
        }
    }
    if (name != NULL) {
        *name = n;
    }
    if (sentence != NULL) {
        *sentence = t != NULL ? t : n; /* without sentences the name stands in */
    }
}

/* snprintf's contract without printf (keeps newlib's printf out of MCU
 * builds): append while there is room, always count, NUL at the end. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} fmt_t;

static void fmt_str(fmt_t *f, const char *s)
{
    for (; *s != 0; s++, f->len++) {
        if (f->len + 1 < f->cap) {
            f->buf[f->len] = *s;
        }
    }
}

static void fmt_long(fmt_t *f, long v)
{
    char tmp[24];
    size_t n = 0;
    /* Negative through unsigned, so LONG_MIN has no overflow. */
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    tmp[sizeof(tmp) - 1] = 0;
    do {
        tmp[sizeof(tmp) - 2 - n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0);
    if (v < 0) {
        tmp[sizeof(tmp) - 2 - n++] = '-';
    }
    fmt_str(f, &tmp[sizeof(tmp) - 1 - n]);
}

int smpdfu_dev_err_format(const smpdfu_dev_err_t *e, char *buf, size_t cap)
{
    const char *name;
    const char *text;
    fmt_t f = { buf, cap, 0 };

    if (e == NULL || (buf == NULL && cap > 0)) {
        return SMPDFU_EINVAL;
    }
    smpdfu_dev_err_text(e, &name, &text);
    /* One style for both shapes: sentence (where, number, stable name);
     * without sentences the name leads and is not repeated. */
    fmt_str(&f, text);
    if (e->group_err) {
        const char *g = smpdfu_group_name(e->group);
        if (strcmp(g, "unknown") == 0 || strcmp(g, "per-user") == 0) {
            fmt_str(&f, " (group ");
            fmt_long(&f, (long)e->group);
            fmt_str(&f, " error ");
        } else {
            fmt_str(&f, " (");
            fmt_str(&f, g);
            fmt_str(&f, " group error ");
        }
    } else {
        fmt_str(&f, " (SMP error ");
    }
    fmt_long(&f, (long)e->rc);
    if (text != name) {
        fmt_str(&f, ", ");
        fmt_str(&f, name);
    }
    fmt_str(&f, ")");
    if (cap > 0) {
        buf[f.len < cap ? f.len : cap - 1] = 0;
    }
    if (f.len > (size_t)INT_MAX) {
        return SMPDFU_EINVAL;
    }
    return (int)f.len;
}

int smpdfu_smp_err_to_v1(uint16_t group, uint16_t rc)
{
    if (rc == 0) {
        /* Zephyr only translates failures; success stays success. */
        return SMPDFU_MGMT_EOK;
    }
    if (group == SMPDFU_GROUP_IMAGE) {
        switch (rc) {
        case SMPDFU_IMG_ERR_NO_IMAGE:
        case SMPDFU_IMG_ERR_NO_TLVS:
            return SMPDFU_MGMT_ENOENT;
        case SMPDFU_IMG_ERR_NO_FREE_SLOT:
        case SMPDFU_IMG_ERR_CURRENT_VERSION_IS_NEWER:
        case SMPDFU_IMG_ERR_IMAGE_ALREADY_PENDING:
            return SMPDFU_MGMT_EBADSTATE;
        case SMPDFU_IMG_ERR_NO_FREE_MEMORY:
            return SMPDFU_MGMT_ENOMEM;
        case SMPDFU_IMG_ERR_INVALID_SLOT:
        case SMPDFU_IMG_ERR_INVALID_PAGE_OFFSET:
        case SMPDFU_IMG_ERR_INVALID_OFFSET:
        case SMPDFU_IMG_ERR_INVALID_LENGTH:
        case SMPDFU_IMG_ERR_INVALID_IMAGE_HEADER:
        case SMPDFU_IMG_ERR_INVALID_HASH:
        case SMPDFU_IMG_ERR_INVALID_FLASH_ADDRESS:
            return SMPDFU_MGMT_EINVAL;
        default:
            return SMPDFU_MGMT_EUNKNOWN;
        }
    }
    if (group == SMPDFU_GROUP_OS) {
        switch (rc) {
        case SMPDFU_OS_ERR_INVALID_FORMAT:
            return SMPDFU_MGMT_EINVAL;
        case SMPDFU_OS_ERR_QUERY_YIELDS_NO_ANSWER:
        case SMPDFU_OS_ERR_RTC_NOT_SET:
            return SMPDFU_MGMT_ENOENT;
        default:
            return SMPDFU_MGMT_EUNKNOWN;
        }
    }
    /* The translators of stat_mgmt.c, settings_mgmt.c, fs_mgmt.c,
     * shell_mgmt.c and enum_mgmt.c. */
    if (group == SMPDFU_GROUP_STAT) {
        switch (rc) {
        case SMPDFU_STAT_ERR_INVALID_GROUP:
        case SMPDFU_STAT_ERR_INVALID_STAT_NAME:
            return SMPDFU_MGMT_ENOENT;
        case SMPDFU_STAT_ERR_INVALID_STAT_SIZE:
            return SMPDFU_MGMT_EINVAL;
        default:
            return SMPDFU_MGMT_EUNKNOWN;
        }
    }
    if (group == SMPDFU_GROUP_SETTINGS) {
        switch (rc) {
        case SMPDFU_SETTINGS_ERR_KEY_TOO_LONG:
            return SMPDFU_MGMT_EINVAL;
        case SMPDFU_SETTINGS_ERR_KEY_NOT_FOUND:
        case SMPDFU_SETTINGS_ERR_READ_NOT_SUPPORTED:
            return SMPDFU_MGMT_ENOENT;
        default:
            return SMPDFU_MGMT_EUNKNOWN;
        }
    }
    if (group == SMPDFU_GROUP_FS) {
        switch (rc) {
        case SMPDFU_FS_ERR_FILE_INVALID_NAME:
        case SMPDFU_FS_ERR_CHECKSUM_HASH_NOT_FOUND:
            return SMPDFU_MGMT_EINVAL;
        case SMPDFU_FS_ERR_FILE_NOT_FOUND:
        case SMPDFU_FS_ERR_MOUNT_POINT_NOT_FOUND:
            return SMPDFU_MGMT_ENOENT;
        default:
            return SMPDFU_MGMT_EUNKNOWN;
        }
    }
    if (group == SMPDFU_GROUP_SHELL) {
        return rc == SMPDFU_SHELL_ERR_COMMAND_TOO_LONG || rc == SMPDFU_SHELL_ERR_EMPTY_COMMAND
                   ? SMPDFU_MGMT_EINVAL
                   : SMPDFU_MGMT_EUNKNOWN;
    }
    if (group == SMPDFU_GROUP_ENUM) {
        return rc == SMPDFU_ENUM_ERR_TOO_MANY_GROUP_ENTRIES ? SMPDFU_MGMT_EINVAL
                                                             : SMPDFU_MGMT_EUNKNOWN;
    }
    return SMPDFU_MGMT_EUNKNOWN;
}
