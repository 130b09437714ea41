/*
 * index.h - a small immutable in-memory BM25 index.
 *
 * Built once per knowledge base (wb_idx_builder), then read by any number
 * of threads. Documents are numbered 0.. in the order they were added.
 * Thread: building on one thread; a built index is read-only (any thread).
 */
#ifndef WB_BOT_INDEX_H
#define WB_BOT_INDEX_H

#include <warbler/common.h>

#include "tokenize.h"

struct wb_idx;
struct wb_idx_builder;

struct wb_idx_builder *wb_idx_builder_new(void);
/* Add the terms of one field of the current document with a weight (title > body). */
void wb_idx_doc_add(struct wb_idx_builder *b, const struct wb_toks *t, float weight);
/* Close the current document; returns its number. */
uint32_t wb_idx_doc_end(struct wb_idx_builder *b);
/* Turn the builder (consumed) into an index. */
struct wb_idx *wb_idx_build(struct wb_idx_builder *b);
void wb_idx_builder_free(struct wb_idx_builder *b);
void wb_idx_free(struct wb_idx *idx);

size_t wb_idx_doc_count(const struct wb_idx *idx);
size_t wb_idx_term_count(const struct wb_idx *idx);
/* Bytes held by the index (postings, terms, tables). */
size_t wb_idx_memory(const struct wb_idx *idx);

/* Term number, or -1 when the term never occurs. */
int64_t wb_idx_term(const struct wb_idx *idx, const char *s, size_t n);
uint32_t wb_idx_df(const struct wb_idx *idx, uint32_t term);
/* BM25 idf: log(1 + (N - df + 0.5) / (df + 0.5)); df 0 gives the largest value. */
double wb_idx_idf_df(const struct wb_idx *idx, uint32_t df);
/* Weighted frequency of term in doc, 0 when absent (binary search). */
float wb_idx_tf(const struct wb_idx *idx, uint32_t term, uint32_t doc);

struct wb_idx_qterm {
    uint32_t term;
    float weight; /* query-side weight (1 normal, less for weak terms) */
};

struct wb_idx_hit {
    uint32_t doc;
    float score;
};

/*
 * Score every document containing a query term with BM25 (k1 1.2, b 0.75)
 * and return up to k best hits in hits_out, best first. Thread: any.
 */
size_t wb_idx_search(const struct wb_idx *idx, const struct wb_idx_qterm *q, size_t nq,
                     struct wb_idx_hit *hits_out, size_t k);

/* The BM25 contribution of one term occurrence tf in doc (without idf or query weight). */
double wb_idx_tf_part(const struct wb_idx *idx, float tf, uint32_t doc);

#endif
