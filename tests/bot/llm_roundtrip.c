/*
 * llm_roundtrip.c - the bot's LLM path against a local fake endpoint
 * (tests/bot/fake_llm.py, which checks each request's shape).
 *
 * Usage: llm_roundtrip KNOWLEDGE_DIR BASE_URL API_KEY
 *
 * Plays the core's part: wb_bot_answer(), wb_bot_llm_request(), one blocking
 * libcurl request standing in for the HTTP thread (with the bot's timeout),
 * then wb_bot_llm_apply(). Checks the answer, the model's handoff, and the
 * fallback to the retrieved passage on a timeout and on HTTP 500.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <warbler/buf.h>
#include <warbler/connector.h>
#include <warbler/log.h>

#include "bot.h"
#include "text.h"

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    wb_bot_put(user, p, size * n);
    return size * n;
}

/* What the core's HTTP thread does, minus the event loop. */
static void perform(const struct wb_http_out *out, int64_t timeout_ms, struct wb_buf *body,
                    struct wb_http_resp *resp)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    for (size_t i = 0; i < out->n_headers; i++) {
        char line[1024];
        (void)snprintf(line, sizeof(line), "%s: %s", out->headers[i].name, out->headers[i].value);
        h = curl_slist_append(h, line);
    }
    (void)curl_easy_setopt(c, CURLOPT_URL, out->url);
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)out->body);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)out->body_len);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    CURLcode rc = curl_easy_perform(c);
    memset(resp, 0, sizeof(*resp));
    resp->transport = rc == CURLE_OK                   ? WB_OK
                      : rc == CURLE_OPERATION_TIMEDOUT ? WB_ERR_TIMEOUT
                                                       : WB_ERR_IO;
    resp->transport_error = rc == CURLE_OK ? NULL : curl_easy_strerror(rc);
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body = (const uint8_t *)(body->data != NULL ? body->data : "");
    resp->body_len = body->len;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static int run_case(const char *dir, const char *url, const char *key, const char *model,
                    enum wb_status want_st, enum wb_bot_action want_action, const char *want_text)
{
    struct wb_bot_conf c;
    wb_bot_conf_defaults(&c, dir);
    c.llm_enabled = true;
    free(c.llm_base_url);
    c.llm_base_url = wb_strdup(url);
    free(c.llm_model);
    c.llm_model = wb_strdup(model);
    c.llm_api_key.data = wb_memdup(key, strlen(key));
    c.llm_api_key.len = strlen(key);
    c.llm_timeout_ms = 1000;
    struct wb_bot *bot;
    if (wb_bot_new(&c, &bot, NULL) != WB_OK) {
        return 1;
    }
    struct wb_bot_query q = { "What is your refund policy?", NULL, 0 };
    struct wb_bot_reply r;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_out out;
    struct wb_http_resp resp;
    struct wb_buf body;
    struct wb_err err = { WB_OK, "" };
    wb_buf_init(&body, 0);
    int fail = wb_bot_answer(bot, &q, &r, NULL) != WB_OK || r.action != WB_BOT_ANSWER ||
               wb_bot_llm_request(bot, &q, &a, &out, &err) != WB_OK;
    char *passage = wb_strdup(r.text != NULL ? r.text : "");
    if (!fail) {
        perform(&out, wb_bot_llm_timeout_ms(bot), &body, &resp);
        enum wb_status st = wb_bot_llm_apply(bot, &resp, 0, &r, &err);
        const char *want = want_text != NULL ? want_text : passage;
        fail = st != want_st || r.action != want_action || strncmp(r.text, want, strlen(want)) != 0;
        printf("%s model=%s: %s (%s) -> %s: %.60s\n", fail ? "FAIL" : "ok  ", model,
               wb_status_str(st), err.msg, wb_bot_action_str(r.action), r.text);
    }
    free(passage);
    wb_buf_free(&body);
    wb_arena_free(&a);
    wb_bot_reply_free(&r);
    wb_bot_free(bot);
    wb_bot_conf_clear(&c);
    return fail;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        (void)fprintf(stderr, "usage: llm_roundtrip KNOWLEDGE_DIR BASE_URL API_KEY\n");
        return 2;
    }
    wb_log_setup(WB_LOG_WARN, WB_LOG_SINK_STDERR);
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *d = argv[1], *u = argv[2], *k = argv[3];
    int fail = run_case(d, u, k, "ok", WB_OK, WB_BOT_ANSWER, "LLM: annual plans");
    fail |= run_case(d, u, k, "handoff", WB_OK, WB_BOT_HANDOFF, "Let me pass this");
    fail |= run_case(d, u, k, "slow", WB_ERR_TIMEOUT, WB_BOT_ANSWER, NULL);
    fail |= run_case(d, u, k, "error", WB_ERR_BUSY, WB_BOT_ANSWER, NULL);
    curl_global_cleanup();
    return fail;
}
