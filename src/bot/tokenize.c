/*
 * tokenize.c - terms for retrieval from Chinese, English and mixed text.
 *
 * Design: Chinese has no spaces, so a run of Han characters becomes
 * overlapping bigrams (退款政策 -> 退款 款政 政策), which needs no dictionary
 * and matches any word of two or more characters; a lone character stays a
 * unigram. Latin text is split on anything that is not a letter or digit,
 * case-folded and lightly stemmed (refunds/refunded/refunding -> refund);
 * English stop words are dropped. Full-width ASCII (ＡＢＣ，１２３) is folded
 * to ASCII first. Punctuation, emoji and other scripts separate terms and
 * never produce one; invalid UTF-8 is a separator too.
 *
 * Thread: any (pure).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"

uint32_t wb_tok_fold(uint32_t cp)
{
    if (cp >= 0xFF01 && cp <= 0xFF5E) {
        cp -= 0xFEE0;
    } else if (cp == 0x3000) {
        cp = ' ';
    }
    if (cp >= 'A' && cp <= 'Z') {
        cp += 'a' - 'A';
    }
    return cp;
}

bool wb_tok_is_han(uint32_t cp)
{
    if (cp < 0x3400) {
        return false; /* ASCII and everything else below the CJK blocks, in one test */
    }
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2EBEF);
}

/*
 * Han function characters (的了吗呢吧啊呀嘛哦哈么我你您他她它们是在有和与及或就都也还又很请问能
 * 会要想可以该这那哪啥谁怎样如何什一个下些把被给让从对不没多几到), sorted by code point: the
 * tokenizer asks once or twice per Han character, so a binary search (6 steps) replaces a scan
 * that decoded the whole list each time. All are in the basic CJK block.
 */
static const uint16_t han_stop[] = {
    0x4E00, /* 一 */
    0x4E0B, /* 下 */
    0x4E0D, /* 不 */
    0x4E0E, /* 与 */
    0x4E2A, /* 个 */
    0x4E48, /* 么 */
    0x4E5F, /* 也 */
    0x4E86, /* 了 */
    0x4E9B, /* 些 */
    0x4EC0, /* 什 */
    0x4ECE, /* 从 */
    0x4ED6, /* 他 */
    0x4EE5, /* 以 */
    0x4EEC, /* 们 */
    0x4F1A, /* 会 */
    0x4F55, /* 何 */
    0x4F60, /* 你 */
    0x51E0, /* 几 */
    0x5230, /* 到 */
    0x53C8, /* 又 */
    0x53CA, /* 及 */
    0x53EF, /* 可 */
    0x5417, /* 吗 */
    0x5427, /* 吧 */
    0x5440, /* 呀 */
    0x5462, /* 呢 */
    0x548C, /* 和 */
    0x54C8, /* 哈 */
    0x54E6, /* 哦 */
    0x54EA, /* 哪 */
    0x554A, /* 啊 */
    0x5565, /* 啥 */
    0x561B, /* 嘛 */
    0x5728, /* 在 */
    0x591A, /* 多 */
    0x5979, /* 她 */
    0x5982, /* 如 */
    0x5B83, /* 它 */
    0x5BF9, /* 对 */
    0x5C31, /* 就 */
    0x5F88, /* 很 */
    0x600E, /* 怎 */
    0x60A8, /* 您 */
    0x60F3, /* 想 */
    0x6211, /* 我 */
    0x6216, /* 或 */
    0x628A, /* 把 */
    0x662F, /* 是 */
    0x6709, /* 有 */
    0x6837, /* 样 */
    0x6CA1, /* 没 */
    0x7684, /* 的 */
    0x7ED9, /* 给 */
    0x80FD, /* 能 */
    0x88AB, /* 被 */
    0x8981, /* 要 */
    0x8BA9, /* 让 */
    0x8BE5, /* 该 */
    0x8BF7, /* 请 */
    0x8C01, /* 谁 */
    0x8FD8, /* 还 */
    0x8FD9, /* 这 */
    0x90A3, /* 那 */
    0x90FD, /* 都 */
    0x95EE, /* 问 */
};

bool wb_tok_is_han_stop(uint32_t cp)
{
    if (cp < han_stop[0] || cp > han_stop[WB_ARRAY_LEN(han_stop) - 1]) {
        return false;
    }
    size_t lo = 0, hi = WB_ARRAY_LEN(han_stop);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (han_stop[mid] < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < WB_ARRAY_LEN(han_stop) && han_stop[lo] == cp;
}

#define EN_STOP_LEN 8 /* bytes per entry: the longest stop word (6) and at least one NUL */

/*
 * Sorted in byte order (a NUL-padded entry sorts like the string), so a lookup is a binary search
 * over fixed-size keys: no strlen per entry, and a word longer than any stop word is rejected at
 * once. Keep it sorted: test_tokenize checks every word.
 */
static const char en_stop[][EN_STOP_LEN] = {
    "a",     "able", "about", "again", "also",   "am",   "an",   "and",    "any",   "are",
    "as",    "at",   "be",    "been",  "but",    "by",   "can",  "could",  "d",     "did",
    "do",    "does", "don",   "for",   "from",   "get",  "got",  "had",    "has",   "have",
    "hello", "here", "hey",   "hi",    "how",    "i",    "if",   "im",     "in",    "into",
    "is",    "it",   "its",   "just",  "know",   "let",  "like", "ll",     "m",     "many",
    "me",    "much", "my",    "need",  "no",     "of",   "ok",   "okay",   "on",    "one",
    "or",    "our",  "out",   "per",   "please", "re",   "s",    "should", "so",    "some",
    "still", "such", "t",     "tell",  "than",   "that", "the",  "their",  "then",  "there",
    "these", "they", "this",  "those", "to",     "too",  "up",   "us",     "ve",    "very",
    "via",   "want", "was",   "we",    "were",   "what", "when", "where",  "which", "who",
    "why",   "will", "with",  "would", "yes",    "you",  "your"
};

bool wb_tok_is_en_stop(const char *w, size_t n)
{
    if (n == 0 || n >= EN_STOP_LEN) {
        return false;
    }
    char key[EN_STOP_LEN] = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '\0') {
            return false; /* no stop word has a NUL, and the padding would hide it */
        }
        key[i] = w[i];
    }
    size_t lo = 0, hi = WB_ARRAY_LEN(en_stop);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        /* most steps differ in the first letter: settle those without a call */
        int c = (unsigned char)en_stop[mid][0] - (unsigned char)key[0];
        if (c == 0) {
            c = memcmp(en_stop[mid], key, sizeof(key));
        }
        if (c == 0) {
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

static bool ends_with(const char *w, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && memcmp(w + n - k, suf, k) == 0;
}

static bool is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* shipp -> ship, cancell -> cancel; but keep ll/ss/zz words like "bill", "pass". */
static size_t undouble(const char *w, size_t n)
{
    if (n >= 4 && w[n - 1] == w[n - 2] && !is_vowel(w[n - 1]) && w[n - 1] != 's' &&
        w[n - 1] != 'z' && !(w[n - 1] == 'l' && n <= 4)) {
        return n - 1;
    }
    return n;
}

size_t wb_tok_stem(char *w, size_t n)
{
    if (n <= 3) {
        return n;
    }
    if (ends_with(w, n, "ies") && n > 4) {
        n -= 2;
        w[n - 1] = 'y';
    } else if (ends_with(w, n, "sses")) {
        n -= 2;
    } else if (ends_with(w, n, "s") && !ends_with(w, n, "ss") && !ends_with(w, n, "us") &&
               !ends_with(w, n, "is")) {
        n -= 1;
    }
    if (ends_with(w, n, "ification") || ends_with(w, n, "ified")) {
        n -= ends_with(w, n, "ification") ? 6 : 2; /* notification, notified -> notifi */
        w[n - 1] = 'i';
    } else if (ends_with(w, n, "ation") && n >= 9) {
        n = undouble(w, n - 5);
    } else if (ends_with(w, n, "ing") && n > 5) {
        n = undouble(w, n - 3);
    } else if (ends_with(w, n, "ed") && n > 4 && !ends_with(w, n, "eed")) {
        n = undouble(w, n - 2);
    }
    if (n > 4 && w[n - 1] == 'e') {
        n -= 1;
    }
    if (n > 4 && w[n - 1] == 'y' && !is_vowel(w[n - 2])) {
        w[n - 1] = 'i';
    }
    w[n] = '\0';
    return n;
}

static void toks_push(struct wb_toks *out, const char *s, size_t len, enum wb_tok_kind kind,
                      uint8_t n_stop, bool joined)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 16;
        out->v = wb_realloc(out->v, out->cap * sizeof(*out->v));
    }
    struct wb_tok *t = &out->v[out->n++];
    if (len >= WB_TOK_MAX) {
        len = WB_TOK_MAX - 1;
    }
    memcpy(t->s, s, len);
    t->s[len] = '\0';
    t->len = (uint8_t)len;
    t->kind = (uint8_t)kind;
    t->n_stop = n_stop;
    t->joined = joined;
}

static void emit_word(char *w, size_t n, bool digits, struct wb_toks *out)
{
    if (n == 0) {
        return;
    }
    if (n >= WB_TOK_MAX) {
        n = WB_TOK_MAX - 1;
    }
    w[n] = '\0';
    if (digits) {
        toks_push(out, w, n, WB_TOK_NUM, 0, false);
        return;
    }
    if (wb_tok_is_en_stop(w, n)) {
        return;
    }
    n = wb_tok_stem(w, n);
    toks_push(out, w, n, WB_TOK_WORD, 0, false);
}

/* A run of Han code points -> bigrams, or one unigram for a lone character. */
static void emit_han(const uint32_t *run, size_t n, bool cont, struct wb_toks *out)
{
    char b[8];
    if (n == 1 && cont) {
        return; /* the last character of a long run, already in a bigram */
    }
    if (n == 1) {
        size_t k = wb_utf8_encode(run[0], b);
        toks_push(out, b, k, WB_TOK_HAN1, wb_tok_is_han_stop(run[0]) ? 1 : 0, false);
        return;
    }
    /* each character is in two bigrams: look it up as a function character once */
    bool stop_next = wb_tok_is_han_stop(run[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        bool stop = stop_next;
        stop_next = wb_tok_is_han_stop(run[i + 1]);
        size_t k = wb_utf8_encode(run[i], b);
        k += wb_utf8_encode(run[i + 1], b + k);
        toks_push(out, b, k, WB_TOK_HAN2, (uint8_t)(stop + stop_next), i > 0 || cont);
    }
}

static bool is_latin_letter(uint32_t c)
{
    return (c >= 'a' && c <= 'z');
}

#define HAN_RUN_MAX 64

void wb_tok_text(const char *p, size_t n, struct wb_toks *out)
{
    char word[WB_TOK_MAX + 8];
    size_t wn = 0;
    bool w_digits = false;
    uint32_t run[HAN_RUN_MAX];
    size_t rn = 0;
    bool cont = false; /* the run continues a long run already emitted */
    size_t i = 0;
    while (i <= n) {
        uint32_t c = i < n ? wb_tok_next_folded(p, n, &i) : 0;
        if (i == n && c == 0) {
            i++; /* the final flush */
        }
        bool han = wb_tok_is_han(c);
        bool letter = is_latin_letter(c);
        bool digit = c >= '0' && c <= '9';
        /* an apostrophe ends a word: what's -> what + s, both stop words */
        if (wn > 0 && !((letter && !w_digits) || (digit && w_digits))) {
            emit_word(word, wn, w_digits, out);
            wn = 0;
        }
        if (rn > 0 && (!han || rn == HAN_RUN_MAX)) {
            emit_han(run, rn, cont, out);
            cont = han;
            /* a long run continues from its last character so no bigram is lost */
            run[0] = run[rn - 1];
            rn = han ? 1 : 0;
        }
        if (han) {
            run[rn++] = c;
        } else if ((letter || digit) && wn < WB_TOK_MAX - 1) {
            w_digits = digit;
            word[wn++] = (char)c;
        }
    }
}

void wb_toks_free(struct wb_toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

const char *wb_tok_lang(const char *p, size_t n)
{
    size_t han = 0, words = 0, i = 0;
    bool in_word = false;
    while (i < n) {
        uint32_t c = wb_tok_next_folded(p, n, &i);
        bool letter = is_latin_letter(c);
        han += wb_tok_is_han(c);
        if (letter && !in_word) {
            words++;
        }
        in_word = letter;
    }
    return han > 0 && han >= words ? "zh" : "en";
}
