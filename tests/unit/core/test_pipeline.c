/*
 * test_pipeline.c - the core thread end to end on a real SQLite file and the
 * sample knowledge base, with a fake channel: messages are stored once,
 * answered by the bot, attachments land on disk before the commit, and a
 * channel's cap on automatic replies per sender per hour holds.
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
#include <sys/stat.h>
#include <unistd.h>

#include <warbler/store.h>

#include "channels.h"
#include "fake_channel.h"
#include "config.h"
#include "core.h"
#include "metrics.h"

static enum wb_status fake_send(void *inst, const struct wb_outbound *ob,
                                struct wb_send_result *out)
{
    (void)inst;
    (void)ob;
    memset(out, 0, sizeof(*out));
    out->outcome = WB_SEND_OK;
    return WB_OK;
}

static const struct wb_connector_ops capped_ops = {
    .name = "capped",
    .caps = { .max_text = 4096, .max_auto_replies_per_hour = 2 },
    .create = fake_create,
    .destroy = fake_destroy,
    .send = fake_send,
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int n_done;

static struct {
    enum wb_status st;
    int64_t conversation_id;
    int64_t message_id;
    bool duplicate;
} done_v[16];

static void on_done(void *ctx, const struct wb_message *m, enum wb_status st, int64_t conv,
                    int64_t mid, bool dup)
{
    (void)ctx;
    (void)m;
    (void)pthread_mutex_lock(&mu);
    done_v[n_done].conversation_id = conv;
    done_v[n_done].st = st;
    done_v[n_done].message_id = mid;
    done_v[n_done].duplicate = dup;
    n_done++;
    (void)pthread_cond_signal(&cv);
    (void)pthread_mutex_unlock(&mu);
}

static void submit(struct wb_core *core, const char *ext, const char *text, bool attach)
{
    struct wb_attachment a = { .filename = "note.txt",
                               .content_type = "text/plain",
                               .data = (const uint8_t *)"attached bytes",
                               .size = 14 };
    struct wb_inbound in;
    memset(&in, 0, sizeof(in));
    in.external_id = ext;
    in.sender_id = "loop@example.test";
    in.text = text;
    if (attach) {
        in.attachments = &a;
        in.n_attachments = 1;
    }
    struct wb_message *m = wb_message_new("capped-1", &in);
    m->done = on_done;
    assert_int_equal(wb_core_submit_take(core, m), WB_OK);
}

static void wait_done(int n)
{
    (void)pthread_mutex_lock(&mu);
    while (n_done < n) {
        (void)pthread_cond_wait(&cv, &mu);
    }
    (void)pthread_mutex_unlock(&mu);
}

static int64_t count(struct wb_store *st, int direction)
{
    struct wb_store_stats s;
    assert_int_equal(wb_store_stats_get(st, &s, NULL), WB_OK);
    return direction == 0 ? s.messages_in : s.messages_out;
}

static void test_pipeline(void **state)
{
    char dir[] = "/tmp/wb-pipeline-XXXXXX", text[1024], path[1200];
    struct wb_config *cfg = NULL;
    struct wb_core *core = NULL;
    struct wb_err err;
    (void)state;

    assert_non_null(mkdtemp(dir));
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): before threads */
    const char *src = getenv("WB_SOURCE_DIR");
    (void)snprintf(text, sizeof(text),
                   "state_dir = \"%s\";\nbot = { knowledge_dir = \"%s/etc/knowledge\"; };\n", dir,
                   src ? src : ".");
    if (wb_config_load_string(text, strlen(text), "t.conf", NULL, &cfg, &err) != WB_OK) {
        fail_msg("%s", err.msg);
        return;
    }
    wb_metrics_init();
    assert_int_equal(wb_core_new(cfg, &core, &err), WB_OK);
    fake_channel_install("capped-1", &capped_ops, wb_core_host(core));
    assert_int_equal(wb_core_start(core, &err), WB_OK);

    submit(core, "m-1", "How long does a refund take?", true);
    submit(core, "m-2", "Do you ship to Canada?", false);
    submit(core, "m-1", "How long does a refund take?", true); /* re-delivery */
    submit(core, "m-3", "How do I reset my password?", false);
    submit(core, "m-4", "What are your support hours?", false);
    wait_done(5);
    wb_core_stop(core);

    for (int i = 0; i < 5; i++) {
        assert_int_equal(done_v[i].st, WB_OK);
    }
    assert_true(done_v[2].duplicate);
    assert_int_equal(done_v[2].message_id, done_v[0].message_id);

    struct wb_store_options so = { .driver = "sqlite", .path = cfg->store.path, .read_only = true };
    struct wb_store *st = NULL;
    assert_int_equal(wb_store_open(&so, &st, &err), WB_OK);
    assert_int_equal(count(st, 0), 4);
    /*
     * The cap: two automatic replies to this sender within the hour, no
     * more, while the bot still owns the conversation (not a handoff).
     */
    assert_int_equal(count(st, 1), 2);
    struct wb_conversation conv;
    memset(&conv, 0, sizeof(conv));
    assert_int_equal(wb_store_conversation_get(st, done_v[4].conversation_id, &conv, &err), WB_OK);
    assert_int_equal(conv.owner, WB_OWNER_BOT);
    wb_conversation_free(&conv);
    wb_store_close(st);

    (void)snprintf(path, sizeof(path), "%s/attachments/%lld-0", dir,
                   (long long)done_v[0].message_id);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[64] = { 0 };
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    assert_int_equal(n, 14);
    assert_string_equal(buf, "attached bytes");

    wb_core_free(core);
    wb_chanset_install(NULL);
    wb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
