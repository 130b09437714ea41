/*
 * email_smtps.c - send one composed reply over implicit TLS with libcurl.
 *
 * Design: libesmtp 1.1 has no implicit TLS, so smtp_tls = implicit (SMTPS,
 * port 465) uses libcurl's smtps:// instead: one easy handle per call,
 * made, used and cleaned up here. The message is uploaded from memory
 * through a read callback; curl does the dot-stuffing and the final ".".
 * The URL's path is the domain of our Message-IDs, which curl sends in
 * EHLO (without it curl says "EHLO localhost", which strict servers
 * refuse).
 *
 * curl's error buffer names only the command and the code ("RCPT failed:
 * 550"), so the server's own words are taken from the header callback,
 * which curl calls with every SMTP reply line: the last reply of 400 or
 * more is kept. Only replies are looked at; what curl writes (AUTH
 * included) is never seen here. curl keeps its own copy of the password
 * until curl_easy_cleanup and frees it without wiping (nothing we can
 * change); ours is the caller's.
 *
 * Results, as in the libesmtp path: TLS, connection, timeout, AUTH and
 * 4xx failures are retried; a 5xx for MAIL, RCPT or the message is
 * permanent with the server's reply. A 5xx greeting is retried (a server
 * that is busy or refusing connections for now says 554 too).
 *
 * Thread: any (a sender pool thread); everything lives on the stack of one
 * call.
 */
#include "email_smtps.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "email_compose.h"
#include "email_smtp.h"

#define REPLY_MAX 200 /* bytes of a server reply kept for the reason */

struct smtps_state {
    const char *data; /* the composed message (borrowed) */
    size_t len;
    size_t off;
    int n_replies;        /* complete replies seen (1 = the greeting) */
    int fail_index;       /* which reply was the last failure, 0 = none */
    long fail_code;       /* its code (>= 400) */
    char cur[REPLY_MAX];  /* the reply being read (lines joined) */
    size_t cur_len;       /* bytes in cur */
    char fail[REPLY_MAX]; /* the last failure's text */
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct smtps_state *st = arg;
    size_t room = size * nitems;
    size_t n = st->len - st->off < room ? st->len - st->off : room;
    memcpy(buf, st->data + st->off, n);
    st->off += n;
    return n;
}

/* SMTP sends nothing to download; drop whatever comes. */
static size_t write_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
    (void)buf;
    (void)arg;
    return size * nmemb;
}

static void reply_append(struct smtps_state *st, const char *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r')) {
        n--;
    }
    if (st->cur_len > 0 && st->cur_len + 1 < sizeof(st->cur)) {
        st->cur[st->cur_len++] = ' ';
    }
    size_t room = sizeof(st->cur) - 1 - st->cur_len;
    n = n < room ? n : room;
    memcpy(st->cur + st->cur_len, p, n);
    st->cur_len += n;
    st->cur[st->cur_len] = '\0';
}

/* One server reply line ("250-..." continues, "250 ..." ends the reply). */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct smtps_state *st = arg;
    size_t n = size * nitems;
    if (n < 3 || buf[0] < '1' || buf[0] > '5' || buf[1] < '0' || buf[1] > '9' || buf[2] < '0' ||
        buf[2] > '9') {
        return n; /* not a reply line: ignore, do not fail the transfer */
    }
    reply_append(st, buf, n);
    if (n > 3 && buf[3] == '-') {
        return n;
    }
    long code = (buf[0] - '0') * 100L + (buf[1] - '0') * 10L + (buf[2] - '0');
    st->n_replies++;
    if (code >= 400) {
        st->fail_code = code;
        st->fail_index = st->n_replies;
        memcpy(st->fail, st->cur, st->cur_len + 1);
    }
    st->cur_len = 0;
    st->cur[0] = '\0';
    return n;
}

/* smtps://host:port/ehlo-domain; false when the host cannot be put in a URL. */
static bool make_url(const struct wb_email_conf *conf, char *url, size_t size)
{
    const char *h = conf->smtp_host;
    if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:") !=
        strlen(h)) {
        return false;
    }
    size_t dn = 0;
    const char *dom = wb_email_message_id_domain(conf, &dn);
    bool v6 = strchr(h, ':') != NULL;
    int n = snprintf(url, size, "smtps://%s%s%s:%lld/%.*s", v6 ? "[" : "", h, v6 ? "]" : "",
                     (long long)conf->smtp_port, dom != NULL ? (int)dn : 0, dom != NULL ? dom : "");
    return n > 0 && (size_t)n < size;
}

static bool has_user(const struct wb_email_conf *conf)
{
    return conf->smtp_user != NULL && conf->smtp_user[0] != '\0';
}

/* Every option of the transfer; false when curl refuses one. */
static bool setup_handle(CURL *c, const struct wb_email_conf *conf, const char *url,
                         struct curl_slist *rcpt, const char *password, struct smtps_state *st,
                         char *errbuf)
{
    long ms = conf->timeout_ms > 0 ? (long)conf->timeout_ms : 30000L;
    bool bad = false;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtps") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAIL_FROM, conf->address) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_READDATA, st) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st->len) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, st) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
    /* connect, then each reply within timeout_ms; the whole send within a few of them */
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, (ms + 999) / 1000) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 4 * ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, conf->tls_verify ? 1L : 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, conf->tls_verify ? 2L : 0L) != CURLE_OK;
    if (conf->ca_file != NULL && conf->ca_file[0] != '\0') {
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, conf->ca_file) != CURLE_OK;
    }
    if (has_user(conf)) {
        bad |= curl_easy_setopt(c, CURLOPT_USERNAME, conf->smtp_user) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, password != NULL ? password : "") != CURLE_OK;
    }
    return !bad;
}

static bool is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

/* Length of detail without a final ": <code>" ("RCPT failed: 550"): the reply repeats it. */
static int stage_len(const char *detail, long code)
{
    char tail[24];
    int t = snprintf(tail, sizeof(tail), ": %ld", code);
    size_t n = strlen(detail);
    if (t > 0 && n >= (size_t)t && strcmp(detail + n - (size_t)t, tail) == 0) {
        n -= (size_t)t;
    }
    return n < 1000 ? (int)n : 1000;
}

/* The outcome of curl_easy_perform's rc; errbuf holds curl's detail (may be ""). */
static void settle(const struct wb_email_conf *conf, CURLcode rc, const struct smtps_state *st,
                   const char *errbuf, struct wb_send_result *out)
{
    const char *detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    out->outcome = WB_SEND_RETRY;
    if (rc == CURLE_OK) {
        out->outcome = WB_SEND_OK;
    } else if (rc == CURLE_LOGIN_DENIED) {
        wb_email_set_reason(out, "smtps: authentication rejected: %s",
                            st->fail_index > 0 ? st->fail : detail);
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        wb_email_set_reason(out, "smtps: tls: certificate verify failed: %s", detail);
    } else if (is_tls_error(rc)) {
        wb_email_set_reason(out, "smtps: tls: %s", detail);
    } else if (st->fail_index > 0) {
        /* MAIL, RCPT, DATA: CURLE_SEND_ERROR; the message refused: CURLE_WEIRD_SERVER_REPLY */
        bool after_greeting = st->fail_index > 1;
        if (st->fail_code >= 500 && after_greeting &&
            (rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY)) {
            out->outcome = WB_SEND_PERMANENT;
        }
        wb_email_set_reason(out, "smtps: %.*s: %s", stage_len(detail, st->fail_code), detail,
                            st->fail);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        wb_email_set_reason(out, "smtps: %s:%lld: timed out: %s", conf->smtp_host,
                            (long long)conf->smtp_port, detail);
    } else {
        wb_email_set_reason(out, "smtps: %s:%lld: %s", conf->smtp_host, (long long)conf->smtp_port,
                            detail);
    }
}

void wb_email_smtps_send(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                         const char *data, size_t len, const char *password,
                         struct wb_send_result *out)
{
    struct smtps_state st = { .data = data, .len = len };
    char url[400];
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *rcpt = NULL;
    CURL *c = NULL;
    errbuf[0] = '\0';
    out->outcome = WB_SEND_PERMANENT;
    if (!make_url(conf, url, sizeof(url))) {
        wb_email_set_reason(out, "smtps: smtp_host \"%s\" cannot be used in an smtps:// URL",
                            conf->smtp_host);
        goto out;
    }
    out->outcome = WB_SEND_RETRY;
    const char *to = wb_email_recipient(ob);
    rcpt = to != NULL ? curl_slist_append(NULL, to) : NULL;
    c = curl_easy_init();
    if (rcpt == NULL || c == NULL) {
        wb_email_set_reason(out, "smtps: cannot make a curl handle");
        goto out;
    }
    if (!setup_handle(c, conf, url, rcpt, password, &st, errbuf)) {
        wb_email_set_reason(out, "smtps: this libcurl lacks an option we need (%s)", errbuf);
        goto out;
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (st.fail_index == 0 && code >= 400) {
        /* a failure curl saw but the header callback did not: keep its code */
        st.fail_index = st.n_replies > 0 ? st.n_replies : 1;
        st.fail_code = code;
        (void)snprintf(st.fail, sizeof(st.fail), "%ld", code);
    }
    settle(conf, rc, &st, errbuf, out);
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
}
