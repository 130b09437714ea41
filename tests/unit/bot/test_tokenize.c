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
        cmocka_unit_test(test_stem_table),
        cmocka_unit_test(test_lang),
        cmocka_unit_test(test_utf8_next),
        cmocka_unit_test(test_trim_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
