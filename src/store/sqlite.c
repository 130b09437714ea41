/*
 * sqlite.c - the SQLite driver: connection, pragmas, transactions,
 * savepoints, and the statement cache every other driver file uses.
 *
 * DESIGN: one struct wb_store wraps one sqlite3 connection opened with
 * SQLITE_OPEN_NOMUTEX: it belongs to one thread, so SQLite's own mutexes
 * would only cost time. A read-write open sets WAL, foreign keys, the busy
 * timeout and the synchronous level, then runs pending migrations before
 * returning. A read-only open uses SQLITE_OPEN_READONLY plus query_only,
 * never migrates, and refuses a schema it does not know.
 *
 * Transactions are explicit (wb_store_begin/commit). Caller savepoints
 * share one fixed name (wb_sp): SQLite resolves a name to the innermost
 * savepoint, so they nest. Multi-statement operations run inside their
 * own section (wb_sq_op_*): a savepoint wb_op inside a caller
 * transaction, else a short BEGIN IMMEDIATE transaction, so a failure
 * never leaves half an operation stored.
 *
 * Every SQLite error is translated here once (wb_sq_fail) into
 * WB_ERR_STORAGE with SQLite's own message.
 *
 * Thread: the thread that opened the connection.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sqlite_priv.h"

enum wb_status wb_sq_fail(struct wb_store *st, int rc, struct wb_err *err, const char *what)
{
    const char *msg = st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    return wb_err_set(err, WB_ERR_STORAGE, "store: %s: %s", what, msg);
}

enum wb_status wb_sq_prepare(struct wb_store *st, enum wb_sq_id id, sqlite3_stmt **out,
                             struct wb_err *err)
{
    wb_assert((size_t)id < WB_SQ_COUNT);
    if (st->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(st->db, wb_sq_sql(id), -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            st->stmts[id] = NULL;
            return wb_sq_fail(st, rc, err, "prepare");
        }
    }
    *out = st->stmts[id];
    return WB_OK;
}

void wb_sq_done(sqlite3_stmt *s)
{
    if (s != NULL) {
        /* reset repeats the last step's error code, already reported */
        (void)sqlite3_reset(s);
        (void)sqlite3_clear_bindings(s);
    }
}

static int bind_one(sqlite3_stmt *s, int i, const struct wb_sq_arg *a)
{
    switch (a->type) {
    case WB_SQ_ARG_INT:
        return sqlite3_bind_int64(s, i, a->i);
    case WB_SQ_ARG_ID:
        return a->i != 0 ? sqlite3_bind_int64(s, i, a->i) : sqlite3_bind_null(s, i);
    case WB_SQ_ARG_TEXT:
        return a->p != NULL ? sqlite3_bind_text(s, i, a->p, -1, SQLITE_STATIC)
                            : sqlite3_bind_null(s, i);
    case WB_SQ_ARG_BLOB:
        return a->p != NULL ? sqlite3_bind_blob64(s, i, a->p, (sqlite3_uint64)a->n, SQLITE_STATIC)
                            : sqlite3_bind_null(s, i);
    }
    wb_panic("store: bad bind type %d", (int)a->type);
}

int wb_sq_bind(sqlite3_stmt *s, const struct wb_sq_arg *args, size_t n)
{
    int rc = SQLITE_OK;
    for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
        rc = bind_one(s, (int)k + 1, &args[k]);
    }
    return rc;
}

char *wb_sq_col_str(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    if (t == NULL) {
        return NULL;
    }
    return wb_strndup((const char *)t, (size_t)sqlite3_column_bytes(s, col));
}

int wb_sq_exec_stmt(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    while (rc == SQLITE_ROW) {
        rc = sqlite3_step(s);
    }
    return rc;
}

/* Run a cached statement that takes no parameter (BEGIN, COMMIT, ...). */
static enum wb_status run_simple(struct wb_store *st, enum wb_sq_id id, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, id, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = wb_sq_exec_stmt(s);
    if (sr != SQLITE_DONE) {
        rc = wb_sq_fail(st, sr, err, wb_sq_sql(id));
    }
    wb_sq_done(s);
    return rc;
}

void wb_sq_forget(struct wb_store *st)
{
    if (st->cached) {
        wb_sq_caches_clear(&st->cache);
    }
}

static bool in_tx(const struct wb_store *st)
{
    return sqlite3_get_autocommit(st->db) == 0;
}

enum wb_status wb_sq_op_begin(struct wb_store *st, struct wb_sq_op *op, struct wb_err *err)
{
    op->own_tx = !in_tx(st);
    /*
     * Inside a caller's savepoint the caller rolls back to it on any error
     * (store.h says so), so a section of our own would only cost two more
     * statements per call on the hot path.
     */
    op->none = !op->own_tx && st->savepoints > 0;
    if (op->none) {
        return WB_OK;
    }
    return run_simple(st, op->own_tx ? WB_SQ_BEGIN : WB_SQ_OP_SAVEPOINT, err);
}

enum wb_status wb_sq_op_end(struct wb_store *st, struct wb_sq_op *op, enum wb_status status,
                            struct wb_err *err)
{
    if (op->none) {
        return status;
    }
    if (status == WB_OK) {
        enum wb_status rc = run_simple(st, op->own_tx ? WB_SQ_COMMIT : WB_SQ_OP_RELEASE, err);
        if (rc == WB_OK) {
            return WB_OK;
        }
        status = rc;
    }
    /*
     * Roll back only what the section did. SQLite may already have rolled
     * back the whole transaction after some errors (e.g. SQLITE_FULL);
     * then there is nothing left to undo and the caller's own rollback
     * finds no transaction.
     */
    wb_sq_forget(st);
    if (op->own_tx) {
        if (in_tx(st)) {
            (void)run_simple(st, WB_SQ_ROLLBACK, NULL);
        }
    } else if (in_tx(st)) {
        if (run_simple(st, WB_SQ_OP_ROLLBACK_TO, NULL) == WB_OK) {
            (void)run_simple(st, WB_SQ_OP_RELEASE, NULL);
        }
    }
    return status;
}

/* ---- transactions ---- */

enum wb_status wb_store_begin(struct wb_store *st, struct wb_err *err)
{
    if (in_tx(st)) {
        return wb_err_set(err, WB_ERR_INVAL, "store: transaction already open");
    }
    st->savepoints = 0;
    return run_simple(st, st->read_only ? WB_SQ_BEGIN_READ : WB_SQ_BEGIN, err);
}

enum wb_status wb_store_commit(struct wb_store *st, struct wb_err *err)
{
    if (!in_tx(st)) {
        return wb_err_set(err, WB_ERR_INVAL, "store: commit without a transaction");
    }
    enum wb_status rc = run_simple(st, WB_SQ_COMMIT, err);
    if (rc == WB_OK) {
        st->savepoints = 0;
    }
    return rc;
}

void wb_store_rollback(struct wb_store *st)
{
    st->savepoints = 0;
    wb_sq_forget(st);
    if (in_tx(st)) {
        /* nothing more to do if ROLLBACK itself fails: SQLite then rolls back on close */
        (void)run_simple(st, WB_SQ_ROLLBACK, NULL);
    }
}

enum wb_status wb_store_savepoint(struct wb_store *st, struct wb_err *err)
{
    if (!in_tx(st)) {
        return wb_err_set(err, WB_ERR_INVAL, "store: savepoint outside a transaction");
    }
    enum wb_status rc = run_simple(st, WB_SQ_SAVEPOINT, err);
    if (rc == WB_OK) {
        st->savepoints++;
    }
    return rc;
}

enum wb_status wb_store_release(struct wb_store *st, struct wb_err *err)
{
    if (st->savepoints <= 0 || !in_tx(st)) {
        return wb_err_set(err, WB_ERR_INVAL, "store: release without a savepoint");
    }
    enum wb_status rc = run_simple(st, WB_SQ_RELEASE, err);
    if (rc == WB_OK) {
        st->savepoints--;
    }
    return rc;
}

void wb_store_rollback_to(struct wb_store *st)
{
    if (st->savepoints <= 0 || !in_tx(st)) {
        return;
    }
    wb_sq_forget(st);
    /* undo the savepoint's work, then pop it: the transaction goes on */
    if (run_simple(st, WB_SQ_ROLLBACK_TO, NULL) == WB_OK) {
        (void)run_simple(st, WB_SQ_RELEASE, NULL);
    }
    st->savepoints--;
}

/* ---- open / close ---- */

static enum wb_status exec_pragma(struct wb_store *st, const char *sql, struct wb_err *err)
{
    /* constant text only: pragmas take no bound parameters */
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return wb_sq_fail(st, rc, err, sql);
    }
    return WB_OK;
}

static enum wb_status set_wal(struct wb_store *st, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
    }
    enum wb_status ret = WB_OK;
    if (rc != SQLITE_ROW) {
        ret = wb_sq_fail(st, rc, err, "journal_mode");
    } else {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        if (mode == NULL || strcmp(mode, "wal") != 0) {
            ret = wb_err_set(err, WB_ERR_STORAGE, "store: cannot use WAL (journal mode %s)",
                             mode != NULL ? mode : "?");
        }
    }
    (void)sqlite3_finalize(s);
    return ret;
}

static enum wb_status configure(struct wb_store *st, const struct wb_store_options *opt,
                                struct wb_err *err)
{
    int64_t ms = opt->busy_timeout_ms;
    int rc = sqlite3_busy_timeout(st->db, ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms);
    if (rc != SQLITE_OK) {
        return wb_sq_fail(st, rc, err, "busy_timeout");
    }
    (void)sqlite3_extended_result_codes(st->db, 1);
    enum wb_status ret = exec_pragma(st, "PRAGMA foreign_keys=ON", err);
    if (ret == WB_OK && st->read_only) {
        return exec_pragma(st, "PRAGMA query_only=ON", err);
    }
    if (ret == WB_OK) {
        ret = set_wal(st, err);
    }
    if (ret == WB_OK) {
        ret = exec_pragma(
            st, opt->synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
            err);
    }
    /*
     * The core wraps each message in a savepoint: keep statement and
     * savepoint journals in memory instead of temp files, and give the
     * writer a page cache large enough that a batch never spills to the WAL
     * before its commit.
     */
    if (ret == WB_OK) {
        ret = exec_pragma(st, "PRAGMA temp_store=MEMORY", err);
    }
    if (ret == WB_OK) {
        ret = exec_pragma(st, "PRAGMA cache_size=-8192", err);
    }
    return ret;
}

/* The database's instance id (migration 4), used in idempotency keys. */
static enum wb_status load_instance(struct wb_store *st, struct wb_err *err)
{
    sqlite3_stmt *s = NULL;
    enum wb_status rc = wb_sq_prepare(st, WB_SQ_META_GET, &s, err);
    if (rc != WB_OK) {
        return rc;
    }
    int sr = WB_SQ_BIND(s, WB_SQ_TEXT("instance"));
    if (sr == SQLITE_OK) {
        sr = sqlite3_step(s);
    }
    if (sr == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL) {
        (void)snprintf(st->instance, sizeof(st->instance), "%s",
                       (const char *)sqlite3_column_text(s, 0));
    } else {
        rc = wb_sq_fail(st, sr, err, "meta instance");
    }
    wb_sq_done(s);
    return rc;
}

/* A read-only connection serves exactly the schema this build knows. */
static enum wb_status check_version(struct wb_store *st, struct wb_err *err)
{
    enum wb_status rc = wb_sq_user_version(st, &st->schema_version, err);
    if (rc == WB_OK && st->schema_version != wb_sq_schema_latest()) {
        rc = wb_err_set(err, WB_ERR_STORAGE,
                        "store: schema version %d, this build reads %d (open read-write first)",
                        st->schema_version, wb_sq_schema_latest());
    }
    return rc;
}

/*
 * Process-wide SQLite settings, before its first use: no memory statistics,
 * whose global mutex every sqlite3_malloc would otherwise take (each
 * connection already has SQLITE_OPEN_NOMUTEX).
 */
static void sqlite_global_init(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum wb_status wb_store_open(const struct wb_store_options *opt, struct wb_store **out,
                             struct wb_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, sqlite_global_init);
    *out = NULL;
    if (opt->driver != NULL && strcmp(opt->driver, "sqlite") != 0) {
        return wb_err_set(err, WB_ERR_INVAL, "store: unknown driver %s", opt->driver);
    }
    if (opt->path == NULL || opt->path[0] == '\0') {
        return wb_err_set(err, WB_ERR_INVAL, "store: no database path");
    }
    struct wb_store *st = wb_calloc(1, sizeof(*st));
    st->read_only = opt->read_only;
    int flags = SQLITE_OPEN_NOMUTEX | (opt->read_only ? SQLITE_OPEN_READONLY
                                                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    enum wb_status rc = WB_OK;
    int sr = sqlite3_open_v2(opt->path, &st->db, flags, NULL);
    if (sr != SQLITE_OK) {
        rc = wb_err_set(err, WB_ERR_STORAGE, "store: open %s: %s", opt->path,
                        st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(sr));
        goto out;
    }
    rc = configure(st, opt, err);
    if (rc == WB_OK) {
        rc = st->read_only ? check_version(st, err) : wb_sq_migrate(st, err);
    }
    if (rc == WB_OK) {
        rc = load_instance(st, err);
    }
    if (rc == WB_OK && !st->read_only) {
        st->cached = true;
        wb_sq_caches_init(&st->cache);
    }
    if (rc == WB_OK && !st->read_only && opt->background_checkpoint) {
        int64_t ms = opt->busy_timeout_ms;
        rc = wb_sq_ckpt_start(st, opt->path, ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms, err);
    }
out:
    if (rc != WB_OK) {
        wb_store_close(st);
        return rc;
    }
    *out = st;
    return WB_OK;
}

void wb_store_close(struct wb_store *st)
{
    if (st == NULL) {
        return;
    }
    wb_sq_ckpt_stop(st);
    if (st->cached) {
        wb_sq_caches_clear(&st->cache);
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(st->stmts); i++) {
        (void)sqlite3_finalize(st->stmts[i]);
    }
    /* every statement is finalized, so close cannot be refused as busy */
    (void)sqlite3_close(st->db);
    free(st);
}

int wb_store_schema_version(struct wb_store *st)
{
    return st->schema_version;
}
