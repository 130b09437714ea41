/*
 * llm.c - request and response of an OpenAI-compatible /v1/chat/completions.
 *
 * Design: the bot never performs I/O on the core thread. This file only
 * turns passages and a question into an HTTP request (method, URL,
 * headers, JSON body) and turns the HTTP response into text; the core
 * hands the request to its HTTP thread and, on any error or timeout,
 * sends the retrieved passage instead. The system prompt comes from the
 * config; the model is told to answer only from the passages and to
 * begin its reply with HANDOFF when they do not hold the answer, which is
 * easy to detect without trusting the model's wording.
 *
 * Thread: any (pure).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "llm.h"
#include "text.h"

static char *chat_url(struct wb_arena *a, const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    bool has_v1 = n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0;
    return wb_arena_printf(a, "%.*s%s/chat/completions", (int)n, base, has_v1 ? "" : "/v1");
}

static char *user_message(const char *question, const char *prev, const char *lang,
                          const struct wb_llm_passage *ps, size_t n)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    wb_bot_putf(&b, "Passages from the knowledge base:\n");
    for (size_t i = 0; i < n; i++) {
        wb_bot_putf(&b, "\n[%zu] %s\n%s\n", i + 1, ps[i].title, ps[i].text);
    }
    if (prev != NULL && prev[0] != '\0') {
        wb_bot_putf(&b, "\nThe customer's previous message: %s\n", prev);
    }
    wb_bot_putf(&b, "\nAnswer in %s. The customer's question: %s\n",
                strcmp(lang, "zh") == 0 ? "Chinese (简体中文)" : "English", question);
    return wb_buf_steal(&b, NULL);
}

static json_t *message(const char *role, const char *content)
{
    return json_pack("{s:s, s:s}", "role", role, "content", content);
}

enum wb_status wb_llm_build(const struct wb_llm_params *p, const struct wb_llm_question *q,
                            struct wb_arena *a, struct wb_http_out *out, struct wb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (p->base_url == NULL || p->base_url[0] == '\0' || p->model == NULL || q->text == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "bot: llm_base_url and llm_model must be set");
    }
    char *user = user_message(q->text, q->prev, q->lang, q->passages, q->n_passages);
    json_t *msgs = json_array();
    (void)json_array_append_new(msgs, message("system", p->system_prompt ? p->system_prompt : ""));
    (void)json_array_append_new(msgs, message("user", user));
    free(user);
    json_t *body =
        json_pack("{s:s, s:o, s:I, s:f, s:b}", "model", p->model, "messages", msgs, "max_tokens",
                  (json_int_t)p->max_tokens, "temperature", 0.2, "stream", 0);
    if (body == NULL) {
        return wb_err_set(err, WB_ERR_INTERNAL, "bot: cannot build the llm request");
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        return wb_err_set(err, WB_ERR_INTERNAL, "bot: cannot encode the llm request");
    }
    size_t nh = 2;
    struct wb_header *h = wb_arena_alloc(a, 3 * sizeof(*h));
    h[0] = (struct wb_header){ "Content-Type", "application/json" };
    h[1] = (struct wb_header){ "Accept", "application/json" };
    if (p->api_key != NULL && p->api_key->data != NULL && p->api_key->len > 0) {
        h[nh++] = (struct wb_header){ "Authorization",
                                      wb_arena_printf(a, "Bearer %.*s", (int)p->api_key->len,
                                                      (const char *)p->api_key->data) };
    }
    out->method = "POST";
    out->url = chat_url(a, p->base_url);
    out->headers = h;
    out->n_headers = nh;
    out->body_len = strlen(text);
    out->body = (const uint8_t *)wb_arena_strndup(a, text, out->body_len);
    free(text);
    return WB_OK;
}

static enum wb_status status_error(long status, struct wb_err *err)
{
    if (status == 401 || status == 403) {
        return wb_err_set(err, WB_ERR_AUTH, "bot: llm refused the API key (HTTP %ld)", status);
    }
    if (status == 429 || status >= 500) {
        return wb_err_set(err, WB_ERR_BUSY, "bot: llm unavailable (HTTP %ld)", status);
    }
    return wb_err_set(err, WB_ERR_PARSE, "bot: llm answered HTTP %ld", status);
}

enum wb_status wb_llm_read(const struct wb_http_resp *resp, char **text_out, bool *handoff_out,
                           struct wb_err *err)
{
    *text_out = NULL;
    *handoff_out = false;
    if (resp->transport != WB_OK) {
        return wb_err_set(err, resp->transport, "bot: llm request failed: %s",
                          resp->transport_error ? resp->transport_error : "transport error");
    }
    if (resp->status != 200) {
        return status_error(resp->status, err);
    }
    json_error_t je;
    json_t *root =
        json_loadb((const char *)resp->body, resp->body_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        return wb_err_set(err, WB_ERR_PARSE, "bot: llm response is not JSON: %s", je.text);
    }
    const char *content = NULL;
    json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
    json_t *c = json_object_get(json_object_get(choice, "message"), "content");
    if (json_is_string(c)) {
        content = json_string_value(c);
    }
    while (content != NULL && (*content == ' ' || *content == '\n' || *content == '\r')) {
        content++;
    }
    if (content == NULL || content[0] == '\0') {
        json_decref(root);
        return wb_err_set(err, WB_ERR_PARSE, "bot: llm response has no choices[0].message.content");
    }
    *handoff_out = strncmp(content, "HANDOFF", 7) == 0;
    *text_out = wb_strdup(content);
    json_decref(root);
    return WB_OK;
}
