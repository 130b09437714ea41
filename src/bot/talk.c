/*
 * talk.c - greetings, thanks, goodbyes and follow-up cues.
 *
 * Design: a message is small talk only when the whole of it is made of
 * known phrases (plus fillers, punctuation and emoji): "hi, how do I reset
 * my password" is a question with a greeting in front, and the greeting is
 * cut off before retrieval. Phrases are matched on case-folded text with
 * full-width forms folded; Latin phrases must end at a word boundary so
 * "hi" does not match "high".
 *
 * Thread: any (pure).
 */
#include <string.h>

#include "talk.h"
#include "tokenize.h"

struct phrase {
    const char *s;
    enum wb_talk kind;
    bool zh;
};

static const struct phrase phrases[] = {
    { "good morning", WB_TALK_GREETING, false },
    { "good afternoon", WB_TALK_GREETING, false },
    { "good evening", WB_TALK_GREETING, false },
    { "hello", WB_TALK_GREETING, false },
    { "hiya", WB_TALK_GREETING, false },
    { "hi", WB_TALK_GREETING, false },
    { "hey", WB_TALK_GREETING, false },
    { "howdy", WB_TALK_GREETING, false },
    { "greetings", WB_TALK_GREETING, false },
    { "there", WB_TALK_FILLER, false },
    { "你好", WB_TALK_GREETING, true },
    { "您好", WB_TALK_GREETING, true },
    { "哈喽", WB_TALK_GREETING, true },
    { "哈啰", WB_TALK_GREETING, true },
    { "嗨", WB_TALK_GREETING, true },
    { "在吗", WB_TALK_GREETING, true },
    { "在不在", WB_TALK_GREETING, true },
    { "早上好", WB_TALK_GREETING, true },
    { "上午好", WB_TALK_GREETING, true },
    { "下午好", WB_TALK_GREETING, true },
    { "晚上好", WB_TALK_GREETING, true },
    { "thank you", WB_TALK_THANKS, false },
    { "thanks", WB_TALK_THANKS, false },
    { "thx", WB_TALK_THANKS, false },
    { "ty", WB_TALK_THANKS, false },
    { "cheers", WB_TALK_THANKS, false },
    { "appreciate it", WB_TALK_THANKS, false },
    { "谢谢", WB_TALK_THANKS, true },
    { "多谢", WB_TALK_THANKS, true },
    { "感谢", WB_TALK_THANKS, true },
    { "谢啦", WB_TALK_THANKS, true },
    { "goodbye", WB_TALK_GOODBYE, false },
    { "good bye", WB_TALK_GOODBYE, false },
    { "bye", WB_TALK_GOODBYE, false },
    { "see you", WB_TALK_GOODBYE, false },
    { "see ya", WB_TALK_GOODBYE, false },
    { "good night", WB_TALK_GOODBYE, false },
    { "have a nice day", WB_TALK_GOODBYE, false },
    { "have a good day", WB_TALK_GOODBYE, false },
    { "再见", WB_TALK_GOODBYE, true },
    { "拜拜", WB_TALK_GOODBYE, true },
    { "回头见", WB_TALK_GOODBYE, true },
    { "晚安", WB_TALK_GOODBYE, true },
    { "ok", WB_TALK_FILLER, false },
    { "okay", WB_TALK_FILLER, false },
    { "great", WB_TALK_FILLER, false },
    { "perfect", WB_TALK_FILLER, false },
    { "so much", WB_TALK_FILLER, false },
    { "very much", WB_TALK_FILLER, false },
    { "a lot", WB_TALK_FILLER, false },
    { "you", WB_TALK_FILLER, false },
    { "all", WB_TALK_FILLER, false },
    { "everyone", WB_TALK_FILLER, false },
    { "好的", WB_TALK_FILLER, true },
    { "好", WB_TALK_FILLER, true },
    { "嗯", WB_TALK_FILLER, true },
    { "非常", WB_TALK_FILLER, true },
    { "你", WB_TALK_FILLER, true },
    { "您", WB_TALK_FILLER, true },
    { "啦", WB_TALK_FILLER, true },
    { "了", WB_TALK_FILLER, true },
    { "呀", WB_TALK_FILLER, true },
    { "啊", WB_TALK_FILLER, true },
    { "哈", WB_TALK_FILLER, true },
};

static bool is_word_cp(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || wb_tok_is_han(c);
}

/* Does the folded text at p[i..] start with phrase s, ending at a boundary? */
static size_t match_at(const char *p, size_t n, size_t i, const char *s)
{
    size_t j = i;
    size_t k = 0, sn = strlen(s);
    while (k < sn) {
        if (j >= n) {
            return 0;
        }
        size_t kk = k;
        uint32_t want = wb_utf8_next(s, sn, &kk);
        uint32_t got = wb_tok_next_folded(p, n, &j);
        if (want != got) {
            return 0;
        }
        k = kk;
    }
    if ((unsigned char)s[0] < 0x80 && j < n) {
        size_t t = j;
        uint32_t next = wb_tok_next_folded(p, n, &t);
        if (next < 0x80 && is_word_cp(next)) {
            return 0;
        }
    }
    return j - i;
}

static size_t skip_separators(const char *p, size_t n, size_t i)
{
    while (i < n) {
        size_t j = i;
        uint32_t c = wb_tok_next_folded(p, n, &j);
        if (is_word_cp(c)) {
            break;
        }
        i = j;
    }
    return i;
}

/*
 * The longest phrase at p[i..] (its length, 0 for none) and its entry. A
 * phrase must begin with the text's first character, which most phrases
 * do not: comparing the UTF-8 of that one character first avoids decoding
 * every phrase at every step.
 */
static size_t longest_phrase(const char *p, size_t n, size_t i, size_t *bi)
{
    if (i >= n) {
        return 0;
    }
    size_t j = i;
    char first[4];
    size_t fl = wb_utf8_encode(wb_tok_next_folded(p, n, &j), first);
    size_t best = 0;
    for (size_t k = 0; k < WB_ARRAY_LEN(phrases); k++) {
        if (phrases[k].s[0] != first[0] || strncmp(phrases[k].s, first, fl) != 0) {
            continue;
        }
        size_t m = match_at(p, n, i, phrases[k].s);
        if (m > best) {
            best = m;
            *bi = k;
        }
    }
    return best;
}

enum wb_talk wb_talk_detect(const char *p, size_t n, size_t *rest_out, const char **lang_out)
{
    enum wb_talk kind = WB_TALK_NONE;
    const char *lang = wb_tok_lang(p, n);
    size_t i = skip_separators(p, n, 0);
    for (;;) {
        size_t bi = 0;
        size_t best = longest_phrase(p, n, i, &bi);
        if (best == 0) {
            break;
        }
        const struct phrase *ph = &phrases[bi];
        if (ph->kind != WB_TALK_FILLER &&
            (kind == WB_TALK_NONE || kind == WB_TALK_FILLER || ph->kind > kind)) {
            kind = ph->kind;
            lang = ph->zh ? "zh" : "en";
        } else if (kind == WB_TALK_NONE) {
            kind = WB_TALK_FILLER;
        }
        i = skip_separators(p, n, i + best);
    }
    if (i == 0 && wb_talk_has_content(p, n)) {
        kind = WB_TALK_NONE;
    } else if (i >= n && kind == WB_TALK_NONE) {
        kind = WB_TALK_FILLER;
    }
    *rest_out = i;
    *lang_out = lang;
    return kind;
}

bool wb_talk_has_content(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (is_word_cp(wb_tok_next_folded(p, n, &i))) {
            return true;
        }
    }
    return false;
}

static bool starts_with_fold(const char *p, size_t n, const char *pre)
{
    return match_at(p, n, 0, pre) > 0;
}

bool wb_talk_is_followup(const char *p, size_t n)
{
    static const char *const lead[] = { "那",         "那么",      "还有",    "另外",
                                        "如果是",     "要是",      "换成",    "and",
                                        "what about", "how about", "what if", "also",
                                        "same for",   "for",       "or",      "then" };
    size_t s = skip_separators(p, n, 0);
    p += s;
    n -= s;
    if (n == 0 || n > 60) {
        return false;
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(lead); i++) {
        if (starts_with_fold(p, n, lead[i])) {
            return true;
        }
    }
    /* ends with 呢, ignoring final punctuation and emoji */
    uint32_t last = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t c = wb_tok_next_folded(p, n, &i);
        if (is_word_cp(c)) {
            last = c;
        }
    }
    return last == 0x5462;
}
