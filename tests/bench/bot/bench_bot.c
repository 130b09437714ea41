/*
 * bench_bot.c - answer time and memory of the bot over a generated
 * knowledge base (default 10,000 articles, half Chinese, half English).
 *
 * Usage: bench_bot [-n ARTICLES] [-q QUESTIONS] [--max-p99-us US] [--keep DIR]
 *
 * Writes the knowledge base as Markdown files (100 sections each) into a
 * temporary directory, builds a bot from it, then times wb_bot_answer()
 * for on-topic questions (words drawn from one article, as a customer
 * would paraphrase) and off-topic ones (words the KB does not have).
 * Baseline in the same run: a linear scan that scores every article by
 * term overlap, i.e. what answering costs without an inverted index.
 * Prints p50/p99/max in microseconds and the resident memory added.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <warbler/buf.h>
#include <warbler/log.h>

#include "bot.h"
#include "text.h"
#include "tokenize.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Zipf-like: small indexes are common, like real vocabulary. */
static size_t pick(size_t n)
{
    double u = (double)(next_rand() % 1000000) / 1000000.0;
    return (size_t)((double)n * u * u * u);
}

#define VOCAB 6000

static char vocab[VOCAB][16];

static void make_vocab(void)
{
    static const char *const syl[] = { "ka", "lo",  "mi",  "ren", "sto", "pa",  "ver", "lin",
                                       "ux", "tor", "bel", "qui", "dra", "fen", "zo",  "gri" };
    for (size_t i = 0; i < VOCAB; i++) {
        size_t k = 2 + i % 3, n = 0;
        size_t v = i;
        for (size_t j = 0; j < k; j++) {
            n += (size_t)snprintf(vocab[i] + n, sizeof(vocab[i]) - n, "%s", syl[v % 16]);
            v = v / 16 + j * 7 + 1;
        }
    }
}

static void put_han(struct wb_buf *b, size_t i)
{
    /* 3,000 common-range Han characters */
    uint32_t cp = 0x4E00 + (uint32_t)(i % 3000) * 5;
    char u[3] = { (char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)),
                  (char)(0x80 | (cp & 0x3F)) };
    wb_bot_put(b, u, 3);
}

static void put_words(struct wb_buf *b, bool zh, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (zh) {
            put_han(b, pick(3000));
            if (i % 12 == 11) {
                wb_bot_put(b, "，", strlen("，"));
            }
        } else {
            wb_bot_putf(b, "%s%s", i ? " " : "", vocab[pick(VOCAB)]);
        }
    }
}

static void write_kb(const char *dir, size_t n_articles)
{
    size_t per_file = 100;
    for (size_t f = 0; f * per_file < n_articles; f++) {
        struct wb_buf b;
        wb_buf_init(&b, 0);
        bool zh = f % 2 == 1;
        wb_bot_putf(&b, "---\nlanguage: %s\n---\n", zh ? "zh" : "en");
        for (size_t s = 0; s < per_file && f * per_file + s < n_articles; s++) {
            wb_bot_putf(&b, "## ");
            put_words(&b, zh, zh ? 6 : 4);
            wb_bot_putf(&b, " {#a%zu}\n<!-- keywords: ", f * per_file + s);
            put_words(&b, zh, 4);
            wb_bot_putf(&b, " -->\n");
            for (int p = 0; p < 3; p++) {
                put_words(&b, zh, zh ? 60 : 30);
                wb_bot_putf(&b, "\n\n");
            }
        }
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/kb%04zu%s.md", dir, f, zh ? ".zh" : "");
        FILE *fp = fopen(path, "w");
        if (fp == NULL || fwrite(b.data, 1, b.len, fp) != b.len || fclose(fp) != 0) {
            perror(path);
            exit(2); /* NOLINT(concurrency-mt-unsafe): single-threaded benchmark */
        }
        wb_buf_free(&b);
    }
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            v = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        (void)fclose(f);
    }
    return v;
}

static double now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A question: a few words of one generated article, or words the KB never has. */
static char *make_question(size_t i)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    bool zh = next_rand() % 2;
    if (i % 5 == 4) {
        wb_bot_putf(&b, zh ? "明天天气怎么样 %zu" : "weather forecast tomorrow %zu", i);
    } else {
        wb_bot_putf(&b, zh ? "请问" : "how do I ");
        put_words(&b, zh, zh ? 8 : 5);
        wb_bot_put(&b, zh ? "？" : "?", zh ? 3 : 1);
    }
    wb_bot_put(&b, "", 0);
    return wb_buf_steal(&b, NULL);
}

struct stats {
    double p50, p99, max;
};

static struct stats summarize(double *t, size_t n)
{
    qsort(t, n, sizeof(*t), cmp_double);
    struct stats s = { t[n / 2], t[(size_t)((double)n * 0.99)], t[n - 1] };
    return s;
}

/*
 * Baseline: every article pre-tokenized into a sorted array of term
 * hashes; a question is scored against each article in turn (binary
 * search per term). This is the cost without an inverted index.
 */
struct flat {
    uint64_t *h;
    size_t n;
};

static uint64_t hash_term(const struct wb_tok *t)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < t->len; i++) {
        h = (h ^ (unsigned char)t->s[i]) * 1099511628211ULL;
    }
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static struct flat flatten(const char *text)
{
    struct wb_toks t = { NULL, 0, 0 };
    wb_tok_text(text, strlen(text), &t);
    struct flat f = { wb_malloc((t.n ? t.n : 1) * sizeof(uint64_t)), t.n };
    for (size_t i = 0; i < t.n; i++) {
        f.h[i] = hash_term(&t.v[i]);
    }
    qsort(f.h, f.n, sizeof(*f.h), cmp_u64);
    wb_toks_free(&t);
    return f;
}

static size_t linear_scan(const struct flat *arts, size_t n, const char *q)
{
    struct flat qf = flatten(q);
    size_t best = 0, best_hits = 0;
    for (size_t a = 0; a < n; a++) {
        size_t hits = 0;
        for (size_t i = 0; i < qf.n; i++) {
            hits += bsearch(&qf.h[i], arts[a].h, arts[a].n, sizeof(uint64_t), cmp_u64) != NULL;
        }
        if (hits > best_hits) {
            best_hits = hits;
            best = a;
        }
    }
    free(qf.h);
    return best;
}

/* Re-read the generated files as plain text per section for the baseline. */
static struct flat *baseline_articles(const char *dir, size_t n_articles)
{
    struct flat *arts = wb_calloc(n_articles, sizeof(*arts));
    size_t k = 0;
    for (size_t f = 0; k < n_articles; f++) {
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/kb%04zu%s.md", dir, f, f % 2 ? ".zh" : "");
        FILE *fp = fopen(path, "r");
        if (fp == NULL) {
            break;
        }
        struct wb_buf sec;
        wb_buf_init(&sec, 0);
        char line[8192];
        bool started = false;
        while (fgets(line, sizeof(line), fp) != NULL && k < n_articles) {
            if (strncmp(line, "## ", 3) == 0) {
                if (started) {
                    arts[k++] = flatten(sec.data);
                }
                wb_buf_reset(&sec);
                started = true;
            }
            wb_bot_put(&sec, line, strlen(line));
        }
        if (started && k < n_articles) {
            arts[k++] = flatten(sec.data);
        }
        wb_buf_free(&sec);
        (void)fclose(fp);
    }
    return arts;
}

struct opts {
    size_t n_articles, n_questions;
    double max_p99_us;
    const char *keep;
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ 10000, 20000, 0, NULL };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) {
            o->n_articles = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "-q") == 0) {
            o->n_questions = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--max-p99-us") == 0) {
            o->max_p99_us = strtod(argv[i + 1], NULL);
        } else if (strcmp(argv[i], "--keep") == 0) {
            o->keep = argv[i + 1];
        }
    }
}

static void remove_kb(const char *dir, size_t n_articles)
{
    for (size_t f = 0; f * 100 < n_articles; f++) {
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/kb%04zu%s.md", dir, f, f % 2 ? ".zh" : "");
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

static struct stats time_bot(const struct wb_bot *bot, char **qs, size_t n, size_t *answered)
{
    double *t = wb_malloc(n * sizeof(*t));
    *answered = 0;
    for (size_t i = 0; i < n; i++) {
        struct wb_bot_query q = { qs[i], NULL, 0 };
        struct wb_bot_reply r;
        double t0 = now_us();
        if (wb_bot_answer(bot, &q, &r, NULL) != WB_OK) {
            exit(2); /* NOLINT(concurrency-mt-unsafe): single-threaded benchmark */
        }
        t[i] = now_us() - t0;
        *answered += r.action == WB_BOT_ANSWER;
        wb_bot_reply_free(&r);
    }
    struct stats s = summarize(t, n);
    free(t);
    return s;
}

static struct stats time_baseline(const char *dir, size_t n_articles, char **qs, size_t n)
{
    struct flat *arts = baseline_articles(dir, n_articles);
    double *t = wb_malloc(n * sizeof(*t));
    size_t sink = 0;
    for (size_t i = 0; i < n; i++) {
        double t0 = now_us();
        sink += linear_scan(arts, n_articles, qs[i]);
        t[i] = now_us() - t0;
    }
    struct stats s = summarize(t, n);
    for (size_t a = 0; a < n_articles; a++) {
        free(arts[a].h);
    }
    free(arts);
    free(t);
    if (sink == (size_t)-1) {
        printf("unreachable\n");
    }
    return s;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_opts(argc, argv, &o);
    wb_log_setup(WB_LOG_WARN, WB_LOG_SINK_STDERR);
    char tmp[] = "/tmp/wb_bench_kb_XXXXXX";
    const char *dir = o.keep;
    if (dir == NULL) {
        dir = mkdtemp(tmp);
    } else {
        (void)mkdir(dir, 0755);
    }
    if (dir == NULL) {
        perror("mkdtemp");
        return 2;
    }
    make_vocab();
    write_kb(dir, o.n_articles);
    struct wb_bot_conf c;
    wb_bot_conf_defaults(&c, dir);
    long rss0 = rss_kib();
    double t0 = now_us();
    struct wb_bot *bot;
    if (wb_bot_new(&c, &bot, NULL) != WB_OK) {
        return 2;
    }
    double load_ms = (now_us() - t0) / 1000.0;
    long rss1 = rss_kib();
    char **qs = wb_malloc(o.n_questions * sizeof(*qs));
    for (size_t i = 0; i < o.n_questions; i++) {
        qs[i] = make_question(i);
    }
    size_t answered;
    struct stats s = time_bot(bot, qs, o.n_questions, &answered);
    size_t nb = o.n_questions < 300 ? o.n_questions : 300;
    struct stats b = time_baseline(dir, wb_bot_article_count(bot), qs, nb);
    printf("articles: %zu, load: %.0f ms\n", wb_bot_article_count(bot), load_ms);
    printf("memory: +%.1f MiB resident after load (index tables %.1f MiB)\n",
           (double)(rss1 - rss0) / 1024.0, (double)wb_bot_index_memory(bot) / 1048576.0);
    printf("wb_bot_answer, %zu questions (%.0f%% answered): p50 %.0f us, p99 %.0f us, max %.0f "
           "us\n",
           o.n_questions, 100.0 * (double)answered / (double)o.n_questions, s.p50, s.p99, s.max);
    printf("baseline linear scan, %zu questions: p50 %.0f us, p99 %.0f us, max %.0f us\n", nb,
           b.p50, b.p99, b.max);
    for (size_t i = 0; i < o.n_questions; i++) {
        free(qs[i]);
    }
    free(qs);
    wb_bot_free(bot);
    wb_bot_conf_clear(&c);
    if (o.keep == NULL) {
        remove_kb(dir, o.n_articles);
    }
    return o.max_p99_us > 0 && s.p99 > o.max_p99_us ? 1 : 0;
}
