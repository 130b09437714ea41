/*
 * llm.h - OpenAI-compatible chat completions: build the request, read the
 * response. Pure: no network, no clock, no logging; the core's HTTP thread
 * performs the request. Thread: any.
 */
#ifndef WB_BOT_LLM_H
#define WB_BOT_LLM_H

#include <warbler/buf.h>
#include <warbler/common.h>
#include <warbler/connector.h>

struct wb_llm_params {
    const char *base_url; /* "https://host" or "https://host/v1" */
    const char *model;
    const char *system_prompt;
    const struct wb_secret *api_key; /* may be NULL or empty: no Authorization header */
    int64_t max_tokens;
};

struct wb_llm_passage {
    const char *title; /* the article's title, with its context */
    const char *text;
};

/* What the model is asked: the question, its context and the passages (borrowed). */
struct wb_llm_question {
    const char *text;
    const char *prev; /* the previous message when it was used, or NULL */
    const char *lang; /* "zh" or "en": the language to answer in */
    const struct wb_llm_passage *passages;
    size_t n_passages;
};

/*
 * Fill out (strings in arena a) with POST {base}/v1/chat/completions whose
 * JSON body carries the system prompt, the passages and the question.
 * Note: the Authorization header (with the key) lives in the arena.
 */
WB_NODISCARD enum wb_status wb_llm_build(const struct wb_llm_params *p,
                                         const struct wb_llm_question *q, struct wb_arena *a,
                                         struct wb_http_out *out, struct wb_err *err);

/*
 * Read a response. WB_OK: *text_out (owned) is the answer and *handoff_out
 * tells whether the model declined (its reply began with HANDOFF).
 * Errors: the transport's status (WB_ERR_TIMEOUT, _IO, _TLS), WB_ERR_AUTH
 * (401/403), WB_ERR_BUSY (429, 5xx), WB_ERR_PARSE (not the expected JSON
 * or an empty answer). On any error the caller answers with the passage.
 */
WB_NODISCARD enum wb_status wb_llm_read(const struct wb_http_resp *resp, char **text_out,
                                        bool *handoff_out, struct wb_err *err);

#endif
