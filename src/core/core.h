/*
 * core.h - the core thread: the ingest pipeline and outbox bookkeeping.
 *
 * DESIGN: one thread owns the store's write connection. It drains its
 * queue in batches (bounded size and wait) and runs each batch in one
 * transaction: for every message dedupe -> identity -> conversation ->
 * store -> bot -> outbox, each inside a savepoint so one bad message is
 * rolled back alone; delivery reports from the http thread are persisted
 * in the same transaction. After the commit it completes every message
 * (m->done) and hands the new outbox rows to the http thread. Nothing is
 * acknowledged before its commit.
 *
 * Thread: wb_core_submit_take, wb_core_swap_bot_take from any thread; the
 * rest on main.
 */
#ifndef WB_CORE_CORE_H
#define WB_CORE_CORE_H

#include <warbler/connector.h>
#include <warbler/message.h>

#include "config.h"

struct wb_core;
struct wb_bot;

/*
 * Open the store (running migrations), build the bot, make the queues.
 * cfg is borrowed and must outlive the core (its core/outbox/store groups
 * are read at start; a reload does not change them).
 */
WB_NODISCARD enum wb_status wb_core_new(const struct wb_config *cfg, struct wb_core **out,
                                        struct wb_err *err);
/* The host services given to connectors. */
const struct wb_host *wb_core_host(struct wb_core *core);
/* Start the core and http threads; queue every pending outbox row. */
WB_NODISCARD enum wb_status wb_core_start(struct wb_core *core, struct wb_err *err);
/* Finish the batch in progress, then stop both threads. Idempotent. */
void wb_core_stop(struct wb_core *core);
void wb_core_free(struct wb_core *core);

/* Hand a message to the pipeline; see struct wb_host. Thread: any. */
WB_NODISCARD enum wb_status wb_core_submit_take(struct wb_core *core, struct wb_message *m);
/* Replace the bot between batches; the core frees the old one. Thread: any. */
void wb_core_swap_bot_take(struct wb_core *core, struct wb_bot *bot);

/*
 * True (once) when the core noticed that the bot's knowledge files changed;
 * the caller then builds a new bot and hands it over with
 * wb_core_swap_bot_take(). Thread: any.
 */
bool wb_core_kb_dirty_take(struct wb_core *core);

/* Queue depth now, for /healthz. Thread: any. */
size_t wb_core_queue_len(struct wb_core *core);

#endif
