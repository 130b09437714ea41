/*
 * test_tokenize.c - terms from Chinese, English, mixed text, emoji and
 * full-width forms; stemming; language guess; UTF-8 decoding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/buf.h>

#include "text.h"
#include "tokenize.h"

/* All terms of s joined by single spaces. */
static char *terms(const char *s, size_t n)
{
    struct wb_toks t = { NULL, 0, 0 };
    struct wb_buf b;
    wb_buf_init(&b, 0);
    wb_tok_text(s, n, &t);
    for (size_t i = 0; i < t.n; i++) {
        wb_bot_putf(&b, "%s%s", i ? " " : "", t.v[i].s);
    }
    wb_toks_free(&t);
    wb_bot_put(&b, "", 0);
    return b.data != NULL ? wb_buf_steal(&b, NULL) : wb_strdup("");
}

static const struct {
    const char *label;
    const char *in;
    const char *want;
} tok_cases[] = {
    { "english folded and stemmed", "How do I get REFUNDS?", "refund" },
    { "stop words dropped", "what is the price of the plan", "pric plan" },
    { "ing and doubled consonant", "shipping shipped ships", "ship ship ship" },
    { "ation", "cancellation cancelled", "cancel cancel" },
    { "ification", "notification notified", "notifi notifi" },
    { "chinese bigrams", "退款政策", "退款 款政 政策" },
    { "lone han character", "钱", "钱" },
    { "chinese punctuation splits runs", "退款，多久？", "退款 多久" },
    { "mixed", "Pro套餐多少钱", "pro 套餐 餐多 多少 少钱" },
    { "digits apart from letters", "30天 iphone15", "30 天 iphon 15" },
    { "emoji separate", "refund😭please退款🙏", "refund 退款" },
    { "full-width letters and digits", "ＰＲＯ　ＰＬＡＮ１２", "pro plan 12" },
    { "full-width punctuation", "价格！！（专业版）", "价格 专业 业版" },
    { "apostrophe joins", "customer's account", "customer account" },
    { "other scripts separate", "café Привет refund", "caf refund" },
    { "empty", "", "" },
    { "only punctuation", "?!...。，", "" },
};

static void test_tok_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tok_cases) / sizeof(tok_cases[0]); i++) {
        char *got = terms(tok_cases[i].in, strlen(tok_cases[i].in));
        if (strcmp(got, tok_cases[i].want) != 0) {
            print_error("%s: got \"%s\" want \"%s\"\n", tok_cases[i].label, got, tok_cases[i].want);
        }
        assert_string_equal(got, tok_cases[i].want);
        free(got);
    }
}

static void test_tok_invalid_utf8(void **state)
{
    (void)state;
    static const char bad[] = "ab\xff\xfe退\xe9\x80款\xf0\x9f";
    char *got = terms(bad, sizeof(bad) - 1);
    /* invalid bytes separate terms and never crash; the cut 退 sequence is dropped */
    assert_string_equal(got, "ab 退 款");
    free(got);
}

static void test_tok_not_nul_terminated(void **state)
{
    (void)state;
    const char s[4] = { 'a', 'b', 'c', 'd' };
    char *got = terms(s, 3);
    assert_string_equal(got, "abc");
    free(got);
}

static void test_tok_long_word_and_run(void **state)
{
    (void)state;
    char w[200];
    memset(w, 'x', sizeof(w) - 1);
    w[sizeof(w) - 1] = '\0';
    struct wb_toks t = { NULL, 0, 0 };
    wb_tok_text(w, strlen(w), &t);
    assert_int_equal(t.n, 1);
    assert_true(t.v[0].len < WB_TOK_MAX);
    wb_toks_free(&t);
    /* a Han run longer than the internal buffer loses no bigram */
    struct wb_buf b;
    wb_buf_init(&b, 0);
    for (int i = 0; i < 100; i++) {
        wb_bot_put(&b, "退款", strlen("退款"));
    }
    wb_tok_text(b.data, b.len, &t);
    assert_int_equal(t.n, 199);
    wb_toks_free(&t);
    wb_buf_free(&b);
}

static void test_tok_stop_marks(void **state)
{
    (void)state;
    struct wb_toks t = { NULL, 0, 0 };
    wb_tok_text("我的退款", strlen("我的退款"), &t);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.v[0].n_stop, 2); /* 我的 */
    assert_int_equal(t.v[1].n_stop, 1); /* 的退 */
    assert_int_equal(t.v[2].n_stop, 0); /* 退款 */
    assert_int_equal(t.v[0].joined, 0);
    assert_int_equal(t.v[2].joined, 1);
    wb_toks_free(&t);
}

/* The stop lists as they read; the tokenizer keeps them as sorted tables for lookup. */
static const char han_stop_ref[] =
    "的了吗呢吧啊呀嘛哦哈么我你您他她它们是在有和与及或就都也还又很请问能"
    "会要想可以该这那哪啥谁怎样如何什一个下些把被给让从对不没多几到";

static const char *const en_stop_ref[] = {
    "a",     "about", "am",    "an",    "and",    "any",    "are",  "as",   "at",   "be",    "been",
    "but",   "by",    "can",   "could", "did",    "do",     "does", "for",  "from", "get",   "got",
    "had",   "has",   "have",  "hello", "hey",    "hi",     "how",  "i",    "if",   "im",    "in",
    "is",    "it",    "its",   "just",  "know",   "like",   "many", "me",   "much", "my",    "need",
    "of",    "on",    "or",    "our",   "please", "should", "so",   "some", "tell", "that",  "the",
    "their", "there", "these", "they",  "this",   "those",  "to",   "us",   "want", "was",   "we",
    "were",  "what",  "when",  "where", "which",  "who",    "why",  "will", "with", "would", "you",
    "your",  "s",     "t",     "don",   "yes",    "no",     "ok",   "okay", "then", "than",  "too",
    "very",  "also",  "still", "again", "one",    "here",   "let",  "m",    "ll",   "re",    "ve",
    "per",   "via",   "into",  "out",   "up",     "d",      "able", "such",
};

static bool in_han_stop_ref(uint32_t cp)
{
    size_t i = 0;
    while (i < sizeof(han_stop_ref) - 1) {
        if (wb_utf8_next(han_stop_ref, sizeof(han_stop_ref) - 1, &i) == cp) {
            return true;
        }
    }
    return false;
}

static void test_han_stop_table(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp < 0x30000; cp++) {
        if (wb_tok_is_han_stop(cp) != in_han_stop_ref(cp)) {
            fail_msg("U+%04X", (unsigned)cp);
        }
    }
}

static bool in_en_stop_ref(const char *w, size_t n)
{
    for (size_t i = 0; i < WB_ARRAY_LEN(en_stop_ref); i++) {
        if (strlen(en_stop_ref[i]) == n && memcmp(en_stop_ref[i], w, n) == 0) {
            return true;
        }
    }
    return false;
}

static void test_en_stop_table(void **state)
{
    (void)state;
    char w[16];
    for (size_t i = 0; i < WB_ARRAY_LEN(en_stop_ref); i++) {
        const char *s = en_stop_ref[i];
        size_t n = strlen(s);
        assert_true(wb_tok_is_en_stop(s, n));
        /* neighbours in the sorted table: a prefix, a longer word, a changed last letter */
        assert_int_equal(wb_tok_is_en_stop(s, n - 1), in_en_stop_ref(s, n - 1));
        memcpy(w, s, n);
        for (char c = 'a'; c <= 'z'; c++) {
            w[n] = c;
            assert_int_equal(wb_tok_is_en_stop(w, n + 1), in_en_stop_ref(w, n + 1));
            w[n - 1] = c;
            assert_int_equal(wb_tok_is_en_stop(w, n), in_en_stop_ref(w, n));
            w[n - 1] = s[n - 1];
        }
    }
    assert_false(wb_tok_is_en_stop("The", 3)); /* callers fold case first */
    assert_false(wb_tok_is_en_stop("a\0", 2));
    assert_false(wb_tok_is_en_stop("pleased", 7));
    assert_true(wb_tok_is_en_stop("thereafter", 5)); /* only n bytes count */
}

static const struct {
    const char *in;
    const char *want;
} stem_cases[] = {
    { "refunds", "refund" },  { "refunded", "refund" },   { "policies", "polici" },
    { "policy", "polici" },   { "charges", "charg" },     { "charging", "charg" },
    { "days", "day" },        { "business", "business" }, { "billing", "bill" },
    { "address", "address" }, { "plus", "plus" },         { "use", "use" },
};

static void test_stem_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(stem_cases) / sizeof(stem_cases[0]); i++) {
        char w[WB_TOK_MAX];
        (void)snprintf(w, sizeof(w), "%s", stem_cases[i].in);
        size_t n = wb_tok_stem(w, strlen(w));
        assert_int_equal(n, strlen(w));
        if (strcmp(w, stem_cases[i].want) != 0) {
            print_error("stem %s: got %s\n", stem_cases[i].in, w);
        }
        assert_string_equal(w, stem_cases[i].want);
    }
}

static void test_lang(void **state)
{
    (void)state;
    assert_string_equal(wb_tok_lang("hello", 5), "en");
    assert_string_equal(wb_tok_lang("你好", strlen("你好")), "zh");
    assert_string_equal(wb_tok_lang("Pro plan 多少钱", strlen("Pro plan 多少钱")), "zh");
    assert_string_equal(wb_tok_lang("the Pro plan price in 元", strlen("the Pro plan price in 元")),
                        "en");
    assert_string_equal(wb_tok_lang("😀", strlen("😀")), "en");
}

static void test_utf8_next(void **state)
{
    (void)state;
    size_t i = 0;
    assert_int_equal(wb_utf8_next("\xe9\x80\x80", 3, &i), 0x9000);
    assert_int_equal(i, 3);
    i = 0;
    assert_int_equal(wb_utf8_next("\xc0\x80", 2, &i), 0xFFFD); /* overlong */
    assert_int_equal(i, 1);
    i = 0;
    assert_int_equal(wb_utf8_next("\xed\xa0\x80", 3, &i), 0xFFFD); /* surrogate */
    i = 0;
    assert_int_equal(wb_utf8_next("\xf0\x9f\x98\x80", 4, &i), 0x1F600);
    assert_int_equal(wb_tok_fold(0xFF21), 'a');
    assert_int_equal(wb_tok_fold(0x3000), ' ');
}

static const struct {
    const char *label;
    const char *in;
    size_t chars, bytes;
    const char *want;
} trim_cases[] = {
    { "fits", "Short answer.", 0, 0, "Short answer." },
    { "sentence end", "First sentence. Second sentence is long.", 25, 0, "First sentence." },
    { "chinese sentence end", "第一句话。第二句话很长很长", 8, 0, "第一句话。" },
    { "no stop: ellipsis", "abcdefghij", 5, 0, "abcd…" },
    { "bytes never split a character", "退款退款退款", 0, 10, "退款…" },
    { "line break", "Line one\nline two is longer", 12, 0, "Line one" },
};

static void test_trim_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(trim_cases) / sizeof(trim_cases[0]); i++) {
        char *got = wb_bot_trim_text(trim_cases[i].in, trim_cases[i].chars, trim_cases[i].bytes);
        if (strcmp(got, trim_cases[i].want) != 0) {
            print_error("%s: got \"%s\"\n", trim_cases[i].label, got);
        }
        assert_string_equal(got, trim_cases[i].want);
        if (trim_cases[i].bytes > 0) {
            assert_true(strlen(got) <= trim_cases[i].bytes);
        }
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_table),
        cmocka_unit_test(test_tok_invalid_utf8),
        cmocka_unit_test(test_tok_not_nul_terminated),
        cmocka_unit_test(test_tok_long_word_and_run),
        cmocka_unit_test(test_tok_stop_marks),
        cmocka_unit_test(test_han_stop_table),
        cmocka_unit_test(test_en_stop_table),
        cmocka_unit_test(test_stem_table),
        cmocka_unit_test(test_lang),
        cmocka_unit_test(test_utf8_next),
        cmocka_unit_test(test_trim_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
