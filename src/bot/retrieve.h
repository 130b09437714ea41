/*
 * retrieve.h - query terms, ranking and confidence over a built index.
 *
 * Pure given an index: no I/O, no clock. Thread: any.
 */
#ifndef WB_BOT_RETRIEVE_H
#define WB_BOT_RETRIEVE_H

#include <warbler/common.h>

#include "index.h"
#include "kb_parse.h"

struct wb_ret_term {
    int64_t term;       /* index term, -1 when the knowledge base never has it */
    float f;            /* query weight: 1 content, 0.5 weak (a Han function char), 0 filler */
    float scale;        /* 1 for the current message, less for the previous turn's */
    float denom;        /* weight in the confidence denominator */
    bool current;       /* from the customer's new message */
    char s[WB_TOK_MAX]; /* the term, for explanations */
};

struct wb_ret_query {
    struct wb_ret_term *v;
    size_t n, cap;
};

#define WB_RET_TOP 8

struct wb_ret_result {
    size_t n_hits;
    struct wb_idx_hit hits[WB_RET_TOP];
    double confidence;  /* of hits[0], in [0, 1] */
    double cov_all;     /* matched share of the query's weight in hits[0] */
    double cov_current; /* the same over the new message's terms only */
    double matched;     /* idf mass matched in hits[0] */
};

/* Add the terms of text (n bytes) with a scale (1 = the new message). Duplicates merge. */
void wb_ret_query_add(const struct wb_idx *idx, struct wb_ret_query *q, const char *text, size_t n,
                      float scale, bool current);
void wb_ret_query_free(struct wb_ret_query *q);
/* Number of content terms (weight 1) from the new message, known to the index or not. */
size_t wb_ret_query_content(const struct wb_ret_query *q);

/*
 * Rank and compute the confidence of the best hit. twin (may be NULL) maps
 * each document to its translation or -1: a term matched by either
 * version counts as covered, so a mixed question (Pro plan 多少钱) is
 * judged against the article, not one language of it.
 */
void wb_ret_run(const struct wb_idx *idx, const int32_t *twin, const struct wb_ret_query *q,
                struct wb_ret_result *out);

/* Coverage of q by doc (and its twin): fills cov_all, cov_current, matched, confidence. */
void wb_ret_judge(const struct wb_idx *idx, const int32_t *twin, const struct wb_ret_query *q,
                  uint32_t doc, struct wb_ret_result *out);

/*
 * Confidence from the matched share of the query weight (coverage) and the
 * matched idf mass: cov * min(1, matched / evidence). Pure; table-tested.
 */
double wb_ret_confidence(double cov, double matched, double evidence);

/*
 * The articles' titles, passages and summaries as index terms, computed once
 * when the bot is built, so that choosing a passage or matching a title per
 * question needs no tokenizing and no term lookups. A passage or summary list
 * holds each known term once, in order of first occurrence (the order its
 * score adds up in); a title list holds every token in order, WB_RET_NO_TERM
 * for one the index lacks. Read-only once built (any thread).
 */
#define WB_RET_NO_TERM UINT32_MAX

struct wb_ret_texts {
    uint32_t *terms; /* every list, back to back */
    uint32_t *off;   /* list k is terms[off[k] .. off[k + 1]) */
    uint32_t *first; /* per article: its title's list; passages follow, then the summary's */
    size_t n_terms, terms_cap;
    size_t n_lists, lists_cap;
    size_t n_articles;
};

/* Build t for articles v[0..n) over idx (which indexed them). Free with wb_ret_texts_free(). */
void wb_ret_texts_build(struct wb_ret_texts *t, const struct wb_idx *idx,
                        const struct wb_kb_article *v, size_t n);
void wb_ret_texts_free(struct wb_ret_texts *t);
size_t wb_ret_texts_memory(const struct wb_ret_texts *t);
/* The title terms of article art (see above); *n is their count. */
const uint32_t *wb_ret_title_terms(const struct wb_ret_texts *t, size_t art, size_t *n);

/*
 * The passage of a (article number art of t) that best matches q (by
 * matched query weight); when none matches, the summary's place (-1) if a
 * has a summary, else 0.
 */
long wb_ret_best_passage(const struct wb_ret_texts *t, const struct wb_ret_query *q, size_t art,
                         const struct wb_kb_article *a);

#endif
