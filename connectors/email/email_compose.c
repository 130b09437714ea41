/*
 * email_compose.c - the RFC 5322 / MIME bytes of one outbound reply.
 *
 * Design: a writer with a sticky status appends to the caller's wb_buf, so
 * each piece reads as a list of puts and the first WB_ERR_LIMIT wins.
 * Every header input is checked for CR and LF before anything is written
 * (STYLE §10: header injection). Non-ASCII header text becomes RFC 2047 B
 * words of at most 36 bytes each (so no line passes 78 columns), cut on
 * UTF-8 character boundaries; bodies are quoted-printable, so the message
 * is 7-bit and the MIME boundary "=_" can never occur inside a part.
 *
 * Pure: no I/O, clock or randomness (the Message-ID and date are
 * arguments). Thread: any.
 */
#include "email_compose.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#define FOLD_COLUMN   78
#define WORD_BYTES    36  /* raw bytes per encoded word: 48 base64 chars */
#define QP_LINE       76  /* quoted-printable line length, "=" included */
#define MAX_TOKEN     900 /* a longer unbroken token is RFC 2047 encoded */
#define BOUNDARY      "=_warbler_alt"
#define MAX_ID_LENGTH 250

struct writer {
    struct wb_buf *b;
    enum wb_status st;
};

static void put(struct writer *w, const char *s, size_t n)
{
    if (w->st == WB_OK && n > 0) {
        w->st = wb_buf_append(w->b, s, n);
    }
}

static void puts_(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static bool has_crlf(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

static bool is_printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

/* An addr-spec we are willing to write: printable ASCII, no specials, one '@'. */
static bool is_usable_address(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > MAX_ID_LENGTH) {
        return false;
    }
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c > 0x7e || strchr("<>()[]\\,;:\"", c) != NULL) {
            return false;
        }
    }
    return true;
}

/* A msg-id without <>: printable ASCII without spaces or <>, with an '@'. */
static bool is_usable_msgid(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > MAX_ID_LENGTH || strchr(s, '@') == NULL) {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c > 0x7e || c == '<' || c == '>') {
            return false;
        }
    }
    return true;
}

const char *wb_email_message_id_domain(const struct wb_email_conf *conf, size_t *n_out)
{
    const char *d = conf->message_id_domain;
    if (d == NULL || d[0] == '\0') {
        const char *at = conf->address != NULL ? strrchr(conf->address, '@') : NULL;
        if (at == NULL) {
            return NULL;
        }
        d = at + 1;
    }
    size_t n = strlen(d);
    if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-') {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) {
            return NULL;
        }
    }
    *n_out = n;
    return d;
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

enum wb_status wb_email_message_id(const struct wb_email_conf *conf, int64_t conversation_id,
                                   int64_t message_id, const char *random, char *buf, size_t size,
                                   struct wb_err *err)
{
    size_t rn = random != NULL ? strlen(random) : 0;
    if (rn < 8 || rn > 64) {
        return wb_err_set(err, WB_ERR_INVAL, "email: message-id token must be 8 to 64 characters");
    }
    for (size_t i = 0; i < rn; i++) {
        if (!is_alnum((unsigned char)random[i])) {
            return wb_err_set(err, WB_ERR_INVAL, "email: message-id token is not alphanumeric");
        }
    }
    size_t dn = 0;
    const char *domain = wb_email_message_id_domain(conf, &dn);
    if (domain == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "email: no usable message-id domain");
    }
    int n = snprintf(buf, size, "wb.%lld.%lld.%s@%.*s", (long long)conversation_id,
                     (long long)message_id, random, (int)dn, domain);
    if (n < 0 || (size_t)n >= size || n > WB_EMAIL_MESSAGE_ID_MAX) {
        return wb_err_set(err, WB_ERR_LIMIT, "email: message-id too long");
    }
    return WB_OK;
}

/* Skip "[0-9]+" then expect ch; returns the position after ch or NULL. */
static const char *skip_digits_then(const char *p, const char *end, char ch)
{
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }
    if (p == start || p >= end || *p != ch) {
        return NULL;
    }
    return p + 1;
}

bool wb_email_message_id_is_ours(const char *id, size_t n, const char *domain)
{
    if (id == NULL || n < 3 || memcmp(id, "wb.", 3) != 0) {
        return false;
    }
    const char *end = id + n;
    const char *p = skip_digits_then(id + 3, end, '.');
    p = p != NULL ? skip_digits_then(p, end, '.') : NULL;
    if (p == NULL) {
        return false;
    }
    const char *tok = p;
    while (p < end && is_alnum((unsigned char)*p)) {
        p++;
    }
    if (p == tok || p >= end || *p != '@' || p + 1 >= end) {
        return false;
    }
    p++;
    if (domain == NULL) {
        return memchr(p, '@', (size_t)(end - p)) == NULL;
    }
    return (size_t)(end - p) == strlen(domain) && strncasecmp(p, domain, strlen(domain)) == 0;
}

enum wb_status wb_email_format_date(int64_t t, struct wb_buf *out)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11) {
        return WB_ERR_INVAL;
    }
    return wb_buf_appendf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                          tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                          tm.tm_sec);
}

/*
 * RFC 2047 B words for s[0..n), separated by folds. *col is the column
 * where the first word starts and is updated.
 */
static void put_encoded_words(struct writer *w, const char *s, size_t n, size_t *col)
{
    size_t i = 0;
    bool first = true;
    while (i < n || first) {
        size_t take = n - i < WORD_BYTES ? n - i : WORD_BYTES;
        /* never cut a UTF-8 character: back off continuation bytes */
        while (take > 0 && i + take < n && ((unsigned char)s[i + take] & 0xC0) == 0x80) {
            take--;
        }
        if (take == 0) {
            take = n - i < WORD_BYTES ? n - i : WORD_BYTES;
        }
        unsigned char b64[4 * ((WORD_BYTES + 2) / 3) + 1];
        int bn = EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)take);
        size_t wlen = 12 + (size_t)bn;
        if (!first) {
            put(w, "\r\n ", 3);
            *col = 1;
        }
        puts_(w, "=?UTF-8?B?");
        put(w, (const char *)b64, (size_t)bn);
        puts_(w, "?=");
        *col += wlen;
        i += take;
        first = false;
    }
}

/* Unstructured text: as is (folded at spaces) when plain ASCII, else RFC 2047. */
static void put_unstructured(struct writer *w, const char *s, size_t *col)
{
    size_t n = strlen(s);
    bool plain = is_printable_ascii(s, n) && strstr(s, "=?") == NULL;
    for (size_t i = 0, run = 0; plain && i < n; i++) {
        run = s[i] == ' ' ? 0 : run + 1;
        plain = run <= MAX_TOKEN;
    }
    if (!plain) {
        put_encoded_words(w, s, n, col);
        return;
    }
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && s[j] != ' ') {
            j++;
        }
        /* s[i..j) is one token, with its leading space unless at the start */
        if (*col + (j - i) > FOLD_COLUMN && s[i] == ' ' && *col > 1) {
            put(w, "\r\n", 2);
            *col = 0;
        }
        put(w, s + i, j - i);
        *col += j - i;
        i = j;
    }
}

static bool is_atext_phrase(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!is_alnum(c) && strchr(" !#$%&'*+-/=?^_`{|}~", c) == NULL) {
            return false;
        }
    }
    return strstr(s, "=?") == NULL && s[0] != ' ';
}

/* A display name: atoms, a quoted string, or RFC 2047 words. */
static void put_phrase(struct writer *w, const char *s, size_t *col)
{
    size_t n = strlen(s);
    if (is_atext_phrase(s)) {
        put(w, s, n);
        *col += n;
    } else if (is_printable_ascii(s, n) && strstr(s, "=?") == NULL && n < MAX_TOKEN) {
        put(w, "\"", 1);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\') {
                put(w, "\\", 1);
            }
            put(w, s + i, 1);
        }
        put(w, "\"", 1);
        *col += n + 2;
    } else {
        put_encoded_words(w, s, n, col);
    }
}

static void put_address_header(struct writer *w, const char *field, const char *name,
                               const char *addr)
{
    size_t col = strlen(field) + 2;
    puts_(w, field);
    puts_(w, ": ");
    if (name != NULL && name[0] != '\0') {
        put_phrase(w, name, &col);
        if (col + strlen(addr) + 3 > FOLD_COLUMN) {
            put(w, "\r\n", 2);
        }
        put(w, " <", 2);
        puts_(w, addr);
        put(w, ">", 1);
    } else {
        puts_(w, addr);
    }
    put(w, "\r\n", 2);
}

/* ob->subject without leading blanks, and whether it already has a reply prefix. */
static const char *subject_base(const char *subject, bool *has_prefix)
{
    const char *s = subject != NULL ? subject : "";
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    *has_prefix = strncasecmp(s, "re:", 3) == 0 || strncmp(s, "回复:", strlen("回复:")) == 0 ||
                  strncmp(s, "回复：", strlen("回复：")) == 0;
    return s;
}

static void put_subject(struct writer *w, const char *subject)
{
    bool has_prefix = false;
    const char *s = subject_base(subject, &has_prefix);
    size_t col = strlen("Subject: ");
    puts_(w, "Subject: ");
    if (!has_prefix) {
        puts_(w, s[0] != '\0' ? "Re: " : "Re:");
        col += 4;
    }
    if (s[0] != '\0') {
        put_unstructured(w, s, &col);
    }
    put(w, "\r\n", 2);
}

const char *wb_email_recipient(const struct wb_outbound *ob)
{
    if (ob->recipient_email != NULL && ob->recipient_email[0] != '\0') {
        return ob->recipient_email;
    }
    return ob->recipient_id;
}

/* Index range of the references we write: the first one and the newest. */
static bool ref_selected(size_t k, size_t n_valid)
{
    return n_valid <= WB_EMAIL_MAX_REFERENCES || k == 0 ||
           k >= n_valid - (WB_EMAIL_MAX_REFERENCES - 1);
}

static void put_threading(struct writer *w, const struct wb_outbound *ob)
{
    size_t n_valid = 0;
    const char *newest = NULL;
    for (size_t i = 0; i < ob->n_thread_refs; i++) {
        if (is_usable_msgid(ob->thread_refs[i])) {
            n_valid++;
            newest = ob->thread_refs[i];
        }
    }
    if (newest == NULL) {
        return;
    }
    puts_(w, "In-Reply-To: <");
    puts_(w, newest);
    puts_(w, ">\r\nReferences:");
    for (size_t i = 0, k = 0; i < ob->n_thread_refs; i++) {
        const char *r = ob->thread_refs[i];
        if (!is_usable_msgid(r)) {
            continue;
        }
        if (ref_selected(k, n_valid)) {
            puts_(w, k == 0 ? " <" : "\r\n <");
            puts_(w, r);
            put(w, ">", 1);
        }
        k++;
    }
    put(w, "\r\n", 2);
}

static enum wb_status check_inputs(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                                   const char *message_id, struct wb_err *err)
{
    const char *rcpt = wb_email_recipient(ob);
    if (has_crlf(conf->display_name) || has_crlf(conf->address) || has_crlf(ob->recipient_name) ||
        has_crlf(rcpt) || has_crlf(ob->subject) || has_crlf(message_id)) {
        return wb_err_set(err, WB_ERR_INVAL, "email: CR or LF in a header value");
    }
    for (size_t i = 0; i < ob->n_thread_refs; i++) {
        if (has_crlf(ob->thread_refs[i])) {
            return wb_err_set(err, WB_ERR_INVAL, "email: CR or LF in a thread reference");
        }
    }
    if (!is_usable_address(conf->address)) {
        return wb_err_set(err, WB_ERR_INVAL, "email: unusable sender address");
    }
    if (!is_usable_address(rcpt)) {
        return wb_err_set(err, WB_ERR_INVAL, "email: unusable recipient address");
    }
    if (!is_usable_msgid(message_id)) {
        return wb_err_set(err, WB_ERR_INVAL, "email: unusable message-id");
    }
    return WB_OK;
}

static void put_headers(struct writer *w, const struct wb_email_conf *conf,
                        const struct wb_outbound *ob, const char *message_id, int64_t date_s)
{
    puts_(w, "Date: ");
    if (w->st == WB_OK) {
        w->st = wb_email_format_date(date_s, w->b);
    }
    put(w, "\r\n", 2);
    put_address_header(w, "From", conf->display_name, conf->address);
    put_address_header(w, "To", ob->recipient_name, wb_email_recipient(ob));
    put_subject(w, ob->subject);
    puts_(w, "Message-ID: <");
    puts_(w, message_id);
    puts_(w, ">\r\n");
    put_threading(w, ob);
    if (ob->author == WB_AUTHOR_BOT) {
        puts_(w, "Auto-Submitted: auto-replied\r\n");
    } else if (ob->author == WB_AUTHOR_SYSTEM) {
        puts_(w, "Auto-Submitted: auto-generated\r\n");
    }
    puts_(w, "X-Auto-Response-Suppress: All\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: multipart/alternative; boundary=\"" BOUNDARY "\"\r\n"
             "\r\n"
             "This is a multi-part message in MIME format.\r\n");
}

/* Length of the line starting at s[i] and the length of its line break. */
static size_t line_at(const char *s, size_t n, size_t i, size_t *brk_out)
{
    size_t j = i;
    while (j < n && s[j] != '\r' && s[j] != '\n') {
        j++;
    }
    *brk_out = j >= n ? 0 : (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') ? 2 : 1;
    return j - i;
}

/* One line, quoted-printable, with soft breaks; ends with CRLF. */
static void qp_line(struct writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char rep[3];
        size_t rn = 1;
        bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && i + 1 < n);
        if (i == 0 && (c == '.' || (c == 'F' && n >= 5 && memcmp(s, "From ", 5) == 0))) {
            literal = false; /* dot-stuffing and mbox "From " safety */
        }
        if (literal) {
            rep[0] = (char)c;
        } else {
            rep[0] = '=';
            rep[1] = hex[c >> 4];
            rep[2] = hex[c & 0xF];
            rn = 3;
        }
        /* keep room for the soft break's "=" unless this is the last char */
        size_t need = col + rn + (i + 1 < n ? 1 : 0);
        if (need > QP_LINE) {
            put(w, "=\r\n", 3);
            col = 0;
        }
        put(w, rep, rn);
        col += rn;
    }
    put(w, "\r\n", 2);
}

static void put_qp(struct writer *w, const char *s, size_t n)
{
    size_t i = 0;
    do {
        size_t brk = 0;
        size_t len = line_at(s, n, i, &brk);
        qp_line(w, s + i, len);
        i += len + brk;
        if (brk > 0 && i == n) {
            break; /* the final line break was written by qp_line */
        }
    } while (i < n);
}

static bool is_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t') {
            return false;
        }
    }
    return true;
}

static void put_html_escaped(struct writer *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            puts_(w, "&amp;");
            break;
        case '<':
            puts_(w, "&lt;");
            break;
        case '>':
            puts_(w, "&gt;");
            break;
        case '"':
            puts_(w, "&quot;");
            break;
        case '\'':
            puts_(w, "&#39;");
            break;
        default:
            put(w, s + i, 1);
        }
    }
}

/* The text as simple HTML: blank lines separate paragraphs, other breaks are <br>. */
static void put_html(struct writer *w, const char *s, size_t n)
{
    puts_(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
    bool in_p = false;
    size_t i = 0;
    while (i < n) {
        size_t brk = 0;
        size_t len = line_at(s, n, i, &brk);
        if (is_blank_line(s + i, len)) {
            if (in_p) {
                puts_(w, "</p>\n");
                in_p = false;
            }
        } else {
            puts_(w, in_p ? "<br>\n" : "<p>");
            in_p = true;
            put_html_escaped(w, s + i, len);
        }
        i += len + brk;
    }
    if (in_p) {
        puts_(w, "</p>\n");
    }
    puts_(w, "</body></html>\n");
}

static void put_part(struct writer *w, const char *type, const char *s, size_t n)
{
    puts_(w, "\r\n--" BOUNDARY "\r\nContent-Type: ");
    puts_(w, type);
    puts_(w, "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    put_qp(w, s, n);
}

static void put_body(struct writer *w, const char *text)
{
    size_t n = strlen(text);
    put_part(w, "text/plain", text, n);
    struct wb_buf html;
    wb_buf_init(&html, w->b->max);
    struct writer hw = { .b = &html, .st = WB_OK };
    put_html(&hw, text, n);
    if (hw.st != WB_OK) {
        if (w->st == WB_OK) {
            w->st = hw.st;
        }
    } else {
        put_part(w, "text/html", html.data != NULL ? html.data : "", html.len);
    }
    wb_buf_free(&html);
    puts_(w, "\r\n--" BOUNDARY "--\r\n");
}

enum wb_status wb_email_compose(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                                const char *message_id, int64_t date_s, struct wb_buf *out,
                                struct wb_err *err)
{
    if (conf == NULL || ob == NULL || out == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "email: compose: missing argument");
    }
    enum wb_status st = check_inputs(conf, ob, message_id, err);
    if (st != WB_OK) {
        return st;
    }
    struct writer w = { .b = out, .st = WB_OK };
    put_headers(&w, conf, ob, message_id, date_s);
    put_body(&w, ob->text != NULL ? ob->text : "");
    if (w.st != WB_OK) {
        return wb_err_set(err, w.st, "email: compose: message too large (%s)", wb_status_str(w.st));
    }
    return WB_OK;
}
