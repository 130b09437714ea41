/*
 * test_bot.c - scoring, thresholds, small talk, follow-ups, loading
 * (broken files skipped, change detection) and the LLM request/response.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <warbler/buf.h>
#include <warbler/connector.h>
#include <warbler/log.h>

#include "bot.h"
#include "llm.h"
#include "retrieve.h"
#include "talk.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static const char kb_en[] =
    "---\nlanguage: en\n---\n"
    "## Refund policy {#refund-policy}\n<!-- keywords: money back -->\n"
    "Annual plans are refunded in full within 30 days.\n\n"
    "Monthly plans are not refunded, but you can cancel any time.\n\n"
    "## Reset your password {#reset-password}\n"
    "Click Forgot password on the sign-in page and follow the emailed link.\n\n"
    "## Delivery times {#delivery-time}\n"
    "Orders to the United States take 2 to 5 business days.\n\n"
    "## Shipping costs {#shipping-cost}\n"
    "Shipping is free for orders over 100 dollars; otherwise it costs 9 dollars.\n\n"
    "## Export orders {#export-orders}\nExport orders as a CSV file in Orders > Export.\n\n"
    "## Export customers {#export-customers}\nExport your customer list as a CSV file.\n";

static const char kb_zh[] =
    "## 退款政策 {#refund-policy}\n年付套餐 30 天内可以全额退款。月付套餐不退款，但可以随时取消。\n\n"
    "## 零售门店 {#for-retail}\n零售门店推荐成长版，配合收银应用使用。\n\n"
    "## 电商品牌 {#for-ecommerce}\n做电商的品牌推荐成长版，商品数量不限。\n";

static int setup(void **state)
{
    (void)state;
    wb_log_setup(WB_LOG_ERROR, WB_LOG_SINK_STDERR);
    (void)snprintf(dir, sizeof(dir), "/tmp/wb_bot_test_XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("help.md", kb_en);
    write_file("help.zh.md", kb_zh);
    write_file("broken.md", "---\ntitle: never closed\n");
    write_file("binary.md", "## A\n\xff\xfe\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = { "help.md", "help.zh.md", "broken.md", "binary.md", "new.md" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
    return 0;
}

static struct wb_bot *make_bot(double threshold)
{
    struct wb_bot_conf c;
    wb_bot_conf_defaults(&c, dir);
    c.threshold = threshold;
    struct wb_bot *bot;
    assert_int_equal(wb_bot_new(&c, &bot, NULL), WB_OK);
    wb_bot_conf_clear(&c);
    return bot;
}

static void test_load_skips_broken(void **state)
{
    (void)state;
    struct wb_bot *bot = make_bot(0.5);
    assert_int_equal(wb_bot_article_count(bot), 9); /* 6 en + 3 zh; 2 broken files skipped */
    assert_false(wb_bot_kb_changed(bot));
    write_file("new.md", "## New\nText.\n");
    assert_true(wb_bot_kb_changed(bot));
    wb_bot_free(bot);
    char path[256];
    (void)snprintf(path, sizeof(path), "%s/new.md", dir);
    (void)unlink(path);
}

static const struct {
    const char *label;
    const char *text;
    const char *prev;
    enum wb_bot_action want;
    const char *want_id; /* NULL: not checked */
    const char *want_lang;
} answer_cases[] = {
    { "direct", "What is your refund policy?", NULL, WB_BOT_ANSWER, "refund-policy", "en" },
    { "chinese", "退款政策是什么？", NULL, WB_BOT_ANSWER, "refund-policy", "zh" },
    { "off-topic english", "What's the weather in Paris tomorrow?", NULL, WB_BOT_HANDOFF, NULL,
      "en" },
    { "off-topic chinese", "明天巴黎天气怎么样？", NULL, WB_BOT_HANDOFF, NULL, "zh" },
    { "random letters", "qwpoeiru zxmcnv", NULL, WB_BOT_HANDOFF, NULL, "en" },
    { "one shared word is not enough", "How do I cancel my flight to Rome?", NULL, WB_BOT_HANDOFF,
      NULL, "en" },
    { "greeting", "Hello!", NULL, WB_BOT_SMALLTALK, NULL, "en" },
    { "chinese thanks", "谢谢！", NULL, WB_BOT_SMALLTALK, NULL, "zh" },
    { "greeting then question", "hi, how do I reset my password?", NULL, WB_BOT_ANSWER,
      "reset-password", "en" },
    { "emoji only", "👍", NULL, WB_BOT_SILENT, NULL, "en" },
    { "follow-up english", "and my customers?", "How do I export my orders?", WB_BOT_ANSWER,
      "export-customers", "en" },
    { "follow-up chinese", "那电商呢？", "零售门店用哪个套餐？", WB_BOT_ANSWER, "for-ecommerce",
      "zh" },
    { "follow-up off-topic", "what about the weather there?", "How long does delivery take?",
      WB_BOT_HANDOFF, NULL, "en" },
    { "english question, chinese twin exists", "refund policy", NULL, WB_BOT_ANSWER,
      "refund-policy", "en" },
};

static void test_answer_table(void **state)
{
    (void)state;
    struct wb_bot *bot = make_bot(0.6);
    for (size_t i = 0; i < sizeof(answer_cases) / sizeof(answer_cases[0]); i++) {
        struct wb_bot_query q = { answer_cases[i].text, answer_cases[i].prev, 0 };
        struct wb_bot_reply r;
        assert_int_equal(wb_bot_answer(bot, &q, &r, NULL), WB_OK);
        print_message("%s: %s %s %.2f\n", answer_cases[i].label, wb_bot_action_str(r.action),
                      r.article_id ? r.article_id : "-", r.confidence);
        assert_int_equal(r.action, answer_cases[i].want);
        if (answer_cases[i].want_id != NULL) {
            assert_string_equal(r.article_id, answer_cases[i].want_id);
        }
        assert_string_equal(r.lang, answer_cases[i].want_lang);
        assert_true(r.confidence >= 0 && r.confidence <= 1);
        assert_true(r.action == WB_BOT_SILENT || r.text != NULL);
        wb_bot_reply_free(&r);
    }
    wb_bot_free(bot);
}

static void test_passage_and_limit(void **state)
{
    (void)state;
    struct wb_bot *bot = make_bot(0.5);
    struct wb_bot_query q = { "Are monthly plans refunded?", NULL, 0 };
    struct wb_bot_reply r;
    assert_int_equal(wb_bot_answer(bot, &q, &r, NULL), WB_OK);
    assert_int_equal(r.action, WB_BOT_ANSWER);
    /* the relevant paragraph, not the whole article */
    assert_non_null(strstr(r.text, "Monthly"));
    assert_null(strstr(r.text, "Annual"));
    wb_bot_reply_free(&r);
    q.max_len = 20;
    assert_int_equal(wb_bot_answer(bot, &q, &r, NULL), WB_OK);
    assert_true(strlen(r.text) <= 20);
    wb_bot_reply_free(&r);
    wb_bot_free(bot);
}

static void test_threshold(void **state)
{
    (void)state;
    /* the same question answered at a low threshold is handed off at 1.0 */
    struct wb_bot *low = make_bot(0.1);
    struct wb_bot *high = make_bot(1.0);
    struct wb_bot_query q = { "refund policy for my flight", NULL, 0 };
    struct wb_bot_reply a, b;
    assert_int_equal(wb_bot_answer(low, &q, &a, NULL), WB_OK);
    assert_int_equal(wb_bot_answer(high, &q, &b, NULL), WB_OK);
    assert_int_equal(a.action, WB_BOT_ANSWER);
    assert_int_equal(b.action, WB_BOT_HANDOFF);
    assert_true(a.confidence < 1.0);
    wb_bot_reply_free(&a);
    wb_bot_reply_free(&b);
    wb_bot_free(low);
    wb_bot_free(high);
}

static const struct {
    double cov, matched, evidence, want;
} conf_cases[] = {
    { 1.0, 5.0, 2.0, 1.0 },   { 0.5, 5.0, 2.0, 0.5 }, { 1.0, 1.0, 2.0, 0.5 },
    { 0.0, 3.0, 2.0, 0.0 },   { 1.2, 9.0, 2.0, 1.0 }, { 0.8, 0.0, 2.0, 0.0 },
    { 0.5, 0.5, 2.0, 0.125 },
};

static void test_confidence_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
        double c =
            wb_ret_confidence(conf_cases[i].cov, conf_cases[i].matched, conf_cases[i].evidence);
        assert_true(c > conf_cases[i].want - 1e-9 && c < conf_cases[i].want + 1e-9);
    }
}

static const struct {
    const char *in;
    enum wb_talk want;
    const char *rest; /* what follows the small talk */
    const char *lang;
} talk_cases[] = {
    { "hi", WB_TALK_GREETING, "", "en" },
    { "Hello there!", WB_TALK_GREETING, "", "en" },
    { "您好，在吗？", WB_TALK_GREETING, "", "zh" },
    { "ok thank you, bye", WB_TALK_GOODBYE, "", "en" },
    { "ＯＫ，谢谢", WB_TALK_THANKS, "", "zh" },
    { "high prices?", WB_TALK_NONE, "high prices?", "en" },
    { "hi, what is the price?", WB_TALK_GREETING, "what is the price?", "en" },
    { "你好，我想退款", WB_TALK_GREETING, "我想退款", "zh" },
    { "👍", WB_TALK_FILLER, "", "en" },
    { "", WB_TALK_FILLER, "", "en" },
    { "thanks! how do I export orders", WB_TALK_THANKS, "how do I export orders", "en" },
};

static void test_talk_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(talk_cases) / sizeof(talk_cases[0]); i++) {
        size_t rest;
        const char *lang;
        const char *in = talk_cases[i].in;
        enum wb_talk k = wb_talk_detect(in, strlen(in), &rest, &lang);
        print_message("%s -> %d rest \"%s\"\n", in, k, in + rest);
        assert_int_equal(k, talk_cases[i].want);
        assert_string_equal(in + rest, talk_cases[i].rest);
        if (k != WB_TALK_NONE && k != WB_TALK_FILLER) {
            assert_string_equal(lang, talk_cases[i].lang);
        }
    }
}

static void test_followup_cues(void **state)
{
    (void)state;
    const char *yes[] = { "那电商呢？", "and for banks?", "What about Pro?",
                          "还有退货呢", "那么企业版",     "how about annual billing" };
    const char *no[] = { "How do I export orders?", "退款多久到账？", "android app",
                         "forgot my password" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(wb_talk_is_followup(yes[i], strlen(yes[i])));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        assert_false(wb_talk_is_followup(no[i], strlen(no[i])));
    }
}

static void test_llm_request_shape(void **state)
{
    (void)state;
    unsigned char raw[] = "sk-test";
    struct wb_secret key = { raw, 7 };
    struct wb_llm_params p = { "http://127.0.0.1:9/v1/", "m1", "Be concise.", &key, 200 };
    struct wb_llm_passage ps[] = { { "Refunds > Policy", "Annual plans: 30 days." } };
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_out out;
    struct wb_llm_question q = { "能退款吗？", NULL, "zh", ps, 1 };
    assert_int_equal(wb_llm_build(&p, &q, &a, &out, NULL), WB_OK);
    assert_string_equal(out.method, "POST");
    assert_string_equal(out.url, "http://127.0.0.1:9/v1/chat/completions");
    assert_string_equal(wb_http_header_get(out.headers, out.n_headers, "authorization"),
                        "Bearer sk-test");
    assert_string_equal(wb_http_header_get(out.headers, out.n_headers, "content-type"),
                        "application/json");
    json_t *j = json_loadb((const char *)out.body, out.body_len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "model")), "m1");
    assert_int_equal(json_integer_value(json_object_get(j, "max_tokens")), 200);
    json_t *m = json_object_get(j, "messages");
    assert_int_equal(json_array_size(m), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "role")), "system");
    const char *user = json_string_value(json_object_get(json_array_get(m, 1), "content"));
    assert_non_null(strstr(user, "Annual plans: 30 days."));
    assert_non_null(strstr(user, "能退款吗？"));
    assert_non_null(strstr(user, "Chinese"));
    json_decref(j);
    p.api_key = NULL;
    p.base_url = "https://llm.example";
    struct wb_llm_question q2 = { "q", "prev", "en", ps, 1 };
    assert_int_equal(wb_llm_build(&p, &q2, &a, &out, NULL), WB_OK);
    assert_string_equal(out.url, "https://llm.example/v1/chat/completions");
    assert_null(wb_http_header_get(out.headers, out.n_headers, "authorization"));
    wb_arena_free(&a);
}

/* Fields ordered to avoid padding: label, transport, want, status, body, text, handoff. */
static const struct {
    const char *label;
    enum wb_status transport;
    enum wb_status want;
    long status;
    const char *body;
    const char *want_text;
    bool want_handoff;
} resp_cases[] = {
    { "ok", WB_OK, WB_OK, 200,
      "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\" Yes, within 30 days.\"}}]}",
      "Yes, within 30 days.", false },
    { "handoff", WB_OK, WB_OK, 200,
      "{\"choices\":[{\"message\":{\"content\":\"HANDOFF\\nI will ask a colleague.\"}}]}", NULL,
      true },
    { "timeout", WB_ERR_TIMEOUT, WB_ERR_TIMEOUT, 0, "", NULL, false },
    { "server error", WB_OK, WB_ERR_BUSY, 503, "{}", NULL, false },
    { "bad key", WB_OK, WB_ERR_AUTH, 401, "{}", NULL, false },
    { "not json", WB_OK, WB_ERR_PARSE, 200, "<html>", NULL, false },
    { "no choices", WB_OK, WB_ERR_PARSE, 200, "{\"choices\":[]}", NULL, false },
    { "empty content", WB_OK, WB_ERR_PARSE, 200,
      "{\"choices\":[{\"message\":{\"content\":\"  \"}}]}", NULL, false },
    { "duplicate keys", WB_OK, WB_ERR_PARSE, 200, "{\"choices\":[],\"choices\":[]}", NULL, false },
};

static void test_llm_response_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
        struct wb_http_resp r;
        memset(&r, 0, sizeof(r));
        r.transport = resp_cases[i].transport;
        r.status = resp_cases[i].status;
        r.body = (const uint8_t *)resp_cases[i].body;
        r.body_len = strlen(resp_cases[i].body);
        char *text;
        bool handoff;
        struct wb_err err;
        enum wb_status st = wb_llm_read(&r, &text, &handoff, &err);
        print_message("%s: %s\n", resp_cases[i].label, wb_status_str(st));
        assert_int_equal(st, resp_cases[i].want);
        if (st == WB_OK) {
            assert_int_equal(handoff, resp_cases[i].want_handoff);
            if (resp_cases[i].want_text != NULL) {
                assert_string_equal(text, resp_cases[i].want_text);
            }
            free(text);
        } else {
            assert_null(text);
        }
    }
}

static void test_llm_through_bot(void **state)
{
    (void)state;
    struct wb_bot *bot = make_bot(0.5);
    struct wb_bot_query q = { "What is your refund policy?", NULL, 0 };
    struct wb_bot_reply r;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_out out;
    assert_int_equal(wb_bot_answer(bot, &q, &r, NULL), WB_OK);
    assert_int_equal(wb_bot_llm_request(bot, &q, &a, &out, NULL), WB_OK);
    assert_non_null(strstr((const char *)out.body, "refunded in full"));
    /* on a timeout the retrieved passage stays */
    struct wb_http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.transport = WB_ERR_TIMEOUT;
    char *before = wb_strdup(r.text);
    assert_int_equal(wb_bot_llm_apply(bot, &resp, 0, &r, NULL), WB_ERR_TIMEOUT);
    assert_string_equal(r.text, before);
    free(before);
    /* the model declines: handoff */
    const char *body = "{\"choices\":[{\"message\":{\"content\":\"HANDOFF\"}}]}";
    resp.transport = WB_OK;
    resp.status = 200;
    resp.body = (const uint8_t *)body;
    resp.body_len = strlen(body);
    assert_int_equal(wb_bot_llm_apply(bot, &resp, 0, &r, NULL), WB_OK);
    assert_int_equal(r.action, WB_BOT_HANDOFF);
    wb_bot_reply_free(&r);
    /* nothing to rewrite for small talk or off-topic questions */
    struct wb_bot_query off = { "weather in Rome tomorrow?", NULL, 0 };
    assert_int_equal(wb_bot_llm_request(bot, &off, &a, &out, NULL), WB_ERR_NOTFOUND);
    wb_arena_free(&a);
    wb_bot_free(bot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_skips_broken),  cmocka_unit_test(test_answer_table),
        cmocka_unit_test(test_passage_and_limit),  cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_confidence_table),   cmocka_unit_test(test_talk_table),
        cmocka_unit_test(test_followup_cues),      cmocka_unit_test(test_llm_request_shape),
        cmocka_unit_test(test_llm_response_table), cmocka_unit_test(test_llm_through_bot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
