/*
 * test_email_compose.c - table-driven tests of the outbound message
 * builder (email_compose.h). Each case composes a reply, checks the raw
 * bytes (CRLF only, 7-bit, short lines, wanted and unwanted header lines)
 * and parses them back with wb_email_parse_mime to compare subject,
 * sender, text and threading.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email_compose.h"
#include "email_parse.h"

#define MID "wb.7.42.0123456789abcdef@example.com"
#define T0  1715076000 /* Tue, 07 May 2024 10:00:00 +0000 */

static const char *const refs3[] = { "first@x.example", "sha256:abcdef", MID "x",
                                     "newest@y.example" };

static const char *const refs_bad[] = { "ok@x.example", "evil@x\r\nBcc: a@b" };

struct compose_case {
    const char *label;
    /* inputs: NULL fields keep the defaults below */
    const char *display_name;
    const char *msgid_domain;
    const char *recipient_name;
    const char *recipient_email;
    const char *subject;
    const char *text;
    enum wb_author author;
    const char *const *refs;
    size_t n_refs;
    /* expectations */
    enum wb_status want_status;
    const char *want_subject; /* decoded; NULL = not checked */
    const char *want_name;    /* From display name decoded */
    const char *want_text;    /* full_text; NULL = not checked */
    const char *want_irt;     /* in_reply_to; "" = absent */
    size_t want_n_refs;
    const char *want_has[4];   /* raw substrings that must be present */
    const char *want_hasnt[3]; /* raw substrings that must be absent */
};

static const struct compose_case cases[] = {
    { .label = "plain reply",
      .subject = "Order 1234",
      .text = "Hello,\nyour order shipped.\n\nRegards",
      .want_subject = "Re: Order 1234",
      .want_name = "Support Team",
      .want_text = "Hello,\nyour order shipped.\n\nRegards",
      .want_irt = "",
      .want_has = { "\r\nMessage-ID: <" MID ">\r\n", "Date: Tue, 07 May 2024 10:00:00 +0000\r\n",
                    "From: Support Team <support@example.com>\r\n",
                    "X-Auto-Response-Suppress: All\r\n" },
      .want_hasnt = { "Auto-Submitted", "In-Reply-To", "References" } },
    { .label = "already Re",
      .subject = "RE: Order 1234",
      .text = "x",
      .want_subject = "RE: Order 1234",
      .want_irt = "" },
    { .label = "already lowercase re",
      .subject = "re: hi",
      .text = "x",
      .want_subject = "re: hi",
      .want_irt = "" },
    { .label = "chinese prefix",
      .subject = "回复: 订单问题",
      .text = "您好",
      .want_subject = "回复: 订单问题",
      .want_text = "您好",
      .want_irt = "",
      .want_has = { "Subject: =?UTF-8?B?" } },
    { .label = "utf8 subject and name",
      .display_name = "Équipe Support",
      .recipient_name = "Zoë Müller",
      .subject = "Bestellung für Zoë — Lieferung, Rückfrage und noch viel mehr Text hier",
      .text = "Grüße\nZeile zwei",
      .want_subject = "Re: Bestellung für Zoë — Lieferung, Rückfrage und noch viel mehr Text hier",
      .want_name = "Équipe Support",
      .want_text = "Grüße\nZeile zwei",
      .want_irt = "",
      .want_has = { "Subject: Re: =?UTF-8?B?", "\r\n =?UTF-8?B?", "To: =?UTF-8?B?" } },
    { .label = "name with specials is quoted",
      .display_name = "Example, Inc. \"Help\"",
      .subject = "x",
      .text = "x",
      .want_name = "Example, Inc. \"Help\"",
      .want_irt = "",
      .want_has = { "From: \"Example, Inc. \\\"Help\\\"\" <support@example.com>" } },
    { .label = "long ascii subject folds",
      .subject = "this subject is long enough that it has to be folded onto a second line "
                 "because it passes seventy eight columns",
      .text = "x",
      .want_subject = "Re: this subject is long enough that it has to be folded onto a second "
                      "line because it passes seventy eight columns",
      .want_irt = "" },
    { .label = "no subject", .text = "x", .want_subject = "Re:", .want_irt = "" },
    { .label = "encoded-looking ascii subject is encoded",
      .subject = "=?UTF-8?B?SGk=?=",
      .text = "x",
      .want_subject = "Re: =?UTF-8?B?SGk=?=",
      .want_irt = "" },
    { .label = "bot answer threads",
      .subject = "Help",
      .text = "Our opening hours are 9-17.",
      .author = WB_AUTHOR_BOT,
      .refs = refs3,
      .n_refs = 4,
      .want_subject = "Re: Help",
      .want_text = "Our opening hours are 9-17.",
      .want_irt = "newest@y.example",
      .want_n_refs = 3,
      .want_has = { "Auto-Submitted: auto-replied\r\n", "In-Reply-To: <newest@y.example>\r\n",
                    "References: <first@x.example>\r\n <" MID "x>\r\n <newest@y.example>\r\n" },
      .want_hasnt = { "sha256" } },
    { .label = "system message",
      .subject = "x",
      .text = "closed",
      .author = WB_AUTHOR_SYSTEM,
      .want_irt = "",
      .want_has = { "Auto-Submitted: auto-generated\r\n" } },
    { .label = "qp body: long line, equals, dots, From, trailing space",
      .subject = "x",
      .text = "a=b\n.start\nFrom here\ntrailing \n"
              "0123456789012345678901234567890123456789012345678901234567890123456789"
              "0123456789012345678901234567890123456789",
      .want_text = "a=b\n.start\nFrom here\ntrailing \n"
                   "0123456789012345678901234567890123456789012345678901234567890123456789"
                   "0123456789012345678901234567890123456789",
      .want_irt = "",
      .want_has = { "a=3Db\r\n=2Estart\r\n=46rom here\r\ntrailing=20\r\n" } },
    { .label = "html escaped, paragraphs",
      .subject = "x",
      .text = "<b>bold</b> & \"q\"\nline2\n\npara2",
      .want_text = "<b>bold</b> & \"q\"\nline2\n\npara2",
      .want_irt = "",
      .want_has = { "<p>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot;<br>\r\nline2</p>\r\n<p>para2</p>",
                    "Content-Type: text/html; charset=utf-8" } },
    { .label = "crlf text",
      .subject = "x",
      .text = "one\r\ntwo\rthree",
      .want_text = "one\ntwo\nthree",
      .want_irt = "" },
    { .label = "message-id domain override",
      .msgid_domain = "mid.example.org",
      .subject = "x",
      .text = "x",
      .want_irt = "" },
    { .label = "CR in subject",
      .subject = "x\r\nBcc: victim@example.com",
      .text = "x",
      .want_status = WB_ERR_INVAL },
    { .label = "LF in display name",
      .display_name = "Support\nBcc: x@y",
      .subject = "x",
      .text = "x",
      .want_status = WB_ERR_INVAL },
    { .label = "LF in recipient name",
      .recipient_name = "Bob\n",
      .text = "x",
      .want_status = WB_ERR_INVAL },
    { .label = "CRLF in reference",
      .refs = refs_bad,
      .n_refs = 2,
      .text = "x",
      .want_status = WB_ERR_INVAL },
    { .label = "recipient with angle bracket",
      .recipient_email = "bob@example.net>\tx",
      .text = "x",
      .want_status = WB_ERR_INVAL },
    { .label = "recipient without at",
      .recipient_email = "bob",
      .text = "x",
      .want_status = WB_ERR_INVAL },
};

/* The conf's strings are char *: keep writable copies here. */
static char conf_address[128], conf_name[128], conf_domain[128];

static void set_conf(struct wb_email_conf *conf, const char *address, const char *name,
                     const char *domain)
{
    memset(conf, 0, sizeof(*conf));
    (void)snprintf(conf_address, sizeof(conf_address), "%s", address);
    (void)snprintf(conf_name, sizeof(conf_name), "%s", name);
    (void)snprintf(conf_domain, sizeof(conf_domain), "%s", domain);
    conf->address = conf_address;
    conf->display_name = conf_name;
    conf->message_id_domain = conf_domain;
}

static void default_conf(struct wb_email_conf *conf, const struct compose_case *c)
{
    set_conf(conf, "support@example.com",
             c->display_name != NULL ? c->display_name : "Support Team",
             c->msgid_domain != NULL ? c->msgid_domain : "");
}

static void default_ob(struct wb_outbound *ob, const struct compose_case *c)
{
    memset(ob, 0, sizeof(*ob));
    ob->conversation_id = 7;
    ob->message_id = 42;
    ob->recipient_id = "bob@example.net";
    ob->recipient_email = c->recipient_email;
    ob->recipient_name = c->recipient_name != NULL ? c->recipient_name : "Bob";
    ob->subject = c->subject;
    ob->text = c->text;
    ob->author = c->author != 0 ? c->author : WB_AUTHOR_AGENT;
    ob->thread_refs = c->refs;
    ob->n_thread_refs = c->n_refs;
}

/* CRLF only, 7-bit, lines at most 78 columns. Returns a problem or NULL. */
static const char *check_wire(const char *s, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || c == 0) {
            return "8-bit byte";
        }
        if (c == '\n' && (i == 0 || s[i - 1] != '\r')) {
            return "bare LF";
        }
        if (c == '\r' && (i + 1 >= n || s[i + 1] != '\n')) {
            return "bare CR";
        }
        col = c == '\n' ? 0 : col + 1;
        if (col > 79) { /* 78 plus the CR */
            return "line longer than 78";
        }
    }
    return n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n' ? NULL : "no final CRLF";
}

static int check_parsed(const struct compose_case *c, const char *raw, size_t n)
{
    int bad = 0;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed p;
    enum wb_status st = wb_email_parse_mime((const uint8_t *)raw, n, NULL, &a, &p, NULL);
    if (st != WB_OK) {
        print_error("%s: parse: %s\n", c->label, wb_status_str(st));
        wb_arena_free(&a);
        return 1;
    }
#define EXPECT_STR(what, want, got)                                                                \
    do {                                                                                           \
        const char *g_ = (got) != NULL ? (got) : "";                                               \
        if ((want) != NULL && strcmp((want), g_) != 0) {                                           \
            print_error("%s: %s: want [%s] got [%s]\n", c->label, what, (const char *)(want), g_); \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0)
    EXPECT_STR("subject", c->want_subject, p.in.subject);
    EXPECT_STR("name", c->want_name, p.in.sender_name);
    EXPECT_STR("text", c->want_text, p.in.full_text);
    EXPECT_STR("in-reply-to", c->want_irt, p.in_reply_to);
    EXPECT_STR("sender", "support@example.com", p.in.sender_id);
    const char *dom = c->msgid_domain != NULL ? c->msgid_domain : "example.com";
    if (p.message_id == NULL || !wb_email_message_id_is_ours(p.message_id, strlen(p.message_id),
                                                             c->msgid_domain ? dom : NULL)) {
        print_error("%s: message-id not ours: %s\n", c->label, p.message_id);
        bad++;
    }
    if (p.n_references != c->want_n_refs || !p.has_date ||
        p.is_auto != (c->author == WB_AUTHOR_BOT || c->author == WB_AUTHOR_SYSTEM)) {
        print_error("%s: refs %zu (want %zu) date %d auto %d\n", c->label, p.n_references,
                    c->want_n_refs, p.has_date, p.is_auto);
        bad++;
    }
    if (p.has_date && p.in.sent_at_ms != (int64_t)T0 * 1000) {
        print_error("%s: date %lld\n", c->label, (long long)p.in.sent_at_ms);
        bad++;
    }
    wb_arena_free(&a);
    return bad;
}

static int run_case(const struct compose_case *c)
{
    struct wb_email_conf conf;
    struct wb_outbound ob;
    default_conf(&conf, c);
    default_ob(&ob, c);
    char mid[128];
    assert_int_equal(wb_email_message_id(&conf, 7, 42, "0123456789abcdef", mid, sizeof(mid), NULL),
                     WB_OK);
    struct wb_buf out;
    wb_buf_init(&out, 1 << 20);
    struct wb_err err = { 0 };
    enum wb_status st = wb_email_compose(&conf, &ob, mid, T0, &out, &err);
    int bad = 0;
    if (st != c->want_status) {
        print_error("%s: status %s want %s (%s)\n", c->label, wb_status_str(st),
                    wb_status_str(c->want_status), err.msg);
        bad = 1;
    } else if (st == WB_OK) {
        const char *problem = check_wire(out.data, out.len);
        if (problem != NULL) {
            print_error("%s: %s\n%s\n", c->label, problem, out.data);
            bad++;
        }
        for (size_t i = 0; i < WB_ARRAY_LEN(c->want_has) && c->want_has[i] != NULL; i++) {
            if (strstr(out.data, c->want_has[i]) == NULL) {
                print_error("%s: missing [%s] in\n%s\n", c->label, c->want_has[i], out.data);
                bad++;
            }
        }
        for (size_t i = 0; i < WB_ARRAY_LEN(c->want_hasnt) && c->want_hasnt[i] != NULL; i++) {
            if (strstr(out.data, c->want_hasnt[i]) != NULL) {
                print_error("%s: unwanted [%s]\n", c->label, c->want_hasnt[i]);
                bad++;
            }
        }
        if (strstr(out.data, "\r\nContent-Type: text/plain; charset=utf-8\r\n") == NULL ||
            strstr(out.data, "\r\nContent-Type: text/html; charset=utf-8\r\n") == NULL) {
            print_error("%s: a part is missing\n", c->label);
            bad++;
        }
        bad += check_parsed(c, out.data, out.len);
    }
    wb_buf_free(&out);
    return bad;
}

static void test_compose_cases(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < WB_ARRAY_LEN(cases); i++) {
        bad += run_case(&cases[i]);
    }
    assert_int_equal(bad, 0);
}

/* More references than the cap: the first plus the newest are kept, in order. */
static void test_compose_reference_cap(void **state)
{
    (void)state;
    char ids[30][32];
    const char *refs[30];
    for (int i = 0; i < 30; i++) {
        (void)snprintf(ids[i], sizeof(ids[i]), "r%d@x.example", i);
        refs[i] = ids[i];
    }
    struct compose_case c = { .label = "cap", .subject = "x", .text = "x" };
    struct wb_email_conf conf;
    struct wb_outbound ob;
    default_conf(&conf, &c);
    default_ob(&ob, &c);
    ob.thread_refs = refs;
    ob.n_thread_refs = 30;
    struct wb_buf out;
    wb_buf_init(&out, 0);
    assert_int_equal(wb_email_compose(&conf, &ob, MID, T0, &out, NULL), WB_OK);
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed p;
    assert_int_equal(wb_email_parse_mime((const uint8_t *)out.data, out.len, NULL, &a, &p, NULL),
                     WB_OK);
    assert_int_equal(p.n_references, WB_EMAIL_MAX_REFERENCES);
    assert_string_equal(p.references[0], "r0@x.example");
    assert_string_equal(p.references[1], "r11@x.example");
    assert_string_equal(p.references[WB_EMAIL_MAX_REFERENCES - 1], "r29@x.example");
    assert_string_equal(p.in_reply_to, "r29@x.example");
    wb_arena_free(&a);
    wb_buf_free(&out);
}

static void test_compose_limit(void **state)
{
    (void)state;
    struct compose_case c = { .label = "limit", .subject = "x", .text = "a long enough body" };
    struct wb_email_conf conf;
    struct wb_outbound ob;
    default_conf(&conf, &c);
    default_ob(&ob, &c);
    struct wb_buf out;
    wb_buf_init(&out, 200);
    assert_int_equal(wb_email_compose(&conf, &ob, MID, T0, &out, NULL), WB_ERR_LIMIT);
    wb_buf_free(&out);
}

struct mid_case {
    const char *label;
    const char *address;
    const char *domain;
    const char *random;
    enum wb_status want;
    const char *want_id;
};

static const struct mid_case mid_cases[] = {
    { "address domain", "support@example.com", "", "abcdef12", WB_OK,
      "wb.3.4.abcdef12@example.com" },
    { "own domain", "support@example.com", "m.example.org", "ABCdef1234", WB_OK,
      "wb.3.4.ABCdef1234@m.example.org" },
    { "short token", "support@example.com", "", "abc", WB_ERR_INVAL, NULL },
    { "bad token", "support@example.com", "", "abcdef12!", WB_ERR_INVAL, NULL },
    { "bad domain", "support@example.com", "ex ample.org", "abcdef12", WB_ERR_INVAL, NULL },
    { "no domain", "support", "", "abcdef12", WB_ERR_INVAL, NULL },
    { "too long", "support@example.com",
      "a-very-long-domain-name-that-goes-on.and-on-and-on-for-quite-a-while.example.org",
      "0123456789abcdef0123456789abcdef0123456789abcdef", WB_ERR_LIMIT, NULL },
};

static void test_message_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < WB_ARRAY_LEN(mid_cases); i++) {
        const struct mid_case *c = &mid_cases[i];
        struct wb_email_conf conf;
        set_conf(&conf, c->address, "", c->domain);
        char buf[128];
        enum wb_status st = wb_email_message_id(&conf, 3, 4, c->random, buf, sizeof(buf), NULL);
        if (st != c->want) {
            fail_msg("%s: status %s", c->label, wb_status_str(st));
        }
        if (c->want_id != NULL) {
            assert_string_equal(buf, c->want_id);
            assert_true(wb_email_message_id_is_ours(buf, strlen(buf), NULL));
        }
    }
}

struct ours_case {
    const char *id;
    const char *domain;
    bool want;
};

static const struct ours_case ours_cases[] = {
    { "wb.1.2.abc@example.com", NULL, true },
    { "wb.1.2.abc@example.com", "EXAMPLE.com", true },
    { "wb.1.2.abc@example.com", "example.org", false },
    { "wb.1.2.abc@", NULL, false },
    { "wb.1.x.abc@example.com", NULL, false },
    { "wb..2.abc@example.com", NULL, false },
    { "wb.1.2.@example.com", NULL, false },
    { "xb.1.2.abc@example.com", NULL, false },
    { "CAF123@mail.gmail.com", NULL, false },
    { "wb.1.2.abc@a@b", NULL, false },
    { "", NULL, false },
};

static void test_message_id_is_ours(void **state)
{
    (void)state;
    for (size_t i = 0; i < WB_ARRAY_LEN(ours_cases); i++) {
        const struct ours_case *c = &ours_cases[i];
        if (wb_email_message_id_is_ours(c->id, strlen(c->id), c->domain) != c->want) {
            fail_msg("%s (%s): want %d", c->id, c->domain ? c->domain : "-", c->want);
        }
    }
}

struct date_case {
    int64_t t;
    const char *want;
};

static const struct date_case date_cases[] = {
    { 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
    { T0, "Tue, 07 May 2024 10:00:00 +0000" },
    { 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
    { 1735689599, "Tue, 31 Dec 2024 23:59:59 +0000" },
};

static void test_format_date(void **state)
{
    (void)state;
    for (size_t i = 0; i < WB_ARRAY_LEN(date_cases); i++) {
        struct wb_buf b;
        wb_buf_init(&b, 0);
        assert_int_equal(wb_email_format_date(date_cases[i].t, &b), WB_OK);
        assert_string_equal(b.data, date_cases[i].want);
        wb_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_cases),      cmocka_unit_test(test_compose_reference_cap),
        cmocka_unit_test(test_compose_limit),      cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_message_id_is_ours), cmocka_unit_test(test_format_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
