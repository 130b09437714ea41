/*
 * bot.h - the bot step of the pipeline.
 *
 * The core calls wb_bot_answer() for each customer message in a
 * conversation the bot owns. The bot is immutable once built: reloads build
 * a new one and the core thread swaps the pointer between batches, so a
 * message in flight sees the old or the new knowledge base, never a
 * half-built one.
 *
 * Thread: wb_bot_new/free on the thread that builds or retires it;
 * wb_bot_answer on any thread (read-only).
 */
#ifndef WARBLER_BOT_H
#define WARBLER_BOT_H

#include <warbler/common.h>
#include <warbler/conf.h>

struct wb_bot;

/* Settings of the `bot` group in warbler.conf; the struct is the bot's own. */
extern const struct wb_conf_schema wb_bot_conf_schema;

/*
 * The struct wb_bot_conf_schema describes (filled by the config walker).
 * Strings are owned by the struct; free with wb_conf_struct_free() or, when
 * filled by wb_bot_conf_defaults(), with wb_bot_conf_clear().
 */
struct wb_bot_conf {
    char *knowledge_dir;      /* PATH: directory of *.md articles */
    double threshold;         /* answer only at or above this confidence */
    int64_t max_answer_chars; /* characters (not bytes) of an answer, 0 = no limit */
    int64_t max_file_size;    /* bytes; larger knowledge files are skipped */
    char *greeting_zh, *greeting_en;
    char *thanks_zh, *thanks_en;
    char *goodbye_zh, *goodbye_en;
    char *handoff_zh, *handoff_en;
    bool llm_enabled;
    char *llm_base_url; /* e.g. "https://api.openai.com" (without /v1/...) */
    char *llm_model;
    struct wb_secret llm_api_key;
    int64_t llm_timeout_ms;
    int64_t llm_max_tokens;
    int64_t llm_passages; /* how many retrieved passages go in as context */
    char *llm_system_prompt;
};

/*
 * Fill conf with the schema's defaults, without a config file (tests,
 * benchmarks, the eval program). knowledge_dir is taken as given (NULL keeps
 * the default "knowledge", relative to the working directory). Free with
 * wb_bot_conf_clear(). Thread: any.
 */
void wb_bot_conf_defaults(struct wb_bot_conf *conf, const char *knowledge_dir);
void wb_bot_conf_clear(struct wb_bot_conf *conf);
/* Deep copy (strings and the secret are duplicated); free dst with wb_bot_conf_clear(). */
void wb_bot_conf_copy(struct wb_bot_conf *dst, const struct wb_bot_conf *src);

/*
 * True when the knowledge directory's *.md files differ (names, sizes or
 * modification times) from those the bot was built from. Cheap: one
 * readdir + stat per file, no reading. The core polls it every few seconds
 * on the main thread and, when true, builds a new bot with wb_bot_new() and
 * swaps it in between batches (as on SIGHUP). Thread: any.
 */
bool wb_bot_kb_changed(const struct wb_bot *bot);

enum wb_bot_action {
    WB_BOT_ANSWER = 0, /* text is an answer from the knowledge base */
    WB_BOT_SMALLTALK,  /* greeting, thanks, goodbye */
    WB_BOT_HANDOFF,    /* text tells the customer a person will help */
    WB_BOT_SILENT,     /* say nothing */
};

const char *wb_bot_action_str(enum wb_bot_action a);

struct wb_bot_query {
    const char *text;      /* the customer's new text */
    const char *prev_text; /* the customer's previous message in the conversation, may be NULL */
    size_t max_len;        /* the channel's reply length limit in bytes, 0 = none */
};

struct wb_bot_reply {
    enum wb_bot_action action;
    char *text;        /* owned; NULL for WB_BOT_SILENT */
    double confidence; /* in [0, 1] */
    char *article_id;  /* owned; the article answered from, may be NULL */
    char lang[8];      /* "zh" or "en" */
};

/*
 * Build a bot from the filled `bot` settings (borrowed). Loads the
 * knowledge base; broken files are logged and skipped.
 */
WB_NODISCARD enum wb_status wb_bot_new(const void *conf, struct wb_bot **out, struct wb_err *err);
void wb_bot_free(struct wb_bot *bot);

/* Number of articles indexed. */
size_t wb_bot_article_count(const struct wb_bot *bot);

/* Answer q; out is filled on WB_OK and freed with wb_bot_reply_free(). */
WB_NODISCARD enum wb_status wb_bot_answer(const struct wb_bot *bot, const struct wb_bot_query *q,
                                          struct wb_bot_reply *out, struct wb_err *err);
void wb_bot_reply_free(struct wb_bot_reply *r);

/*
 * Append to out (an unbounded wb_buf) how retrieval sees text: each query
 * term's weight, the confidence and the ranked articles. For tuning and
 * for an admin asking "why did the bot say that". Thread: any.
 */
struct wb_buf;
void wb_bot_explain(const struct wb_bot *bot, const char *text, struct wb_buf *out);

/*
 * Optional LLM (OpenAI-compatible /v1/chat/completions). The bot performs
 * no I/O: for a message wb_bot_answer() answered (WB_BOT_ANSWER) and when
 * wb_bot_llm_enabled(), the core
 *   1. calls wb_bot_llm_request() on the core thread: method, URL,
 *      headers (with the key) and JSON body, in arena a;
 *   2. hands the request to its HTTP thread with wb_bot_llm_timeout_ms()
 *      and goes on with other work (the reply waits, not the thread);
 *   3. when the response (or a timeout / transport error) comes back,
 *      calls wb_bot_llm_apply() and sends reply->text.
 * On any error wb_bot_llm_apply() leaves the reply as retrieved (the
 * best passage), so the customer is answered either way. Thread: any.
 */
struct wb_arena;
struct wb_http_out;
struct wb_http_resp;

bool wb_bot_llm_enabled(const struct wb_bot *bot);
int64_t wb_bot_llm_timeout_ms(const struct wb_bot *bot);

/*
 * Build the request for q with the best passages as context. Returns
 * WB_ERR_NOTFOUND when the bot would not answer q from the knowledge base
 * (small talk, handoff): then no LLM call is made.
 */
WB_NODISCARD enum wb_status wb_bot_llm_request(const struct wb_bot *bot,
                                               const struct wb_bot_query *q, struct wb_arena *a,
                                               struct wb_http_out *out, struct wb_err *err);

/*
 * Apply the LLM's response to reply (from wb_bot_answer for the same q).
 * WB_OK: reply->text is the model's answer trimmed to max_len bytes, or,
 * when the model said the passages do not answer the question, reply
 * becomes a WB_BOT_HANDOFF with the configured text. On error, reply is
 * left unchanged (the retrieved passage) and err says why.
 */
WB_NODISCARD enum wb_status wb_bot_llm_apply(const struct wb_bot *bot,
                                             const struct wb_http_resp *resp, size_t max_len,
                                             struct wb_bot_reply *reply, struct wb_err *err);

/* Bytes held by the index and article tables (not the article text). Thread: any. */
size_t wb_bot_index_memory(const struct wb_bot *bot);

#endif
