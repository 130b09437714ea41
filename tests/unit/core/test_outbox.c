/*
 * test_outbox.c - the outbox scheduler through the sender pool: a fake
 * connector with a blocking send() scripted per attempt. Checks sent,
 * retry with backoff (and Retry-After), permanent failure, dead after
 * max_attempts, and the backoff formula.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channels.h"
#include "fake_channel.h"
#include "metrics.h"
#include "outbox.h"

/* script: what each successive attempt answers, per recipient */
static enum wb_send_outcome script_outcome(const char *recipient, int attempt, int64_t *retry_after)
{
    *retry_after = 0;
    if (strcmp(recipient, "ok") == 0) {
        return WB_SEND_OK;
    }
    if (strcmp(recipient, "flaky") == 0) {
        return attempt < 3 ? WB_SEND_RETRY : WB_SEND_OK;
    }
    if (strcmp(recipient, "ratelimited") == 0) {
        *retry_after = 300;
        return attempt < 2 ? WB_SEND_RETRY : WB_SEND_OK;
    }
    if (strcmp(recipient, "refused") == 0) {
        return WB_SEND_PERMANENT;
    }
    return WB_SEND_RETRY; /* "down": never works */
}

static enum wb_status fake_send(void *inst, const struct wb_outbound *ob,
                                struct wb_send_result *out)
{
    (void)inst;
    memset(out, 0, sizeof(*out));
    out->outcome = script_outcome(ob->recipient_id, ob->attempt, &out->retry_after_ms);
    if (out->outcome == WB_SEND_OK) {
        (void)snprintf(out->external_id, sizeof(out->external_id), "ext-%s", ob->recipient_id);
    } else {
        (void)snprintf(out->reason, sizeof(out->reason), "scripted failure %d", ob->attempt);
    }
    return WB_OK;
}

static const struct wb_connector_ops fake_ops = {
    .name = "fake",
    .create = fake_create,
    .destroy = fake_destroy,
    .send = fake_send,
};

/* reports collected from the http thread */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_send_report *reports[256];
static size_t n_reports;

static enum wb_status collect(void *ctx, struct wb_send_report *r)
{
    (void)ctx;
    (void)pthread_mutex_lock(&mu);
    reports[n_reports++] = r;
    (void)pthread_mutex_unlock(&mu);
    return WB_OK;
}

static size_t count(int64_t id, enum wb_report_kind kind)
{
    size_t n = 0;
    (void)pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n_reports; i++) {
        n += reports[i]->outbox_id == id && reports[i]->kind == kind;
    }
    (void)pthread_mutex_unlock(&mu);
    return n;
}

static const struct wb_send_report * final(int64_t id)
{
    const struct wb_send_report *r = NULL;
    (void)pthread_mutex_lock(&mu);
    for (size_t i = 0; i < n_reports; i++) {
        if (reports[i]->outbox_id == id && reports[i]->kind != WB_REPORT_RETRY) {
            r = reports[i];
        }
    }
    (void)pthread_mutex_unlock(&mu);
    return r;
}

static struct wb_outbox_item *item(int64_t id, const char *recipient)
{
    struct wb_outbox_item *it = wb_calloc(1, sizeof(*it));
    it->id = id;
    it->message_id = id * 10;
    it->conversation_id = 1;
    it->channel_id = wb_strdup("fake-1");
    it->recipient_id = wb_strdup(recipient);
    it->text = wb_strdup("hello");
    it->idempotency_key = wb_strdup("k");
    it->next_attempt_ms = wb_now_ms();
    return it;
}

static void test_pool_outcomes(void **state)
{
    struct wb_conf_outbox oc = { .max_attempts = 4,
                                 .backoff_base_ms = 20,
                                 .backoff_max_ms = 80,
                                 .timeout_ms = 1000,
                                 .max_inflight = 4,
                                 .senders = 2 };
    struct wb_host host;
    struct wb_outbox *ob = NULL;
    (void)state;
    memset(&host, 0, sizeof(host));
    wb_metrics_init();
    fake_channel_install("fake-1", &fake_ops, &host);
    assert_int_equal(wb_outbox_new(&oc, collect, NULL, &ob, NULL), WB_OK);
    assert_int_equal(wb_outbox_start(ob, NULL), WB_OK);
    int64_t t0 = wb_mono_ms();
    wb_outbox_submit_take(ob, item(1, "ok"));
    wb_outbox_submit_take(ob, item(2, "flaky"));
    wb_outbox_submit_take(ob, item(3, "refused"));
    wb_outbox_submit_take(ob, item(4, "down"));
    wb_outbox_submit_take(ob, item(5, "ratelimited"));
    for (int i = 0; i < 300; i++) {
        if (final(1) && final(2) && final(3) && final(4) && final(5)) {
            break;
        }
        (void)usleep(10000);
    }
    int64_t elapsed = wb_mono_ms() - t0;
    wb_outbox_free(ob);

    const struct wb_send_report *f[6];
    for (int64_t id = 1; id <= 5; id++) {
        f[id] = final(id);
        if (f[id] == NULL) {
            fail_msg("item %lld never settled", (long long)id);
            return;
        }
    }
    assert_int_equal(f[1]->kind, WB_REPORT_SENT);
    assert_string_equal(f[1]->external_id, "ext-ok");
    assert_int_equal(f[1]->attempts, 1);

    assert_int_equal(f[2]->kind, WB_REPORT_SENT);
    assert_int_equal(f[2]->attempts, 3);
    assert_int_equal(count(2, WB_REPORT_RETRY), 2);

    assert_int_equal(f[3]->kind, WB_REPORT_DEAD);
    assert_int_equal(f[3]->attempts, 1);
    assert_int_equal(count(3, WB_REPORT_RETRY), 0);
    assert_string_equal(f[3]->error, "scripted failure 1");

    assert_int_equal(f[4]->kind, WB_REPORT_DEAD);
    assert_int_equal(f[4]->attempts, 4);
    assert_int_equal(count(4, WB_REPORT_RETRY), 3);

    assert_int_equal(f[5]->kind, WB_REPORT_SENT);
    /* Retry-After (300 ms) outweighs the 20 ms backoff */
    assert_true(elapsed >= 300);

    struct wb_channel_stats *st = wb_channel_stats_get("fake-1");
    assert_int_equal(atomic_load(&st->sent), 3);
    assert_int_equal(atomic_load(&st->dead), 2);
    wb_chanset_install(NULL);
    for (size_t i = 0; i < n_reports; i++) {
        free(reports[i]);
    }
}

static void test_backoff(void **state)
{
    struct wb_conf_outbox oc = { .backoff_base_ms = 1000, .backoff_max_ms = 600000 };
    (void)state;
    /* attempt n waits in [d/2, d], d = min(max, base * 2^(n-1)) */
    for (int n = 1; n <= 12; n++) {
        int64_t d = 1000LL << (n - 1);
        if (d > 600000) {
            d = 600000;
        }
        assert_int_equal(wb_outbox_backoff_ms(&oc, n, 0), d / 2);
        assert_int_equal(wb_outbox_backoff_ms(&oc, n, (uint64_t)(d / 2)), d);
        int64_t v = wb_outbox_backoff_ms(&oc, n, 0x9E3779B97F4A7C15ULL);
        assert_true(v >= d / 2 && v <= d);
    }
    assert_int_equal(wb_outbox_backoff_ms(&oc, 40, 0), 300000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_pool_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
