/*
 * email_imap_tls.h - verify an IMAP server's certificate chain with OpenSSL.
 *
 * Debian's libetpan is built with GnuTLS, so the TLS context callback of
 * mailimap_ssl_connect_with_callback() cannot reach an OpenSSL SSL_CTX to
 * turn on verification, and libetpan itself verifies nothing. The worker
 * therefore checks the chain the server presented (DER, leaf first, from
 * mailstream_get_certificate_chain) right after the handshake and before
 * any credential is sent: trusted by ca_file or the system store, valid
 * for TLS servers, and issued for the host name or IP address we dialled.
 *
 * Thread: any (reads the CA file; no shared state).
 */
#ifndef WB_EMAIL_IMAP_TLS_H
#define WB_EMAIL_IMAP_TLS_H

#include <warbler/common.h>

struct wb_email_der {
    const unsigned char *p;
    size_t n;
};

/*
 * Check chain[0..n) (leaf first) for host. ca_file "" or NULL means the
 * system's default CA store. Returns WB_OK, or WB_ERR_TLS with a reason an
 * admin can act on in why (e.g. "certificate not trusted: self-signed
 * certificate in certificate chain (ca_file /x.pem)").
 */
WB_NODISCARD enum wb_status wb_email_tls_check_chain(const struct wb_email_der *chain, size_t n,
                                                     const char *host, const char *ca_file,
                                                     char *why, size_t whysz);

#endif
