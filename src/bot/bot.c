/*
 * bot.c - the bot: build from settings, answer or hand off.
 *
 * Design: wb_bot_new() reads the knowledge directory, parses every file
 * (kb_parse.c), indexes every article (index.c) and links the Chinese and
 * English versions of an article (same id). The result is immutable:
 * reload means building a new bot and swapping the pointer, so a message
 * in flight always sees one complete knowledge base.
 *
 * Answering: small talk gets its configured reply; otherwise retrieval
 * ranks articles (retrieve.c) and the bot answers only when the
 * confidence reaches the threshold, with the best passage of the best
 * article in the customer's language, trimmed to the channel's limit.
 * A wrong confident answer is worse than a handoff, so anything below the
 * threshold hands off. A short follow-up (那电商呢？) is retried with the
 * previous message's terms at a lower weight, and is answered only if the
 * new message's own terms are matched too.
 *
 * Thread: wb_bot_new/free on the building thread; the rest on any thread.
 */
#include <stdlib.h>
#include <string.h>

#include <warbler/log.h>

#include "bot.h"
#include "index.h"
#include "kb_load.h"
#include "llm.h"
#include "retrieve.h"
#include "talk.h"
#include "text.h"

#define W_TITLE            3.0f
#define W_KEYWORDS         2.5f
#define W_FILE_KEYWORDS    1.0f
#define W_CONTEXT          1.0f
#define W_BODY             1.0f
#define PREV_SCALE         0.6f
#define FOLLOWUP_MAX_TERMS 3

struct wb_bot {
    struct wb_bot_conf conf;
    struct wb_kb kb;
    struct wb_idx *idx;
    struct wb_ret_texts texts; /* titles and passages as terms, for per-question work */
    int32_t *twin;             /* per article: the same id in the other language, -1 if none */
};

const char *wb_bot_action_str(enum wb_bot_action a)
{
    switch (a) {
    case WB_BOT_ANSWER:
        return "answer";
    case WB_BOT_SMALLTALK:
        return "smalltalk";
    case WB_BOT_HANDOFF:
        return "handoff";
    case WB_BOT_SILENT:
        return "silent";
    }
    return "unknown";
}

static void add_field(struct wb_idx_builder *b, const char *s, float w)
{
    if (s == NULL || s[0] == '\0') {
        return;
    }
    struct wb_toks t = { NULL, 0, 0 };
    wb_tok_text(s, strlen(s), &t);
    wb_idx_doc_add(b, &t, w);
    wb_toks_free(&t);
}

static struct wb_idx *build_index(const struct wb_kb *kb)
{
    struct wb_idx_builder *b = wb_idx_builder_new();
    for (size_t i = 0; i < kb->n; i++) {
        const struct wb_kb_article *a = &kb->v[i];
        add_field(b, a->title, W_TITLE);
        add_field(b, a->keywords, W_KEYWORDS);
        add_field(b, a->file_keywords, W_FILE_KEYWORDS);
        add_field(b, a->context, W_CONTEXT);
        add_field(b, a->summary, W_BODY);
        for (size_t p = 0; p < a->n_passages; p++) {
            if (a->passages[p] != a->summary) {
                add_field(b, a->passages[p], W_BODY);
            }
        }
        (void)wb_idx_doc_end(b);
    }
    return wb_idx_build(b);
}

static const struct wb_kb *sort_kb;

static int cmp_by_id(const void *x, const void *y)
{
    const struct wb_kb_article *a = &sort_kb->v[*(const int32_t *)x];
    const struct wb_kb_article *b = &sort_kb->v[*(const int32_t *)y];
    int c = strcmp(a->id, b->id);
    return c != 0 ? c : *(const int32_t *)x - *(const int32_t *)y;
}

/* Link articles that share an id across languages. Runs on the building thread only. */
static int32_t *link_twins(const struct wb_kb *kb)
{
    int32_t *twin = wb_malloc((kb->n ? kb->n : 1) * sizeof(*twin));
    int32_t *ord = wb_malloc((kb->n ? kb->n : 1) * sizeof(*ord));
    for (size_t i = 0; i < kb->n; i++) {
        twin[i] = -1;
        ord[i] = (int32_t)i;
    }
    sort_kb = kb;
    qsort(ord, kb->n, sizeof(*ord), cmp_by_id);
    sort_kb = NULL;
    for (size_t i = 0; i + 1 < kb->n; i++) {
        const struct wb_kb_article *a = &kb->v[ord[i]];
        for (size_t j = i + 1; j < kb->n && strcmp(kb->v[ord[j]].id, a->id) == 0; j++) {
            if (strcmp(kb->v[ord[j]].lang, a->lang) != 0) {
                twin[ord[i]] = twin[ord[i]] < 0 ? ord[j] : twin[ord[i]];
                twin[ord[j]] = twin[ord[j]] < 0 ? ord[i] : twin[ord[j]];
            }
        }
    }
    free(ord);
    return twin;
}

enum wb_status wb_bot_new(const void *conf, struct wb_bot **out, struct wb_err *err)
{
    const struct wb_bot_conf *c = conf;
    *out = NULL;
    if (c == NULL || c->knowledge_dir == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "bot: knowledge_dir is not set");
    }
    struct wb_bot *b = wb_calloc(1, sizeof(*b));
    wb_bot_conf_copy(&b->conf, c);
    struct wb_kb_limits lim = { (size_t)c->max_file_size, 100000 };
    int64_t t0 = wb_mono_ms();
    wb_kb_load(c->knowledge_dir, &lim, &b->kb);
    b->idx = build_index(&b->kb);
    wb_ret_texts_build(&b->texts, b->idx, b->kb.v, b->kb.n);
    b->twin = link_twins(&b->kb);
    wb_log(WB_LOG_INFO, "bot: %zu articles from %zu files (%zu skipped) in %s, %lld ms", b->kb.n,
           b->kb.n_files, b->kb.n_broken, c->knowledge_dir, (long long)(wb_mono_ms() - t0));
    *out = b;
    return WB_OK;
}

void wb_bot_free(struct wb_bot *bot)
{
    if (bot == NULL) {
        return;
    }
    wb_idx_free(bot->idx);
    wb_ret_texts_free(&bot->texts);
    wb_kb_free(&bot->kb);
    free(bot->twin);
    wb_bot_conf_clear(&bot->conf);
    free(bot);
}

size_t wb_bot_article_count(const struct wb_bot *bot)
{
    return bot->kb.n;
}

size_t wb_bot_index_memory(const struct wb_bot *bot)
{
    return wb_idx_memory(bot->idx) + wb_ret_texts_memory(&bot->texts) +
           bot->kb.cap * (sizeof(*bot->kb.v) + sizeof(char *)) + bot->kb.n * sizeof(int32_t);
}

bool wb_bot_kb_changed(const struct wb_bot *bot)
{
    return wb_kb_signature(bot->conf.knowledge_dir) != bot->kb.sig;
}

/* What retrieval decided for one query; the query terms stay for passage choice. */
struct decision {
    enum wb_talk talk;
    const char *lang; /* the customer's language */
    struct wb_ret_query q;
    struct wb_ret_result r;
    double confidence;
    bool used_prev;
};

static void strip_talk(const char *p, size_t n, const char **rest, size_t *rest_n)
{
    size_t off;
    const char *lang;
    (void)wb_talk_detect(p, n, &off, &lang);
    *rest = p + off;
    *rest_n = n - off;
}

static bool same_article(const struct wb_bot *bot, uint32_t a, uint32_t b)
{
    return a == b || bot->twin[a] == (int32_t)b;
}

/*
 * A follow-up rarely asks for the answer the customer just got: when the
 * combined query's best article is the previous message's own best, prefer
 * the next one that covers the new message at least as well.
 */
static void avoid_previous_answer(const struct wb_bot *bot, const char *pt, size_t pn,
                                  const struct wb_ret_query *c, struct wb_ret_result *r)
{
    struct wb_ret_query pq = { NULL, 0, 0 };
    struct wb_ret_result pr;
    wb_ret_query_add(bot->idx, &pq, pt, pn, 1.0f, true);
    wb_ret_run(bot->idx, bot->twin, &pq, &pr);
    wb_ret_query_free(&pq);
    if (r->n_hits < 2 || pr.n_hits == 0 || !same_article(bot, r->hits[0].doc, pr.hits[0].doc)) {
        return;
    }
    for (size_t i = 1; i < r->n_hits; i++) {
        struct wb_ret_result alt = *r;
        if (same_article(bot, r->hits[i].doc, r->hits[0].doc) ||
            r->hits[i].score < 0.5f * r->hits[0].score) {
            continue;
        }
        wb_ret_judge(bot->idx, bot->twin, c, r->hits[i].doc, &alt);
        if (alt.cov_current >= r->cov_current - 1e-9) {
            alt.hits[0] = r->hits[i];
            alt.hits[i] = r->hits[0];
            *r = alt;
            return;
        }
    }
}

/* Retry with the previous message when the new one leans on it. */
static void try_followup(const struct wb_bot *bot, const struct wb_bot_query *q, const char *t,
                         size_t tn, struct decision *d)
{
    const char *pt;
    size_t pn;
    strip_talk(q->prev_text, strlen(q->prev_text), &pt, &pn);
    bool cue = wb_talk_is_followup(t, tn);
    bool short_q = wb_ret_query_content(&d->q) <= FOLLOWUP_MAX_TERMS;
    if (pn == 0 || !(cue || (short_q && d->confidence < bot->conf.threshold))) {
        return;
    }
    struct wb_ret_query c = { NULL, 0, 0 };
    struct wb_ret_result r;
    wb_ret_query_add(bot->idx, &c, t, tn, 1.0f, true);
    wb_ret_query_add(bot->idx, &c, pt, pn, PREV_SCALE, false);
    wb_ret_run(bot->idx, bot->twin, &c, &r);
    avoid_previous_answer(bot, pt, pn, &c, &r);
    /* the new message must be understood too, not only the old one */
    double conf = r.cov_current < 0.5
                      ? (r.confidence < r.cov_current ? r.confidence : r.cov_current)
                      : r.confidence;
    bool better = cue ? conf >= bot->conf.threshold || conf > d->confidence : conf > d->confidence;
    if (better) {
        wb_ret_query_free(&d->q);
        d->q = c;
        d->r = r;
        d->confidence = conf;
        d->used_prev = true;
    } else {
        wb_ret_query_free(&c);
    }
}

/* A title term as wb_idx_term() gives it: -1 for a token the index lacks. */
static int64_t title_term(uint32_t t)
{
    return t == WB_RET_NO_TERM ? -1 : (int64_t)t;
}

/*
 * The question is the article's title in other words ("What is Larkspur?"
 * for "What is Larkspur?"): every query term is in the title and covers
 * at least half of it. Common words then suffice, which the evidence rule
 * would otherwise refuse.
 */
static bool is_title_match(const struct wb_bot *bot, const struct wb_ret_query *q, uint32_t doc)
{
    size_t tn;
    const uint32_t *t = wb_ret_title_terms(&bot->texts, doc, &tn);
    size_t in_title = 0, n_q = 0, title_hit = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (q->v[i].f < 1.0f) {
            continue;
        }
        n_q++;
        for (size_t j = 0; j < tn; j++) {
            if (title_term(t[j]) == q->v[i].term && q->v[i].term >= 0) {
                in_title++;
                break;
            }
        }
    }
    for (size_t j = 0; j < tn; j++) {
        for (size_t i = 0; i < q->n; i++) {
            if (q->v[i].term == title_term(t[j])) {
                title_hit++;
                break;
            }
        }
    }
    return n_q > 0 && in_title == n_q && 2 * title_hit >= tn;
}

static void decide(const struct wb_bot *bot, const struct wb_bot_query *q, struct decision *d)
{
    size_t n = strlen(q->text);
    size_t off;
    memset(d, 0, sizeof(*d));
    d->talk = wb_talk_detect(q->text, n, &off, &d->lang);
    const char *t = q->text + off;
    size_t tn = n - off;
    if (off < n && wb_talk_has_content(t, tn)) {
        d->talk = WB_TALK_NONE;
        d->lang = wb_tok_lang(t, tn);
    }
    if (d->talk != WB_TALK_NONE || bot->kb.n == 0) {
        return;
    }
    wb_ret_query_add(bot->idx, &d->q, t, tn, 1.0f, true);
    wb_ret_run(bot->idx, bot->twin, &d->q, &d->r);
    d->confidence = d->r.confidence;
    if (d->r.n_hits > 0 && is_title_match(bot, &d->q, d->r.hits[0].doc)) {
        d->confidence = d->r.cov_all > d->confidence ? d->r.cov_all : d->confidence;
    }
    if (q->prev_text != NULL && q->prev_text[0] != '\0') {
        try_followup(bot, q, t, tn, d);
    }
}

/* The article to answer with: the best hit, in the customer's language when the KB has it. */
static size_t pick_article(const struct wb_bot *bot, uint32_t doc, const char *lang)
{
    const struct wb_kb_article *a = &bot->kb.v[doc];
    if (strcmp(a->lang, lang) != 0 && bot->twin[doc] >= 0) {
        return (size_t)bot->twin[doc];
    }
    return doc;
}

static const char *passage_text(const struct wb_kb_article *a, long p)
{
    return p < 0 ? a->summary : a->passages[p];
}

static char *answer_text(const struct wb_bot *bot, const struct decision *d, size_t art,
                         size_t max_len)
{
    const struct wb_kb_article *a = &bot->kb.v[art];
    const char *p = passage_text(a, wb_ret_best_passage(&bot->texts, &d->q, art, a));
    struct wb_buf b;
    wb_buf_init(&b, 0);
    if (strncmp(p, "- ", 2) == 0) {
        /* a bare list needs its heading to make sense */
        wb_bot_putf(&b, "%s%s\n", a->title, strcmp(a->lang, "zh") == 0 ? "：" : ":");
    }
    wb_bot_put(&b, p, strlen(p));
    char *r = wb_bot_trim_text(b.data, (size_t)bot->conf.max_answer_chars, max_len);
    wb_buf_free(&b);
    return r;
}

static const char *talk_reply(const struct wb_bot_conf *c, enum wb_talk t, bool zh)
{
    switch (t) {
    case WB_TALK_GREETING:
        return zh ? c->greeting_zh : c->greeting_en;
    case WB_TALK_THANKS:
        return zh ? c->thanks_zh : c->thanks_en;
    case WB_TALK_GOODBYE:
        return zh ? c->goodbye_zh : c->goodbye_en;
    default:
        return NULL;
    }
}

static void set_reply(struct wb_bot_reply *out, enum wb_bot_action act, char *text,
                      const char *lang)
{
    out->action = act;
    out->text = text;
    /* what snprintf "%s" would write, without formatting on every answer */
    size_t k = strnlen(lang, sizeof(out->lang) - 1);
    memcpy(out->lang, lang, k);
    out->lang[k] = '\0';
}

enum wb_status wb_bot_answer(const struct wb_bot *bot, const struct wb_bot_query *q,
                             struct wb_bot_reply *out, struct wb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (q == NULL || q->text == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "bot: no query text");
    }
    const struct wb_bot_conf *c = &bot->conf;
    struct decision d;
    decide(bot, q, &d);
    bool zh = strcmp(d.lang, "zh") == 0;
    size_t max = q->max_len;
    if (d.talk == WB_TALK_FILLER) {
        set_reply(out, WB_BOT_SILENT, NULL, d.lang);
    } else if (d.talk != WB_TALK_NONE) {
        const char *t = talk_reply(c, d.talk, zh);
        set_reply(out, WB_BOT_SMALLTALK, wb_bot_trim_text(t != NULL ? t : "", 0, max), d.lang);
        out->confidence = 1.0;
    } else if (d.r.n_hits > 0 && d.confidence >= c->threshold) {
        size_t art = pick_article(bot, d.r.hits[0].doc, d.lang);
        const struct wb_kb_article *a = &bot->kb.v[art];
        set_reply(out, WB_BOT_ANSWER, answer_text(bot, &d, art, max), a->lang);
        out->article_id = wb_strdup(a->id);
        out->confidence = d.confidence;
    } else {
        set_reply(out, WB_BOT_HANDOFF, wb_bot_trim_text(zh ? c->handoff_zh : c->handoff_en, 0, max),
                  d.lang);
        out->confidence = d.confidence;
    }
    wb_ret_query_free(&d.q);
    return WB_OK;
}

void wb_bot_reply_free(struct wb_bot_reply *r)
{
    if (r == NULL) {
        return;
    }
    WB_FREE(r->text);
    WB_FREE(r->article_id);
}

void wb_bot_explain(const struct wb_bot *bot, const char *text, struct wb_buf *out)
{
    struct wb_ret_query q = { NULL, 0, 0 };
    struct wb_ret_result r;
    wb_ret_query_add(bot->idx, &q, text, strlen(text), 1.0f, true);
    wb_ret_run(bot->idx, bot->twin, &q, &r);
    wb_bot_putf(out, "terms:");
    for (size_t i = 0; i < q.n; i++) {
        wb_bot_putf(out, " %s%s:%.2f", q.v[i].s, q.v[i].term >= 0 ? "" : "(unseen)", q.v[i].denom);
    }
    wb_bot_putf(out, "\nconfidence %.2f coverage %.2f matched %.2f\n", r.confidence, r.cov_all,
                r.matched);
    for (size_t i = 0; i < r.n_hits; i++) {
        const struct wb_kb_article *a = &bot->kb.v[r.hits[i].doc];
        wb_bot_putf(out, "  %.3f %s (%s) %s\n", r.hits[i].score, a->id, a->lang, a->title);
    }
    wb_ret_query_free(&q);
}

bool wb_bot_llm_enabled(const struct wb_bot *bot)
{
    return bot->conf.llm_enabled;
}

int64_t wb_bot_llm_timeout_ms(const struct wb_bot *bot)
{
    return bot->conf.llm_timeout_ms;
}

#define LLM_MAX_PASSAGES 10

/* The best passage of each of the best articles (in the customer's language). */
static size_t llm_passages(const struct wb_bot *bot, const struct decision *d, struct wb_arena *a,
                           struct wb_llm_passage *ps, size_t k)
{
    size_t n = 0;
    for (size_t i = 0; i < d->r.n_hits && n < k; i++) {
        if (i > 0 && d->r.hits[i].score < 0.5f * d->r.hits[0].score) {
            break;
        }
        size_t art = pick_article(bot, d->r.hits[i].doc, d->lang);
        bool dup = false;
        for (size_t j = 0; j < i; j++) {
            dup = dup || pick_article(bot, d->r.hits[j].doc, d->lang) == art;
        }
        if (dup) {
            continue;
        }
        const struct wb_kb_article *ar = &bot->kb.v[art];
        const char *text = passage_text(ar, wb_ret_best_passage(&bot->texts, &d->q, art, ar));
        ps[n].title = ar->context[0] != '\0' ? wb_arena_printf(a, "%s > %s", ar->context, ar->title)
                                             : ar->title;
        ps[n].text = text;
        n++;
    }
    return n;
}

enum wb_status wb_bot_llm_request(const struct wb_bot *bot, const struct wb_bot_query *q,
                                  struct wb_arena *a, struct wb_http_out *out, struct wb_err *err)
{
    struct decision d;
    decide(bot, q, &d);
    if (d.talk != WB_TALK_NONE || d.r.n_hits == 0 || d.confidence < bot->conf.threshold) {
        wb_ret_query_free(&d.q);
        return wb_err_set(err, WB_ERR_NOTFOUND, "bot: no knowledge-base answer to rewrite");
    }
    struct wb_llm_passage ps[LLM_MAX_PASSAGES];
    size_t k = (size_t)bot->conf.llm_passages;
    size_t n = llm_passages(bot, &d, a, ps, k < LLM_MAX_PASSAGES ? k : LLM_MAX_PASSAGES);
    const struct wb_bot_conf *c = &bot->conf;
    struct wb_llm_params p = { c->llm_base_url, c->llm_model, c->llm_system_prompt, &c->llm_api_key,
                               c->llm_max_tokens };
    struct wb_llm_question lq = { q->text, d.used_prev ? q->prev_text : NULL, d.lang, ps, n };
    enum wb_status st = wb_llm_build(&p, &lq, a, out, err);
    wb_ret_query_free(&d.q);
    return st;
}

enum wb_status wb_bot_llm_apply(const struct wb_bot *bot, const struct wb_http_resp *resp,
                                size_t max_len, struct wb_bot_reply *reply, struct wb_err *err)
{
    char *text;
    bool handoff;
    enum wb_status st = wb_llm_read(resp, &text, &handoff, err);
    if (st != WB_OK) {
        return st;
    }
    bool zh = strcmp(reply->lang, "zh") == 0;
    free(reply->text);
    if (handoff) {
        reply->action = WB_BOT_HANDOFF;
        reply->text =
            wb_bot_trim_text(zh ? bot->conf.handoff_zh : bot->conf.handoff_en, 0, max_len);
        WB_FREE(reply->article_id);
    } else {
        reply->text = wb_bot_trim_text(text, 0, max_len);
    }
    free(text);
    return WB_OK;
}
