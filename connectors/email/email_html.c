/*
 * email_html.c - HTML-only mail turned into readable text.
 *
 * DESIGN: one forward pass over the bytes with a little state: the
 * newlines and space owed before the next visible text (so block tags
 * and runs of whitespace collapse), the <blockquote> depth (each line of
 * quoted text gets "> " per level, which the quote stripper then
 * recognises), <pre> depth (whitespace kept). Elements whose content is
 * never text (script, style, head, title, template) are skipped to their
 * closing tag. Malformed markup degrades to text, never to an error: an
 * unterminated tag or comment ends the document. No HTML library is in
 * our dependency list and rendering is not the goal, so this stays small.
 *
 * Thread: any.
 */
#include <string.h>
#include <strings.h>

#include "email_html.h"
#include "utf8.h"

struct html {
    const char *p;
    size_t n;
    size_t i;
    struct wb_buf *out;
    enum wb_status st;
    int nl;       /* newlines owed before the next text */
    bool space;   /* a space owed before the next text */
    bool started; /* some text was written */
    bool at_bol;  /* the next text starts a line */
    bool li;      /* a list marker is owed */
    int quote;    /* <blockquote> depth */
    int pre;      /* <pre> depth */
};

struct entity {
    const char *name;
    uint32_t cp;
};

static const struct entity entities[] = {
    { "amp", '&' },      { "lt", '<' },        { "gt", '>' },       { "quot", '"' },
    { "apos", '\'' },    { "nbsp", ' ' },      { "copy", 0xa9 },    { "reg", 0xae },
    { "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
    { "lsquo", 0x2018 }, { "rsquo", 0x2019 },  { "ldquo", 0x201c }, { "rdquo", 0x201d },
    { "middot", 0xb7 },  { "bull", 0x2022 },   { "euro", 0x20ac },  { "yen", 0xa5 },
    { "pound", 0xa3 },   { "times", 0xd7 },    { "laquo", 0xab },   { "raquo", 0xbb },
    { "zwnj", 0x200c },  { "zwj", 0x200d },    { "shy", 0xad },     { "ensp", ' ' },
    { "emsp", ' ' },     { "thinsp", ' ' },
};

enum wb_status wb_email_put_utf8(struct wb_buf *out, uint32_t cp)
{
    char b[4];
    return wb_buf_append(out, b, wb_utf8_encode(cp == 0 ? WB_UTF8_REPLACEMENT : cp, b));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

static void put(struct html *h, const char *s, size_t n)
{
    if (h->st == WB_OK) {
        h->st = wb_buf_append(h->out, s, n);
    }
}

/* Pay the newlines, quote prefix, list marker and space owed. */
static void text_begin(struct html *h)
{
    if (h->nl > 0 && h->started) {
        for (int k = 0; k < h->nl; k++) {
            put(h, "\n", 1);
        }
        h->at_bol = true;
    }
    h->nl = 0;
    if (h->at_bol) {
        for (int q = 0; q < h->quote; q++) {
            put(h, "> ", 2);
        }
        if (h->li) {
            put(h, "- ", 2);
        }
        h->li = false;
        h->at_bol = false;
        h->space = false;
    }
    if (h->space) {
        put(h, " ", 1);
    }
    h->space = false;
    h->started = true;
}

static void owe_newlines(struct html *h, int k)
{
    if (h->nl < k) {
        h->nl = k;
    }
    h->space = false;
}

/* Decode the entity at h->p[h->i] == '&'; writes '&' when it is none. */
static void entity(struct html *h)
{
    const char *s = h->p + h->i + 1;
    size_t max = h->n - h->i - 1, len = 0;
    while (len < max && len < 32 && s[len] != ';' && (is_alnum(s[len]) || s[len] == '#')) {
        len++;
    }
    uint32_t cp = 0;
    bool ok = false;
    if (len < max && s[len] == ';' && len >= 2) {
        if (s[0] == '#') {
            bool hex = s[1] == 'x' || s[1] == 'X';
            ok = len > (hex ? 2u : 1u);
            for (size_t k = hex ? 2 : 1; k < len && ok; k++) {
                const char *digits = "0123456789abcdef";
                const char *d = memchr(digits, s[k] | 0x20, hex ? 16 : 10);
                ok = d != NULL && s[k] != 0;
                cp = cp > 0x10ffff ? cp : cp * (hex ? 16 : 10) + (uint32_t)(d ? d - digits : 0);
            }
        } else {
            for (size_t k = 0; k < WB_ARRAY_LEN(entities) && !ok; k++) {
                ok = strlen(entities[k].name) == len && memcmp(entities[k].name, s, len) == 0;
                cp = entities[k].cp;
            }
        }
    }
    if (!ok) {
        text_begin(h);
        put(h, "&", 1);
        h->i++;
        return;
    }
    h->i += len + 2;
    if (cp == ' ' && h->pre == 0) {
        h->space = h->started;
        return;
    }
    text_begin(h);
    if (h->st == WB_OK) {
        h->st = wb_email_put_utf8(h->out, cp);
    }
}

/* Index of the first "</name" at or after from (case-insensitive), or n. */
static size_t find_close(const struct html *h, size_t from, const char *name)
{
    size_t len = strlen(name);
    for (size_t k = from; k + 2 + len <= h->n; k++) {
        if (h->p[k] == '<' && h->p[k + 1] == '/' && strncasecmp(h->p + k + 2, name, len) == 0) {
            return k;
        }
    }
    return h->n;
}

/* Index just past the '>' closing the tag that starts before from. */
static size_t tag_end(const struct html *h, size_t from)
{
    char q = 0;
    for (size_t k = from; k < h->n; k++) {
        char c = h->p[k];
        if (q != 0) {
            q = c == q ? 0 : q;
        } else if (c == '"' || c == '\'') {
            q = c;
        } else if (c == '>') {
            return k + 1;
        }
    }
    return h->n;
}

static bool tag_is(const char *name, const char *const *set, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(name, set[k]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const skipped[] = { "script", "style", "title", "template" };
static const char *const blocks[] = {
    "div",  "tr",      "table",   "ul",      "ol",     "dl",     "dt",
    "dd",   "hr",      "section", "article", "header", "footer", "center",
    "form", "address", "tbody",   "thead",   "tfoot",  "body",
};
static const char *const paras[] = { "p", "h1", "h2", "h3", "h4", "h5", "h6" };

/* Apply an open or close tag named name (lowercase). */
static void tag_apply(struct html *h, const char *name, bool closing)
{
    if (strcmp(name, "br") == 0) {
        h->nl = h->started && h->nl < 2 ? h->nl + 1 : h->nl;
        h->space = false;
    } else if (strcmp(name, "li") == 0) {
        owe_newlines(h, 1);
        h->li = !closing;
    } else if (strcmp(name, "blockquote") == 0) {
        owe_newlines(h, 1);
        h->quote += closing ? (h->quote > 0 ? -1 : 0) : (h->quote < 16 ? 1 : 0);
    } else if (strcmp(name, "pre") == 0) {
        owe_newlines(h, 1);
        h->pre += closing ? (h->pre > 0 ? -1 : 0) : 1;
    } else if (tag_is(name, paras, WB_ARRAY_LEN(paras))) {
        owe_newlines(h, 2);
    } else if (tag_is(name, blocks, WB_ARRAY_LEN(blocks))) {
        owe_newlines(h, 1);
    } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        h->space = h->started;
    }
}

/* Markup at h->p[h->i] == '<'. Returns false when it is plain text. */
static bool markup(struct html *h)
{
    size_t i = h->i + 1;
    if (i >= h->n) {
        return false;
    }
    if (h->n - i >= 3 && memcmp(h->p + i, "!--", 3) == 0) {
        const char *end = memmem(h->p + i + 3, h->n - i - 3, "-->", 3);
        h->i = end != NULL ? (size_t)(end - h->p) + 3 : h->n;
        return true;
    }
    if (h->p[i] == '!' || h->p[i] == '?') {
        h->i = tag_end(h, i);
        return true;
    }
    bool closing = h->p[i] == '/';
    i += closing ? 1 : 0;
    if (i >= h->n || !is_alpha(h->p[i])) {
        return false;
    }
    char name[16];
    size_t len = 0;
    while (i < h->n && is_alnum(h->p[i])) {
        if (len < sizeof(name) - 1) {
            name[len++] = (char)(h->p[i] | 0x20);
        }
        i++;
    }
    name[len] = '\0';
    h->i = tag_end(h, i);
    if (!closing && tag_is(name, skipped, WB_ARRAY_LEN(skipped))) {
        h->i = tag_end(h, find_close(h, h->i, name));
    } else if (!closing && strcmp(name, "head") == 0) {
        size_t end = find_close(h, h->i, "head");
        if (end == h->n) {
            const char *body = NULL;
            for (size_t k = h->i; k + 5 <= h->n && body == NULL; k++) {
                body = strncasecmp(h->p + k, "<body", 5) == 0 ? h->p + k : NULL;
            }
            end = body != NULL ? (size_t)(body - h->p) : h->i;
        }
        h->i = end;
    } else {
        tag_apply(h, name, closing);
    }
    return true;
}

static void text_run(struct html *h)
{
    char c = h->p[h->i];
    if (is_space(c)) {
        if (h->pre > 0 && c == '\n') {
            text_begin(h);
            put(h, "\n", 1);
            h->at_bol = true;
        } else if (h->pre > 0 && c != '\r') {
            text_begin(h);
            put(h, &c, 1);
        } else if (h->pre == 0) {
            h->space = h->started && !h->at_bol;
        }
        h->i++;
        return;
    }
    size_t j = h->i;
    while (j < h->n && h->p[j] != '<' && h->p[j] != '&' && !is_space(h->p[j])) {
        j++;
    }
    text_begin(h);
    put(h, h->p + h->i, j - h->i);
    h->i = j;
}

enum wb_status wb_email_html_to_text(const char *p, size_t n, struct wb_buf *out)
{
    struct html h = { .p = p, .n = n, .out = out, .st = WB_OK, .at_bol = true };
    while (h.i < h.n && h.st == WB_OK) {
        char c = h.p[h.i];
        if (c == '<' && markup(&h)) {
            continue;
        }
        if (c == '&') {
            entity(&h);
        } else if (c == '<') {
            text_begin(&h);
            put(&h, "<", 1);
            h.i++;
        } else {
            text_run(&h);
        }
    }
    return h.st;
}

const char *wb_email_html_meta_charset(const char *p, size_t n, char *buf, size_t cap)
{
    size_t lim = n < 4096 ? n : 4096;
    for (size_t k = 0; k + 8 <= lim; k++) {
        if (strncasecmp(p + k, "charset=", 8) != 0) {
            continue;
        }
        size_t s = k + 8, len = 0;
        if (s < lim && (p[s] == '"' || p[s] == '\'')) {
            s++;
        }
        while (s + len < lim && len + 1 < cap &&
               (is_alnum(p[s + len]) || strchr("-_.:", p[s + len]) != NULL) && p[s + len] != 0) {
            buf[len] = p[s + len];
            len++;
        }
        buf[len] = '\0';
        return len > 0 ? buf : NULL;
    }
    return NULL;
}
