/*
 * kb_load.c - the knowledge directory: listing, reading, change signature.
 *
 * Design: all file I/O of the bot lives here; parsing is kb_parse.c's pure
 * function. The signature is a hash of each file's path, size and mtime
 * (nanoseconds), so wb_bot_kb_changed() costs one readdir and one stat
 * per file and never reads a byte.
 *
 * Thread: the thread that builds a bot; the signature from any thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warbler/log.h>

#include "kb_load.h"
#include "text.h"

#define MAX_DEPTH 3
#define MAX_FILES 100000

struct names {
    char **v;
    size_t n, cap;
};

static bool is_md(const char *name)
{
    size_t n = strlen(name);
    return (n > 3 && strcmp(name + n - 3, ".md") == 0) ||
           (n > 9 && strcmp(name + n - 9, ".markdown") == 0);
}

static void list_dir(const char *root, const char *rel, int depth, struct names *out)
{
    char path[4096];
    int k = snprintf(path, sizeof(path), "%s%s%s", root, rel[0] ? "/" : "", rel);
    if (k < 0 || (size_t)k >= sizeof(path)) {
        return;
    }
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, NULL); /* thread-safe, unlike readdir */
    for (int i = 0; i < n; i++) {
        const struct dirent *e = ents[i];
        char sub[4096];
        k = snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (e->d_name[0] == '.' || k < 0 || (size_t)k >= sizeof(sub) || out->n >= MAX_FILES) {
            continue;
        }
        bool dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
            struct stat sb;
            char full[8192];
            (void)snprintf(full, sizeof(full), "%s/%s", root, sub);
            dir = stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
        }
        if (dir && depth < MAX_DEPTH) {
            list_dir(root, sub, depth + 1, out);
        } else if (!dir && is_md(e->d_name)) {
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 32;
                out->v = wb_realloc(out->v, out->cap * sizeof(*out->v));
            }
            out->v[out->n++] = wb_strdup(sub);
        }
    }
    for (int i = 0; i < n; i++) {
        free(ents[i]);
    }
    free(ents);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        free(ns->v[i]);
    }
    free(ns->v);
}

static void list_md(const char *root, struct names *out)
{
    memset(out, 0, sizeof(*out));
    list_dir(root, "", 0, out);
    if (out->n > 0) {
        qsort(out->v, out->n, sizeof(*out->v), cmp_str);
    }
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t wb_kb_signature(const char *dir)
{
    struct names ns;
    list_md(dir, &ns);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < ns.n; i++) {
        char full[8192];
        struct stat sb;
        (void)snprintf(full, sizeof(full), "%s/%s", dir, ns.v[i]);
        h = mix(h, ns.v[i], strlen(ns.v[i]) + 1);
        if (stat(full, &sb) == 0) {
            int64_t v[3] = { (int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                             (int64_t)sb.st_mtim.tv_nsec };
            h = mix(h, v, sizeof(v));
        }
    }
    names_free(&ns);
    return h;
}

/* Read a whole regular file of at most max bytes. */
static enum wb_status read_file(const char *path, size_t max, char **out, size_t *n_out,
                                struct wb_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char eb[128];
        return wb_err_set(err, WB_ERR_IO, "cannot open: %s", strerror_r(errno, eb, sizeof(eb)));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        (void)close(fd);
        return wb_err_set(err, WB_ERR_IO, "not a regular file");
    }
    if (max > 0 && (size_t)sb.st_size > max) {
        (void)close(fd);
        return wb_err_set(err, WB_ERR_LIMIT, "%lld bytes is larger than max_file_size %zu",
                          (long long)sb.st_size, max);
    }
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *buf = wb_malloc(cap);
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            free(buf);
            (void)close(fd);
            char eb[128];
            return wb_err_set(err, WB_ERR_IO, "read: %s", strerror_r(errno, eb, sizeof(eb)));
        }
        if (r == 0 || (n += (size_t)r) == cap) {
            break;
        }
    }
    (void)close(fd);
    *out = buf;
    *n_out = n;
    return WB_OK;
}

/* Open-addressing set of "id\x1flang" hashes (collisions compared by string). */
struct idset {
    uint32_t *slot; /* article + 1 */
    size_t n_slots;
};

static uint64_t id_hash(const struct wb_kb_article *a)
{
    uint64_t h = mix(1469598103934665603ULL, a->id, strlen(a->id) + 1);
    return mix(h, a->lang, strlen(a->lang));
}

static bool idset_add(struct idset *set, const struct wb_kb *kb, const struct wb_kb_article *a)
{
    if ((kb->n + 1) * 2 > set->n_slots) {
        free(set->slot);
        set->n_slots = set->n_slots ? set->n_slots * 2 : 256;
        set->slot = wb_calloc(set->n_slots, sizeof(*set->slot));
        for (size_t i = 0; i < kb->n; i++) {
            size_t j = (size_t)id_hash(&kb->v[i]) & (set->n_slots - 1);
            while (set->slot[j] != 0) {
                j = (j + 1) & (set->n_slots - 1);
            }
            set->slot[j] = (uint32_t)i + 1;
        }
    }
    if (set->slot == NULL) {
        return true;
    }
    size_t j = (size_t)id_hash(a) & (set->n_slots - 1);
    while (set->slot[j] != 0) {
        const struct wb_kb_article *o = &kb->v[set->slot[j] - 1];
        if (strcmp(o->id, a->id) == 0 && strcmp(o->lang, a->lang) == 0) {
            return false;
        }
        j = (j + 1) & (set->n_slots - 1);
    }
    set->slot[j] = (uint32_t)kb->n + 1;
    return true;
}

static void add_articles(struct wb_kb *kb, struct idset *set, const struct wb_kb_file *f,
                         const char *name)
{
    const char *fname = wb_arena_strdup(&kb->arena, name);
    for (size_t i = 0; i < f->n_articles; i++) {
        const struct wb_kb_article *a = &f->articles[i];
        if (kb->n == kb->cap) {
            kb->cap = kb->cap ? kb->cap * 2 : 64;
            kb->v = wb_realloc(kb->v, kb->cap * sizeof(*kb->v));
            kb->file = wb_realloc(kb->file, kb->cap * sizeof(*kb->file));
        }
        if (!idset_add(set, kb, a)) {
            wb_log(WB_LOG_WARN,
                   "bot: knowledge file %s:%zu: article id %s (%s) repeats an "
                   "earlier one; skipped",
                   name, a->line, a->id, a->lang);
            continue;
        }
        kb->file[kb->n] = fname;
        kb->v[kb->n++] = *a;
    }
}

void wb_kb_load(const char *dir, const struct wb_kb_limits *lim, struct wb_kb *out)
{
    memset(out, 0, sizeof(*out));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        wb_log(WB_LOG_WARN,
               "bot: knowledge_dir %s is not a readable directory; every question "
               "will be handed off",
               dir);
    }
    out->sig = wb_kb_signature(dir);
    struct names ns;
    struct idset set = { NULL, 0 };
    list_md(dir, &ns);
    for (size_t i = 0; i < ns.n; i++) {
        char full[8192];
        char *data = NULL;
        size_t n = 0;
        struct wb_err err = { WB_OK, "" };
        struct wb_kb_file f;
        (void)snprintf(full, sizeof(full), "%s/%s", dir, ns.v[i]);
        enum wb_status st = read_file(full, lim->max_bytes, &data, &n, &err);
        if (st == WB_OK) {
            st = wb_kb_parse(data, n, ns.v[i], lim, &out->arena, &f, &err);
        }
        free(data);
        out->n_files++;
        if (st != WB_OK) {
            out->n_broken++;
            wb_log(WB_LOG_WARN, "bot: knowledge file %s skipped: %s", full, err.msg);
            continue;
        }
        add_articles(out, &set, &f, ns.v[i]);
    }
    free(set.slot);
    names_free(&ns);
}

void wb_kb_free(struct wb_kb *kb)
{
    if (kb == NULL) {
        return;
    }
    wb_arena_free(&kb->arena);
    free(kb->v);
    free(kb->file);
    memset(kb, 0, sizeof(*kb));
}
