/* SPDX-License-Identifier: Apache-2.0 */
/* Settings group (3) as Zephyr's settings_mgmt.c answers it (protocol.md
 * §15) over a runtime table standing for the application's settings
 * handlers and a persistent store standing for the settings backend:
 * read/write act on the runtime values (settings_runtime_get/set), delete
 * removes the stored value only (settings_delete), load copies the store
 * into the runtime table, save copies the runtime table into the store,
 * commit runs the handlers' commit (counted). */
#include "smpdfu/server_groups.h"

#include <string.h>

static smpdfu_settings_entry_t *find(smpdfu_settings_group_t *sg, const char *name)
{
    for (size_t i = 0; i < SMPDFU_SETTINGS_MAX; i++) {
        if (sg->rt[i].used && strcmp(sg->rt[i].name, name) == 0) {
            return &sg->rt[i];
        }
    }
    return NULL;
}

/* settings_runtime_set(); returns 0 or a SETTINGS_MGMT_ERR_* code. */
static int rt_set(smpdfu_settings_group_t *sg, const char *name, const uint8_t *val, size_t len)
{
    smpdfu_settings_entry_t *e = find(sg, name);
    if (len > SMPDFU_SETTINGS_VALUE_LEN) {
        return SMPDFU_SETTINGS_ERR_UNKNOWN; /* the handler's h_set fails */
    }
    for (size_t i = 0; e == NULL && i < SMPDFU_SETTINGS_MAX; i++) {
        if (!sg->rt[i].used) {
            e = &sg->rt[i];
            memset(e, 0, sizeof(*e));
            memcpy(e->name, name, strlen(name) + 1);
            e->used = true;
        }
    }
    if (e == NULL) {
        return SMPDFU_SETTINGS_ERR_UNKNOWN; /* no room: -ENOMEM from the handler */
    }
    if (len > 0) {
        memcpy(e->val, val, len);
    }
    e->len = (uint8_t)len;
    return 0;
}

/* Is there a handler for the name's root (the text before the first '/')? */
static bool root_known(const smpdfu_settings_group_t *sg, const char *name)
{
    if (sg->roots == NULL) {
        return name[0] != '/' && name[0] != 0;
    }
    size_t n = 0;
    while (name[n] != 0 && name[n] != '/') {
        n++;
    }
    for (const char *const *r = sg->roots; *r != NULL; r++) {
        if (strlen(*r) == n && memcmp(*r, name, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Copy the request's name into buf (SMPDFU_SETTINGS_NAME_LEN bytes). Returns
 * 0; -MGMT_ERR_EINVAL for an empty name (answered as a plain rc); or a
 * SETTINGS_MGMT_ERR_* code (> 0) for the err map: KEY_TOO_LONG, or
 * ROOT_KEY_NOT_FOUND for a name holding a NUL. */
static int get_name(smpdfu_server_req_t *r, const smpdfu_cbor_slice_t *key, char *buf)
{
    if (key->len == 0) {
        return -SMPDFU_MGMT_EINVAL;
    }
    if (key->len >= SMPDFU_SETTINGS_NAME_LEN) {
        return SMPDFU_SETTINGS_ERR_KEY_TOO_LONG;
    }
    memcpy(buf, key->ptr, key->len);
    buf[key->len] = 0;
    if (memchr(buf, 0, key->len) != NULL) {
        return SMPDFU_SETTINGS_ERR_ROOT_KEY_NOT_FOUND; /* an embedded NUL names nothing */
    }
    (void)r;
    return 0;
}

static int settings_read(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_settings_group_t *sg = ctx;
    smpdfu_cbor_slice_t key = {NULL, 0};
    uint64_t max_size = SMPDFU_SETTINGS_VALUE_LEN;
    smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &key, NULL},
                               {"max_size", SMPDFU_CBOR_UINT, &max_size, NULL}};
    char name[SMPDFU_SETTINGS_NAME_LEN];
    bool limited = false;
    if (smpdfu_cbor_decode_map(&r->dec, f, 2) < 0 || max_size > UINT32_MAX) {
        return SMPDFU_MGMT_EINVAL;
    }
    int rc = get_name(r, &key, name);
    if (rc < 0) {
        return -rc;
    }
    if (rc > 0) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_SETTINGS, (uint16_t)rc);
    }
    if (max_size > SMPDFU_SETTINGS_VALUE_LEN) {
        max_size = SMPDFU_SETTINGS_VALUE_LEN;
        limited = true;
    }
    if (!root_known(sg, name)) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_SETTINGS,
                                     SMPDFU_SETTINGS_ERR_ROOT_KEY_NOT_FOUND);
    }
    const smpdfu_settings_entry_t *e = find(sg, name);
    if (e == NULL) {
        return smpdfu_server_add_err(r, SMPDFU_GROUP_SETTINGS, SMPDFU_SETTINGS_ERR_KEY_NOT_FOUND);
    }
    size_t n = e->len < max_size ? e->len : (size_t)max_size;
    smpdfu_cbor_put_tstrz(r->enc, "val");
    smpdfu_cbor_put_bstr(r->enc, e->val, n);
    if (limited) {
        smpdfu_cbor_put_tstrz(r->enc, "max_size");
        smpdfu_cbor_put_uint(r->enc, SMPDFU_SETTINGS_VALUE_LEN);
    }
    return r->enc->err ? SMPDFU_MGMT_EMSGSIZE : 0;
}

static int settings_write(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_settings_group_t *sg = ctx;
    smpdfu_cbor_slice_t key = {NULL, 0};
    smpdfu_cbor_slice_t val = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &key, NULL},
                               {"val", SMPDFU_CBOR_BSTR, &val, NULL}};
    char name[SMPDFU_SETTINGS_NAME_LEN];
    if (smpdfu_cbor_decode_map(&r->dec, f, 2) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    int rc = get_name(r, &key, name);
    if (rc < 0) {
        return -rc;
    }
    if (rc == 0 && !root_known(sg, name)) {
        rc = SMPDFU_SETTINGS_ERR_ROOT_KEY_NOT_FOUND;
    }
    if (rc == 0) {
        rc = rt_set(sg, name, val.ptr, val.len);
    }
    return smpdfu_server_add_err(r, SMPDFU_GROUP_SETTINGS, (uint16_t)rc);
}

static int settings_delete(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_settings_group_t *sg = ctx;
    smpdfu_cbor_slice_t key = {NULL, 0};
    smpdfu_cbor_field_t f[] = {{"name", SMPDFU_CBOR_TSTR, &key, NULL}};
    char name[SMPDFU_SETTINGS_NAME_LEN];
    if (smpdfu_cbor_decode_map(&r->dec, f, 1) < 0) {
        return SMPDFU_MGMT_EINVAL;
    }
    int rc = get_name(r, &key, name);
    if (rc < 0) {
        return -rc;
    }
    if (rc == 0 && sg->store != NULL) {
        int e = sg->store->save(sg->store->ctx, name, NULL, 0);
        if (e < 0) {
            sg->last_store_err = e;
            rc = SMPDFU_SETTINGS_ERR_UNKNOWN;
        }
    }
    return smpdfu_server_add_err(r, SMPDFU_GROUP_SETTINGS, (uint16_t)rc);
}

static int settings_commit(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_settings_group_t *sg = ctx;
    (void)r;
    sg->commits++;
    return 0;
}

static int load_cb(void *cbctx, const char *name, const uint8_t *val, size_t len)
{
    smpdfu_settings_group_t *sg = cbctx;
    if (len == 0) {
        return 0; /* a deletion: settings_load() does not call h_set for it */
    }
    (void)rt_set(sg, name, val, len);
    return 0;
}

int smpdfu_settings_load(smpdfu_settings_group_t *sg)
{
    if (sg->store == NULL) {
        return 0;
    }
    int rc = sg->store->load(sg->store->ctx, load_cb, sg);
    if (rc < 0) {
        sg->last_store_err = rc;
    }
    return rc;
}

static int settings_load_h(smpdfu_server_req_t *r, void *ctx)
{
    (void)r;
    /* settings_load()'s result is not reported by Zephyr. */
    (void)smpdfu_settings_load(ctx);
    return 0;
}

static int settings_save_h(smpdfu_server_req_t *r, void *ctx)
{
    smpdfu_settings_group_t *sg = ctx;
    (void)r;
    if (sg->store == NULL) {
        return 0;
    }
    for (size_t i = 0; i < SMPDFU_SETTINGS_MAX; i++) {
        if (sg->rt[i].used) {
            int e = sg->store->save(sg->store->ctx, sg->rt[i].name, sg->rt[i].val, sg->rt[i].len);
            if (e < 0) {
                sg->last_store_err = e; /* settings_save()'s result is not reported either */
            }
        }
    }
    return 0;
}

static int settings_translate(uint16_t rc)
{
    return smpdfu_smp_err_to_v1(SMPDFU_GROUP_SETTINGS, rc);
}

static const smpdfu_server_handler_t settings_handlers[] = {
    [SMPDFU_SETTINGS_READ_WRITE] = {settings_read, settings_write},
    [SMPDFU_SETTINGS_DELETE] = {NULL, settings_delete},
    [SMPDFU_SETTINGS_COMMIT] = {NULL, settings_commit},
    [SMPDFU_SETTINGS_LOAD_SAVE] = {settings_load_h, settings_save_h},
};

static const char *const settings_names[] = {
    [SMPDFU_SETTINGS_READ_WRITE] = "read/write",
    [SMPDFU_SETTINGS_DELETE] = "delete",
    [SMPDFU_SETTINGS_COMMIT] = "commit",
    [SMPDFU_SETTINGS_LOAD_SAVE] = "load/save",
};

void smpdfu_settings_group_init(smpdfu_settings_group_t *sg, const smpdfu_settings_store_t *store)
{
    memset(sg, 0, sizeof(*sg));
    sg->group.id = SMPDFU_GROUP_SETTINGS;
    sg->group.name = "settings";
    sg->group.details_name = "settings mgmt";
    sg->group.handlers = settings_handlers;
    sg->group.cmd_names = settings_names;
    sg->group.handler_count = sizeof(settings_handlers) / sizeof(settings_handlers[0]);
    sg->group.translate = settings_translate;
    sg->group.ctx = sg;
    sg->store = store;
}
