/*
 * email_quote.c - strip quoted history and signatures from a reply.
 *
 * DESIGN: the text is split into lines once. The first line that starts
 * a history block (an attribution such as "On ... wrote:" or
 * "在 ... 写道：", a "-----Original Message-----" style separator, an
 * Outlook header block "From:/Sent:/To:" or "发件人:/发送时间:") ends the
 * new text, and so does a signature separator "-- ". Lines quoted with
 * '>' are dropped wherever they are, so interleaved answers keep the
 * customer's lines. When that leaves nothing (bottom posting, or a bare
 * forward) the markers and quoted lines are dropped but the rest kept,
 * and when even that is empty the whole text stays: the bot must never
 * read an empty message because our heuristics were too eager.
 *
 * Thread: any.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "email_quote.h"

struct span {
    const char *s;
    size_t n;
};

static const char *const from_labels[] = { "From", "发件人", "寄件者", "寄件人" };
static const char *const header_labels[] = {
    "Sent", "Date", "To",   "Subject",  "Cc",     "发送时间", "日期", "收件人",
    "主题", "抄送", "时间", "寄件日期", "收件者", "主旨",     "副本",
};
static const char *const separators[] = {
    "original message",  "original", "原始邮件",          "原始郵件",
    "forwarded message", "转发邮件", "message d'origine", "邮件原文",
};
static const char *const attributions[] = {
    "wrote:", "a écrit :", "a écrit:", "写道：", "写道:", "寫道：", "寫道:",
};
static const char *const mobile_sigs[] = {
    "Sent from my ",    "Sent from Mail for Windows",
    "Get Outlook for ", "Sent from Yahoo Mail",
    "发自我的",         "从我的",
    "来自我的",         "發自我的",
};

static bool starts_with(struct span l, const char *pre, bool ci)
{
    size_t k = strlen(pre);
    return l.n >= k && (ci ? strncasecmp(l.s, pre, k) == 0 : memcmp(l.s, pre, k) == 0);
}

static bool ends_with(struct span l, const char *suf)
{
    size_t k = strlen(suf);
    return l.n >= k && memcmp(l.s + l.n - k, suf, k) == 0;
}

/* Width of the blank (space, tab, U+00A0, U+3000) at s[0..n), 0 if none. */
static size_t blank_at(const char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || s[0] == '\t')) {
        return 1;
    }
    if (n >= 2 && memcmp(s, "\xc2\xa0", 2) == 0) {
        return 2;
    }
    if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0) {
        return 3;
    }
    return 0;
}

static struct span trim(struct span l)
{
    size_t k;
    while (l.n > 0 && (k = blank_at(l.s, l.n)) > 0) {
        l.s += k;
        l.n -= k;
    }
    while (l.n > 0) {
        if (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t') {
            l.n--;
        } else if (l.n >= 2 && memcmp(l.s + l.n - 2, "\xc2\xa0", 2) == 0) {
            l.n -= 2;
        } else if (l.n >= 3 && memcmp(l.s + l.n - 3, "\xe3\x80\x80", 3) == 0) {
            l.n -= 3;
        } else {
            break;
        }
    }
    return l;
}

/* "Label:" or "Label：", optionally in Gmail's *bold* form. */
static bool has_label(struct span l, const char *const *labels, size_t n_labels)
{
    l = trim(l);
    if (l.n > 0 && l.s[0] == '*') {
        l.s++;
        l.n--;
    }
    for (size_t i = 0; i < n_labels; i++) {
        size_t k = strlen(labels[i]);
        if (!starts_with(l, labels[i], true)) {
            continue;
        }
        struct span rest = { l.s + k, l.n - k };
        if (rest.n > 0 && rest.s[0] == '*') {
            rest.s++;
            rest.n--;
        }
        if (starts_with(rest, ":", false) || starts_with(rest, "\xef\xbc\x9a", false)) {
            return true;
        }
    }
    return false;
}

static bool is_separator(struct span l)
{
    l = trim(l);
    size_t lead = 0, tail = 0;
    while (lead < l.n && l.s[lead] == '-') {
        lead++;
    }
    while (tail < l.n - lead && l.s[l.n - 1 - tail] == '-') {
        tail++;
    }
    if (lead < 2 || tail < 2) {
        return false;
    }
    struct span mid = trim((struct span){ l.s + lead, l.n - lead - tail });
    for (size_t i = 0; i < WB_ARRAY_LEN(separators); i++) {
        if (mid.n == strlen(separators[i]) && starts_with(mid, separators[i], true)) {
            return true;
        }
    }
    return false;
}

static bool is_rule(struct span l)
{
    l = trim(l);
    size_t k = 0;
    while (k < l.n && l.s[k] == '_') {
        k++;
    }
    return k >= 10 && k == l.n;
}

static bool is_attribution_end(struct span l)
{
    l = trim(l);
    for (size_t i = 0; i < WB_ARRAY_LEN(attributions); i++) {
        if (ends_with(l, attributions[i]) && l.n < 512) {
            return true;
        }
    }
    return false;
}

static bool is_attribution_start(struct span l)
{
    l = trim(l);
    return starts_with(l, "On ", false) || starts_with(l, "在", false) ||
           starts_with(l, "於", false) || starts_with(l, "Le ", false);
}

static bool is_quoted(struct span l)
{
    l = trim(l);
    return l.n > 0 && l.s[0] == '>';
}

static bool is_blank(struct span l)
{
    return trim(l).n == 0;
}

/* The first line of a history block at or after line i, or -1. */
static size_t marker_start(const struct span *lines, size_t k, size_t i)
{
    if (is_separator(lines[i]) || starts_with(trim(lines[i]), "Begin forwarded message", true)) {
        return i;
    }
    if (is_attribution_end(lines[i])) {
        /* an attribution wrapped over two lines starts one line earlier */
        if (i > 0 && is_attribution_start(lines[i - 1]) && !is_attribution_start(lines[i])) {
            return i - 1;
        }
        return i;
    }
    if (has_label(lines[i], from_labels, WB_ARRAY_LEN(from_labels))) {
        for (size_t j = i + 1; j < k && j <= i + 4; j++) {
            if (has_label(lines[j], header_labels, WB_ARRAY_LEN(header_labels))) {
                size_t r = i;
                while (r > 0 && is_blank(lines[r - 1])) {
                    r--;
                }
                return r > 0 && is_rule(lines[r - 1]) ? r - 1 : i;
            }
        }
    }
    return (size_t)-1;
}

static size_t find_cut(const struct span *lines, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        size_t m = marker_start(lines, k, i);
        if (m != (size_t)-1) {
            return m;
        }
    }
    return k;
}

static size_t find_signature(const struct span *lines, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        struct span l = lines[i];
        if ((l.n == 3 && memcmp(l.s, "-- ", 3) == 0) || (l.n == 2 && memcmp(l.s, "--", 2) == 0)) {
            return i;
        }
    }
    return k;
}

static bool is_mobile_sig(struct span l)
{
    l = trim(l);
    for (size_t i = 0; i < WB_ARRAY_LEN(mobile_sigs); i++) {
        if (starts_with(l, mobile_sigs[i], true) && l.n < 120) {
            return true;
        }
    }
    return false;
}

/*
 * Write lines[0..end) to out, skipping quoted lines (and, when
 * skip_markers, attribution lines), leading and trailing blank lines,
 * runs of blank lines beyond one, and a trailing mobile signature.
 */
static enum wb_status emit(const struct span *lines, size_t end, bool skip_markers,
                           struct wb_buf *out)
{
    size_t *keep = wb_malloc((end + 1) * sizeof(*keep));
    size_t nk = 0;
    for (size_t i = 0; i < end; i++) {
        if (is_quoted(lines[i]) || (skip_markers && is_attribution_end(lines[i]))) {
            continue;
        }
        if (is_blank(lines[i]) && (nk == 0 || is_blank(lines[keep[nk - 1]]))) {
            continue;
        }
        keep[nk++] = i;
    }
    while (nk > 0 && is_blank(lines[keep[nk - 1]])) {
        nk--;
    }
    if (nk > 1 && is_mobile_sig(lines[keep[nk - 1]])) {
        nk--;
        while (nk > 0 && is_blank(lines[keep[nk - 1]])) {
            nk--;
        }
    }
    enum wb_status st = WB_OK;
    for (size_t j = 0; j < nk && st == WB_OK; j++) {
        struct span l = lines[keep[j]];
        while (l.n > 0 && (l.s[l.n - 1] == ' ' || l.s[l.n - 1] == '\t')) {
            l.n--;
        }
        st = wb_buf_append(out, l.s, l.n);
        if (st == WB_OK && j + 1 < nk) {
            st = wb_buf_append(out, "\n", 1);
        }
    }
    free(keep);
    return st;
}

static struct span *split_lines(const char *t, size_t n, size_t *k_out)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++) {
        k += t[i] == '\n' ? 1 : 0;
    }
    struct span *lines = wb_malloc(k * sizeof(*lines));
    size_t start = 0, j = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || t[i] == '\n') {
            lines[j].s = t + start;
            lines[j].n = i - start;
            j++;
            start = i + 1;
        }
    }
    *k_out = j;
    return lines;
}

enum wb_status wb_email_new_text(const char *t, size_t n, struct wb_buf *out, bool *stripped_out)
{
    size_t k;
    struct span *lines = split_lines(t, n, &k);
    struct wb_buf tmp;
    wb_buf_init(&tmp, out->max);
    size_t cut = find_cut(lines, k);
    size_t sig = find_signature(lines, cut);
    enum wb_status st = emit(lines, sig, false, &tmp);
    if (st == WB_OK && tmp.len == 0) {
        /* bottom posting or a bare forward: keep what is not history */
        st = emit(lines, find_signature(lines, k), true, &tmp);
    }
    if (st == WB_OK && tmp.len == 0) {
        st = emit(lines, k, false, &tmp);
    }
    bool all = tmp.len == 0;
    *stripped_out = !all && !(tmp.len == n && memcmp(tmp.data, t, n) == 0);
    if (st == WB_OK) {
        st = all ? wb_buf_append(out, t, n) : wb_buf_append(out, tmp.data, tmp.len);
    }
    wb_buf_free(&tmp);
    free(lines);
    return st;
}
