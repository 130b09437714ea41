/*
 * email_sent.c - append a copy of a sent reply to the Sent folder.
 *
 * Design: one short-lived libetpan session per copy, on the sender thread
 * that sent the mail; nothing is shared with the IMAP ingest worker. TLS
 * goes through libetpan's *_with_callback entry points: the callback gets
 * the SSL_CTX libetpan made for this connection, and wb_email_tls_setup
 * (email_smtp.c) puts our CA, SSL_VERIFY_PEER and the host name check in
 * it, so a bad certificate fails the handshake. libetpan's protocol
 * logger is never installed, so the password is not traced.
 *
 * Thread: any (a sender pool thread); blocking.
 */
#include "email_imap_logic.h"
#include "email_sent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "email_smtp.h"

struct tls_cb_data {
    const struct wb_email_conf *conf;
    struct wb_email_tls_check chk;
    enum wb_status st;
    struct wb_err err;
};

static void tls_callback(struct mailstream_ssl_context *ssl_context, void *data)
{
    struct tls_cb_data *d = data;
    SSL_CTX *ctx = mailstream_ssl_get_openssl_ssl_ctx(ssl_context);
    if (ctx == NULL) {
        d->st = wb_err_set(&d->err, WB_ERR_TLS, "tls: no context");
        return;
    }
    d->st = wb_email_tls_setup(ctx, d->conf, d->conf->imap_host, &d->chk, &d->err);
    if (!wb_email_host_is_loopback(d->conf->imap_host)) {
        (void)mailstream_ssl_set_server_name(ssl_context, d->conf->imap_host);
    }
}

static enum wb_status tls_failure(const char *channel_id, struct tls_cb_data *d, int r,
                                  struct wb_err *err)
{
    if (d->st != WB_OK) {
        return wb_err_set(err, d->st, "imap[%s]: %s", channel_id, d->err.msg);
    }
    if (d->chk.error[0] != '\0') {
        return wb_err_set(err, WB_ERR_TLS, "imap[%s]: tls: %s", channel_id, d->chk.error);
    }
    return wb_err_set(err, WB_ERR_IO, "imap[%s]: cannot connect to %s:%lld (libetpan %d)",
                      channel_id, d->conf->imap_host, (long long)d->conf->imap_port, r);
}

static enum wb_status sent_connect(mailimap *imap, const char *channel_id, struct tls_cb_data *d,
                                   struct wb_err *err)
{
    const struct wb_email_conf *conf = d->conf;
    uint16_t port = (uint16_t)conf->imap_port;
    int r;
    switch (conf->imap_tls) {
    case WB_EMAIL_TLS_IMPLICIT:
        r = mailimap_ssl_connect_with_callback(imap, conf->imap_host, port, tls_callback, d);
        break;
    case WB_EMAIL_TLS_STARTTLS:
        r = mailimap_socket_connect(imap, conf->imap_host, port);
        if (r == MAILIMAP_NO_ERROR_AUTHENTICATED || r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
            r = mailimap_socket_starttls_with_callback(imap, tls_callback, d);
        }
        break;
    default:
        if (!wb_email_host_is_loopback(conf->imap_host)) {
            return wb_err_set(err, WB_ERR_INVAL,
                              "imap[%s]: plain IMAP is only allowed for a loopback host",
                              channel_id);
        }
        r = mailimap_socket_connect(imap, conf->imap_host, port);
        break;
    }
    if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
        r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
        return tls_failure(channel_id, d, r, err);
    }
    return WB_OK;
}

static enum wb_status sent_login(mailimap *imap, const struct wb_email_conf *conf,
                                 const char *channel_id, struct wb_err *err)
{
    const struct wb_secret *pw = &conf->imap_password;
    char *pass = pw->data != NULL ? wb_strndup((const char *)pw->data, pw->len) : wb_strdup("");
    const char *user =
        conf->imap_user != NULL && conf->imap_user[0] != '\0' ? conf->imap_user : conf->address;
    int r = mailimap_login(imap, user, pass);
    OPENSSL_cleanse(pass, strlen(pass));
    free(pass);
    if (r != MAILIMAP_NO_ERROR) {
        return wb_err_set(err, r == MAILIMAP_ERROR_LOGIN ? WB_ERR_AUTH : WB_ERR_IO,
                          "imap[%s]: login as %s failed (libetpan %d)", channel_id, user, r);
    }
    return WB_OK;
}

static enum wb_status sent_store(mailimap *imap, const struct wb_email_conf *conf,
                                 const char *channel_id, const char *raw, size_t n,
                                 struct wb_err *err)
{
    struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
    if (flags == NULL) {
        return wb_err_set(err, WB_ERR_INTERNAL, "imap[%s]: out of memory", channel_id);
    }
    struct mailimap_flag *seen = mailimap_flag_new_seen();
    if (seen == NULL || mailimap_flag_list_add(flags, seen) != MAILIMAP_NO_ERROR) {
        if (seen != NULL) {
            mailimap_flag_free(seen);
        }
        mailimap_flag_list_free(flags);
        return wb_err_set(err, WB_ERR_INTERNAL, "imap[%s]: out of memory", channel_id);
    }
    int r = mailimap_append(imap, conf->sent_folder, flags, NULL, raw, n);
    if (r == MAILIMAP_ERROR_APPEND &&
        mailimap_create(imap, conf->sent_folder) == MAILIMAP_NO_ERROR) {
        /* the folder did not exist ([TRYCREATE]): made it, try once more */
        r = mailimap_append(imap, conf->sent_folder, flags, NULL, raw, n);
    }
    mailimap_flag_list_free(flags);
    if (r != MAILIMAP_NO_ERROR) {
        return wb_err_set(err, WB_ERR_IO, "imap[%s]: append to %s failed (libetpan %d)", channel_id,
                          conf->sent_folder, r);
    }
    return WB_OK;
}

enum wb_status wb_email_sent_append(const struct wb_email_conf *conf, const char *channel_id,
                                    const char *raw, size_t n, struct wb_err *err)
{
    if (conf == NULL || raw == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "imap: sent copy: missing argument");
    }
    if (conf->sent_folder == NULL || conf->sent_folder[0] == '\0') {
        return WB_OK;
    }
    const char *ch = channel_id != NULL ? channel_id : "?";
    if (conf->imap_host == NULL || conf->imap_host[0] == '\0' || conf->imap_port <= 0 ||
        conf->imap_port > 65535 || strpbrk(conf->sent_folder, "\r\n") != NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "imap[%s]: no usable imap_host or sent_folder", ch);
    }
    mailimap *imap = mailimap_new(0, NULL);
    if (imap == NULL) {
        return wb_err_set(err, WB_ERR_INTERNAL, "imap[%s]: out of memory", ch);
    }
    time_t secs = conf->timeout_ms > 0 ? (time_t)((conf->timeout_ms + 999) / 1000) : 30;
    mailimap_set_timeout(imap, secs);
    struct tls_cb_data *d = wb_calloc(1, sizeof(*d));
    d->conf = conf;
    enum wb_status st = sent_connect(imap, ch, d, err);
    if (st == WB_OK) {
        st = sent_login(imap, conf, ch, err);
    }
    if (st == WB_OK) {
        st = sent_store(imap, conf, ch, raw, n, err);
    }
    if (st == WB_OK) {
        (void)mailimap_logout(imap);
    }
    mailimap_free(imap);
    free(d);
    return st;
}
