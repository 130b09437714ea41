/*
 * email_imap_tls.c - certificate chain and host name checks (OpenSSL).
 *
 * DESIGN: see email_imap_tls.h. The chain is verified with an X509_STORE
 * built per check (ca_file or the default paths), the SSL-server purpose,
 * and the host bound into the verify parameters; the leaf is then matched
 * against the host once more with X509_check_host / X509_check_ip_asc, so
 * a name mismatch is reported as such.
 *
 * Thread: any.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "email_imap_logic.h"
#include "email_imap_tls.h"

static X509 *der_to_x509(const struct wb_email_der *d)
{
    const unsigned char *p = d->p;
    if (d->n > (size_t)INT32_MAX) {
        return NULL;
    }
    return d2i_X509(NULL, &p, (long)d->n);
}

static X509_STORE *store_new(const char *ca_file, char *why, size_t whysz)
{
    X509_STORE *store = X509_STORE_new();
    int ok;
    if (store == NULL) {
        (void)snprintf(why, whysz, "out of memory building the CA store");
        return NULL;
    }
    if (ca_file != NULL && ca_file[0] != '\0') {
        ok = X509_STORE_load_file(store, ca_file);
    } else {
        ok = X509_STORE_set_default_paths(store);
    }
    if (ok != 1) {
        (void)snprintf(why, whysz, "cannot load the CAs from %s",
                       ca_file != NULL && ca_file[0] != '\0' ? ca_file : "the system store");
        X509_STORE_free(store);
        ERR_clear_error();
        return NULL;
    }
    return store;
}

static enum wb_status verify_leaf(X509_STORE *store, X509 *leaf, STACK_OF(X509) * rest,
                                  const char *host, const char *ca_file, char *why, size_t whysz)
{
    enum wb_status st = WB_ERR_TLS;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, rest) != 1) {
        (void)snprintf(why, whysz, "cannot set up certificate verification");
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    (void)X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
    if (wb_email_host_is_ip(host)) {
        (void)X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    } else {
        (void)X509_VERIFY_PARAM_set1_host(vp, host, 0);
    }
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        (void)snprintf(why, whysz, "certificate of %s not accepted: %s (trusted CAs: %s)", host,
                       X509_verify_cert_error_string(e),
                       ca_file != NULL && ca_file[0] != '\0' ? ca_file : "the system store");
        goto out;
    }
    int name_ok = wb_email_host_is_ip(host) ? X509_check_ip_asc(leaf, host, 0)
                                            : X509_check_host(leaf, host, 0, 0, NULL);
    if (name_ok != 1) {
        (void)snprintf(why, whysz, "certificate is not issued for %s", host);
        goto out;
    }
    st = WB_OK;
out:
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return st;
}

enum wb_status wb_email_tls_check_chain(const struct wb_email_der *chain, size_t n,
                                        const char *host, const char *ca_file, char *why,
                                        size_t whysz)
{
    enum wb_status st = WB_ERR_TLS;
    X509 *leaf = NULL;
    STACK_OF(X509) *rest = NULL;
    X509_STORE *store = NULL;
    if (n > 0) {
        leaf = der_to_x509(&chain[0]);
    }
    if (leaf == NULL) {
        (void)snprintf(why, whysz, "the server sent no readable certificate");
        goto out;
    }
    rest = sk_X509_new_null();
    for (size_t i = 1; rest != NULL && i < n; i++) {
        X509 *x = der_to_x509(&chain[i]);
        if (x != NULL && sk_X509_push(rest, x) == 0) {
            X509_free(x);
        }
    }
    store = store_new(ca_file, why, whysz);
    if (store != NULL) {
        st = verify_leaf(store, leaf, rest, host, ca_file, why, whysz);
    }
out:
    X509_STORE_free(store);
    sk_X509_pop_free(rest, X509_free);
    X509_free(leaf);
    ERR_clear_error();
    return st;
}
