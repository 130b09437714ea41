/*
 * sqlite_priv.h - what the SQLite driver's files share: the connection
 * struct, the prepared-statement cache and small binding/error helpers.
 *
 * DESIGN: every SQL text the driver runs at request time is one entry of
 * the wb_sq_id table (sqlite_sql.c). A connection prepares an entry the
 * first time it is used (SQLITE_PREPARE_PERSISTENT) and keeps it until
 * close; wb_sq_done() resets it and clears its bindings after each use,
 * so text bound with SQLITE_STATIC never outlives the call that bound it.
 *
 * Thread: a connection belongs to the thread that opened it.
 */
#ifndef WB_STORE_SQLITE_PRIV_H
#define WB_STORE_SQLITE_PRIV_H

#include <sqlite3.h>

#include <warbler/store.h>

#include "sqlite_cache.h"

enum wb_sq_id {
    /* transactions and savepoints */
    WB_SQ_BEGIN = 0,
    WB_SQ_BEGIN_READ,
    WB_SQ_COMMIT,
    WB_SQ_ROLLBACK,
    WB_SQ_SAVEPOINT,
    WB_SQ_RELEASE,
    WB_SQ_ROLLBACK_TO,
    WB_SQ_OP_SAVEPOINT,
    WB_SQ_OP_RELEASE,
    WB_SQ_OP_ROLLBACK_TO,
    /* contacts, identities, conversations, messages */
    WB_SQ_MSG_FIND,
    WB_SQ_IDENT_FIND,
    WB_SQ_IDENT_UPDATE,
    WB_SQ_CONTACT_INSERT,
    WB_SQ_IDENT_INSERT,
    WB_SQ_CONV_BY_REF,
    WB_SQ_CONV_BY_TOPIC,
    WB_SQ_CONV_NEWEST_OPEN,
    WB_SQ_CONV_INSERT,
    WB_SQ_CONV_GET,
    WB_SQ_CONV_SET_OWNER,
    WB_SQ_CONV_SET_SEQ,
    WB_SQ_CONV_NEXT_SEQ,
    WB_SQ_MSG_INSERT,
    WB_SQ_MSG_LIST,
    WB_SQ_MSG_LAST_CONTACT,
    WB_SQ_MSG_SET_TEXT,
    WB_SQ_DRAFTS,
    WB_SQ_ATTACH_INSERT,
    WB_SQ_REPLIES_SINCE,
    /* outbox, events, agents, channel state, stats */
    WB_SQ_OUTBOX_INSERT,
    WB_SQ_OUTBOX_GET,
    WB_SQ_OUTBOX_PENDING,
    WB_SQ_OUTBOX_REFS,
    WB_SQ_OUTBOX_SENT,
    WB_SQ_MSG_SET_SENT,
    WB_SQ_OUTBOX_RETRY,
    WB_SQ_OUTBOX_DEAD,
    WB_SQ_MSG_SET_DEAD,
    WB_SQ_OUTBOX_COUNTS,
    WB_SQ_EVENT_INSERT,
    WB_SQ_AGENT_UPSERT,
    WB_SQ_CSTATE_GET,
    WB_SQ_CSTATE_SET,
    WB_SQ_STATS,
    WB_SQ_META_GET,
    WB_SQ_COUNT,
};

struct wb_store {
    sqlite3 *db;
    bool read_only;
    int schema_version;
    int savepoints;    /* caller savepoints open in the current transaction */
    char instance[32]; /* meta 'instance': this database's random id */
    sqlite3_stmt *stmts[WB_SQ_COUNT];
    bool cached; /* the write connection: caches on (sqlite_cache.h) */
    struct wb_sq_caches cache;
    struct wb_sq_ckpt *ckpt; /* background checkpointer, or NULL */
};

/* An internal atomic section around a multi-statement operation. */
struct wb_sq_op {
    bool own_tx; /* began its own transaction (no caller transaction open) */
    bool none;   /* inside a caller savepoint: no section of its own */
};

/* The background checkpointer of a write connection (sqlite_ckpt.c). */
struct wb_sq_ckpt;
WB_NODISCARD enum wb_status wb_sq_ckpt_start(struct wb_store *st, const char *path,
                                             int busy_timeout_ms, struct wb_err *err);
void wb_sq_ckpt_stop(struct wb_store *st);

/* Forget every cached row: after any rollback (sqlite_cache.h). */
void wb_sq_forget(struct wb_store *st);

/* The SQL text of a statement id (sqlite_sql.c). */
const char *wb_sq_sql(enum wb_sq_id id);

/* Schema (migrations.c). */
int wb_sq_schema_latest(void);
WB_NODISCARD enum wb_status wb_sq_migrate(struct wb_store *st, struct wb_err *err);
WB_NODISCARD enum wb_status wb_sq_user_version(struct wb_store *st, int *version_out,
                                               struct wb_err *err);

/* Fetch the cached statement for id, preparing it on first use. */
WB_NODISCARD enum wb_status wb_sq_prepare(struct wb_store *st, enum wb_sq_id id, sqlite3_stmt **out,
                                          struct wb_err *err);

/* Reset a statement and clear its bindings (NULL-safe). */
void wb_sq_done(sqlite3_stmt *s);

/*
 * One bound value. Build them with the WB_SQ_* macros below and bind a
 * list with WB_SQ_BIND(stmt, v1, v2, ...): parameter k gets the k-th value.
 * Text and blobs are bound SQLITE_STATIC (borrowed until wb_sq_done).
 */
enum wb_sq_arg_type {
    WB_SQ_ARG_INT = 0,
    WB_SQ_ARG_ID,   /* int64; 0 bound as NULL (an optional reference) */
    WB_SQ_ARG_TEXT, /* NULL bound as NULL */
    WB_SQ_ARG_BLOB, /* NULL bound as NULL */
};

struct wb_sq_arg {
    enum wb_sq_arg_type type;
    int64_t i;
    const void *p;
    size_t n;
};

#define WB_SQ_INT(v)                             \
    {                                            \
        .type = WB_SQ_ARG_INT, .i = (int64_t)(v) \
    }
#define WB_SQ_ID(v)                             \
    {                                           \
        .type = WB_SQ_ARG_ID, .i = (int64_t)(v) \
    }
#define WB_SQ_TEXT(t)                    \
    {                                    \
        .type = WB_SQ_ARG_TEXT, .p = (t) \
    }
#define WB_SQ_BLOB(b, l)                           \
    {                                              \
        .type = WB_SQ_ARG_BLOB, .p = (b), .n = (l) \
    }
#define WB_SQ_BIND(stmt, ...)                                     \
    wb_sq_bind((stmt), (const struct wb_sq_arg[]){ __VA_ARGS__ }, \
               sizeof((const struct wb_sq_arg[]){ __VA_ARGS__ }) / sizeof(struct wb_sq_arg))

/* Bind args[0..n) to parameters 1..n. Returns an SQLite result code. */
WB_NODISCARD int wb_sq_bind(sqlite3_stmt *s, const struct wb_sq_arg *args, size_t n);

/* Translate an SQLite failure into err: "store: what: sqlite message". */
enum wb_status wb_sq_fail(struct wb_store *st, int rc, struct wb_err *err, const char *what);

/* Owned copy of a text column, NULL when the column is NULL. */
char *wb_sq_col_str(sqlite3_stmt *s, int col);

/*
 * Run a statement that returns no row: bind is already done. Returns
 * SQLITE_DONE on success; the statement is reset either way.
 */
WB_NODISCARD int wb_sq_exec_stmt(sqlite3_stmt *s);

/*
 * Atomic section: a transaction when none is open, else a savepoint.
 * wb_sq_op_end() commits/releases when status is WB_OK and rolls back
 * otherwise; it returns status, or a storage error if committing failed.
 */
WB_NODISCARD enum wb_status wb_sq_op_begin(struct wb_store *st, struct wb_sq_op *op,
                                           struct wb_err *err);
WB_NODISCARD enum wb_status wb_sq_op_end(struct wb_store *st, struct wb_sq_op *op,
                                         enum wb_status status, struct wb_err *err);

#endif
