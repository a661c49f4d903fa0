/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-gw's job journal (SQLite): one row per (thing, job), with its step
 * and final status, and whether the broker took that final status (PUBACK).
 * Private to the gateway. */
#ifndef SMPDFU_GW_JOURNAL_H
#define SMPDFU_GW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_journal gw_journal_t;

typedef struct {
    char thing[130];
    char job_id[66];
    char status[16];      /* QUEUED IN_PROGRESS SUCCEEDED FAILED REJECTED */
    char step[32];
    bool reported;        /* the final status reached the broker */
    char *payload;        /* the job message as received (malloc'd) */
    char *details;        /* the final statusDetails JSON (malloc'd, may be NULL) */
} gw_row_t;

/* Open (create) the journal. NULL with the reason in err. */
gw_journal_t *gw_journal_open(const char *path, char *err, size_t cap);
void gw_journal_close(gw_journal_t *j);

/* Record a new job as QUEUED. 1 when added, 0 when the (thing, job) is
 * already there, < 0 on a database error. */
int gw_journal_add(gw_journal_t *j, const char *thing, const char *job_id, const char *payload);

/* Look up one job: 1 found (row filled, free with gw_row_free), 0 not. */
int gw_journal_get(gw_journal_t *j, const char *thing, const char *job_id, gw_row_t *row);

int gw_journal_step(gw_journal_t *j, const char *thing, const char *job_id, const char *status,
                    const char *step);
/* The final status and its details (not yet reported). */
int gw_journal_finish(gw_journal_t *j, const char *thing, const char *job_id, const char *status,
                      const char *details);
int gw_journal_reported(gw_journal_t *j, const char *thing, const char *job_id);

/* Each unfinished job (QUEUED/IN_PROGRESS, oldest first), or each final
 * status not yet reported: cb(arg, row) (row freed after). */
int gw_journal_each(gw_journal_t *j, bool unreported, void (*cb)(void *arg, const gw_row_t *row),
                    void *arg);

void gw_row_free(gw_row_t *row);

#endif
