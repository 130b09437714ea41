/*
 * bot_conf.c - the `bot` settings: schema table and defaults.
 *
 * The table is the single source of the defaults: wb_bot_conf_defaults()
 * reads it so tests and tools get exactly what the walker would give.
 *
 * Thread: any (the table is constant).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"

#define F(field) offsetof(struct wb_bot_conf, field)

static const char default_prompt[] =
    "You are the customer-service assistant of this business. Answer in the customer's "
    "language, professionally, confidently and concisely (at most a few sentences). Use only "
    "facts stated in the passages given below; never invent prices, dates, policies or "
    "contact details. If the passages do not contain the answer, say that you will pass the "
    "question to a colleague, and reply with exactly HANDOFF on the first line.";

static const struct wb_conf_field fields[] = {
    { "knowledge_dir", WB_CONF_PATH, F(knowledge_dir), false, "knowledge", 0, 0, 0, 0, NULL,
      "directory of Markdown knowledge files (*.md), relative to the config file" },
    { "threshold", WB_CONF_DOUBLE, F(threshold), false, "0.6", 0, 0, 0.0, 1.0, NULL,
      "answer only when the retrieval confidence (0..1) is at least this; else hand off" },
    { "max_answer_chars", WB_CONF_INT, F(max_answer_chars), false, "600", 0, 100000, 0, 0, NULL,
      "longest answer in characters before the channel's own limit applies (0 = none)" },
    { "max_file_size", WB_CONF_SIZE, F(max_file_size), false, "1M", 1024, 67108864, 0, 0, NULL,
      "knowledge files larger than this are reported and skipped" },
    { "greeting_zh", WB_CONF_STR, F(greeting_zh), false, "您好！请问有什么可以帮您？", 0, 0, 0, 0,
      NULL, "reply to a greeting in Chinese" },
    { "greeting_en", WB_CONF_STR, F(greeting_en), false, "Hello! How can I help you today?", 0, 0,
      0, 0, NULL, "reply to a greeting in English" },
    { "thanks_zh", WB_CONF_STR, F(thanks_zh), false, "不客气！还有其他问题随时问我。", 0, 0, 0, 0,
      NULL, "reply to thanks in Chinese" },
    { "thanks_en", WB_CONF_STR, F(thanks_en), false, "You're welcome! Anything else, just ask.", 0,
      0, 0, 0, NULL, "reply to thanks in English" },
    { "goodbye_zh", WB_CONF_STR, F(goodbye_zh), false, "再见，祝您愉快！", 0, 0, 0, 0, NULL,
      "reply to a goodbye in Chinese" },
    { "goodbye_en", WB_CONF_STR, F(goodbye_en), false, "Goodbye, have a great day!", 0, 0, 0, 0,
      NULL, "reply to a goodbye in English" },
    { "handoff_zh", WB_CONF_STR, F(handoff_zh), false,
      "这个问题我来帮您转给人工客服，请稍候，同事会尽快回复您。", 0, 0, 0, 0, NULL,
      "said in Chinese when the bot does not answer and a person will" },
    { "handoff_en", WB_CONF_STR, F(handoff_en), false,
      "Let me pass this to a colleague; a person will reply to you shortly.", 0, 0, 0, 0, NULL,
      "said in English when the bot does not answer and a person will" },
    { "llm_enabled", WB_CONF_BOOL, F(llm_enabled), false, "false", 0, 0, 0, 0, NULL,
      "write answers with an OpenAI-compatible LLM from the retrieved passages" },
    { "llm_base_url", WB_CONF_STR, F(llm_base_url), false, "http://127.0.0.1:8000", 0, 0, 0, 0,
      NULL, "base URL of the endpoint; /v1/chat/completions is appended" },
    { "llm_model", WB_CONF_STR, F(llm_model), false, "gpt-4o-mini", 0, 0, 0, 0, NULL,
      "model name sent in the request" },
    { "llm_api_key", WB_CONF_SECRET, F(llm_api_key), false, NULL, 0, 0, 0, 0, NULL,
      "API key: llm_api_key_file = \"/path\" or llm_api_key = \"env:NAME\"; none = no header" },
    { "llm_timeout", WB_CONF_DURATION, F(llm_timeout_ms), false, "8s", 100, 120000, 0, 0, NULL,
      "give up on the LLM after this and answer with the retrieved passage" },
    { "llm_max_tokens", WB_CONF_INT, F(llm_max_tokens), false, "300", 16, 8192, 0, 0, NULL,
      "max_tokens of the completion" },
    { "llm_passages", WB_CONF_INT, F(llm_passages), false, "3", 1, 10, 0, 0, NULL,
      "how many of the best passages are given to the LLM as context" },
    { "llm_system_prompt", WB_CONF_STR, F(llm_system_prompt), false, default_prompt, 0, 0, 0, 0,
      NULL, "system prompt: tone and rules for the LLM" },
};

const struct wb_conf_schema wb_bot_conf_schema = {
    .name = "bot",
    .fields = fields,
    .n_fields = WB_ARRAY_LEN(fields),
    .size = sizeof(struct wb_bot_conf),
    .verify = NULL,
};

/* Defaults in the table use plain forms only: digits, "Ns", "NM", true/false. */
static int64_t parse_scaled(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end != NULL && *end == 's') {
        v *= 1000;
    } else if (end != NULL && *end == 'M') {
        v *= 1024LL * 1024LL;
    }
    return (int64_t)v;
}

void wb_bot_conf_defaults(struct wb_bot_conf *conf, const char *knowledge_dir)
{
    memset(conf, 0, sizeof(*conf));
    for (size_t i = 0; i < WB_ARRAY_LEN(fields); i++) {
        const struct wb_conf_field *f = &fields[i];
        void *slot = (char *)conf + f->offset;
        if (f->def == NULL) {
            continue;
        }
        switch (f->type) {
        case WB_CONF_STR:
        case WB_CONF_PATH:
            *(char **)slot = wb_strdup(f->def);
            break;
        case WB_CONF_DOUBLE:
            *(double *)slot = strtod(f->def, NULL);
            break;
        case WB_CONF_BOOL:
            *(bool *)slot = strcmp(f->def, "true") == 0;
            break;
        case WB_CONF_INT:
        case WB_CONF_DURATION:
        case WB_CONF_SIZE:
            *(int64_t *)slot = parse_scaled(f->def);
            break;
        default:
            break;
        }
    }
    if (knowledge_dir != NULL) {
        free(conf->knowledge_dir);
        conf->knowledge_dir = wb_strdup(knowledge_dir);
    }
}

void wb_bot_conf_clear(struct wb_bot_conf *conf)
{
    if (conf == NULL) {
        return;
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(fields); i++) {
        void *slot = (char *)conf + fields[i].offset;
        if (fields[i].type == WB_CONF_STR || fields[i].type == WB_CONF_PATH) {
            free(*(char **)slot);
            *(char **)slot = NULL;
        } else if (fields[i].type == WB_CONF_SECRET) {
            wb_secret_free((struct wb_secret *)slot);
        }
    }
}

void wb_bot_conf_copy(struct wb_bot_conf *dst, const struct wb_bot_conf *src)
{
    memcpy(dst, src, sizeof(*dst));
    for (size_t i = 0; i < WB_ARRAY_LEN(fields); i++) {
        void *d = (char *)dst + fields[i].offset;
        const void *s = (const char *)src + fields[i].offset;
        if (fields[i].type == WB_CONF_STR || fields[i].type == WB_CONF_PATH) {
            const char *v = *(char *const *)s;
            *(char **)d = v != NULL ? wb_strdup(v) : NULL;
        } else if (fields[i].type == WB_CONF_SECRET) {
            const struct wb_secret *sv = s;
            struct wb_secret *dv = d;
            dv->data = sv->data != NULL ? wb_memdup(sv->data, sv->len) : NULL;
            dv->len = sv->data != NULL ? sv->len : 0;
        }
    }
}
