/*
 * email_charset.c - MIME charset labels to clean UTF-8 with glibc iconv.
 *
 * DESIGN: mail software labels text with the narrow charset and writes
 * the wide one (GB2312 labels carrying GBK characters, ISO-8859-1 labels
 * carrying windows-1252 quotes, Shift_JIS labels carrying CP932), so each
 * label maps to the superset a reader should decode with, as browsers
 * do. Conversion never fails: a byte that does not convert becomes
 * U+FFFD and the rest of the text survives. The output of every entry
 * point is then cleaned (line ends, control characters) so later stages
 * only ever see valid UTF-8 with LF line ends.
 *
 * Thread: any (an iconv descriptor is opened and closed per call).
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "email_charset.h"
#include "utf8.h"

struct charset_alias {
    const char *label;
    const char *name;     /* iconv name; NULL means UTF-8 or guess */
    const char *fallback; /* tried when name leaves undecodable bytes */
};

static const struct charset_alias aliases[] = {
    { "utf-8", "UTF-8", NULL },
    { "utf8", "UTF-8", NULL },
    { "us-ascii", NULL, NULL },
    { "ascii", NULL, NULL },
    { "unknown-8bit", NULL, NULL },
    { "x-unknown", NULL, NULL },
    { "gb2312", "GB18030", NULL },
    { "gb_2312-80", "GB18030", NULL },
    { "gbk", "GB18030", NULL },
    { "x-gbk", "GB18030", NULL },
    { "cp936", "GB18030", NULL },
    { "euc-cn", "GB18030", NULL },
    { "x-euc-cn", "GB18030", NULL },
    { "gb18030", "GB18030", NULL },
    { "big5", "CP950", "BIG5-HKSCS" },
    { "x-big5", "CP950", "BIG5-HKSCS" },
    { "cp950", "CP950", "BIG5-HKSCS" },
    { "big5-hkscs", "BIG5-HKSCS", NULL },
    { "shift_jis", "CP932", "SHIFT_JIS" },
    { "shift-jis", "CP932", "SHIFT_JIS" },
    { "sjis", "CP932", "SHIFT_JIS" },
    { "x-sjis", "CP932", "SHIFT_JIS" },
    { "windows-31j", "CP932", NULL },
    { "cp932", "CP932", NULL },
    { "iso-2022-jp", "ISO-2022-JP-2", NULL },
    { "iso-8859-1", "CP1252", "ISO-8859-1" },
    { "iso8859-1", "CP1252", "ISO-8859-1" },
    { "latin1", "CP1252", "ISO-8859-1" },
    { "ks_c_5601-1987", "CP949", NULL },
    { "euc-kr", "CP949", NULL },
};

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

bool wb_email_utf8_valid(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l = wb_utf8_seq_len(p + i, n - i);
        if (l == 0) {
            return false;
        }
        i += l;
    }
    return true;
}

size_t wb_email_utf8_trim(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = wb_utf8_seq_len(s + i, n - i);
        if (l == 0) {
            size_t lead = u[i] > 0xf4    ? 1
                          : u[i] >= 0xf0 ? 4
                          : u[i] >= 0xe0 ? 3
                          : u[i] >= 0xc2 ? 2
                                         : 1;
            if (lead > 1 && i + lead > n) {
                break; /* the cut falls inside this sequence */
            }
            l = 1; /* an invalid byte is a boundary of its own */
        }
        i += l;
    }
    return i;
}

/* Whether the code point encoded at s (length l) is dropped from text. */
static bool is_dropped(const unsigned char *s, size_t l)
{
    if (l == 1) {
        return (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n') || s[0] == 0x7f;
    }
    /* C1 controls U+0080..U+009F are c2 80..c2 9f */
    return l == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

enum wb_status wb_email_utf8_clean(const char *p, size_t n, struct wb_buf *out)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0, run = 0; /* s[run..i) is copied verbatim when flushed */
    enum wb_status st = WB_OK;
    while (i < n && st == WB_OK) {
        size_t l = wb_utf8_seq_len(p + i, n - i);
        bool bad = l == 0, cr = s[i] == '\r';
        if (!bad && !cr && !is_dropped(s + i, l)) {
            i += l;
            continue;
        }
        st = wb_buf_append(out, p + run, i - run);
        if (st == WB_OK && bad) {
            st = wb_buf_append(out, replacement, 3);
        } else if (st == WB_OK && cr && !(i + 1 < n && s[i + 1] == '\n')) {
            st = wb_buf_append(out, "\n", 1);
        }
        i += bad ? 1 : l;
        run = i;
    }
    if (st == WB_OK) {
        st = wb_buf_append(out, p + run, n - run);
    }
    return st;
}

/*
 * Convert with cd into out. A byte iconv rejects becomes U+FFFD (or, when
 * strict, stops with WB_ERR_PARSE). *n_bad counts the replacements.
 */
static enum wb_status convert(iconv_t cd, const char *p, size_t n, bool strict, struct wb_buf *out,
                              size_t *n_bad)
{
    char tmp[4096];
    char *in = (char *)(uintptr_t)p; /* iconv's prototype is not const-correct */
    size_t left = n;
    enum wb_status st = WB_OK;
    while (st == WB_OK) {
        char *o = tmp;
        size_t room = sizeof(tmp);
        size_t r = left > 0 ? iconv(cd, &in, &left, &o, &room) : iconv(cd, NULL, NULL, &o, &room);
        int e = errno;
        st = wb_buf_append(out, tmp, (size_t)(o - tmp));
        if (r != (size_t)-1) {
            if (left == 0 && o == tmp) {
                break; /* input done and shift state flushed */
            }
            continue;
        }
        if (e == E2BIG || st != WB_OK) {
            continue;
        }
        (*n_bad)++;
        if (strict) {
            return WB_ERR_PARSE;
        }
        st = wb_buf_append(out, replacement, 3);
        if (left > 0) {
            in++;
            left--;
        }
    }
    return st;
}

/* Convert from an iconv name into a fresh buffer; false if unknown. */
static bool convert_named(const char *name, const char *p, size_t n, bool strict,
                          struct wb_buf *tmp, size_t *n_bad)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) {
        return false;
    }
    *n_bad = 0;
    enum wb_status st = convert(cd, p, n, strict, tmp, n_bad);
    (void)iconv_close(cd);
    return st == WB_OK || !strict;
}

static enum wb_status finish(struct wb_buf *tmp, struct wb_buf *out)
{
    enum wb_status st = WB_OK;
    if (tmp->len > 0) {
        st = wb_email_utf8_clean(tmp->data, tmp->len, out);
    }
    wb_buf_free(tmp);
    return st;
}

/* No usable label: UTF-8, else clean GB18030, else windows-1252. */
static enum wb_status guess(const char *p, size_t n, struct wb_buf *out)
{
    struct wb_buf tmp;
    size_t bad = 0;
    if (wb_email_utf8_valid(p, n)) {
        return wb_email_utf8_clean(p, n, out);
    }
    wb_buf_init(&tmp, 0);
    if (convert_named("GB18030", p, n, true, &tmp, &bad) && bad == 0) {
        return finish(&tmp, out);
    }
    wb_buf_reset(&tmp);
    if (!convert_named("CP1252", p, n, false, &tmp, &bad)) {
        wb_buf_free(&tmp);
        return wb_email_utf8_clean(p, n, out);
    }
    return finish(&tmp, out);
}

static const struct charset_alias *alias_find(const char *label)
{
    for (size_t i = 0; i < WB_ARRAY_LEN(aliases); i++) {
        if (strcasecmp(label, aliases[i].label) == 0) {
            return &aliases[i];
        }
    }
    return NULL;
}

enum wb_status wb_email_to_utf8(const char *charset, const char *p, size_t n, struct wb_buf *out)
{
    if (n == 0) {
        return WB_OK;
    }
    if (charset == NULL || charset[0] == '\0' || strlen(charset) > 64) {
        return guess(p, n, out);
    }
    const struct charset_alias *al = alias_find(charset);
    const char *name = al != NULL ? al->name : charset;
    if (name == NULL) {
        return guess(p, n, out);
    }
    if (strcmp(name, "UTF-8") == 0) {
        return wb_email_utf8_clean(p, n, out); /* trust the label: bad bytes become U+FFFD */
    }
    struct wb_buf tmp;
    size_t bad = 0;
    wb_buf_init(&tmp, 0);
    if (!convert_named(name, p, n, false, &tmp, &bad)) {
        wb_buf_free(&tmp);
        return guess(p, n, out); /* a label iconv does not know */
    }
    if (bad > 0 && al != NULL && al->fallback != NULL) {
        struct wb_buf alt;
        size_t alt_bad = 0;
        wb_buf_init(&alt, 0);
        if (convert_named(al->fallback, p, n, false, &alt, &alt_bad) && alt_bad < bad) {
            wb_buf_free(&tmp);
            return finish(&alt, out);
        }
        wb_buf_free(&alt);
    }
    return finish(&tmp, out);
}
