/*
 * outbox.h - the http thread: delivers outbox items through one libcurl
 * multi loop, with exponential backoff and jitter, Retry-After, and a dead
 * state after the configured number of attempts.
 *
 * DESIGN: the core hands every pending item to the outbox (after the
 * transaction that wrote it commits, and all pending rows at startup). The
 * outbox owns the retry schedule in memory (a min-heap by due time) and
 * reports each attempt's outcome back to the core, which persists it; it
 * never blocks on the core: reports that do not fit in the core queue wait
 * in a local list. Connectors build the request and read the response
 * (pure functions); all I/O is here.
 *
 * Thread: wb_outbox_submit_take from any thread; the rest on main.
 */
#ifndef WB_CORE_OUTBOX_H
#define WB_CORE_OUTBOX_H

#include <warbler/store.h>

#include "config.h"

struct wb_outbox;

enum wb_report_kind {
    WB_REPORT_SENT = 0,
    WB_REPORT_RETRY,
    WB_REPORT_DEAD,
};

/* The outcome of one delivery attempt, for the core to persist. */
struct wb_send_report {
    int64_t outbox_id;
    int64_t conversation_id;
    int64_t message_id;
    enum wb_report_kind kind;
    int attempts;
    int64_t next_attempt_ms;
    char external_id[128];
    char error[256];
};

/*
 * Deliver a report to the core (it takes r on WB_OK; WB_ERR_BUSY leaves r
 * with the caller). Thread: http.
 */
typedef enum wb_status (*wb_report_fn)(void *ctx, struct wb_send_report *r);

WB_NODISCARD enum wb_status wb_outbox_new(const struct wb_conf_outbox *conf, wb_report_fn report,
                                          void *report_ctx, struct wb_outbox **out,
                                          struct wb_err *err);
WB_NODISCARD enum wb_status wb_outbox_start(struct wb_outbox *ob, struct wb_err *err);
/* Stop the thread; in-flight attempts are abandoned (the rows stay pending). */
void wb_outbox_stop(struct wb_outbox *ob);
void wb_outbox_free(struct wb_outbox *ob);

/* Queue an item for delivery at it->next_attempt_ms. Takes it. Thread: any. */
void wb_outbox_submit_take(struct wb_outbox *ob, struct wb_outbox_item *it);

/* Backoff before attempt attempts+1: min(max, base*2^(attempts-1)), jittered to [d/2, d]. */
int64_t wb_outbox_backoff_ms(const struct wb_conf_outbox *conf, int attempts, uint64_t rnd);

#endif
