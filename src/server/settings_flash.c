/* SPDX-License-Identifier: Apache-2.0 */
/* A settings store in a flash area (server_groups.h): each page starts with
 * a header (magic, sequence number, CRC) written last when the page is
 * filled by a compaction, so the older page stays the valid one until the
 * new one is complete; records (name, value or deletion, CRC-32) are
 * appended one flash write each. The newest valid page is the store. */
#include "smpdfu/server_groups.h"

#include <string.h>

#include "smpdfu/uplink.h" /* smpdfu_crc32 */

#define MAGIC 0x54534d53u /* "SMST" */
#define REC_MARK 0x5a
#define REC_SET 0x00
#define REC_DEL 0x01
#define REC_MAX (4 + SMPDFU_SETTINGS_NAME_LEN + SMPDFU_SETTINGS_VALUE_LEN + 4 + SMPDFU_FLASH_MAX_ALIGN)

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t align_up(const smpdfu_settings_flash_t *fs, uint32_t n)
{
    uint32_t a = fs->flash->write_align;
    return (n + a - 1) / a * a;
}

static uint32_t hdr_len(const smpdfu_settings_flash_t *fs)
{
    return align_up(fs, 12);
}

static uint32_t psize(const smpdfu_settings_flash_t *fs)
{
    return fs->flash->page_size;
}

static uint32_t npages(const smpdfu_settings_flash_t *fs)
{
    return fs->area.size / psize(fs);
}

/* Page header: 1 and *seq when valid, 0 when not, or a flash error. */
static int read_hdr(const smpdfu_settings_flash_t *fs, uint32_t page, uint32_t *seq)
{
    uint8_t h[12];
    int rc = smpdfu_flash_area_read(fs->flash, &fs->area, page * psize(fs), h, sizeof(h));
    if (rc < 0) {
        return rc;
    }
    if (rd32(h) != MAGIC || rd32(h + 8) != smpdfu_crc32(0, h, 8)) {
        return 0;
    }
    *seq = rd32(h + 4);
    return 1;
}

/* A record at page offset off: 1 valid (fields filled), 0 end of log
 * (erased), -1 garbage (a torn write), or a flash error (< -1). */
typedef struct {
    uint8_t type;
    uint8_t name_len;
    uint8_t val_len;
    uint32_t size; /* bytes it occupies, aligned */
    char name[SMPDFU_SETTINGS_NAME_LEN];
    uint8_t val[SMPDFU_SETTINGS_VALUE_LEN];
} rec_t;

static int read_rec(const smpdfu_settings_flash_t *fs, uint32_t page, uint32_t off, rec_t *r)
{
    uint8_t buf[REC_MAX];
    uint32_t base = page * psize(fs);
    if (off + 8 > psize(fs)) {
        return 0;
    }
    int rc = smpdfu_flash_area_read(fs->flash, &fs->area, base + off, buf, 4);
    if (rc < 0) {
        return rc;
    }
    if (buf[0] == fs->flash->erased_val && buf[1] == fs->flash->erased_val &&
        buf[2] == fs->flash->erased_val && buf[3] == fs->flash->erased_val) {
        return 0;
    }
    if (buf[3] != REC_MARK || (buf[0] != REC_SET && buf[0] != REC_DEL) || buf[1] == 0 ||
        buf[1] >= SMPDFU_SETTINGS_NAME_LEN || buf[2] > SMPDFU_SETTINGS_VALUE_LEN) {
        return -1;
    }
    uint32_t body = 4u + buf[1] + buf[2] + 4u;
    uint32_t size = align_up(fs, body);
    if (off + size > psize(fs)) {
        return -1;
    }
    rc = smpdfu_flash_area_read(fs->flash, &fs->area, base + off + 4, buf + 4, body - 4);
    if (rc < 0) {
        return rc;
    }
    if (rd32(buf + body - 4) != smpdfu_crc32(0, buf, body - 4)) {
        return -1;
    }
    r->type = buf[0];
    r->name_len = buf[1];
    r->val_len = buf[2];
    r->size = size;
    memcpy(r->name, buf + 4, buf[1]);
    r->name[buf[1]] = 0;
    memcpy(r->val, buf + 4 + buf[1], buf[2]);
    return 1;
}

static int write_rec(smpdfu_settings_flash_t *fs, uint32_t page, uint32_t off, uint8_t type,
                     const char *name, const uint8_t *val, size_t len, uint32_t *size)
{
    uint8_t buf[REC_MAX];
    size_t nl = strlen(name);
    uint32_t body = (uint32_t)(4 + nl + len + 4);
    uint32_t sz = align_up(fs, body);
    if (off + sz > psize(fs)) {
        return SMPDFU_ENOSPC;
    }
    memset(buf, fs->flash->erased_val, sizeof(buf));
    buf[0] = type;
    buf[1] = (uint8_t)nl;
    buf[2] = (uint8_t)len;
    buf[3] = REC_MARK;
    memcpy(buf + 4, name, nl);
    if (len > 0) {
        memcpy(buf + 4 + nl, val, len);
    }
    le32(buf + body - 4, smpdfu_crc32(0, buf, body - 4));
    *size = sz;
    return smpdfu_flash_area_write(fs->flash, &fs->area, page * psize(fs) + off, buf, sz);
}

static int write_hdr(smpdfu_settings_flash_t *fs, uint32_t page, uint32_t seq)
{
    uint8_t h[SMPDFU_FLASH_MAX_ALIGN + 12];
    uint32_t n = hdr_len(fs);
    memset(h, fs->flash->erased_val, sizeof(h));
    le32(h, MAGIC);
    le32(h + 4, seq);
    le32(h + 8, smpdfu_crc32(0, h, 8));
    return smpdfu_flash_area_write(fs->flash, &fs->area, page * psize(fs), h, n);
}

/* Is the record at `off` the last one of its name in the page? */
static int is_last(const smpdfu_settings_flash_t *fs, uint32_t page, uint32_t off, const rec_t *r)
{
    rec_t x;
    uint32_t o = off + r->size;
    for (;;) {
        int rc = read_rec(fs, page, o, &x);
        if (rc < -1) {
            return rc;
        }
        if (rc != 1) {
            return 1;
        }
        if (strcmp(x.name, r->name) == 0) {
            return 0;
        }
        o += x.size;
    }
}

/* Copy the live records into the next page, then validate it. */
static int compact(smpdfu_settings_flash_t *fs)
{
    uint32_t to = (fs->page + 1) % npages(fs);
    uint32_t off = hdr_len(fs);
    uint32_t o = hdr_len(fs);
    rec_t r;
    int rc = smpdfu_flash_area_erase(fs->flash, &fs->area, to * psize(fs), psize(fs));
    if (rc < 0) {
        return rc;
    }
    for (;;) {
        rc = read_rec(fs, fs->page, o, &r);
        if (rc < -1) {
            return rc;
        }
        if (rc != 1) {
            break;
        }
        int last = is_last(fs, fs->page, o, &r);
        if (last < 0) {
            return last;
        }
        if (last && r.type == REC_SET) {
            uint32_t sz;
            rc = write_rec(fs, to, off, REC_SET, r.name, r.val, r.val_len, &sz);
            if (rc < 0) {
                return rc;
            }
            off += sz;
        }
        o += r.size;
    }
    rc = write_hdr(fs, to, fs->seq + 1);
    if (rc < 0) {
        return rc;
    }
    fs->page = to;
    fs->seq++;
    fs->next = off;
    return 0;
}

static int store_save(void *ctx, const char *name, const uint8_t *val, size_t len)
{
    smpdfu_settings_flash_t *fs = ctx;
    uint32_t sz;
    uint8_t type = (val == NULL || len == 0) ? REC_DEL : REC_SET;
    if (name == NULL || name[0] == 0 || strlen(name) >= SMPDFU_SETTINGS_NAME_LEN ||
        len > SMPDFU_SETTINGS_VALUE_LEN) {
        return SMPDFU_EINVAL;
    }
    if (type == REC_SET && len == 0) {
        type = REC_DEL;
    }
    int rc = write_rec(fs, fs->page, fs->next, type, name, val, len, &sz);
    if (rc == SMPDFU_ENOSPC) {
        rc = compact(fs);
        if (rc < 0) {
            return rc;
        }
        rc = write_rec(fs, fs->page, fs->next, type, name, val, len, &sz);
    }
    if (rc < 0) {
        return rc;
    }
    fs->next += sz;
    return 0;
}

static int store_load(void *ctx, smpdfu_settings_load_cb cb, void *cbctx)
{
    smpdfu_settings_flash_t *fs = ctx;
    uint32_t o = hdr_len(fs);
    rec_t r;
    for (;;) {
        int rc = read_rec(fs, fs->page, o, &r);
        if (rc < -1) {
            return rc;
        }
        if (rc != 1) {
            return 0;
        }
        /* Only the newest record of a name counts, and a deleted name is
         * not presented at all (as settings_load() over NVS/FCB). */
        int last = is_last(fs, fs->page, o, &r);
        if (last < 0) {
            return last;
        }
        if (last && r.type == REC_SET) {
            rc = cb(cbctx, r.name, r.val, r.val_len);
            if (rc != 0) {
                return rc;
            }
        }
        o += r.size;
    }
}

int smpdfu_settings_flash_init(smpdfu_settings_flash_t *fs, const smpdfu_flash_t *flash,
                               const smpdfu_flash_area_t *area)
{
    if (fs == NULL || flash == NULL || area == NULL) {
        return SMPDFU_EINVAL;
    }
    memset(fs, 0, sizeof(*fs));
    fs->flash = flash;
    fs->area = *area;
    if (flash->page_size == 0 || area->size % flash->page_size != 0 ||
        area->off % flash->page_size != 0 || area->size / flash->page_size < 2 ||
        flash->page_size < 256) {
        return SMPDFU_EINVAL;
    }
    bool found = false;
    for (uint32_t p = 0; p < npages(fs); p++) {
        uint32_t seq;
        int rc = read_hdr(fs, p, &seq);
        if (rc < 0) {
            return rc;
        }
        /* Sequence numbers compare modulo 2^32, so a wrap keeps the newer page. */
        if (rc == 1 && (!found || (int32_t)(seq - fs->seq) > 0)) {
            found = true;
            fs->page = p;
            fs->seq = seq;
        }
    }
    if (!found) {
        int rc = smpdfu_flash_area_erase(fs->flash, &fs->area, 0, psize(fs));
        if (rc == 0) {
            rc = write_hdr(fs, 0, 1);
        }
        if (rc < 0) {
            return rc;
        }
        fs->page = 0;
        fs->seq = 1;
    }
    /* Find the end of the log; after garbage (a torn write) nothing more
     * can be written in this page, so the next save compacts. */
    uint32_t o = hdr_len(fs);
    rec_t r;
    for (;;) {
        int rc = read_rec(fs, fs->page, o, &r);
        if (rc < -1) {
            return rc;
        }
        if (rc == 0) {
            break;
        }
        if (rc == -1) {
            o = psize(fs);
            break;
        }
        o += r.size;
    }
    fs->next = o;
    fs->store.load = store_load;
    fs->store.save = store_save;
    fs->store.ctx = fs;
    return 0;
}
