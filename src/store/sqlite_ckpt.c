/*
 * sqlite_ckpt.c - WAL checkpoints on a thread of their own.
 *
 * DESIGN: SQLite's automatic checkpoint runs inside the COMMIT that pushes
 * the WAL past 1000 pages, on the committing thread: copying the pages
 * into the database file and its fsync then stall the core thread, and
 * every message waiting for that batch. The write connection instead turns
 * automatic checkpoints off and its WAL hook (called after each commit,
 * cheap) wakes this thread, which checkpoints through its own connection.
 *
 * A PASSIVE checkpoint never blocks the writer, but under steady load the
 * writer appends while it copies, so the WAL is never wholly copied, and
 * SQLite starts the WAL over from its beginning only when a write
 * transaction begins with every frame copied: it would grow without bound.
 * So once the WAL passes CATCHUP_PAGES the hook, on the writer's thread
 * between two transactions, runs a PASSIVE checkpoint itself: it copies
 * only the frames appended since this thread's last pass, and the next
 * write transaction starts the WAL over.
 *
 * Thread: wb_sq_ckpt_start/stop on the connection's thread; the hook runs
 * on it too; the checkpointer thread uses only its own connection.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/log.h>

#include "sqlite_priv.h"

#define PASSIVE_PAGES 1000 /* what SQLite's automatic checkpoint uses */
#define CATCHUP_PAGES 4000 /* ~16 MiB of WAL with 4 KiB pages */

struct wb_sq_ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool wake;
    bool stop;
    sqlite3 *db; /* the checkpointer's own connection */
};

static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct wb_sq_ckpt *k = ctx;
    if (pages >= CATCHUP_PAGES) {
        /*
         * SQLITE_BUSY while the thread is in a pass: the next commit tries
         * again. Should that keep happening (a slow disk), FULL waits for
         * the pass to end (busy timeout) rather than let the WAL grow.
         */
        int mode = pages >= 4 * CATCHUP_PAGES ? SQLITE_CHECKPOINT_FULL : SQLITE_CHECKPOINT_PASSIVE;
        (void)sqlite3_wal_checkpoint_v2(db, name, mode, NULL, NULL);
        return SQLITE_OK;
    }
    if (pages >= PASSIVE_PAGES) {
        pthread_mutex_lock(&k->mu);
        if (!k->wake) {
            k->wake = true;
            pthread_cond_signal(&k->cv);
        }
        pthread_mutex_unlock(&k->mu);
    }
    return SQLITE_OK;
}

static void checkpoint(struct wb_sq_ckpt *k)
{
    int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        wb_log(WB_LOG_WARN, "store: WAL checkpoint: %s", sqlite3_errmsg(k->db));
    }
}

static void *ckpt_main(void *arg)
{
    struct wb_sq_ckpt *k = arg;
    (void)pthread_setname_np(pthread_self(), "wb-checkpoint");
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->wake && !k->stop) {
            pthread_cond_wait(&k->cv, &k->mu);
        }
        if (k->stop) {
            break;
        }
        k->wake = false;
        pthread_mutex_unlock(&k->mu);
        checkpoint(k);
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

enum wb_status wb_sq_ckpt_start(struct wb_store *st, const char *path, int busy_timeout_ms,
                                struct wb_err *err)
{
    struct wb_sq_ckpt *k = wb_calloc(1, sizeof(*k));
    int rc = sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_busy_timeout(k->db, busy_timeout_ms);
    }
    if (rc != SQLITE_OK) {
        enum wb_status ret =
            wb_err_set(err, WB_ERR_STORAGE, "store: checkpointer: open %s: %s", path,
                       k->db != NULL ? sqlite3_errmsg(k->db) : sqlite3_errstr(rc));
        (void)sqlite3_close(k->db);
        free(k);
        return ret;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, ckpt_main, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        (void)sqlite3_close(k->db);
        free(k);
        return wb_err_set(err, WB_ERR_INTERNAL, "store: cannot start the checkpointer thread");
    }
    /* replaces the automatic checkpoint, which is itself a WAL hook */
    (void)sqlite3_wal_hook(st->db, wal_hook, k);
    st->ckpt = k;
    return WB_OK;
}

void wb_sq_ckpt_stop(struct wb_store *st)
{
    struct wb_sq_ckpt *k = st->ckpt;
    if (k == NULL) {
        return;
    }
    (void)sqlite3_wal_hook(st->db, NULL, NULL);
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    (void)pthread_join(k->thread, NULL);
    (void)sqlite3_close(k->db);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
    st->ckpt = NULL;
}
