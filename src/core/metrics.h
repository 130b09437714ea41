/*
 * metrics.h - counters and histograms for /metrics (Prometheus text).
 *
 * DESIGN: plain C11 atomics updated with relaxed ordering from any thread;
 * the loop thread renders them on request. Per-channel counters live in
 * struct wb_channel (channels.h) and are rendered from the channel set.
 *
 * Thread: any.
 */
#ifndef WB_CORE_METRICS_H
#define WB_CORE_METRICS_H

#include <stdatomic.h>

#include <warbler/buf.h>
#include <warbler/common.h>

#define WB_HIST_BUCKETS 12

struct wb_histogram {
    const double *bounds;                      /* WB_HIST_BUCKETS upper bounds, ascending */
    atomic_ullong counts[WB_HIST_BUCKETS + 1]; /* last is +Inf */
    atomic_ullong sum_micro;                   /* sum of observations in millionths */
    atomic_ullong total;
};

struct wb_metrics {
    atomic_llong outbox_depth;    /* pending deliveries */
    atomic_ullong outbox_retries; /* failed attempts that will be retried */
    atomic_ullong outbox_dead;    /* deliveries given up */
    atomic_ullong batches;        /* committed core batches */
    atomic_ullong commit_failures;
    atomic_ullong http_rejected;        /* webhook requests answered 4xx */
    atomic_ullong core_busy;            /* submissions refused with a full queue */
    struct wb_histogram batch_size;     /* messages per transaction */
    struct wb_histogram ingest_seconds; /* receive -> commit */
    struct wb_histogram send_seconds;   /* outbound HTTP attempt */
};

extern struct wb_metrics wb_metrics;

void wb_metrics_init(void);
void wb_histogram_observe(struct wb_histogram *h, double v);
/* Append one histogram in Prometheus text format (name, help). */
WB_NODISCARD enum wb_status wb_histogram_render(const struct wb_histogram *h, const char *name,
                                                const char *help, struct wb_buf *out);

#endif
