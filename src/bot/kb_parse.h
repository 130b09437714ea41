/*
 * kb_parse.h - one Markdown knowledge file (bytes) -> articles.
 *
 * Pure: no file I/O, no logging, no clock. Output lives in the caller's
 * arena. Thread: any.
 */
#ifndef WB_BOT_KB_PARSE_H
#define WB_BOT_KB_PARSE_H

#include <warbler/buf.h>
#include <warbler/common.h>

struct wb_kb_article {
    const char *id;       /* {#id} on the heading, else "<stem>#<slug of title>" */
    const char *title;    /* heading text (or front matter title / file stem for a preamble) */
    const char *context;  /* parent headings joined with " > ", "" at top level */
    const char *lang;     /* "zh" or "en" */
    const char *category; /* front matter category, "" if none */
    const char *keywords; /* the section's keywords and synonyms, comma separated, "" if none */
    const char *file_keywords; /* the front matter's, shared by the file's articles */
    const char *summary;       /* plain text of a 摘要/Summary subsection, NULL if none */
    const char **passages;     /* plain-text paragraphs; a lead line ending in ':' keeps its list */
    size_t n_passages;
    size_t line; /* 1-based line of the heading, for messages */
};

struct wb_kb_file {
    struct wb_kb_article *articles;
    size_t n_articles;
};

struct wb_kb_limits {
    size_t max_bytes;    /* whole file */
    size_t max_articles; /* per file */
};

/*
 * Parse p[0..n) (not NUL-terminated). name is the file name (e.g.
 * "refunds.zh.md"): its stem prefixes ids and a ".zh"/".en" suffix sets the
 * language when the front matter does not. Returns WB_OK, or WB_ERR_PARSE
 * (invalid UTF-8, NUL byte, unclosed or malformed front matter) or
 * WB_ERR_LIMIT with err naming the line.
 */
WB_NODISCARD enum wb_status wb_kb_parse(const char *p, size_t n, const char *name,
                                        const struct wb_kb_limits *lim, struct wb_arena *a,
                                        struct wb_kb_file *out, struct wb_err *err);

/* True for headings that summarise their parent: 摘要, 概要, 总结, Summary, TL;DR. */
bool wb_kb_is_summary_heading(const char *s, size_t n);

/* Plain text from one line of Markdown inline syntax (**b**, `c`, [t](u), ![a](u)). */
char *wb_kb_inline_plain(struct wb_arena *a, const char *s, size_t n);

#endif
