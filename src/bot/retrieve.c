/*
 * retrieve.c - from a question to ranked articles and a confidence.
 *
 * Design: ranking is BM25 over the index (title and keywords weigh more,
 * see bot.c). Confidence answers a different question than rank: "does
 * the best article cover what was asked?". It is the share of the query's
 * weight that the best article matches, where each query term weighs its
 * idf; a term the knowledge base has never seen ("weather", "航班") weighs
 * as the rarest term, so an off-topic question whose only hit is a common
 * word gets a low confidence, however well that word matches. Han
 * bigrams with a function character (你们, 怎么, 的退) weigh less or
 * nothing. An unseen Han bigram weighs by how many of its characters no
 * known neighbouring bigram holds (han_novelty): a bigram spanning two
 * known words (器几 in 刷卡器几天) means nothing, 天气 means a new topic. A minimum matched idf
 * mass ("evidence") keeps one weak shared word from looking like full coverage.
 *
 * Choosing the passage to answer with is per question too, so it works on
 * term lists made once when the bot is built (wb_ret_texts): tokenizing
 * an article's passages again for every question cost more than all the
 * rest of an answer.
 *
 * Thread: any (pure over an immutable index).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "retrieve.h"

#define EVIDENCE 2.0

static float term_f(const struct wb_tok *t)
{
    switch (t->kind) {
    case WB_TOK_HAN2:
        return t->n_stop == 0 ? 1.0f : t->n_stop == 1 ? 0.5f : 0.0f;
    case WB_TOK_HAN1:
        return t->n_stop == 0 ? 0.5f : 0.0f;
    case WB_TOK_NUM:
        return 0.5f;
    default:
        return 1.0f;
    }
}

/*
 * How much of an unseen Han bigram is new vocabulary: each of its two
 * characters counts half unless a known neighbouring bigram already holds
 * it (器 in 刷卡器几天 is in 卡器) or it is a function character. An
 * unseen bigram spanning two known words (器几) thus weighs nothing, and
 * one made of unknown characters (天气) weighs fully.
 */
static float han_novelty(const struct wb_toks *toks, const int64_t *ids, size_t i)
{
    const struct wb_tok *t = &toks->v[i];
    size_t k = 0;
    uint32_t a = wb_utf8_next(t->s, t->len, &k);
    uint32_t b = wb_utf8_next(t->s, t->len, &k);
    bool left = wb_tok_is_han_stop(a) || (t->joined && i > 0 && ids[i - 1] >= 0);
    bool right =
        wb_tok_is_han_stop(b) || (i + 1 < toks->n && toks->v[i + 1].joined && ids[i + 1] >= 0);
    /* one new character is weak evidence of a new topic; two are a new word */
    return left && right ? 0.0f : left || right ? 0.25f : 0.7f;
}

static float term_denom(const struct wb_idx *idx, const struct wb_toks *toks, const int64_t *ids,
                        size_t i)
{
    const struct wb_tok *t = &toks->v[i];
    float f = term_f(t);
    if (t->kind == WB_TOK_NUM) {
        return 0; /* numbers rank but say little about the topic (15 staff, $15) */
    }
    if (ids[i] >= 0) {
        return f * (float)wb_idx_idf_df(idx, wb_idx_df(idx, (uint32_t)ids[i]));
    }
    float u = 1.0f;
    if (t->kind == WB_TOK_HAN2) {
        /* a function character makes it noise, whatever the other one is */
        u = t->n_stop > 0 ? 0.0f : han_novelty(toks, ids, i);
    }
    return u * (float)wb_idx_idf_df(idx, 0);
}

void wb_ret_query_add(const struct wb_idx *idx, struct wb_ret_query *q, const char *text, size_t n,
                      float scale, bool current)
{
    struct wb_toks toks = { NULL, 0, 0 };
    wb_tok_text(text, n, &toks);
    int64_t *ids = wb_malloc((toks.n ? toks.n : 1) * sizeof(*ids));
    for (size_t i = 0; i < toks.n; i++) {
        ids[i] = wb_idx_term(idx, toks.v[i].s, toks.v[i].len);
    }
    for (size_t i = 0; i < toks.n; i++) {
        int64_t term = ids[i];
        float denom = term_denom(idx, &toks, ids, i);
        size_t j = 0;
        while (j < q->n && !(q->v[j].term == term && term >= 0)) {
            j++;
        }
        if (j < q->n) {
            q->v[j].scale = q->v[j].scale > scale ? q->v[j].scale : scale;
            q->v[j].current = q->v[j].current || current;
            continue;
        }
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 16;
            q->v = wb_realloc(q->v, q->cap * sizeof(*q->v));
        }
        struct wb_ret_term *rt = &q->v[q->n++];
        *rt = (struct wb_ret_term){ term, term_f(&toks.v[i]), scale, denom, current, "" };
        memcpy(rt->s, toks.v[i].s, (size_t)toks.v[i].len + 1);
    }
    free(ids);
    wb_toks_free(&toks);
}

void wb_ret_query_free(struct wb_ret_query *q)
{
    free(q->v);
    memset(q, 0, sizeof(*q));
}

size_t wb_ret_query_content(const struct wb_ret_query *q)
{
    size_t k = 0;
    for (size_t i = 0; i < q->n; i++) {
        k += q->v[i].current && q->v[i].denom > 0;
    }
    return k;
}

double wb_ret_confidence(double cov, double matched, double evidence)
{
    if (cov <= 0 || matched <= 0) {
        return 0;
    }
    double e = evidence > 0 ? matched / evidence : 1.0;
    double c = (cov > 1 ? 1 : cov) * (e > 1 ? 1 : e);
    return c < 0 ? 0 : c > 1 ? 1 : c;
}

void wb_ret_judge(const struct wb_idx *idx, const int32_t *twin, const struct wb_ret_query *q,
                  uint32_t doc, struct wb_ret_result *out)
{
    double num = 0, den = 0, cnum = 0, cden = 0;
    int32_t tw = twin != NULL ? twin[doc] : -1;
    for (size_t i = 0; i < q->n; i++) {
        const struct wb_ret_term *t = &q->v[i];
        bool hit =
            t->term >= 0 && (wb_idx_tf(idx, (uint32_t)t->term, doc) > 0 ||
                             (tw >= 0 && wb_idx_tf(idx, (uint32_t)t->term, (uint32_t)tw) > 0));
        den += t->denom * t->scale;
        num += hit ? t->denom * t->scale : 0;
        if (t->current) {
            cden += t->denom;
            cnum += hit ? t->denom : 0;
        }
    }
    out->cov_all = den > 0 ? num / den : 0;
    out->cov_current = cden > 0 ? cnum / cden : 0;
    out->matched = num;
    out->confidence = wb_ret_confidence(out->cov_all, out->matched, EVIDENCE);
}

void wb_ret_run(const struct wb_idx *idx, const int32_t *twin, const struct wb_ret_query *q,
                struct wb_ret_result *out)
{
    memset(out, 0, sizeof(*out));
    struct wb_idx_qterm stack_q[64] = { { 0, 0 } };
    struct wb_idx_qterm *iq = q->n <= 64 ? stack_q : wb_malloc(q->n * sizeof(*iq));
    size_t nq = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (q->v[i].term >= 0 && q->v[i].f > 0) {
            iq[nq++] = (struct wb_idx_qterm){ (uint32_t)q->v[i].term, q->v[i].f * q->v[i].scale };
        }
    }
    out->n_hits = wb_idx_search(idx, iq, nq, out->hits, WB_RET_TOP);
    if (iq != stack_q) {
        free(iq);
    }
    if (out->n_hits > 0) {
        wb_ret_judge(idx, twin, q, out->hits[0].doc, out);
    }
}

/* Start a list of t; the previous one ends where this one starts. */
static void texts_open(struct wb_ret_texts *t)
{
    if (t->n_lists + 2 > t->lists_cap) {
        t->lists_cap = t->lists_cap ? t->lists_cap * 2 : 256;
        t->off = wb_realloc(t->off, t->lists_cap * sizeof(*t->off));
    }
    t->off[t->n_lists] = (uint32_t)t->n_terms;
    t->off[t->n_lists + 1] = (uint32_t)t->n_terms;
}

static void texts_push(struct wb_ret_texts *t, uint32_t term)
{
    if (t->n_terms == t->terms_cap) {
        t->terms_cap = t->terms_cap ? t->terms_cap * 2 : 4096;
        t->terms = wb_realloc(t->terms, t->terms_cap * sizeof(*t->terms));
    }
    t->terms[t->n_terms++] = term;
}

/*
 * Append the list of text s (may be NULL: an empty list). unique: each
 * known term once (stamp[term] remembers the list that has it), unknown
 * terms dropped; else every token.
 */
static void texts_add(struct wb_ret_texts *t, const struct wb_idx *idx, const char *s, bool unique,
                      uint32_t *stamp)
{
    texts_open(t);
    struct wb_toks toks = { NULL, 0, 0 };
    if (s != NULL) {
        wb_tok_text(s, strlen(s), &toks);
    }
    uint32_t list = (uint32_t)t->n_lists + 1;
    for (size_t j = 0; j < toks.n; j++) {
        int64_t term = wb_idx_term(idx, toks.v[j].s, toks.v[j].len);
        if (!unique) {
            texts_push(t, term >= 0 ? (uint32_t)term : WB_RET_NO_TERM);
        } else if (term >= 0 && stamp[term] != list) {
            stamp[term] = list;
            texts_push(t, (uint32_t)term);
        }
    }
    wb_toks_free(&toks);
    t->off[++t->n_lists] = (uint32_t)t->n_terms;
}

void wb_ret_texts_build(struct wb_ret_texts *t, const struct wb_idx *idx,
                        const struct wb_kb_article *v, size_t n)
{
    memset(t, 0, sizeof(*t));
    size_t nt = wb_idx_term_count(idx);
    uint32_t *stamp = wb_calloc(nt ? nt : 1, sizeof(*stamp));
    t->first = wb_malloc((n ? n : 1) * sizeof(*t->first));
    t->n_articles = n;
    for (size_t a = 0; a < n; a++) {
        t->first[a] = (uint32_t)t->n_lists;
        texts_add(t, idx, v[a].title, false, stamp);
        for (size_t p = 0; p < v[a].n_passages; p++) {
            texts_add(t, idx, v[a].passages[p], true, stamp);
        }
        texts_add(t, idx, v[a].summary, true, stamp);
    }
    texts_open(t); /* so that off[n_lists] exists even with no articles */
    free(stamp);
    /* built once and kept for the bot's life: give back the growth slack */
    t->terms_cap = t->n_terms ? t->n_terms : 1;
    t->terms = wb_realloc(t->terms, t->terms_cap * sizeof(*t->terms));
    t->lists_cap = t->n_lists + 1;
    t->off = wb_realloc(t->off, t->lists_cap * sizeof(*t->off));
}

void wb_ret_texts_free(struct wb_ret_texts *t)
{
    free(t->terms);
    free(t->off);
    free(t->first);
    memset(t, 0, sizeof(*t));
}

size_t wb_ret_texts_memory(const struct wb_ret_texts *t)
{
    return t->terms_cap * sizeof(*t->terms) + t->lists_cap * sizeof(*t->off) +
           t->n_articles * sizeof(*t->first);
}

const uint32_t *wb_ret_title_terms(const struct wb_ret_texts *t, size_t art, size_t *n)
{
    uint32_t k = t->first[art];
    *n = t->off[k + 1] - t->off[k];
    return t->terms + t->off[k];
}

/* A 64-bit filter of the query terms that score passages: most passage terms miss it. */
static uint64_t query_mask(const struct wb_ret_query *q)
{
    uint64_t m = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (q->v[i].term >= 0 && q->v[i].f > 0) {
            m |= (uint64_t)1 << (q->v[i].term & 63);
        }
    }
    return m;
}

/*
 * Matched query weight of list k: each query term counts once. The list
 * holds each term once, in the passage's order, so the sum adds up in the
 * same order as over the passage's tokens.
 */
static double passage_score(const struct wb_ret_texts *t, size_t k, const struct wb_ret_query *q,
                            uint64_t mask)
{
    double s = 0;
    for (uint32_t j = t->off[k]; j < t->off[k + 1]; j++) {
        uint32_t term = t->terms[j];
        if (((mask >> (term & 63)) & 1) == 0) {
            continue;
        }
        for (size_t i = 0; i < q->n; i++) {
            if (q->v[i].term == (int64_t)term && q->v[i].f > 0) {
                s += q->v[i].denom * q->v[i].scale;
            }
        }
    }
    return s;
}

long wb_ret_best_passage(const struct wb_ret_texts *t, const struct wb_ret_query *q, size_t art,
                         const struct wb_kb_article *a)
{
    uint64_t mask = query_mask(q);
    size_t first = (size_t)t->first[art] + 1;
    long best = a->summary != NULL ? -1 : 0;
    double best_s = 0;
    for (size_t i = 0; i < a->n_passages; i++) {
        double s = passage_score(t, first + i, q, mask);
        if (s > best_s + 1e-9) {
            best_s = s;
            best = (long)i;
        }
    }
    if (a->summary != NULL && best >= 0 && best_s > 0) {
        /* the summary wins when it covers the question at least as well */
        if (passage_score(t, first + a->n_passages, q, mask) >= best_s - 1e-9) {
            best = -1;
        }
    }
    return best;
}
