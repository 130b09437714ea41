/*
 * queue.h - bounded multi-producer multi-consumer queue of owned pointers.
 *
 * Threads cross only through these queues (mutex + condvar). An item
 * pushed successfully belongs to the queue until popped. Closing a queue
 * wakes every waiter; pops then drain what is left and report closed.
 *
 * Thread: any.
 */
#ifndef WB_UTIL_QUEUE_H
#define WB_UTIL_QUEUE_H

#include <warbler/common.h>

struct wb_queue;

struct wb_queue *wb_queue_new(size_t cap);
/* Free the queue; free_fn (may be NULL) is called on items left in it. */
void wb_queue_free(struct wb_queue *q, void (*free_fn)(void *));

/*
 * Push without blocking. WB_OK: the queue owns item. WB_ERR_BUSY (full) or
 * WB_ERR_IO (closed): the caller still owns item.
 */
WB_NODISCARD enum wb_status wb_queue_push(struct wb_queue *q, void *item);
/* Push, waiting for room. WB_ERR_IO when closed (caller keeps item). */
WB_NODISCARD enum wb_status wb_queue_push_wait(struct wb_queue *q, void *item);

/*
 * Pop up to max items into items. Waits up to first_wait_ms (-1 forever)
 * for the first item, then up to fill_wait_ms more for the batch to fill.
 * Returns the number popped; 0 on timeout or when closed and empty.
 */
size_t wb_queue_pop_batch(struct wb_queue *q, void **items, size_t max, int64_t first_wait_ms,
                          int64_t fill_wait_ms);

size_t wb_queue_len(struct wb_queue *q);
bool wb_queue_is_closed(struct wb_queue *q);
void wb_queue_close(struct wb_queue *q);

#endif
