/*
 * sqlite_outbox.c - the outbox, live events, agents, per-channel state
 * and the counts behind status pages and tests.
 *
 * DESIGN: an outbox row is written in the transaction that decided the
 * reply. Its idempotency key ("wb-<database instance>-<channel>-<row id>")
 * is a function of the row, so every retry of the row presents the same
 * key to the platform; it is computed, not stored (rows written by older
 * versions carry it in idempotency_key, with the same text). A row leaves the pending state exactly
 * once: sent, retry and dead only change pending rows, and sent/dead also record the delivery state
 * (and the platform's message id) on the message in the same atomic section.
 *
 * Pending items are loaded with everything a connector needs (the
 * message text and author, the conversation subject, the recipient
 * identity's display fields, and the thread's external ids on the
 * channel), so the outbox worker never runs a second query per send.
 *
 * Thread: the connection's thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_priv.h"

/* Thread references given to a connector: the newest ones are enough. */
#define THREAD_REFS_MAX 20

/* ---- adding ---- */

/* "wb-<database instance>-<channel>-<row id>" */
static char *outbox_key(const struct wb_store *st, const char *channel_id, int64_t id)
{
    char key[256];
    (void)snprintf(key, sizeof(key), "wb-%s-%s-%lld", st->instance, channel_id, (long long)id);
    return wb_strdup(key);
}

/*
 * The key is not stored: it is a function of the row (rows written before
 * this keep the key column they were given, and it is the same text).
 */
enum wb_status wb_store_outbox_add(struct wb_store *st, const struct wb_outbox_new *o,
                                   int64_t *id_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    if (o->channel_id == NULL || o->recipient_id == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "store: outbox row without channel or recipient");
    }
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(o->message_id), WB_SQ_INT(o->conversation_id),
                        WB_SQ_TEXT(o->channel_id), WB_SQ_TEXT(o->recipient_id),
                        WB_SQ_INT(WB_OUTBOX_PENDING), WB_SQ_INT(o->next_attempt_ms),
                        WB_SQ_INT(o->now_ms != 0 ? o->now_ms : o->next_attempt_ms));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    wb_sq_done(s);
    if (sr != SQLITE_DONE) {
        return wb_sq_fail(st, sr, err, "outbox insert");
    }
    if (id_out != NULL) {
        *id_out = id;
    }
    return WB_OK;
}

static enum wb_status item_load_refs(struct wb_store *st, struct wb_outbox_item *it,
                                     struct wb_err *err);

enum wb_status wb_store_outbox_add_item(struct wb_store *st, const struct wb_outbox_new *o,
                                        const char *text, enum wb_author author,
                                        const char *subject, bool want_refs,
                                        struct wb_outbox_item *item, struct wb_err *err)
{
    int64_t id = 0;
    memset(item, 0, sizeof(*item));
    enum wb_status rc = wb_store_outbox_add(st, o, &id, err);
    if (rc != WB_OK) {
        return rc;
    }
    item->id = id;
    item->message_id = o->message_id;
    item->conversation_id = o->conversation_id;
    item->channel_id = wb_strdup(o->channel_id);
    item->recipient_id = wb_strdup(o->recipient_id);
    item->text = wb_strdup(text != NULL ? text : "");
    item->author = author;
    item->subject = subject != NULL ? wb_strdup(subject) : NULL;
    item->idempotency_key = outbox_key(st, o->channel_id, id);
    item->next_attempt_ms = o->next_attempt_ms;
    /* the LEFT JOIN of the read-back: no identity means no display fields */
    rc = wb_store_identity_display(st, o->channel_id, o->recipient_id, &item->recipient_name,
                                   &item->recipient_email, err);
    if (rc == WB_ERR_NOTFOUND) {
        wb_err_clear(err);
        rc = WB_OK;
    }
    if (rc == WB_OK && want_refs) {
        rc = item_load_refs(st, item, err);
    }
    if (rc != WB_OK) {
        wb_outbox_item_free(item);
    }
    return rc;
}

/* ---- loading items ---- */

void wb_outbox_item_free(struct wb_outbox_item *it)
{
    if (it == NULL) {
        return;
    }
    WB_FREE(it->channel_id);
    WB_FREE(it->recipient_id);
    WB_FREE(it->recipient_name);
    WB_FREE(it->recipient_email);
    WB_FREE(it->text);
    WB_FREE(it->subject);
    WB_FREE(it->idempotency_key);
    for (size_t i = 0; i < it->n_thread_refs; i++) {
        free(it->thread_refs[i]);
    }
    WB_FREE(it->thread_refs);
    it->n_thread_refs = 0;
    WB_FREE(it->last_error);
}

void wb_outbox_items_free(struct wb_outbox_item *v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wb_outbox_item_free(&v[i]);
    }
    free(v);
}

static void item_from_row(const struct wb_store *st, sqlite3_stmt *s, struct wb_outbox_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = sqlite3_column_int64(s, 0);
    it->message_id = sqlite3_column_int64(s, 1);
    it->conversation_id = sqlite3_column_int64(s, 2);
    it->channel_id = wb_sq_col_str(s, 3);
    it->recipient_id = wb_sq_col_str(s, 4);
    it->recipient_name = wb_sq_col_str(s, 5);
    it->recipient_email = wb_sq_col_str(s, 6);
    it->text = wb_sq_col_str(s, 7);
    it->author = (enum wb_author)sqlite3_column_int(s, 8);
    it->subject = wb_sq_col_str(s, 9);
    it->idempotency_key = wb_sq_col_str(s, 10);
    if (it->idempotency_key == NULL) {
        it->idempotency_key = outbox_key(st, it->channel_id, it->id);
    }
    it->attempts = sqlite3_column_int(s, 11);
    it->next_attempt_ms = sqlite3_column_int64(s, 12);
    it->last_error = wb_sq_col_str(s, 13);
}

/* Fill it->thread_refs: the channel's external ids in the thread, oldest first. */
static enum wb_status item_load_refs(struct wb_store *st, struct wb_outbox_item *it,
                                     struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_REFS, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(it->conversation_id), WB_SQ_TEXT(it->channel_id),
                        WB_SQ_INT(THREAD_REFS_MAX));
    while (sr == SQLITE_OK || sr == SQLITE_ROW) {
        sr = sqlite3_step(s);
        if (sr != SQLITE_ROW) {
            break;
        }
        if (it->thread_refs == NULL) {
            it->thread_refs = wb_calloc(THREAD_REFS_MAX, sizeof(*it->thread_refs));
        }
        if (it->n_thread_refs < THREAD_REFS_MAX) {
            it->thread_refs[it->n_thread_refs++] = wb_sq_col_str(s, 0);
        }
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "outbox thread refs");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_outbox_get(struct wb_store *st, int64_t id, struct wb_outbox_item *out,
                                   struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_GET, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(id));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        item_from_row(st, s, out);
    } else if (sr == SQLITE_DONE) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no outbox row %lld", (long long)id);
    } else {
        rc = wb_sq_fail(st, sr, err, "outbox get");
    }
    wb_sq_done(s);
    if (rc == WB_OK) {
        rc = item_load_refs(st, out, err);
        if (rc != WB_OK) {
            wb_outbox_item_free(out);
        }
    }
    return rc;
}

/* Read the pending rows (without their thread refs) into *v. */
static enum wb_status pending_rows(struct wb_store *st, int64_t after_id, size_t max,
                                   struct wb_outbox_item **v, size_t *n, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    size_t cap = 0;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_PENDING, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int64_t limit = max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
    int sr = WB_SQ_BIND(s, WB_SQ_INT(WB_OUTBOX_PENDING), WB_SQ_INT(after_id), WB_SQ_INT(limit));
    while (sr == SQLITE_OK || sr == SQLITE_ROW) {
        sr = sqlite3_step(s);
        if (sr != SQLITE_ROW) {
            break;
        }
        if (*n == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            *v = wb_realloc(*v, cap * sizeof(**v));
        }
        item_from_row(st, s, &(*v)[(*n)++]);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "outbox pending");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_outbox_pending(struct wb_store *st, int64_t after_id, size_t max,
                                       struct wb_outbox_item **out, size_t *n_out,
                                       struct wb_err *err)
{
    struct wb_outbox_item *v = NULL;
    size_t n = 0;
    *out = NULL;
    *n_out = 0;
    enum wb_status rc = pending_rows(st, after_id, max, &v, &n, err);
    /* refs are read after the row statement is done, so the two never interleave */
    for (size_t i = 0; i < n && rc == WB_OK; i++) {
        rc = item_load_refs(st, &v[i], err);
    }
    if (rc != WB_OK) {
        wb_outbox_items_free(v, n);
        return rc;
    }
    *out = v;
    *n_out = n;
    return WB_OK;
}

/* ---- state changes ---- */

/*
 * Run a bound "UPDATE outbox ... WHERE id = ? AND state = pending".
 * WB_ERR_NOTFOUND when the row does not exist or is no longer pending.
 */
static enum wb_status outbox_transition(struct wb_store *st, sqlite3_stmt *s, int sr, int64_t id,
                                        struct wb_err *err)
{
    enum wb_status rc = WB_OK;
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "outbox update");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no pending outbox row %lld", (long long)id);
    }
    wb_sq_done(s);
    return rc;
}

/* Record the delivery result on the message the outbox row delivers. */
static enum wb_status message_delivery(struct wb_store *st, enum wb_sq_id sq, int64_t outbox_id,
                                       const char *text, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, sq, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int64_t delivery = sq == WB_SQ_MSG_SET_SENT ? WB_DELIVERY_SENT : WB_DELIVERY_DEAD;
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(text), WB_SQ_INT(delivery), WB_SQ_INT(outbox_id));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr == SQLITE_CONSTRAINT_UNIQUE) {
        rc = wb_err_set(err, WB_ERR_DUPLICATE, "store: external id %s already stored",
                        text != NULL ? text : "(none)");
    } else if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "message delivery");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_outbox_sent(struct wb_store *st, int64_t id, const char *external_id,
                                    int attempts, int64_t now_ms, struct wb_err *err)
{
    struct wb_sq_op op;
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_op_begin(st, &op, err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = wb_sq_prepare(st, WB_SQ_OUTBOX_SENT, &s, err);
    if (rc == WB_OK) {
        int sr = WB_SQ_BIND(s, WB_SQ_INT(WB_OUTBOX_SENT), WB_SQ_INT(attempts), WB_SQ_INT(now_ms),
                            WB_SQ_INT(id), WB_SQ_INT(WB_OUTBOX_PENDING));
        rc = outbox_transition(st, s, sr, id, err);
    }
    if (rc == WB_OK) {
        rc = message_delivery(st, WB_SQ_MSG_SET_SENT, id, external_id, err);
    }
    return wb_sq_op_end(st, &op, rc, err);
}

enum wb_status wb_store_outbox_retry(struct wb_store *st, int64_t id, int attempts,
                                     int64_t next_attempt_ms, const char *error, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_RETRY, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(attempts), WB_SQ_INT(next_attempt_ms), WB_SQ_TEXT(error),
                        WB_SQ_INT(id), WB_SQ_INT(WB_OUTBOX_PENDING));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "outbox retry");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no pending outbox row %lld", (long long)id);
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_outbox_dead(struct wb_store *st, int64_t id, int attempts,
                                    const char *error, int64_t now_ms, struct wb_err *err)
{
    struct wb_sq_op op;
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_op_begin(st, &op, err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = wb_sq_prepare(st, WB_SQ_OUTBOX_DEAD, &s, err);
    if (rc == WB_OK) {
        int sr = WB_SQ_BIND(s, WB_SQ_INT(WB_OUTBOX_DEAD), WB_SQ_INT(attempts), WB_SQ_TEXT(error),
                            WB_SQ_INT(now_ms), WB_SQ_INT(id), WB_SQ_INT(WB_OUTBOX_PENDING));
        rc = outbox_transition(st, s, sr, id, err);
    }
    if (rc == WB_OK) {
        rc = message_delivery(st, WB_SQ_MSG_SET_DEAD, id, error, err);
    }
    return wb_sq_op_end(st, &op, rc, err);
}

enum wb_status wb_store_outbox_counts(struct wb_store *st, struct wb_outbox_counts *out,
                                      struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_OUTBOX_COUNTS, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = sqlite3_step(s);
    for (; sr == SQLITE_ROW; sr = sqlite3_step(s)) {
        int64_t state = sqlite3_column_int64(s, 0);
        int64_t n = sqlite3_column_int64(s, 1);
        if (state == WB_OUTBOX_PENDING) {
            out->pending = n;
        } else if (state == WB_OUTBOX_SENT) {
            out->sent = n;
        } else if (state == WB_OUTBOX_DEAD) {
            out->dead = n;
        }
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "outbox counts");
    }
    wb_sq_done(s);
    return rc;
}

/* ---- events, agents, channel state, stats ---- */

enum wb_status wb_store_event_append(struct wb_store *st, const char *kind, int64_t conversation_id,
                                     int64_t message_id, int64_t now_ms, int64_t *event_id_out,
                                     struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_EVENT_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(kind), WB_SQ_ID(conversation_id), WB_SQ_ID(message_id),
                        WB_SQ_INT(now_ms));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "event insert");
    } else if (event_id_out != NULL) {
        *event_id_out = sqlite3_last_insert_rowid(st->db);
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_agent_upsert(struct wb_store *st, const char *login, const char *name,
                                     const char *email, int64_t now_ms, int64_t *id_out,
                                     struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    int64_t id = 0;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_AGENT_UPSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr =
        WB_SQ_BIND(s, WB_SQ_TEXT(login), WB_SQ_TEXT(name), WB_SQ_TEXT(email), WB_SQ_INT(now_ms));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE || id == 0) {
        rc = wb_sq_fail(st, sr, err, "agent upsert");
    } else if (id_out != NULL) {
        *id_out = id;
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_channel_state_get(struct wb_store *st, const char *channel_id,
                                          const char *key, char **value_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    *value_out = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CSTATE_GET, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(channel_id), WB_SQ_TEXT(key));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        *value_out = wb_sq_col_str(s, 0);
    } else if (sr == SQLITE_DONE) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: channel %s has no %s", channel_id, key);
    } else {
        rc = wb_sq_fail(st, sr, err, "channel state get");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_channel_state_set(struct wb_store *st, const char *channel_id,
                                          const char *key, const char *value, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    if (value == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "store: channel %s: NULL value for %s", channel_id,
                          key);
    }
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CSTATE_SET, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(channel_id), WB_SQ_TEXT(key), WB_SQ_TEXT(value));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "channel state set");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_stats_get(struct wb_store *st, struct wb_store_stats *out,
                                  struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_STATS, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(WB_DIR_IN), WB_SQ_INT(WB_DIR_OUT));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        out->contacts = sqlite3_column_int64(s, 0);
        out->conversations = sqlite3_column_int64(s, 1);
        out->messages = sqlite3_column_int64(s, 2);
        out->messages_in = sqlite3_column_int64(s, 3);
        out->messages_out = sqlite3_column_int64(s, 4);
    } else {
        rc = wb_sq_fail(st, sr, err, "stats");
    }
    wb_sq_done(s);
    return rc;
}
