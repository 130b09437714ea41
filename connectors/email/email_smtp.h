/*
 * email_smtp.h - send one reply over SMTP (libesmtp) and keep a copy in the
 * mailbox's Sent folder.
 *
 * wb_email_send composes the message (email_compose.h) with a fresh
 * Message-ID (random part from OpenSSL RAND_bytes) and the current date,
 * then runs one libesmtp session: STARTTLS (required) or plain on a
 * loopback host, AUTH when smtp_user is set, TLS peer and hostname
 * verification unless conf->tls_verify is false. After a successful send a
 * copy is appended to conf->sent_folder (when not empty); a failed append is
 * logged and does not fail the send.
 *
 * Implicit TLS (SMTPS, port 465): libesmtp 1.1 can only upgrade with
 * STARTTLS, so smtp_tls = implicit sends the same composed message with
 * libcurl (email_smtps.h); outcomes and the Sent copy are the same.
 *
 * Thread: any (a sender pool thread); blocking; no shared state besides
 * libesmtp's one-time initialisation.
 */
#ifndef WB_EMAIL_SMTP_H
#define WB_EMAIL_SMTP_H

#include <warbler/common.h>
#include <warbler/connector.h>
#include <warbler/message.h>

#include "email_conf.h"

/*
 * Send ob as an email reply from the mailbox conf describes.
 *
 * conf, channel_id and ob are borrowed. The outcome is in *out:
 *   WB_SEND_OK        external_id = the Message-ID without <>;
 *   WB_SEND_RETRY     connection, TLS, timeout, AUTH-rejected or 4xx
 *                     failures (reason says which);
 *   WB_SEND_PERMANENT 5xx from the server (its text in reason), or input
 *                     that can never be sent (CR/LF in a header, no
 *                     recipient, unsupported settings).
 * reason is printable ASCII/UTF-8 without CR/LF.
 *
 * Returns WB_OK whenever *out was filled (whatever the outcome); an error
 * status only for a NULL argument.
 *
 * Thread: any; blocks up to a few times conf->timeout_ms.
 */
WB_NODISCARD enum wb_status wb_email_send(const struct wb_email_conf *conf, const char *channel_id,
                                          const struct wb_outbound *ob, struct wb_send_result *out);

/*
 * Set out->reason from fmt: printable, control characters (CR, LF, ...)
 * turned into single spaces, cut to fit on a UTF-8 boundary. Shared by the
 * libesmtp and libcurl (email_smtps.c) senders. Not for other users.
 */
void wb_email_set_reason(struct wb_send_result *out, const char *fmt, ...) WB_PRINTF(2, 3);

/*
 * TLS settings shared by the SMTP sender and the Sent-folder copy
 * (email_sent.c). Not for other users.
 *
 * wb_email_tls_setup configures ctx for a connection to host: TLS 1.2 or
 * newer; with conf->tls_verify, SSL_VERIFY_PEER against conf->ca_file (or
 * the system store) and the host name or IP address checked through the
 * context's X509_VERIFY_PARAM, the first verification error kept in
 * chk->error; without it, no verification. chk must outlive every
 * connection made with ctx (it is stored in the context's ex data).
 * WB_ERR_TLS (detail in err) when the CA file cannot be loaded.
 */
struct ssl_ctx_st;

struct wb_email_tls_check {
    const char *host; /* borrowed: the server name for SNI */
    char error[160];  /* first certificate problem, "" when none */
};

WB_NODISCARD enum wb_status wb_email_tls_setup(struct ssl_ctx_st *ctx,
                                               const struct wb_email_conf *conf, const char *host,
                                               struct wb_email_tls_check *chk, struct wb_err *err);

#endif
