/*
 * config_value.c - pure parsers for durations, sizes and integer literals.
 *
 * Design: values are non-negative decimal integers followed by a unit;
 * no fractions, signs or spaces, so "1.5h" and " 30s" are errors rather
 * than guesses. Every step that can overflow int64 is checked before it is
 * taken. The integer scan exists because libconfig 1.5 turns
 * `port = 4294975488;` into 8192 without a word (it stores literals
 * without an L suffix in an int); we refuse such literals with their line.
 *
 * Thread: any (no globals, no I/O).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config_value.h"

struct unit {
    const char *word;
    int64_t mult;
};

static const struct unit duration_units[] = {
    { "ms", 1 },
    { "s", INT64_C(1000) },
    { "m", INT64_C(60) * 1000 },
    { "h", INT64_C(3600) * 1000 },
    { "d", INT64_C(86400) * 1000 },
};

static const struct unit size_units[] = {
    { "", 1 },
    { "k", INT64_C(1) << 10 },
    { "K", INT64_C(1) << 10 },
    { "m", INT64_C(1) << 20 },
    { "M", INT64_C(1) << 20 },
    { "g", INT64_C(1) << 30 },
    { "G", INT64_C(1) << 30 },
};

/* Leading decimal digits of s into *v; returns the first non-digit, NULL on overflow. */
static const char *parse_digits(const char *s, int64_t *v)
{
    int64_t acc = 0;
    while (*s >= '0' && *s <= '9') {
        int d = *s - '0';
        if (acc > (INT64_MAX - d) / 10) {
            return NULL;
        }
        acc = acc * 10 + d;
        s++;
    }
    *v = acc;
    return s;
}

static enum wb_status parse_with_units(const char *s, const struct unit *units, size_t n_units,
                                       const char *units_help, int64_t *out, const char **why)
{
    int64_t v = 0;
    if (s[0] == '-') {
        *why = "must not be negative";
        return WB_ERR_INVAL;
    }
    if (s[0] < '0' || s[0] > '9') {
        *why = units_help;
        return WB_ERR_INVAL;
    }
    const char *rest = parse_digits(s, &v);
    if (rest == NULL) {
        *why = "too large";
        return WB_ERR_INVAL;
    }
    for (size_t i = 0; i < n_units; i++) {
        if (strcmp(rest, units[i].word) == 0) {
            if (v > INT64_MAX / units[i].mult) {
                *why = "too large";
                return WB_ERR_INVAL;
            }
            *out = v * units[i].mult;
            return WB_OK;
        }
    }
    *why = rest[0] == '\0' ? "missing unit" : "unknown unit";
    return WB_ERR_INVAL;
}

enum wb_status wb_conf_parse_duration(const char *s, int64_t *ms_out, const char **why_out)
{
    const char *why = NULL;
    enum wb_status st =
        parse_with_units(s, duration_units, WB_ARRAY_LEN(duration_units),
                         "expected a number with a unit (ms, s, m, h or d)", ms_out, &why);
    if (st != WB_OK && strcmp(why, "missing unit") == 0) {
        why = "missing unit (ms, s, m, h or d; a bare integer without quotes means seconds)";
    } else if (st != WB_OK && strcmp(why, "unknown unit") == 0) {
        why = "unknown unit (use ms, s, m, h or d)";
    }
    if (why_out != NULL) {
        *why_out = why;
    }
    return st;
}

enum wb_status wb_conf_parse_size(const char *s, int64_t *bytes_out, const char **why_out)
{
    const char *why = NULL;
    enum wb_status st =
        parse_with_units(s, size_units, WB_ARRAY_LEN(size_units),
                         "expected a number of bytes with an optional k, M or G", bytes_out, &why);
    if (st != WB_OK && strcmp(why, "unknown unit") == 0) {
        why = "unknown unit (use k, M or G)";
    }
    if (why_out != NULL) {
        *why_out = why;
    }
    return st;
}

enum wb_status wb_conf_seconds_to_ms(int64_t sec, int64_t *ms_out, const char **why_out)
{
    if (sec < 0) {
        *why_out = "must not be negative";
        return WB_ERR_INVAL;
    }
    if (sec > INT64_MAX / 1000) {
        *why_out = "too large";
        return WB_ERR_INVAL;
    }
    *ms_out = sec * 1000;
    return WB_OK;
}

static void format_units(int64_t v, const struct unit *units, size_t n_units, char *buf,
                         size_t bufsz)
{
    /* units are listed smallest first: try the largest that divides v */
    for (size_t i = n_units; i-- > 0;) {
        if (units[i].mult > 0 && v != 0 && v % units[i].mult == 0) {
            (void)snprintf(buf, bufsz, "%lld%s", (long long)(v / units[i].mult), units[i].word);
            return;
        }
    }
    (void)snprintf(buf, bufsz, "%lld%s", (long long)v, units[0].word);
}

void wb_conf_format_duration(int64_t ms, char *buf, size_t bufsz)
{
    if (ms == 0) {
        (void)snprintf(buf, bufsz, "0s");
        return;
    }
    format_units(ms, duration_units, WB_ARRAY_LEN(duration_units), buf, bufsz);
}

void wb_conf_format_size(int64_t bytes, char *buf, size_t bufsz)
{
    static const struct unit shown[] = {
        { "", 1 },
        { "k", INT64_C(1) << 10 },
        { "M", INT64_C(1) << 20 },
        { "G", INT64_C(1) << 30 },
    };
    format_units(bytes, shown, WB_ARRAY_LEN(shown), buf, bufsz);
}

/* ---- integer literal scan ---- */

struct scan {
    const char *p, *end;
    int line;
};

static void skip_to_eol(struct scan *sc)
{
    while (sc->p < sc->end && *sc->p != '\n') {
        sc->p++;
    }
}

static void skip_block_comment(struct scan *sc)
{
    sc->p += 2;
    while (sc->p < sc->end) {
        if (sc->p + 1 < sc->end && sc->p[0] == '*' && sc->p[1] == '/') {
            sc->p += 2;
            return;
        }
        if (*sc->p == '\n') {
            sc->line++;
        }
        sc->p++;
    }
}

static void skip_string(struct scan *sc)
{
    sc->p++;
    while (sc->p < sc->end && *sc->p != '"') {
        if (*sc->p == '\\' && sc->p + 1 < sc->end) {
            sc->p++;
        }
        if (*sc->p == '\n') {
            sc->line++;
        }
        sc->p++;
    }
    if (sc->p < sc->end) {
        sc->p++;
    }
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/* Does the numeric token [b, e) fit where libconfig 1.5 will store it? */
static bool number_fits(const char *b, const char *e)
{
    bool neg = false;
    const char *p = b;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    size_t n_l = 0;
    while (e - n_l > p && (e[-1 - (ptrdiff_t)n_l] == 'L' || e[-1 - (ptrdiff_t)n_l] == 'l')) {
        n_l++;
    }
    const char *digits_end = e - n_l;
    bool is_hex = digits_end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (is_hex) {
        const char *h = p + 2;
        while (h < digits_end && *h == '0') {
            h++;
        }
        /* libconfig reads hex as unsigned: 8 digits fill an int, 16 an int64 */
        return digits_end - h <= (n_l > 0 ? 16 : 8);
    }
    for (const char *q = p; q < digits_end; q++) {
        if (*q < '0' || *q > '9') {
            return true; /* a float such as 1e9 or 2.5: stored as double */
        }
    }
    /* magnitude as unsigned, so that INT64_MIN is representable */
    unsigned long long mag = 0;
    for (const char *q = p; q < digits_end; q++) {
        unsigned d = (unsigned)(*q - '0');
        if (mag > (ULLONG_MAX - d) / 10) {
            return false;
        }
        mag = mag * 10 + d;
    }
    unsigned long long limit =
        n_l > 0 ? (unsigned long long)INT64_MAX : (unsigned long long)INT_MAX;
    return mag <= limit + (neg ? 1u : 0u);
}

static const char *number_end(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && (*q == '+' || *q == '-')) {
        q++;
    }
    while (q < end) {
        char c = *q;
        bool exp_sign = (c == '+' || c == '-') && q > p && (q[-1] == 'e' || q[-1] == 'E');
        if (isalnum((unsigned char)c) || c == '.' || exp_sign) {
            q++;
        } else {
            break;
        }
    }
    return q;
}

int wb_conf_scan_int_overflow(const char *text, size_t len, char *tok, size_t toksz)
{
    struct scan sc = { .p = text, .end = text + len, .line = 1 };
    while (sc.p < sc.end) {
        char c = *sc.p;
        bool next_digit = sc.p + 1 < sc.end && (isdigit((unsigned char)sc.p[1]) || sc.p[1] == '.');
        if (c == '\n') {
            sc.line++;
            sc.p++;
        } else if (c == '#' || (c == '/' && sc.p + 1 < sc.end && sc.p[1] == '/')) {
            skip_to_eol(&sc);
        } else if (c == '/' && sc.p + 1 < sc.end && sc.p[1] == '*') {
            skip_block_comment(&sc);
        } else if (c == '"') {
            skip_string(&sc);
        } else if (isalpha((unsigned char)c) || c == '*' || c == '@') {
            sc.p++;
            while (sc.p < sc.end && is_name_char(*sc.p)) {
                sc.p++;
            }
        } else if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && next_digit)) {
            const char *e = number_end(sc.p, sc.end);
            if (!number_fits(sc.p, e)) {
                if (toksz > 0) {
                    size_t n = (size_t)(e - sc.p) < toksz - 1 ? (size_t)(e - sc.p) : toksz - 1;
                    memcpy(tok, sc.p, n);
                    tok[n] = '\0';
                }
                return sc.line;
            }
            sc.p = e;
        } else {
            sc.p++;
        }
    }
    return 0;
}
