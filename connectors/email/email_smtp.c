/*
 * email_smtp.c - send one reply with libesmtp (or libcurl for SMTPS).
 *
 * Design: wb_email_send derives the Message-ID's token from the outbox
 * row's idempotency key (the same across retries),
 * reads the clock, composes the message (email_compose.c, pure) and runs
 * one libesmtp session for it. libesmtp only speaks STARTTLS, so for
 * smtp_tls = implicit the composed bytes go to wb_email_smtps_send
 * (email_smtps.c, libcurl) instead; the Message-ID, the compose step, the
 * Sent copy and the logging are the same for both. TLS uses an
 * SSL_CTX made here per call (wb_email_tls_setup): SSL_VERIFY_PEER with our
 * CA and the host name or IP address checked by OpenSSL during the
 * handshake. libesmtp then runs its own checks (verify result, cipher
 * strength, DNS-only name match) and reports through the event callback;
 * its name match knows no IP addresses, so a "wrong peer certificate" event
 * is overridden only when OpenSSL's own check (which did cover the name)
 * passed.
 *
 * The protocol monitor only looks at which command was written last and
 * at the server's answer to AUTH, so that a rejected login is reported as
 * such; written bytes (credentials) are never copied or logged.
 *
 * Results: connection, TLS, timeout, AUTH and 4xx failures are retried;
 * a 5xx for MAIL, RCPT or DATA is permanent with the server's words.
 *
 * Thread: any (a sender pool thread). Everything lives on the stack of
 * one call; libesmtp's auth-client is initialised once with pthread_once.
 */
#include "email_imap_logic.h"
#include "email_smtp.h"
#include "hmac.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <auth-client.h>
#include <libesmtp.h>

#include <warbler/log.h>

#include "email_compose.h"
#include "email_sent.h"
#include "email_smtps.h"

#define RANDOM_BYTES   8
#define TICKET_WAIT_MS 25

struct send_state {
    const struct wb_email_conf *conf;
    struct wb_email_tls_check tls;
    char *password;        /* NUL-terminated copy, cleansed at the end */
    char empty[1];         /* "" for a realm request */
    bool starttls_missing; /* the server offers no STARTTLS */
    bool tls_rejected;     /* a libesmtp TLS check failed */
    bool in_auth;          /* the last command written was AUTH */
    bool auth_rejected;
    char auth_reply[160];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int tls_ex_index = -1;

static void init_libs(void)
{
    auth_client_init();
    tls_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
    if (ok) {
        return ok;
    }
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct wb_email_tls_check *chk =
        ssl != NULL ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ex_index) : NULL;
    if (chk != NULL && chk->error[0] == '\0') {
        int e = X509_STORE_CTX_get_error(x);
        (void)snprintf(chk->error, sizeof(chk->error), "certificate verify failed: %s",
                       X509_verify_cert_error_string(e));
    }
    return ok;
}

/* Set SNI just before the ClientHello: libesmtp makes the SSL itself. */
static void info_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if ((where & SSL_CB_HANDSHAKE_START) == 0) {
        return;
    }
    struct wb_email_tls_check *chk = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ex_index);
    if (chk != NULL && chk->host != NULL && !wb_email_host_is_ip(chk->host) &&
        SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL) {
        /* SSL_set_tlsext_host_name, spelled out: the macro casts away const */
        (void)SSL_ctrl((SSL *)(uintptr_t)ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
                       TLSEXT_NAMETYPE_host_name, (void *)(uintptr_t)chk->host);
    }
}

enum wb_status wb_email_tls_setup(struct ssl_ctx_st *ctx, const struct wb_email_conf *conf,
                                  const char *host, struct wb_email_tls_check *chk,
                                  struct wb_err *err)
{
    (void)pthread_once(&init_once, init_libs);
    chk->host = host;
    chk->error[0] = '\0';
    (void)SSL_CTX_set_ex_data(ctx, tls_ex_index, chk);
    (void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    (void)SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET); /* one connection per send: no resumption */
    SSL_CTX_set_info_callback(ctx, info_cb);
    if (!conf->tls_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return WB_OK;
    }
    int ok = conf->ca_file != NULL && conf->ca_file[0] != '\0'
                 ? SSL_CTX_load_verify_locations(ctx, conf->ca_file, NULL)
                 : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        ERR_clear_error();
        return wb_err_set(err, WB_ERR_TLS, "tls: cannot load CA file %s: %s",
                          conf->ca_file != NULL && conf->ca_file[0] != '\0' ? conf->ca_file
                                                                            : "(system)",
                          ERR_reason_error_string(e) != NULL ? ERR_reason_error_string(e) : "?");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
    X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = wb_email_host_is_ip(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                                   : X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (ok != 1) {
        return wb_err_set(err, WB_ERR_TLS, "tls: cannot check the name %s", host);
    }
    return WB_OK;
}

void wb_email_set_reason(struct wb_send_result *out, const char *fmt, ...)
{
    char tmp[sizeof(out->reason)];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    size_t j = 0;
    bool space = false;
    for (size_t i = 0; tmp[i] != '\0' && j + 1 < sizeof(out->reason); i++) {
        unsigned char c = (unsigned char)tmp[i];
        if (c < 0x20 || c == 0x7f) {
            space = j > 0;
            continue;
        }
        if (space && c != ' ') {
            out->reason[j++] = ' ';
        }
        space = false;
        if (j + 1 < sizeof(out->reason)) {
            out->reason[j++] = (char)c;
        }
    }
    /* do not leave half a UTF-8 character at the end */
    size_t k = j;
    while (k > 0 && ((unsigned char)out->reason[k - 1] & 0xC0) == 0x80) {
        k--;
    }
    if (k > 0 && ((unsigned char)out->reason[k - 1] & 0x80) != 0) {
        unsigned char lead = (unsigned char)out->reason[k - 1];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (j - (k - 1) < want) {
            j = k - 1;
        }
    }
    out->reason[j] = '\0';
}

/*
 * libesmtp reads before it writes when the socket is readable: a TLS 1.3
 * NewSessionTicket arriving right after the handshake makes it wait for an
 * EHLO answer it has not asked for (until the timeout). We ask for no
 * tickets (SSL_OP_NO_TICKET: OpenSSL servers then send none) and, for
 * servers that send them anyway, consume what arrives within a moment of
 * the handshake before EHLO is written.
 */
static void drain_tickets(SSL *ssl)
{
    int fd = ssl != NULL ? SSL_get_rfd(ssl) : -1;
    for (int i = 0; fd >= 0 && i < 4; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (SSL_pending(ssl) > 0 || poll(&p, 1, TICKET_WAIT_MS) <= 0) {
            return;
        }
        char c;
        int r = SSL_peek(ssl, &c, 1);
        if (r > 0 || SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) {
            ERR_clear_error();
            return; /* data (libesmtp finds it through SSL_pending) or an error */
        }
    }
}

static void event_cb(smtp_session_t session, int event_no, void *arg, ...)
{
    (void)session;
    struct send_state *st = arg;
    va_list ap;
    va_start(ap, arg);
    switch (event_no) {
    case SMTP_EV_EXTNA_STARTTLS:
        st->starttls_missing = true;
        break;
    case SMTP_EV_STARTTLS_OK:
        drain_tickets(va_arg(ap, SSL *));
        break;
    case SMTP_EV_INVALID_PEER_CERTIFICATE: {
        long result = va_arg(ap, long);
        int *ok = va_arg(ap, int *);
        *ok = !st->conf->tls_verify;
        if (!*ok && st->tls.error[0] == '\0') {
            (void)snprintf(st->tls.error, sizeof(st->tls.error), "certificate verify failed: %s",
                           X509_verify_cert_error_string(result));
        }
        st->tls_rejected = !*ok;
        break;
    }
    case SMTP_EV_WRONG_PEER_CERTIFICATE: {
        int *ok = va_arg(ap, int *);
        (void)va_arg(ap, char *);
        SSL *ssl = va_arg(ap, SSL *);
        /* OpenSSL already checked the name (X509_VERIFY_PARAM) when verifying */
        *ok = !st->conf->tls_verify || SSL_get_verify_result(ssl) == X509_V_OK;
        if (!*ok && st->tls.error[0] == '\0') {
            (void)snprintf(st->tls.error, sizeof(st->tls.error), "certificate does not match %s",
                           st->conf->smtp_host);
        }
        st->tls_rejected = !*ok;
        break;
    }
    case SMTP_EV_NO_PEER_CERTIFICATE: {
        int *ok = va_arg(ap, int *);
        *ok = !st->conf->tls_verify;
        if (!*ok) {
            (void)snprintf(st->tls.error, sizeof(st->tls.error), "no server certificate");
        }
        st->tls_rejected = !*ok;
        break;
    }
    case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
    case SMTP_EV_NO_CLIENT_CERTIFICATE:
        /* libesmtp looks for a client certificate under $XDG_CONFIG_DIR or ~/.config/libesmtp */
        (void)snprintf(st->tls.error, sizeof(st->tls.error),
                       "libesmtp cannot use the client certificate in ~/.config/libesmtp");
        break;
    case SMTP_EV_WEAK_CIPHER: {
        (void)va_arg(ap, int);
        int *ok = va_arg(ap, int *);
        *ok = 0;
        (void)snprintf(st->tls.error, sizeof(st->tls.error), "weak cipher");
        st->tls_rejected = true;
        break;
    }
    default:
        break;
    }
    va_end(ap);
}

/* Watch for the answer to AUTH; written bytes may hold credentials: never kept. */
static void monitor_cb(const char *buf, int len, int writing, void *arg)
{
    struct send_state *st = arg;
    if (len <= 0) {
        return;
    }
    if (writing == SMTP_CB_WRITING) {
        if (len >= 5 && strncasecmp(buf, "AUTH ", 5) == 0) {
            st->in_auth = true;
        } else if (len >= 4 &&
                   (strncasecmp(buf, "MAIL", 4) == 0 || strncasecmp(buf, "QUIT", 4) == 0 ||
                    strncasecmp(buf, "EHLO", 4) == 0)) {
            st->in_auth = false;
        }
        return;
    }
    if (writing == SMTP_CB_READING && st->in_auth && (buf[0] == '4' || buf[0] == '5')) {
        st->auth_rejected = true;
        size_t n =
            (size_t)len < sizeof(st->auth_reply) - 1 ? (size_t)len : sizeof(st->auth_reply) - 1;
        memcpy(st->auth_reply, buf, n);
        st->auth_reply[n] = '\0';
    }
}

static int auth_interact(auth_client_request_t req, char **result, int fields, void *arg)
{
    struct send_state *st = arg;
    for (int i = 0; i < fields; i++) {
        if (req[i].flags & AUTH_USER) {
            result[i] = st->conf->smtp_user;
        } else if (req[i].flags & AUTH_PASS) {
            result[i] = st->password;
        } else if (req[i].flags & AUTH_REALM) {
            result[i] = st->empty;
        } else {
            return 0;
        }
    }
    return 1;
}

static void set_status_reason(struct wb_send_result *out, const char *what, const smtp_status_t *s)
{
    const char *text = s->text != NULL ? s->text : "";
    if (s->enh_class > 0 && !(text[0] >= '0' && text[0] <= '9')) {
        wb_email_set_reason(out, "smtp: %s: %d %d.%d.%d %s", what, s->code, s->enh_class,
                            s->enh_subject, s->enh_detail, text);
    } else {
        wb_email_set_reason(out, "smtp: %s: %d %s", what, s->code, text);
    }
}

/* Settle a 4xx/5xx status; false when s is not a failure. */
static bool settle_status(struct wb_send_result *out, const char *what, const smtp_status_t *s)
{
    if (s == NULL || s->code < 400) {
        return false;
    }
    out->outcome = s->code >= 500 ? WB_SEND_PERMANENT : WB_SEND_RETRY;
    set_status_reason(out, what, s);
    return true;
}

struct rcpt_walk {
    struct wb_send_result *out;
    bool done;
};

static void settle_recipient(smtp_recipient_t r, const char *mailbox, void *arg)
{
    (void)mailbox;
    struct rcpt_walk *w = arg;
    if (!w->done) {
        w->done = settle_status(w->out, "recipient rejected", smtp_recipient_status(r));
    }
}

/* The outcome of a session that ran (smtp_start_session returned 1). */
static void settle_session(struct send_state *st, smtp_message_t msg, struct wb_send_result *out)
{
    if (st->starttls_missing) {
        out->outcome = WB_SEND_RETRY;
        wb_email_set_reason(out, "smtp: the server does not offer STARTTLS (required)");
        return;
    }
    if (st->tls_rejected || st->tls.error[0] != '\0') {
        out->outcome = WB_SEND_RETRY;
        wb_email_set_reason(out, "smtp: tls: %s",
                            st->tls.error[0] != '\0' ? st->tls.error : "rejected");
        return;
    }
    if (st->auth_rejected) {
        out->outcome = WB_SEND_RETRY;
        wb_email_set_reason(out, "smtp: authentication rejected: %s", st->auth_reply);
        return;
    }
    if (settle_status(out, "sender rejected", smtp_reverse_path_status(msg))) {
        return;
    }
    struct rcpt_walk w = { .out = out, .done = false };
    (void)smtp_enumerate_recipients(msg, settle_recipient, &w);
    if (w.done) {
        return;
    }
    const smtp_status_t *ms = smtp_message_transfer_status(msg);
    if (settle_status(out, "message rejected", ms)) {
        return;
    }
    if (ms == NULL || ms->code < 200 || ms->code >= 300) {
        char eb[128];
        out->outcome = WB_SEND_RETRY;
        wb_email_set_reason(out, "smtp: the session ended before the message was accepted (%s)",
                            smtp_strerror(smtp_errno(), eb, sizeof(eb)));
        return;
    }
    out->outcome = WB_SEND_OK;
}

/* The outcome of a session that failed (smtp_start_session returned 0). */
static void settle_failure(struct send_state *st, struct wb_send_result *out)
{
    char eb[128];
    int e = smtp_errno();
    out->outcome = WB_SEND_RETRY;
    if (st->tls.error[0] != '\0') {
        wb_email_set_reason(out, "smtp: tls: %s", st->tls.error);
    } else if (e == SMTP_ERR_CLIENT_ERROR) {
        unsigned long ssl_err = ERR_peek_last_error();
        wb_email_set_reason(out, "smtp: tls: handshake failed: %s",
                            ssl_err != 0 && ERR_reason_error_string(ssl_err) != NULL
                                ? ERR_reason_error_string(ssl_err)
                                : "client error");
    } else {
        wb_email_set_reason(out, "smtp: %s:%lld: %s", st->conf->smtp_host,
                            (long long)st->conf->smtp_port, smtp_strerror(e, eb, sizeof(eb)));
    }
    ERR_clear_error();
}

static bool session_setup(smtp_session_t s, struct send_state *st, SSL_CTX *ctx,
                          auth_context_t *auth_out)
{
    const struct wb_email_conf *conf = st->conf;
    char hostport[300];
    bool v6 = strchr(conf->smtp_host, ':') != NULL;
    (void)snprintf(hostport, sizeof(hostport), v6 ? "[%s]:%lld" : "%s:%lld", conf->smtp_host,
                   (long long)conf->smtp_port);
    long ms = conf->timeout_ms > 0 ? (long)conf->timeout_ms : 30000L;
    static const int which[] = { Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA, Timeout_TRANSFER,
                                 Timeout_DATA2 };
    for (size_t i = 0; i < WB_ARRAY_LEN(which); i++) {
        (void)smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
    }
    if (!smtp_set_server(s, hostport) || !smtp_set_eventcb(s, event_cb, st) ||
        !smtp_set_monitorcb(s, monitor_cb, st, 0)) {
        return false;
    }
    if (conf->smtp_tls == WB_EMAIL_TLS_STARTTLS) {
        if (!smtp_starttls_enable(s, Starttls_REQUIRED) || !smtp_starttls_set_ctx(s, ctx)) {
            return false;
        }
    } else if (!smtp_starttls_enable(s, Starttls_DISABLED)) {
        return false;
    }
    if (conf->smtp_user != NULL && conf->smtp_user[0] != '\0') {
        auth_context_t auth = auth_create_context();
        if (auth == NULL) {
            return false;
        }
        *auth_out = auth;
        (void)auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
        (void)auth_set_interact_cb(auth, auth_interact, st);
        if (!smtp_auth_set_context(s, auth)) {
            return false;
        }
    }
    return true;
}

static bool message_setup(smtp_session_t s, const struct wb_email_conf *conf,
                          const struct wb_outbound *ob, const char *data, smtp_message_t *msg_out)
{
    smtp_message_t msg = smtp_add_message(s);
    if (msg == NULL || !smtp_set_reverse_path(msg, conf->address) ||
        !smtp_set_message_str(msg, (void *)(uintptr_t)data)) {
        return false;
    }
    if (smtp_add_recipient(msg, wb_email_recipient(ob)) == NULL) {
        return false;
    }
    *msg_out = msg;
    return true;
}

/* One libesmtp session for data; fills out. */
static void run_session(struct send_state *st, const struct wb_outbound *ob, const char *data,
                        struct wb_send_result *out)
{
    struct wb_err err = { 0 };
    SSL_CTX *ctx = NULL;
    auth_context_t auth = NULL;
    smtp_message_t msg = NULL;
    smtp_session_t s = smtp_create_session();
    out->outcome = WB_SEND_RETRY;
    if (s == NULL) {
        wb_email_set_reason(out, "smtp: cannot create a session");
        goto out;
    }
    if (st->conf->smtp_tls == WB_EMAIL_TLS_STARTTLS) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == NULL ||
            wb_email_tls_setup(ctx, st->conf, st->conf->smtp_host, &st->tls, &err) != WB_OK) {
            wb_email_set_reason(out, "smtp: %s",
                                ctx == NULL ? "tls: cannot make a context" : err.msg);
            goto out;
        }
    }
    if (!session_setup(s, st, ctx, &auth) || !message_setup(s, st->conf, ob, data, &msg)) {
        char eb[128];
        wb_email_set_reason(out, "smtp: session setup failed: %s",
                            smtp_strerror(smtp_errno(), eb, sizeof(eb)));
        goto out;
    }
    if (smtp_start_session(s)) {
        settle_session(st, msg, out);
    } else {
        settle_failure(st, out);
    }
out:
    if (s != NULL) {
        (void)smtp_destroy_session(s);
    }
    if (auth != NULL) {
        (void)auth_destroy_context(auth);
    }
    SSL_CTX_free(ctx); /* libesmtp holds its own reference while the session lives */
}

/*
 * The Message-ID's token: derived from the outbox row's idempotency key, so
 * a reply re-sent after a crash carries the same Message-ID and the
 * recipient's mail system can drop the repeat; random when there is no key.
 */
static bool message_token(const struct wb_outbound *ob, char *hex, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char r[RANDOM_BYTES];
    if (size < 2 * RANDOM_BYTES + 1) {
        return false;
    }
    if (ob->idempotency_key != NULL && ob->idempotency_key[0] != '\0') {
        char full[WB_SHA256_HEX_LEN + 1];
        wb_sha256_hex(ob->idempotency_key, strlen(ob->idempotency_key), full);
        memcpy(hex, full, 2 * RANDOM_BYTES);
        hex[2 * RANDOM_BYTES] = '\0';
        return true;
    }
    if (RAND_bytes(r, (int)sizeof(r)) != 1) {
        return false;
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        hex[2 * i] = digits[r[i] >> 4];
        hex[2 * i + 1] = digits[r[i] & 0xF];
    }
    hex[2 * RANDOM_BYTES] = '\0';
    return true;
}

/* Settings that can never work: a permanent reason, or false when usable. */
static bool refuse_conf(const struct wb_email_conf *conf, struct wb_send_result *out)
{
    if (conf->smtp_host == NULL || conf->smtp_host[0] == '\0' || conf->smtp_port <= 0 ||
        conf->smtp_port > 65535 || strpbrk(conf->smtp_host, "\r\n[] /") != NULL) {
        wb_email_set_reason(out, "smtp: no usable smtp_host / smtp_port");
    } else if (conf->smtp_tls == WB_EMAIL_TLS_PLAIN &&
               !wb_email_host_is_loopback(conf->smtp_host)) {
        wb_email_set_reason(out, "smtp: smtp_tls = plain is only allowed for a loopback host");
    } else if (conf->smtp_tls != WB_EMAIL_TLS_PLAIN && conf->smtp_tls != WB_EMAIL_TLS_STARTTLS &&
               conf->smtp_tls != WB_EMAIL_TLS_IMPLICIT) {
        wb_email_set_reason(out, "smtp: unknown smtp_tls");
    } else {
        return false;
    }
    out->outcome = WB_SEND_PERMANENT;
    return true;
}

/* Compose ob into data (owned by the caller); false with a permanent reason on failure. */
static bool compose(const struct wb_email_conf *conf, const struct wb_outbound *ob, const char *mid,
                    struct wb_buf *data, struct wb_send_result *out)
{
    struct wb_err err = { 0 };
    wb_buf_init(data, conf->max_message > 0 ? (size_t)conf->max_message : 0);
    enum wb_status st = wb_email_compose(conf, ob, mid, wb_now_ms() / 1000, data, &err);
    if (st != WB_OK) {
        out->outcome = WB_SEND_PERMANENT;
        wb_email_set_reason(out, "%s", err.msg);
        return false;
    }
    return true;
}

static void copy_to_sent(const struct wb_email_conf *conf, const char *channel_id,
                         const struct wb_buf *data, const char *mid)
{
    struct wb_err err = { 0 };
    if (conf->sent_folder == NULL || conf->sent_folder[0] == '\0') {
        return;
    }
    if (wb_email_sent_append(conf, channel_id, data->data, data->len, &err) != WB_OK) {
        wb_log(WB_LOG_WARN, "email[%s]: sent <%s> but could not keep a copy in %s: %s", channel_id,
               mid, conf->sent_folder, err.msg);
    }
}

/*
 * Send the composed message data with the password copied for it: libcurl
 * for implicit TLS (email_smtps.c), else one libesmtp session.
 */
static void send_data(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                      const struct wb_buf *data, struct wb_send_result *out)
{
    struct send_state st = { .conf = conf };
    if (conf->smtp_user != NULL && conf->smtp_user[0] != '\0') {
        const struct wb_secret *pw = &conf->smtp_password;
        st.password =
            pw->data != NULL ? wb_strndup((const char *)pw->data, pw->len) : wb_strdup("");
    }
    if (conf->smtp_tls == WB_EMAIL_TLS_IMPLICIT) {
        wb_email_smtps_send(conf, ob, data->data, data->len, st.password, out);
    } else {
        run_session(&st, ob, data->data, out);
    }
    if (st.password != NULL) {
        OPENSSL_cleanse(st.password, strlen(st.password));
        free(st.password);
    }
}

/* A fresh Message-ID in mid; false with the outcome set when none can be made. */
static bool make_message_id(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                            char *mid, size_t size, struct wb_send_result *out)
{
    char token[2 * RANDOM_BYTES + 1];
    struct wb_err err = { 0 };
    if (!message_token(ob, token, sizeof(token))) {
        out->outcome = WB_SEND_RETRY;
        wb_email_set_reason(out, "smtp: no random bytes for the message-id");
        return false;
    }
    if (wb_email_message_id(conf, ob->conversation_id, ob->message_id, token, mid, size, &err) !=
        WB_OK) {
        out->outcome = WB_SEND_PERMANENT;
        wb_email_set_reason(out, "%s", err.msg);
        return false;
    }
    return true;
}

enum wb_status wb_email_send(const struct wb_email_conf *conf, const char *channel_id,
                             const struct wb_outbound *ob, struct wb_send_result *out)
{
    if (conf == NULL || ob == NULL || out == NULL) {
        return WB_ERR_INVAL;
    }
    memset(out, 0, sizeof(*out));
    const char *ch = channel_id != NULL ? channel_id : "?";
    char mid[WB_EMAIL_MESSAGE_ID_MAX + 1];
    if (refuse_conf(conf, out)) {
        return WB_OK;
    }
    (void)pthread_once(&init_once, init_libs);
    if (!make_message_id(conf, ob, mid, sizeof(mid), out)) {
        return WB_OK;
    }
    struct wb_buf data;
    if (compose(conf, ob, mid, &data, out)) {
        send_data(conf, ob, &data, out);
        if (out->outcome == WB_SEND_OK) {
            (void)snprintf(out->external_id, sizeof(out->external_id), "%s", mid);
            copy_to_sent(conf, ch, &data, mid);
        }
    }
    if (out->outcome != WB_SEND_OK) {
        wb_log(WB_LOG_NOTICE, "email[%s]: reply %lld not sent (%s): %s", ch,
               (long long)ob->outbox_id, out->outcome == WB_SEND_RETRY ? "will retry" : "permanent",
               out->reason);
    }
    wb_buf_free(&data);
    return WB_OK;
}
