/*
 * metrics.c - process-wide counters and histograms.
 *
 * Thread: any (relaxed atomics).
 */
#include <string.h>

#include "metrics.h"

struct wb_metrics wb_metrics;

static const double batch_bounds[WB_HIST_BUCKETS] = { 1,  2,   4,   8,   16,   32,
                                                      64, 128, 256, 512, 1024, 4096 };
static const double seconds_bounds[WB_HIST_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1,    5 };

void wb_metrics_init(void)
{
    memset(&wb_metrics, 0, sizeof(wb_metrics));
    wb_metrics.batch_size.bounds = batch_bounds;
    wb_metrics.ingest_seconds.bounds = seconds_bounds;
    wb_metrics.send_seconds.bounds = seconds_bounds;
}

void wb_histogram_observe(struct wb_histogram *h, double v)
{
    size_t i = 0;
    while (i < WB_HIST_BUCKETS && v > h->bounds[i]) {
        i++;
    }
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_micro, (unsigned long long)(v * 1e6), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->total, 1, memory_order_relaxed);
}

enum wb_status wb_histogram_render(const struct wb_histogram *h, const char *name, const char *help,
                                   struct wb_buf *out)
{
    unsigned long long cum = 0;
    enum wb_status st =
        wb_buf_appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; st == WB_OK && i <= WB_HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < WB_HIST_BUCKETS) {
            st = wb_buf_appendf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], cum);
        } else {
            st = wb_buf_appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
        }
    }
    if (st == WB_OK) {
        st = wb_buf_appendf(
            out, "%s_sum %.6f\n%s_count %llu\n", name,
            (double)atomic_load_explicit(&h->sum_micro, memory_order_relaxed) / 1e6, name,
            (unsigned long long)atomic_load_explicit(&h->total, memory_order_relaxed));
    }
    return st;
}
