/*
 * test_email_corpus.c - every message of tests/data/email through
 * wb_email_parse_mime(), checked against its NAME.expect file.
 *
 * The table below names each corpus message (a missing file fails the
 * test). An expectation file has one `field: value` per line; values use
 * \n and \t escapes. Fields: status (ok|parse|limit), external_id,
 * subject, topic, sender_name, sender_email, sender_id, in_reply_to,
 * text, full (exact; "(null)" for NULL), text~ / full~ / subject~
 * (contains), text!~ / full!~ / subject!~ (does not contain), text^ /
 * full^ / external_id^ (starts with), yes/no flags (no_auto_reply,
 * is_bounce, is_auto, is_from_self, has_date, has_html, text_from_html,
 * quote_stripped, synthetic_id), numbers (auto_flags, sent_at_ms, n_to,
 * n_cc, n_attachments, n_skipped, n_references), thread_refs (space
 * separated, in order), attachment (name|type|size|inline, the k-th line
 * for the k-th attachment, '*' for any size), attachment_data (k|bytes,
 * exact) and attachment_head (k|prefix).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email_parse.h"

struct corpus_case {
    const char *name;
    bool generated; /* made at build time by gen/gen_big.py */
};

static const struct corpus_case cases[] = {
    { "rfc2047_b_utf8", false },
    { "rfc2047_q_latin1", false },
    { "rfc2047_split", false },
    { "rfc2047_malformed", false },
    { "charset_gb2312", false },
    { "charset_gbk", false },
    { "charset_gb18030", false },
    { "charset_big5", false },
    { "charset_iso2022jp", false },
    { "charset_shiftjis", false },
    { "charset_latin1", false },
    { "charset_windows1252", false },
    { "qp_softbreaks", false },
    { "alternative_gmail", false },
    { "html_only_script", false },
    { "outlook_html_reply", false },
    { "attachment_rfc2231", false },
    { "inline_image", false },
    { "reply_english", false },
    { "reply_chinese", false },
    { "reply_foxmail", false },
    { "reply_outlook_plain", false },
    { "reply_outlook_zh", false },
    { "quoted_inline", false },
    { "signature", false },
    { "auto_submitted", false },
    { "auto_xautoreply", false },
    { "auto_xautorespond", false },
    { "auto_precedence_bulk", false },
    { "auto_precedence_junk", false },
    { "auto_precedence_list", false },
    { "list_id", false },
    { "auto_submitted_no", false },
    { "bounce_postfix", false },
    { "from_self", false },
    { "bare_lf", false },
    { "no_message_id", false },
    { "no_date", false },
    { "eight_bit_headers", false },
    { "eight_bit_gbk_headers", false },
    { "empty_body", false },
    { "thread_refs", false },
    { "forwarded_rfc822", false },
    { "garbage", false },
    { "not_mime", false },
    { "python_email_lib", false },
    { "many_recipients", true },
    { "big_attachment", true },
};

static const char *const own[] = { "support@warbler.example" };

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf != NULL && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
            }
            buf = nb;
        }
    }
    (void)fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
    }
    *len_out = n;
    return buf;
}

/* Undo \n and \t escapes in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s != '\0'; s++) {
        if (s[0] == '\\' && s[1] == 'n') {
            *o++ = '\n';
            s++;
        } else if (s[0] == '\\' && s[1] == 't') {
            *o++ = '\t';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

struct check {
    const char *file;
    int line;
    int failures;
    size_t att_line; /* attachment lines seen */
};

static void fail_at(struct check *c, const char *key, const char *want, const char *got)
{
    print_error("%s:%d: %s: want [%s] got [%s]\n", c->file, c->line, key, want,
                got != NULL ? got : "(null)");
    c->failures++;
}

static void check_str(struct check *c, const char *key, const char *want, const char *got)
{
    const char *g = got != NULL ? got : "(null)";
    if (strcmp(want, g) != 0) {
        fail_at(c, key, want, got);
    }
}

static void check_op(struct check *c, const char *key, char op, const char *want, const char *got)
{
    const char *g = got != NULL ? got : "";
    bool ok = op == '~'   ? strstr(g, want) != NULL
              : op == '!' ? strstr(g, want) == NULL
                          : strncmp(g, want, strlen(want)) == 0;
    if (!ok) {
        fail_at(c, key, want, got);
    }
}

static void check_flag(struct check *c, const char *key, const char *want, bool got)
{
    check_str(c, key, want, got ? "yes" : "no");
}

static void check_num(struct check *c, const char *key, const char *want, long long got)
{
    char g[32];
    (void)snprintf(g, sizeof(g), "%lld", got);
    check_str(c, key, want, g);
}

static void check_refs(struct check *c, const char *want, const struct wb_email_parsed *m)
{
    char got[2048] = "";
    size_t o = 0;
    for (size_t i = 0; i < m->in.n_thread_refs && o < sizeof(got) - 2; i++) {
        int w = snprintf(got + o, sizeof(got) - o, "%s%s", i ? " " : "", m->in.thread_refs[i]);
        o += w > 0 ? (size_t)w : 0;
    }
    check_str(c, "thread_refs", want, got);
}

static void check_attachment(struct check *c, const char *want, const struct wb_email_parsed *m)
{
    size_t k = c->att_line++;
    if (k >= m->in.n_attachments) {
        fail_at(c, "attachment", want, "(missing)");
        return;
    }
    const struct wb_attachment *at = &m->in.attachments[k];
    char got[1024];
    (void)snprintf(got, sizeof(got), "%s|%s|%zu|%s", at->filename ? at->filename : "(null)",
                   at->content_type, at->size, at->is_inline ? "yes" : "no");
    const char *star = strstr(want, "|*|");
    if (star != NULL) {
        /* any size: compare name|type and the inline flag only */
        size_t head = (size_t)(star - want);
        const char *gbar = strrchr(got, '|');
        if (strncmp(got, want, head + 1) != 0 || strcmp(gbar, star + 2) != 0) {
            fail_at(c, "attachment", want, got);
        }
        return;
    }
    check_str(c, "attachment", want, got);
}

static void check_data(struct check *c, const char *key, const char *want,
                       const struct wb_email_parsed *m, bool head)
{
    char *end = NULL;
    unsigned long k = strtoul(want, &end, 10);
    if (end == NULL || *end != '|' || k >= m->in.n_attachments) {
        fail_at(c, key, want, "(no such attachment)");
        return;
    }
    const struct wb_attachment *at = &m->in.attachments[k];
    const char *w = end + 1;
    size_t wl = strlen(w);
    bool ok = head ? at->size >= wl && memcmp(at->data, w, wl) == 0
                   : at->size == wl && memcmp(at->data, w, wl) == 0;
    if (!ok) {
        fail_at(c, key, w, "(different bytes)");
    }
}

static const char *status_word(enum wb_status st)
{
    return st == WB_OK ? "ok" : st == WB_ERR_PARSE ? "parse" : st == WB_ERR_LIMIT ? "limit" : "?";
}

struct flag_field {
    const char *key;
    size_t off;
};

#define FLAG(k, f)                             \
    {                                          \
        k, offsetof(struct wb_email_parsed, f) \
    }
static const struct flag_field flags[] = {
    FLAG("no_auto_reply", in.no_auto_reply),
    FLAG("is_bounce", is_bounce),
    FLAG("is_auto", is_auto),
    FLAG("is_from_self", is_from_self),
    FLAG("has_date", has_date),
    FLAG("has_html", has_html),
    FLAG("text_from_html", text_from_html),
    FLAG("quote_stripped", is_quote_stripped),
    FLAG("synthetic_id", is_synthetic_id),
};

static bool check_strings(struct check *c, const char *key, const char *v,
                          const struct wb_email_parsed *m)
{
    static const char *const names[] = { "external_id", "subject",      "topic",
                                         "sender_name", "sender_email", "sender_id",
                                         "in_reply_to", "text",         "full" };
    const char *vals[] = { m->in.external_id, m->in.subject,      m->in.topic,
                           m->in.sender_name, m->in.sender_email, m->in.sender_id,
                           m->in_reply_to,    m->in.text,         m->in.full_text };
    for (size_t i = 0; i < WB_ARRAY_LEN(names); i++) {
        size_t kl = strlen(names[i]);
        if (strncmp(key, names[i], kl) != 0) {
            continue;
        }
        const char *op = key + kl;
        if (*op == '\0') {
            check_str(c, key, v, vals[i]);
            return true;
        }
        if (strcmp(op, "~") == 0 || strcmp(op, "!~") == 0 || strcmp(op, "^") == 0) {
            check_op(c, key, op[0], v, vals[i]);
            return true;
        }
    }
    return false;
}

static void check_line(struct check *c, const char *key, const char *v, enum wb_status st,
                       const struct wb_email_parsed *m)
{
    if (strcmp(key, "status") == 0) {
        check_str(c, key, v, status_word(st));
        return;
    }
    if (check_strings(c, key, v, m)) {
        return;
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(flags); i++) {
        if (strcmp(key, flags[i].key) == 0) {
            check_flag(c, key, v, *(const bool *)((const char *)m + flags[i].off));
            return;
        }
    }

    const struct {
        const char *key;
        long long v;
    } nums[] = {
        { "auto_flags", (long long)m->auto_flags },
        { "sent_at_ms", (long long)m->in.sent_at_ms },
        { "n_to", (long long)m->n_to },
        { "n_cc", (long long)m->n_cc },
        { "n_attachments", (long long)m->in.n_attachments },
        { "n_skipped", (long long)m->n_skipped },
        { "n_references", (long long)m->n_references },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(nums); i++) {
        if (strcmp(key, nums[i].key) == 0) {
            check_num(c, key, v, nums[i].v);
            return;
        }
    }
    if (strcmp(key, "thread_refs") == 0) {
        check_refs(c, v, m);
    } else if (strcmp(key, "attachment") == 0) {
        check_attachment(c, v, m);
    } else if (strcmp(key, "attachment_data") == 0 || strcmp(key, "attachment_head") == 0) {
        check_data(c, key, v, m, strcmp(key, "attachment_head") == 0);
    } else {
        fail_at(c, "unknown field", key, NULL);
    }
}

static void run_expect(const char *path, char *exp, enum wb_status st,
                       const struct wb_email_parsed *m)
{
    struct check c = { .file = path };
    char *line = exp;
    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        c.line++;
        char *colon = strchr(line, ':');
        /* the key ends at ": " or at a ':' closing the line (empty value) */
        while (colon != NULL && colon[1] != ' ' && colon[1] != '\0') {
            colon = strchr(colon + 1, ':');
        }
        if (line[0] != '#' && colon != NULL) {
            char *v = colon[1] == ' ' ? colon + 2 : colon + 1;
            *colon = '\0';
            unescape(v);
            check_line(&c, line, v, st, m);
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    assert_int_equal(c.failures, 0);
}

static void run_case(const struct corpus_case *cc)
{
    const char *src = getenv("WB_SOURCE_DIR");
    char eml[4096], expect[4096];
    const char *dir = cc->generated ? WB_EMAIL_GEN_DIR : "tests/data/email";
    const char *root = cc->generated ? "" : (src != NULL ? src : ".");
    const char *sep = cc->generated ? "" : "/";
    (void)snprintf(eml, sizeof(eml), "%s%s%s/%s.eml", root, sep, dir, cc->name);
    (void)snprintf(expect, sizeof(expect), "%s/tests/data/email/%s%s.expect",
                   src != NULL ? src : ".", cc->generated ? "gen/" : "", cc->name);
    size_t n = 0, en = 0;
    char *raw = read_file(eml, &n);
    char *exp = read_file(expect, &en);
    if (raw == NULL || exp == NULL) {
        print_error("cannot read %s or %s\n", eml, expect);
    }
    assert_non_null(raw);
    assert_non_null(exp);
    struct wb_email_limits lim;
    wb_email_limits_default(&lim);
    lim.own_addresses = own;
    lim.n_own_addresses = 1;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed m;
    struct wb_err err = { 0 };
    enum wb_status st = wb_email_parse_mime((const uint8_t *)raw, n, &lim, &a, &m, &err);
    assert_non_null(m.in.external_id); /* always set, even on error */
    run_expect(expect, exp, st, &m);
    wb_arena_free(&a);
    free(raw);
    free(exp);
}

static void test_corpus(void **state)
{
    run_case(*state);
}

int main(void)
{
    struct CMUnitTest tests[WB_ARRAY_LEN(cases)];
    for (size_t i = 0; i < WB_ARRAY_LEN(cases); i++) {
        tests[i] = (struct CMUnitTest){
            .name = cases[i].name,
            .test_func = test_corpus,
            .initial_state = (void *)(uintptr_t)&cases[i],
        };
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
