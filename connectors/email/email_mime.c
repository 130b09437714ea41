/*
 * email_mime.c - libetpan's MIME tree to body text and attachments.
 *
 * DESIGN: libetpan (mailmime_parse) has already split the message into
 * parts; this file only walks the tree. A text/plain or text/html part
 * with no attachment disposition and no file name is body text; every
 * other leaf (images, files, forwarded messages, delivery reports) is an
 * attachment. multipart/alternative gives its text from one branch:
 * text/plain first, then a branch that contains text/plain, then HTML,
 * and the next best when the chosen one is empty; attachments and inline
 * images are still collected from every branch. Bodies are decoded with
 * mailmime_part_parse (quoted-printable, base64) and converted with
 * email_charset; HTML becomes text with email_html. Attachment sizes are
 * estimated from the encoded length before decoding, so an oversized one
 * is never decoded, and checked exactly after.
 *
 * Thread: any.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "email_charset.h"
#include "email_html.h"
#include "email_mime.h"
#include "email_words.h"

/* Appends to buffers without a maximum cannot fail; the status is moot. */
static void unbounded(enum wb_status st)
{
    (void)st;
}

#define RFC2231_MAX_SEGMENTS 32
#define MAX_FILENAME         255

struct walker {
    const struct wb_email_limits *lim;
    struct wb_arena *a;
    struct wb_email_body *b;
    bool is_deep_noted;
};

struct rfc2231 {
    const char *seg[RFC2231_MAX_SEGMENTS];
    bool ext[RFC2231_MAX_SEGMENTS];
    bool any;
};

static void walk(struct walker *w, struct mailmime *m, size_t depth, bool want_text);

static void lower(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            *s = (char)(*s + 32);
        }
    }
}

static const char *type_name(const struct mailmime_type *t)
{
    static const char *const discrete[] = { "application", "text",  "image",
                                            "audio",       "video", "application" };
    if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE && t->tp_data.tp_discrete_type != NULL) {
        const struct mailmime_discrete_type *d = t->tp_data.tp_discrete_type;
        if (d->dt_type == MAILMIME_DISCRETE_TYPE_EXTENSION && d->dt_extension != NULL) {
            return d->dt_extension;
        }
        return (size_t)d->dt_type < WB_ARRAY_LEN(discrete) ? discrete[d->dt_type] : "application";
    }
    if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type != NULL) {
        const struct mailmime_composite_type *c = t->tp_data.tp_composite_type;
        if (c->ct_type == MAILMIME_COMPOSITE_TYPE_MESSAGE) {
            return "message";
        }
        if (c->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART) {
            return "multipart";
        }
        return c->ct_token != NULL ? c->ct_token : "application";
    }
    return "application";
}

char *wb_email_content_type(const struct mailmime_content *ct, struct wb_arena *a)
{
    if (ct == NULL || ct->ct_type == NULL) {
        return wb_arena_strdup(a, "text/plain");
    }
    const char *sub = ct->ct_subtype != NULL ? ct->ct_subtype : "octet-stream";
    char *s = wb_arena_printf(a, "%.64s/%.64s", type_name(ct->ct_type), sub);
    lower(s);
    return s;
}

static const char *param_get(const struct mailmime_content *ct, const char *name)
{
    if (ct == NULL || ct->ct_parameters == NULL) {
        return NULL;
    }
    for (clistiter *it = clist_begin(ct->ct_parameters); it != NULL; it = clist_next(it)) {
        const struct mailmime_parameter *p = clist_content(it);
        if (p != NULL && p->pa_name != NULL && strcasecmp(p->pa_name, name) == 0) {
            return p->pa_value;
        }
    }
    return NULL;
}

static struct mailmime_field *mime_field(const struct mailmime *m, int type)
{
    if (m->mm_mime_fields == NULL || m->mm_mime_fields->fld_list == NULL) {
        return NULL;
    }
    for (clistiter *it = clist_begin(m->mm_mime_fields->fld_list); it; it = clist_next(it)) {
        struct mailmime_field *f = clist_content(it);
        if (f != NULL && f->fld_type == type) {
            return f;
        }
    }
    return NULL;
}

static const struct mailmime_disposition *disposition(const struct mailmime *m)
{
    const struct mailmime_field *f = mime_field(m, MAILMIME_FIELD_DISPOSITION);
    return f != NULL ? f->fld_data.fld_disposition : NULL;
}

static int disposition_type(const struct mailmime *m)
{
    const struct mailmime_disposition *d = disposition(m);
    if (d == NULL || d->dsp_type == NULL) {
        return MAILMIME_DISPOSITION_TYPE_ERROR;
    }
    return d->dsp_type->dsp_type;
}

/* Record name=value when name is base*, base*N or base*N* (RFC 2231). */
static void rfc2231_add(struct rfc2231 *r, const char *base, const char *name, const char *value)
{
    size_t k = strlen(base), idx = 0;
    bool ext = true;
    if (value == NULL || strncasecmp(name, base, k) != 0 || name[k] != '*') {
        return;
    }
    const char *s = name + k + 1;
    if (*s != '\0') {
        if (*s < '0' || *s > '9') {
            return;
        }
        while (*s >= '0' && *s <= '9' && idx < RFC2231_MAX_SEGMENTS) {
            idx = idx * 10 + (size_t)(*s++ - '0');
        }
        ext = *s == '*';
        s += ext ? 1 : 0;
        if (*s != '\0' || idx >= RFC2231_MAX_SEGMENTS) {
            return;
        }
    }
    r->seg[idx] = value;
    r->ext[idx] = ext;
    r->any = true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void pct_decode(const char *v, struct wb_buf *out)
{
    while (*v != '\0') {
        int hi = v[0] == '%' ? hexval(v[1]) : -1;
        int lo = hi >= 0 ? hexval(v[2]) : -1;
        if (lo >= 0) {
            char c = (char)(hi * 16 + lo);
            unbounded(wb_buf_append(out, &c, 1));
            v += 3;
        } else {
            unbounded(wb_buf_append(out, v, 1));
            v++;
        }
    }
}

/* The joined, percent-decoded and converted RFC 2231 value, or NULL. */
static char *rfc2231_join(const struct rfc2231 *r, struct wb_arena *a)
{
    if (!r->any || r->seg[0] == NULL) {
        return NULL;
    }
    char charset[65] = "";
    struct wb_buf bytes, utf8;
    wb_buf_init(&bytes, 0);
    wb_buf_init(&utf8, 0);
    for (size_t i = 0; i < RFC2231_MAX_SEGMENTS && r->seg[i] != NULL; i++) {
        const char *v = r->seg[i];
        const char *q1 = i == 0 && r->ext[0] ? strchr(v, '\'') : NULL;
        const char *q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
        if (q2 != NULL) {
            size_t cl = (size_t)(q1 - v) < 64 ? (size_t)(q1 - v) : 64;
            memcpy(charset, v, cl);
            charset[cl] = '\0';
            v = q2 + 1;
        }
        if (r->ext[i]) {
            pct_decode(v, &bytes);
        } else {
            unbounded(wb_buf_append(&bytes, v, strlen(v)));
        }
    }
    unbounded(wb_email_to_utf8(charset[0] != '\0' ? charset : NULL, bytes.data, bytes.len, &utf8));
    char *s = wb_arena_strndup(a, utf8.data != NULL ? utf8.data : "", utf8.len);
    wb_buf_free(&bytes);
    wb_buf_free(&utf8);
    return s;
}

/* Keep the last path component, cut to MAX_FILENAME bytes; NULL if empty. */
static const char *filename_clean(char *s)
{
    if (s == NULL) {
        return NULL;
    }
    char *base = s;
    for (char *q = s; *q != '\0'; q++) {
        if (*q == '/' || *q == '\\') {
            base = q + 1;
        }
    }
    size_t n = strlen(base);
    n = wb_email_utf8_trim(base, n < MAX_FILENAME ? n : MAX_FILENAME);
    base[n] = '\0';
    return n > 0 ? base : NULL;
}

static char *plain_name(const char *v, struct wb_arena *a)
{
    if (v == NULL) {
        return NULL;
    }
    char *s = wb_email_decode_words(v, strlen(v), a);
    wb_email_unquote(s);
    return s;
}

/* Decoded file name from Content-Disposition, else Content-Type name. */
static const char *part_filename(const struct mailmime *m, struct wb_arena *a)
{
    struct rfc2231 fn = { 0 }, nm = { 0 };
    const char *plain_fn = NULL;
    const struct mailmime_disposition *d = disposition(m);
    for (clistiter *it = d && d->dsp_parms ? clist_begin(d->dsp_parms) : NULL; it;
         it = clist_next(it)) {
        const struct mailmime_disposition_parm *p = clist_content(it);
        if (p != NULL && p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME) {
            plain_fn = p->pa_data.pa_filename;
        } else if (p != NULL && p->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
                   p->pa_data.pa_parameter != NULL && p->pa_data.pa_parameter->pa_name != NULL) {
            rfc2231_add(&fn, "filename", p->pa_data.pa_parameter->pa_name,
                        p->pa_data.pa_parameter->pa_value);
        }
    }
    const struct mailmime_content *ct = m->mm_content_type;
    for (clistiter *it = ct && ct->ct_parameters ? clist_begin(ct->ct_parameters) : NULL; it;
         it = clist_next(it)) {
        const struct mailmime_parameter *p = clist_content(it);
        if (p != NULL && p->pa_name != NULL) {
            rfc2231_add(&nm, "name", p->pa_name, p->pa_value);
        }
    }
    char *s = rfc2231_join(&fn, a);
    s = s != NULL ? s : plain_name(plain_fn, a);
    s = s != NULL ? s : rfc2231_join(&nm, a);
    s = s != NULL ? s : plain_name(param_get(ct, "name"), a);
    return filename_clean(s);
}

static bool has_filename(const struct mailmime *m, struct wb_arena *a)
{
    return part_filename(m, a) != NULL;
}

/* Whether m is body text (text/plain or text/html, not an attachment). */
static bool is_body_text(const struct mailmime *m, struct wb_arena *a, bool *html_out)
{
    const struct mailmime_content *ct = m->mm_content_type;
    *html_out = false;
    if (m->mm_type != MAILMIME_SINGLE || ct == NULL || ct->ct_type == NULL ||
        ct->ct_subtype == NULL || strcmp(type_name(ct->ct_type), "text") != 0) {
        return false;
    }
    bool plain = strcasecmp(ct->ct_subtype, "plain") == 0;
    *html_out = strcasecmp(ct->ct_subtype, "html") == 0;
    if (!plain && !*html_out) {
        return false;
    }
    return disposition_type(m) != MAILMIME_DISPOSITION_TYPE_ATTACHMENT && !has_filename(m, a);
}

/* Decoded bytes of d: *free_out must be released with mailmime_decoded_part_free. */
static void data_decode(const struct mailmime_data *d, const char **p_out, size_t *n_out,
                        char **free_out)
{
    *p_out = "";
    *n_out = 0;
    *free_out = NULL;
    if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT || d->dt_data.dt_text.dt_data == NULL) {
        return;
    }
    *p_out = d->dt_data.dt_text.dt_data;
    *n_out = d->dt_data.dt_text.dt_length;
    if (!d->dt_encoded || (d->dt_encoding != MAILMIME_MECHANISM_BASE64 &&
                           d->dt_encoding != MAILMIME_MECHANISM_QUOTED_PRINTABLE)) {
        return;
    }
    size_t idx = 0, len = 0;
    char *res = NULL;
    if (mailmime_part_parse(*p_out, *n_out, &idx, d->dt_encoding, &res, &len) == MAILIMF_NO_ERROR &&
        res != NULL) {
        *p_out = res;
        *n_out = len;
        *free_out = res;
    }
}

static size_t data_raw_len(const struct mailmime_data *d)
{
    return d != NULL && d->dt_type == MAILMIME_DATA_TEXT ? d->dt_data.dt_text.dt_length : 0;
}

/* A lower bound of the decoded size, to refuse without decoding. */
static size_t decoded_min(const struct mailmime_data *d)
{
    size_t raw = data_raw_len(d);
    if (d == NULL || !d->dt_encoded) {
        return raw;
    }
    if (d->dt_encoding == MAILMIME_MECHANISM_BASE64) {
        return raw / 2; /* 76-column base64 decodes to about 0.74 of its length */
    }
    return d->dt_encoding == MAILMIME_MECHANISM_QUOTED_PRINTABLE ? raw / 3 : raw;
}

/* The decoded size to report for an attachment that is not decoded. */
static size_t decoded_estimate(const struct mailmime_data *d)
{
    size_t raw = data_raw_len(d);
    return d != NULL && d->dt_encoded && d->dt_encoding == MAILMIME_MECHANISM_BASE64 ? raw / 4 * 3
                                                                                     : raw;
}

static void push_skipped(struct walker *w, const char *name, const char *ct, size_t size,
                         enum wb_email_skip_reason why)
{
    struct wb_email_body *b = w->b;
    if (b->n_skip == b->cap_skip) {
        b->cap_skip = b->cap_skip ? b->cap_skip * 2 : 8;
        b->skip = wb_realloc(b->skip, b->cap_skip * sizeof(*b->skip));
    }
    b->skip[b->n_skip++] = (struct wb_email_skipped){ name, ct, size, why };
}

static void add_attachment(struct walker *w, const struct mailmime *m,
                           const struct mailmime_data *d, const char *default_name)
{
    struct wb_email_body *b = w->b;
    const char *ct = wb_email_content_type(m->mm_content_type, w->a);
    const char *name = part_filename(m, w->a);
    name = name != NULL ? name : (default_name ? wb_arena_strdup(w->a, default_name) : NULL);
    if (b->n_att >= w->lim->max_attachments) {
        push_skipped(w, name, ct, decoded_estimate(d), WB_EMAIL_SKIP_TOO_MANY);
        return;
    }
    if (decoded_min(d) > w->lim->max_attachment) {
        push_skipped(w, name, ct, decoded_estimate(d), WB_EMAIL_SKIP_TOO_LARGE);
        return;
    }
    const char *p;
    size_t n;
    char *dec;
    data_decode(d, &p, &n, &dec);
    if (n > w->lim->max_attachment) {
        push_skipped(w, name, ct, n, WB_EMAIL_SKIP_TOO_LARGE);
    } else {
        if (b->n_att == b->cap_att) {
            b->cap_att = b->cap_att ? b->cap_att * 2 : 8;
            b->att = wb_realloc(b->att, b->cap_att * sizeof(*b->att));
        }
        /* undecoded bytes already live in the arena copy of the message */
        uint8_t *bytes = dec != NULL ? wb_arena_alloc(w->a, n + 1) : NULL;
        if (bytes != NULL && n > 0) {
            memcpy(bytes, p, n);
        }
        int disp = disposition_type(m);
        bool is_inline = disp == MAILMIME_DISPOSITION_TYPE_INLINE ||
                         (disp != MAILMIME_DISPOSITION_TYPE_ATTACHMENT &&
                          mime_field(m, MAILMIME_FIELD_ID) != NULL);
        b->att[b->n_att++] = (struct wb_attachment){
            .filename = name,
            .content_type = ct,
            .data = bytes != NULL ? bytes : (const uint8_t *)p,
            .size = n,
            .is_inline = is_inline,
        };
    }
    if (dec != NULL) {
        mailmime_decoded_part_free(dec);
    }
}

/* Append s[0..n) to the body text, separated and bounded by max_text. */
static void append_text(struct walker *w, const char *s, size_t n)
{
    struct wb_email_body *b = w->b;
    while (n > 0 && (s[0] == '\n' || s[0] == ' ')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) {
        n--;
    }
    if (n == 0 || b->is_truncated) {
        return;
    }
    size_t sep = b->text.len > 0 ? 2 : 0;
    size_t max = w->lim->max_text;
    if (b->text.len + sep + n > max) {
        size_t room = max > b->text.len + sep ? max - b->text.len - sep : 0;
        n = wb_email_utf8_trim(s, room);
        b->is_truncated = true;
        if (n == 0) {
            return;
        }
    }
    unbounded(wb_buf_append(&b->text, "\n\n", sep));
    unbounded(wb_buf_append(&b->text, s, n));
}

static void add_text(struct walker *w, const struct mailmime *m, bool html)
{
    const char *p;
    size_t n;
    char *dec;
    char meta[65];
    data_decode(m->mm_data.mm_single, &p, &n, &dec);
    const char *cs = param_get(m->mm_content_type, "charset");
    if (cs == NULL && html) {
        cs = wb_email_html_meta_charset(p, n, meta, sizeof(meta));
    }
    struct wb_buf u, t;
    wb_buf_init(&u, 0);
    wb_buf_init(&t, 0);
    unbounded(wb_email_to_utf8(cs, p, n, &u));
    if (dec != NULL) {
        mailmime_decoded_part_free(dec);
    }
    if (html) {
        unbounded(wb_email_html_to_text(u.data != NULL ? u.data : "", u.len, &t));
        w->b->has_html = true;
    }
    struct wb_buf *src = html ? &t : &u;
    size_t before = w->b->text.len;
    if (src->len > 0) {
        append_text(w, src->data, src->len);
    }
    if (html && w->b->text.len > before) {
        w->b->text_from_html = true;
    }
    wb_buf_free(&u);
    wb_buf_free(&t);
}

static void walk_single(struct walker *w, struct mailmime *m, bool want_text)
{
    bool html;
    if (is_body_text(m, w->a, &html)) {
        if (want_text) {
            add_text(w, m, html);
        }
        return;
    }
    static const char *const names[][2] = {
        { "message/delivery-status", "delivery-status.txt" },
        { "message/global-delivery-status", "delivery-status.txt" },
        { "text/rfc822-headers", "headers.txt" },
        { "message/disposition-notification", "disposition-notification.txt" },
    };
    const char *ct = wb_email_content_type(m->mm_content_type, w->a);
    const char *def = NULL;
    for (size_t i = 0; i < WB_ARRAY_LEN(names) && def == NULL; i++) {
        def = strcmp(ct, names[i][0]) == 0 ? names[i][1] : NULL;
    }
    add_attachment(w, m, m->mm_data.mm_single, def);
}

/* 3: text/plain body, 2: contains one, 1: HTML body or contains one, 0. */
static int alt_score(const struct mailmime *m, struct wb_arena *a, int depth)
{
    bool html;
    if (m == NULL || depth > 3) {
        return 0;
    }
    if (m->mm_type == MAILMIME_SINGLE) {
        return is_body_text(m, a, &html) ? (html ? 1 : 3) : 0;
    }
    int best = 0;
    if (m->mm_type == MAILMIME_MULTIPLE && m->mm_data.mm_multipart.mm_mp_list != NULL) {
        clist *l = m->mm_data.mm_multipart.mm_mp_list;
        for (clistiter *it = clist_begin(l); it != NULL && best < 2; it = clist_next(it)) {
            int s = alt_score(clist_content(it), a, depth + 1);
            s = s == 3 ? 2 : s;
            best = s > best ? s : best;
        }
    }
    return best;
}

static void walk_alternative(struct walker *w, clist *l, size_t depth)
{
    struct mailmime *first = NULL, *second = NULL;
    int s1 = 0, s2 = 0, k = 0;
    for (clistiter *it = clist_begin(l); it != NULL && k < 16; it = clist_next(it), k++) {
        struct mailmime *c = clist_content(it);
        int s = alt_score(c, w->a, 0);
        if (s > s1) {
            second = first;
            s2 = s1;
            first = c;
            s1 = s;
        } else if (s > s2) {
            second = c;
            s2 = s;
        }
    }
    size_t before = w->b->text.len;
    walk(w, first, depth + 1, true);
    if (w->b->text.len == before && second != NULL) {
        walk(w, second, depth + 1, true);
    } else {
        second = NULL;
    }
    for (clistiter *it = clist_begin(l); it != NULL; it = clist_next(it)) {
        struct mailmime *c = clist_content(it);
        if (c != first && c != second) {
            walk(w, c, depth + 1, false);
        }
    }
}

static void walk_multi(struct walker *w, struct mailmime *m, size_t depth, bool want_text)
{
    clist *l = m->mm_data.mm_multipart.mm_mp_list;
    const char *sub = m->mm_content_type ? m->mm_content_type->ct_subtype : NULL;
    if (l == NULL) {
        return;
    }
    if (sub != NULL && strcasecmp(sub, "alternative") == 0 && want_text) {
        walk_alternative(w, l, depth);
        return;
    }
    bool report = sub != NULL && strcasecmp(sub, "report") == 0;
    if (report) {
        const char *rt = param_get(m->mm_content_type, "report-type");
        w->b->is_report_dsn |= rt != NULL && strcasecmp(rt, "delivery-status") == 0;
        w->b->is_report_mdn |= rt != NULL && strcasecmp(rt, "disposition-notification") == 0;
    }
    bool first = true;
    for (clistiter *it = clist_begin(l); it != NULL; it = clist_next(it)) {
        /* a report's text is its first part; the rest are attachments */
        walk(w, clist_content(it), depth + 1, want_text && (!report || first));
        first = false;
    }
}

static void walk(struct walker *w, struct mailmime *m, size_t depth, bool want_text)
{
    if (m == NULL) {
        return;
    }
    if (depth > w->lim->max_depth || w->b->n_parts >= w->lim->max_parts) {
        if (!w->is_deep_noted) {
            const char *ct = wb_email_content_type(m->mm_content_type, w->a);
            push_skipped(w, NULL, ct, (size_t)m->mm_length, WB_EMAIL_SKIP_TOO_DEEP);
            w->is_deep_noted = true;
        }
        return;
    }
    w->b->n_parts++;
    if (m->mm_type == MAILMIME_SINGLE) {
        walk_single(w, m, want_text);
    } else if (m->mm_type == MAILMIME_MULTIPLE) {
        walk_multi(w, m, depth, want_text);
    } else if (m->mm_type == MAILMIME_MESSAGE) {
        add_attachment(w, m, m->mm_body, "message.eml");
    }
}

void wb_email_body_walk(struct mailmime *m, const struct wb_email_limits *lim, struct wb_arena *a,
                        struct wb_email_body *b)
{
    struct walker w = { .lim = lim, .a = a, .b = b };
    wb_buf_init(&b->text, 0);
    walk(&w, m, 0, true);
}

void wb_email_body_free(struct wb_email_body *b)
{
    wb_buf_free(&b->text);
    WB_FREE(b->att);
    WB_FREE(b->skip);
    b->n_att = b->cap_att = b->n_skip = b->cap_skip = 0;
}
