/*
 * email_words.c - decoded header text and subject topics.
 *
 * DESIGN: libetpan parses the RFC 2047 grammar: mailmime_encoded_word_parse
 * finds each encoded word, decodes its B or Q text and joins a run of
 * unpadded words of one charset. Conversion to UTF-8 is ours. We do not
 * use mailmime_encoded_phrase_parse: it converts each padded word on its
 * own (a character split over two words, as some mailers write them,
 * comes out as "??") and it rejects the whole value when one word does not
 * convert. Here the bytes of adjacent words in one charset are converted
 * together, a word that does not convert degrades to U+FFFD, and text
 * that is not an encoded word is kept as it is. Raw 8-bit headers
 * (RFC 6532 UTF-8, or old Chinese mailers writing GB18030 bytes) are
 * turned into UTF-8 first, so the encoded words are all that is left.
 *
 * Thread: any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "email_charset.h"
#include "email_words.h"

/* Appends to buffers without a maximum cannot fail; the status is moot. */
static void unbounded(enum wb_status st)
{
    (void)st;
}

/* raw as clean UTF-8 on one line (folding and controls become spaces). */
static void to_one_line(const char *raw, size_t n, struct wb_buf *out)
{
    bool eight_bit = false;
    for (size_t i = 0; i < n && !eight_bit; i++) {
        eight_bit = (unsigned char)raw[i] >= 0x80;
    }
    if (eight_bit) {
        unbounded(wb_email_to_utf8(NULL, raw, n, out));
    } else {
        unbounded(wb_buf_append(out, raw, n));
    }
    for (size_t i = 0; i < out->len; i++) {
        unsigned char c = (unsigned char)out->data[i];
        if (c < 0x20 || c == 0x7f) {
            out->data[i] = ' ';
        }
    }
}

/* Bytes of adjacent encoded words in one charset, converted together. */
struct pending {
    char charset[65];
    struct wb_buf bytes;
};

static void pending_flush(struct pending *pd, struct wb_buf *out)
{
    if (pd->bytes.len > 0) {
        unbounded(wb_email_to_utf8(pd->charset, pd->bytes.data, pd->bytes.len, out));
    }
    wb_buf_reset(&pd->bytes);
    pd->charset[0] = '\0';
}

/*
 * libetpan parses each encoded word (and joins a run of unpadded words of
 * one charset); a character split over padded words, or over words libetpan
 * did not join, is put back together here by converting the bytes of
 * adjacent same-charset words at once.
 */
static void decode_words(const char *s, size_t n, struct wb_buf *out)
{
    struct pending pd = { .charset = "" };
    size_t i = 0;
    bool prev_word = false;
    wb_buf_init(&pd.bytes, 0);
    while (i < n) {
        size_t j = i;
        struct mailmime_encoded_word *w = NULL;
        int fwd = 0, unquoted = 0;
        if (mailmime_encoded_word_parse(s, n, &j, &w, &fwd, &unquoted) == MAILIMF_NO_ERROR &&
            j > i && w != NULL) {
            const char *cs = w->wd_charset != NULL ? w->wd_charset : "";
            if (!prev_word || strcasecmp(cs, pd.charset) != 0) {
                pending_flush(&pd, out);
                if (fwd && !prev_word && i > 0) {
                    unbounded(wb_buf_append(out, " ", 1));
                }
                (void)snprintf(pd.charset, sizeof(pd.charset), "%s", cs);
            }
            unbounded(wb_buf_append(&pd.bytes, w->wd_text, strlen(w->wd_text)));
            mailmime_encoded_word_free(w);
            prev_word = true;
            i = j;
            continue;
        }
        if (w != NULL) {
            mailmime_encoded_word_free(w);
        }
        pending_flush(&pd, out);
        prev_word = false;
        unbounded(wb_buf_append(out, s + i, 1));
        i++;
    }
    pending_flush(&pd, out);
    wb_buf_free(&pd.bytes);
}

/* Collapse whitespace runs to one space and trim, in place. */
static size_t squeeze(char *s, size_t n)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = o > 0;
            continue;
        }
        if (space) {
            s[o++] = ' ';
            space = false;
        }
        s[o++] = c;
    }
    return o;
}

char *wb_email_decode_words(const char *raw, size_t n, struct wb_arena *a)
{
    struct wb_buf line, dec;
    wb_buf_init(&line, 0);
    wb_buf_init(&dec, 0);
    to_one_line(raw, n < WB_EMAIL_MAX_HEADER_VALUE ? n : WB_EMAIL_MAX_HEADER_VALUE, &line);
    if (line.len == 0) {
        wb_buf_free(&line);
        return wb_arena_strdup(a, "");
    }
    struct wb_buf tmp;
    wb_buf_init(&tmp, 0);
    decode_words(line.data, line.len, &tmp);
    if (tmp.len > 0) {
        unbounded(wb_email_utf8_clean(tmp.data, tmp.len, &dec));
    }
    wb_buf_free(&tmp);
    wb_buf_free(&line);
    size_t len = dec.len > 0 ? squeeze(dec.data, dec.len) : 0;
    char *out = wb_arena_strndup(a, dec.data != NULL ? dec.data : "", len);
    wb_buf_free(&dec);
    return out;
}

void wb_email_unquote(char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
        return;
    }
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\\' && i + 2 < n) {
            i++;
        }
        s[o++] = s[i];
    }
    s[o] = '\0';
}

static const char *const prefixes[] = {
    "re", "fwd",  "fw",   "aw",   "wg",   "sv",   "vs",   "antw", "tr",
    "rv", "回复", "回覆", "答复", "答覆", "转发", "轉寄", "转寄", "轉發",
};

/* Width of a blank (space, tab, U+00A0, U+3000) at NUL-terminated s, 0 if none. */
static size_t blank_width(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] == ' ' || u[0] == '\t') {
        return 1;
    }
    if (u[0] == 0xc2 && u[1] == 0xa0) {
        return 2;
    }
    if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) {
        return 3;
    }
    return 0;
}

static const char *skip_blanks(const char *s)
{
    size_t k;
    while ((k = blank_width(s)) > 0) {
        s += k;
    }
    return s;
}

/* Past a counter such as "[2]", "(2)" or "^2" at p, or p. */
static const char *skip_counter(const char *p)
{
    char close = *p == '[' ? ']' : *p == '(' ? ')' : *p == '^' ? '\0' : 'x';
    if (close == 'x') {
        return p;
    }
    const char *q = p + 1;
    while (*q >= '0' && *q <= '9') {
        q++;
    }
    if (q == p + 1) {
        return p;
    }
    if (close == '\0') {
        return q;
    }
    return *q == close ? q + 1 : p;
}

/* Past "prefix[N]:" at s, or NULL when s does not start with one. */
static const char *skip_prefix(const char *s)
{
    for (size_t i = 0; i < WB_ARRAY_LEN(prefixes); i++) {
        size_t k = strlen(prefixes[i]);
        if (strncasecmp(s, prefixes[i], k) != 0) {
            continue;
        }
        const char *p = skip_blanks(skip_counter(s + k));
        const unsigned char *u = (const unsigned char *)p;
        if (u[0] == ':') {
            return p + 1;
        }
        if (u[0] == 0xef && u[1] == 0xbc && u[2] == 0x9a) {
            return p + 3;
        }
    }
    return NULL;
}

char *wb_email_topic(const char *subject, struct wb_arena *a)
{
    const char *s = skip_blanks(subject);
    const char *next;
    while ((next = skip_prefix(s)) != NULL) {
        s = skip_blanks(next);
    }
    size_t n = strlen(s);
    char *out = wb_arena_alloc(a, n + 1);
    size_t o = 0;
    bool space = false;
    while (*s != '\0') {
        size_t k = blank_width(s);
        if (k > 0) {
            space = o > 0;
            s += k;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = false;
        }
        char c = *s++;
        out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[o] = '\0';
    return out;
}

char *wb_email_addr_norm(const char *s, struct wb_arena *a)
{
    while (*s == ' ' || *s == '\t' || *s == '<') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '>')) {
        n--;
    }
    char *out = wb_arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++) {
        if (out[i] >= 'A' && out[i] <= 'Z') {
            out[i] = (char)(out[i] + 32);
        }
    }
    return out;
}
