/*
 * kb_load.h - read a knowledge directory into articles.
 *
 * Thread: the thread that builds a bot (main on start and reload).
 */
#ifndef WB_BOT_KB_LOAD_H
#define WB_BOT_KB_LOAD_H

#include <warbler/buf.h>
#include <warbler/common.h>

#include "kb_parse.h"

struct wb_kb {
    struct wb_arena arena; /* every string of every article */
    struct wb_kb_article *v;
    const char **file; /* per article: the file it came from (relative) */
    size_t n, cap;
    size_t n_files, n_broken;
    uint64_t sig; /* wb_kb_signature() at load time */
};

/*
 * Load every *.md file under dir (sorted by path, three levels deep). A
 * file that cannot be read or parsed is logged with its name and skipped;
 * an article whose id and language repeat an earlier one is logged and
 * skipped. A missing directory is logged and gives an empty knowledge base.
 */
void wb_kb_load(const char *dir, const struct wb_kb_limits *lim, struct wb_kb *out);
void wb_kb_free(struct wb_kb *kb);

/* Hash of the names, sizes and modification times of the *.md files under dir. */
uint64_t wb_kb_signature(const char *dir);

#endif
