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

#include <warbler/connector.h>
#include <warbler/store.h>

#include "config.h"

struct wb_outbox;

enum wb_report_kind {
    WB_REPORT_SENT = 0,
    WB_REPORT_RETRY,
    WB_REPORT_DEAD,
    WB_REPORT_CALL, /* a one-shot call finished: see call */
};

/*
 * A one-shot HTTP call made on the http thread for the core (the LLM):
 * never retried, answered with a WB_REPORT_CALL report. Everything is
 * owned by the call (wb_http_call_new copies a built request).
 */
struct wb_http_call {
    char *method;
    char *url;
    struct wb_header *headers; /* names and values owned */
    size_t n_headers;
    uint8_t *body;
    size_t body_len;
    int64_t timeout_ms;
    void *ctx;                   /* the caller's, handed back in the result */
    void (*ctx_free)(void *ctx); /* frees ctx when the call is dropped unanswered */
};

/* What came back from a call; owned by the report. */
struct wb_call_result {
    void *ctx; /* freed with ctx_free by wb_call_result_free unless taken (set to NULL) */
    void (*ctx_free)(void *ctx);
    enum wb_status transport; /* WB_OK when an HTTP answer arrived */
    char error[256];
    long status;
    uint8_t *body; /* NUL-terminated */
    size_t body_len;
};

struct wb_http_out;

/* Copy req into a new call. */
struct wb_http_call *wb_http_call_new(const struct wb_http_out *req, int64_t timeout_ms, void *ctx,
                                      void (*ctx_free)(void *ctx));
void wb_http_call_free(struct wb_http_call *c);
void wb_call_result_free(struct wb_call_result *r);

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
    struct wb_call_result *call; /* WB_REPORT_CALL only */
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

/* Make a one-shot call now. Takes c (freed unanswered at shutdown). Thread: any. */
void wb_outbox_call_take(struct wb_outbox *ob, struct wb_http_call *c);

/* Backoff before attempt attempts+1: min(max, base*2^(attempts-1)), jittered to [d/2, d]. */
int64_t wb_outbox_backoff_ms(const struct wb_conf_outbox *conf, int attempts, uint64_t rnd);

#endif
