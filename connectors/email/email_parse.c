/*
 * email_parse.c - raw message to struct wb_email_parsed (the pure entry point).
 *
 * DESIGN: limits are checked before anything is allocated for the
 * message: its size, then the number of header fields (a cheap scan up
 * to the first empty line). The bytes are then copied once into the
 * arena with a NUL after them (libetpan stops at the length, but some of
 * its helpers call strlen on pieces, and undecoded attachment bytes can
 * then point into the copy instead of being copied again). libetpan's
 * mailmime_parse builds the tree; header fields are read from its
 * mailimf_fields (addresses, ids and dates already parsed by libetpan,
 * unstructured values decoded by email_words); email_mime walks the body
 * and email_quote finds the new text. Everything handed out lives in the
 * arena; every libetpan allocation is freed before returning.
 *
 * Loop protection (no_auto_reply): Auto-Submitted other than "no",
 * X-Autoreply, X-Autorespond, Precedence bulk/junk/list, List-Id, a null
 * Return-Path, read receipts, bounces (multipart/report delivery-status,
 * From MAILER-DAEMON) and mail from the mailbox's own addresses. Such mail
 * is parsed and stored like any other; only answering is suppressed.
 *
 * Thread: any.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>
#include <openssl/evp.h>

#include "email_charset.h"
#include "email_mime.h"
#include "email_parse.h"
#include "email_quote.h"
#include "email_words.h"

/*
 * libetpan parses nested parts and nested header comments recursively,
 * with no bound of its own: about 30,000 levels of message/rfc822 or a
 * header with a million '(' overflow an 8 MiB stack. Every nesting level
 * but a digest's default part needs a Content-Type field, and every comment
 * level a '(' in one unfolded line, so bounding both before libetpan runs
 * bounds its recursion (to well under 1 MiB of stack).
 */
#define MAX_CONTENT_TYPES 1000
#define MAX_PAREN_DEPTH   100

/* What the header walk collects (pointers into libetpan's tree). */
struct headers {
    const struct mailimf_mailbox *from;
    const char *from_raw; /* an unparsable From, as an optional field */
    const struct mailimf_mailbox *sender;
    const char *return_path;
    bool has_null_return_path;
    const char *subject;
    const char *message_id;
    const clist *in_reply_to;
    const clist *references;
    const struct mailimf_date_time *date;
    const struct mailimf_address_list *reply_to;
    size_t n_to, n_cc, n_fields;
    unsigned auto_flags;
};

void wb_email_limits_default(struct wb_email_limits *lim)
{
    *lim = (struct wb_email_limits){
        .max_message = 50u << 20,
        .max_attachment = 25u << 20,
        .max_attachments = 100,
        .max_headers = 1000,
        .max_text = 1u << 20,
        .max_parts = 1000,
        .max_depth = 20,
        .max_refs = 50,
        .topic_window_ms = 7LL * 24 * 3600 * 1000,
    };
}

char *wb_email_subject_topic(const char *subject, struct wb_arena *a)
{
    return wb_email_topic(subject, a);
}

/* Header fields before the first empty line (continuation lines excluded). */
static size_t count_fields(const char *p, size_t n, size_t stop_after)
{
    size_t count = 0, i = 0;
    while (i < n && count <= stop_after) {
        if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
            break; /* the empty line ending the header */
        }
        if (p[i] != ' ' && p[i] != '\t') {
            count++;
        }
        const char *nl = memchr(p + i, '\n', n - i);
        i = nl != NULL ? (size_t)(nl - p) + 1 : n;
    }
    return count;
}

/* Whether p[0..n) stays within libetpan's safe recursion (see above). */
static bool nesting_ok(const char *p, size_t n)
{
    size_t types = 0, depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '(') {
            if (++depth > MAX_PAREN_DEPTH) {
                return false;
            }
        } else if (c == ')') {
            depth -= depth > 0 ? 1 : 0;
        } else if (c == '\n' && !(i + 1 < n && (p[i + 1] == ' ' || p[i + 1] == '\t'))) {
            depth = 0; /* a new logical line */
        } else if ((c == 'c' || c == 'C') && n - i >= 12 &&
                   strncasecmp(p + i, "content-type", 12) == 0) {
            if (++types > MAX_CONTENT_TYPES) {
                return false;
            }
        }
    }
    return true;
}

static char *sha256_id(const uint8_t *p, size_t n, struct wb_arena *a)
{
    static const char hex[] = "0123456789abcdef";
    static const char prefix[] = "sha256:";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char *s = wb_arena_alloc(a, sizeof(prefix) + 2 * (size_t)EVP_MAX_MD_SIZE);
    size_t o = 0;
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1) {
        len = 0;
    }
    for (size_t i = 0; prefix[i] != '\0'; i++) {
        s[o++] = prefix[i];
    }
    for (unsigned int i = 0; i < len; i++) {
        s[o++] = hex[md[i] >> 4];
        s[o++] = hex[md[i] & 15];
    }
    s[o] = '\0';
    return s;
}

static size_t count_addresses(const struct mailimf_address_list *l)
{
    size_t n = 0;
    for (clistiter *it = l && l->ad_list ? clist_begin(l->ad_list) : NULL; it;
         it = clist_next(it)) {
        const struct mailimf_address *ad = clist_content(it);
        if (ad != NULL && ad->ad_type == MAILIMF_ADDRESS_GROUP && ad->ad_data.ad_group &&
            ad->ad_data.ad_group->grp_mb_list && ad->ad_data.ad_group->grp_mb_list->mb_list) {
            n += (size_t)clist_count(ad->ad_data.ad_group->grp_mb_list->mb_list);
        } else if (ad != NULL && ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
            n++;
        }
    }
    return n;
}

static bool value_is(const char *v, const char *word)
{
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    size_t k = strlen(word);
    return strncasecmp(v, word, k) == 0 && (v[k] == '\0' || v[k] == ' ' || v[k] == '\t' ||
                                            v[k] == ';' || v[k] == '\r' || v[k] == '\n');
}

static void optional_field(struct headers *h, const struct mailimf_optional_field *f)
{
    const char *name = f->fld_name, *v = f->fld_value;
    if (name == NULL || v == NULL) {
        return;
    }
    if (strcasecmp(name, "Auto-Submitted") == 0 && !value_is(v, "no")) {
        h->auto_flags |= WB_EMAIL_AUTO_SUBMITTED;
    } else if (strcasecmp(name, "X-Autoreply") == 0 || strcasecmp(name, "X-Autorespond") == 0) {
        h->auto_flags |= WB_EMAIL_AUTO_XAUTOREPLY;
    } else if (strcasecmp(name, "Precedence") == 0 &&
               (value_is(v, "bulk") || value_is(v, "junk") || value_is(v, "list"))) {
        h->auto_flags |= WB_EMAIL_AUTO_PRECEDENCE;
    } else if (strcasecmp(name, "List-Id") == 0) {
        h->auto_flags |= WB_EMAIL_AUTO_LIST;
    } else if (strcasecmp(name, "Return-Path") == 0) {
        const char *s = v + strspn(v, " \t");
        h->has_null_return_path |= strncmp(s, "<>", 2) == 0;
    } else if (strcasecmp(name, "From") == 0 && h->from_raw == NULL) {
        h->from_raw = v;
    }
}

static const struct mailimf_mailbox *first_mailbox(const struct mailimf_mailbox_list *l)
{
    if (l == NULL || l->mb_list == NULL || clist_begin(l->mb_list) == NULL) {
        return NULL;
    }
    return clist_content(clist_begin(l->mb_list));
}

static void header_field(struct headers *h, const struct mailimf_field *f)
{
    switch (f->fld_type) {
    case MAILIMF_FIELD_FROM:
        h->from = h->from ? h->from : first_mailbox(f->fld_data.fld_from->frm_mb_list);
        break;
    case MAILIMF_FIELD_SENDER:
        h->sender = h->sender ? h->sender : f->fld_data.fld_sender->snd_mb;
        break;
    case MAILIMF_FIELD_RETURN_PATH:
        if (f->fld_data.fld_return_path->ret_path != NULL) {
            h->return_path = f->fld_data.fld_return_path->ret_path->pt_addr_spec;
            h->has_null_return_path |= h->return_path == NULL || h->return_path[0] == '\0';
        }
        break;
    case MAILIMF_FIELD_SUBJECT:
        h->subject = h->subject ? h->subject : f->fld_data.fld_subject->sbj_value;
        break;
    case MAILIMF_FIELD_MESSAGE_ID:
        h->message_id = h->message_id ? h->message_id : f->fld_data.fld_message_id->mid_value;
        break;
    case MAILIMF_FIELD_IN_REPLY_TO:
        h->in_reply_to = h->in_reply_to ? h->in_reply_to : f->fld_data.fld_in_reply_to->mid_list;
        break;
    case MAILIMF_FIELD_REFERENCES:
        h->references = h->references ? h->references : f->fld_data.fld_references->mid_list;
        break;
    case MAILIMF_FIELD_ORIG_DATE:
        h->date = h->date ? h->date : f->fld_data.fld_orig_date->dt_date_time;
        break;
    case MAILIMF_FIELD_REPLY_TO:
        h->reply_to = h->reply_to ? h->reply_to : f->fld_data.fld_reply_to->rt_addr_list;
        break;
    case MAILIMF_FIELD_TO:
        h->n_to += count_addresses(f->fld_data.fld_to->to_addr_list);
        break;
    case MAILIMF_FIELD_CC:
        h->n_cc += count_addresses(f->fld_data.fld_cc->cc_addr_list);
        break;
    case MAILIMF_FIELD_OPTIONAL_FIELD:
        optional_field(h, f->fld_data.fld_optional_field);
        break;
    default:
        break;
    }
}

static void headers_read(const struct mailimf_fields *fields, struct headers *h)
{
    for (clistiter *it = fields && fields->fld_list ? clist_begin(fields->fld_list) : NULL; it;
         it = clist_next(it)) {
        const struct mailimf_field *f = clist_content(it);
        h->n_fields++;
        /* every member of the union is a pointer: one test covers them all */
        if (f != NULL && f->fld_data.fld_return_path != NULL) {
            header_field(h, f);
        }
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2 ? 1 : 0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool date_to_ms(const struct mailimf_date_time *dt, int64_t *ms_out)
{
    if (dt == NULL || dt->dt_year < 1900 || dt->dt_year > 9999 || dt->dt_month < 1 ||
        dt->dt_month > 12 || dt->dt_day < 1 || dt->dt_day > 31 || dt->dt_hour < 0 ||
        dt->dt_hour > 23 || dt->dt_min < 0 || dt->dt_min > 59 || dt->dt_sec < 0 ||
        dt->dt_sec > 60 || dt->dt_zone < -9959 || dt->dt_zone > 9959) {
        return false;
    }
    int zone = dt->dt_zone < 0 ? -dt->dt_zone : dt->dt_zone;
    int64_t off_min = (int64_t)(zone / 100) * 60 + zone % 100;
    off_min = dt->dt_zone < 0 ? -off_min : off_min;
    int64_t secs = days_from_civil(dt->dt_year, dt->dt_month, dt->dt_day) * 86400 +
                   (int64_t)dt->dt_hour * 3600 + (int64_t)dt->dt_min * 60 + dt->dt_sec -
                   off_min * 60;
    *ms_out = secs * 1000;
    return true;
}

static bool has_ref(const char **refs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(refs[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* in.thread_refs: In-Reply-To, then References newest first, deduplicated. */
static void thread_refs(const struct headers *h, const struct wb_email_limits *lim,
                        struct wb_arena *a, struct wb_email_parsed *out)
{
    size_t n_irt = h->in_reply_to ? (size_t)clist_count(h->in_reply_to) : 0;
    size_t n_ref = h->references ? (size_t)clist_count(h->references) : 0;
    size_t cap = n_irt + n_ref < lim->max_refs ? n_irt + n_ref : lim->max_refs;
    const char **refs = wb_arena_alloc(a, (cap + 1) * sizeof(*refs));
    const char **all = wb_arena_alloc(a, (n_ref < 1000 ? n_ref : 1000) * sizeof(*all) + 1);
    size_t k = 0, n_all = 0;
    for (clistiter *it = n_irt ? clist_begin(h->in_reply_to) : NULL; it; it = clist_next(it)) {
        const char *id = clist_content(it);
        if (id != NULL && id[0] != '\0' && k < cap && !has_ref(refs, k, id)) {
            refs[k++] = wb_arena_strdup(a, id);
        }
    }
    for (clistiter *it = n_ref ? clist_begin(h->references) : NULL; it && n_all < 1000;
         it = clist_next(it)) {
        const char *id = clist_content(it);
        if (id != NULL && id[0] != '\0') {
            all[n_all++] = wb_arena_strdup(a, id);
        }
    }
    for (size_t i = n_all; i > 0 && k < cap; i--) {
        if (!has_ref(refs, k, all[i - 1])) {
            refs[k++] = all[i - 1];
        }
    }
    out->in_reply_to = n_irt > 0 && k > 0 ? refs[0] : NULL;
    out->references = all;
    out->n_references = n_all;
    out->in.thread_refs = refs;
    out->in.n_thread_refs = k;
}

/* A best-effort address out of an unparsable From: <...> or a word with @. */
static char *raw_address(const char *v, struct wb_arena *a)
{
    const char *lt = strrchr(v, '<');
    const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
    if (lt != NULL && gt != NULL && memchr(lt, '@', (size_t)(gt - lt)) != NULL) {
        return wb_email_addr_norm(wb_arena_strndup(a, lt + 1, (size_t)(gt - lt - 1)), a);
    }
    const char *at = strchr(v, '@');
    if (at == NULL) {
        return NULL;
    }
    const char *s = at, *e = at;
    while (s > v && strchr(" \t<>,;\"", s[-1]) == NULL) {
        s--;
    }
    while (*e != '\0' && strchr(" \t<>,;\"\r\n", *e) == NULL) {
        e++;
    }
    return wb_email_addr_norm(wb_arena_strndup(a, s, (size_t)(e - s)), a);
}

static void sender_fill(const struct headers *h, const struct wb_email_limits *lim,
                        struct wb_arena *a, struct wb_email_parsed *out)
{
    const struct mailimf_mailbox *mb = h->from ? h->from : h->sender;
    char *addr = NULL;
    if (mb != NULL && mb->mb_addr_spec != NULL) {
        addr = wb_email_decode_words(mb->mb_addr_spec, strlen(mb->mb_addr_spec), a);
        addr = wb_email_addr_norm(addr, a);
    } else if (h->from_raw != NULL) {
        addr = raw_address(wb_email_decode_words(h->from_raw, strlen(h->from_raw), a), a);
    }
    if (mb != NULL && mb->mb_display_name != NULL) {
        char *name = wb_email_decode_words(mb->mb_display_name, strlen(mb->mb_display_name), a);
        wb_email_unquote(name);
        out->in.sender_name = name[0] != '\0' ? name : NULL;
    }
    if (addr == NULL || addr[0] == '\0') {
        return;
    }
    out->in.sender_id = addr;
    out->in.sender_email = addr;
    const char *at = strrchr(addr, '@');
    size_t local = at != NULL ? (size_t)(at - addr) : strlen(addr);
    out->is_bounce |= local == 13 && strncmp(addr, "mailer-daemon", 13) == 0;
    for (size_t i = 0; i < lim->n_own_addresses; i++) {
        const char *own = lim->own_addresses[i];
        out->is_from_self |= own != NULL && strcasecmp(own, addr) == 0;
    }
}

static void header_fill(const struct headers *h, const struct wb_email_limits *lim,
                        struct wb_arena *a, struct wb_email_parsed *out)
{
    if (h->message_id != NULL && h->message_id[0] != '\0') {
        char *id = wb_email_decode_words(h->message_id, strlen(h->message_id), a);
        out->message_id = id[0] != '\0' ? id : NULL;
    }
    if (h->subject != NULL) {
        out->in.subject = wb_email_decode_words(h->subject, strlen(h->subject), a);
        char *topic = wb_email_topic(out->in.subject, a);
        out->in.topic = topic[0] != '\0' ? topic : NULL;
    }
    out->in.topic_window_ms = lim->topic_window_ms;
    out->has_date = date_to_ms(h->date, &out->in.sent_at_ms);
    const struct mailimf_address *rt =
        h->reply_to && h->reply_to->ad_list && clist_begin(h->reply_to->ad_list)
            ? clist_content(clist_begin(h->reply_to->ad_list))
            : NULL;
    if (rt != NULL && rt->ad_type == MAILIMF_ADDRESS_MAILBOX && rt->ad_data.ad_mailbox &&
        rt->ad_data.ad_mailbox->mb_addr_spec) {
        out->reply_to = wb_email_addr_norm(rt->ad_data.ad_mailbox->mb_addr_spec, a);
    }
    out->n_to = h->n_to;
    out->n_cc = h->n_cc;
    out->n_headers = h->n_fields;
    out->auto_flags = h->auto_flags;
    if (h->has_null_return_path) {
        out->auto_flags |= WB_EMAIL_AUTO_NULL_SENDER;
    }
    thread_refs(h, lim, a, out);
    sender_fill(h, lim, a, out);
}

static void body_fill(struct wb_email_body *b, struct wb_arena *a, struct wb_email_parsed *out)
{
    const char *full = b->text.data != NULL ? b->text.data : "";
    struct wb_buf nt;
    bool stripped = false;
    wb_buf_init(&nt, 0);
    out->in.full_text = wb_arena_strndup(a, full, b->text.len);
    if (wb_email_new_text(full, b->text.len, &nt, &stripped) == WB_OK && nt.data != NULL) {
        out->in.text = wb_arena_strndup(a, nt.data, nt.len);
    } else {
        out->in.text = out->in.full_text;
    }
    wb_buf_free(&nt);
    out->is_quote_stripped = stripped;
    out->is_text_truncated = b->is_truncated;
    out->has_html = b->has_html;
    out->text_from_html = b->text_from_html;
    if (b->n_att > 0) {
        struct wb_attachment *att = wb_arena_alloc(a, b->n_att * sizeof(*att));
        memcpy(att, b->att, b->n_att * sizeof(*att));
        out->in.attachments = att;
        out->in.n_attachments = b->n_att;
    }
    if (b->n_skip > 0) {
        struct wb_email_skipped *sk = wb_arena_alloc(a, b->n_skip * sizeof(*sk));
        memcpy(sk, b->skip, b->n_skip * sizeof(*sk));
        out->skipped = sk;
        out->n_skipped = b->n_skip;
    }
    if (b->is_report_dsn) {
        out->is_bounce = true;
    }
    if (b->is_report_mdn) {
        out->auto_flags |= WB_EMAIL_AUTO_MDN;
    }
}

static void verdict(struct wb_email_parsed *out, const uint8_t *raw, size_t n, struct wb_arena *a)
{
    out->is_auto = out->auto_flags != 0;
    out->in.no_auto_reply = out->is_auto || out->is_bounce || out->is_from_self;
    if (out->message_id != NULL) {
        out->in.external_id = out->message_id;
    } else {
        out->in.external_id = sha256_id(raw, n, a);
        out->is_synthetic_id = true;
    }
    if (out->in.text == NULL) {
        out->in.text = "";
    }
}

enum wb_status wb_email_parse_mime(const uint8_t *p, size_t n, const struct wb_email_limits *lim,
                                   struct wb_arena *a, struct wb_email_parsed *out,
                                   struct wb_err *err)
{
    struct wb_email_limits dflt;
    if (out == NULL || a == NULL || (p == NULL && n > 0)) {
        return wb_err_set(err, WB_ERR_INVAL, "email: bad arguments");
    }
    memset(out, 0, sizeof(*out));
    if (lim == NULL) {
        wb_email_limits_default(&dflt);
        lim = &dflt;
    }
    if (n > lim->max_message) {
        verdict(out, p, n, a);
        return wb_err_set(err, WB_ERR_LIMIT, "email: message of %zu bytes over the %zu limit", n,
                          lim->max_message);
    }
    char *copy = wb_arena_alloc(a, n + 1);
    if (n > 0) {
        memcpy(copy, p, n);
    }
    out->in.raw = (const uint8_t *)copy;
    out->in.raw_len = n;
    size_t fields = count_fields(copy, n, lim->max_headers);
    if (fields > lim->max_headers) {
        verdict(out, p, n, a);
        return wb_err_set(err, WB_ERR_LIMIT, "email: more than %zu header fields",
                          lim->max_headers);
    }
    if (!nesting_ok(copy, n)) {
        verdict(out, p, n, a);
        return wb_err_set(err, WB_ERR_LIMIT, "email: MIME or comment nesting too deep to parse");
    }
    size_t idx = 0;
    struct mailmime *mime = NULL;
    int r = mailmime_parse(copy, n, &idx, &mime);
    if (r != MAILIMF_NO_ERROR || mime == NULL || mime->mm_type != MAILMIME_MESSAGE) {
        if (mime != NULL) {
            mailmime_free(mime);
        }
        verdict(out, p, n, a);
        return wb_err_set(err, WB_ERR_PARSE, "email: not a MIME message (libetpan error %d)", r);
    }
    struct headers h = { 0 };
    struct wb_email_body body = { 0 };
    headers_read(mime->mm_data.mm_message.mm_fields, &h);
    header_fill(&h, lim, a, out);
    wb_email_body_walk(mime->mm_data.mm_message.mm_msg_mime, lim, a, &body);
    body_fill(&body, a, out);
    wb_email_body_free(&body);
    mailmime_free(mime);
    verdict(out, p, n, a);
    if (out->in.sender_id == NULL) {
        return wb_err_set(err, WB_ERR_PARSE, "email: no sender address");
    }
    return WB_OK;
}
