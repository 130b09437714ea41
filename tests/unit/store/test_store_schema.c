/*
 * test_store_schema.c - opening, migrations, read-only connections,
 * transactions, savepoints and rollback of the SQLite store.
 *
 * The database file is inspected with SQLite directly where the store
 * interface cannot show a property (journal mode, schema version, tables).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_fixture.h"

/* ---- raw SQLite helpers (test only) ---- */

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* First column of the first row as text, copied into buf. */
static void raw_text(const char *path, const char *sql, char *buf, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(s, 0);
    (void)snprintf(buf, n, "%s", t != NULL ? (const char *)t : "");
    assert_int_equal(sqlite3_finalize(s), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static long raw_long(const char *path, const char *sql)
{
    char buf[32];
    raw_text(path, sql, buf, sizeof(buf));
    return strtol(buf, NULL, 10);
}

static struct store_fx *fx_of(void **state)
{
    return *state;
}

static void stats(struct wb_store *st, struct wb_store_stats *out)
{
    struct wb_err err = { 0 };
    assert_int_equal(wb_store_stats_get(st, out, &err), WB_OK);
}

/* ---- migrations ---- */

static void test_migrates_empty_database(void **state)
{
    struct store_fx *fx = fx_of(state);
    static const char *const tables[] = {
        "contacts", "identities", "conversations", "messages",      "outbox",
        "agents",   "events",     "merges",        "channel_state",
    };
    int v = wb_store_schema_version(fx->st);
    assert_true(v >= 2);
    assert_int_equal(raw_long(fx->path, "PRAGMA user_version"), v);
    char mode[16];
    raw_text(fx->path, "PRAGMA journal_mode", mode, sizeof(mode));
    assert_string_equal(mode, "wal");
    for (size_t i = 0; i < WB_ARRAY_LEN(tables); i++) {
        char sql[160];
        (void)snprintf(sql, sizeof(sql),
                       "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
                       tables[i]);
        assert_int_equal(raw_long(fx->path, sql), 1);
    }
    assert_int_equal(raw_long(fx->path, "SELECT count(*) FROM sqlite_master WHERE type='index' "
                                        "AND name IN ('outbox_state', 'conversations_contact')"),
                     2);
    struct wb_store_stats s;
    stats(fx->st, &s);
    assert_int_equal(s.contacts + s.conversations + s.messages, 0);
}

static void test_reopen_is_idempotent(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    int64_t contact = 0, ident = 0, contact2 = 0, ident2 = 0;
    int v = wb_store_schema_version(fx->st);
    assert_int_equal(wb_store_identity_resolve(fx->st, "email", "a@example.com", "A", NULL, 5,
                                               &contact, &ident, &err),
                     WB_OK);
    for (int i = 0; i < 3; i++) {
        wb_store_close(fx->st);
        fx->st = store_fx_open(fx, false);
        assert_int_equal(wb_store_schema_version(fx->st), v);
    }
    assert_int_equal(raw_long(fx->path, "PRAGMA user_version"), v);
    assert_int_equal(wb_store_identity_resolve(fx->st, "email", "a@example.com", NULL, NULL, 6,
                                               &contact2, &ident2, &err),
                     WB_OK);
    assert_int_equal(contact2, contact);
    assert_int_equal(ident2, ident);
}

static void test_newer_schema_refused(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_store *st = NULL;
    struct wb_err err = { 0 };
    wb_store_close(fx->st);
    fx->st = NULL;
    raw_exec(fx->path, "PRAGMA user_version = 999");
    assert_int_equal(store_fx_try_open(fx, false, &st, &err), WB_ERR_STORAGE);
    assert_null(st);
    assert_non_null(strstr(err.msg, "999"));
    assert_int_equal(store_fx_try_open(fx, true, &st, &err), WB_ERR_STORAGE);
    assert_null(st);
    /* untouched */
    assert_int_equal(raw_long(fx->path, "PRAGMA user_version"), 999);
}

static void test_bad_options(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_store *st = NULL;
    struct wb_err err = { 0 };

    const struct {
        const char *label;
        struct wb_store_options opt;
        enum wb_status want;
    } rows[] = {
        { "unknown driver", { .driver = "postgres", .path = fx->path }, WB_ERR_INVAL },
        { "no path", { .driver = "sqlite" }, WB_ERR_INVAL },
        { "empty path", { .driver = "sqlite", .path = "" }, WB_ERR_INVAL },
        { "missing dir", { .path = "/nonexistent/dir/x.db" }, WB_ERR_STORAGE },
        { "ro missing file", { .path = "/nonexistent/x.db", .read_only = true }, WB_ERR_STORAGE },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        enum wb_status got = wb_store_open(&rows[i].opt, &st, &err);
        if (got != rows[i].want) {
            fail_msg("%s: got %s want %s", rows[i].label, wb_status_str(got),
                     wb_status_str(rows[i].want));
        }
        assert_null(st);
    }
}

/* ---- read-only connections ---- */

static void test_readonly_reads_and_refuses_writes(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_conversation c;
    struct wb_store_stats before, after;
    int64_t contact = 0, ident = 0, conv = 0, id = 0;
    char *value = NULL;
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "hi", 10, &id, NULL),
                     WB_OK);
    stats(fx->st, &before);

    struct wb_store *ro = store_fx_open(fx, true);
    assert_int_equal(wb_store_schema_version(ro), wb_store_schema_version(fx->st));
    assert_int_equal(wb_store_begin(ro, &err), WB_OK);
    assert_int_equal(wb_store_conversation_get(ro, conv, &c, &err), WB_OK);
    assert_int_equal(c.last_seq, 1);
    wb_conversation_free(&c);
    assert_int_equal(wb_store_commit(ro, &err), WB_OK);

    assert_int_equal(store_fx_append(ro, conv, WB_DIR_IN, "chat", "m2", "x", 11, &id, NULL),
                     WB_ERR_STORAGE);
    assert_int_equal(wb_store_channel_state_set(ro, "chat", "k", "v", &err), WB_ERR_STORAGE);
    assert_non_null(strstr(err.msg, "store:"));
    assert_int_equal(wb_store_conversation_set_owner(ro, conv, WB_OWNER_AGENT, 20, &err),
                     WB_ERR_STORAGE);
    assert_int_equal(
        wb_store_identity_resolve(ro, "chat", "new", NULL, NULL, 20, &contact, &ident, &err),
        WB_ERR_STORAGE);
    wb_store_close(ro);

    stats(fx->st, &after);
    assert_memory_equal(&before, &after, sizeof(before));
    assert_int_equal(wb_store_channel_state_get(fx->st, "chat", "k", &value, &err),
                     WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_conversation_get(fx->st, conv, &c, &err), WB_OK);
    assert_int_equal(c.owner, WB_OWNER_BOT);
    wb_conversation_free(&c);
}

static void test_readonly_never_migrates(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_store *st = NULL;
    struct wb_err err = { 0 };
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/blank.db", fx->dir);
    raw_exec(path, "CREATE TABLE t (x INTEGER)");
    struct wb_store_options opt = { .path = path, .read_only = true };
    assert_int_equal(wb_store_open(&opt, &st, &err), WB_ERR_STORAGE);
    assert_null(st);
    assert_int_equal(raw_long(path, "PRAGMA user_version"), 0);
    assert_int_equal(raw_long(path, "SELECT count(*) FROM sqlite_master"), 1);
    assert_int_equal(remove(path), 0);
}

/* ---- transactions ---- */

static void test_rollback_stores_nothing(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_store_stats s;
    struct wb_outbox_counts oc;
    struct wb_msg_ref ref;
    int64_t contact = 0, ident = 0, conv = 0, id = 0, ob = 0;
    char *value = NULL;
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "hi", 10, &id, NULL),
                     WB_OK);
    assert_int_equal(
        store_fx_append(fx->st, conv, WB_DIR_OUT, "chat", NULL, "hello", 11, &id, NULL), WB_OK);
    struct wb_outbox_new o = { .message_id = id,
                               .conversation_id = conv,
                               .channel_id = "chat",
                               .recipient_id = "v1",
                               .next_attempt_ms = 11 };
    assert_int_equal(wb_store_outbox_add(fx->st, &o, &ob, &err), WB_OK);
    assert_int_equal(wb_store_channel_state_set(fx->st, "chat", "cursor", "7", &err), WB_OK);
    stats(fx->st, &s);
    assert_int_equal(s.messages, 2);
    wb_store_rollback(fx->st);

    stats(fx->st, &s);
    assert_int_equal(s.contacts, 0);
    assert_int_equal(s.conversations, 0);
    assert_int_equal(s.messages, 0);
    assert_int_equal(wb_store_outbox_counts(fx->st, &oc, &err), WB_OK);
    assert_int_equal(oc.pending, 0);
    assert_int_equal(wb_store_message_find(fx->st, "chat", "m1", &ref, &err), WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_channel_state_get(fx->st, "chat", "cursor", &value, &err),
                     WB_ERR_NOTFOUND);
    assert_null(value);
    /* the connection is usable again */
    wb_store_rollback(fx->st);
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
}

static void test_commit_persists_across_connections(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_store_stats s;
    int64_t contact = 0, ident = 0, conv = 0, id = 0;
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "hi", 10, &id, NULL),
                     WB_OK);
    struct wb_store *ro = store_fx_open(fx, true);
    stats(ro, &s);
    assert_int_equal(s.messages, 0); /* not committed yet */
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
    stats(ro, &s);
    assert_int_equal(s.messages, 1);
    wb_store_close(ro);
}

static void test_savepoint_rollback_inside_transaction(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_msg_ref ref;
    struct wb_conversation c;
    int64_t contact = 0, ident = 0, conv = 0, id = 0, seq = 0;
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);

    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "a", 10, &id, &seq),
                     WB_OK);
    /* a bad message in the batch, rolled back alone */
    assert_int_equal(wb_store_savepoint(fx->st, &err), WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m2", "b", 11, &id, &seq),
                     WB_OK);
    assert_int_equal(wb_store_channel_state_set(fx->st, "chat", "k", "bad", &err), WB_OK);
    wb_store_rollback_to(fx->st);
    /* nested savepoints: the inner one undone, the outer kept */
    assert_int_equal(wb_store_savepoint(fx->st, &err), WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m3", "c", 12, &id, &seq),
                     WB_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(wb_store_savepoint(fx->st, &err), WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m4", "d", 13, &id, &seq),
                     WB_OK);
    wb_store_rollback_to(fx->st);
    assert_int_equal(wb_store_release(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_release(fx->st, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);

    assert_int_equal(wb_store_message_find(fx->st, "chat", "m1", &ref, &err), WB_OK);
    assert_int_equal(wb_store_message_find(fx->st, "chat", "m2", &ref, &err), WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_message_find(fx->st, "chat", "m3", &ref, &err), WB_OK);
    assert_int_equal(wb_store_message_find(fx->st, "chat", "m4", &ref, &err), WB_ERR_NOTFOUND);
    char *value = NULL;
    assert_int_equal(wb_store_channel_state_get(fx->st, "chat", "k", &value, &err),
                     WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_conversation_get(fx->st, conv, &c, &err), WB_OK);
    assert_int_equal(c.last_seq, 2);
    wb_conversation_free(&c);
}

static void test_duplicate_inside_transaction_keeps_batch(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_conversation c;
    int64_t contact = 0, ident = 0, conv = 0, id = 0, seq = 0;
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "a", 10, &id, &seq),
                     WB_OK);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m1", "a", 10, &id, &seq),
                     WB_ERR_DUPLICATE);
    assert_int_equal(store_fx_append(fx->st, conv, WB_DIR_IN, "chat", "m2", "b", 11, &id, &seq),
                     WB_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_conversation_get(fx->st, conv, &c, &err), WB_OK);
    assert_int_equal(c.last_seq, 2);
    wb_conversation_free(&c);
}

static void test_transaction_misuse(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    assert_int_equal(wb_store_commit(fx->st, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_savepoint(fx->st, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_release(fx->st, &err), WB_ERR_INVAL);
    wb_store_rollback_to(fx->st); /* no-op */
    wb_store_rollback(fx->st);    /* no-op */
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_begin(fx->st, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_release(fx->st, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
}

static void test_foreign_keys_enforced(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_conversation c;
    int64_t contact = 0, ident = 0, conv = 0, id = 0;
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    struct wb_store_message m = { .conversation_id = conv,
                                  .channel_id = "chat",
                                  .external_id = "m1",
                                  .identity_id = 9999,
                                  .text = "x",
                                  .created_ms = 10 };
    assert_int_equal(wb_store_message_append(fx->st, &m, &id, NULL, &err), WB_ERR_STORAGE);
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
    assert_int_equal(wb_store_conversation_create(fx->st, 9999, "chat", NULL, NULL, 1, &c, &err),
                     WB_ERR_STORAGE);
    /* the failed append left the sequence alone */
    assert_int_equal(wb_store_conversation_get(fx->st, conv, &c, &err), WB_OK);
    assert_int_equal(c.last_seq, 0);
    wb_conversation_free(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, store_fx_setup, store_fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_migrates_empty_database),
        T(test_reopen_is_idempotent),
        T(test_newer_schema_refused),
        T(test_bad_options),
        T(test_readonly_reads_and_refuses_writes),
        T(test_readonly_never_migrates),
        T(test_rollback_stores_nothing),
        T(test_commit_persists_across_connections),
        T(test_savepoint_rollback_inside_transaction),
        T(test_duplicate_inside_transaction_keeps_batch),
        T(test_transaction_misuse),
        T(test_foreign_keys_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
