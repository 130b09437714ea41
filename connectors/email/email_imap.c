/*
 * email_imap.c - the IMAP worker: one thread and one libetpan session per
 * mailbox.
 *
 * DESIGN
 * - The thread `imap:<channel>` owns its mailimap for its whole life; no
 *   other thread calls libetpan on it. stop() only sets a flag, writes the
 *   worker's eventfd (which ends an IDLE or poll wait) and shuts the socket
 *   down (which ends any other blocking call); then it joins, bounded.
 * - Durability: messages are fetched with BODY.PEEK[] (never sets \Seen),
 *   submitted with host->submit_wait_take and a done callback. The
 *   callback runs on the core thread after the commit; it only records
 *   (uid, status) in the done list and signals. Once every message of the
 *   batch is settled, the worker marks the committed UIDs (+FLAGS.SILENT
 *   \Seen or the keyword) and then queues state "last_uid". A crash between
 *   any two steps re-fetches; the store dedupes on (channel, external_id).
 * - The decisions (resume point, UIDVALIDITY change, batches, how far
 *   last_uid advances, backoff) are pure functions in email_imap_logic.c.
 * - TLS: libetpan (GnuTLS on Debian) does the handshake; the chain is
 *   checked with OpenSSL (email_imap_tls.c) before LOGIN is sent.
 *
 * LOCKS: the done list (struct done_list) is the only lock: the core
 * thread's done callbacks append to it, the worker drains it, and stop()
 * reads the socket fd it holds. No library call is made under it.
 *
 * Thread: new/start/stop/free on main; everything else on the worker.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>
#include <openssl/crypto.h>

#include <warbler/log.h>

#include "email_imap.h"
#include "email_imap_logic.h"
#include "email_imap_tls.h"
#include "email_parse.h"

#define BATCH_MAX_BYTES   ((uint64_t)32 << 20)
#define STACK_SIZE        ((size_t)4 << 20) /* the parser's libetpan recursion needs ~1 MiB */
#define JOIN_TIMEOUT_S    30
#define DONE_WAIT_STOP_MS 30000
#define UNPARSED_TEXT     "(this message could not be parsed; the raw message is kept)"
#define UNKNOWN_SENDER    "unknown@invalid"

struct done_rec {
    uint32_t uid;
    enum wb_status st;
};

/* The one lock (see LOCKS above). Heap-allocated so a late callback never
 * touches a freed worker: it is leaked, not freed, while outstanding > 0. */
struct done_list {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    struct done_rec *v;
    size_t n, cap;
    size_t outstanding; /* submitted, done not yet called */
    int sock_fd;        /* the session's socket, -1 when none */
};

struct done_ctx {
    struct done_list *dl;
    uint32_t uid;
};

struct wb_email_imap {
    const struct wb_host *host;
    const char *channel_id;
    const struct wb_email_conf *conf;
    char log_ctx[96];
    struct done_list *dl;
    atomic_bool stopping;
    int wake_fd;
    pthread_t thread;
    bool started, joined;
    /* owned by the worker thread */
    mailimap *imap;
    char sni[256];
    uint32_t uidvalidity, last_uid;
    bool skip_processed, has_idle;
    int failures;
    char why[WB_ERR_MSG_MAX];
};

/* ---- done list ---- */

/* thread: core (the message's completion) */
static void on_done(void *ctx, const struct wb_message *m, enum wb_status st, int64_t conv_id,
                    int64_t msg_id, bool duplicate)
{
    struct done_ctx *dc = ctx;
    struct done_list *dl = dc->dl;
    (void)m;
    (void)conv_id;
    (void)msg_id;
    (void)duplicate;
    (void)pthread_mutex_lock(&dl->mu);
    if (dl->n < dl->cap) { /* reserved by the worker before submitting */
        dl->v[dl->n].uid = dc->uid;
        dl->v[dl->n].st = st;
        dl->n++;
    }
    dl->outstanding--;
    (void)pthread_cond_broadcast(&dl->cv);
    (void)pthread_mutex_unlock(&dl->mu);
    free(dc);
}

static struct done_list *done_list_new(void)
{
    struct done_list *dl = wb_calloc(1, sizeof(*dl));
    pthread_condattr_t ca;
    (void)pthread_mutex_init(&dl->mu, NULL);
    (void)pthread_condattr_init(&ca);
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    (void)pthread_cond_init(&dl->cv, &ca);
    (void)pthread_condattr_destroy(&ca);
    dl->sock_fd = -1;
    return dl;
}

static void done_list_free(struct done_list *dl)
{
    (void)pthread_mutex_destroy(&dl->mu);
    (void)pthread_cond_destroy(&dl->cv);
    free(dl->v);
    free(dl);
}

/* Empty the list and make room for n records (before submitting a batch). */
static void done_list_reserve(struct done_list *dl, size_t n)
{
    (void)pthread_mutex_lock(&dl->mu);
    dl->n = 0;
    if (dl->cap < n) {
        dl->v = wb_realloc(dl->v, n * sizeof(*dl->v));
        dl->cap = n;
    }
    (void)pthread_mutex_unlock(&dl->mu);
}

static void set_sock_fd(struct wb_email_imap *w, int fd)
{
    (void)pthread_mutex_lock(&w->dl->mu);
    w->dl->sock_fd = fd;
    (void)pthread_mutex_unlock(&w->dl->mu);
}

/* Wait until every submitted message is settled (bounded once stopping). */
static void wait_settled(struct wb_email_imap *w)
{
    struct done_list *dl = w->dl;
    int64_t stop_deadline = 0;
    (void)pthread_mutex_lock(&dl->mu);
    while (dl->outstanding > 0) {
        if (atomic_load(&w->stopping)) {
            int64_t now = wb_mono_ms();
            stop_deadline = stop_deadline == 0 ? now + DONE_WAIT_STOP_MS : stop_deadline;
            if (now >= stop_deadline) {
                break;
            }
        }
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        (void)pthread_cond_timedwait(&dl->cv, &dl->mu, &ts);
    }
    (void)pthread_mutex_unlock(&dl->mu);
}

/* ---- small helpers ---- */

static bool stopping(struct wb_email_imap *w)
{
    return atomic_load(&w->stopping);
}

/* Sleep up to ms, or until stop() writes the eventfd. */
static void wait_wake(struct wb_email_imap *w, int64_t ms)
{
    struct pollfd p = { .fd = w->wake_fd, .events = POLLIN };
    int64_t deadline = wb_mono_ms() + ms;
    while (!stopping(w)) {
        int64_t left = deadline - wb_mono_ms();
        if (left <= 0) {
            break;
        }
        (void)poll(&p, 1, (int)(left > 60000 ? 60000 : left));
    }
}

static const char *etpan_str(int r)
{
    switch (r) {
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
        return "connection refused";
    case MAILIMAP_ERROR_STREAM:
        return "connection lost or timed out";
    case MAILIMAP_ERROR_SSL:
        return "TLS handshake failed";
    case MAILIMAP_ERROR_PARSE:
        return "unreadable server response";
    case MAILIMAP_ERROR_MEMORY:
        return "out of memory";
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
        return "the server refused the session";
    default:
        return "IMAP error";
    }
}

/* Record why the session failed; returns st. */
static enum wb_status fail(struct wb_email_imap *w, enum wb_status st, const char *fmt, ...)
    WB_PRINTF(3, 4);

static enum wb_status fail(struct wb_email_imap *w, enum wb_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
    return st;
}

/* The server's last response text, printable. */
static const char *server_text(const struct wb_email_imap *w, char *buf, size_t bufsz)
{
    const char *t = w->imap != NULL ? w->imap->imap_response : NULL;
    if (t == NULL || t[0] == '\0') {
        return "no reason given";
    }
    return wb_log_printable(t, strlen(t), buf, bufsz);
}

/* A failed command: the connection is gone or the server said NO/BAD. */
static enum wb_status cmd_fail(struct wb_email_imap *w, const char *what, int r)
{
    char t[160];
    if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE) {
        return fail(w, WB_ERR_IO, "%s: %s", what, etpan_str(r));
    }
    return fail(w, WB_ERR_IO, "%s failed: %s", what, server_text(w, t, sizeof(t)));
}

/* ---- connect, TLS, login, select ---- */

static void tls_ctx_cb(struct mailstream_ssl_context *c, void *data)
{
    struct wb_email_imap *w = data;
    if (w->sni[0] != '\0') {
        (void)mailstream_ssl_set_server_name(c, w->sni); /* SNI; libetpan copies it */
    }
}

static enum wb_status check_peer(struct wb_email_imap *w)
{
    carray *chain;
    struct wb_email_der der[16];
    size_t n = 0;
    char why[WB_ERR_MSG_MAX];
    enum wb_status st;
    if (!w->conf->tls_verify) {
        return WB_OK;
    }
    chain = mailstream_get_certificate_chain(w->imap->imap_stream);
    for (unsigned i = 0; chain != NULL && i < carray_count(chain) && n < WB_ARRAY_LEN(der); i++) {
        const MMAPString *s = carray_get(chain, i);
        der[n].p = (const unsigned char *)s->str;
        der[n].n = s->len;
        n++;
    }
    st = wb_email_tls_check_chain(der, n, w->conf->imap_host, w->conf->ca_file, why, sizeof(why));
    if (chain != NULL) {
        mailstream_certificate_chain_free(chain);
    }
    if (st != WB_OK) {
        return fail(w, WB_ERR_TLS, "TLS: %s", why);
    }
    return WB_OK;
}

static bool connect_ok(int r)
{
    return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
           r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

static enum wb_status session_connect(struct wb_email_imap *w)
{
    const struct wb_email_conf *c = w->conf;
    uint16_t port = (uint16_t)c->imap_port;
    int r;
    w->imap = mailimap_new(0, NULL);
    mailimap_set_timeout(w->imap, (time_t)((c->timeout_ms + 999) / 1000));
    if (c->imap_tls == WB_EMAIL_TLS_IMPLICIT) {
        r = mailimap_ssl_connect_with_callback(w->imap, c->imap_host, port, tls_ctx_cb, w);
    } else {
        r = mailimap_socket_connect(w->imap, c->imap_host, port);
    }
    if (!connect_ok(r)) {
        return fail(w, r == MAILIMAP_ERROR_SSL ? WB_ERR_TLS : WB_ERR_IO,
                    "cannot connect to %s:%u: %s", c->imap_host, (unsigned)port, etpan_str(r));
    }
    set_sock_fd(w, mailstream_low_get_fd(mailstream_get_low(w->imap->imap_stream)));
    if (c->imap_tls == WB_EMAIL_TLS_STARTTLS) {
        r = mailimap_socket_starttls_with_callback(w->imap, tls_ctx_cb, w);
        if (r != MAILIMAP_NO_ERROR) {
            return fail(w, WB_ERR_TLS,
                        "STARTTLS with %s:%u failed (%s); does the server offer it? "
                        "(imap_tls = implicit uses port 993)",
                        c->imap_host, (unsigned)port, etpan_str(r));
        }
    }
    return c->imap_tls == WB_EMAIL_TLS_PLAIN ? WB_OK : check_peer(w);
}

static enum wb_status session_login(struct wb_email_imap *w)
{
    const struct wb_email_conf *c = w->conf;
    char t[160];
    char *pw = wb_strndup((const char *)c->imap_password.data, c->imap_password.len);
    int r = mailimap_login(w->imap, c->imap_user, pw);
    OPENSSL_cleanse(pw, c->imap_password.len);
    free(pw);
    if (r == MAILIMAP_ERROR_LOGIN) {
        return fail(w, WB_ERR_AUTH,
                    "login rejected for %s: %s (check imap_user and the password; Gmail and "
                    "Outlook need an app password)",
                    c->imap_user, server_text(w, t, sizeof(t)));
    }
    if (r != MAILIMAP_NO_ERROR) {
        return cmd_fail(w, "LOGIN", r);
    }
    if (w->imap->imap_connection_info == NULL ||
        w->imap->imap_connection_info->imap_capability == NULL) {
        struct mailimap_capability_data *cap = NULL;
        if (mailimap_capability(w->imap, &cap) == MAILIMAP_NO_ERROR && cap != NULL) {
            mailimap_capability_data_free(cap);
        }
    }
    w->has_idle = mailimap_has_idle(w->imap) != 0;
    return WB_OK;
}

static enum wb_status state_u32(struct wb_email_imap *w, const char *key, bool *has, uint32_t *v)
{
    char *s = NULL;
    struct wb_err e = { 0 };
    enum wb_status st = w->host->state_get(w->host, w->channel_id, key, &s, &e);
    *has = false;
    if (st == WB_ERR_NOTFOUND) {
        return WB_OK;
    }
    if (st != WB_OK) {
        return fail(w, st, "cannot read state %s: %s", key, e.msg);
    }
    *has = wb_email_parse_u32(s, v) == WB_OK;
    free(s);
    return WB_OK;
}

static void state_put(struct wb_email_imap *w, const char *key, uint32_t v)
{
    char buf[16];
    (void)snprintf(buf, sizeof(buf), "%u", (unsigned)v);
    w->host->state_set(w->host, w->channel_id, key, buf);
}

static enum wb_status session_select(struct wb_email_imap *w)
{
    struct wb_email_resume_in in = { 0 };
    struct wb_email_resume out;
    char t[160];
    int r = mailimap_select(w->imap, w->conf->imap_folder);
    if (r != MAILIMAP_NO_ERROR || w->imap->imap_selection_info == NULL) {
        if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE) {
            return cmd_fail(w, "SELECT", r);
        }
        return fail(w, WB_ERR_NOTFOUND, "cannot select folder \"%s\": %s (check imap_folder)",
                    w->conf->imap_folder, server_text(w, t, sizeof(t)));
    }
    in.server_validity = w->imap->imap_selection_info->sel_uidvalidity;
    enum wb_status st =
        state_u32(w, WB_EMAIL_STATE_UIDVALIDITY, &in.has_uidvalidity, &in.uidvalidity);
    if (st == WB_OK) {
        st = state_u32(w, WB_EMAIL_STATE_LAST_UID, &in.has_last_uid, &in.last_uid);
    }
    if (st != WB_OK) {
        return st;
    }
    wb_email_imap_resume(&in, &out);
    if (out.is_rescan) {
        wb_logc(w->log_ctx, WB_LOG_NOTICE,
                "UIDVALIDITY of %s changed from %u to %u: rescanning the folder (mail already "
                "stored is not imported again)",
                w->conf->imap_folder, (unsigned)in.uidvalidity, (unsigned)in.server_validity);
    }
    w->uidvalidity = in.server_validity;
    w->last_uid = out.last_uid;
    w->skip_processed = out.is_first_run;
    if (out.is_state_stale && !out.is_first_run) { /* a first run writes after its sync */
        state_put(w, WB_EMAIL_STATE_UIDVALIDITY, w->uidvalidity);
        state_put(w, WB_EMAIL_STATE_LAST_UID, w->last_uid);
    }
    return WB_OK;
}

/* ---- listing and fetching ---- */

static bool flag_is_processed(const struct wb_email_imap *w, const struct mailimap_flag *f)
{
    if (w->conf->processed == WB_EMAIL_MARK_SEEN) {
        return f->fl_type == MAILIMAP_FLAG_SEEN;
    }
    return f->fl_type == MAILIMAP_FLAG_KEYWORD && f->fl_data.fl_keyword != NULL &&
           strcasecmp(f->fl_data.fl_keyword, w->conf->processed_keyword) == 0;
}

/* Read UID, RFC822.SIZE, FLAGS, and a BODY[] section out of one fetch answer. */
struct att_view {
    uint32_t uid, size;
    bool is_processed;
    const char *body;
    size_t body_len;
};

static void att_view_get(const struct wb_email_imap *w, const struct mailimap_msg_att *ma,
                         struct att_view *out)
{
    memset(out, 0, sizeof(*out));
    for (clistiter *it = clist_begin(ma->att_list); it != NULL; it = clist_next(it)) {
        const struct mailimap_msg_att_item *item = clist_content(it);
        if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC && item->att_data.att_dyn != NULL &&
            item->att_data.att_dyn->att_list != NULL) {
            clist *fl = item->att_data.att_dyn->att_list;
            for (clistiter *f = clist_begin(fl); f != NULL; f = clist_next(f)) {
                const struct mailimap_flag_fetch *ff = clist_content(f);
                if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER && ff->fl_flag != NULL &&
                    flag_is_processed(w, ff->fl_flag)) {
                    out->is_processed = true;
                }
            }
            continue;
        }
        if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || item->att_data.att_static == NULL) {
            continue;
        }
        const struct mailimap_msg_att_static *s = item->att_data.att_static;
        if (s->att_type == MAILIMAP_MSG_ATT_UID) {
            out->uid = s->att_data.att_uid;
        } else if (s->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE) {
            out->size = s->att_data.att_rfc822_size;
        } else if (s->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
                   s->att_data.att_body_section != NULL) {
            out->body = s->att_data.att_body_section->sec_body_part;
            out->body_len = s->att_data.att_body_section->sec_length;
        }
    }
}

/* UID FETCH <set> (UID ... ); the caller frees *result with mailimap_fetch_list_free. */
static int uid_fetch(struct wb_email_imap *w, struct mailimap_set *set, bool list_only,
                     bool header_only, clist **result)
{
    struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
    (void)mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    if (list_only) {
        (void)mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
        (void)mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
    } else {
        struct mailimap_section *sec =
            header_only ? mailimap_section_new_header() : mailimap_section_new(NULL);
        (void)mailimap_fetch_type_new_fetch_att_list_add(
            ft, mailimap_fetch_att_new_body_peek_section(sec));
    }
    *result = NULL;
    int r = mailimap_uid_fetch(w->imap, set, ft, result);
    mailimap_fetch_type_free(ft);
    return r;
}

/* The folder's messages with a UID above last_uid: uid, size, processed flag. */
static enum wb_status list_new(struct wb_email_imap *w, struct wb_email_uid **v_out, size_t *n_out)
{
    clist *res = NULL;
    struct mailimap_set *set = mailimap_set_new_interval(w->last_uid + 1, 0);
    int r = uid_fetch(w, set, true, false, &res);
    mailimap_set_free(set);
    *v_out = NULL;
    *n_out = 0;
    if (r != MAILIMAP_NO_ERROR) {
        if (res != NULL) {
            mailimap_fetch_list_free(res);
        }
        return cmd_fail(w, "UID FETCH (listing new mail)", r);
    }
    size_t n = 0, cap = (size_t)clist_count(res);
    struct wb_email_uid *v = wb_calloc(cap > 0 ? cap : 1, sizeof(*v));
    for (clistiter *it = clist_begin(res); it != NULL && n < cap; it = clist_next(it)) {
        struct att_view av;
        att_view_get(w, clist_content(it), &av);
        if (av.uid != 0) {
            v[n].uid = av.uid;
            v[n].size = av.size;
            v[n].is_processed = av.is_processed;
            n++;
        }
    }
    mailimap_fetch_list_free(res);
    *v_out = v;
    *n_out = n;
    return WB_OK;
}

/* ---- parse and submit ---- */

static void limits_from_conf(const struct wb_email_conf *c, struct wb_email_limits *lim,
                             const char *const *own)
{
    wb_email_limits_default(lim);
    lim->max_message = (size_t)c->max_message;
    lim->max_attachment = (size_t)c->max_attachment;
    lim->own_addresses = own;
    lim->n_own_addresses = 1;
    lim->topic_window_ms = c->topic_window_ms;
}

/* Parse one fetched message and hand it to the core; the done callback settles it. */
static void submit_one(struct wb_email_imap *w, uint32_t uid, const char *p, size_t n,
                       uint32_t full_size, bool header_only)
{
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed parsed;
    struct wb_email_limits lim;
    struct wb_err err = { 0 };
    const char *own[1] = { w->conf->address };
    limits_from_conf(w->conf, &lim, own);
    enum wb_status st = wb_email_parse_mime((const uint8_t *)p, n, &lim, &a, &parsed, &err);
    struct wb_inbound in = parsed.in;
    if (header_only) {
        in.text = wb_arena_printf(&a,
                                  "(this message is %u bytes, over max_message; only its "
                                  "header was downloaded)",
                                  (unsigned)full_size);
        in.full_text = NULL;
        in.no_auto_reply = true;
        wb_logc(w->log_ctx, WB_LOG_WARN, "uid %u: %u bytes is over max_message: stored its header",
                (unsigned)uid, (unsigned)full_size);
    } else if (st != WB_OK) {
        in.text = UNPARSED_TEXT;
        in.full_text = NULL;
        in.no_auto_reply = true;
        wb_logc(w->log_ctx, WB_LOG_WARN, "uid %u: cannot parse (%s): stored raw for an agent",
                (unsigned)uid, err.msg);
    }
    if (in.sender_id == NULL) {
        in.sender_id = UNKNOWN_SENDER;
    }
    if (in.external_id == NULL) { /* the parser always sets one; keep the message anyway */
        in.external_id = wb_arena_printf(&a, "imap:%u:%u", (unsigned)w->uidvalidity, (unsigned)uid);
    }
    struct wb_message *m = wb_message_new(w->channel_id, &in);
    struct done_ctx *dc = wb_calloc(1, sizeof(*dc));
    dc->dl = w->dl;
    dc->uid = uid;
    m->done = on_done;
    m->done_ctx = dc;
    (void)pthread_mutex_lock(&w->dl->mu);
    w->dl->outstanding++;
    (void)pthread_mutex_unlock(&w->dl->mu);
    (void)w->host->submit_wait_take(w->host, m); /* done is called on every path */
    wb_arena_free(&a);
}

/* Fetch v[0..n) (whole, or the header only when over max_message) and submit each. */
static enum wb_status fetch_submit(struct wb_email_imap *w, const struct wb_email_uid *v, size_t n,
                                   bool header_only)
{
    clist *res = NULL;
    size_t k = 0;
    struct mailimap_set *set = mailimap_set_new_empty();
    for (size_t i = 0; i < n; i++) {
        bool big = v[i].size > (uint64_t)w->conf->max_message;
        if (big == header_only) {
            (void)mailimap_set_add_single(set, v[i].uid);
            k++;
        }
    }
    int r = k > 0 ? uid_fetch(w, set, false, header_only, &res) : MAILIMAP_NO_ERROR;
    mailimap_set_free(set);
    if (r != MAILIMAP_NO_ERROR) {
        if (res != NULL) {
            mailimap_fetch_list_free(res);
        }
        return cmd_fail(w, "UID FETCH", r);
    }
    for (clistiter *it = res != NULL ? clist_begin(res) : NULL; it != NULL; it = clist_next(it)) {
        struct att_view av;
        att_view_get(w, clist_content(it), &av);
        uint32_t full = 0;
        for (size_t i = 0; i < n; i++) {
            full = v[i].uid == av.uid ? v[i].size : full;
        }
        if (av.uid != 0 && av.body != NULL && !stopping(w)) {
            submit_one(w, av.uid, av.body, av.body_len, full, header_only);
        }
    }
    if (res != NULL) {
        mailimap_fetch_list_free(res);
    }
    return WB_OK;
}

/* ---- settle a batch: mark processed, advance last_uid ---- */

static enum wb_status mark_processed(struct wb_email_imap *w, const uint32_t *uids,
                                     const enum wb_email_outcome *out, size_t n)
{
    struct mailimap_set *set = mailimap_set_new_empty();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == WB_EMAIL_COMMITTED) {
            (void)mailimap_set_add_single(set, uids[i]);
            k++;
        }
    }
    int r = MAILIMAP_NO_ERROR;
    if (k > 0) {
        struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
        struct mailimap_flag *f =
            w->conf->processed == WB_EMAIL_MARK_SEEN
                ? mailimap_flag_new_seen()
                : mailimap_flag_new_flag_keyword(wb_strdup(w->conf->processed_keyword));
        (void)mailimap_flag_list_add(fl, f);
        struct mailimap_store_att_flags *att = mailimap_store_att_flags_new_add_flags_silent(fl);
        r = mailimap_uid_store(w->imap, set, att);
        mailimap_store_att_flags_free(att);
    }
    mailimap_set_free(set);
    return r == MAILIMAP_NO_ERROR ? WB_OK : cmd_fail(w, "UID STORE (marking processed)", r);
}

/* After every message of v[0..n) is settled: outcomes by UID, flags, last_uid. */
static enum wb_status settle(struct wb_email_imap *w, const struct wb_email_uid *v, size_t n)
{
    uint32_t *uids = wb_calloc(n, sizeof(*uids));
    enum wb_email_outcome *out = wb_calloc(n, sizeof(*out));
    struct done_list *dl = w->dl;
    (void)pthread_mutex_lock(&dl->mu);
    for (size_t i = 0; i < n; i++) {
        enum wb_status st = WB_ERR_NOTFOUND; /* not returned by FETCH: expunged meanwhile */
        for (size_t j = 0; j < dl->n; j++) {
            st = dl->v[j].uid == v[i].uid ? dl->v[j].st : st;
        }
        uids[i] = v[i].uid;
        out[i] = wb_email_imap_outcome(st);
        if (out[i] == WB_EMAIL_SKIPPED && st != WB_ERR_NOTFOUND) {
            wb_logc(w->log_ctx, WB_LOG_ERROR, "uid %u: refused by the core (%s): left unmarked",
                    (unsigned)uids[i], wb_status_str(st));
        }
    }
    dl->n = 0;
    (void)pthread_mutex_unlock(&dl->mu);
    enum wb_status st = mark_processed(w, uids, out, n);
    if (st == WB_OK) {
        uint32_t last = wb_email_imap_advance(w->last_uid, uids, out, n);
        if (last != w->last_uid) {
            w->last_uid = last;
            state_put(w, WB_EMAIL_STATE_LAST_UID, last);
        }
        for (size_t i = 0; i < n && st == WB_OK; i++) {
            if (out[i] == WB_EMAIL_RETRY) {
                st = fail(w, WB_ERR_BUSY,
                          "uid %u was not stored (the core is busy or "
                          "stopping): fetching it again",
                          (unsigned)uids[i]);
            }
        }
    }
    free(uids);
    free(out);
    return st;
}

static enum wb_status run_batch(struct wb_email_imap *w, const struct wb_email_uid *v, size_t n)
{
    done_list_reserve(w->dl, n);
    enum wb_status st = fetch_submit(w, v, n, false);
    if (st == WB_OK) {
        st = fetch_submit(w, v, n, true);
    }
    wait_settled(w); /* even on error: nothing submitted may outlive the batch */
    if (st == WB_OK && !stopping(w)) {
        st = settle(w, v, n);
    }
    return st;
}

/* Fetch and submit everything new, batch by batch. */
static enum wb_status mailbox_sync(struct wb_email_imap *w)
{
    struct wb_email_uid *v = NULL;
    size_t n = 0;
    uint32_t max_seen = w->last_uid;
    enum wb_status st = list_new(w, &v, &n);
    for (size_t i = 0; i < n; i++) {
        max_seen = v[i].uid > max_seen ? v[i].uid : max_seen;
    }
    n = wb_email_imap_select(v, n, w->last_uid, w->skip_processed);
    for (size_t i = 0; st == WB_OK && i < n && !stopping(w);) {
        size_t k = wb_email_imap_batch_len(v + i, n - i, (size_t)w->conf->fetch_batch,
                                           BATCH_MAX_BYTES, (uint64_t)w->conf->max_message);
        st = run_batch(w, v + i, k);
        i += k;
    }
    free(v);
    if (st == WB_OK && !stopping(w) && w->skip_processed) {
        /* first run: mail already marked processed stays behind us */
        w->skip_processed = false;
        w->last_uid = max_seen > w->last_uid ? max_seen : w->last_uid;
        state_put(w, WB_EMAIL_STATE_UIDVALIDITY, w->uidvalidity);
        state_put(w, WB_EMAIL_STATE_LAST_UID, w->last_uid);
    }
    return st;
}

/* ---- waiting for mail ---- */

static enum wb_status wait_idle(struct wb_email_imap *w)
{
    int r = mailimap_idle(w->imap);
    if (r != MAILIMAP_NO_ERROR) {
        return cmd_fail(w, "IDLE", r);
    }
    if (w->imap->imap_stream->read_buffer_len == 0) {
        struct pollfd p[2] = {
            { .fd = mailimap_idle_get_fd(w->imap), .events = POLLIN },
            { .fd = w->wake_fd, .events = POLLIN },
        };
        (void)poll(p, 2, (int)WB_EMAIL_IDLE_REISSUE_MS);
    }
    if (stopping(w)) {
        return WB_OK;
    }
    r = mailimap_idle_done(w->imap);
    return r == MAILIMAP_NO_ERROR ? WB_OK : cmd_fail(w, "IDLE (DONE)", r);
}

static enum wb_status wait_for_mail(struct wb_email_imap *w)
{
    if (w->has_idle) {
        return wait_idle(w);
    }
    wait_wake(w, w->conf->poll_interval_ms);
    if (stopping(w)) {
        return WB_OK;
    }
    int r = mailimap_noop(w->imap);
    return r == MAILIMAP_NO_ERROR ? WB_OK : cmd_fail(w, "NOOP", r);
}

/* ---- the thread ---- */

static enum wb_status session_run(struct wb_email_imap *w)
{
    enum wb_status st = session_connect(w);
    if (st == WB_OK && !stopping(w)) {
        st = session_login(w);
    }
    if (st == WB_OK && !stopping(w)) {
        st = session_select(w);
    }
    if (st == WB_OK && !stopping(w)) {
        w->host->set_state(w->host, w->channel_id, WB_CHANNEL_UP, NULL);
        wb_logc(w->log_ctx, WB_LOG_INFO, "logged in to %s as %s, folder %s (%s, last uid %u)",
                w->conf->imap_host, w->conf->imap_user, w->conf->imap_folder,
                w->has_idle ? "IDLE" : "polling", (unsigned)w->last_uid);
    }
    while (st == WB_OK && !stopping(w)) {
        st = mailbox_sync(w);
        if (st == WB_OK) {
            w->failures = 0;
        }
        if (st == WB_OK && !stopping(w)) {
            st = wait_for_mail(w);
        }
    }
    return st;
}

static void session_close(struct wb_email_imap *w)
{
    if (w->imap == NULL) {
        return;
    }
    set_sock_fd(w, -1);
    mailimap_free(w->imap); /* closes the stream */
    w->imap = NULL;
}

static void report_failure(struct wb_email_imap *w, enum wb_status st, int64_t delay_ms)
{
    char reason[WB_ERR_MSG_MAX + 64];
    bool is_down = st == WB_ERR_AUTH || st == WB_ERR_TLS || st == WB_ERR_NOTFOUND;
    (void)snprintf(reason, sizeof(reason), "%s; retrying in %llds", w->why,
                   (long long)(delay_ms / 1000));
    w->host->set_state(w->host, w->channel_id, is_down ? WB_CHANNEL_DOWN : WB_CHANNEL_DEGRADED,
                       is_down ? w->why : reason);
    wb_logc(w->log_ctx, is_down ? WB_LOG_ERROR : WB_LOG_WARN, "%s", reason);
}

static void *imap_main(void *arg)
{
    struct wb_email_imap *w = arg;
    if (!w->conf->tls_verify) {
        wb_logc(w->log_ctx, WB_LOG_WARN,
                "tls_verify = false: the server's certificate is NOT checked for this mailbox");
    }
    while (!stopping(w)) {
        w->why[0] = '\0';
        enum wb_status st = session_run(w);
        session_close(w);
        if (stopping(w)) {
            break;
        }
        w->failures++;
        int64_t delay = wb_email_imap_backoff_ms(w->failures);
        report_failure(w, st, delay);
        wait_wake(w, delay);
    }
    session_close(w);
    return NULL;
}

/* ---- lifecycle (thread: main) ---- */

enum wb_status wb_email_imap_new(const struct wb_host *host, const char *channel_id,
                                 const struct wb_email_conf *conf, struct wb_email_imap **out,
                                 struct wb_err *err)
{
    struct wb_email_imap *w = wb_calloc(1, sizeof(*w));
    (void)err;
    w->host = host;
    w->channel_id = channel_id;
    w->conf = conf;
    (void)snprintf(w->log_ctx, sizeof(w->log_ctx), "imap[%s]", channel_id);
    if (!wb_email_host_is_ip(conf->imap_host)) {
        (void)snprintf(w->sni, sizeof(w->sni), "%s", conf->imap_host);
    }
    w->dl = done_list_new();
    w->wake_fd = -1;
    atomic_init(&w->stopping, false);
    *out = w;
    return WB_OK;
}

enum wb_status wb_email_imap_start(struct wb_email_imap *w, struct wb_err *err)
{
    pthread_attr_t attr;
    if (w->started) {
        return WB_OK;
    }
    w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->wake_fd < 0) {
        return wb_err_set(err, WB_ERR_INTERNAL, "%s: eventfd failed (errno %d)", w->log_ctx, errno);
    }
    (void)pthread_attr_init(&attr);
    (void)pthread_attr_setstacksize(&attr, STACK_SIZE);
    int rc = pthread_create(&w->thread, &attr, imap_main, w);
    (void)pthread_attr_destroy(&attr);
    if (rc != 0) {
        return wb_err_set(err, WB_ERR_INTERNAL, "%s: cannot start the thread", w->log_ctx);
    }
    char name[16];
    (void)snprintf(name, sizeof(name), "imap:%s", w->channel_id);
    (void)pthread_setname_np(w->thread, name);
    w->started = true;
    return WB_OK;
}

void wb_email_imap_stop(struct wb_email_imap *w)
{
    if (w == NULL || !w->started || w->joined) {
        return;
    }
    atomic_store(&w->stopping, true);
    uint64_t one = 1;
    (void)!write(w->wake_fd, &one, sizeof(one));
    (void)pthread_mutex_lock(&w->dl->mu);
    if (w->dl->sock_fd >= 0) {
        (void)shutdown(w->dl->sock_fd, SHUT_RDWR); /* ends a blocking read or write */
    }
    (void)pthread_mutex_unlock(&w->dl->mu);
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += JOIN_TIMEOUT_S + DONE_WAIT_STOP_MS / 1000;
    if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0) {
        w->joined = true;
    } else {
        wb_logc(w->log_ctx, WB_LOG_ERROR, "the IMAP thread did not stop in time: leaving it");
    }
}

void wb_email_imap_free(struct wb_email_imap *w)
{
    if (w == NULL) {
        return;
    }
    wb_email_imap_stop(w);
    if (w->started && !w->joined) {
        return; /* the thread still runs: leak rather than free under it */
    }
    size_t outstanding;
    (void)pthread_mutex_lock(&w->dl->mu);
    outstanding = w->dl->outstanding;
    (void)pthread_mutex_unlock(&w->dl->mu);
    if (outstanding == 0) {
        done_list_free(w->dl);
    }
    if (w->wake_fd >= 0) {
        (void)close(w->wake_fd);
    }
    free(w);
}
