/*
 * sqlite_model.c - contacts, identities, conversations and messages.
 *
 * DESIGN: dedupe is the database's guarantee: messages has
 * UNIQUE(channel_id, external_id), and its violation comes back as
 * WB_ERR_DUPLICATE (the core still looks a message up first, to answer a
 * re-delivery with the stored ids). Sequence numbers come from
 * conversations.last_seq, bumped by the same atomic section that inserts
 * the message (a guarded UPDATE from the cached last_seq, else UPDATE ...
 * RETURNING), so the seq of a rolled-back message is handed out again and
 * a thread never has gaps. Identities are found or created; a new identity
 * always gets a new contact: joining contacts needs proof and is never
 * done here. Every call that changes an identity or conversation row
 * updates the write connection's caches (sqlite_cache.h).
 *
 * Thread: the connection's thread.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_priv.h"

static const char *const owner_names[] = { "bot", "queued", "agent", "resolved" };

const char *wb_owner_str(enum wb_owner o)
{
    return (size_t)o < WB_ARRAY_LEN(owner_names) ? owner_names[o] : "unknown";
}

static int64_t clamp_limit(size_t max)
{
    return max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
}

/* ---- messages by external id ---- */

enum wb_status wb_store_message_find(struct wb_store *st, const char *channel_id,
                                     const char *external_id, struct wb_msg_ref *out,
                                     struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_MSG_FIND, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(channel_id), WB_SQ_TEXT(external_id));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        out->message_id = sqlite3_column_int64(s, 0);
        out->conversation_id = sqlite3_column_int64(s, 1);
        out->contact_id = sqlite3_column_int64(s, 2);
    } else if (sr == SQLITE_DONE) {
        rc =
            wb_err_set(err, WB_ERR_NOTFOUND, "store: no message %s on %s", external_id, channel_id);
    } else {
        rc = wb_sq_fail(st, sr, err, "message find");
    }
    wb_sq_done(s);
    return rc;
}

/* ---- identities ---- */

/* One identity_resolve call: what was asked and the ids found or made. */
struct ident_req {
    const char *channel_id;
    const char *external_id;
    const char *name;
    const char *email;
    int64_t now_ms;
    int64_t contact_id;
    int64_t identity_id;
    char *stored_name; /* the row's display fields, as found (owned) */
    char *stored_email;
};

/* Look the identity up; WB_ERR_NOTFOUND (without err text) if absent. */
static enum wb_status identity_find(struct wb_store *st, struct ident_req *q, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_IDENT_FIND, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(q->channel_id), WB_SQ_TEXT(q->external_id));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        q->identity_id = sqlite3_column_int64(s, 0);
        q->contact_id = sqlite3_column_int64(s, 1);
        q->stored_name = wb_sq_col_str(s, 2);
        q->stored_email = wb_sq_col_str(s, 3);
    } else if (sr == SQLITE_DONE) {
        rc = WB_ERR_NOTFOUND;
    } else {
        rc = wb_sq_fail(st, sr, err, "identity find");
    }
    wb_sq_done(s);
    return rc;
}

/* Refresh display fields; writes nothing when they did not change. */
static enum wb_status identity_update(struct wb_store *st, const struct ident_req *q,
                                      struct wb_err *err)
{
    if (q->name == NULL && q->email == NULL) {
        return WB_OK;
    }
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_IDENT_UPDATE, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(q->name), WB_SQ_TEXT(q->email), WB_SQ_INT(q->now_ms),
                        WB_SQ_INT(q->identity_id));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "identity update");
    }
    wb_sq_done(s);
    return rc;
}

/* Run an INSERT bound by the caller and return the new row id. */
static enum wb_status insert_row(struct wb_store *st, sqlite3_stmt *s, int sr, const char *what,
                                 int64_t *id_out, struct wb_err *err)
{
    enum wb_status rc = WB_OK;
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr == SQLITE_DONE) {
        *id_out = sqlite3_last_insert_rowid(st->db);
    } else {
        rc = wb_sq_fail(st, sr, err, what);
    }
    wb_sq_done(s);
    return rc;
}

static enum wb_status identity_create(struct wb_store *st, struct ident_req *q, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONTACT_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    /* the contact gets the display name only: an identity's email is a claim, not proof */
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(q->name), WB_SQ_INT(q->now_ms));
    rc = insert_row(st, s, sr, "contact insert", &q->contact_id, err);
    if (rc == WB_OK) {
        rc = wb_sq_prepare(st, WB_SQ_IDENT_INSERT, &s, err);
    }
    if (rc == WB_OK) {
        sr = WB_SQ_BIND(s, WB_SQ_INT(q->contact_id), WB_SQ_TEXT(q->channel_id),
                        WB_SQ_TEXT(q->external_id), WB_SQ_TEXT(q->name), WB_SQ_TEXT(q->email),
                        WB_SQ_INT(q->now_ms));
        rc = insert_row(st, s, sr, "identity insert", &q->identity_id, err);
    }
    return rc;
}

static bool same_or_unset(const char *given, const char *stored)
{
    return given == NULL || (stored != NULL && strcmp(given, stored) == 0);
}

/*
 * The cached identity when the call would change nothing in it: the ids,
 * and no write (the display fields given are unset or already stored).
 */
static bool identity_cached(struct wb_store *st, struct ident_req *q)
{
    struct wb_sq_ident *e =
        st->cached ? wb_sq_ident_get(&st->cache, q->channel_id, q->external_id) : NULL;
    if (e == NULL || !same_or_unset(q->name, e->name) || !same_or_unset(q->email, e->email)) {
        return false;
    }
    q->identity_id = e->identity_id;
    q->contact_id = e->contact_id;
    return true;
}

enum wb_status wb_store_identity_resolve(struct wb_store *st, const char *channel_id,
                                         const char *external_id, const char *name,
                                         const char *email, int64_t now_ms, int64_t *contact_id_out,
                                         int64_t *identity_id_out, struct wb_err *err)
{
    if (channel_id == NULL || external_id == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "store: identity without channel or external id");
    }
    struct ident_req q = { .channel_id = channel_id,
                           .external_id = external_id,
                           .name = name,
                           .email = email,
                           .now_ms = now_ms };
    if (identity_cached(st, &q)) {
        *contact_id_out = q.contact_id;
        *identity_id_out = q.identity_id;
        return WB_OK;
    }
    struct wb_sq_op op;
    enum wb_status rc = wb_sq_op_begin(st, &op, err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = identity_find(st, &q, err);
    if (rc == WB_OK) {
        rc = identity_update(st, &q, err);
    } else if (rc == WB_ERR_NOTFOUND) {
        rc = identity_create(st, &q, err);
    }
    rc = wb_sq_op_end(st, &op, rc, err);
    if (rc == WB_OK) {
        *contact_id_out = q.contact_id;
        *identity_id_out = q.identity_id;
        if (st->cached) {
            /* what identity_update stored: coalesce(given, stored) */
            wb_sq_ident_put(&st->cache, channel_id, external_id, q.identity_id, q.contact_id,
                            name != NULL ? name : q.stored_name,
                            email != NULL ? email : q.stored_email);
        }
    }
    free(q.stored_name);
    free(q.stored_email);
    return rc;
}

enum wb_status wb_store_identity_display(struct wb_store *st, const char *channel_id,
                                         const char *external_id, char **name_out, char **email_out,
                                         struct wb_err *err)
{
    struct ident_req q = { .channel_id = channel_id, .external_id = external_id };
    struct wb_sq_ident *e =
        st->cached ? wb_sq_ident_get(&st->cache, channel_id, external_id) : NULL;
    *name_out = NULL;
    *email_out = NULL;
    if (e != NULL) {
        *name_out = e->name != NULL ? wb_strdup(e->name) : NULL;
        *email_out = e->email != NULL ? wb_strdup(e->email) : NULL;
        return WB_OK;
    }
    enum wb_status rc = identity_find(st, &q, err);
    if (rc == WB_ERR_NOTFOUND) {
        return wb_err_set(err, WB_ERR_NOTFOUND, "store: no identity %s on %s", external_id,
                          channel_id);
    }
    if (rc == WB_OK && st->cached) {
        wb_sq_ident_put(&st->cache, channel_id, external_id, q.identity_id, q.contact_id,
                        q.stored_name, q.stored_email);
    }
    *name_out = q.stored_name;
    *email_out = q.stored_email;
    return rc;
}

/* ---- conversations ---- */

static void conversation_from_row(sqlite3_stmt *s, struct wb_conversation *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->contact_id = sqlite3_column_int64(s, 1);
    out->channel_id = wb_sq_col_str(s, 2);
    out->subject = wb_sq_col_str(s, 3);
    out->topic = wb_sq_col_str(s, 4);
    out->owner = (enum wb_owner)sqlite3_column_int(s, 5);
    out->last_seq = sqlite3_column_int64(s, 6);
    out->created_ms = sqlite3_column_int64(s, 7);
    out->updated_ms = sqlite3_column_int64(s, 8);
}

void wb_conversation_free(struct wb_conversation *c)
{
    if (c == NULL) {
        return;
    }
    WB_FREE(c->channel_id);
    WB_FREE(c->subject);
    WB_FREE(c->topic);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? wb_strdup(s) : NULL;
}

static void conversation_copy(struct wb_conversation *out, const struct wb_conversation *c)
{
    *out = *c;
    out->channel_id = dup_or_null(c->channel_id);
    out->subject = dup_or_null(c->subject);
    out->topic = dup_or_null(c->topic);
}

/*
 * A conversation row changed (owner, updated_ms, last_seq) through this
 * connection: update its cached copy and what it makes the newest open
 * one of its contact on its channel. A row not in the cache is read back,
 * so the newest-open entry it may overtake stays exact.
 */
static void conversation_touched(struct wb_store *st, int64_t id, int owner, int64_t last_seq,
                                 int64_t updated_ms)
{
    if (!st->cached) {
        return;
    }
    struct wb_sq_conv *e = wb_sq_conv_get(&st->cache, id);
    if (e == NULL) {
        struct wb_conversation c;
        if (wb_store_conversation_get(st, id, &c, NULL) != WB_OK) {
            wb_sq_forget(st);
            return;
        }
        wb_conversation_free(&c);
        e = wb_sq_conv_get(&st->cache, id);
        if (e == NULL) {
            return;
        }
    }
    if (owner >= 0) {
        e->c.owner = (enum wb_owner)owner;
    }
    if (last_seq >= 0) {
        e->c.last_seq = last_seq;
    }
    if (updated_ms > e->c.updated_ms) {
        e->c.updated_ms = updated_ms;
    }
    wb_sq_newest_touch(&st->cache, &e->c);
}

/*
 * Step a bound conversation query once: WB_OK with out filled, or
 * WB_ERR_NOTFOUND (err untouched) when it returned no row.
 */
static enum wb_status conversation_step(struct wb_store *st, sqlite3_stmt *s, int sr,
                                        struct wb_conversation *out, struct wb_err *err)
{
    enum wb_status rc = WB_ERR_NOTFOUND;
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        conversation_from_row(s, out);
        rc = WB_OK;
        if (st->cached) {
            (void)wb_sq_conv_put(&st->cache, out);
        }
    } else if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "conversation lookup");
    }
    wb_sq_done(s);
    return rc;
}

/* The contact's conversation holding the message ref on the channel. */
static enum wb_status match_by_ref(struct wb_store *st, int64_t contact_id, const char *channel_id,
                                   const char *ref, struct wb_conversation *out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONV_BY_REF, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    return conversation_step(
        st, s, WB_SQ_BIND(s, WB_SQ_TEXT(channel_id), WB_SQ_TEXT(ref), WB_SQ_INT(contact_id)), out,
        err);
}

enum wb_status wb_store_conversation_match(struct wb_store *st, int64_t contact_id,
                                           const char *channel_id, const char *const *refs,
                                           size_t n_refs, const char *topic,
                                           int64_t topic_window_ms, int64_t now_ms,
                                           struct wb_conversation *out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = WB_ERR_NOTFOUND;
    /* refs come newest first: the first one stored wins */
    for (size_t i = 0; i < n_refs && rc == WB_ERR_NOTFOUND; i++) {
        if (refs[i] != NULL) {
            rc = match_by_ref(st, contact_id, channel_id, refs[i], out, err);
        }
    }
    if (rc != WB_ERR_NOTFOUND) {
        return rc;
    }
    bool by_topic = topic != NULL && topic_window_ms > 0;
    struct wb_sq_conv *e =
        st->cached && !by_topic ? wb_sq_newest_get(&st->cache, contact_id, channel_id) : NULL;
    if (e != NULL) {
        conversation_copy(out, &e->c);
        return WB_OK;
    }
    rc = wb_sq_prepare(st, by_topic ? WB_SQ_CONV_BY_TOPIC : WB_SQ_CONV_NEWEST_OPEN, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = by_topic ? WB_SQ_BIND(s, WB_SQ_INT(contact_id), WB_SQ_TEXT(channel_id),
                                   WB_SQ_INT(WB_OWNER_RESOLVED), WB_SQ_TEXT(topic),
                                   WB_SQ_INT(now_ms - topic_window_ms))
                      : WB_SQ_BIND(s, WB_SQ_INT(contact_id), WB_SQ_TEXT(channel_id),
                                   WB_SQ_INT(WB_OWNER_RESOLVED));
    rc = conversation_step(st, s, sr, out, err);
    if (rc == WB_ERR_NOTFOUND) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no conversation of contact %lld on %s",
                        (long long)contact_id, channel_id);
    } else if (rc == WB_OK && !by_topic && st->cached) {
        wb_sq_newest_set(&st->cache, out);
    }
    return rc;
}

enum wb_status wb_store_conversation_get(struct wb_store *st, int64_t id,
                                         struct wb_conversation *out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONV_GET, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = conversation_step(st, s, WB_SQ_BIND(s, WB_SQ_INT(id)), out, err);
    if (rc == WB_ERR_NOTFOUND) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no conversation %lld", (long long)id);
    }
    return rc;
}

enum wb_status wb_store_conversation_create(struct wb_store *st, int64_t contact_id,
                                            const char *channel_id, const char *subject,
                                            const char *topic, int64_t now_ms,
                                            struct wb_conversation *out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    int64_t id = 0;
    memset(out, 0, sizeof(*out));
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONV_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(contact_id), WB_SQ_TEXT(channel_id), WB_SQ_TEXT(subject),
                        WB_SQ_TEXT(topic), WB_SQ_INT(WB_OWNER_BOT), WB_SQ_INT(now_ms));
    rc = insert_row(st, s, sr, "conversation insert", &id, err);
    if (rc != WB_OK) {
        return rc;
    }
    out->id = id;
    out->contact_id = contact_id;
    out->channel_id = wb_strdup(channel_id);
    out->subject = subject != NULL ? wb_strdup(subject) : NULL;
    out->topic = topic != NULL ? wb_strdup(topic) : NULL;
    out->owner = WB_OWNER_BOT;
    out->last_seq = 0;
    out->created_ms = now_ms;
    out->updated_ms = now_ms;
    if (st->cached) {
        struct wb_sq_conv *e = wb_sq_conv_put(&st->cache, out);
        wb_sq_conv_set_text(e, NULL); /* known: nobody wrote in it yet */
        wb_sq_newest_touch(&st->cache, out);
    }
    return WB_OK;
}

enum wb_status wb_store_conversation_set_owner(struct wb_store *st, int64_t id, enum wb_owner owner,
                                               int64_t now_ms, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    if ((size_t)owner >= WB_ARRAY_LEN(owner_names)) {
        return wb_err_set(err, WB_ERR_INVAL, "store: bad owner %d", (int)owner);
    }
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONV_SET_OWNER, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(owner), WB_SQ_INT(now_ms), WB_SQ_INT(id));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "conversation owner");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no conversation %lld", (long long)id);
    }
    wb_sq_done(s);
    if (rc == WB_OK) {
        conversation_touched(st, id, (int)owner, -1, now_ms);
    }
    return rc;
}

/* ---- appending and listing messages ---- */

/*
 * A cached conversation knows its last_seq: a plain UPDATE guarded by it
 * replaces UPDATE ... RETURNING, which SQLite runs through a temporary
 * table. WB_ERR_NOTFOUND (err untouched) when not cached or out of step.
 */
static enum wb_status next_seq_cached(struct wb_store *st, int64_t conversation_id, int64_t now_ms,
                                      int64_t *seq_out, struct wb_err *err)
{
    struct wb_sq_conv *e = st->cached ? wb_sq_conv_get(&st->cache, conversation_id) : NULL;
    sqlite3_stmt *s = NULL;
    if (e == NULL) {
        return WB_ERR_NOTFOUND;
    }
    int64_t seq = e->c.last_seq + 1;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_CONV_SET_SEQ, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(seq), WB_SQ_INT(now_ms), WB_SQ_INT(conversation_id),
                        WB_SQ_INT(e->c.last_seq));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "conversation sequence");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = WB_ERR_NOTFOUND;
        wb_sq_forget(st); /* should not happen: this connection is the only writer */
    }
    wb_sq_done(s);
    if (rc == WB_OK) {
        *seq_out = seq;
        conversation_touched(st, conversation_id, -1, seq, now_ms);
    }
    return rc;
}

static enum wb_status next_seq(struct wb_store *st, int64_t conversation_id, int64_t now_ms,
                               int64_t *seq_out, struct wb_err *err)
{
    enum wb_status rc = next_seq_cached(st, conversation_id, now_ms, seq_out, err);
    if (rc != WB_ERR_NOTFOUND) {
        return rc;
    }
    sqlite3_stmt *s = NULL;
    rc = wb_sq_prepare(st, WB_SQ_CONV_NEXT_SEQ, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(now_ms), WB_SQ_INT(conversation_id));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    int64_t updated_ms = 0;
    if (sr == SQLITE_ROW) {
        *seq_out = sqlite3_column_int64(s, 0);
        updated_ms = sqlite3_column_int64(s, 1);
        sr = wb_sq_exec_stmt(s);
    }
    if (sr == SQLITE_DONE && *seq_out == 0) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no conversation %lld",
                        (long long)conversation_id);
    } else if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "conversation sequence");
    }
    wb_sq_done(s);
    if (rc == WB_OK) {
        conversation_touched(st, conversation_id, -1, *seq_out, updated_ms);
    }
    return rc;
}

static enum wb_status insert_message(struct wb_store *st, const struct wb_store_message *m,
                                     int64_t seq, int64_t *id_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_MSG_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr =
        WB_SQ_BIND(s, WB_SQ_INT(m->conversation_id), WB_SQ_INT(seq), WB_SQ_INT(m->direction),
                   WB_SQ_INT(m->author), WB_SQ_TEXT(m->channel_id), WB_SQ_TEXT(m->external_id),
                   WB_SQ_ID(m->identity_id), WB_SQ_TEXT(m->text != NULL ? m->text : ""),
                   WB_SQ_TEXT(m->full_text), WB_SQ_TEXT(m->subject), WB_SQ_BLOB(m->raw, m->raw_len),
                   WB_SQ_INT(m->delivery), WB_SQ_INT(m->created_ms));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr == SQLITE_DONE) {
        *id_out = sqlite3_last_insert_rowid(st->db);
    } else if (sr == SQLITE_CONSTRAINT_UNIQUE) {
        rc = wb_err_set(err, WB_ERR_DUPLICATE, "store: message %s on %s already stored",
                        m->external_id != NULL ? m->external_id : "(none)", m->channel_id);
    } else {
        rc = wb_sq_fail(st, sr, err, "message insert");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_message_append(struct wb_store *st, const struct wb_store_message *m,
                                       int64_t *id_out, int64_t *seq_out, struct wb_err *err)
{
    struct wb_sq_op op;
    int64_t seq = 0;
    int64_t id = 0;
    if (m->channel_id == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "store: message without channel");
    }
    enum wb_status rc = wb_sq_op_begin(st, &op, err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = next_seq(st, m->conversation_id, m->created_ms, &seq, err);
    if (rc == WB_OK) {
        rc = insert_message(st, m, seq, &id, err);
    }
    rc = wb_sq_op_end(st, &op, rc, err);
    if (rc == WB_OK) {
        if (id_out != NULL) {
            *id_out = id;
        }
        if (seq_out != NULL) {
            *seq_out = seq;
        }
        struct wb_sq_conv *e = st->cached && m->author == WB_AUTHOR_CONTACT
                                   ? wb_sq_conv_get(&st->cache, m->conversation_id)
                                   : NULL;
        if (e != NULL) {
            wb_sq_conv_set_text(e, m->text != NULL ? m->text : "");
        }
    }
    return rc;
}

enum wb_status wb_store_last_contact_text(struct wb_store *st, int64_t conversation_id,
                                          char **text_out, struct wb_err *err)
{
    struct wb_sq_conv *e = st->cached ? wb_sq_conv_get(&st->cache, conversation_id) : NULL;
    *text_out = NULL;
    if (e != NULL && e->last_text_known) {
        *text_out = dup_or_null(e->last_text);
        return WB_OK;
    }
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_MSG_LAST_CONTACT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(conversation_id), WB_SQ_INT(WB_AUTHOR_CONTACT));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        *text_out = wb_sq_col_str(s, 0);
    } else if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "last contact text");
    }
    wb_sq_done(s);
    if (rc == WB_OK && e != NULL) {
        wb_sq_conv_set_text(e, *text_out);
    }
    return rc;
}

static void stored_message_from_row(sqlite3_stmt *s, struct wb_stored_message *m)
{
    m->id = sqlite3_column_int64(s, 0);
    m->conversation_id = sqlite3_column_int64(s, 1);
    m->seq = sqlite3_column_int64(s, 2);
    m->direction = (enum wb_direction)sqlite3_column_int(s, 3);
    m->author = (enum wb_author)sqlite3_column_int(s, 4);
    m->channel_id = wb_sq_col_str(s, 5);
    m->external_id = wb_sq_col_str(s, 6);
    m->text = wb_sq_col_str(s, 7);
    m->delivery = (enum wb_delivery)sqlite3_column_int(s, 8);
    m->delivery_error = wb_sq_col_str(s, 9);
    m->created_ms = sqlite3_column_int64(s, 10);
}

void wb_stored_message_free(struct wb_stored_message *m)
{
    if (m == NULL) {
        return;
    }
    WB_FREE(m->channel_id);
    WB_FREE(m->external_id);
    WB_FREE(m->text);
    WB_FREE(m->delivery_error);
}

void wb_stored_messages_free(struct wb_stored_message *v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wb_stored_message_free(&v[i]);
    }
    free(v);
}

/* Step a bound list query to the end, appending rows to *v. */
static int list_rows(sqlite3_stmt *s, struct wb_stored_message **v, size_t *n)
{
    size_t cap = 0;
    int sr = sqlite3_step(s);
    for (; sr == SQLITE_ROW; sr = sqlite3_step(s)) {
        if (*n == cap) {
            cap = cap != 0 ? cap * 2 : 32;
            *v = wb_realloc(*v, cap * sizeof(**v));
        }
        stored_message_from_row(s, &(*v)[(*n)++]);
    }
    return sr;
}

enum wb_status wb_store_messages_list(struct wb_store *st, int64_t conversation_id,
                                      int64_t after_seq, size_t max, struct wb_stored_message **out,
                                      size_t *n_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_stored_message *v = NULL;
    size_t n = 0;
    *out = NULL;
    *n_out = 0;
    if (max == 0) {
        return WB_OK;
    }
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_MSG_LIST, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(conversation_id), WB_SQ_INT(after_seq),
                        WB_SQ_INT(clamp_limit(max)));
    if (sr == SQLITE_OK) {
        sr = list_rows(s, &v, &n);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "messages list");
        wb_stored_messages_free(v, n);
        v = NULL;
        n = 0;
    }
    wb_sq_done(s);
    *out = v;
    *n_out = n;
    return rc;
}

enum wb_status wb_store_message_set_text(struct wb_store *st, int64_t id, const char *text,
                                         enum wb_delivery delivery, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_MSG_SET_TEXT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT(text), WB_SQ_INT(delivery), WB_SQ_INT(id));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "message text");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = wb_err_set(err, WB_ERR_NOTFOUND, "store: no message %lld", (long long)id);
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_drafts_list(struct wb_store *st, int64_t after_id, size_t max,
                                    struct wb_draft **out, size_t *n_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_draft *v = NULL;
    size_t n = 0;
    int sr;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_DRAFTS, &s, err);

    *out = NULL;
    *n_out = 0;
    if (rc != WB_OK) {
        return rc;
    }
    v = wb_calloc(max ? max : 1, sizeof(*v));
    sr = WB_SQ_BIND(s, WB_SQ_INT(WB_DELIVERY_DRAFT), WB_SQ_INT(after_id), WB_SQ_INT(max));
    while (sr == SQLITE_OK && n < max && (sr = sqlite3_step(s)) == SQLITE_ROW) {
        v[n].message_id = sqlite3_column_int64(s, 0);
        v[n].conversation_id = sqlite3_column_int64(s, 1);
        v[n].channel_id = wb_sq_col_str(s, 2);
        v[n].recipient_id = wb_sq_col_str(s, 3);
        n++;
        sr = SQLITE_OK;
    }
    if (sr != SQLITE_OK && sr != SQLITE_DONE && sr != SQLITE_ROW) {
        rc = wb_sq_fail(st, sr, err, "drafts");
        wb_drafts_free(v, n);
        v = NULL;
        n = 0;
    }
    wb_sq_done(s);
    *out = v;
    *n_out = n;
    return rc;
}

void wb_drafts_free(struct wb_draft *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        free(v[i].channel_id);
        free(v[i].recipient_id);
    }
    free(v);
}

enum wb_status wb_store_attachment_add(struct wb_store *st, int64_t message_id,
                                       const char *filename, const char *content_type, int64_t size,
                                       const char *path, bool is_inline, int64_t now_ms,
                                       struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_ATTACH_INSERT, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(message_id), WB_SQ_TEXT(filename), WB_SQ_TEXT(content_type),
                        WB_SQ_INT(size), WB_SQ_TEXT(path), WB_SQ_INT(is_inline ? 1 : 0),
                        WB_SQ_INT(now_ms));
    if (sr == SQLITE_OK) {
        sr = wb_sq_exec_stmt(s);
    }
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, "attachment");
    }
    wb_sq_done(s);
    return rc;
}

enum wb_status wb_store_bot_replies_since(struct wb_store *st, int64_t identity_id,
                                          int64_t since_ms, int64_t *n_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_REPLIES_SINCE, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_INT(identity_id), WB_SQ_INT(since_ms));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW) {
        *n_out = sqlite3_column_int64(s, 0);
    } else {
        rc = wb_sq_fail(st, sr, err, "replies since");
    }
    wb_sq_done(s);
    return rc;
}
