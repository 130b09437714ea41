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
    char *text;          /* owned; NULL for WB_BOT_SILENT */
    double confidence;   /* in [0, 1] */
    char *article_id;    /* owned; the article answered from, may be NULL */
    char lang[8];        /* "zh" or "en" */
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

#endif
