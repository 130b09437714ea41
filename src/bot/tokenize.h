/*
 * tokenize.h - text to index terms, for Chinese, English and mixed text.
 *
 * Pure functions: no I/O, no globals that change, no allocation except the
 * caller's token list. Thread: any.
 */
#ifndef WB_BOT_TOKENIZE_H
#define WB_BOT_TOKENIZE_H

#include <warbler/common.h>

#include "utf8.h"

#define WB_TOK_MAX 32 /* bytes of one term; longer English words are cut */

enum wb_tok_kind {
    WB_TOK_WORD = 0, /* Latin letters (case-folded, stemmed) */
    WB_TOK_NUM,      /* digits */
    WB_TOK_HAN2,     /* two overlapping Han characters */
    WB_TOK_HAN1,     /* a lone Han character */
};

struct wb_tok {
    char s[WB_TOK_MAX]; /* NUL-terminated term */
    uint8_t len;
    uint8_t kind;   /* enum wb_tok_kind */
    uint8_t n_stop; /* Han function characters in the term (的, 吗, 你...) */
    uint8_t joined; /* a Han bigram that overlaps the previous term (same run) */
};

struct wb_toks {
    struct wb_tok *v;
    size_t n, cap;
};

/* Fold full-width ASCII and the ideographic space to ASCII; ASCII to lower case. */
uint32_t wb_tok_fold(uint32_t cp);

bool wb_tok_is_han(uint32_t cp);

/*
 * wb_tok_fold(wb_utf8_next(p, n, i)), with ASCII (most bytes of most messages) handled inline
 * instead of through two calls per character. Requires *i < n.
 */
static inline uint32_t wb_tok_next_folded(const char *p, size_t n, size_t *i)
{
    unsigned char b = (unsigned char)p[*i];
    if (b < 0x80) {
        *i += 1;
        return b >= 'A' && b <= 'Z' ? b + (uint32_t)('a' - 'A') : b;
    }
    return wb_tok_fold(wb_utf8_next(p, n, i));
}

/* Han function characters that carry little meaning on their own. */
bool wb_tok_is_han_stop(uint32_t cp);

/* English stop words (lower case, unstemmed). */
bool wb_tok_is_en_stop(const char *w, size_t n);

/* Light English stemming in place (plurals, -ing, -ed, -ation, final e). Returns the new length. */
size_t wb_tok_stem(char *w, size_t n);

/* Append the terms of text p[0..n) to out. Emoji, punctuation and other scripts separate terms. */
void wb_tok_text(const char *p, size_t n, struct wb_toks *out);

void wb_toks_free(struct wb_toks *t);

/* "zh" when the text has Han characters at least as many as Latin words, else "en". */
const char *wb_tok_lang(const char *p, size_t n);

#endif
