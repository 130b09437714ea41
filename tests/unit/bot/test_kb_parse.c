/*
 * test_kb_parse.c - the Markdown splitter and front matter, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kb_parse.h"

static const struct wb_kb_limits lim = { 1 << 20, 1000 };

struct want_art {
    const char *id;
    const char *title;
    const char *context;
    const char *lang;
    size_t n_passages;
    const char *passage0; /* NULL: not checked */
    const char *summary;  /* NULL: must be NULL */
    const char *keywords; /* NULL: not checked */
};

static const struct {
    const char *label;
    const char *name;
    const char *in;
    enum wb_status want_status;
    const char *want_err; /* substring */
    size_t n_articles;
    struct want_art art[4];
} cases[] = {
    { "plain sections with parents",
      "refunds.md",
      "# Refunds\n\n## Policy\nAnnual plans are refunded.\n\n### Hardware\nReturn it.\n",
      WB_OK,
      NULL,
      2,
      { { "refunds#policy", "Policy", "Refunds", "en", 1, "Annual plans are refunded.", NULL, "" },
        { "refunds#hardware", "Hardware", "Refunds > Policy", "en", 1, "Return it.", NULL,
          NULL } } },
    { "front matter, explicit id, language from front matter",
      "x.md",
      "---\ntitle: 退款\nlanguage: zh-CN\nkeywords: [退钱, \"退货\"]\nsynonyms:\n  - 返还\n---\n"
      "## 退款政策 {#refund-policy}\n年付可退。\n",
      WB_OK,
      NULL,
      1,
      { { "refund-policy", "退款政策", "退款", "zh", 1, "年付可退。", NULL, NULL } } },
    { "language from the file name",
      "faq.zh.md",
      "## 问题\n答案。\n",
      WB_OK,
      NULL,
      1,
      { { "faq#问题", "问题", "", "zh", 1, "答案。", NULL, NULL } } },
    { "summary goes to its parent",
      "a.md",
      "## Refunds\nLong text.\n\n### Summary\nShort.\n\n## Other\nMore.\n",
      WB_OK,
      NULL,
      2,
      { { "a#refunds", "Refunds", "", "en", 1, "Long text.", "Short.", NULL },
        { "a#other", "Other", "", "en", 1, "More.", NULL, NULL } } },
    { "chinese summary only",
      "b.md",
      "## 退款\n### 摘要\n可以退。\n",
      WB_OK,
      NULL,
      1,
      { { "b#退款", "退款", "", "zh", 1, "可以退。", "可以退。", NULL } } },
    { "lead line keeps its list",
      "c.md",
      "## Pay\nYou can pay with:\n\n- Visa\n- PayPal\n\nChange it in settings.\n",
      WB_OK,
      NULL,
      1,
      { { "c#pay", "Pay", "", "en", 2, "You can pay with:\n- Visa\n- PayPal", NULL, NULL } } },
    { "paragraph lines join, chinese without space",
      "d.md",
      "## A\nline one\nline two\n\n## 中\n第一行\n第二行\n",
      WB_OK,
      NULL,
      2,
      { { "d#a", "A", "", "en", 1, "line one line two", NULL, NULL },
        { "d#中", "中", "", "zh", 1, "第一行第二行", NULL, NULL } } },
    { "heading inside a code fence is text",
      "e.md",
      "## Code\n```\n# not a heading\n```\n",
      WB_OK,
      NULL,
      1,
      { { "e#code", "Code", "", "en", 1, "# not a heading\n", NULL, NULL } } },
    { "section keywords comment",
      "f.md",
      "## Reset\n<!-- keywords: forgot, locked -->\nUse the link.\n",
      WB_OK,
      NULL,
      1,
      { { "f#reset", "Reset", "", "en", 1, "Use the link.", NULL, "forgot, locked" } } },
    { "inline markdown to plain text",
      "g.md",
      "## Links\nSee **the** [guide](https://x.example/g) and `code`.\n",
      WB_OK,
      NULL,
      1,
      { { "g#links", "Links", "", "en", 1, "See the guide (https://x.example/g) and code.", NULL,
          NULL } } },
    { "table rows",
      "h.md",
      "## T\n| Plan | Price |\n|---|---|\n| Pro | $129 |\n",
      WB_OK,
      NULL,
      1,
      { { "h#t", "T", "", "en", 1, "Plan | Price\nPro | $129", NULL, NULL } } },
    { "preamble becomes an article",
      "intro.md",
      "Welcome to the shop.\n\n## Next\nText.\n",
      WB_OK,
      NULL,
      2,
      { { "intro", "intro", "", "en", 1, "Welcome to the shop.", NULL, NULL },
        { "intro#next", "Next", "", "en", 1, "Text.", NULL, NULL } } },
    { "empty container headings are not articles",
      "i.md",
      "# A\n## B\n### C\nText.\n",
      WB_OK,
      NULL,
      1,
      { { "i#c", "C", "A > B", "en", 1, "Text.", NULL, NULL } } },
    { "BOM and CRLF",
      "j.md",
      "\xEF\xBB\xBF## Title\r\nBody\r\n",
      WB_OK,
      NULL,
      1,
      { { "j#title", "Title", "", "en", 1, "Body", NULL, NULL } } },
    { "not a heading without space",
      "k.md",
      "#hashtag only\n",
      WB_OK,
      NULL,
      1,
      { { "k", "k", "", "en", 1, "#hashtag only", NULL, NULL } } },
    { "empty file", "l.md", "", WB_OK, NULL, 0, { { 0 } } },
    { "unclosed front matter",
      "m.md",
      "---\ntitle: x\nlanguage: en\n",
      WB_ERR_PARSE,
      "not closed",
      0,
      { { 0 } } },
    { "front matter line without colon",
      "n.md",
      "---\njust words\n---\n## A\nt\n",
      WB_ERR_PARSE,
      "line 2",
      0,
      { { 0 } } },
    { "invalid utf-8", "o.md", "## A\nbad \xff byte\n", WB_ERR_PARSE, "UTF-8", 0, { { 0 } } },
    { "NUL byte", "p.md", "## A\nx\0y\n", WB_ERR_PARSE, "NUL", 0, { { 0 } } },
};

static void check_article(const char *label, const struct wb_kb_article *a,
                          const struct want_art *w)
{
    print_message("  %s: %s\n", label, a->id);
    assert_string_equal(a->id, w->id);
    assert_string_equal(a->title, w->title);
    assert_string_equal(a->context, w->context);
    assert_string_equal(a->lang, w->lang);
    assert_int_equal(a->n_passages, w->n_passages);
    if (w->passage0 != NULL) {
        assert_string_equal(a->passages[0], w->passage0);
    }
    if (w->summary == NULL) {
        assert_null(a->summary);
    } else {
        assert_string_equal(a->summary, w->summary);
    }
    if (w->keywords != NULL) {
        assert_string_equal(a->keywords, w->keywords);
    }
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wb_arena a = WB_ARENA_INIT;
        struct wb_kb_file f;
        struct wb_err err = { WB_OK, "" };
        size_t n = strlen(cases[i].in);
        if (strcmp(cases[i].label, "NUL byte") == 0) {
            n = 11;
        }
        enum wb_status st = wb_kb_parse(cases[i].in, n, cases[i].name, &lim, &a, &f, &err);
        print_message("%s: %s %s\n", cases[i].label, wb_status_str(st), err.msg);
        assert_int_equal(st, cases[i].want_status);
        if (cases[i].want_err != NULL) {
            assert_non_null(strstr(err.msg, cases[i].want_err));
        }
        assert_int_equal(f.n_articles, cases[i].n_articles);
        for (size_t k = 0; k < f.n_articles; k++) {
            check_article(cases[i].label, &f.articles[k], &cases[i].art[k]);
        }
        wb_arena_free(&a);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct wb_kb_limits small = { 10, 2 };
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_kb_file f;
    const char *big = "## A\nsome text that is long\n";
    assert_int_equal(wb_kb_parse(big, strlen(big), "a.md", &small, &a, &f, NULL), WB_ERR_LIMIT);
    struct wb_kb_limits few = { 0, 2 };
    const char *many = "## A\na\n## B\nb\n## C\nc\n## D\nd\n";
    assert_int_equal(wb_kb_parse(many, strlen(many), "a.md", &few, &a, &f, NULL), WB_ERR_LIMIT);
    wb_arena_free(&a);
}

static void test_summary_heading(void **state)
{
    (void)state;
    assert_true(wb_kb_is_summary_heading("Summary", 7));
    assert_true(wb_kb_is_summary_heading("TL;DR", 5));
    assert_true(wb_kb_is_summary_heading("摘要", strlen("摘要")));
    assert_false(wb_kb_is_summary_heading("Summary of fees", 15));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_summary_heading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
