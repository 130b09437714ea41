/*
 * fuzz_kb.c - libFuzzer harness for the knowledge-file parser.
 *
 * Feeds arbitrary bytes to wb_kb_parse() (the bytes are never
 * NUL-terminated), then runs what the bot does with parsed articles:
 * tokenizing every field, trimming passages, small-talk detection, and
 * indexing plus one search, so the whole load path sees hostile input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/buf.h>

#include "index.h"
#include "kb_parse.h"
#include "talk.h"
#include "text.h"
#include "tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void index_file(const struct wb_kb_file *f, const char *q, size_t qn)
{
    struct wb_idx_builder *b = wb_idx_builder_new();
    for (size_t i = 0; i < f->n_articles; i++) {
        const struct wb_kb_article *a = &f->articles[i];
        struct wb_toks t = { NULL, 0, 0 };
        wb_tok_text(a->title, strlen(a->title), &t);
        wb_tok_text(a->keywords, strlen(a->keywords), &t);
        wb_tok_text(a->context, strlen(a->context), &t);
        for (size_t p = 0; p < a->n_passages; p++) {
            wb_tok_text(a->passages[p], strlen(a->passages[p]), &t);
            free(wb_bot_trim_text(a->passages[p], 40, 64));
        }
        wb_idx_doc_add(b, &t, 1.0f);
        (void)wb_idx_doc_end(b);
        wb_toks_free(&t);
    }
    struct wb_idx *idx = wb_idx_build(b);
    struct wb_toks qt = { NULL, 0, 0 };
    wb_tok_text(q, qn, &qt);
    struct wb_idx_qterm qs[16];
    size_t nq = 0;
    for (size_t i = 0; i < qt.n && nq < 16; i++) {
        int64_t term = wb_idx_term(idx, qt.v[i].s, qt.v[i].len);
        if (term >= 0) {
            qs[nq++] = (struct wb_idx_qterm){ (uint32_t)term, 1.0f };
        }
    }
    struct wb_idx_hit hits[4];
    (void)wb_idx_search(idx, qs, nq, hits, 4);
    wb_toks_free(&qt);
    wb_idx_free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct wb_kb_limits lim = { 1 << 20, 2000 };
    const char *p = (const char *)data;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_kb_file f;
    size_t rest;
    const char *lang;
    (void)wb_talk_detect(p, size, &rest, &lang);
    (void)wb_talk_is_followup(p, size);
    if (wb_kb_parse(p, size, "fuzz.zh.md", &lim, &a, &f, NULL) == WB_OK) {
        index_file(&f, p, size < 64 ? size : 64);
    }
    wb_arena_free(&a);
    return 0;
}
