/*
 * test_email_text.c - table-driven tests of the email parser's pure
 * helpers (HTML to text, quote stripping, topics, RFC 2047 words,
 * charsets) and of the limits of wb_email_parse_mime().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email_charset.h"
#include "email_html.h"
#include "email_parse.h"
#include "email_quote.h"
#include "email_words.h"

struct text_case {
    const char *label;
    const char *in;
    const char *want;
};

static void report(const char *label, const char *want, const char *got)
{
    if (strcmp(want, got) != 0) {
        print_error("%s: want [%s] got [%s]\n", label, want, got);
    }
}

static const struct text_case html_cases[] = {
    { "plain", "hello", "hello" },
    { "br", "a<br>b<br/>c", "a\nb\nc" },
    { "double br", "a<br><br>b", "a\n\nb" },
    { "paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo" },
    { "div", "<div>one</div><div>two</div>", "one\ntwo" },
    { "list", "<ul><li>x</li><li>y</li></ul>", "- x\n- y" },
    { "table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc" },
    { "script", "a<script>var x = '<p>';</script>b", "ab" },
    { "style caps", "a<STYLE>p{}</STYLE >b", "ab" },
    { "head", "<html><head><title>T</title></head><body>x</body></html>", "x" },
    { "unclosed script", "a<script>alert(1)", "a" },
    { "comment", "a<!-- <p>hidden</p> -->b", "ab" },
    { "entities", "&amp;&lt;&gt;&quot;&#39;&apos;", "&<>\"''" },
    { "numeric", "&#20013;&#x6587;&#X41;", "中文A" },
    { "bad numeric", "&#xD800;&#0;&#99999999;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
    { "unknown entity", "&bogus; &amp", "&bogus; &amp" },
    { "nbsp", "a&nbsp;&nbsp;b", "a b" },
    { "whitespace", "  a \n\t b  ", "a b" },
    { "pre", "<pre>a  b\n c</pre>", "a  b\n c" },
    { "blockquote", "new<blockquote>old<br>older</blockquote>", "new\n> old\n> older" },
    { "lt text", "1 < 2 and a<b", "1 < 2 and a" },
    { "attr quotes", "<a title=\"x>y\">link</a>", "link" },
    { "unterminated tag", "a<div class=\"x", "a" },
    { "doctype", "<!DOCTYPE html><p>x</p>", "x" },
};

static void test_html(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < WB_ARRAY_LEN(html_cases); i++) {
        struct wb_buf out;
        wb_buf_init(&out, 0);
        const struct text_case *c = &html_cases[i];
        assert_int_equal(wb_email_html_to_text(c->in, strlen(c->in), &out), WB_OK);
        const char *got = out.data != NULL ? out.data : "";
        report(c->label, c->want, got);
        bad += strcmp(c->want, got) != 0;
        wb_buf_free(&out);
    }
    assert_int_equal(bad, 0);
}

static void test_html_meta_charset(void **state)
{
    (void)state;
    char buf[65];
    const char *h1 = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">";
    const char *h2 = "<meta charset='Big5'>";
    assert_string_equal(wb_email_html_meta_charset(h1, strlen(h1), buf, sizeof(buf)), "gb2312");
    assert_string_equal(wb_email_html_meta_charset(h2, strlen(h2), buf, sizeof(buf)), "Big5");
    assert_null(wb_email_html_meta_charset("<p>x</p>", 8, buf, sizeof(buf)));
}

static const struct text_case quote_cases[] = {
    { "nothing", "just text", "just text" },
    { "on wrote", "Yes.\n\nOn Mon, Jan 1, 2024 at 1:00 PM A <a@b.c> wrote:\n> q", "Yes." },
    { "on wrote wrapped", "Yes.\nOn Mon, Jan 1, 2024 at 1:00 PM A <a@b.c>\nwrote:\n> q", "Yes." },
    { "chinese", "好的\n\n在 2024年1月1日，张三 写道：\n> 旧", "好的" },
    { "gmail chinese", "好\n\n张三 <a@b.c> 于2024年1月2日周二 10:00写道：\n\n> 旧", "好" },
    { "traditional", "好\n於 2024年1月1日 寫道：\n> 舊", "好" },
    { "french", "Oui.\n\nLe lun. 1 janv. 2024, Anne <a@b.c> a écrit :\n> q", "Oui." },
    { "outlook", "New\n\n-----Original Message-----\nFrom: x\nSent: y\n\nold", "New" },
    { "foxmail", "新\n------------------ 原始邮件 ------------------\n发件人: x\n", "新" },
    { "outlook block", "New\n\nFrom: A <a@b.c>\nSent: Monday\nTo: B\nSubject: s\n\nold", "New" },
    { "outlook zh block", "新\n\n___________________\n发件人: A\n发送时间: 2024\n\n旧", "新" },
    { "fullwidth colon", "新\n发件人： A\n主题： s\n旧", "新" },
    { "from alone", "From: my friend I heard\nabout you", "From: my friend I heard\nabout you" },
    { "gt quotes", "> a\nanswer a\n> b\nanswer b", "answer a\nanswer b" },
    { "signature", "Hi\n-- \nJohn\nCEO", "Hi" },
    { "mobile", "Hi there\n\nSent from my iPhone", "Hi there" },
    { "chinese mobile", "你好\n\n发自我的iPhone", "你好" },
    { "bottom post", "On Mon A wrote:\n> q\n\nmy answer", "my answer" },
    { "only quote", "> all quoted\n> text", "> all quoted\n> text" },
    { "forward", "FYI\n\n---------- Forwarded message ---------\nFrom: x", "FYI" },
    { "apple forward", "See below\n\nBegin forwarded message:\n\nFrom: x", "See below" },
    { "blank runs", "a\n\n\n\nb\n\n", "a\n\nb" },
};

static void test_quote(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < WB_ARRAY_LEN(quote_cases); i++) {
        struct wb_buf out;
        bool stripped = false;
        wb_buf_init(&out, 0);
        const struct text_case *c = &quote_cases[i];
        assert_int_equal(wb_email_new_text(c->in, strlen(c->in), &out, &stripped), WB_OK);
        const char *got = out.data != NULL ? out.data : "";
        report(c->label, c->want, got);
        bad += strcmp(c->want, got) != 0;
        wb_buf_free(&out);
    }
    assert_int_equal(bad, 0);
}

static const struct text_case topic_cases[] = {
    { "plain", "Order status", "order status" },
    { "re", "Re: Order status", "order status" },
    { "repeated", "RE: Fwd: re:  FW: Order   status ", "order status" },
    { "counter", "Re[2]: Re(3): Re^4: x", "x" },
    { "german", "AW: WG: Rechnung", "rechnung" },
    { "chinese", "回复: 转发：答复: 订单", "订单" },
    { "traditional", "回覆：轉寄: 訂單", "訂單" },
    { "ideographic space", "回复:\xe3\x80\x80订单\xe3\x80\x80问题", "订单 问题" },
    { "not a prefix", "Rebate offer", "rebate offer" },
    { "re without colon", "Re order", "re order" },
    { "only prefixes", "Re: Fwd:", "" },
    { "empty", "", "" },
};

static void test_topic(void **state)
{
    (void)state;
    int bad = 0;
    struct wb_arena a = WB_ARENA_INIT;
    for (size_t i = 0; i < WB_ARRAY_LEN(topic_cases); i++) {
        const struct text_case *c = &topic_cases[i];
        const char *got = wb_email_subject_topic(c->in, &a);
        report(c->label, c->want, got);
        bad += strcmp(c->want, got) != 0;
    }
    wb_arena_free(&a);
    assert_int_equal(bad, 0);
}

static const struct text_case word_cases[] = {
    { "ascii", "Hello  world", "Hello world" },
    { "b utf8", "=?utf-8?B?5Lit5paH?=", "中文" },
    { "q latin1", "=?ISO-8859-1?Q?caf=E9_cr=E8me?=", "café crème" },
    { "adjacent words join", "=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab" },
    { "word and text", "Re: =?utf-8?B?5Lit5paH?= ok", "Re: 中文 ok" },
    { "split char", "=?UTF-8?B?5Lit5g==?= =?UTF-8?B?loc=?=", "中文" },
    { "folded", "=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=\r\n\tc", "ab c" },
    { "gb2312 label gbk char", "=?gb2312?B?1cWGtA==?=", "张喆" },
    { "unknown charset", "=?x-bogus?Q?caf=E9?=", "café" },
    { "raw utf8", "中文 subject", "中文 subject" },
    { "raw gbk", "\xd6\xd0\xce\xc4", "中文" },
    { "raw latin1", "caf\xe9 \xa3", "café £" },
    { "control chars", "a\x01\x7f b", "a b" },
    { "empty", "", "" },
};

static void test_words(void **state)
{
    (void)state;
    int bad = 0;
    struct wb_arena a = WB_ARENA_INIT;
    for (size_t i = 0; i < WB_ARRAY_LEN(word_cases); i++) {
        const struct text_case *c = &word_cases[i];
        const char *got = wb_email_decode_words(c->in, strlen(c->in), &a);
        report(c->label, c->want, got);
        bad += strcmp(c->want, got) != 0;
    }
    wb_arena_free(&a);
    assert_int_equal(bad, 0);
}

struct cs_case {
    const char *label;
    const char *charset;
    const char *in;
    const char *want;
};

static const struct cs_case cs_cases[] = {
    { "utf-8", "utf-8", "caf\xc3\xa9", "café" },
    { "utf-8 invalid", "utf-8",
      "a\xff"
      "b",
      "a\xef\xbf\xbd"
      "b" },
    { "crlf", "utf-8", "a\r\nb\rc", "a\nb\nc" },
    { "nul dropped", "us-ascii", "a\0b", "ab" },
    { "gb2312 as gb18030", "gb2312", "\x86\xb4", "喆" },
    { "gbk", "GBK", "\xd6\xd0", "中" },
    { "gb18030 4-byte", "gb18030", "\x81\x39\xee\x39", "㐀" },
    { "big5", "big5", "\xa4\xa4", "中" },
    { "shift_jis cp932", "Shift_JIS", "\x87\x40", "①" },
    { "iso-2022-jp", "iso-2022-jp", "\x1b$B$3$s\x1b(B", "こん" },
    { "latin1 as cp1252", "iso-8859-1", "\x93x\x94", "“x”" },
    { "windows-1252", "windows-1252", "\x80", "€" },
    { "unknown label utf8", "x-nonsense", "\xe4\xb8\xad", "中" },
    { "no label gb18030", NULL, "\xd6\xd0\xce\xc4", "中文" },
    { "no label latin1", NULL, "caf\xe9 ok", "café ok" },
    { "truncated gbk", "gbk", "a\xd6", "a\xef\xbf\xbd" },
};

static void test_charsets(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < WB_ARRAY_LEN(cs_cases); i++) {
        const struct cs_case *c = &cs_cases[i];
        size_t n = strcmp(c->label, "nul dropped") == 0 ? 3 : strlen(c->in);
        struct wb_buf out;
        wb_buf_init(&out, 0);
        assert_int_equal(wb_email_to_utf8(c->charset, c->in, n, &out), WB_OK);
        const char *got = out.data != NULL ? out.data : "";
        report(c->label, c->want, got);
        bad += strcmp(c->want, got) != 0;
        assert_true(wb_email_utf8_valid(got, strlen(got)));
        wb_buf_free(&out);
    }
    assert_int_equal(bad, 0);
}

/* A cut never splits a UTF-8 sequence (fuzz: text cut at max_text). */
static void test_utf8_trim(void **state)
{
    (void)state;
    const char *s = "a\xe4\xb8\xad\xef\xbf\xbd";
    assert_int_equal(wb_email_utf8_trim(s, 1), 1);
    assert_int_equal(wb_email_utf8_trim(s, 2), 1);
    assert_int_equal(wb_email_utf8_trim(s, 3), 1);
    assert_int_equal(wb_email_utf8_trim(s, 4), 4);
    assert_int_equal(wb_email_utf8_trim(s, 6), 4);
    assert_int_equal(wb_email_utf8_trim(s, 7), 7);
    assert_int_equal(wb_email_utf8_trim("a\xff"
                                        "b",
                                        3),
                     3); /* invalid bytes stay */
}

static const char small_msg[] = "From: A <a@example.com>\r\n"
                                "To: support@warbler.example\r\n"
                                "Subject: limits\r\n"
                                "Message-ID: <limits@example.com>\r\n"
                                "MIME-Version: 1.0\r\n"
                                "Content-Type: multipart/mixed; boundary=b\r\n"
                                "\r\n"
                                "--b\r\n"
                                "Content-Type: text/plain\r\n"
                                "\r\n"
                                "0123456789abcdefghij\r\n"
                                "--b\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Content-Disposition: attachment; filename=a.bin\r\n"
                                "Content-Transfer-Encoding: base64\r\n"
                                "\r\n"
                                "AAECAwQFBgcICQ==\r\n"
                                "--b\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Content-Disposition: attachment; filename=b.bin\r\n"
                                "\r\n"
                                "xyz\r\n"
                                "--b--\r\n";

static enum wb_status parse_small(struct wb_email_limits *lim, struct wb_arena *a,
                                  struct wb_email_parsed *m)
{
    return wb_email_parse_mime((const uint8_t *)small_msg, sizeof(small_msg) - 1, lim, a, m, NULL);
}

static void test_limits(void **state)
{
    (void)state;
    struct wb_email_limits lim;
    struct wb_email_parsed m;
    struct wb_arena a = WB_ARENA_INIT;

    wb_email_limits_default(&lim);
    assert_int_equal(parse_small(&lim, &a, &m), WB_OK);
    assert_int_equal(m.in.n_attachments, 2);
    assert_int_equal(m.in.attachments[0].size, 10);
    assert_memory_equal(m.in.attachments[0].data, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10);
    assert_string_equal(m.in.attachments[1].filename, "b.bin");
    assert_int_equal(m.in.raw_len, sizeof(small_msg) - 1);
    assert_memory_equal(m.in.raw, small_msg, sizeof(small_msg) - 1);

    lim.max_message = 100;
    assert_int_equal(parse_small(&lim, &a, &m), WB_ERR_LIMIT);
    assert_non_null(m.in.external_id);
    assert_null(m.in.raw);

    wb_email_limits_default(&lim);
    lim.max_headers = 5;
    assert_int_equal(parse_small(&lim, &a, &m), WB_ERR_LIMIT);

    wb_email_limits_default(&lim);
    lim.max_attachment = 5;
    assert_int_equal(parse_small(&lim, &a, &m), WB_OK);
    assert_int_equal(m.in.n_attachments, 1); /* b.bin, 3 bytes (+CRLF trimmed by MIME) */
    assert_string_equal(m.in.attachments[0].filename, "b.bin");
    assert_int_equal(m.n_skipped, 1);
    assert_string_equal(m.skipped[0].filename, "a.bin");
    assert_int_equal(m.skipped[0].reason, WB_EMAIL_SKIP_TOO_LARGE);
    assert_true(m.skipped[0].size >= 10); /* estimated from the base64 length */

    wb_email_limits_default(&lim);
    lim.max_attachments = 1;
    assert_int_equal(parse_small(&lim, &a, &m), WB_OK);
    assert_int_equal(m.in.n_attachments, 1);
    assert_int_equal(m.n_skipped, 1);
    assert_int_equal(m.skipped[0].reason, WB_EMAIL_SKIP_TOO_MANY);

    wb_email_limits_default(&lim);
    lim.max_text = 5;
    assert_int_equal(parse_small(&lim, &a, &m), WB_OK);
    assert_string_equal(m.in.full_text, "01234");
    assert_true(m.is_text_truncated);

    wb_email_limits_default(&lim);
    lim.max_depth = 0;
    assert_int_equal(parse_small(&lim, &a, &m), WB_OK);
    assert_int_equal(m.in.n_attachments, 0);
    assert_int_equal(m.skipped[0].reason, WB_EMAIL_SKIP_TOO_DEEP);

    assert_int_equal(parse_small(NULL, &a, &m), WB_OK); /* NULL limits: defaults */
    assert_int_equal(wb_email_parse_mime(NULL, 5, NULL, &a, &m, NULL), WB_ERR_INVAL);
    assert_int_equal(wb_email_parse_mime(NULL, 0, NULL, &a, &m, NULL), WB_ERR_PARSE);
    wb_arena_free(&a);
}

/* Inputs that would make libetpan recurse too deep are refused, not parsed. */
static void test_nesting(void **state)
{
    (void)state;
    static const char level[] = "Content-Type: message/rfc822\r\nMIME-Version: 1.0\r\n\r\n";
    struct wb_buf b;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed m;
    wb_buf_init(&b, 0);
    assert_int_equal(wb_buf_append(&b, "From: a@example.com\r\n", 21), WB_OK);
    for (int i = 0; i < 999; i++) {
        assert_int_equal(wb_buf_append(&b, level, sizeof(level) - 1), WB_OK);
    }
    assert_int_equal(wb_buf_append(&b, "x\r\n", 3), WB_OK);
    assert_int_equal(wb_email_parse_mime((const uint8_t *)b.data, b.len, NULL, &a, &m, NULL),
                     WB_OK);
    assert_int_equal(m.in.n_attachments, 1); /* the first nested message */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(wb_buf_append(&b, level, sizeof(level) - 1), WB_OK);
    }
    assert_int_equal(wb_email_parse_mime((const uint8_t *)b.data, b.len, NULL, &a, &m, NULL),
                     WB_ERR_LIMIT);
    assert_non_null(m.in.external_id);

    wb_buf_reset(&b);
    assert_int_equal(wb_buf_append(&b, "From: a@example.com ", 20), WB_OK);
    for (int i = 0; i < 101; i++) {
        assert_int_equal(wb_buf_append(&b, "(", 1), WB_OK);
    }
    assert_int_equal(wb_buf_append(&b, "\r\n\r\nbody\r\n", 10), WB_OK);
    assert_int_equal(wb_email_parse_mime((const uint8_t *)b.data, b.len, NULL, &a, &m, NULL),
                     WB_ERR_LIMIT);
    /* many comments on separate lines are fine */
    wb_buf_reset(&b);
    assert_int_equal(wb_buf_append(&b, "From: a@example.com\r\n\r\n", 23), WB_OK);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(wb_buf_append(&b, "(a\n", 3), WB_OK);
    }
    assert_int_equal(wb_email_parse_mime((const uint8_t *)b.data, b.len, NULL, &a, &m, NULL),
                     WB_OK);
    wb_buf_free(&b);
    wb_arena_free(&a);
}

/* The synthetic id is stable for the same bytes and differs for others. */
static void test_synthetic_id(void **state)
{
    (void)state;
    const char *m1 = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";
    const char *m2 = "From: a@example.com\r\nSubject: x\r\n\r\nbody!\r\n";
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed p1, p2, p3;
    assert_int_equal(wb_email_parse_mime((const uint8_t *)m1, strlen(m1), NULL, &a, &p1, NULL),
                     WB_OK);
    assert_int_equal(wb_email_parse_mime((const uint8_t *)m1, strlen(m1), NULL, &a, &p2, NULL),
                     WB_OK);
    assert_int_equal(wb_email_parse_mime((const uint8_t *)m2, strlen(m2), NULL, &a, &p3, NULL),
                     WB_OK);
    assert_true(p1.is_synthetic_id);
    assert_int_equal(strlen(p1.in.external_id), 7 + 64);
    assert_string_equal(p1.in.external_id, p2.in.external_id);
    assert_string_not_equal(p1.in.external_id, p3.in.external_id);
    wb_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html),      cmocka_unit_test(test_html_meta_charset),
        cmocka_unit_test(test_quote),     cmocka_unit_test(test_topic),
        cmocka_unit_test(test_words),     cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_limits),    cmocka_unit_test(test_synthetic_id),
        cmocka_unit_test(test_utf8_trim), cmocka_unit_test(test_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
