/*
 * queue.c - bounded queue of owned pointers (ring buffer, mutex, condvars).
 *
 * DESIGN: the only place in the tree besides a few documented structs that
 * holds a lock. No callback, library call or log sink runs under it.
 *
 * Thread: any.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "queue.h"

struct wb_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **ring;
    size_t cap, head, len;
    bool closed;
};

struct wb_queue *wb_queue_new(size_t cap)
{
    struct wb_queue *q = wb_calloc(1, sizeof(*q));
    pthread_condattr_t ca;
    q->cap = cap ? cap : 1;
    q->ring = wb_calloc(q->cap, sizeof(void *));
    (void)pthread_mutex_init(&q->mu, NULL);
    (void)pthread_condattr_init(&ca);
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    (void)pthread_cond_init(&q->not_empty, &ca);
    (void)pthread_cond_init(&q->not_full, &ca);
    (void)pthread_condattr_destroy(&ca);
    return q;
}

void wb_queue_free(struct wb_queue *q, void (*free_fn)(void *))
{
    if (q == NULL) {
        return;
    }
    for (size_t i = 0; i < q->len; i++) {
        if (free_fn != NULL) {
            free_fn(q->ring[(q->head + i) % q->cap]);
        }
    }
    (void)pthread_mutex_destroy(&q->mu);
    (void)pthread_cond_destroy(&q->not_empty);
    (void)pthread_cond_destroy(&q->not_full);
    free(q->ring);
    free(q);
}

static void put_locked(struct wb_queue *q, void *item)
{
    q->ring[(q->head + q->len) % q->cap] = item;
    q->len++;
    (void)pthread_cond_signal(&q->not_empty);
}

enum wb_status wb_queue_push(struct wb_queue *q, void *item)
{
    enum wb_status st = WB_OK;
    (void)pthread_mutex_lock(&q->mu);
    if (q->closed) {
        st = WB_ERR_IO;
    } else if (q->len == q->cap) {
        st = WB_ERR_BUSY;
    } else {
        put_locked(q, item);
    }
    (void)pthread_mutex_unlock(&q->mu);
    return st;
}

enum wb_status wb_queue_push_wait(struct wb_queue *q, void *item)
{
    enum wb_status st = WB_OK;
    (void)pthread_mutex_lock(&q->mu);
    while (!q->closed && q->len == q->cap) {
        (void)pthread_cond_wait(&q->not_full, &q->mu);
    }
    if (q->closed) {
        st = WB_ERR_IO;
    } else {
        put_locked(q, item);
    }
    (void)pthread_mutex_unlock(&q->mu);
    return st;
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    (void)clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* Wait until the queue has an item, is closed, or the deadline passes. */
static void wait_locked(struct wb_queue *q, int64_t ms)
{
    struct timespec ts;
    if (ms < 0) {
        while (q->len == 0 && !q->closed) {
            (void)pthread_cond_wait(&q->not_empty, &q->mu);
        }
        return;
    }
    if (ms == 0) {
        /*
         * A poll: a timed wait on an already-passed deadline still costs a
         * clock read and a futex syscall, which the loop and http threads
         * would pay on every drain of an empty queue.
         */
        return;
    }
    deadline_after(&ts, ms);
    while (q->len == 0 && !q->closed) {
        if (pthread_cond_timedwait(&q->not_empty, &q->mu, &ts) == ETIMEDOUT) {
            return;
        }
    }
}

static size_t take_locked(struct wb_queue *q, void **items, size_t n, size_t max)
{
    while (n < max && q->len > 0) {
        items[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
    }
    (void)pthread_cond_broadcast(&q->not_full);
    return n;
}

size_t wb_queue_pop_batch(struct wb_queue *q, void **items, size_t max, int64_t first_wait_ms,
                          int64_t fill_wait_ms)
{
    size_t n = 0;
    (void)pthread_mutex_lock(&q->mu);
    wait_locked(q, first_wait_ms);
    n = take_locked(q, items, n, max);
    if (n > 0 && n < max && fill_wait_ms > 0 && !q->closed) {
        struct timespec ts;
        deadline_after(&ts, fill_wait_ms);
        while (n < max && !q->closed) {
            if (q->len == 0 && pthread_cond_timedwait(&q->not_empty, &q->mu, &ts) == ETIMEDOUT) {
                break;
            }
            n = take_locked(q, items, n, max);
        }
    }
    (void)pthread_mutex_unlock(&q->mu);
    return n;
}

size_t wb_queue_len(struct wb_queue *q)
{
    (void)pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    (void)pthread_mutex_unlock(&q->mu);
    return n;
}

bool wb_queue_is_closed(struct wb_queue *q)
{
    (void)pthread_mutex_lock(&q->mu);
    bool c = q->closed;
    (void)pthread_mutex_unlock(&q->mu);
    return c;
}

void wb_queue_close(struct wb_queue *q)
{
    (void)pthread_mutex_lock(&q->mu);
    q->closed = true;
    (void)pthread_cond_broadcast(&q->not_empty);
    (void)pthread_cond_broadcast(&q->not_full);
    (void)pthread_mutex_unlock(&q->mu);
}
