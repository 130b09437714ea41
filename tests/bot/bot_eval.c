/*
 * bot_eval.c - measures the bot on a question set.
 *
 * Usage: bot_eval [-v] [-t threshold] [--min-top1 PCT] [--min-refusal PCT]
 *                 KNOWLEDGE_DIR QUESTIONS.tsv
 *
 * Each line of the question set is: expected<TAB>kind<TAB>previous<TAB>question,
 * where expected is an article id, REFUSE or SMALLTALK and previous is "-"
 * or the customer's previous message (multi-turn). Prints top-1 accuracy
 * (answered with the expected article), refusal accuracy (off-topic
 * questions handed off), the count of wrong confident answers, and exits 1
 * when an accuracy is below its minimum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/log.h>

#include "bot.h"

struct tally {
    int top1_ok, top1_n;
    int refuse_ok, refuse_n;
    int talk_ok, talk_n;
    int wrong_answers; /* answered, but not with the expected article (or should have refused) */
};

static char *field(char **s)
{
    char *f = *s;
    char *t = strchr(f, '\t');
    if (t != NULL) {
        *t = '\0';
        *s = t + 1;
    } else {
        *s = f + strlen(f);
    }
    return f;
}

static void score(const char *expected, const struct wb_bot_reply *r, struct tally *t, bool *ok)
{
    if (strcmp(expected, "REFUSE") == 0) {
        t->refuse_n++;
        *ok = r->action == WB_BOT_HANDOFF || r->action == WB_BOT_SILENT;
        t->refuse_ok += *ok;
        t->wrong_answers += r->action == WB_BOT_ANSWER;
    } else if (strcmp(expected, "SMALLTALK") == 0) {
        t->talk_n++;
        *ok = r->action == WB_BOT_SMALLTALK;
        t->talk_ok += *ok;
    } else {
        t->top1_n++;
        *ok = r->action == WB_BOT_ANSWER && r->article_id != NULL &&
              strcmp(r->article_id, expected) == 0;
        t->top1_ok += *ok;
        t->wrong_answers += r->action == WB_BOT_ANSWER && !*ok;
    }
}

static int run(const struct wb_bot *bot, FILE *f, bool verbose, struct tally *t)
{
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        char *s = line;
        char *expected = field(&s);
        char *kind = field(&s);
        char *prev = field(&s);
        char *question = field(&s);
        struct wb_bot_query q = { question, strcmp(prev, "-") == 0 ? NULL : prev, 0 };
        struct wb_bot_reply r;
        struct wb_err err;
        if (wb_bot_answer(bot, &q, &r, &err) != WB_OK) {
            (void)fprintf(stderr, "line %d: %s\n", lineno, err.msg);
            return -1;
        }
        bool ok;
        score(expected, &r, t, &ok);
        if (verbose || !ok) {
            printf("%s line %d [%s] %s | want %s got %s %s (%.2f)\n", ok ? "ok  " : "FAIL", lineno,
                   kind, question, expected, wb_bot_action_str(r.action),
                   r.article_id != NULL ? r.article_id : "-", r.confidence);
        }
        wb_bot_reply_free(&r);
    }
    return 0;
}

static double pct(int a, int n)
{
    return n > 0 ? 100.0 * a / n : 100.0;
}

int main(int argc, char **argv)
{
    bool verbose = false;
    double threshold = -1, min_top1 = 0, min_refusal = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            threshold = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "--min-top1") == 0 && i + 1 < argc) {
            min_top1 = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "--min-refusal") == 0 && i + 1 < argc) {
            min_refusal = strtod(argv[++i], NULL);
        } else {
            break;
        }
    }
    if (argc - i != 2) {
        (void)fprintf(stderr, "usage: bot_eval [-v] [-t threshold] [--min-top1 PCT] "
                              "[--min-refusal PCT] KNOWLEDGE_DIR QUESTIONS.tsv\n");
        return 2;
    }
    wb_log_setup(WB_LOG_WARN, WB_LOG_SINK_STDERR);
    struct wb_bot_conf conf;
    wb_bot_conf_defaults(&conf, argv[i]);
    if (threshold >= 0) {
        conf.threshold = threshold;
    }
    struct wb_bot *bot;
    struct wb_err err;
    if (wb_bot_new(&conf, &bot, &err) != WB_OK) {
        (void)fprintf(stderr, "bot: %s\n", err.msg);
        return 2;
    }
    FILE *f = fopen(argv[i + 1], "r");
    if (f == NULL) {
        perror(argv[i + 1]);
        return 2;
    }
    struct tally t;
    memset(&t, 0, sizeof(t));
    int rc = run(bot, f, verbose, &t);
    (void)fclose(f);
    printf("articles: %zu, threshold: %.2f\n", wb_bot_article_count(bot), conf.threshold);
    printf("top-1 accuracy: %.1f%% (%d/%d)\n", pct(t.top1_ok, t.top1_n), t.top1_ok, t.top1_n);
    printf("refusal accuracy: %.1f%% (%d/%d)\n", pct(t.refuse_ok, t.refuse_n), t.refuse_ok,
           t.refuse_n);
    printf("small talk: %.1f%% (%d/%d)\n", pct(t.talk_ok, t.talk_n), t.talk_ok, t.talk_n);
    printf("wrong confident answers: %d\n", t.wrong_answers);
    wb_bot_free(bot);
    wb_bot_conf_clear(&conf);
    if (rc != 0) {
        return 2;
    }
    bool pass = pct(t.top1_ok, t.top1_n) >= min_top1 && pct(t.refuse_ok, t.refuse_n) >= min_refusal;
    return pass ? 0 : 1;
}
