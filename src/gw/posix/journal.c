/* SPDX-License-Identifier: Apache-2.0 */
/* The job journal on SQLite. Every change is its own transaction (a kill -9
 * loses nothing that was written); WAL keeps those commits cheap. */
#include "journal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_journal {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " thing TEXT NOT NULL, job_id TEXT NOT NULL,"
    " status TEXT NOT NULL, step TEXT NOT NULL,"
    " payload TEXT NOT NULL, details TEXT,"
    " reported INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(thing, job_id));";

gw_journal_t *gw_journal_open(const char *path, char *err, size_t cap)
{
    gw_journal_t *j = calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    if (sqlite3_open(path, &j->db) != SQLITE_OK ||
        sqlite3_exec(j->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &msg) !=
            SQLITE_OK ||
        sqlite3_exec(j->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, cap, "cannot open the job journal %s: %s", path, msg ? msg : sqlite3_errmsg(j->db));
        sqlite3_free(msg);
        sqlite3_close(j->db);
        free(j);
        return NULL;
    }
    sqlite3_busy_timeout(j->db, 5000);
    return j;
}

void gw_journal_close(gw_journal_t *j)
{
    if (j) {
        sqlite3_close(j->db);
        free(j);
    }
}

static int exec(gw_journal_t *j, const char *sql, int n, const char *const *args)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "smpdfu-gw: journal: %s\n", sqlite3_errmsg(j->db));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "smpdfu-gw: journal: %s\n", sqlite3_errmsg(j->db));
        return -1;
    }
    return sqlite3_changes(j->db);
}

int gw_journal_add(gw_journal_t *j, const char *thing, const char *job_id, const char *payload)
{
    const char *a[] = {thing, job_id, payload};
    return exec(j,
                "INSERT OR IGNORE INTO jobs(thing, job_id, status, step, payload) "
                "VALUES(?, ?, 'QUEUED', 'queued', ?)",
                3, a);
}

int gw_journal_step(gw_journal_t *j, const char *thing, const char *job_id, const char *status,
                    const char *step)
{
    const char *a[] = {status, step, thing, job_id};
    return exec(j, "UPDATE jobs SET status = ?, step = ? WHERE thing = ? AND job_id = ?", 4, a);
}

int gw_journal_finish(gw_journal_t *j, const char *thing, const char *job_id, const char *status,
                      const char *details)
{
    const char *a[] = {status, details, thing, job_id};
    return exec(j,
                "UPDATE jobs SET status = ?, step = 'done', details = ?, reported = 0 "
                "WHERE thing = ? AND job_id = ?",
                4, a);
}

int gw_journal_reported(gw_journal_t *j, const char *thing, const char *job_id)
{
    const char *a[] = {thing, job_id};
    return exec(j, "UPDATE jobs SET reported = 1 WHERE thing = ? AND job_id = ?", 2, a);
}

static char *dup_col(sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    return t ? strdup((const char *)t) : NULL;
}

static void fill(sqlite3_stmt *st, gw_row_t *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->thing, sizeof(r->thing), "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(r->job_id, sizeof(r->job_id), "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(r->status, sizeof(r->status), "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(r->step, sizeof(r->step), "%s", (const char *)sqlite3_column_text(st, 3));
    r->payload = dup_col(st, 4);
    r->details = dup_col(st, 5);
    r->reported = sqlite3_column_int(st, 6) != 0;
}

#define COLS "thing, job_id, status, step, payload, details, reported"

int gw_journal_get(gw_journal_t *j, const char *thing, const char *job_id, gw_row_t *row)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db, "SELECT " COLS " FROM jobs WHERE thing = ? AND job_id = ?", -1, &st,
                           NULL) != SQLITE_OK) {
        return -1;
    }
    sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, job_id, -1, SQLITE_TRANSIENT);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        fill(st, row);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

int gw_journal_each(gw_journal_t *j, bool unreported, void (*cb)(void *arg, const gw_row_t *row),
                    void *arg)
{
    sqlite3_stmt *st;
    const char *sql = unreported
                          ? "SELECT " COLS " FROM jobs WHERE reported = 0 AND status NOT IN "
                            "('QUEUED', 'IN_PROGRESS') ORDER BY seq"
                          : "SELECT " COLS " FROM jobs WHERE status IN ('QUEUED', 'IN_PROGRESS') ORDER BY seq";
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return -1;
    }
    /* Rows first, callbacks after: a callback may write to the journal. */
    gw_row_t *rows = NULL;
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gw_row_t *nr = realloc(rows, (n + 1) * sizeof(*nr));
        if (!nr) {
            break;
        }
        rows = nr;
        fill(st, &rows[n++]);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        cb(arg, &rows[i]);
        gw_row_free(&rows[i]);
    }
    free(rows);
    return (int)n;
}

void gw_row_free(gw_row_t *row)
{
    free(row->payload);
    free(row->details);
    row->payload = row->details = NULL;
}
