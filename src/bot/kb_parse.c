/*
 * kb_parse.c - Markdown knowledge file -> articles, one per heading section.
 *
 * Design: line based, no Markdown library. Pass 1 splits lines and marks
 * fenced code. Pass 2 turns ATX headings (# .. ######) into sections with
 * a parent stack, so each article carries its parent headings as context;
 * a heading such as "摘要" or "Summary" is not an article of its own but the
 * summary of its parent. Pass 3 turns each section's lines into passages:
 * a paragraph, or a list (with the lead line that introduces it), so an
 * answer can be the relevant paragraph rather than the whole article.
 *
 * Front matter is a small YAML subset, enough for a knowledge base and
 * needing no YAML library: `key: value`, `key: [a, b]`, or `key:` followed
 * by `  - item` lines; quotes are stripped; `#` starts a comment line.
 * Keys: id, title, keywords, synonyms, category, language (others are
 * ignored). A section may add `<!-- keywords: a, b -->`, and a heading may
 * end in `{#id}` to give the article a stable id shared by its
 * translations.
 *
 * Thread: any (pure).
 */
#include <stdlib.h>
#include <string.h>

#include "kb_parse.h"
#include "text.h"
#include "tokenize.h"

struct line {
    const char *s;
    size_t n;
    bool fenced; /* inside or on a ``` fence */
};

struct meta {
    struct wb_buf title, keywords, category, language, id;
};

struct section {
    int level;
    const char *title;
    const char *id;
    size_t parent;   /* index, (size_t)-1 for the root */
    size_t from, to; /* body lines */
    bool is_summary;
    size_t line;
};

struct parse {
    struct wb_arena *a;
    const struct line *lines;
    size_t n_lines;
    struct section *secs;
    size_t n_secs;
    struct wb_buf kw; /* section-level keywords found while building passages */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1])) {
        (*n)--;
    }
}

static bool line_is(const struct line *l, const char *word)
{
    const char *s = l->s;
    size_t n = l->n;
    trim(&s, &n);
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

static enum wb_status check_utf8(const char *p, size_t n, struct wb_err *err)
{
    size_t i = 0, line = 1;
    while (i < n) {
        size_t at = i;
        if (p[i] == '\0') {
            return wb_err_set(err, WB_ERR_PARSE, "line %zu: NUL byte", line);
        }
        line += p[i] == '\n';
        if (wb_utf8_next(p, n, &i) == 0xFFFD && i == at + 1) {
            return wb_err_set(err, WB_ERR_PARSE, "line %zu: invalid UTF-8", line);
        }
    }
    return WB_OK;
}

static struct line *split_lines(const char *p, size_t n, size_t *count)
{
    size_t cap = 64, k = 0;
    struct line *v = wb_malloc(cap * sizeof(*v));
    bool fence = false;
    size_t i = 0;
    while (i < n) {
        const char *e = memchr(p + i, '\n', n - i);
        size_t len = e != NULL ? (size_t)(e - (p + i)) : n - i;
        if (k == cap) {
            cap *= 2;
            v = wb_realloc(v, cap * sizeof(*v));
        }
        const char *s = p + i;
        size_t sn = len;
        trim(&s, &sn);
        bool marker = sn >= 3 && (memcmp(s, "```", 3) == 0 || memcmp(s, "~~~", 3) == 0);
        v[k] = (struct line){ p + i, len, fence || marker };
        if (marker) {
            fence = !fence;
        }
        k++;
        i += len + 1;
    }
    *count = k;
    return v;
}

/* Append one front matter value (a scalar or a [list]) to b, comma separated. */
static void meta_add(struct wb_buf *b, const char *v, size_t n)
{
    trim(&v, &n);
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
        v++;
        n -= 2;
    }
    while (n > 0) {
        const char *c = memchr(v, ',', n);
        size_t k = c != NULL ? (size_t)(c - v) : n;
        const char *s = v;
        size_t sn = k;
        trim(&s, &sn);
        if (sn >= 2 && (s[0] == '"' || s[0] == '\'') && s[sn - 1] == s[0]) {
            s++;
            sn -= 2;
        }
        if (sn > 0) {
            if (b->len > 0) {
                wb_bot_put(b, ", ", 2);
            }
            wb_bot_put(b, s, sn);
        }
        v += k;
        n -= k;
        if (n > 0) {
            v++;
            n--;
        }
    }
}

static struct wb_buf *meta_slot(struct meta *m, const char *k, size_t n)
{
    static const char *const names[] = { "title",    "keywords", "synonyms", "category",
                                         "language", "lang",     "id",       "tags" };
    struct wb_buf *slots[] = { &m->title,    &m->keywords, &m->keywords, &m->category,
                               &m->language, &m->language, &m->id,       &m->keywords };
    for (size_t i = 0; i < WB_ARRAY_LEN(names); i++) {
        if (strlen(names[i]) == n && memcmp(names[i], k, n) == 0) {
            return slots[i];
        }
    }
    return NULL;
}

/* Lines 1..end-1 hold the front matter; returns the first body line or an error. */
static enum wb_status front_matter(const struct line *l, size_t nl, struct meta *m,
                                   size_t *body_out, struct wb_err *err)
{
    *body_out = 0;
    if (nl == 0 || !line_is(&l[0], "---")) {
        return WB_OK;
    }
    struct wb_buf *cur = NULL;
    for (size_t i = 1; i < nl; i++) {
        const char *s = l[i].s;
        size_t n = l[i].n;
        trim(&s, &n);
        if (line_is(&l[i], "---") || line_is(&l[i], "...")) {
            *body_out = i + 1;
            return WB_OK;
        }
        if (n == 0 || s[0] == '#') {
            continue;
        }
        if (s[0] == '-' && n >= 2 && is_space(s[1])) {
            if (cur != NULL) {
                meta_add(cur, s + 2, n - 2);
            }
            continue;
        }
        const char *colon = memchr(s, ':', n);
        if (colon == NULL || colon == s) {
            return wb_err_set(err, WB_ERR_PARSE, "line %zu: front matter: expected key: value",
                              i + 1);
        }
        size_t kn = (size_t)(colon - s);
        cur = meta_slot(m, s, kn);
        if (cur != NULL) {
            meta_add(cur, colon + 1, n - kn - 1);
        }
    }
    return wb_err_set(err, WB_ERR_PARSE, "line 1: front matter not closed with ---");
}

bool wb_kb_is_summary_heading(const char *s, size_t n)
{
    static const char *const words[] = { "摘要",    "概要",  "总结", "小结",
                                         "summary", "tl;dr", "tldr", "in short" };
    char low[32];
    if (n == 0 || n >= sizeof(low)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    }
    while (n > 0 && (low[n - 1] == ':' || low[n - 1] == ' ')) {
        n--;
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(words); i++) {
        if (strlen(words[i]) == n && memcmp(words[i], low, n) == 0) {
            return true;
        }
    }
    return false;
}

/* "## Title {#id} ##" -> level 2, title, id; 0 if not a heading. */
static int heading(const struct line *l, const char **t, size_t *tn, const char **id, size_t *idn)
{
    const char *s = l->s;
    size_t n = l->n;
    int level = 0;
    if (l->fenced) {
        return 0;
    }
    while (n > 0 && s[0] == ' ' && level == 0 && (size_t)(s - l->s) < 3) {
        s++;
        n--;
    }
    while ((size_t)level < n && s[level] == '#') {
        level++;
    }
    if (level == 0 || level > 6 || ((size_t)level < n && !is_space(s[level]))) {
        return 0;
    }
    s += level;
    n -= (size_t)level;
    trim(&s, &n);
    while (n > 0 && s[n - 1] == '#') {
        n--;
    }
    trim(&s, &n);
    *id = NULL;
    *idn = 0;
    if (n >= 4 && s[n - 1] == '}') {
        const char *o = NULL;
        for (size_t i = n; i-- > 0;) {
            if (s[i] == '{') {
                o = s + i;
                break;
            }
        }
        if (o != NULL && o[1] == '#') {
            *id = o + 2;
            *idn = (size_t)(s + n - 1 - (o + 2));
            n = (size_t)(o - s);
            trim(&s, &n);
        }
    }
    *t = s;
    *tn = n;
    return n > 0 ? level : 0;
}

static char *slug(struct wb_arena *a, const char *stem, const char *t)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    wb_bot_putf(&b, "%s#", stem);
    bool dash = false;
    for (const char *c = t; *c != '\0'; c++) {
        unsigned char u = (unsigned char)*c;
        bool keep = (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u >= 0x80;
        if (u >= 'A' && u <= 'Z') {
            u = (unsigned char)(u + 32);
            keep = true;
        }
        if (keep) {
            if (dash && b.data[b.len - 1] != '#') {
                wb_bot_put(&b, "-", 1);
            }
            wb_bot_put(&b, &u, 1);
            dash = false;
        } else {
            dash = true;
        }
    }
    char *r = wb_arena_strdup(a, b.data);
    wb_buf_free(&b);
    return r;
}

/* Pass 2: sections with their parents; section 0 is the root (preamble). */
static enum wb_status find_sections(struct parse *ps, size_t body, const char *root_title,
                                    size_t max, struct wb_err *err)
{
    size_t stack[8];
    size_t depth = 1;
    size_t cap = 16;
    ps->secs = wb_arena_alloc(ps->a, cap * sizeof(*ps->secs));
    ps->secs[0] = (struct section){ 0, root_title, NULL, (size_t)-1, body, ps->n_lines, false, 1 };
    ps->n_secs = 1;
    stack[0] = 0;
    for (size_t i = body; i < ps->n_lines; i++) {
        const char *t, *id;
        size_t tn, idn;
        int level = heading(&ps->lines[i], &t, &tn, &id, &idn);
        if (level == 0) {
            continue;
        }
        if (ps->n_secs > max) {
            return wb_err_set(err, WB_ERR_LIMIT, "line %zu: more than %zu sections", i + 1, max);
        }
        ps->secs[ps->n_secs - 1].to = i;
        while (depth > 1 && ps->secs[stack[depth - 1]].level >= level) {
            depth--;
        }
        if (ps->n_secs == cap) {
            struct section *nv = wb_arena_alloc(ps->a, cap * 2 * sizeof(*nv));
            memcpy(nv, ps->secs, cap * sizeof(*nv));
            ps->secs = nv;
            cap *= 2;
        }
        struct section *s = &ps->secs[ps->n_secs];
        *s = (struct section){ level,
                               wb_arena_strndup(ps->a, t, tn),
                               id != NULL ? wb_arena_strndup(ps->a, id, idn) : NULL,
                               stack[depth - 1],
                               i + 1,
                               ps->n_lines,
                               wb_kb_is_summary_heading(t, tn),
                               i + 1 };
        if (!s->is_summary && depth < WB_ARRAY_LEN(stack)) {
            stack[depth++] = ps->n_secs;
        }
        ps->n_secs++;
    }
    return WB_OK;
}

static bool han_end(const struct wb_buf *b)
{
    return b->len >= 3 && ((unsigned char)b->data[b->len - 3] & 0xF0) == 0xE0;
}

static size_t list_marker(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && is_space(s[1])) {
        return 2;
    }
    size_t d = 0;
    while (d < n && d < 3 && s[d] >= '0' && s[d] <= '9') {
        d++;
    }
    if (d > 0 && d + 1 < n && (s[d] == '.' || s[d] == ')') && is_space(s[d + 1])) {
        return d + 2;
    }
    return 0;
}

/* Markdown inline syntax to plain text: links keep their URL, emphasis marks go. */
char *wb_kb_inline_plain(struct wb_arena *a, const char *s, size_t n)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    size_t i = 0;
    while (i < n) {
        bool img = s[i] == '!' && i + 1 < n && s[i + 1] == '[';
        if (s[i] == '[' || img) {
            size_t o = i + (img ? 2 : 1);
            const char *cb = memchr(s + o, ']', n - o);
            size_t c = cb != NULL ? (size_t)(cb - s) : n;
            const char *pe =
                c + 1 < n && s[c + 1] == '(' ? memchr(s + c + 2, ')', n - c - 2) : NULL;
            if (cb != NULL && pe != NULL) {
                size_t u = c + 2, ue = (size_t)(pe - s);
                wb_bot_put(&b, s + o, c - o);
                if (!img && ue > u && memcmp(s + o, s + u, ue - u < c - o ? ue - u : c - o) != 0) {
                    wb_bot_putf(&b, " (%.*s)", (int)(ue - u), s + u);
                }
                i = ue + 1;
                continue;
            }
        }
        if ((s[i] == '*' || s[i] == '_') && i + 1 < n && s[i + 1] == s[i]) {
            i += 2;
            continue;
        }
        if (s[i] == '`') {
            i++;
            continue;
        }
        if (s[i] == '\\' && i + 1 < n) {
            i++;
        }
        wb_bot_put(&b, s + i, 1);
        i++;
    }
    char *r = wb_arena_strndup(a, b.data != NULL ? b.data : "", b.len);
    wb_buf_free(&b);
    return r;
}

struct plist {
    const char **v;
    size_t n, cap;
};

enum block_state {
    B_NONE = 0,
    B_PARA,
    B_LIST
};

struct blocks {
    struct parse *ps;
    struct plist *pl;
    struct wb_buf b;
    enum block_state st;
    bool pending; /* a blank line was seen inside a list or after a lead line */
};

static void block_flush(struct blocks *bk)
{
    if (bk->b.len > 0) {
        struct plist *pl = bk->pl;
        if (pl->n == pl->cap) {
            pl->cap = pl->cap ? pl->cap * 2 : 8;
            pl->v = wb_realloc(pl->v, pl->cap * sizeof(*pl->v));
        }
        pl->v[pl->n++] = wb_kb_inline_plain(bk->ps->a, bk->b.data, bk->b.len);
    }
    wb_buf_reset(&bk->b);
    bk->st = B_NONE;
    bk->pending = false;
}

static bool ends_colon(const struct wb_buf *b)
{
    return (b->len >= 1 && b->data[b->len - 1] == ':') ||
           (b->len >= 3 && memcmp(b->data + b->len - 3, "：", 3) == 0);
}

/* `<!-- keywords: a, b -->` adds to the section's keywords. */
static void comment_meta(struct parse *ps, const char *t, size_t tn)
{
    t += 4;
    tn -= 4;
    const char *e = memmem(t, tn, "-->", 3);
    if (e != NULL) {
        tn = (size_t)(e - t);
    }
    trim(&t, &tn);
    static const char *const keys[] = { "keywords:", "synonyms:" };
    for (size_t i = 0; i < WB_ARRAY_LEN(keys); i++) {
        size_t k = strlen(keys[i]);
        if (tn > k && memcmp(t, keys[i], k) == 0) {
            meta_add(&ps->kw, t + k, tn - k);
        }
    }
}

static void table_row(struct blocks *bk, const char *t, size_t tn)
{
    bool sep = true;
    for (size_t i = 0; i < tn; i++) {
        sep = sep && (t[i] == '|' || t[i] == '-' || t[i] == ':' || is_space(t[i]));
    }
    if (sep) {
        return;
    }
    if (bk->b.len > 0) {
        wb_bot_put(&bk->b, "\n", 1);
    }
    t++;
    tn--;
    if (tn > 0 && t[tn - 1] == '|') {
        tn--;
    }
    bool first = true;
    while (tn > 0 || first) {
        const char *bar = memchr(t, '|', tn);
        size_t k = bar != NULL ? (size_t)(bar - t) : tn;
        const char *c = t;
        size_t cn = k;
        trim(&c, &cn);
        if (!first) {
            wb_bot_put(&bk->b, " | ", 3);
        }
        wb_bot_put(&bk->b, c, cn);
        first = false;
        t += k;
        tn -= k;
        if (bar == NULL) {
            break;
        }
        t++;
        tn--;
    }
    bk->st = B_PARA;
}

static void block_line(struct blocks *bk, const struct line *l)
{
    const char *t = l->s;
    size_t tn = l->n;
    trim(&t, &tn);
    if (tn >= 2 && t[0] == '>') {
        t++;
        tn--;
        trim(&t, &tn);
    }
    size_t m = list_marker(t, tn);
    if (m > 0) {
        if (!(bk->st == B_LIST || (bk->st == B_PARA && ends_colon(&bk->b)))) {
            block_flush(bk);
        }
        if (bk->b.len > 0) {
            wb_bot_put(&bk->b, "\n", 1);
        }
        wb_bot_put(&bk->b, "- ", 2);
        wb_bot_put(&bk->b, t + m, tn - m);
        bk->st = B_LIST;
    } else if (bk->pending || (bk->st == B_LIST && !is_space(l->s[0]))) {
        block_flush(bk);
        wb_bot_put(&bk->b, t, tn);
        bk->st = B_PARA;
    } else {
        if (bk->b.len > 0 && !(han_end(&bk->b) && (unsigned char)t[0] >= 0x80)) {
            wb_bot_put(&bk->b, " ", 1);
        }
        wb_bot_put(&bk->b, t, tn);
        if (bk->st == B_NONE) {
            bk->st = B_PARA;
        }
    }
    bk->pending = false;
}

/* Pass 3: the lines [from, to) of one section -> passages appended to pl. */
static void build_blocks(struct parse *ps, size_t from, size_t to, struct plist *pl)
{
    struct blocks bk = { ps, pl, { NULL, 0, 0, 0 }, B_NONE, false };
    bool in_comment = false;
    for (size_t i = from; i < to; i++) {
        const struct line *l = &ps->lines[i];
        const char *t = l->s;
        size_t tn = l->n;
        trim(&t, &tn);
        if (in_comment) {
            in_comment = memmem(t, tn, "-->", 3) == NULL;
        } else if (l->fenced) {
            bool marker = tn >= 3 && (memcmp(t, "```", 3) == 0 || memcmp(t, "~~~", 3) == 0);
            if (!marker) {
                wb_bot_put(&bk.b, l->s, l->n);
                wb_bot_put(&bk.b, "\n", 1);
                bk.st = B_PARA;
            }
        } else if (tn == 0) {
            if (bk.st == B_LIST || (bk.st == B_PARA && ends_colon(&bk.b))) {
                bk.pending = true;
            } else {
                block_flush(&bk);
            }
        } else if (tn >= 4 && memcmp(t, "<!--", 4) == 0) {
            comment_meta(ps, t, tn);
            in_comment = memmem(t, tn, "-->", 3) == NULL;
        } else if (t[0] == '|') {
            table_row(&bk, t, tn);
        } else {
            block_line(&bk, l);
        }
    }
    block_flush(&bk);
    wb_buf_free(&bk.b);
}

static const char *norm_lang(const char *s, size_t n)
{
    if (n >= 2 && (memcmp(s, "zh", 2) == 0 || memcmp(s, "cn", 2) == 0)) {
        return "zh";
    }
    if ((n == 7 && memcmp(s, "chinese", 7) == 0) || (n == 6 && memcmp(s, "中文", 6) == 0)) {
        return "zh";
    }
    if ((n >= 2 && memcmp(s, "en", 2) == 0) || (n == 7 && memcmp(s, "english", 7) == 0)) {
        return "en";
    }
    return NULL;
}

/* "dir/refunds.zh.md" -> stem "refunds", lang "zh". */
static const char *file_stem(struct wb_arena *a, const char *name, const char **lang_out)
{
    const char *b = strrchr(name, '/');
    b = b != NULL ? b + 1 : name;
    size_t n = strlen(b);
    if (n > 3 && strcmp(b + n - 3, ".md") == 0) {
        n -= 3;
    } else if (n > 9 && strcmp(b + n - 9, ".markdown") == 0) {
        n -= 9;
    }
    *lang_out = NULL;
    const char *dot = memrchr(b, '.', n);
    if (dot != NULL) {
        *lang_out = norm_lang(dot + 1, n - (size_t)(dot + 1 - b));
        if (*lang_out != NULL) {
            n = (size_t)(dot - b);
        }
    }
    return wb_arena_strndup(a, b, n);
}

static const char *context_of(struct parse *ps, size_t k, bool root_titled)
{
    const char *chain[8];
    size_t nc = 0;
    for (size_t p = ps->secs[k].parent; p != (size_t)-1 && nc < 8; p = ps->secs[p].parent) {
        if (p != 0 || root_titled) {
            chain[nc++] = ps->secs[p].title;
        }
    }
    struct wb_buf b;
    wb_buf_init(&b, 0);
    while (nc-- > 0) {
        wb_bot_putf(&b, "%s%s", b.len > 0 ? " > " : "", chain[nc]);
    }
    const char *r = wb_arena_strdup(ps->a, b.data != NULL ? b.data : "");
    wb_buf_free(&b);
    return r;
}

struct file_info {
    const char *stem;
    const char *lang;
    const char *category;
    const char *keywords;
    bool root_titled;
};

/* One section -> an article, or false when it has no text. */
static bool make_article(struct parse *ps, size_t k, const struct file_info *fi,
                         struct wb_kb_article *art)
{
    struct plist pl = { NULL, 0, 0 };
    struct plist sum = { NULL, 0, 0 };
    const struct section *s = &ps->secs[k];
    wb_buf_reset(&ps->kw);
    build_blocks(ps, s->from, s->to, &pl);
    for (size_t j = k + 1; j < ps->n_secs; j++) {
        if (ps->secs[j].is_summary && ps->secs[j].parent == k) {
            build_blocks(ps, ps->secs[j].from, ps->secs[j].to, &sum);
        }
    }
    memset(art, 0, sizeof(*art));
    if (sum.n > 0) {
        struct wb_buf b;
        wb_buf_init(&b, 0);
        for (size_t i = 0; i < sum.n; i++) {
            wb_bot_putf(&b, "%s%s", i > 0 ? "\n" : "", sum.v[i]);
        }
        art->summary = wb_arena_strdup(ps->a, b.data);
        wb_buf_free(&b);
        if (pl.n == 0) {
            pl.v = wb_realloc(pl.v, sizeof(*pl.v));
            pl.v[pl.n++] = art->summary;
        }
    }
    free(sum.v);
    if (pl.n == 0) {
        free(pl.v);
        return false;
    }
    art->passages = wb_arena_alloc(ps->a, pl.n * sizeof(*pl.v));
    memcpy(art->passages, pl.v, pl.n * sizeof(*pl.v));
    art->n_passages = pl.n;
    free(pl.v);
    art->title = s->title;
    art->line = s->line;
    art->context = context_of(ps, k, fi->root_titled);
    art->id = s->id != NULL ? s->id : k == 0 ? fi->stem : slug(ps->a, fi->stem, s->title);
    art->lang = fi->lang;
    if (art->lang == NULL) {
        const char *p0 = art->passages[0];
        art->lang = wb_tok_lang(p0, strlen(p0));
    }
    art->category = fi->category;
    art->file_keywords = fi->keywords;
    art->keywords = ps->kw.len > 0 ? wb_arena_strndup(ps->a, ps->kw.data, ps->kw.len) : "";
    return true;
}

static const char *buf_or(struct wb_arena *a, const struct wb_buf *b, const char *def)
{
    return b->len > 0 ? wb_arena_strndup(a, b->data, b->len) : def;
}

static void meta_free(struct meta *m)
{
    wb_buf_free(&m->title);
    wb_buf_free(&m->keywords);
    wb_buf_free(&m->category);
    wb_buf_free(&m->language);
    wb_buf_free(&m->id);
}

static enum wb_status parse_lines(struct parse *ps, const char *name, struct meta *m,
                                  const struct wb_kb_limits *lim, struct wb_kb_file *out,
                                  struct wb_err *err)
{
    size_t body;
    enum wb_status st = front_matter(ps->lines, ps->n_lines, m, &body, err);
    if (st != WB_OK) {
        return st;
    }
    struct file_info fi;
    const char *name_lang;
    fi.stem = file_stem(ps->a, name, &name_lang);
    fi.stem = buf_or(ps->a, &m->id, fi.stem);
    fi.lang = m->language.len > 0 ? norm_lang(m->language.data, m->language.len) : name_lang;
    fi.category = buf_or(ps->a, &m->category, "");
    fi.keywords = buf_or(ps->a, &m->keywords, "");
    fi.root_titled = m->title.len > 0;
    st = find_sections(ps, body, buf_or(ps->a, &m->title, fi.stem), lim->max_articles, err);
    if (st != WB_OK) {
        return st;
    }
    out->articles = wb_arena_alloc(ps->a, ps->n_secs * sizeof(*out->articles));
    for (size_t k = 0; k < ps->n_secs; k++) {
        if (!ps->secs[k].is_summary && make_article(ps, k, &fi, &out->articles[out->n_articles])) {
            out->n_articles++;
        }
    }
    return WB_OK;
}

enum wb_status wb_kb_parse(const char *p, size_t n, const char *name,
                           const struct wb_kb_limits *lim, struct wb_arena *a,
                           struct wb_kb_file *out, struct wb_err *err)
{
    memset(out, 0, sizeof(*out));
    if (lim->max_bytes > 0 && n > lim->max_bytes) {
        return wb_err_set(err, WB_ERR_LIMIT, "file of %zu bytes is larger than %zu", n,
                          lim->max_bytes);
    }
    enum wb_status st = check_utf8(p, n, err);
    if (st != WB_OK) {
        return st;
    }
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    struct parse ps;
    memset(&ps, 0, sizeof(ps));
    ps.a = a;
    struct line *lines = split_lines(p, n, &ps.n_lines);
    ps.lines = lines;
    wb_buf_init(&ps.kw, 0);
    struct meta m;
    memset(&m, 0, sizeof(m));
    st = parse_lines(&ps, name, &m, lim, out, err);
    meta_free(&m);
    wb_buf_free(&ps.kw);
    free(lines);
    if (st != WB_OK) {
        memset(out, 0, sizeof(*out));
    }
    return st;
}
