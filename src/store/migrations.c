/*
 * migrations.c - the SQLite schema, as numbered migrations.
 *
 * DESIGN: PRAGMA user_version holds the number of migrations applied.
 * Migration N runs in its own BEGIN IMMEDIATE transaction together with
 * "PRAGMA user_version = N", so a crash leaves the schema at N-1 or N and
 * never in between; the version is re-read inside the transaction so two
 * processes opening the same file at once apply each step once. A file
 * whose version is newer than this build knows is refused, not touched.
 *
 * Migrations are append-only: never edit a published step, add the next.
 * The schema uses plain types a PostgreSQL driver can mirror: INTEGER ids
 * (BIGSERIAL there), INTEGER millisecond times, INTEGER enum values (the
 * enums of store.h and message.h), TEXT, and BLOB (BYTEA) for raw
 * payloads.
 *
 * Thread: the thread that opens the connection.
 */
#include <stdio.h>

#include "sqlite_priv.h"

static const char *const migrations[] = {
    /* 1: the conversation model */
    "CREATE TABLE contacts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT,"
    " email TEXT," /* verified address only: where continuity replies may go */
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE identities ("
    " id INTEGER PRIMARY KEY,"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " channel_id TEXT NOT NULL,"
    " external_id TEXT NOT NULL,"
    " name TEXT,"
    " email TEXT,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " UNIQUE (channel_id, external_id));"
    "CREATE INDEX identities_contact ON identities (contact_id);"
    "CREATE TABLE conversations ("
    " id INTEGER PRIMARY KEY,"
    " contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " channel_id TEXT NOT NULL,"
    " subject TEXT,"
    " topic TEXT,"
    " owner INTEGER NOT NULL DEFAULT 0,"
    " last_seq INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX conversations_contact"
    " ON conversations (contact_id, channel_id, updated_ms);"
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " seq INTEGER NOT NULL,"
    " direction INTEGER NOT NULL,"
    " author INTEGER NOT NULL,"
    " channel_id TEXT NOT NULL,"
    " external_id TEXT," /* NULL until an outbound message is sent */
    " identity_id INTEGER REFERENCES identities(id),"
    " text TEXT NOT NULL,"
    " full_text TEXT,"
    " subject TEXT,"
    " raw BLOB,"
    " delivery INTEGER NOT NULL DEFAULT 0,"
    " delivery_error TEXT,"
    " created_ms INTEGER NOT NULL,"
    " UNIQUE (channel_id, external_id)," /* dedupe; NULLs never collide */
    " UNIQUE (conversation_id, seq));"   /* also the thread-order index */
    "CREATE INDEX messages_identity ON messages (identity_id);",

    /* 2: delivery, live events, agents, merges, per-channel state */
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages(id),"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    " channel_id TEXT NOT NULL,"
    " recipient_id TEXT NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER NOT NULL,"
    " last_error TEXT,"
    " idempotency_key TEXT UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX outbox_state ON outbox (state, id);"
    "CREATE INDEX outbox_message ON outbox (message_id);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: clients resume from it */
    " kind TEXT NOT NULL,"
    " conversation_id INTEGER REFERENCES conversations(id),"
    " message_id INTEGER REFERENCES messages(id),"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX events_conversation ON events (conversation_id, id);"
    "CREATE TABLE agents ("
    " id INTEGER PRIMARY KEY,"
    " login TEXT NOT NULL UNIQUE,"
    " name TEXT,"
    " email TEXT,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE merges (" /* every contact merge, so it can be undone */
    " id INTEGER PRIMARY KEY,"
    " from_contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " into_contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    " reason TEXT NOT NULL,"
    " agent_id INTEGER REFERENCES agents(id),"
    " created_ms INTEGER NOT NULL,"
    " undone_ms INTEGER);"
    "CREATE INDEX merges_into ON merges (into_contact_id);"
    "CREATE INDEX merges_from ON merges (from_contact_id);"
    "CREATE TABLE channel_state ("
    " channel_id TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (channel_id, key));",

    /* 3: attachments (files under state_dir, metadata here) */
    "CREATE TABLE attachments ("
    " id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages(id),"
    " filename TEXT,"
    " content_type TEXT,"
    " size INTEGER NOT NULL,"
    " path TEXT NOT NULL," /* relative to state_dir */
    " is_inline INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL);"
    "CREATE INDEX attachments_message ON attachments (message_id);",

    /*
     * 4: this database's random instance id, part of every idempotency key:
     * a reinstalled or reset database never repeats a key (or an email
     * Message-ID derived from it) that a receiver has already seen
     */
    ("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
     "INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(6))));"),

    /*
     * 5: cheaper writes on the ingest path. The conversation index no
     * longer holds updated_ms, so the update every message makes to its
     * conversation leaves the index alone (the newest-open query sorts the
     * contact's few conversations instead). The identity index on messages
     * served only the count of bot replies per sender: it becomes a partial
     * index of bot replies, which inbound messages do not touch. The
     * literals 1 are WB_AUTHOR_BOT and WB_DIR_OUT (checked in sqlite_sql.c).
     */
    ("DROP INDEX conversations_contact;"
     "CREATE INDEX conversations_contact ON conversations (contact_id, channel_id);"
     "DROP INDEX messages_identity;"
     "CREATE INDEX messages_bot_replies ON messages (identity_id, created_ms)"
     " WHERE author = 1 AND direction = 1;"),
};

int wb_sq_schema_latest(void)
{
    return (int)WB_ARRAY_LEN(migrations);
}

enum wb_status wb_sq_user_version(struct wb_store *st, int *version_out, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    enum wb_status ret = WB_OK;
    if (rc == SQLITE_ROW) {
        *version_out = sqlite3_column_int(s, 0);
    } else {
        ret = wb_sq_fail(st, rc, err, "read schema version");
    }
    (void)sqlite3_finalize(s);
    return ret;
}

static enum wb_status exec_script(struct wb_store *st, const char *sql, const char *what,
                                  struct wb_err *err)
{
    /* constant DDL from this file; no value is ever formatted into it */
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return wb_sq_fail(st, rc, err, what);
    }
    return WB_OK;
}

/* Apply migration `target` (1-based) unless another process already did. */
static enum wb_status migrate_step(struct wb_store *st, int target, struct wb_err *err)
{
    char set_version[48];
    int cur = 0;
    enum wb_status rc = exec_script(st, "BEGIN IMMEDIATE", "migration begin", err);
    if (rc != WB_OK) {
        return rc;
    }
    rc = wb_sq_user_version(st, &cur, err);
    if (rc != WB_OK || cur >= target) {
        goto out;
    }
    if (cur != target - 1) {
        rc = wb_err_set(err, WB_ERR_STORAGE, "store: schema at %d, cannot apply migration %d", cur,
                        target);
        goto out;
    }
    rc = exec_script(st, migrations[target - 1], "migration", err);
    if (rc != WB_OK) {
        goto out;
    }
    /* PRAGMA takes no bound parameter; target is our own small integer */
    (void)snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", target);
    rc = exec_script(st, set_version, "set schema version", err);
out:
    if (rc == WB_OK) {
        rc = exec_script(st, "COMMIT", "migration commit", err);
    }
    if (rc != WB_OK && sqlite3_get_autocommit(st->db) == 0) {
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

enum wb_status wb_sq_migrate(struct wb_store *st, struct wb_err *err)
{
    int cur = 0;
    int latest = wb_sq_schema_latest();
    enum wb_status rc = wb_sq_user_version(st, &cur, err);
    if (rc != WB_OK) {
        return rc;
    }
    if (cur > latest) {
        return wb_err_set(err, WB_ERR_STORAGE,
                          "store: schema version %d is newer than this build (%d)", cur, latest);
    }
    for (int v = cur + 1; v <= latest; v++) {
        rc = migrate_step(st, v, err);
        if (rc != WB_OK) {
            return rc;
        }
    }
    return wb_sq_user_version(st, &st->schema_version, err);
}
