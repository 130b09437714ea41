/*
 * index.c - in-memory BM25 index: term table + postings in one array.
 *
 * Design: a hash table of term strings (open addressing, FNV-1a) maps to
 * term numbers; each term's postings (doc, weighted tf) are a slice of one
 * array sorted by document (CSR layout), built in one counting pass after
 * all documents are in. Fields are folded into the term frequency with a
 * weight (a simplified BM25F), so a title hit counts more than a body hit.
 * Search keeps one float accumulator per document for the call: with
 * 10,000 documents that is 40 KB, cheaper than any hash of candidates,
 * and it keeps search free of shared mutable state.
 *
 * Thread: build on one thread; search from any thread.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

#define K1 1.2
#define B  0.75

struct term {
    uint32_t off; /* into pool */
    uint32_t len;
    uint32_t df;
    uint32_t post; /* first posting */
};

struct posting {
    uint32_t doc;
    float tf;
};

struct wb_idx {
    char *pool;
    size_t pool_len, pool_cap;
    struct term *terms;
    size_t n_terms, terms_cap;
    uint32_t *slots; /* term + 1, 0 = empty */
    size_t n_slots;
    struct posting *posts;
    size_t n_posts;
    float *dl; /* document lengths */
    size_t n_docs, docs_cap;
    double avgdl;
    double *norm; /* per document: BM25's length normalization, K1 * (1 - B + B * dl / avgdl) */
};

struct triple {
    uint32_t term;
    uint32_t doc;
    float tf;
};

struct wb_idx_builder {
    struct wb_idx *idx;
    struct triple *tr;
    size_t n_tr, tr_cap;
    uint32_t *seen_doc; /* per term: the last document that had it, +1 */
    size_t *seen_at;    /* per term: its triple in that document */
    size_t seen_cap;
    float cur_len;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint32_t *slot_of(const struct wb_idx *idx, const char *s, size_t n)
{
    size_t mask = idx->n_slots - 1;
    size_t i = (size_t)fnv(s, n) & mask;
    for (;;) {
        uint32_t *sl = &idx->slots[i];
        if (*sl == 0) {
            return sl;
        }
        const struct term *t = &idx->terms[*sl - 1];
        if (t->len == n && memcmp(idx->pool + t->off, s, n) == 0) {
            return sl;
        }
        i = (i + 1) & mask;
    }
}

static void rehash(struct wb_idx *idx)
{
    free(idx->slots);
    idx->n_slots = idx->n_slots ? idx->n_slots * 2 : 1024;
    idx->slots = wb_calloc(idx->n_slots, sizeof(*idx->slots));
    for (size_t t = 0; t < idx->n_terms; t++) {
        const struct term *te = &idx->terms[t];
        *slot_of(idx, idx->pool + te->off, te->len) = (uint32_t)t + 1;
    }
}

static uint32_t intern(struct wb_idx *idx, const char *s, size_t n)
{
    if ((idx->n_terms + 1) * 2 > idx->n_slots) {
        rehash(idx);
    }
    uint32_t *sl = slot_of(idx, s, n);
    if (*sl != 0) {
        return *sl - 1;
    }
    if (idx->pool_len + n > idx->pool_cap) {
        idx->pool_cap = (idx->pool_cap + n) * 2;
        idx->pool = wb_realloc(idx->pool, idx->pool_cap);
    }
    if (idx->n_terms == idx->terms_cap) {
        idx->terms_cap = idx->terms_cap ? idx->terms_cap * 2 : 1024;
        idx->terms = wb_realloc(idx->terms, idx->terms_cap * sizeof(*idx->terms));
    }
    memcpy(idx->pool + idx->pool_len, s, n);
    idx->terms[idx->n_terms] = (struct term){ (uint32_t)idx->pool_len, (uint32_t)n, 0, 0 };
    idx->pool_len += n;
    *sl = (uint32_t)idx->n_terms + 1;
    return (uint32_t)idx->n_terms++;
}

struct wb_idx_builder *wb_idx_builder_new(void)
{
    struct wb_idx_builder *b = wb_calloc(1, sizeof(*b));
    b->idx = wb_calloc(1, sizeof(*b->idx));
    rehash(b->idx);
    return b;
}

void wb_idx_doc_add(struct wb_idx_builder *b, const struct wb_toks *t, float weight)
{
    uint32_t doc = (uint32_t)b->idx->n_docs;
    for (size_t i = 0; i < t->n; i++) {
        uint32_t term = intern(b->idx, t->v[i].s, t->v[i].len);
        b->cur_len += weight;
        if (term >= b->seen_cap) {
            size_t nc = b->seen_cap ? b->seen_cap * 2 : 1024;
            while (nc <= term) {
                nc *= 2;
            }
            b->seen_doc = wb_realloc(b->seen_doc, nc * sizeof(*b->seen_doc));
            b->seen_at = wb_realloc(b->seen_at, nc * sizeof(*b->seen_at));
            memset(b->seen_doc + b->seen_cap, 0, (nc - b->seen_cap) * sizeof(*b->seen_doc));
            b->seen_cap = nc;
        }
        if (b->seen_doc[term] == doc + 1) {
            b->tr[b->seen_at[term]].tf += weight;
            continue;
        }
        b->seen_doc[term] = doc + 1;
        b->seen_at[term] = b->n_tr;
        if (b->n_tr == b->tr_cap) {
            b->tr_cap = b->tr_cap ? b->tr_cap * 2 : 4096;
            b->tr = wb_realloc(b->tr, b->tr_cap * sizeof(*b->tr));
        }
        b->tr[b->n_tr++] = (struct triple){ term, doc, weight };
    }
}

uint32_t wb_idx_doc_end(struct wb_idx_builder *b)
{
    struct wb_idx *idx = b->idx;
    if (idx->n_docs == idx->docs_cap) {
        idx->docs_cap = idx->docs_cap ? idx->docs_cap * 2 : 256;
        idx->dl = wb_realloc(idx->dl, idx->docs_cap * sizeof(*idx->dl));
    }
    idx->dl[idx->n_docs] = b->cur_len;
    b->cur_len = 0;
    return (uint32_t)idx->n_docs++;
}

struct wb_idx *wb_idx_build(struct wb_idx_builder *b)
{
    struct wb_idx *idx = b->idx;
    for (size_t i = 0; i < b->n_tr; i++) {
        idx->terms[b->tr[i].term].df++;
    }
    uint32_t at = 0;
    for (size_t t = 0; t < idx->n_terms; t++) {
        idx->terms[t].post = at;
        at += idx->terms[t].df;
    }
    idx->n_posts = b->n_tr;
    idx->posts = wb_malloc((idx->n_posts ? idx->n_posts : 1) * sizeof(*idx->posts));
    uint32_t *fill = wb_calloc(idx->n_terms ? idx->n_terms : 1, sizeof(*fill));
    for (size_t i = 0; i < b->n_tr; i++) {
        const struct triple *tr = &b->tr[i];
        struct term *te = &idx->terms[tr->term];
        idx->posts[te->post + fill[tr->term]++] = (struct posting){ tr->doc, tr->tf };
    }
    free(fill);
    double sum = 0;
    for (size_t d = 0; d < idx->n_docs; d++) {
        sum += idx->dl[d];
    }
    idx->avgdl = idx->n_docs > 0 && sum > 0 ? sum / (double)idx->n_docs : 1.0;
    /* the same for every posting of a document: computed here, not per posting per query */
    idx->norm = wb_malloc((idx->n_docs ? idx->n_docs : 1) * sizeof(*idx->norm));
    for (size_t d = 0; d < idx->n_docs; d++) {
        idx->norm[d] = K1 * (1.0 - B + B * idx->dl[d] / idx->avgdl);
    }
    b->idx = NULL;
    wb_idx_builder_free(b);
    return idx;
}

void wb_idx_builder_free(struct wb_idx_builder *b)
{
    if (b == NULL) {
        return;
    }
    wb_idx_free(b->idx);
    free(b->tr);
    free(b->seen_doc);
    free(b->seen_at);
    free(b);
}

void wb_idx_free(struct wb_idx *idx)
{
    if (idx == NULL) {
        return;
    }
    free(idx->pool);
    free(idx->terms);
    free(idx->slots);
    free(idx->posts);
    free(idx->dl);
    free(idx->norm);
    free(idx);
}

size_t wb_idx_doc_count(const struct wb_idx *idx)
{
    return idx->n_docs;
}

size_t wb_idx_term_count(const struct wb_idx *idx)
{
    return idx->n_terms;
}

size_t wb_idx_memory(const struct wb_idx *idx)
{
    return sizeof(*idx) + idx->pool_cap + idx->terms_cap * sizeof(struct term) +
           idx->n_slots * sizeof(uint32_t) + idx->n_posts * sizeof(struct posting) +
           idx->docs_cap * sizeof(float) + idx->n_docs * sizeof(*idx->norm);
}

int64_t wb_idx_term(const struct wb_idx *idx, const char *s, size_t n)
{
    if (idx->n_slots == 0) {
        return -1;
    }
    uint32_t sl = *slot_of(idx, s, n);
    return sl == 0 ? -1 : (int64_t)sl - 1;
}

uint32_t wb_idx_df(const struct wb_idx *idx, uint32_t term)
{
    return term < idx->n_terms ? idx->terms[term].df : 0;
}

double wb_idx_idf_df(const struct wb_idx *idx, uint32_t df)
{
    double n = (double)idx->n_docs;
    return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

float wb_idx_tf(const struct wb_idx *idx, uint32_t term, uint32_t doc)
{
    if (term >= idx->n_terms) {
        return 0;
    }
    const struct posting *p = idx->posts + idx->terms[term].post;
    size_t lo = 0, hi = idx->terms[term].df;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p[mid].doc < doc) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < idx->terms[term].df && p[lo].doc == doc ? p[lo].tf : 0;
}

static inline double tf_part(const struct wb_idx *idx, float tf, uint32_t doc)
{
    return tf * (K1 + 1.0) / (tf + idx->norm[doc]);
}

double wb_idx_tf_part(const struct wb_idx *idx, float tf, uint32_t doc)
{
    return tf_part(idx, tf, doc);
}

static void keep_best(struct wb_idx_hit *hits, size_t *nh, size_t k, uint32_t doc, float s)
{
    if (*nh == k && s <= hits[k - 1].score) {
        return;
    }
    size_t i = *nh < k ? (*nh)++ : k - 1;
    while (i > 0 && (hits[i - 1].score < s || (hits[i - 1].score == s && hits[i - 1].doc > doc))) {
        hits[i] = hits[i - 1];
        i--;
    }
    hits[i] = (struct wb_idx_hit){ doc, s };
}

/*
 * Per-call scores. One block holds a bit per document (touched yet?), the
 * accumulators and the touched list; only the bits are zeroed, and an
 * accumulator is set on its first touch. Zeroing 4 bytes per document for
 * every question cost more than scoring a short question's postings.
 */
struct scores {
    uint64_t *seen;
    float *acc;
    uint32_t *touched;
    size_t nt;
};

static void scores_init(struct scores *s, size_t n_docs)
{
    size_t words = (n_docs + 63) / 64;
    s->seen = wb_malloc(words * sizeof(*s->seen) + n_docs * (sizeof(float) + sizeof(uint32_t)));
    s->acc = (float *)(s->seen + words);
    s->touched = (uint32_t *)(s->acc + n_docs);
    s->nt = 0;
    memset(s->seen, 0, words * sizeof(*s->seen));
}

/* Add one query term (weight w, idf included) for every document that has it. */
static void scores_add(struct scores *s, const struct wb_idx *idx, const struct term *te, double w)
{
    const struct posting *p = idx->posts + te->post;
    for (uint32_t j = 0; j < te->df; j++) {
        uint32_t d = p[j].doc;
        /* c > 0 (weights, idf and tf are positive): first touch is 0 + c == c */
        float c = (float)(w * tf_part(idx, p[j].tf, d)) + 1e-9f;
        uint64_t bit = (uint64_t)1 << (d % 64);
        if ((s->seen[d / 64] & bit) == 0) {
            s->seen[d / 64] |= bit;
            s->touched[s->nt++] = d;
            s->acc[d] = c;
        } else {
            s->acc[d] += c;
        }
    }
}

size_t wb_idx_search(const struct wb_idx *idx, const struct wb_idx_qterm *q, size_t nq,
                     struct wb_idx_hit *hits_out, size_t k)
{
    if (idx->n_docs == 0 || k == 0) {
        return 0;
    }
    struct scores s;
    scores_init(&s, idx->n_docs);
    for (size_t i = 0; i < nq; i++) {
        const struct term *te = &idx->terms[q[i].term];
        scores_add(&s, idx, te, q[i].weight * wb_idx_idf_df(idx, te->df));
    }
    size_t nh = 0;
    for (size_t i = 0; i < s.nt; i++) {
        keep_best(hits_out, &nh, k, s.touched[i], s.acc[s.touched[i]]);
    }
    free(s.seen);
    return nh;
}
